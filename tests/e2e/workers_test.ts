/**
 * The broker on three Deno workers (`--workers 3`), as a child process, driven by real
 * clients: kcat (librdkafka), kafkajs 2.2.4 and confluent-kafka-python. Partitions of one
 * topic are owned by different workers and connections land on whichever worker the kernel
 * picks, so every test crosses workers: produce, fetch and ListOffsets on the owners, group
 * and transaction coordination forwarded to worker 0, the Fetch long poll woken by an append
 * on another worker, a worker that dies and is restarted by the supervisor, the admin API and
 * /metrics summed over workers, and topic deletion, re-creation and config changes.
 */
import assert from "node:assert/strict";
import type { Consumer, Kafka } from "kafkajs";
import { ownerOf } from "../../src/workers/ownership.ts";
import { BrokerProcess, decoder, kcat, python } from "../support/helpers.ts";
import {
  assertSpansWorkers,
  client,
  kcatOffsets,
  kcatProduce,
  kcatRead,
  sleep,
  waitFor,
  withBroker,
  WORKERS,
} from "../support/workers_fixtures.ts";

const GROUP_SETTINGS = [
  "--set",
  "group.initial.rebalance.delay.ms=0",
  "--set",
  "group.min.session.timeout.ms=1000",
];

// ---- 1. kcat: six partitions on three workers -------------------------------------------

/** One record per partition of a six-partition topic, keyed `${tag}${partition}`. */
function sentinels(tag: string) {
  return [0, 1, 2, 3, 4, 5].map((p) => ({ partition: p, key: `${tag}${p}`, value: tag }));
}

Deno.test(
  "workers=3, kcat: keyed records to each of six partitions read back exactly; ListOffsets",
  async () => {
    await withBroker("kcat", ["--set", "num.partitions=6"], async (b) => {
      const topic = "six-kcat";
      assertSpansWorkers(topic, [0, 1, 2, 3, 4, 5]);
      const counts = [40, 53, 66, 79, 92, 105];
      const records = counts.map((n, p) =>
        Array.from({ length: n }, (_, i): [string, string] => [
          `k${p}-${i}`,
          `v${p}-${i}-é€😀-${"x".repeat((i * 7 + p) % 61)}`,
        ])
      );
      // The first produce auto-creates the topic (num.partitions=6), the rest run concurrently.
      await kcatProduce(b.address, topic, 0, records[0]);
      await Promise.all([1, 2, 3, 4, 5].map((p) => kcatProduce(b.address, topic, p, records[p])));

      const md = JSON.parse(decoder.decode(await kcat(b.address, ["-L", "-J", "-t", topic])));
      const t = md.topics.find((x: { topic: string }) => x.topic === topic);
      assert.equal(t.partitions.length, 6);

      // Each partition from its owner, through whichever worker serves kcat's connection.
      const perPartition = await Promise.all(
        counts.map((_, p) => kcatRead(b.address, topic, p, "%o\t%k\t%s\n")),
      );
      for (let p = 0; p < 6; p++) {
        assert.deepEqual(
          perPartition[p],
          records[p].map(([k, v], i) => `${i}\t${k}\t${v}`),
          `partition ${p} (worker ${ownerOf(topic, p, WORKERS)})`,
        );
      }
      // The whole topic in one consumer: every partition, in offset order within each.
      const whole = await kcatRead(b.address, topic, null, "%p\t%o\t%k\t%s\n");
      assert.equal(whole.length, counts.reduce((a, n) => a + n, 0));
      for (let p = 0; p < 6; p++) {
        assert.deepEqual(
          whole.filter((l) => l.startsWith(`${p}\t`)),
          records[p].map(([k, v], i) => `${p}\t${i}\t${k}\t${v}`),
        );
      }
      // ListOffsets latest and earliest, per partition.
      assert.deepEqual(await kcatOffsets(b.address, topic, 6, -1), counts);
      assert.deepEqual(await kcatOffsets(b.address, topic, 6, -2), [0, 0, 0, 0, 0, 0]);
    });
  },
);

// ---- 2. kafkajs consumer group over six partitions ---------------------------------------

/** A kafkajs group member recording what it consumed, from which partitions, and its assignment. */
class Member {
  readonly consumer: Consumer;
  assignment: number[] = [];
  readonly partitionsSeen = new Set<number>();
  constructor(kafka: Kafka, groupId: string, readonly consumed: Map<string, number>) {
    this.consumer = kafka.consumer({
      groupId,
      sessionTimeout: 6000,
      heartbeatInterval: 500,
      rebalanceTimeout: 15_000,
      maxWaitTimeInMs: 200,
      retry: { retries: 10, initialRetryTime: 100 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const a = e.payload.memberAssignment as Record<string, number[]>;
      this.assignment = Object.values(a).flat().sort((x, y) => x - y);
    });
  }

  async start(topic: string): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ partition, message }) => {
        this.partitionsSeen.add(partition);
        const k = `${partition}:${message.offset}:${message.key}=${message.value}`;
        this.consumed.set(k, (this.consumed.get(k) ?? 0) + 1);
        return Promise.resolve();
      },
    });
  }
}

/** Committed offsets of a group and the high watermarks of a topic, by partition. */
async function committedAndHigh(kafka: Kafka, groupId: string, topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const c = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0];
    const h = await admin.fetchTopicOffsets(topic);
    const committed = c.partitions.sort((a, b) => a.partition - b.partition).map((p) =>
      Number(p.offset)
    );
    const high = h.sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
    return { committed, high };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

Deno.test(
  "workers=3, kafkajs group: three members, six partitions, each record once; commits survive a restart",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-workers-group-" });
    const args = ["--workers", String(WORKERS), ...GROUP_SETTINGS];
    let b = await BrokerProcess.start(dataDir, args);
    const members: Member[] = [];
    const topic = "six-group";
    const groupId = "g-workers";
    const n = 600;
    try {
      assertSpansWorkers(topic, [0, 1, 2, 3, 4, 5]);
      let kafka = client(b.address);
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
      await admin.disconnect();

      const consumed = new Map<string, number>();
      for (let i = 0; i < 3; i++) {
        members.push(new Member(client(b.address, `member-${i}`), groupId, consumed));
      }
      await Promise.all(members.map((m) => m.start(topic)));
      await waitFor("three members with two partitions each", () => {
        const all = members.flatMap((m) => m.assignment).sort((x, y) => x - y);
        return members.every((m) => m.assignment.length === 2) &&
          all.every((p, i) => p === i) && all.length === 6;
      });

      // Produced after the group settled: no rebalance in the middle, so exactly once.
      const expected: string[] = [];
      const producer = kafka.producer();
      await producer.connect();
      const messages = [];
      const next = [0, 0, 0, 0, 0, 0];
      for (let i = 0; i < n; i++) {
        const p = i % 6;
        messages.push({ partition: p, key: `k${i}`, value: `v${i}` });
        expected.push(`${p}:${next[p]++}:k${i}=v${i}`);
      }
      await producer.send({ topic, messages });

      const committedToHigh = async () => {
        const { committed, high } = await committedAndHigh(kafka, groupId, topic);
        return committed.length === 6 && committed.every((c, i) => c === high[i]);
      };
      await waitFor(`${n} records consumed`, () => consumed.size === n);
      await waitFor("committed offsets to reach the high watermarks", committedToHigh);
      // One sentinel per partition after everything was committed: a duplicate delivery of
      // an earlier record would arrive before its partition's sentinel.
      await producer.send({ topic, messages: sentinels("end") });
      await producer.disconnect();
      for (let p = 0; p < 6; p++) expected.push(`${p}:${next[p]++}:end${p}=end`);
      await waitFor("the sentinels", () => consumed.size === n + 6);
      await waitFor("committed offsets to reach the sentinels", committedToHigh);
      assert.deepEqual([...consumed.keys()].sort(), [...expected].sort());
      for (const [k, count] of consumed) assert.equal(count, 1, `${k} consumed ${count} times`);
      for (const m of members) {
        for (const p of m.partitionsSeen) {
          assert.ok(m.assignment.includes(p), `partition ${p} read outside ${m.assignment}`);
        }
      }
      const before = await committedAndHigh(kafka, groupId, topic);
      assert.deepEqual(before.high, [101, 101, 101, 101, 101, 101]);
      assert.deepEqual(before.committed, before.high);

      await Promise.all(members.splice(0).map((m) => m.consumer.disconnect()));
      assert.equal(await b.kill("SIGTERM"), 0, b.lines.join("\n"));

      // Same data directory: offsets and records are all still there.
      b = await BrokerProcess.start(dataDir, args);
      kafka = client(b.address);
      const after = await committedAndHigh(kafka, groupId, topic);
      assert.deepEqual(after, before);
      const whole = await kcatRead(b.address, topic, null, "%p:%o:%k=%s\n");
      assert.deepEqual(whole.sort(), [...expected].sort());

      // A member of the same group starts at the committed offsets: only the new records.
      const fresh = new Map<string, number>();
      const late = new Member(client(b.address, "member-late"), groupId, fresh);
      members.push(late);
      await late.start(topic);
      await waitFor("the late member's assignment", () => late.assignment.length === 6);
      const p2 = kafka.producer();
      await p2.connect();
      await p2.send({
        topic,
        messages: [0, 1, 2, 3, 4, 5].map((p) => ({ partition: p, key: `new${p}`, value: `n${p}` })),
      });
      await waitFor("six new records", () => fresh.size === 6);
      // Anything else delivered (an older record) would arrive before these sentinels.
      await p2.send({ topic, messages: sentinels("late") });
      await p2.disconnect();
      await waitFor("the late sentinels", () => fresh.size >= 12);
      assert.deepEqual(
        [...fresh.keys()].sort(),
        [
          ...[0, 1, 2, 3, 4, 5].map((p) => `${p}:101:new${p}=n${p}`),
          ...[0, 1, 2, 3, 4, 5].map((p) => `${p}:102:late${p}=late`),
        ].sort(),
      );
    } finally {
      await Promise.all(members.map((m) => m.consumer.disconnect().catch(() => {})));
      await b.kill("SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

// ---- 3. transactions across workers ------------------------------------------------------

Deno.test(
  "workers=3, kafkajs transactions over partitions of three workers: read_committed exact",
  async () => {
    await withBroker("txn", [], async (b) => {
      const topic = "txn-workers";
      assertSpansWorkers(topic, [0, 1, 2]);
      const kafka = client(b.address);
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
      await admin.disconnect();
      const txp = kafka.producer({
        transactionalId: "tx-workers",
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await txp.connect();
      try {
        const rounds: [string, boolean][] = [["c1", true], ["a2", false], ["c3", true]];
        for (const [tag, commit] of rounds) {
          const txn = await txp.transaction();
          const messages = [];
          for (let p = 0; p < 3; p++) {
            for (let i = 0; i < 3; i++) {
              messages.push({ partition: p, key: `${tag}-k${i}`, value: `${tag}-${p}-${i}` });
            }
          }
          await txn.send({ topic, messages });
          if (commit) await txn.commit();
          else await txn.abort();
        }
      } finally {
        await txp.disconnect().catch(() => {});
      }
      // Per partition: c1 at 0..2, marker 3, a2 at 4..6, marker 7, c3 at 8..10, marker 11.
      for (let p = 0; p < 3; p++) {
        const committed = await kcatRead(b.address, topic, p, "%o %s\n", [
          "-X",
          "isolation.level=read_committed",
        ]);
        assert.deepEqual(committed, [
          `0 c1-${p}-0`,
          `1 c1-${p}-1`,
          `2 c1-${p}-2`,
          `8 c3-${p}-0`,
          `9 c3-${p}-1`,
          `10 c3-${p}-2`,
        ], `read_committed partition ${p} (worker ${ownerOf(topic, p, WORKERS)})`);
        const all = await kcatRead(b.address, topic, p, "%o %s\n", [
          "-X",
          "isolation.level=read_uncommitted",
        ]);
        assert.deepEqual(all, [
          `0 c1-${p}-0`,
          `1 c1-${p}-1`,
          `2 c1-${p}-2`,
          `4 a2-${p}-0`,
          `5 a2-${p}-1`,
          `6 a2-${p}-2`,
          `8 c3-${p}-0`,
          `9 c3-${p}-1`,
          `10 c3-${p}-2`,
        ], `read_uncommitted partition ${p}`);
      }
      // High watermark and last stable offset: after the last marker on every partition.
      assert.deepEqual(await kcatOffsets(b.address, topic, 3, -1), [12, 12, 12]);
      assert.deepEqual(
        await kcatOffsets(b.address, topic, 3, -1, ["-X", "isolation.level=read_committed"]),
        [12, 12, 12],
      );
    });
  },
);

// ---- 4. long poll across workers ---------------------------------------------------------

Deno.test(
  "workers=3, kafkajs long poll (maxWait 5 s) is woken by appends on every worker's partition",
  async () => {
    await withBroker("poll", GROUP_SETTINGS, async (b) => {
      const topic = "poll-workers";
      assertSpansWorkers(topic, [0, 1, 2]);
      const kafka = client(b.address);
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
      await admin.disconnect();
      const received = new Map<string, number>();
      // One consumer: one connection (served by one worker) fetching all three partitions,
      // two of which are owned by other workers. A fetch that delivers a record before its
      // maxWait ran out was woken by the append (the bound is that, not a speed target).
      const MAX_WAIT = 5000;
      const consumer = kafka.consumer({
        groupId: "g-poll",
        maxWaitTimeInMs: MAX_WAIT,
        sessionTimeout: 10_000,
        heartbeatInterval: 1000,
      });
      const producer = kafka.producer();
      try {
        // kafkajs reports each fetch's duration before handing its records over.
        let lastFetchMs = 0;
        const fetchMs = new Map<string, number>();
        consumer.on(consumer.events.FETCH, (e) => lastFetchMs = e.payload.duration);
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: ({ message }) => {
            received.set(String(message.value), Date.now());
            fetchMs.set(String(message.value), lastFetchMs);
            return Promise.resolve();
          },
        });
        await producer.connect();
        await producer.send({
          topic,
          messages: [0, 1, 2].map((p) => ({ partition: p, value: `warm-${p}` })),
        });
        await waitFor("the warm-up records", () => received.size === 3);
        const latencies: number[] = [];
        for (let p = 0; p < 3; p++) {
          await sleep(800); // the consumer is now parked in a Fetch
          const t0 = Date.now();
          await producer.send({ topic, messages: [{ partition: p, value: `late-${p}` }] });
          await waitFor(`late-${p}`, () => received.has(`late-${p}`), 15_000);
          latencies.push(received.get(`late-${p}`)! - t0);
        }
        for (let p = 0; p < 3; p++) {
          const took = fetchMs.get(`late-${p}`)!;
          assert.ok(took > 0, "the fetch's duration is reported");
          assert.ok(
            took < MAX_WAIT,
            `partition ${p} (worker ${ownerOf(topic, p, WORKERS)}) came in a fetch of ` +
              `${took} ms, one that ran out its maxWait (arrived after ${latencies[p]} ms)`,
          );
        }
      } finally {
        await producer.disconnect().catch(() => {});
        await consumer.disconnect().catch(() => {});
      }
    });
  },
);

// ---- confluent-kafka-python: idempotent producer over six partitions -----------------------

const PY_IDEMPOTENT = `
import json, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

addr, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
admin = AdminClient({"bootstrap.servers": addr})
for f in admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)]).values():
    f.result(20)

acks, errors = [], []
def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        acks.append([msg.partition(), msg.offset(), msg.key().decode(), msg.value().decode()])

p = Producer({"bootstrap.servers": addr, "enable.idempotence": True, "acks": "all",
              "linger.ms": 5, "batch.num.messages": 200})
for i in range(n):
    while True:
        try:
            p.produce(topic, key="key-%d" % i, value="val-%d-%s" % (i, "y" * (i % 29)),
                      partition=i % 6, on_delivery=on_delivery)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
left = p.flush(60)

c = Consumer({"bootstrap.servers": addr, "group.id": "unused-group",
              "enable.auto.commit": False, "enable.partition.eof": True,
              "auto.offset.reset": "earliest"})
c.assign([TopicPartition(topic, q, 0) for q in range(6)])
got, eof, consume_errors = [], set(), []
deadline = time.time() + 60
while len(eof) < 6 and time.time() < deadline:
    for m in c.consume(1000, 0.5):
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                eof.add(m.partition())
            else:
                consume_errors.append(str(m.error()))
            continue
        got.append([m.partition(), m.offset(), m.key().decode(), m.value().decode()])
c.close()
print(json.dumps({"left": left, "acks": acks, "errors": errors, "got": got,
                  "eof": sorted(eof), "consumeErrors": consume_errors}))
`;

Deno.test(
  "workers=3, confluent-kafka: idempotent acks=all producer, 5000 records over six partitions",
  async () => {
    await withBroker("py", [], async (b) => {
      const topic = "six-python";
      assertSpansWorkers(topic, [0, 1, 2, 3, 4, 5]);
      const n = 5000;
      const out = JSON.parse(await python(PY_IDEMPOTENT, [b.address, topic, String(n)], 120_000));
      assert.equal(out.left, 0);
      assert.deepEqual(out.errors, []);
      assert.deepEqual(out.consumeErrors, []);
      assert.deepEqual(out.eof, [0, 1, 2, 3, 4, 5]);
      type Rec = [number, number, string, string];
      // Record i went to partition i % 6 at offset floor(i / 6), in send order.
      const want: Rec[] = Array.from(
        { length: n },
        (_, i) => [i % 6, Math.floor(i / 6), `key-${i}`, `val-${i}-${"y".repeat(i % 29)}`],
      );
      const sortRecs = (rs: Rec[]) => [...rs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      assert.equal(out.acks.length, n);
      assert.deepEqual(sortRecs(out.acks), sortRecs(want));
      assert.equal(out.got.length, n);
      assert.deepEqual(sortRecs(out.got), sortRecs(want));
      assert.deepEqual(
        await kcatOffsets(b.address, topic, 6, -1),
        [0, 1, 2, 3, 4, 5].map((p) => want.filter((r) => r[0] === p).length),
      );
    });
  },
);
