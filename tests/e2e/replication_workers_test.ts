/**
 * End to end: replication on brokers with two Deno workers each (three broker processes over
 * a real etcd). Each worker replicates the partitions it owns: its fetchers, the leader's
 * follower tracking, ISR writes and acks=all waits run on the owner worker.
 * - rf=3 over four partitions (spread over both workers of every broker): one acks=all
 *   Produce naming all four (the answering worker waits on the other's purgatory) is
 *   answered once every replica holds the batches; the segment files are byte-identical.
 *   A follower stopped (SIGSTOP) leaves the ISR of every partition, acks=all goes on with
 *   the two left (min.insync.replicas=2); resumed, it catches up and rejoins, byte for byte.
 * - confluent-kafka: an idempotent acks=all producer keeps producing across its leader's
 *   shutdown (the new leader continues its sequences), a consumer reads every record once in
 *   order, and a group's committed offset (in the replicated __consumer_offsets, on worker 0)
 *   survives the shutdown of its coordinator's broker.
 */
import assert from "node:assert/strict";
import type { EtcdMetadataStore } from "../../src/cluster/etcd_store.ts";
import { jsonOf, partitionKey, type PartitionState } from "../../src/cluster/cluster_records.ts";
import { partitionFor } from "../../src/internal_topic.ts";
import { ownerOf } from "../../src/workers/ownership.ts";
import { type TestCluster, withClusterStore } from "../support/cluster_fixtures.ts";
import { python } from "../support/helpers.ts";
import { producePartitions } from "../support/replication_fixtures.ts";
import { REPLICATION_CLIENT_PY } from "../support/replication_client_script.ts";
import { until } from "../support/wait.ts";

const SETTINGS = [
  "--set",
  "replica.lag.time.max.ms=1500",
  "--set",
  "replica.fetch.wait.max.ms=100",
  "--set",
  "replica.fetch.backoff.ms=100",
  "--set",
  "broker.heartbeat.interval.ms=500",
];

/** A partition's segment files, concatenated in offset order, as on disk. */
async function partitionBytes(dir: string, topic: string, p: number): Promise<Uint8Array> {
  const path = `${dir}/${topic}-${p}`;
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) if (e.name.endsWith(".log")) names.push(e.name);
  names.sort();
  const parts = await Promise.all(names.map((n) => Deno.readFile(`${path}/${n}`)));
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of parts) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Waits until every broker in `ids` holds exactly the leader's bytes of `topic`-`p`. */
async function replicasIdentical(
  cluster: TestCluster,
  ids: number[],
  leader: number,
  topic: string,
  p: number,
  minBytes: number,
): Promise<void> {
  let sizes = "";
  await until(() => `${topic}-${p} identical on ${ids.join(",")} (${sizes})`, async () => {
    const want = await partitionBytes(cluster.dirs.get(leader)!, topic, p);
    const got = await Promise.all(
      ids.map((id) => partitionBytes(cluster.dirs.get(id)!, topic, p)),
    );
    sizes = `leader ${want.length}, ${got.map((g) => g.length).join(",")}`;
    return want.length >= minBytes && got.every((g) => same(g, want));
  });
}

async function state(store: EtcdMetadataStore, topic: string, p: number): Promise<PartitionState> {
  return jsonOf<PartitionState>((await store.get(partitionKey(topic, p)))!);
}

async function isrIs(store: EtcdMetadataStore, topic: string, p: number, isr: number[]) {
  const want = [...isr].sort().join(",");
  let last: PartitionState | undefined;
  return await until(() => `${topic}-${p} ISR ${want} (last ${JSON.stringify(last)})`, async () => {
    last = await state(store, topic, p);
    return [...last.isr].sort().join(",") === want ? last : undefined;
  });
}

const PY = REPLICATION_CLIENT_PY;

Deno.test({
  name: "--workers 2: rf=3 acks=all across workers, identical replicas, ISR leave and rejoin",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withClusterStore(2, async (cluster, store) => {
      const T = "wrep";
      const parts = [0, 1, 2, 3];
      for (const id of [1, 2, 3]) await cluster.start(id, SETTINGS);
      await until("3 brokers", async () => (await cluster.metadata(1)).brokers.length === 3);
      // Broker 1 leads every partition; the partitions span both of its workers.
      assert.deepEqual(new Set(parts.map((p) => ownerOf(T, p, 2))), new Set([0, 1]));
      await python(PY, [
        cluster.address(2),
        T,
        "create",
        JSON.stringify(parts.map(() => [1, 2, 3])),
        JSON.stringify({ "min.insync.replicas": "2" }),
      ]);
      for (const p of parts) {
        const s = await state(store, T, p);
        assert.equal(s.leader, 1);
        assert.deepEqual(s.replicas, [1, 2, 3]);
      }

      const produceAll = (round: string) =>
        producePartitions(
          cluster.address(1),
          T,
          parts,
          (index) => [`${round}-${index}-0`, `${round}-${index}-1`],
        );
      // Right after creation the logs may not be open (and led) on their owners yet.
      await until("every partition led", async () => {
        for (const p of parts) {
          const s = await state(store, T, p);
          if (s.isr.length !== 3) return false;
        }
        const kv = await cluster.metadata(1, T);
        return kv.topics[0]?.partitions.length === 4 &&
          kv.topics[0].partitions.every((x) => x.leader === 1);
      });
      const first = await produceAll("a");
      assert.deepEqual(first.map((x) => [x.errorCode, x.baseOffset]), [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ]);
      // acks=all was answered once the ISR had it: the followers already hold the bytes.
      for (const p of parts) await replicasIdentical(cluster, [2, 3], 1, T, p, 1);

      // Broker 3 stops answering: it leaves every partition's ISR; acks=all goes on with two.
      const stopped = cluster.procs.get(3)!;
      stopped.child.kill("SIGSTOP");
      try {
        for (const p of parts) await isrIs(store, T, p, [1, 2]);
        const second = await produceAll("b");
        assert.deepEqual(second.map((x) => [x.errorCode, x.baseOffset]), [
          [0, 2],
          [0, 2],
          [0, 2],
          [0, 2],
        ]);
        for (const p of parts) await replicasIdentical(cluster, [2], 1, T, p, 1);
      } finally {
        stopped.child.kill("SIGCONT");
      }
      // Resumed, it catches up and every partition's leader worker adds it back.
      for (const p of parts) await isrIs(store, T, p, [1, 2, 3]);
      const third = await produceAll("c");
      assert.deepEqual(third.map((x) => [x.errorCode, x.baseOffset]), [
        [0, 4],
        [0, 4],
        [0, 4],
        [0, 4],
      ]);
      for (const p of parts) await replicasIdentical(cluster, [2, 3], 1, T, p, 1);
    }),
});

Deno.test({
  name: "--workers 2: idempotent producer across a leader change, offsets survive the coordinator",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withClusterStore(2, async (cluster, store) => {
      const T = "wclient";
      // Its partition is on worker 1, the coordinator's __consumer_offsets on worker 0.
      assert.equal(ownerOf(T, 0, 2), 1);
      const settings = [...SETTINGS, "--set", "offsets.topic.num.partitions=3"];
      for (const id of [1, 2, 3]) await cluster.start(id, settings);
      await until("3 brokers", async () => (await cluster.metadata(1)).brokers.length === 3);
      const all = () => cluster.bootstrap;
      // The group's coordinator first (creating __consumer_offsets): the topic is then led by
      // the same broker, so one shutdown moves both.
      await python(PY, [all(), "__warmup", "committed", "g1"]).catch(() => "");
      const offsetsPartition = partitionFor("g1", 3);
      const coord = await until("__consumer_offsets placed", async () => {
        const kv = await store.get(partitionKey("__consumer_offsets", offsetsPartition));
        return kv ? jsonOf<PartitionState>(kv) : undefined;
      });
      assert.equal(coord.replicas.length, 3, "offsets.topic.replication.factor 3");
      const lead = coord.leader;
      const others = [1, 2, 3].filter((id) => id !== lead);
      await python(PY, [all(), T, "create", JSON.stringify([[lead, ...others]]), "{}"]);
      await python(PY, [all(), T, "produce", "0", "100"]);
      await python(PY, [all(), T, "commit", "g1", "7"]);
      for (const id of others) {
        await replicasIdentical(cluster, [id], lead, T, 0, 1);
      }

      // The leader (and coordinator) goes; the controller elects another ISR member.
      await cluster.procs.get(lead)!.kill("SIGTERM");
      cluster.procs.delete(lead);
      const moved = await until("a new leader", async () => {
        const s = await state(store, T, 0);
        return s.leader !== lead && s.leader >= 0 ? s : undefined;
      });
      assert.ok(moved.leaderEpoch > 0);
      await python(PY, [all(), T, "produce", "100", "100"]);
      const out = await python(PY, [all(), T, "consume", "200"]);
      const expected = Array.from({ length: 200 }, (_, i) => `v${i}`).join(",");
      assert.equal(out.trim().split("\n")[0], expected);
      const committed = await python(PY, [all(), T, "committed", "g1"]);
      assert.equal(committed.trim().split("\n")[0], "7");
      const after = await state(store, "__consumer_offsets", offsetsPartition);
      assert.notEqual(after.leader, lead);

      // The old leader returns as a follower and ends with the new leader's bytes.
      await cluster.start(lead, settings);
      await isrIs(store, T, 0, [1, 2, 3]);
      const rest = [1, 2, 3].filter((id) => id !== moved.leader);
      await replicasIdentical(cluster, rest, moved.leader, T, 0, 1);
    }),
});

Deno.test({
  name: "--workers 2 leader, --workers 1 follower: fetches per leader worker, acks=all, same bytes",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withClusterStore(2, async (cluster, store) => {
      const T = "wmixed";
      const parts = [0, 1, 2, 3];
      await cluster.start(1, SETTINGS);
      // One worker here: its fetcher for broker 1 splits the partitions by broker 1's workers.
      await cluster.start(2, [...SETTINGS, "--workers", "1"]);
      await until("2 brokers", async () => (await cluster.metadata(1)).brokers.length === 2);
      await python(PY, [
        cluster.address(2),
        T,
        "create",
        JSON.stringify(parts.map(() => [1, 2])),
        JSON.stringify({ "min.insync.replicas": "2" }),
      ]);
      await until("every partition led by 1", async () => {
        const kv = await cluster.metadata(2, T);
        return kv.topics[0]?.partitions.length === 4 &&
          kv.topics[0].partitions.every((x) => x.leader === 1);
      });
      const answers = await producePartitions(cluster.address(1), T, parts, (i) => [`m-${i}`]);
      assert.deepEqual(answers.map((x) => [x.errorCode, x.baseOffset]), parts.map(() => [0, 0]));
      for (const p of parts) {
        await replicasIdentical(cluster, [2], 1, T, p, 1);
        assert.deepEqual((await state(store, T, p)).isr, [1, 2]);
      }
    }),
});
