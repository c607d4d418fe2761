/**
 * End to end, replication: a deposed leader. Three broker processes over a real etcd, a topic
 * with replication factor 3 and min.insync.replicas=2. The leader is frozen (SIGSTOP) with an
 * acks=all Produce from a raw-protocol client pinned to it in its socket, for longer than the
 * session timeout: the controller elects another leader with a higher epoch, which takes
 * acks=all writes (confluent-kafka). Thawed (SIGCONT), the old leader must not acknowledge
 * the pinned write nor any later one (NOT_LEADER_OR_FOLLOWER or a timeout, never success);
 * it becomes a follower, truncates what it appended alone and rejoins the ISR. At the end all
 * three replicas' logs are byte for byte the same, read from their data dirs after a clean
 * stop, and hold exactly the acknowledged records.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { ProduceRequest, ProduceResponse } from "../../protocol/messages/produce.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { RawClient } from "../support/raw_client.ts";
import { until } from "../support/wait.ts";
import {
  answering,
  awaitFullIsr,
  awaitNewLeader,
  batchesOf,
  bootstrapOf,
  createTopic,
  logBytes,
  partitionsOf,
  runClient,
  withReplicationCluster,
} from "../support/replication_cluster.ts";

const TOPIC = "deposed";

/** One acks=all Produce of `value` to partition 0; the partition's error code. */
async function produceTo(c: RawClient, value: string, timeoutMs: number): Promise<number> {
  const r = await c.call(ProduceRequest, ProduceResponse, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs,
    topicData: [{
      name: TOPIC,
      partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value }] }) }],
    }],
  });
  return ((r.responses as Msg[])[0].partitionResponses as Msg[])[0].errorCode;
}

const NOT_ACKNOWLEDGED: number[] = [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.REQUEST_TIMED_OUT];

Deno.test({
  name: "replication: a leader frozen past its session is deposed, acknowledges nothing, truncates",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withReplicationCluster(async (cluster) => {
      await createTopic(cluster, TOPIC, {
        partitions: 1,
        replicationFactor: 3,
        configs: { "min.insync.replicas": "2" },
      });
      const base = await awaitFullIsr(cluster, TOPIC, 0);
      const common = { topic: TOPIC, partition: 0, acks: "all", "message-timeout-ms": 20000 };
      const before = await runClient("send", {
        ...common,
        bootstrap: bootstrapOf(cluster),
        id: "base",
        count: 3,
      });
      assert.deepEqual(before.filter((e) => e.ev === "ack").map((e) => e.o), [0, 1, 2]);

      const old = base.leader;
      let newLeader = -1;
      let newEpoch = -1;
      const pinned = await RawClient.connect(cluster.procs.get(old)!.port);
      try {
        cluster.pause(old);
        // Sits in the frozen broker's socket until it is thawed.
        const pending = produceTo(pinned, "stale-pinned", 3000);
        pending.catch(() => {}); // awaited below; a failure before then must not go unhandled
        const next = await awaitNewLeader(cluster, TOPIC, 0, old, base.leaderEpoch);
        assert.ok(!next.isr.includes(old), `ISR ${next.isr} still has ${old}`);
        newLeader = next.leader;
        newEpoch = next.leaderEpoch;
        const others = answering(cluster);
        const during = await runClient("send", {
          ...common,
          bootstrap: bootstrapOf(cluster, others),
          id: "new",
          count: 3,
        });
        assert.deepEqual(
          during.filter((e) => e.ev === "ack").map((e) => e.o),
          [3, 4, 5],
          JSON.stringify(during),
        );

        cluster.resume(old);
        const code = await pending;
        assert.ok(
          NOT_ACKNOWLEDGED.includes(code),
          `the deposed leader answered ${code} to the pinned write`,
        );
        // Until it has learned it is deposed a write may time out; then it refuses them.
        const answers: number[] = [];
        await until("the old leader answers NOT_LEADER_OR_FOLLOWER", async () => {
          const c = await produceTo(pinned, `stale-${answers.length}`, 1000);
          answers.push(c);
          return c === ErrorCode.NOT_LEADER_OR_FOLLOWER || !NOT_ACKNOWLEDGED.includes(c);
        });
        assert.ok(answers.every((c) => NOT_ACKNOWLEDGED.includes(c)), `answers ${answers}`);
      } finally {
        pinned.close();
      }
      const rejoined = await awaitFullIsr(cluster, TOPIC, 0);
      assert.deepEqual([rejoined.leader, rejoined.leaderEpoch], [newLeader, newEpoch]);
      const seenByOld = (await partitionsOf(cluster, old, TOPIC))[0];
      assert.deepEqual([seenByOld.leader, seenByOld.leaderEpoch], [newLeader, newEpoch]);
      const after = await runClient("send", {
        ...common,
        bootstrap: bootstrapOf(cluster),
        id: "after",
        count: 2,
      });
      assert.deepEqual(after.filter((e) => e.ev === "ack").map((e) => e.o), [6, 7]);
      const read = await runClient("read", {
        bootstrap: bootstrapOf(cluster),
        topic: TOPIC,
        partitions: 1,
      });
      assert.deepEqual(
        read.filter((e) => e.ev === "rec").map((e) => `${e.o}:${e.v}`),
        [
          "0:base-0",
          "1:base-1",
          "2:base-2",
          "3:new-0",
          "4:new-1",
          "5:new-2",
          "6:after-0",
          "7:after-1",
        ],
      );

      // Every replica's log, once its broker has stopped cleanly: the same bytes.
      for (const id of [1, 2, 3]) await cluster.kill(id, "SIGTERM");
      const logs = await Promise.all(
        [1, 2, 3].map((id) => logBytes(cluster.dirs.get(id)!, TOPIC, 0)),
      );
      const batches = batchesOf(logs[0]);
      assert.equal(batches[batches.length - 1].lastOffset, 7, JSON.stringify(batches));
      // The records the new leader took carry its epoch.
      assert.equal(batches.find((b) => b.baseOffset === 3)?.leaderEpoch, newEpoch);
      assert.equal(batches[0].leaderEpoch, base.leaderEpoch);
      for (const i of [1, 2]) {
        assert.deepEqual(batchesOf(logs[i]), batches, `broker ${i + 1}'s batches`);
        assert.deepEqual(logs[i], logs[0], `broker ${i + 1}'s log bytes`);
      }
    });
  },
});
