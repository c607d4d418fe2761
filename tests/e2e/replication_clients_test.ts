/**
 * End to end with a stock client: confluent-kafka (librdkafka) creates an rf=3 topic with
 * CreateTopics, produces idempotently with acks=all, keeps producing across the leader's
 * shutdown (the controller elects another ISR member at a new leader epoch; the new leader
 * continues the producer's sequences from the replicated producer state), and a consumer
 * reads every record exactly once, in order. The old leader comes back as a follower and
 * ends with the new leader's bytes. A group's committed offsets (in the replicated
 * __consumer_offsets) survive the shutdown of its coordinator: the next one loads them.
 */
import assert from "node:assert/strict";
import { python } from "../support/helpers.ts";
import { partitionFor } from "../../src/internal_topic.ts";
import { startEtcd } from "../support/etcd.ts";
import { logBytes, ReplicatedCluster } from "../support/replication_fixtures.ts";
import { REPLICATION_CLIENT_PY } from "../support/replication_client_script.ts";
import { until } from "../support/wait.ts";

const PY = REPLICATION_CLIENT_PY;

const T = "clients-rf3";

Deno.test({
  name: "confluent-kafka: rf=3 acks=all idempotent produce across a leader change, read once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const cluster = new ReplicatedCluster(etcd);
    try {
      for (const id of [1, 2, 3]) await cluster.start(id);
      await cluster.allLive();
      const all = () => [...cluster.brokers.keys()].map((id) => cluster.address(id)).join(",");
      await python(PY, [all(), T, "create"]);
      const first = await cluster.partitionState(T, 0);
      assert.equal(first.replicas.length, 3);
      await python(PY, [all(), T, "produce", "0", "100"]);
      await until(
        "every replica at 100",
        () => [1, 2, 3].every((id) => cluster.log(id, T, 0)?.logEndOffset === 100),
      );

      // The leader goes; the controller elects another ISR member at the next epoch.
      const old = first.leader;
      await cluster.stop(old);
      const moved = await until("a new leader", async () => {
        const s = await cluster.partitionState(T, 0);
        return s.leader !== old && s.leader >= 0 ? s : undefined;
      });
      assert.ok(moved.leaderEpoch > first.leaderEpoch);
      await python(PY, [all(), T, "produce", "100", "100"]);
      const out = await python(PY, [all(), T, "consume", "200"]);
      const expected = Array.from({ length: 200 }, (_, i) => `v${i}`).join(",");
      assert.equal(out.trim().split("\n")[0], expected);

      // The old leader returns as a follower and ends with the new leader's bytes.
      await cluster.start(old);
      await cluster.isrIs(T, 0, [1, 2, 3]);
      const leaderLog = cluster.log(moved.leader, T, 0)!;
      assert.equal(leaderLog.logEndOffset, 200);
      const back = cluster.log(old, T, 0)!;
      assert.equal(back.logEndOffset, 200);
      assert.deepEqual(logBytes(back), logBytes(leaderLog));
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});

Deno.test({
  name: "replicated __consumer_offsets: committed offsets survive their coordinator's shutdown",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const cluster = new ReplicatedCluster(etcd, { "offsets.topic.num.partitions": 3 });
    try {
      for (const id of [1, 2, 3]) await cluster.start(id);
      await cluster.allLive();
      const all = () => [...cluster.brokers.keys()].map((id) => cluster.address(id)).join(",");
      await python(PY, [all(), T, "create"]);
      await python(PY, [all(), T, "produce", "0", "10"]);
      await python(PY, [all(), T, "commit", "g1", "7"]);
      const offsetsPartition = partitionFor("g1", 3);
      const before = await cluster.partitionState("__consumer_offsets", offsetsPartition);
      assert.equal(before.replicas.length, 3, "offsets.topic.replication.factor 3");
      // The commit was acknowledged once replicated: every ISR member holds it.
      const end = cluster.log(before.leader, "__consumer_offsets", offsetsPartition)!;
      for (const id of before.isr) {
        assert.equal(
          cluster.log(id, "__consumer_offsets", offsetsPartition)!.logEndOffset,
          end.logEndOffset,
        );
      }
      await cluster.stop(before.leader);
      const out = await python(PY, [all(), T, "committed", "g1"]);
      assert.equal(out.trim().split("\n")[0], "7");
      const after = await cluster.partitionState("__consumer_offsets", offsetsPartition);
      assert.notEqual(after.leader, before.leader);
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});
