/**
 * Consumer groups with confluent-kafka-python (librdkafka): a subscribed consumer consumes and
 * commits synchronously; after a broker restart `committed()` returns exactly those offsets
 * and the next consumer of the group continues from them, losing nothing.
 */
import assert from "node:assert/strict";
import { kcat, python, testBroker } from "../support/helpers.ts";

const GROUP_CONFIG = {
  "group.initial.rebalance.delay.ms": 0,
  "group.min.session.timeout.ms": 1000,
};

/** Consumes up to `want` records (0: none), commits synchronously, prints JSON. */
const CONSUME = `
import json, sys, time
from confluent_kafka import Consumer, TopicPartition
address, topic, group, want, partitions = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
c = Consumer({
    "bootstrap.servers": address, "group.id": group, "auto.offset.reset": "earliest",
    "enable.auto.commit": False, "session.timeout.ms": 6000,
})
tps = [TopicPartition(topic, p) for p in range(partitions)]
before = [tp.offset for tp in c.committed(tps, timeout=10)]
seen = []
if want > 0:
    c.subscribe([topic])
    deadline = time.time() + 30
    while len(seen) < want and time.time() < deadline:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        seen.append(m.key().decode() + "=" + m.value().decode())
    c.commit(asynchronous=False)
after = [tp.offset for tp in c.committed(tps, timeout=10)]
c.close()
print(json.dumps({"before": before, "seen": seen, "after": after}))
`;

interface Result {
  before: number[];
  seen: string[];
  after: number[];
}

async function consume(address: string, group: string, want: number): Promise<Result> {
  return JSON.parse(await python(CONSUME, [address, "py", group, String(want), "3"], 60_000));
}

Deno.test(
  "confluent-kafka-python: commits survive a broker restart; committed() agrees",
  async () => {
    let b = await testBroker({ config: GROUP_CONFIG, keepDir: true });
    const dataDir = b.dataDir;
    try {
      await b.broker.createTopic("py", 3);
      for (let p = 0; p < 3; p++) {
        const lines = Array.from({ length: 30 }, (_, i) => `k${p}-${i}=v${p}-${i}`);
        await kcat(b.address, ["-P", "-t", "py", "-p", String(p), "-K", "="], {
          stdin: lines.join("\n") + "\n",
        });
      }
      const first = await consume(b.address, "g-py", 60);
      assert.equal(first.seen.length, 60);
      assert.deepEqual(
        first.before,
        [-1001, -1001, -1001],
        "nothing committed yet (librdkafka's INVALID)",
      );
      // Each partition is read in order from 0, so its committed offset is how many were read
      // from it (librdkafka reports -1001 for a partition it committed nothing for).
      const read = [0, 1, 2].map((p) => first.seen.filter((r) => r.startsWith(`k${p}-`)).length);
      assert.deepEqual(first.after, read.map((n) => n === 0 ? -1001 : n));
      const fromBroker = b.broker.groups.fetchOffsets("g-py", null).topics[0].partitions;
      assert.deepEqual(
        fromBroker.map((p) => [p.partitionIndex, p.committedOffset]),
        read.flatMap((n, p) => n === 0 ? [] : [[p, n]]),
      );

      await b.close();
      b = await testBroker({ config: GROUP_CONFIG, dataDir, keepDir: true });
      const check = await consume(b.address, "g-py", 0);
      assert.deepEqual(check.before, first.after, "committed() after the restart");

      const rest = await consume(b.address, "g-py", 30);
      assert.deepEqual(rest.before, first.after);
      assert.equal(rest.seen.length, 30);
      const all = [...first.seen, ...rest.seen].sort();
      assert.equal(new Set(all).size, 90, "nothing read twice");
      const want = [];
      for (let p = 0; p < 3; p++) for (let i = 0; i < 30; i++) want.push(`k${p}-${i}=v${p}-${i}`);
      assert.deepEqual(all, want.sort(), "nothing lost");
      assert.deepEqual(rest.after, [30, 30, 30]);
    } finally {
      await b.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
