/**
 * End to end: three in-process brokers over a real etcd replicate an rf=3 partition. acks=all
 * produce is answered once every ISR member has the batch: the followers' logs then hold the
 * leader's bytes exactly, and their high watermarks follow. A follower that stops leaves the
 * ISR after replica.lag.time.max.ms (the leader's compare-and-swap write in etcd); with
 * min.insync.replicas=2, a batch appended while the second follower cannot fetch is answered
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND once the ISR shrinks; with that follower stopped acks=all
 * gets NOT_ENOUGH_REPLICAS with nothing appended (acks=1 still works); restarted, the
 * followers catch up byte for byte and rejoin the ISR.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { DeleteRecordsRequest, DeleteRecordsResponse } from "../../protocol/messages/mod.ts";
import { BrokerConnection } from "../../src/client/connection.ts";
import { startEtcd } from "../support/etcd.ts";
import { logBytes, produce, ReplicatedCluster } from "../support/replication_fixtures.ts";
import { until } from "../support/wait.ts";

const T = "replicated";

Deno.test({
  name: "rf=3: acks=all, identical replicas, follower HW, ISR shrink/rejoin, min.insync.replicas",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const cluster = new ReplicatedCluster(etcd, {
      "replica.lag.time.max.ms": 1000,
      "tributary.fault.injection.enable": "true",
    });
    try {
      for (const id of [1, 2, 3]) await cluster.start(id);
      await cluster.allLive();
      await cluster.createTopic(T, [[1, 2, 3]], { "min.insync.replicas": 2 });
      const leader = cluster.address(1);

      // acks=all: answered once the ISR has it, so every replica holds it already.
      for (let i = 0; i < 3; i++) {
        const r = await produce(leader, T, 0, [`a${i}-0`, `a${i}-1`], -1);
        assert.deepEqual(r, { errorCode: 0, baseOffset: i * 2 });
      }
      const leaderLog = cluster.log(1, T, 0)!;
      assert.equal(leaderLog.logEndOffset, 6);
      assert.equal(leaderLog.highWatermark, 6);
      const bytes = logBytes(leaderLog);
      for (const id of [2, 3]) {
        const l = cluster.log(id, T, 0)!;
        assert.equal(l.logEndOffset, 6, `broker ${id} log end`);
        assert.deepEqual(logBytes(l), bytes, `broker ${id} holds the leader's bytes`);
      }
      // The followers learn the HW on their next fetch.
      for (const id of [2, 3]) {
        await until(`broker ${id} HW 6`, () => cluster.log(id, T, 0)!.highWatermark === 6);
      }
      // A follower refuses produce.
      const followerRead = await produce(cluster.address(2), T, 0, ["x"], 1);
      assert.equal(followerRead.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);

      // Broker 3 stops. Caught up when it went, it stays in the ISR until there is more to
      // fetch; acks=all then waits until the leader drops it (replica.lag.time.max.ms) or
      // the controller does; two replicas still satisfy min.insync.replicas.
      await cluster.stop(3);
      assert.deepEqual(await produce(leader, T, 0, ["b0"], -1), { errorCode: 0, baseOffset: 6 });
      await cluster.isrIs(T, 0, [1, 2]);

      // Broker 2 cannot fetch (fault injection on the leader) but is still in the ISR: a
      // batch appended now waits, and is answered once the leader drops broker 2 from the
      // ISR (replica.lag.time.max.ms): NOT_ENOUGH_REPLICAS_AFTER_APPEND.
      const faults = cluster.brokers.get(1)!.faults;
      const fault = faults.push({ api: "Fetch", count: 1000, errorCode: "NOT_LEADER_OR_FOLLOWER" });
      // Its one fetch out before the fault has ended once the fault has answered the next.
      await until(
        "broker 2's fetches fail",
        () => faults.list().requests.find((f) => f.id === fault.id)!.remaining < 1000,
      );
      const late = await produce(leader, T, 0, ["c0"], -1);
      assert.equal(late.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
      assert.equal(leaderLog.logEndOffset, 8, "c0 was appended");
      await cluster.isrIs(T, 0, [1]);
      faults.clear();
      await cluster.isrIs(T, 0, [1, 2]);

      // Broker 2 stops: the ISR is the leader alone, below min.insync.replicas: acks=all is
      // refused before the append.
      await cluster.stop(2);
      const alone = await cluster.isrIs(T, 0, [1]);
      assert.equal(alone.leader, 1);
      const refused = await produce(leader, T, 0, ["c1"], -1);
      assert.equal(refused.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
      assert.equal(leaderLog.logEndOffset, 8, "nothing appended");
      assert.deepEqual(await produce(leader, T, 0, ["c2"], 1), { errorCode: 0, baseOffset: 8 });
      assert.equal(leaderLog.highWatermark, 9, "an ISR of one: the HW follows the leader's log");

      // Both come back: they catch up, rejoin, and acks=all works again.
      await cluster.start(2);
      await cluster.start(3);
      await cluster.isrIs(T, 0, [1, 2, 3]);
      assert.deepEqual(await produce(leader, T, 0, ["d0", "d1"], -1), {
        errorCode: 0,
        baseOffset: 9,
      });
      const after = logBytes(leaderLog);
      for (const id of [2, 3]) {
        const l = cluster.log(id, T, 0)!;
        assert.equal(l.logEndOffset, 11);
        assert.deepEqual(logBytes(l), after, `broker ${id} caught up byte for byte`);
      }
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});

Deno.test({
  name: "a follower behind the leader's log start restarts its log there (OFFSET_OUT_OF_RANGE)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const cluster = new ReplicatedCluster(etcd, { "replica.lag.time.max.ms": 1000 });
    try {
      for (const id of [1, 2, 3]) await cluster.start(id);
      await cluster.allLive();
      await cluster.createTopic(T, [[1, 2, 3]]);
      const leader = cluster.address(1);
      assert.equal((await produce(leader, T, 0, ["a0", "a1"], -1)).errorCode, 0);
      await cluster.stop(3);
      for (let i = 0; i < 3; i++) {
        assert.equal((await produce(leader, T, 0, [`b${i}`], -1)).errorCode, 0);
      }
      await cluster.isrIs(T, 0, [1, 2]);
      // Records before offset 4 go: broker 3 (log end 2) is now below the leader's start.
      const conn = await BrokerConnection.connect(leader);
      try {
        const r = await conn.request(DeleteRecordsRequest, DeleteRecordsResponse, {
          topics: [{ name: T, partitions: [{ partitionIndex: 0, offset: 4 }] }],
          timeoutMs: 5000,
        });
        assert.equal(r.topics[0].partitions[0].errorCode, 0);
        assert.equal(Number(r.topics[0].partitions[0].lowWatermark), 4);
      } finally {
        conn.close();
      }
      await until(
        "broker 2 follows the log start",
        () => cluster.log(2, T, 0)!.logStartOffset === 4,
      );
      await cluster.start(3);
      await cluster.isrIs(T, 0, [1, 2, 3]);
      const l3 = cluster.log(3, T, 0)!;
      assert.equal(l3.logStartOffset, 4);
      assert.equal(l3.logEndOffset, 5);
      assert.deepEqual(logBytes(l3), logBytes(cluster.log(1, T, 0)!));
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});
