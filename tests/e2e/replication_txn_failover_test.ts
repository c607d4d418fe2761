/**
 * End to end, replication: transactions and coordinators across failover. Three broker
 * processes over a real etcd, the internal topics with replication factor 3
 * (offsets.topic.replication.factor, transaction.state.log.replication.factor set
 * explicitly). A confluent-kafka transactional producer commits (and every third time
 * aborts) transactions while the leader of its __transaction_state partition, then the leader
 * of the data partition, is killed with -9 and restarted: with read_committed every committed
 * transaction's records are read exactly once and no aborted one's. Offsets a group committed
 * before the kill of its __consumer_offsets leader are fetched back from the new coordinator.
 */
import assert from "node:assert/strict";
import type { TestCluster } from "../support/cluster_fixtures.ts";
import {
  awaitFullIsr,
  awaitNewLeader,
  bootstrapOf,
  coordinatorOf,
  createTopic,
  mustPass,
  partitionsOf,
  PyClient,
  runClient,
  withReplicationCluster,
} from "../support/replication_cluster.ts";
import { until } from "../support/wait.ts";

const TOPIC = "txn-data";

/** Kills broker `id`, restarts it, and waits until `key`'s coordinator is another broker. */
async function killCoordinator(cluster: TestCluster, key: string, keyType: 0 | 1): Promise<number> {
  const old = await coordinatorOf(cluster, key, keyType);
  await cluster.kill(old);
  const restarted = cluster.start(old);
  const next = await until(`a coordinator for ${key} other than ${old}`, async () => {
    const c = await coordinatorOf(cluster, key, keyType);
    return c !== old ? c : null;
  });
  await restarted;
  return next;
}

/** Waits until every partition of the internal topic and of TOPIC has its full ISR. */
async function settle(cluster: TestCluster, internal: string): Promise<void> {
  for (let p = 0; p < 3; p++) await awaitFullIsr(cluster, internal, p);
  for (let p = 0; p < 2; p++) await awaitFullIsr(cluster, TOPIC, p);
}

Deno.test({
  name: "replication: transactions and coordinators survive their leaders' kill -9",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await withReplicationCluster(async (cluster) => {
      await createTopic(cluster, TOPIC, {
        partitions: 2,
        replicationFactor: 3,
        configs: { "min.insync.replicas": "2" },
      });
      const bootstrap = bootstrapOf(cluster);

      mustPass(
        await t.step(
          "transactions across the kill of their coordinator and data leader",
          async () => {
            const txn = new PyClient("txn", {
              bootstrap,
              topic: TOPIC,
              partitions: 2,
              "txn-id": "failover-txn",
              id: "T",
              per: 3,
              "abort-every": 3,
            });
            try {
              const done = (n: number) =>
                txn.until(
                  `${n} transactions`,
                  (ev) => ev.filter((e) => e.ev === "txn").length >= n,
                );
              await done(3);
              const internal = await partitionsOf(
                cluster,
                cluster.running[0],
                "__transaction_state",
              );
              assert.equal(internal.length, 3);
              for (const p of internal) {
                assert.equal(p.replicas.length, 3, JSON.stringify(internal));
              }
              await settle(cluster, "__transaction_state");
              await killCoordinator(cluster, "failover-txn", 1);
              await done(txn.of("txn").length + 3);
              await settle(cluster, "__transaction_state");
              const data = (await partitionsOf(cluster, cluster.running[0], TOPIC))[0];
              await cluster.kill(data.leader);
              const restarted = cluster.start(data.leader);
              await awaitNewLeader(cluster, TOPIC, 0, data.leader, data.leaderEpoch);
              await restarted;
              await done(txn.of("txn").length + 3);
              await settle(cluster, "__transaction_state");
            } catch (e) {
              txn.kill();
              throw e;
            }
            const events = await txn.stop();
            assert.deepEqual(events.filter((e) => e.ev === "fatal"), []);
            const txns = events.filter((e) => e.ev === "txn");
            const committed = txns.filter((e) => e.outcome === "committed").flatMap((e) => e.vals);
            const aborted = txns.filter((e) => e.outcome === "aborted").flatMap((e) => e.vals);
            assert.ok(txns.length >= 9 && aborted.length > 0, JSON.stringify(txns));
            const read = await runClient("read", {
              bootstrap,
              topic: TOPIC,
              partitions: 2,
              isolation: "read_committed",
            });
            const got = read.filter((e) => e.ev === "rec").map((e) => e.v as string);
            assert.deepEqual([...got].sort(), [...committed].sort());
            assert.equal(new Set(got).size, got.length);
            // Within a partition, committed transactions in the order they were committed.
            for (const p of [0, 1]) {
              const order = read.filter((e) => e.ev === "rec" && e.p === p).map((e) => e.v);
              assert.deepEqual(order, committed.filter((v) => order.includes(v)));
            }
          },
        ),
      );

      mustPass(
        await t.step("committed offsets fetched back from the new group coordinator", async () => {
          const group = "failover-offsets";
          await runClient("commit", {
            bootstrap,
            topic: TOPIC,
            partitions: 2,
            group,
            offsets: "0:7,1:11",
          });
          await settle(cluster, "__consumer_offsets");
          await killCoordinator(cluster, group, 0);
          const [r] = await runClient("committed", {
            bootstrap,
            topic: TOPIC,
            partitions: 2,
            group,
          });
          assert.deepEqual(r.offsets, { "0": 7, "1": 11 });
        }),
      );
    });
  },
});
