/**
 * Transactions end to end with real clients: kafkajs and confluent-kafka-python
 * (librdkafka) transactional producers, read back by kcat/librdkafka at read_committed and
 * read_uncommitted and by a kafkajs group consumer; zombie fencing; transaction timeouts;
 * a broker killed with SIGKILL in the middle of a transaction; and the transaction APIs no
 * client library here speaks (DescribeTransactions, ListTransactions, DescribeProducers,
 * AddPartitionsToTxn v4 verify-only, produce verification), through the project's own codec.
 */
import assert from "node:assert/strict";
import type { Kafka } from "kafkajs";
import { HANDLERS } from "../../src/handlers/mod.ts";
import { python, testBroker } from "../support/helpers.ts";
import {
  client,
  describeTxn,
  errorType,
  FENCED,
  kcatValues,
  latestOffset,
  waitFor,
} from "../support/e2e_transactions_fixtures.ts";

Deno.test(
  "kafkajs transactions: exactly the committed records at read_committed, LSO held by an open one",
  async () => {
    const b = await testBroker({ config: { "group.initial.rebalance.delay.ms": 0 } });
    const kafka = client(b.address);
    const admin = kafka.admin();
    const txp = kafka.producer({
      transactionalId: "kjs-txn",
      idempotent: true,
      maxInFlightRequests: 1,
    });
    const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const topic = "kjs-t";
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      await txp.connect();
      await plain.connect();
      // Per partition, in offset order: what read_committed / read_uncommitted must show.
      const committed: string[][] = [[], []];
      const all: string[][] = [[], []];
      for (let round = 0; round < 6; round++) {
        const commit = round % 3 !== 1;
        const txn = await txp.transaction();
        const messages = [];
        for (let i = 0; i < 7; i++) {
          const partition = i % 2;
          const value = `${commit ? "c" : "a"}${round}-${i}`;
          messages.push({ partition, key: `k${i}`, value });
          all[partition].push(value);
          if (commit) committed[partition].push(value);
        }
        await txn.send({ topic, messages: messages.slice(0, 4) });
        // A non-transactional write in the middle of the transaction.
        const pv = `plain-${round}`;
        await plain.send({ topic, messages: [{ partition: 0, value: pv }] });
        await txn.send({ topic, messages: messages.slice(4) });
        if (commit) await txn.commit();
        else await txn.abort();
        // The plain record sits between the transaction's batches, in offset order.
        const before = messages.slice(0, 4).filter((m) => m.partition === 0).length;
        const p0 = all[0];
        const start = p0.length - messages.filter((m) => m.partition === 0).length;
        p0.splice(start + before, 0, pv);
        const c0 = committed[0];
        if (commit) {
          c0.splice(c0.length - (messages.filter((m) => m.partition === 0).length - before), 0, pv);
        } else c0.push(pv);
      }
      for (const p of [0, 1]) {
        assert.deepEqual(await kcatValues(b.address, topic, p, "read_committed"), committed[p]);
        assert.deepEqual(await kcatValues(b.address, topic, p, "read_uncommitted"), all[p]);
      }

      // An open transaction holds the last stable offset of partition 0 back.
      const open = await txp.transaction();
      await open.send({ topic, messages: [{ partition: 0, value: "open-1" }] });
      const lsoBefore = await latestOffset(b.port, topic, 0, true);
      await plain.send({ topic, messages: [{ partition: 0, value: "after-open" }] });
      const hw = await latestOffset(b.port, topic, 0, false);
      assert.equal(await latestOffset(b.port, topic, 0, true), lsoBefore);
      assert.ok(lsoBefore < hw);
      assert.deepEqual(await kcatValues(b.address, topic, 0, "read_committed"), committed[0]);
      assert.deepEqual(await kcatValues(b.address, topic, 0, "read_uncommitted"), [
        ...all[0],
        "open-1",
        "after-open",
      ]);
      await open.commit();
      assert.equal(await latestOffset(b.port, topic, 0, true), hw + 1); // + the marker
      committed[0].push("open-1", "after-open");
      assert.deepEqual(await kcatValues(b.address, topic, 0, "read_committed"), committed[0]);

      // A kafkajs group consumer (read_committed by default) sees the same, once each.
      const consumer = kafka.consumer({ groupId: "kjs-txn-reader", maxWaitTimeInMs: 100 });
      const got: string[][] = [[], []];
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: ({ partition, message }) => {
            got[partition].push(message.value!.toString());
            return Promise.resolve();
          },
        });
        const want = committed[0].length + committed[1].length;
        await waitFor("the group consumer", () => Promise.resolve(got.flat().length >= want));
        // A sentinel per partition after everything else: a record that must not be seen
        // (aborted, or delivered twice) would arrive before its partition's sentinel.
        await plain.send({
          topic,
          messages: [0, 1].map((partition) => ({ partition, value: "sentinel" })),
        });
        await waitFor(
          "the sentinels",
          () => Promise.resolve(got.every((g) => g.includes("sentinel"))),
        );
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(got, committed.map((c) => [...c, "sentinel"]));
    } finally {
      await txp.disconnect().catch(() => {});
      await plain.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await b.stop();
    }
  },
);

Deno.test(
  "kafkajs zombie fencing: a second producer with the same id fences the first",
  async () => {
    const b = await testBroker();
    const kafka = client(b.address);
    const admin = kafka.admin();
    const topic = "zombie-t";
    const p1 = kafka.producer({
      transactionalId: "zombie",
      idempotent: true,
      maxInFlightRequests: 1,
    });
    const p2 = kafka.producer({
      transactionalId: "zombie",
      idempotent: true,
      maxInFlightRequests: 1,
    });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      await p1.connect();
      const t1 = await p1.transaction();
      await t1.send({ topic, messages: [{ partition: 0, value: "zombie-1" }] });
      const before = await describeTxn(b.port, "zombie");
      assert.equal(before.transactionState, "Ongoing");
      // The new instance fences p1 (kafkajs initialises the transactional id at its first
      // transaction()): p1's open transaction is aborted under a bumped epoch.
      await p2.connect();
      const t2 = await p2.transaction();
      const after = await describeTxn(b.port, "zombie");
      assert.equal(after.producerId, before.producerId);
      assert.equal(after.producerEpoch, before.producerEpoch + 2); // fence + new instance
      assert.equal(after.transactionState, "Empty");
      // p1's next send (partition 1, never added) and its commit both fail as fenced.
      let sendError = "";
      await t1.send({ topic, messages: [{ partition: 1, value: "zombie-2" }] }).catch((e) =>
        sendError = errorType(e)
      );
      assert.ok(FENCED.includes(sendError), `send failed with ${sendError}`);
      let commitError = "";
      await t1.commit().catch((e) => commitError = errorType(e));
      assert.ok(FENCED.includes(commitError), `commit failed with ${commitError}`);
      // p2 works normally.
      await t2.send({
        topic,
        messages: [{ partition: 0, value: "p2-1" }, { partition: 1, value: "p2-2" }],
      });
      await t2.commit();
      assert.deepEqual(await kcatValues(b.address, topic, 0, "read_committed"), ["p2-1"]);
      assert.deepEqual(await kcatValues(b.address, topic, 1, "read_committed"), ["p2-2"]);
      assert.deepEqual(await kcatValues(b.address, topic, 0, "read_uncommitted"), [
        "zombie-1",
        "p2-1",
      ]);
    } finally {
      await p1.disconnect().catch(() => {});
      await p2.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await b.stop();
    }
  },
);

const PYTHON_TXN = `
import json, sys, time
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

addr, topic = sys.argv[1], sys.argv[2]
admin = AdminClient({"bootstrap.servers": addr})
for f in admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)]).values():
    f.result(10)

p = Producer({"bootstrap.servers": addr, "transactional.id": "py-txn", "linger.ms": 2})
p.init_transactions(15)
committed, aborted = [], []
for t in range(6):
    p.begin_transaction()
    vals = []
    for i in range(40):
        v = "t%d-%d" % (t, i)
        p.produce(topic, key="k%d" % i, value=v, partition=i % 3)
        vals.append([i % 3, v])
    p.flush(15)  # abort_transaction purges what is not sent yet: send it all first
    if t % 3 == 1:
        p.abort_transaction(15)
        aborted += vals
    else:
        p.commit_transaction(15)
        committed += vals

# Zombie fencing: a second instance with the same transactional.id.
p.begin_transaction()
p.produce(topic, value="zombie", partition=0)
p.flush(15)
p2 = Producer({"bootstrap.servers": addr, "transactional.id": "py-txn"})
p2.init_transactions(15)
fenced = None
try:
    p.commit_transaction(15)
except KafkaException as e:
    fenced = {"name": e.args[0].name(), "fatal": e.args[0].fatal()}
p2.begin_transaction()
p2.produce(topic, value="after-fence", partition=1)
p2.commit_transaction(15)
committed.append([1, "after-fence"])

def consume(isolation):
    c = Consumer({"bootstrap.servers": addr, "group.id": "unused-" + isolation,
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "isolation.level": isolation})
    c.assign([TopicPartition(topic, i, 0) for i in range(3)])
    got, eof = [], set()
    deadline = time.time() + 20
    while len(eof) < 3 and time.time() < deadline:
        for m in c.consume(1000, 0.2):
            if m.error():
                if m.error().code() == -191:
                    eof.add(m.partition())
                continue
            got.append([m.partition(), m.value().decode()])
    c.close()
    return got

print(json.dumps({"committed": committed, "aborted": aborted, "fenced": fenced,
                  "read_committed": consume("read_committed"),
                  "read_uncommitted": consume("read_uncommitted")}))
`;

Deno.test(
  "confluent-kafka-python transactions: commit, abort, fencing, both isolation levels",
  async () => {
    const b = await testBroker();
    const topic = "py-txn-t";
    try {
      const r = JSON.parse(await python(PYTHON_TXN, [b.address, topic], 90_000));
      type PV = [number, string];
      const byPartition = (xs: PV[]) =>
        [0, 1, 2].map((p) => xs.filter(([q]) => q === p).map(([, v]) => v));
      const committed = byPartition(r.committed);
      assert.deepEqual(byPartition(r.read_committed), committed);
      // read_uncommitted: everything written, in produce order per partition.
      const everything: PV[] = [];
      for (let t = 0; t < 6; t++) {
        for (let i = 0; i < 40; i++) everything.push([i % 3, `t${t}-${i}`]);
      }
      everything.push([0, "zombie"], [1, "after-fence"]);
      assert.deepEqual(byPartition(r.read_uncommitted), byPartition(everything));
      assert.equal(r.aborted.length, 80);
      assert.ok(r.fenced !== null, "the zombie's commit must fail");
      assert.ok(
        ["_FENCED", "PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"].includes(r.fenced.name),
        JSON.stringify(r.fenced),
      );
      for (const p of [0, 1, 2]) {
        assert.deepEqual(await kcatValues(b.address, topic, p, "read_committed"), committed[p]);
      }
    } finally {
      await b.stop();
    }
  },
);

const TXN_OFFSET_COMMIT_SERVED = HANDLERS.some((h) => h.apiKey === 28);

Deno.test({
  name: "kafkajs consume-transform-produce with sendOffsets across a rebalance: exactly once",
  // Needs TxnOffsetCommit (key 28), i.e. transactional offsets in the group coordinator.
  ignore: !TXN_OFFSET_COMMIT_SERVED,
  fn: async () => {
    const b = await testBroker({
      config: { "group.initial.rebalance.delay.ms": 0, "group.min.session.timeout.ms": 1000 },
    });
    const kafka = client(b.address);
    const admin = kafka.admin();
    const input = "ctp-in";
    const output = "ctp-out";
    const groupId = "ctp-group";
    const N = 240;
    const workers: {
      consumer: ReturnType<Kafka["consumer"]>;
      producer: ReturnType<Kafka["producer"]>;
    }[] = [];
    let processed = 0;
    const startWorker = async (name: string) => {
      const producer = kafka.producer({
        transactionalId: `ctp-${name}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: 6000,
        heartbeatInterval: 300,
        rebalanceTimeout: 10_000,
        maxWaitTimeInMs: 100,
      });
      workers.push({ consumer, producer });
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topic: input, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const txn = await producer.transaction();
          try {
            await txn.send({
              topic: output,
              messages: [{ key: message.key, value: `out-${message.value!.toString()}` }],
            });
            await txn.sendOffsets({
              consumerGroupId: groupId,
              topics: [{
                topic,
                partitions: [{ partition, offset: String(Number(message.offset) + 1) }],
              }],
            });
            await txn.commit();
            processed++;
          } catch (e) {
            await txn.abort().catch(() => {});
            throw e;
          }
        },
      });
    };
    try {
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic: input, numPartitions: 4 }, { topic: output, numPartitions: 4 }],
      });
      const seed = kafka.producer();
      await seed.connect();
      const sent: string[] = [];
      for (let i = 0; i < N; i++) sent.push(`v${i}`);
      await seed.send({
        topic: input,
        messages: sent.map((value, i) => ({ key: `k${i}`, value })),
      });
      await seed.disconnect();
      await startWorker("a");
      await waitFor("the first worker to make progress", () => Promise.resolve(processed >= 40));
      await startWorker("b"); // a rebalance in the middle of the stream
      await waitFor("every input processed", async () => {
        const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
        const done = offsets[0].partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
        return done >= N;
      }, 60_000);
      const out: string[] = [];
      for (let p = 0; p < 4; p++) {
        out.push(...await kcatValues(b.address, output, p, "read_committed"));
      }
      assert.deepEqual(out.sort(), sent.map((v) => `out-${v}`).sort());
    } finally {
      for (const w of workers) {
        await w.consumer.disconnect().catch(() => {});
        await w.producer.disconnect().catch(() => {});
      }
      await admin.disconnect().catch(() => {});
      await b.stop();
    }
  },
});
