/**
 * End to end: a leader change on an rf=3 partition, with the old leader holding batches its
 * followers never fetched (their fetches from it failed by fault injection). The election
 * (written to etcd as the controller writes it) makes broker 2 leader at epoch 1: the old
 * leader's pending acks=all produce fails with NOT_LEADER_OR_FOLLOWER, it refuses produce,
 * follows broker 2, is told its epoch-0 batches diverge (Fetch v12 diverging epoch) and
 * truncates them; then every replica holds the same bytes, stamped with their epochs, and
 * OffsetForLeaderEpoch answers from the epoch cache. A leader whose registration lease is
 * lost (revoked in etcd) stops acknowledging at once, and once registered again follows the
 * leader elected meanwhile, truncating what it alone held.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
} from "../../protocol/messages/mod.ts";
import { readBatchHeader } from "../../protocol/record_batch.ts";
import { BrokerConnection } from "../../src/client/connection.ts";
import { startEtcd } from "../support/etcd.ts";
import { logBytes, produce, ReplicatedCluster } from "../support/replication_fixtures.ts";
import { until } from "../support/wait.ts";
import { brokerKey } from "../../src/cluster/cluster_records.ts";

const T = "failover";

/** Each batch's (base offset, partition leader epoch) in a log's bytes. */
function epochs(bytes: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let pos = 0;
  while (pos + 61 <= bytes.length) {
    const h = readBatchHeader(bytes, pos);
    out.push([h.baseOffset, h.partitionLeaderEpoch]);
    pos += 12 + h.batchLength;
  }
  return out;
}

/**
 * Runs `fn` on brokers 1, 2 and 3 over a fresh etcd with `T` created on them, broker 1 its
 * leader, and a long lag time (the ISR stays [1,2,3] while the followers cannot fetch) and
 * fault injection on; closes the cluster and etcd after.
 */
async function withCutOffCluster(fn: (cluster: ReplicatedCluster) => Promise<void>) {
  const etcd = await startEtcd();
  const cluster = new ReplicatedCluster(etcd, {
    "replica.lag.time.max.ms": 60_000,
    "tributary.fault.injection.enable": "true",
  });
  try {
    for (const id of [1, 2, 3]) await cluster.start(id);
    await cluster.allLive();
    await cluster.createTopic(T, [[1, 2, 3]]);
    await fn(cluster);
  } finally {
    await cluster.close();
    await etcd.cleanup();
  }
}

/**
 * Fails every follower Fetch broker 1 is sent, and returns once none from before is still
 * out: each follower has one fetch out at a time, so once the fault has answered many of
 * them (both followers cycle every replica.fetch.backoff.ms), the rest came after it.
 * The caller clears the returned faults to let the followers fetch again.
 */
async function cutOffFollowers(cluster: ReplicatedCluster) {
  const COUNT = 1_000_000;
  const faults = cluster.brokers.get(1)!.faults;
  const fault = faults.push({
    api: "Fetch",
    count: COUNT,
    errorCode: "NOT_LEADER_OR_FOLLOWER",
  });
  await until(
    "the followers' fetches fail",
    () => faults.list().requests.find((f) => f.id === fault.id)!.remaining <= COUNT - 10,
  );
  return faults;
}

Deno.test({
  name: "leader change: the deposed leader fails pending acks=all and truncates what diverged",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withCutOffCluster(async (cluster) => {
      assert.deepEqual(await produce(cluster.address(1), T, 0, ["a0", "a1"], -1), {
        errorCode: 0,
        baseOffset: 0,
      });
      // The followers' fetches from broker 1 now fail: what it appends stays its own.
      const faults = await cutOffFollowers(cluster);
      assert.deepEqual(await produce(cluster.address(1), T, 0, ["x0", "x1"], 1), {
        errorCode: 0,
        baseOffset: 2,
      });
      const pending = produce(cluster.address(1), T, 0, ["p0"], -1, 30_000);
      await until("p0 appended on broker 1", () => cluster.log(1, T, 0)!.logEndOffset === 5);
      assert.equal(cluster.log(2, T, 0)!.logEndOffset, 2);
      assert.equal(cluster.log(3, T, 0)!.logEndOffset, 2);

      // Broker 2 is elected (it is in the ISR) at leader epoch 1.
      const state = await cluster.electLeader(T, 0, 2);
      assert.equal(state.leaderEpoch, 1);
      assert.equal((await pending).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      faults.clear();
      const refused = await produce(cluster.address(1), T, 0, ["r0"], 1);
      assert.equal(refused.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const y = await until("broker 2 takes produce", async () => {
        const r = await produce(cluster.address(2), T, 0, ["y0"], 1);
        return r.errorCode === 0 ? r : undefined;
      });
      assert.equal(y.baseOffset, 2);
      assert.deepEqual(await produce(cluster.address(2), T, 0, ["z0"], -1), {
        errorCode: 0,
        baseOffset: 3,
      });
      // acks=all: every ISR member has z0, and broker 1 has dropped x0, x1 and p0 for it.
      const leaderBytes = logBytes(cluster.log(2, T, 0)!);
      assert.deepEqual(epochs(leaderBytes), [[0, 0], [2, 1], [3, 1]]);
      for (const id of [1, 3]) {
        const l = cluster.log(id, T, 0)!;
        assert.equal(l.logEndOffset, 4, `broker ${id} log end`);
        assert.deepEqual(logBytes(l), leaderBytes, `broker ${id} holds the leader's bytes`);
      }

      // OffsetForLeaderEpoch from the epoch cache: epoch 0 ended at 2, epoch 1 is current,
      // a later one is unknown (Kafka's LeaderEpochFileCache.endOffsetFor).
      const conn = await BrokerConnection.connect(cluster.address(2));
      try {
        const r = await conn.request(OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, {
          replicaId: -1,
          topics: [{
            topic: T,
            partitions: [0, 1, 5].map((leaderEpoch) => ({
              partition: 0,
              currentLeaderEpoch: 1,
              leaderEpoch,
            })),
          }],
        });
        // The request names partition 0 three times; each answer is its own.
        const got = r.topics[0].partitions.map((p) => [p.errorCode, p.leaderEpoch, p.endOffset]);
        assert.deepEqual(got, [[0, 0, 2], [0, 1, 4], [0, -1, -1]]);
        const fenced = await conn.request(
          OffsetForLeaderEpochRequest,
          OffsetForLeaderEpochResponse,
          {
            replicaId: -1,
            topics: [{
              topic: T,
              partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }],
            }],
          },
        );
        assert.equal(fenced.topics[0].partitions[0].errorCode, ErrorCode.FENCED_LEADER_EPOCH);
      } finally {
        conn.close();
      }
    }),
});

Deno.test({
  name: "lease lost: the deposed leader fails pending acks=all, then follows and truncates",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withCutOffCluster(async (cluster) => {
      assert.equal((await produce(cluster.address(1), T, 0, ["a0"], -1)).errorCode, 0);
      const faults = await cutOffFollowers(cluster);
      const pending = produce(cluster.address(1), T, 0, ["p0"], -1, 30_000);
      await until("p0 appended on broker 1", () => cluster.log(1, T, 0)!.logEndOffset === 2);

      // Broker 1's registration goes (as when etcd expires its lease).
      const reg = (await cluster.store.get(brokerKey(1)))!;
      await cluster.store.revokeLease(reg.lease);
      assert.equal((await pending).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const moved = await until("a new leader", async () => {
        const s = await cluster.partitionState(T, 0);
        return s.leader !== 1 && s.leader >= 0 ? s : undefined;
      });
      faults.clear();
      const n = await until("the new leader takes acks=all", async () => {
        const r = await produce(cluster.address(moved.leader), T, 0, ["n0"], -1);
        return r.errorCode === 0 ? r : undefined;
      });
      assert.equal(n.baseOffset, 1);
      // Registered again, broker 1 follows: p0 is gone, n0 is there.
      await until("broker 1 caught up", () => {
        const l = cluster.log(1, T, 0)!;
        return l.logEndOffset === 2 && l.highWatermark === 2 &&
          epochs(logBytes(l)).join() === [[0, 0], [1, moved.leaderEpoch]].join();
      });
      assert.deepEqual(logBytes(cluster.log(1, T, 0)!), logBytes(cluster.log(moved.leader, T, 0)!));
      const refused = await produce(cluster.address(1), T, 0, ["r0"], 1);
      assert.equal(refused.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    }),
});
