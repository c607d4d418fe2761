/**
 * End to end, replication: the leader kill campaign. Three broker processes over a real etcd,
 * a topic with replication factor 3 and min.insync.replicas=2; two idempotent confluent-kafka
 * producers (acks=all) and a committing consumer group run while the leader of one of the
 * three partitions (each in turn) is killed with -9 and restarted, 20 times; each trial awaits a new leader with a higher leader
 * epoch in Metadata and the restarted broker back in every ISR. Every acknowledged record is
 * then in the log exactly once, at the offset its delivery report gave, offsets contiguous,
 * each producer's values in order; the group, whose consumer is replaced every 5 trials,
 * resumes at its commits. (More trials: `deno task soak:failover --trials N`.)
 */
import assert from "node:assert/strict";
import { withReplicationCluster } from "../support/replication_cluster.ts";
import { leaderKillCampaign } from "../support/failover_campaign.ts";

const TRIALS = 20;

Deno.test({
  name: "replication: 20 leader kill -9 trials lose and duplicate no acknowledged record",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withReplicationCluster(async (cluster) => {
      const r = await leaderKillCampaign(cluster, { trials: TRIALS, consumerSwapEvery: 5 });
      // Every trial elected a leader with a higher epoch.
      assert.equal(r.elections.length, TRIALS);
      for (const e of r.elections) assert.ok(e.after > e.before, JSON.stringify(e));
      assert.ok(r.acked > 0 && r.consumed >= r.acked, `acked ${r.acked}, consumed ${r.consumed}`);
    });
  },
});
