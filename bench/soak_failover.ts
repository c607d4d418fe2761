/**
 * Failover soak (`deno task soak:failover [--trials N]`, default 200): the leader kill
 * campaign of tests/e2e/replication_failover_test.ts (three broker processes over a real
 * etcd, rf=3, min.insync.replicas=2, idempotent acks=all producers and a committing group
 * while a partition's leader, the partitions in turn, is killed with -9 and restarted) for as many trials as
 * asked, with the same checks at the end: every acknowledged record exactly once, offsets
 * contiguous, each producer in order, the group resuming at its commits. Prints each trial
 * and a summary; exits non-zero when a check fails.
 */
import { parseArgs } from "node:util";
import { benchArgs } from "./lib/bench_args.ts";
import { startEtcd } from "../tests/support/etcd.ts";
import { dumpLogs, replicationCluster } from "../tests/support/replication_cluster.ts";
import { leaderKillCampaign } from "../tests/support/failover_campaign.ts";

const { values } = parseArgs({
  args: benchArgs(),
  options: {
    trials: { type: "string", default: "200" },
    partitions: { type: "string", default: "3" },
    producers: { type: "string", default: "2" },
    "swap-every": { type: "string", default: "5" },
  },
});

const etcd = await startEtcd();
const cluster = await replicationCluster(etcd);
const started = Date.now();
let ok = false;
try {
  const r = await leaderKillCampaign(cluster, {
    trials: Number(values.trials),
    partitions: Number(values.partitions),
    producers: Number(values.producers),
    consumerSwapEvery: Number(values["swap-every"]),
    onTrial: (n, p, killed, leader, epoch) =>
      console.log(
        `trial ${n}: partition ${p}: killed ${killed}, new leader ${leader} (epoch ${epoch}), ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s`,
      ),
  });
  console.log(
    `${values.trials} trials: ${r.acked} records acknowledged, all read back exactly once; ` +
      `${r.consumed} deliveries to the group; ${r.elections.length} elections, each to a ` +
      `higher leader epoch`,
  );
  ok = true;
} catch (e) {
  console.error(e);
  await dumpLogs(cluster);
} finally {
  await cluster.close();
  await etcd.cleanup();
}
Deno.exit(ok ? 0 : 1);
