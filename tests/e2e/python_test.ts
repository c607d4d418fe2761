/**
 * End to end with the Python clients of Debian's python3: confluent-kafka (librdkafka) with
 * an idempotent acks=all producer and an assign()-based consumer, and kafka-python's
 * producer, group-less consumer and admin client. Python reports what it saw as JSON on
 * stdout; the assertions are made here.
 */
import assert from "node:assert/strict";
import { forEachBatch } from "../../protocol/record_batch.ts";
import { python, testBroker } from "../support/helpers.ts";

/** [partition, offset, key, value] as both clients report records. */
type Rec = [number, number, string, string];

const CONFLUENT_PRODUCE_CONSUME = `
import json, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

addr, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
admin = AdminClient({"bootstrap.servers": addr})
for f in admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)]).values():
    f.result(10)

acks, errors = [], []
def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        acks.append([msg.partition(), msg.offset(), msg.key().decode(), msg.value().decode()])

p = Producer({"bootstrap.servers": addr, "enable.idempotence": True, "acks": "all",
              "linger.ms": 5, "batch.num.messages": 500})
sent = []
for i in range(n):
    key, value = "key-%d" % (i % 97), "value-%d-%s" % (i, "x" * (i % 37))
    sent.append([key, value])
    while True:
        try:
            p.produce(topic, key=key, value=value, on_delivery=on_delivery)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
left = p.flush(30)

c = Consumer({"bootstrap.servers": addr, "group.id": "unused-group",
              "enable.auto.commit": False, "enable.partition.eof": True})
c.assign([TopicPartition(topic, 0, 0), TopicPartition(topic, 1, 0)])
got, eof, consume_errors = [], set(), []
deadline = time.time() + 30
while len(eof) < 2 and time.time() < deadline:
    for m in c.consume(1000, 0.5):
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                eof.add(m.partition())
            else:
                consume_errors.append(str(m.error()))
            continue
        got.append([m.partition(), m.offset(), m.key().decode(), m.value().decode()])
c.close()
print(json.dumps({"left": left, "sent": sent, "acks": acks, "errors": errors,
                  "got": got, "eof": sorted(eof), "consumeErrors": consume_errors}))
`;

Deno.test(
  "confluent-kafka: idempotent acks=all producer, 10,000 records, assign() consumer",
  async () => {
    const b = await testBroker();
    try {
      const n = 10_000;
      const out = JSON.parse(
        await python(CONFLUENT_PRODUCE_CONSUME, [b.address, "py2", String(n)], 90_000),
      );
      assert.equal(out.left, 0);
      assert.deepEqual(out.errors, []);
      assert.equal(out.acks.length, n);
      const acks = out.acks as Rec[];
      const sent = out.sent as [string, string][];

      // Delivery reports: every record once; per partition the offsets are 0..k-1 in send order
      // (idempotence keeps order); a key always lands on the same partition.
      const sentOrder = new Map(sent.map(([k, v], i) => [`${k}\u0000${v}`, i]));
      const byPartition: Rec[][] = [[], []];
      const keyPartition = new Map<string, number>();
      for (const a of acks) {
        byPartition[a[0]].push(a);
        const kp = keyPartition.get(a[2]);
        if (kp !== undefined) assert.equal(a[0], kp, `key ${a[2]} on two partitions`);
        keyPartition.set(a[2], a[0]);
      }
      assert.ok(byPartition[0].length > 0 && byPartition[1].length > 0, "both partitions used");
      for (const part of byPartition) {
        part.sort((x, y) => x[1] - y[1]);
        part.forEach((a, i) => assert.equal(a[1], i, `partition ${a[0]} offset`));
        const order = part.map((a) => sentOrder.get(`${a[2]}\u0000${a[3]}`)!);
        for (let i = 1; i < order.length; i++) {
          assert.ok(
            order[i] > order[i - 1],
            "send order kept",
          );
        }
      }
      assert.equal(new Set(acks.map((a) => `${a[2]}\u0000${a[3]}`)).size, n);

      // The consumer read exactly what was acknowledged, at the acknowledged offsets.
      assert.deepEqual(out.consumeErrors, []);
      assert.deepEqual(out.eof, [0, 1]);
      const got = (out.got as Rec[]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      assert.deepEqual(got, [...byPartition[0], ...byPartition[1]]);

      // The broker agrees, and the stored batches carry one producer id with contiguous
      // sequences.
      for (const p of [0, 1]) {
        const log = b.broker.partition("py2", p)!;
        assert.equal(log.highWatermark, byPartition[p].length);
        const seg = await Deno.readFile(`${b.dataDir}/py2-${p}/00000000000000000000.log`);
        let nextOffset = 0;
        const pids = new Set<number>();
        const end = forEachBatch(seg, (_pos, h) => {
          assert.equal(h.baseOffset, nextOffset);
          assert.equal(h.baseSequence, nextOffset, "sequence = offset for a single session");
          pids.add(h.producerId);
          nextOffset += h.recordCount;
        });
        assert.equal(end, seg.length);
        assert.equal(nextOffset, byPartition[p].length);
        assert.equal(pids.size, 1);
        assert.ok([...pids][0] >= 0);
      }
    } finally {
      await b.stop();
    }
  },
);

const KAFKA_PYTHON = `
import json, sys
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

addr, topic = sys.argv[1], sys.argv[2]
result = {}
admin = KafkaAdminClient(bootstrap_servers=addr, request_timeout_ms=10000)
r = admin.create_topics([NewTopic(topic, 3, 1, topic_configs={"retention.ms": "86400000"}),
                         NewTopic(topic + "-tmp", 1, 1)])
result["create"] = [[t[0], t[1]] for t in r.topic_errors]
try:
    admin.create_topics([NewTopic(topic, 3, 1)])
    result["createAgain"] = "no error"
except TopicAlreadyExistsError as e:
    result["createAgain"] = [type(e).__name__, e.errno]
result["topicsAfterCreate"] = sorted(admin.list_topics())

p = KafkaProducer(bootstrap_servers=addr, acks="all", linger_ms=5)
futures = [p.send(topic, key=("k%d" % i).encode(), value=("v%d-%s" % (i, "y" * (i % 11))).encode(),
                  partition=i % 3, headers=[("n", str(i).encode())]) for i in range(300)]
p.flush(10)
result["sent"] = [[f.get(10).partition, f.get(10).offset] for f in futures]
p.close(5)

c = KafkaConsumer(bootstrap_servers=addr, group_id=None, enable_auto_commit=False,
                  consumer_timeout_ms=3000)
tps = [TopicPartition(topic, i) for i in range(3)]
c.assign(tps)
c.seek_to_beginning()
got = []
for m in c:
    got.append([m.partition, m.offset, m.key.decode(), m.value.decode(),
                [[k, v.decode()] for k, v in m.headers]])
    if len(got) == 300:
        break
result["got"] = got
result["beginning"] = sorted([tp.partition, o] for tp, o in c.beginning_offsets(tps).items())
result["end"] = sorted([tp.partition, o] for tp, o in c.end_offsets(tps).items())
c.close()

r = admin.delete_topics([topic + "-tmp"])
result["delete"] = [[t[0], t[1]] for t in r.topic_error_codes]
result["topicsAfterDelete"] = sorted(admin.list_topics())
admin.close()
print(json.dumps(result))
`;

Deno.test(
  "kafka-python: producer, group-less consumer with seek_to_beginning, admin",
  async () => {
    const b = await testBroker();
    try {
      const out = JSON.parse(await python(KAFKA_PYTHON, [b.address, "kpy"], 60_000));
      assert.deepEqual(out.create, [["kpy", 0], ["kpy-tmp", 0]]);
      assert.deepEqual(out.createAgain, ["TopicAlreadyExistsError", 36]);
      assert.deepEqual(out.topicsAfterCreate, ["kpy", "kpy-tmp"]);
      assert.deepEqual(b.broker.topic("kpy")!.configs, { "retention.ms": 86400000 });
      assert.equal(b.broker.topic("kpy")!.partitions, 3);

      // Record i went to partition i % 3 at offset floor(i / 3).
      assert.deepEqual(out.sent, Array.from({ length: 300 }, (_, i) => [i % 3, Math.floor(i / 3)]));
      // Sorted by (partition, offset): partition p offset o holds record i = 3 * o + p.
      const expected = [];
      for (let p = 0; p < 3; p++) {
        for (let o = 0; o < 100; o++) {
          const i = 3 * o + p;
          expected.push([p, o, `k${i}`, `v${i}-${"y".repeat(i % 11)}`, [["n", String(i)]]]);
        }
      }
      const got = out.got as [number, number][];
      assert.deepEqual(got.sort((x, y) => x[0] - y[0] || x[1] - y[1]), expected);
      assert.deepEqual(out.beginning, [[0, 0], [1, 0], [2, 0]]);
      assert.deepEqual(out.end, [[0, 100], [1, 100], [2, 100]]);

      assert.deepEqual(out.delete, [["kpy-tmp", 0]]);
      assert.deepEqual(out.topicsAfterDelete, ["kpy"]);
      assert.equal(b.broker.topic("kpy-tmp"), undefined);
    } finally {
      await b.stop();
    }
  },
);
