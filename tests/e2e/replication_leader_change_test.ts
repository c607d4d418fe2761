/**
<<<<<<<< HEAD:tests/e2e/replication_failover_test.ts
 * End to end, replication: the leader kill campaign. Three broker processes over a real etcd,
 * a topic with replication factor 3 and min.insync.replicas=2; two idempotent confluent-kafka
 * producers (acks=all) and a committing consumer group run while the leader of partition 0 is
 * killed with -9 and restarted, 20 times; each trial awaits a new leader with a higher leader
 * epoch in Metadata and the restarted broker back in every ISR. Every acknowledged record is
 * then in the log exactly once, at the offset its delivery report gave, offsets contiguous,
 * each producer's values in order; the group, whose consumer is replaced every 5 trials,
 * resumes at its commits. (More trials: `deno task soak:failover --trials N`.)
 */
import assert from "node:assert/strict";
import { withReplicationCluster } from "../support/replication_cluster.ts";
import { leaderKillCampaign } from "../support/failover_campaign.ts";
========
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
>>>>>>>> w/repl-data:tests/e2e/replication_leader_change_test.ts

const TRIALS = 20;

Deno.test({
  name: "replication: 20 leader kill -9 trials lose and duplicate no acknowledged record",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withReplicationCluster(async (cluster) => {
      const r = await leaderKillCampaign(cluster, { trials: TRIALS, consumerSwapEvery: 5 });
      // Every trial elected a leader with a higher epoch.
      for (let i = 1; i < r.epochs.length; i++) {
        assert.ok(r.epochs[i] > r.epochs[i - 1], `${r.epochs}`);
      }
      assert.equal(r.epochs.length, TRIALS + 1);
      assert.ok(r.acked > 0 && r.consumed >= r.acked, `acked ${r.acked}, consumed ${r.consumed}`);
    });
  },
});

Deno.test({
  name: "lease lost: the deposed leader fails pending acks=all, then follows and truncates",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const cluster = new ReplicatedCluster(etcd, {
      "replica.lag.time.max.ms": 60_000,
      "tributary.fault.injection.enable": "true",
    });
    try {
      for (const id of [1, 2, 3]) await cluster.start(id);
      await cluster.allLive();
      await cluster.createTopic(T, [[1, 2, 3]]);
      assert.equal((await produce(cluster.address(1), T, 0, ["a0"], -1)).errorCode, 0);
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
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});
