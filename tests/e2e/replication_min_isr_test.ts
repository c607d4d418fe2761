/**
 * End to end, replication: min.insync.replicas and unclean leader election, over one
 * three-broker cluster and a real etcd.
 *
 * min.insync.replicas=2 on a topic with replication factor 3: with two brokers down the ISR is
 * the leader alone, so an acks=all produce (confluent-kafka, no retries) fails with
 * NOT_ENOUGH_REPLICAS and nothing of it becomes visible; acks=1 still succeeds; with the
 * brokers back in the ISR acks=all succeeds again.
 *
 * unclean.leader.election.enable: a replica killed while the others take writes is out of
 * sync; once the in-sync ones are gone too and it alone comes back, the partition stays
 * offline (leader -1) while the topic keeps the default false, even after the controller has
 * handled its return (a partition it alone holds is online again); set to true, it is elected
 * (a higher leader epoch) and serves exactly what it had: only the writes it never received
 * are lost. The other replicas, back, truncate to its log.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { until } from "../support/wait.ts";
import {
  awaitFullIsr,
  awaitNewLeader,
  awaitPartition,
  batchesOf,
  bootstrapOf,
  createTopic,
  logBytes,
  mustPass,
  partitionState,
  runClient,
  setTopicConfigs,
  withReplicationCluster,
} from "../support/replication_cluster.ts";
import type { ClientEvent } from "../support/replication_cluster.ts";
import type { TestCluster } from "../support/cluster_fixtures.ts";

const values = (ev: ClientEvent[], kind = "rec") => ev.filter((e) => e.ev === kind).map((e) => e.v);

function send(cluster: TestCluster, topic: string, id: string, count: number, acks: string) {
  return runClient("send", {
    bootstrap: bootstrapOf(cluster, cluster.running),
    topic,
    partition: 0,
    acks,
    id,
    count,
    "message-timeout-ms": 15000,
  });
}

function read(cluster: TestCluster, topic: string) {
  return runClient("read", {
    bootstrap: bootstrapOf(cluster, cluster.running),
    topic,
    partitions: 1,
  });
}

Deno.test({
  name: "replication: min.insync.replicas and unclean leader election",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await withReplicationCluster(async (cluster) => {
      mustPass(
        await t.step(
          "two of three down: acks=all gets NOT_ENOUGH_REPLICAS, acks=1 works",
          async () => {
            const topic = "min-isr";
            await createTopic(cluster, topic, {
              replicationFactor: 3,
              configs: { "min.insync.replicas": "2" },
            });
            const full = await awaitFullIsr(cluster, topic, 0);
            assert.deepEqual(values(await send(cluster, topic, "a", 2, "all"), "ack"), [
              "a-0",
              "a-1",
            ]);
            const followers = [1, 2, 3].filter((id) => id !== full.leader);
            for (const id of followers) await cluster.kill(id);
            await awaitPartition(
              cluster,
              topic,
              0,
              `ISR [${full.leader}]`,
              (v) => v.leader === full.leader && JSON.stringify(v.isr) === `[${full.leader}]`,
            );
            const refused = await send(cluster, topic, "b", 2, "all");
            assert.deepEqual(
              refused.filter((e) => e.ev !== "done").map((e) => [e.v, e.ev, e.err]),
              [["b-0", "err", "NOT_ENOUGH_REPLICAS"], ["b-1", "err", "NOT_ENOUGH_REPLICAS"]],
            );
            assert.deepEqual(values(await read(cluster, topic)), ["a-0", "a-1"]);
            const one = await send(cluster, topic, "c", 2, "1");
            assert.deepEqual(
              one.filter((e) => e.ev === "ack").map((e) => [e.v, e.o]),
              [["c-0", 2], ["c-1", 3]],
            );
            for (const id of followers) {
              await cluster.start(id);
            }
            await awaitFullIsr(cluster, topic, 0);
            const again = await send(cluster, topic, "d", 2, "all");
            assert.deepEqual(again.filter((e) => e.ev === "ack").map((e) => [e.v, e.o]), [
              ["d-0", 4],
              ["d-1", 5],
            ]);
            assert.deepEqual(values(await read(cluster, topic)), [
              "a-0",
              "a-1",
              "c-0",
              "c-1",
              "d-0",
              "d-1",
            ]);
          },
        ),
      );

      mustPass(
        await t.step(
          "only an out-of-sync replica alive: offline, unless unclean election",
          async () => {
            const topic = "unclean";
            await createTopic(cluster, topic, {
              replicationFactor: 3,
              configs: { "min.insync.replicas": "1" },
            });
            const full = await awaitFullIsr(cluster, topic, 0);
            const lagger = [1, 2, 3].find((id) => id !== full.leader)!;
            const insync = [1, 2, 3].filter((id) => id !== lagger);
            // A partition the lagging broker alone holds: online again once its return is handled.
            await createTopic(cluster, "solo", { assignments: [[lagger]] });
            assert.deepEqual(values(await send(cluster, topic, "kept", 3, "all"), "ack"), [
              "kept-0",
              "kept-1",
              "kept-2",
            ]);
            // In the ISR with acks=all acknowledged: the lagger holds them.
            await awaitFullIsr(cluster, topic, 0);
            await cluster.kill(lagger);
            await awaitPartition(
              cluster,
              topic,
              0,
              `ISR ${insync}`,
              (v) => JSON.stringify(v.isr) === JSON.stringify(insync),
            );
            assert.deepEqual(values(await send(cluster, topic, "lost", 3, "all"), "ack"), [
              "lost-0",
              "lost-1",
              "lost-2",
            ]);
            for (const id of insync) {
              await cluster.kill(id);
            }
            await cluster.start(lagger);
            await awaitPartition(
              cluster,
              "solo",
              0,
              `led by ${lagger}`,
              (v) => v.leader === lagger,
            );
            // The controller's decision on the lagger's return, once it has made it: no leader,
            // as the lagger is not in the ISR; Metadata says so (LEADER_NOT_AVAILABLE).
            const state = await until(`${topic}-0 without a leader in etcd`, async () => {
              const s = await partitionState(cluster, topic, 0);
              return s && s.leader === -1 ? s : null;
            });
            assert.ok(!state.isr.includes(lagger), `ISR ${state.isr}`);
            await awaitPartition(
              cluster,
              topic,
              0,
              "offline",
              (v) => v.leader === -1 && v.errorCode === ErrorCode.LEADER_NOT_AVAILABLE,
            );
            assert.deepEqual(await partitionState(cluster, topic, 0), state);

            await setTopicConfigs(cluster, lagger, topic, {
              "unclean.leader.election.enable": "true",
            });
            const elected = await awaitNewLeader(cluster, topic, 0, -1, state.leaderEpoch);
            assert.equal(elected.leader, lagger);
            assert.deepEqual(elected.isr, [lagger]);
            assert.deepEqual(values(await read(cluster, topic)), ["kept-0", "kept-1", "kept-2"]);
            assert.deepEqual(values(await send(cluster, topic, "new", 2, "all"), "ack"), [
              "new-0",
              "new-1",
            ]);

            // The others come back as followers and truncate the writes only they had.
            for (const id of insync) {
              await cluster.start(id);
            }
            await awaitFullIsr(cluster, topic, 0);
            assert.deepEqual(values(await read(cluster, topic)), [
              "kept-0",
              "kept-1",
              "kept-2",
              "new-0",
              "new-1",
            ]);
            for (const id of [1, 2, 3]) await cluster.kill(id, "SIGTERM");
            const logs = await Promise.all(
              [1, 2, 3].map((id) => logBytes(cluster.dirs.get(id)!, topic, 0)),
            );
            const batches = batchesOf(logs[0]);
            assert.equal(batches[batches.length - 1].lastOffset, 4, JSON.stringify(batches));
            for (const i of [1, 2]) {
              assert.deepEqual(logs[i], logs[0], `broker ${i + 1}'s log bytes`);
            }
          },
        ),
      );
    });
  },
});
