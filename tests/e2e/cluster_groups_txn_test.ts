/**
 * End to end: consumer groups and transactions across three broker processes over a real
 * etcd. Groups whose `__consumer_offsets` partitions are led by different brokers are
 * coordinated there (FindCoordinator names at least two distinct brokers); a kafkajs group and
 * a confluent-kafka group each consume a 12-partition topic exactly and commit, and the
 * committed offsets read back exactly. A kafkajs transaction spanning partitions led by all
 * three brokers is committed, another aborted: read_committed sees exactly the committed
 * records, read_uncommitted both; offsets sent in a transaction reach a group coordinated on
 * another broker. Producer ids handed out by different brokers differ. A broker coordinating a
 * group and a transactional id is killed with a transaction open on all three brokers; once
 * restarted it serves the committed offsets again, and InitProducerId fences the open
 * transaction and aborts it on every leader, as Kafka does.
 */
import assert from "node:assert/strict";
import type { Kafka } from "kafkajs";
import {
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from "../../protocol/messages/mod.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { python } from "../support/helpers.ts";
import { startEtcd } from "../support/etcd.ts";
import { until } from "../support/wait.ts";
import { RawClient } from "../support/raw_client.ts";
import { kafkajs, TestCluster } from "../support/cluster_fixtures.ts";

const TOPIC = "events";
const PARTITIONS = 12;
const PER_PARTITION = 3;

/** FindCoordinator v4 for one key, retried while the coordinator is not yet available. */
async function coordinatorOf(port: number, keyType: 0 | 1, key: string): Promise<number> {
  return await until(`coordinator of ${key}`, async () => {
    const r = await RawClient.once(port, FindCoordinatorRequest, FindCoordinatorResponse, 4, {
      keyType,
      coordinatorKeys: [key],
    });
    const c = r.coordinators[0];
    if (c.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) return null;
    assert.equal(c.errorCode, ErrorCode.NONE, `FindCoordinator ${key}: ${c.errorCode}`);
    return c.nodeId;
  });
}

/** Group ids g-0, g-1, ... until two have coordinators on different brokers. */
async function groupsOnTwoBrokers(port: number): Promise<[string, number, string, number]> {
  const seen = new Map<number, string>();
  for (let i = 0; i < 100 && seen.size < 2; i++) {
    const g = `group-${i}`;
    const node = await coordinatorOf(port, 0, g);
    if (!seen.has(node)) seen.set(node, g);
  }
  assert.equal(seen.size, 2, "two groups with coordinators on different brokers");
  const [[n1, g1], [n2, g2]] = [...seen.entries()];
  return [g1, n1, g2, n2];
}

/** Transactional ids t-0, t-1, ... until two have coordinators on different brokers. */
async function txnIdsOnTwoBrokers(port: number): Promise<[string, number, string, number]> {
  const seen = new Map<number, string>();
  for (let i = 0; i < 100 && seen.size < 2; i++) {
    const id = `txn-${i}`;
    const node = await coordinatorOf(port, 1, id);
    if (!seen.has(node)) seen.set(node, id);
  }
  assert.equal(seen.size, 2, "two transactional ids with coordinators on different brokers");
  const [[n1, t1], [n2, t2]] = [...seen.entries()];
  return [t1, n1, t2, n2];
}

function initProducerIdRaw(port: number, transactionalId: string | null) {
  return RawClient.once(port, InitProducerIdRequest, InitProducerIdResponse, 4, {
    transactionalId,
    transactionTimeoutMs: 60_000,
  });
}

async function initProducerId(port: number, transactionalId: string | null) {
  const r = await initProducerIdRaw(port, transactionalId);
  assert.equal(r.errorCode, ErrorCode.NONE, `InitProducerId ${transactionalId}: ${r.errorCode}`);
  return { id: BigInt(r.producerId), epoch: r.producerEpoch as number };
}

/** The topic's leader per partition, from any broker's metadata. */
async function leaders(client: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = client.admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map(md.topics[0].partitions.map((p) => [p.partitionId, p.leader]));
  } finally {
    await admin.disconnect();
  }
}

async function committed(client: Kafka, groupId: string, topic: string) {
  const admin = client.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return t.partitions
      .map((p) => ({ partition: p.partition, offset: p.offset }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

const PY_GROUP = `
import sys
from confluent_kafka import Consumer
addr, topic, group, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = Consumer({"bootstrap.servers": addr, "group.id": group, "enable.auto.commit": False,
              "auto.offset.reset": "earliest"})
c.subscribe([topic])
got = []
while len(got) < total:
    m = c.poll(10)
    assert m is not None, got
    assert m.error() is None, m.error()
    got.append(f"{m.partition()}:{m.value().decode()}")
c.commit(asynchronous=False)
c.close()
print("\\n".join(sorted(got)))
`;

const PY_READ = `
import sys
from confluent_kafka import Consumer, TopicPartition
addr, topic, n, isolation, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
c = Consumer({"bootstrap.servers": addr, "group.id": "unused", "enable.auto.commit": False,
              "isolation.level": isolation, "enable.partition.eof": True})
c.assign([TopicPartition(topic, i, 0) for i in range(n)])
got, eof = [], set()
while len(eof) < n:
    m = c.poll(10)
    assert m is not None, (got, eof)
    if m.error():
        assert m.error().code() == -191, m.error()
        eof.add(m.partition())
        continue
    got.append(f"{m.partition()}:{m.value().decode()}")
c.close()
assert len(got) == total, got
print("\\n".join(sorted(got)))
`;

function expectedValues(prefix: string, parts: number[]): string[] {
  return parts.flatMap((p) =>
    Array.from({ length: PER_PARTITION }, (_, i) => `${p}:${prefix}-${p}-${i}`)
  ).sort();
}

Deno.test({
  name: "cluster of 3 over etcd: groups coordinated on different brokers, transactions on all",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const etcd = await startEtcd();
    const cluster = new TestCluster(etcd, 2);
    try {
      for (const id of [1, 2, 3]) await cluster.start(id);
      await until("3 brokers", async () => (await cluster.metadata(1)).brokers.length === 3);
      const client = kafkajs(cluster.bootstrap.split(","));
      const all = Array.from({ length: PARTITIONS }, (_, p) => p);

      await t.step("a 12-partition topic with records on every partition", async () => {
        const admin = client.admin();
        await admin.connect();
        try {
          assert.equal(
            await admin.createTopics({
              topics: [{ topic: TOPIC, numPartitions: PARTITIONS }],
              waitForLeaders: true,
            }),
            true,
          );
        } finally {
          await admin.disconnect();
        }
        const byLeader = new Set((await leaders(client, TOPIC)).values());
        assert.deepEqual([...byLeader].sort(), [1, 2, 3]);
        const producer = client.producer();
        await producer.connect();
        try {
          await producer.send({
            topic: TOPIC,
            acks: -1,
            messages: all.flatMap((p) =>
              Array.from({ length: PER_PARTITION }, (_, i) => ({
                partition: p,
                value: `plain-${p}-${i}`,
              }))
            ),
          });
        } finally {
          await producer.disconnect();
        }
      });

      await t.step(
        "first FindCoordinator on all brokers at once: internal topics created once, agreed",
        async () => {
          const ports = [1, 2, 3].map((id) => cluster.procs.get(id)!.port);
          const answers = await Promise.all(
            ports.flatMap((port) => [
              coordinatorOf(port, 0, "first-group"),
              coordinatorOf(port, 1, "first-txn"),
            ]),
          );
          assert.deepEqual(answers.filter((_, i) => i % 2 === 0), Array(3).fill(answers[0]));
          assert.deepEqual(answers.filter((_, i) => i % 2 === 1), Array(3).fill(answers[1]));
          // Every broker lists both topics once its catalogue has caught up with the cluster.
          for (const id of [1, 2, 3]) {
            for (const topic of ["__consumer_offsets", "__transaction_state"]) {
              const parts = await until(`${topic} listed by broker ${id}`, async () => {
                const md = await cluster.metadata(id, topic);
                return md.topics[0].error ? null : md.topics[0].partitions.length;
              });
              assert.equal(parts, 50);
            }
          }
          // Created once, by one broker, however many asked at the same time.
          for (const topic of ["__consumer_offsets", "__transaction_state"]) {
            const created = [...cluster.procs.values()].flatMap((p) =>
              p.lines.filter((l) => l.includes(`created topic ${topic} with 50 partition(s)`))
            );
            assert.equal(created.length, 1, `${topic} created: ${created}`);
          }
        },
      );

      const [jsGroup, jsNode, pyGroup, pyNode] = await groupsOnTwoBrokers(
        cluster.procs.get(1)!
          .port,
      );
      const exact = all.map((partition) => ({ partition, offset: String(PER_PARTITION) }));

      await t.step(
        `FindCoordinator agrees on every broker: ${jsGroup} on ${jsNode}, ${pyGroup} on ${pyNode}`,
        async () => {
          assert.notEqual(jsNode, pyNode);
          for (const id of [2, 3]) {
            const port = cluster.procs.get(id)!.port;
            assert.equal(await coordinatorOf(port, 0, jsGroup), jsNode);
            assert.equal(await coordinatorOf(port, 0, pyGroup), pyNode);
          }
        },
      );

      await t.step("a kafkajs group consumes every partition exactly and commits", async () => {
        const consumer = client.consumer({ groupId: jsGroup, maxWaitTimeInMs: 200 });
        await consumer.connect();
        const got: string[] = [];
        let done!: () => void;
        const all12 = new Promise<void>((r) => done = r);
        try {
          await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
          await consumer.run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              got.push(`${partition}:${message.value!.toString()}`);
              await consumer.commitOffsets([{
                topic: TOPIC,
                partition,
                offset: String(Number(message.offset) + 1),
              }]);
              if (got.length === PARTITIONS * PER_PARTITION) done();
            },
          });
          await all12;
        } finally {
          await consumer.disconnect();
        }
        assert.deepEqual(got.sort(), expectedValues("plain", all));
        assert.deepEqual(await committed(client, jsGroup, TOPIC), exact);
      });

      await t.step(
        "a confluent-kafka group consumes every partition exactly and commits",
        async () => {
          const out = await python(PY_GROUP, [
            cluster.bootstrap,
            TOPIC,
            pyGroup,
            String(PARTITIONS * PER_PARTITION),
          ]);
          assert.deepEqual(out.trim().split("\n"), expectedValues("plain", all));
          assert.deepEqual(await committed(client, pyGroup, TOPIC), exact);
          // The other group's offsets are untouched by this one.
          assert.deepEqual(await committed(client, jsGroup, TOPIC), exact);
        },
      );

      const TX_TOPIC = "payments";
      let txParts: number[] = [];
      const [commitId, commitNode, abortId, abortNode] = await txnIdsOnTwoBrokers(
        cluster.procs.get(1)!.port,
      );
      await t.step(
        `transactions over partitions led by all three brokers: ${commitId} coordinated on ` +
          `${commitNode} commits, ${abortId} on ${abortNode} aborts`,
        async () => {
          assert.notEqual(commitNode, abortNode);
          const admin = client.admin();
          await admin.connect();
          try {
            await admin.createTopics({
              topics: [{ topic: TX_TOPIC, numPartitions: 6 }],
              waitForLeaders: true,
            });
          } finally {
            await admin.disconnect();
          }
          const lead = await leaders(client, TX_TOPIC);
          // One partition per broker, so each transaction has a marker on each of the three.
          txParts = [1, 2, 3].map((node) => [...lead].find(([, l]) => l === node)![0]).sort();
          const run = async (transactionalId: string, prefix: string, commit: boolean) => {
            const producer = client.producer({ transactionalId, maxInFlightRequests: 1 });
            await producer.connect();
            try {
              const txn = await producer.transaction();
              await txn.send({
                topic: TX_TOPIC,
                messages: txParts.flatMap((p) =>
                  Array.from({ length: PER_PARTITION }, (_, i) => ({
                    partition: p,
                    value: `${prefix}-${p}-${i}`,
                  }))
                ),
              });
              await (commit ? txn.commit() : txn.abort());
            } finally {
              await producer.disconnect();
            }
          };
          await run(commitId, "committed", true);
          await run(abortId, "aborted", false);
          // A plain record after the transactions: read_committed reaches it only once every
          // partition's abort marker is written (the last stable offset moves past it).
          const plain = client.producer();
          await plain.connect();
          try {
            await plain.send({
              topic: TX_TOPIC,
              acks: -1,
              messages: txParts.map((p) => ({ partition: p, value: `after-${p}` })),
            });
          } finally {
            await plain.disconnect();
          }
        },
      );

      const after = () => txParts.map((p) => `${p}:after-${p}`);
      await t.step("read_committed sees exactly the committed records", async () => {
        const out = await python(PY_READ, [
          cluster.bootstrap,
          TX_TOPIC,
          "6",
          "read_committed",
          String(txParts.length * (PER_PARTITION + 1)),
        ]);
        assert.deepEqual(
          out.trim().split("\n"),
          [...expectedValues("committed", txParts), ...after()].sort(),
        );
      });

      await t.step("read_uncommitted sees the committed and the aborted records", async () => {
        const out = await python(PY_READ, [
          cluster.bootstrap,
          TX_TOPIC,
          "6",
          "read_uncommitted",
          String(txParts.length * (2 * PER_PARTITION + 1)),
        ]);
        assert.deepEqual(
          out.trim().split("\n"),
          [
            ...expectedValues("committed", txParts),
            ...expectedValues("aborted", txParts),
            ...after(),
          ].sort(),
        );
      });

      await t.step(
        "offsets sent in a transaction to a group coordinated on another broker",
        async () => {
          let eosGroup = "";
          for (let i = 0; !eosGroup; i++) {
            const g = `eos-${i}`;
            if (await coordinatorOf(cluster.procs.get(1)!.port, 0, g) !== commitNode) eosGroup = g;
          }
          const producer = client.producer({ transactionalId: commitId, maxInFlightRequests: 1 });
          await producer.connect();
          try {
            const offsetsTxn = async (offset: number, commit: boolean) => {
              const txn = await producer.transaction();
              await txn.send({
                topic: TX_TOPIC,
                messages: [{ partition: txParts[0], value: "x" }],
              });
              await txn.sendOffsets({
                consumerGroupId: eosGroup,
                topics: [{
                  topic: TOPIC,
                  partitions: all.map((partition) => ({ partition, offset: String(offset) })),
                }],
              });
              await (commit ? txn.commit() : txn.abort());
            };
            await offsetsTxn(2, true);
            await offsetsTxn(1, false);
          } finally {
            await producer.disconnect();
          }
          assert.deepEqual(
            await committed(client, eosGroup, TOPIC),
            all.map((partition) => ({ partition, offset: "2" })),
          );
        },
      );

      const txnPids = new Map<string, { id: bigint; epoch: number }>();
      await t.step("producer ids differ across brokers and transaction coordinators", async () => {
        for (const [tid, node] of [[commitId, commitNode], [abortId, abortNode]] as const) {
          txnPids.set(tid, await initProducerId(cluster.procs.get(node)!.port, tid));
        }
        const ids = [...txnPids.values()].map((v) => v.id);
        for (const id of [1, 2, 3]) {
          ids.push((await initProducerId(cluster.procs.get(id)!.port, null)).id);
        }
        assert.equal(new Set(ids).size, 5, `producer ids ${ids}`);
      });

      await t.step(
        "kill -9 of a coordinator with a transaction open; the next coordinator loads offsets " +
          "and transactions and aborts the open one on all three brokers",
        async () => {
          // Two of three brokers coordinate the groups and two the transactional ids: one
          // broker coordinates both a group and a transactional id.
          const victim = [commitNode, abortNode].find((n) => n === jsNode || n === pyNode)!;
          const tid = victim === commitNode ? commitId : abortId;
          const group = victim === jsNode ? jsGroup : pyGroup;
          // A transaction left open on all three brokers when its coordinator dies.
          const zombie = client.producer({ transactionalId: tid, maxInFlightRequests: 1 });
          await zombie.connect();
          const open = await zombie.transaction();
          await open.send({
            topic: TX_TOPIC,
            messages: txParts.map((p) => ({ partition: p, value: `open-${p}` })),
          });
          await cluster.kill(victim);
          await cluster.start(victim);
          await zombie.disconnect();
          // Whoever coordinates now: the restarted victim (one replica per partition, as with
          // Deno workers), or another replica that took over the replicated internal topics.
          // Asked again on every try, as clients do on NOT_COORDINATOR: the victim may come
          // back before the controller has moved its internal partitions away.
          const asked = cluster.procs.get(victim)!.port;
          const coordinatorPort = async (keyType: 0 | 1, key: string) =>
            cluster.procs.get(await coordinatorOf(asked, keyType, key))!.port;
          const before = txnPids.get(tid)!;
          const again = await until(`transaction state of ${tid} loaded`, async () => {
            const r = await initProducerIdRaw(await coordinatorPort(1, tid), tid);
            if (
              r.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
              r.errorCode === ErrorCode.NOT_COORDINATOR ||
              r.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
              // The open transaction is being aborted under a bumped epoch: retry, as clients do.
              r.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS
            ) return null;
            assert.equal(r.errorCode, ErrorCode.NONE);
            return { id: BigInt(r.producerId), epoch: r.producerEpoch };
          });
          // Kafka's epochs: the zombie's InitProducerId, the fence that aborts its transaction,
          // and this producer's own bump.
          assert.deepEqual(again, { id: before.id, epoch: before.epoch + 3 });
          // Its abort markers reached all three leaders: read_committed goes past the open
          // transaction to records produced after it, read_uncommitted sees it.
          const late = client.producer();
          await late.connect();
          try {
            await late.send({
              topic: TX_TOPIC,
              acks: -1,
              messages: txParts.map((p) => ({ partition: p, value: `late-${p}` })),
            });
          } finally {
            await late.disconnect();
          }
          const lateValues = txParts.map((p) => `${p}:late-${p}`);
          const eos = [`${txParts[0]}:x`, `${txParts[0]}:x`];
          const readCommitted = await python(PY_READ, [
            cluster.bootstrap,
            TX_TOPIC,
            "6",
            "read_committed",
            String(txParts.length * (PER_PARTITION + 2) + 1),
          ]);
          assert.deepEqual(
            readCommitted.trim().split("\n"),
            [...expectedValues("committed", txParts), ...after(), ...lateValues, eos[0]].sort(),
          );
          const readUncommitted = await python(PY_READ, [
            cluster.bootstrap,
            TX_TOPIC,
            "6",
            "read_uncommitted",
            String(txParts.length * (2 * PER_PARTITION + 3) + 2),
          ]);
          assert.deepEqual(
            readUncommitted.trim().split("\n"),
            [
              ...expectedValues("committed", txParts),
              ...expectedValues("aborted", txParts),
              ...after(),
              ...lateValues,
              ...txParts.map((p) => `${p}:open-${p}`),
              ...eos,
            ].sort(),
          );
          const fresh = kafkajs(cluster.bootstrap.split(","));
          const offsets = await until(`offsets of ${group} loaded`, async () => {
            const port = await coordinatorPort(0, group);
            const r = await RawClient.once(port, OffsetFetchRequest, OffsetFetchResponse, 8, {
              groups: [{ groupId: group, topics: [{ name: TOPIC, partitionIndexes: all }] }],
              requireStable: false,
            });
            const g = r.groups[0];
            if (
              g.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
              g.errorCode === ErrorCode.NOT_COORDINATOR
            ) return null;
            assert.equal(g.errorCode, ErrorCode.NONE);
            return g.topics[0].partitions.map((
              p: { partitionIndex: number; committedOffset: bigint },
            ) => ({
              partition: p.partitionIndex,
              offset: String(p.committedOffset),
            }));
          });
          assert.deepEqual(offsets, exact);
          assert.deepEqual(await committed(fresh, group, TOPIC), exact);
        },
      );
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});
