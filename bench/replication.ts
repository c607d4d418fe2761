/**
 * Replication benchmark (`deno task bench:replication [-- --batches N] [--catch-up N]
 * [--failovers N] [--quick]`): three broker processes (no Deno workers: replication runs
 * where the logs are) over a real etcd, started as the tests start them.
 *
 * - acks=all produce, replication factor 3 against 1: the same sequential producer (the
 *   project's client, one batch of 500 × 100-byte records in flight) to a one-partition
 *   topic of each, in the same run; records/s of each and their ratio (rf=3 / rf=1).
 * - Follower catch-up: a follower of the rf=3 partition killed with SIGKILL, N records
 *   produced without it (acks=all, min.insync.replicas=1), the follower restarted; the time
 *   from its restart (process spawn, start-up included: it fetches as soon as it registers)
 *   until its log end offset (admin API) reaches the leader's, as records/s.
 * - Failover: the rf=3 partition's leader killed with SIGKILL, then the time until the first
 *   acks=all produce is acknowledged by the new leader (about broker.session.timeout.ms: the
 *   dead leader's registration lease has to expire first, up to its TTL after the last
 *   renewal); p50 and
 *   p99 over the trials, the killed broker restarted and back in the ISR between trials.
 *
 * Results on stdout and in bench/out/replication.json. Speeds are figures of this machine,
 * not pass/fail checks.
 */
import { parseArgs } from "node:util";
import { benchArgs } from "./lib/bench_args.ts";
import { createTopic } from "../src/client/admin.ts";
import { KafkaClient } from "../src/client/client.ts";
import { Producer, type ProducerRecord } from "../src/client/producer.ts";
import { startEtcd } from "../tests/support/etcd.ts";
import { TestCluster } from "../tests/support/cluster_fixtures.ts";
import { getJson, startWithAdmin } from "../tests/support/admin_cluster.ts";

const { values } = parseArgs({
  args: benchArgs(),
  options: {
    batches: { type: "string", default: "200" },
    "catch-up": { type: "string", default: "100000" },
    failovers: { type: "string", default: "5" },
    "session-timeout-ms": { type: "string", default: "3000" },
    quick: { type: "boolean" },
  },
});
const quick = !!values.quick;
const batches = quick ? 40 : Number(values.batches);
const catchUpRecords = quick ? 20_000 : Number(values["catch-up"]);
const failovers = quick ? 2 : Number(values.failovers);
const sessionMs = Number(values["session-timeout-ms"]);
const BATCH = 500;

const percentile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
/** Progress on stderr (the results go to stdout). */
const step = (what: string) => console.error(`bench/replication: ${what}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const value = new Uint8Array(100).fill(0x61);
const records = (n: number): ProducerRecord[] =>
  Array.from({ length: n }, () => ({ key: null, value, headers: [], partition: 0 }));

const etcd = await startEtcd();
const cluster = new TestCluster(etcd);
const admin = new Map<number, string>();
const settings = { "broker.session.timeout.ms": String(sessionMs) };
let client: KafkaClient | undefined;
/**
 * A client bootstrapped from the brokers as they are now: a restarted broker listens on a new
 * port, so a client made before it restarted may know no live address.
 */
const freshClient = () => {
  client?.close();
  return client = new KafkaClient([...cluster.procs.keys()].map((id) => cluster.address(id)));
};

/** One partition's view on broker `id` (admin API). */
const part = (id: number, topic: string) =>
  getJson(`${admin.get(id)}/v1/topics/${topic}/partitions/0`);

async function waitFor<T>(what: string, f: () => Promise<T | null | false>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const v = await f();
      if (v !== null && v !== false) return v;
    } catch {
      // a broker restarting: ask again
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Sequential acks=all batches to `topic`: records/s. */
async function produceRate(topic: string): Promise<number> {
  const p = new Producer(client!, topic, { acks: -1, compression: 0, timeoutMs: 30_000 });
  const batch = records(BATCH);
  for (let i = 0; i < 5; i++) await p.send(batch); // warm-up: connections, metadata
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) await p.send(batch);
  return batches * BATCH / ((performance.now() - t0) / 1000);
}

try {
  for (const id of [1, 2, 3]) admin.set(id, await startWithAdmin(cluster, id, settings));
  step("3 brokers up");
  const c = freshClient();
  await createTopic(c, "bench-rf1", 1, 1, {});
  await createTopic(c, "bench-rf3", 1, 3, { "min.insync.replicas": "1" });
  await waitFor("rf=3 in sync", async () => (await part(1, "bench-rf3")).isr.length === 3);
  step("topics created");

  // ---- acks=all throughput, rf=3 against rf=1 --------------------------------------------
  const rf1 = await produceRate("bench-rf1");
  const rf3 = await produceRate("bench-rf3");
  step("produce rates measured");

  // ---- follower catch-up ------------------------------------------------------------------
  const leader = (await part(1, "bench-rf3")).leader as number;
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  await cluster.kill(follower);
  await waitFor("the follower out of the ISR", async () => {
    const p = await part(leader, "bench-rf3");
    return !p.isr.includes(follower);
  });
  const p = new Producer(c, "bench-rf3", { acks: -1, compression: 0, timeoutMs: 30_000 });
  for (let sent = 0; sent < catchUpRecords; sent += BATCH) {
    await p.send(records(Math.min(BATCH, catchUpRecords - sent)));
  }
  const target = (await part(leader, "bench-rf3")).logEndOffset as number;
  const behind = target - (await part(leader, "bench-rf3")).logStartOffset;
  const restartedAt = performance.now();
  admin.set(follower, await startWithAdmin(cluster, follower, settings));
  const listening = performance.now();
  await waitFor("the follower caught up", async () => {
    const f = await part(follower, "bench-rf3");
    return f.logEndOffset >= target;
  });
  // From the restart: a follower fetches from the moment it registers, before its start-up
  // is announced, so the process start is part of the catch-up.
  const caughtUpMs = performance.now() - restartedAt;
  step("follower caught up");
  await waitFor("the follower back in the ISR", async () => {
    return (await part(leader, "bench-rf3")).isr.length === 3;
  });

  // ---- failover -----------------------------------------------------------------------------
  step("follower back in the ISR");
  const failoverMs: number[] = [];
  freshClient();
  const one = records(1);
  for (let i = 0; i < failovers; i++) {
    const old = (await part(follower, "bench-rf3")).leader as number;
    const t0 = performance.now();
    await cluster.kill(old);
    admin.delete(old);
    for (;;) {
      try {
        client!.invalidateLeaders();
        await new Producer(client!, "bench-rf3", { acks: -1, compression: 0, timeoutMs: 5000 })
          .send(one);
        break;
      } catch {
        await sleep(10);
      }
    }
    failoverMs.push(performance.now() - t0);
    step(`failover ${i + 1}: ${(performance.now() - t0).toFixed(0)} ms`);
    admin.set(old, await startWithAdmin(cluster, old, settings));
    freshClient();
    const witness = [1, 2, 3].find((id) => id !== old)!;
    await waitFor("all 3 back in the ISR", async () => {
      return (await part(witness, "bench-rf3")).isr.length === 3;
    });
  }

  const result = {
    produceAcksAll: {
      batchRecords: BATCH,
      recordBytes: value.length,
      batches,
      rf1RecordsPerSec: rf1,
      rf3RecordsPerSec: rf3,
      rf3OverRf1: rf3 / rf1,
    },
    followerCatchUp: {
      records: catchUpRecords,
      logRecords: behind,
      restartMs: listening - restartedAt,
      catchUpMs: caughtUpMs,
      recordsPerSec: catchUpRecords / (caughtUpMs / 1000),
    },
    failover: {
      sessionTimeoutMs: sessionMs,
      trials: failovers,
      runsMs: failoverMs,
      p50Ms: percentile(failoverMs, 0.5),
      p99Ms: percentile(failoverMs, 0.99),
    },
  };
  console.log(
    `acks=all produce (${BATCH} × ${value.length} B per batch, one in flight): rf=1 ` +
      `${Math.round(rf1).toLocaleString("en-US")} rec/s, rf=3 ${
        Math.round(rf3).toLocaleString("en-US")
      } rec/s, rf=3/rf=1 ${(rf3 / rf1).toFixed(2)}x`,
  );
  console.log(
    `follower catch-up: ${catchUpRecords.toLocaleString("en-US")} records in ${
      caughtUpMs.toFixed(0)
    } ms from its restart (${
      Math.round(result.followerCatchUp.recordsPerSec).toLocaleString("en-US")
    } rec/s, start-up included; the start-up alone ${(listening - restartedAt).toFixed(0)} ms)`,
  );
  console.log(
    `failover (leader SIGKILL → first acks=all produce acknowledged), session timeout ` +
      `${sessionMs} ms, ${failovers} trials: p50 ${result.failover.p50Ms.toFixed(0)} ms, p99 ${
        result.failover.p99Ms.toFixed(0)
      } ms (${failoverMs.map((ms) => ms.toFixed(0)).join(", ")})`,
  );
  const out = new URL("./out/", import.meta.url).pathname;
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(`${out}replication.json`, JSON.stringify(result, null, 2));
} finally {
  client?.close();
  // kill -9, not a clean stop: nothing of the brokers' state is needed after the run.
  for (const id of [...cluster.procs.keys()]) await cluster.kill(id);
  await cluster.close();
  await etcd.cleanup();
}
