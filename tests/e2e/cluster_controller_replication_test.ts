/**
 * End to end: the controller's replication duties on three broker processes over a real
 * etcd. kafkajs creates a topic with replication factor 3 and kcat's Metadata shows three
 * replicas in sync on every partition, spread over the brokers; kill -9 of a partition's
 * leader moves leadership to a live in-sync replica at a higher leader epoch, the dead one out
 * of the ISR; restarted and back in the ISR, ElectLeaders PREFERRED (sent to a broker that is
 * not the controller) makes it the leader again; a reassignment from one broker to another
 * is listed with its adding and removing replicas, opens the log on the new replica, and once
 * the new replica is in the ISR completes: the new broker leads and the old one deletes its
 * log; a replica moved away while its broker was down is deleted when it starts. The ISR is the partition leaders' to maintain (the data path); where it has not yet
 * caught up, the test writes it into the partition state as the leader would.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { partitionKey, type PartitionState } from "../../src/cluster/cluster_records.ts";
import { valueText } from "../../src/cluster/metadata_store.ts";
import { KafkaClient } from "../../src/client/client.ts";
import { alterPartitionReassignments, electLeaders } from "../../src/client/replication_admin.ts";
import { kcat } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import {
  DescribeProducersRequest,
  DescribeProducersResponse,
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse,
} from "../../protocol/messages/mod.ts";
import { until } from "../support/wait.ts";
import { kafkajs, withClusterStore } from "../support/cluster_fixtures.ts";
import { kcatRead } from "../support/workers_fixtures.ts";

interface KcatPartition {
  partition: number;
  leader: number;
  replicas: { id: number }[];
  isrs: { id: number }[];
}

const ids = (l: { id: number }[]) => l.map((x) => x.id);

Deno.test({
  name: "cluster of 3: replication factor, failover, preferred election, reassignment",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) =>
    withClusterStore(1, async (cluster, store) => {
      const stateOf = async (topic: string, p: number): Promise<PartitionState> =>
        JSON.parse(valueText((await store.get(partitionKey(topic, p)))!));
      /** Adds `id` to the ISR as the partition's leader would once it caught up (CAS). */
      const inSync = (topic: string, p: number, id: number) =>
        until(`broker ${id} in the ISR of ${topic}-${p}`, async () => {
          const kv = (await store.get(partitionKey(topic, p)))!;
          const s = JSON.parse(valueText(kv)) as PartitionState;
          if (s.isr.includes(id)) return true;
          const next = { ...s, isr: [...s.isr, id], partitionEpoch: s.partitionEpoch + 1 };
          await store.casPut(kv.key, JSON.stringify(next), kv.modRevision);
          return false;
        });
      for (const id of [1, 2, 3]) await cluster.start(id);
      const partitionsVia = async (via: number, topic: string): Promise<KcatPartition[]> => {
        const md = await cluster.metadata(via, topic);
        return md.topics[0].partitions as unknown as KcatPartition[];
      };
      await until("3 brokers", async () => (await cluster.metadata(1)).brokers.length === 3);

      await t.step(
        "CreateTopics replication factor 3: Metadata shows 3 replicas in sync",
        async () => {
          const admin = kafkajs([cluster.address(2)]).admin();
          await admin.connect();
          try {
            await admin.createTopics({
              topics: [{ topic: "r3", numPartitions: 3, replicationFactor: 3 }],
            });
            await admin.createTopics({
              topics: [
                { topic: "moves", replicaAssignment: [{ partition: 0, replicas: [1] }] },
                { topic: "away", replicaAssignment: [{ partition: 0, replicas: [3] }] },
              ],
            });
          } finally {
            await admin.disconnect();
          }
          for (const via of [1, 2, 3]) {
            const parts = await until(`r3 on broker ${via}`, async () => {
              const p = await partitionsVia(via, "r3");
              return p.length === 3 ? p : null;
            });
            const leaders = [];
            for (const p of parts) {
              assert.deepEqual([...ids(p.replicas)].sort(), [1, 2, 3]);
              assert.deepEqual([...ids(p.isrs)].sort(), [1, 2, 3]);
              assert.equal(p.leader, p.replicas[0].id);
              leaders.push(p.leader);
            }
            assert.deepEqual(leaders.sort(), [1, 2, 3]);
          }
          const admin2 = kafkajs([cluster.address(1)]).admin();
          await admin2.connect();
          try {
            await assert.rejects(
              admin2.createTopics({
                topics: [{ topic: "r4", numPartitions: 1, replicationFactor: 4 }],
              }),
              // deno-lint-ignore no-explicit-any
              (e: any) => {
                assert.deepEqual(e.errors?.map((x: any) => x.type), ["INVALID_REPLICATION_FACTOR"]);
                return true;
              },
            );
          } finally {
            await admin2.disconnect();
          }
        },
      );

      const before = await stateOf("r3", 0);
      const victim = before.leader;
      const others = [1, 2, 3].filter((id) => id !== victim);

      await t.step("leader killed: a live in-sync replica leads at a higher epoch", async () => {
        await cluster.kill(victim);
        const after = await until("r3-0 led elsewhere", async () => {
          const s = await stateOf("r3", 0);
          return s.leader !== victim && s.leader !== -1 && !s.isr.includes(victim) ? s : null;
        });
        assert.equal(after.leader, before.replicas.find((id) => id !== victim));
        assert.ok(after.leaderEpoch > before.leaderEpoch);
        assert.deepEqual(after.replicas, before.replicas);
        const p0 = await until("Metadata shows the new leader", async () => {
          const p = (await partitionsVia(others[0], "r3"))[0];
          return p.leader === after.leader ? p : null;
        });
        assert.deepEqual(ids(p0.replicas), before.replicas);
        assert.ok(!ids(p0.isrs).includes(victim));
        // DescribeTopicPartitions: the same, with the leader epoch and the offline replica.
        const c = await RawClient.connect(cluster.procs.get(others[0])!.port);
        try {
          const r = await c.call(
            DescribeTopicPartitionsRequest,
            DescribeTopicPartitionsResponse,
            0,
            {
              topics: [{ name: "r3" }],
              responsePartitionLimit: 10,
              cursor: null,
            },
          );
          const d = r.topics[0].partitions[0];
          assert.deepEqual(
            [d.errorCode, d.leaderId, d.leaderEpoch, d.replicaNodes, d.isrNodes, d.offlineReplicas],
            [0, after.leader, after.leaderEpoch, before.replicas, after.isr, [victim]],
          );
        } finally {
          c.close();
        }
      });

      await t.step("restarted and in sync: ElectLeaders PREFERRED moves it back", async () => {
        await cluster.start(victim);
        await until(
          "the victim registered",
          async () => (await cluster.metadata(others[0])).brokers.some((b) => b.id === victim),
        );
        await inSync("r3", 0, victim);
        const epoch = (await stateOf("r3", 0)).leaderEpoch;
        const controller = await cluster.controllerInEtcd();
        const via = [1, 2, 3].find((id) => id !== controller)!;
        const client = new KafkaClient([cluster.address(via)], { clientId: "elect" });
        try {
          const results = await electLeaders(client, 0, [
            { topic: "r3", partition: 0 },
            { topic: "nope", partition: 0 },
          ]);
          assert.deepEqual(results.map((r) => [r.topic, r.partition, r.errorCode]), [
            ["r3", 0, 0],
            ["nope", 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
          ]);
          const again = await electLeaders(client, 0, [{ topic: "r3", partition: 0 }]);
          assert.equal(again[0].errorCode, ErrorCode.ELECTION_NOT_NEEDED);
        } finally {
          client.close();
        }
        const s = await stateOf("r3", 0);
        assert.equal(s.leader, victim);
        assert.ok(s.leaderEpoch > epoch);
        await until(
          "Metadata shows the preferred leader",
          async () => (await partitionsVia(via, "r3"))[0].leader === victim,
        );
      });

      await t.step("a reassignment is listed, then completes once in sync", async () => {
        const admin = kafkajs([cluster.address(3)]).admin();
        await admin.connect();
        try {
          await admin.alterPartitionReassignments({
            topics: [{ topic: "moves", partitionAssignment: [{ partition: 0, replicas: [2] }] }],
          });
          const listed = await admin.listPartitionReassignments({
            topics: [{ topic: "moves", partitions: [0] }],
          });
          assert.deepEqual(listed.topics, [{
            name: "moves",
            partitions: [{
              partition: 0,
              replicas: [2, 1],
              addingReplicas: [2],
              removingReplicas: [1],
            }],
          }]);
          // The new replica opens its log.
          await until("moves-0 opened on broker 2", async () => {
            try {
              return (await Deno.stat(`${cluster.dirs.get(2)}/moves-0`)).isDirectory;
            } catch {
              return false;
            }
          });
          await inSync("moves", 0, 2);
          const done = await until("reassignment complete", async () => {
            const s = await stateOf("moves", 0);
            return s.addingReplicas === undefined ? s : null;
          });
          assert.deepEqual(done.replicas, [2]);
          assert.deepEqual(done.isr, [2]);
          assert.equal(done.leader, 2);
          assert.deepEqual(
            (await admin.listPartitionReassignments({})).topics,
            [],
          );
        } finally {
          await admin.disconnect();
        }
        await until("moves-0 deleted on broker 1", async () => {
          try {
            await Deno.stat(`${cluster.dirs.get(1)}/moves-0`);
            return false;
          } catch (e) {
            return e instanceof Deno.errors.NotFound;
          }
        });
        const p = (await partitionsVia(1, "moves"))[0];
        assert.equal(p.leader, 2);
        assert.deepEqual(ids(p.replicas), [2]);
        // DescribeProducers: a broker without a replica sends the client to one.
        for (const [via, code] of [[1, ErrorCode.NOT_LEADER_OR_FOLLOWER], [2, 0]]) {
          const c = await RawClient.connect(cluster.procs.get(via)!.port);
          try {
            const r = await c.call(DescribeProducersRequest, DescribeProducersResponse, 0, {
              topics: [{ name: "moves", partitionIndexes: [0] }],
            });
            assert.equal(r.topics[0].partitions[0].errorCode, code, `via broker ${via}`);
          } finally {
            c.close();
          }
        }
      });

      await t.step(
        "a replica moved away while its broker was down is deleted at its start",
        async () => {
          assert.ok((await Deno.stat(`${cluster.dirs.get(3)}/away-0`)).isDirectory);
          await cluster.kill(3);
          await until("away-0 offline", async () => (await stateOf("away", 0)).leader === -1);
          // kafkajs will not send while the partition has no leader; the project's client does.
          const client = new KafkaClient([cluster.address(1)], { clientId: "reassign" });
          try {
            const r = await alterPartitionReassignments(client, [
              { topic: "away", partition: 0, replicas: [1] },
            ]);
            assert.deepEqual(r.map((x) => x.errorCode), [0]);
          } finally {
            client.close();
          }
          await inSync("away", 0, 1);
          const done = await until("away-0 reassigned to broker 1", async () => {
            const s = await stateOf("away", 0);
            return s.addingReplicas === undefined ? s : null;
          });
          assert.deepEqual([done.leader, done.replicas, done.isr], [1, [1], [1]]);
          await cluster.start(3);
          await until(
            "broker 3 registered",
            async () => (await cluster.metadata(1)).brokers.some((b) => b.id === 3),
          );
          await assert.rejects(Deno.stat(`${cluster.dirs.get(3)}/away-0`), Deno.errors.NotFound);
        },
      );
    }),
});

Deno.test({
  name: "cluster of 2 with 2 Deno workers each: reassigned partitions open on their owner worker",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withClusterStore(2, async (cluster, store) => {
      for (const id of [1, 2]) await cluster.start(id);
      await until("2 brokers", async () => (await cluster.metadata(1)).brokers.length === 2);
      const parts = [0, 1, 2, 3];
      const admin = kafkajs([cluster.address(1)]).admin();
      await admin.connect();
      try {
        await admin.createTopics({
          topics: [{
            topic: "w",
            replicaAssignment: parts.map((partition) => ({ partition, replicas: [1] })),
          }],
        });
        await admin.alterPartitionReassignments({
          topics: [{
            topic: "w",
            partitionAssignment: parts.map((partition) => ({ partition, replicas: [2] })),
          }],
        });
      } finally {
        await admin.disconnect();
      }
      // Each partition's leader adds the new replica to the ISR once it caught up; written here.
      for (const p of parts) {
        await until(`w-${p} reassigned`, async () => {
          const kv = (await store.get(partitionKey("w", p)))!;
          const s = JSON.parse(valueText(kv)) as PartitionState;
          if (s.addingReplicas === undefined && s.leader === 2) return true;
          if (!s.isr.includes(2)) {
            const next = { ...s, isr: [...s.isr, 2], partitionEpoch: s.partitionEpoch + 1 };
            await store.casPut(kv.key, JSON.stringify(next), kv.modRevision);
          }
          return false;
        });
      }
      // Every partition is served by broker 2 (whichever of its workers owns it).
      for (const p of parts) {
        await until(`w-${p} accepts records on broker 2`, async () => {
          try {
            await kcat(cluster.address(2), ["-P", "-t", "w", "-p", String(p)], {
              stdin: `v-${p}\n`,
            });
            return true;
          } catch {
            return false;
          }
        });
      }
      for (const p of parts) {
        assert.deepEqual(await kcatRead(cluster.address(2), "w", p, "%s\n"), [`v-${p}`]);
        await until(`w-${p} deleted on broker 1`, async () => {
          try {
            await Deno.stat(`${cluster.dirs.get(1)}/w-${p}`);
            return false;
          } catch (e) {
            return e instanceof Deno.errors.NotFound;
          }
        });
      }
    }),
});
