/**
 * The broker on three Deno workers (`--workers 3`), as a child process, driven by real
 * clients: kcat (librdkafka), kafkajs 2.2.4 and confluent-kafka-python. Partitions of one
 * topic are owned by different workers and connections land on whichever worker the kernel
 * picks, so every test crosses workers: produce, fetch and ListOffsets on the owners, group
 * and transaction coordination forwarded to worker 0, the Fetch long poll woken by an append
 * on another worker, a worker that dies and is restarted by the supervisor, the admin API and
 * /metrics summed over workers, and topic deletion, re-creation and config changes.
 */
// npm packages are imported by npm: specifier (the project keeps no import map).
// deno-lint-ignore-file no-import-prefix
import assert from "node:assert/strict";
import { ConfigResourceTypes, type Consumer, Kafka, logLevel } from "npm:kafkajs@2.2.4";
import { ownerOf } from "../src/workers/ownership.ts";
import { BrokerProcess, decoder, kcat, LineProcess, python } from "./helpers.ts";
import { waitFor } from "./wait.ts";

const WORKERS = 3;
const GROUP_SETTINGS = [
  "--set",
  "group.initial.rebalance.delay.ms=0",
  "--set",
  "group.min.session.timeout.ms=1000",
];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One record per partition of a six-partition topic, keyed `${tag}${partition}`. */
function sentinels(tag: string) {
  return [0, 1, 2, 3, 4, 5].map((p) => ({ partition: p, key: `${tag}${p}`, value: tag }));
}

/** Starts `--workers 3` on a fresh data directory, runs `fn`, then kills it and cleans up. */
async function withBroker(
  prefix: string,
  extra: string[],
  fn: (b: BrokerProcess) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: `tributary-workers-${prefix}-` });
  try {
    const b = await BrokerProcess.start(dataDir, ["--workers", String(WORKERS), ...extra], env);
    try {
      assert.ok(
        b.lines.some((l) => l.includes(`${WORKERS} workers`)),
        `not on ${WORKERS} workers: ${b.lines.join("\n")}`,
      );
      await fn(b);
    } finally {
      await b.kill("SIGKILL");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

function client(address: string, clientId = "workers-test"): Kafka {
  return new Kafka({
    clientId,
    brokers: [address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
    connectionTimeout: 5000,
    requestTimeout: 30_000,
  });
}

/** Which worker owns each partition of `topic` (partitions 0..n-1). */
function owners(topic: string, n: number): number[] {
  return Array.from({ length: n }, (_, p) => ownerOf(topic, p, WORKERS));
}

/** Asserts that partitions `parts` of `topic` are owned by every worker. */
function assertSpansWorkers(topic: string, parts: number[]): void {
  const o = new Set(parts.map((p) => ownerOf(topic, p, WORKERS)));
  assert.equal(o.size, WORKERS, `${topic} partitions ${parts} are owned by workers ${[...o]}`);
}

/** Produces `key\tvalue` lines to one partition with kcat, acks=all. */
async function kcatProduce(
  address: string,
  topic: string,
  partition: number,
  records: [string, string][],
  extra: string[] = [],
): Promise<void> {
  await kcat(address, [
    "-P",
    "-t",
    topic,
    "-p",
    String(partition),
    "-K",
    "\t",
    "-X",
    "acks=all",
    "-X",
    "linger.ms=5",
    ...extra,
  ], { stdin: records.map(([k, v]) => `${k}\t${v}`).join("\n") + "\n", timeoutMs: 60_000 });
}

/** Every record of one partition (or of the whole topic when `partition` is null) as lines. */
async function kcatRead(
  address: string,
  topic: string,
  partition: number | null,
  format: string,
  extra: string[] = [],
): Promise<string[]> {
  const out = await kcat(address, [
    "-C",
    "-t",
    topic,
    ...(partition === null ? [] : ["-p", String(partition)]),
    "-o",
    "beginning",
    "-e",
    "-q",
    "-f",
    format,
    ...extra,
  ], { timeoutMs: 60_000 });
  return decoder.decode(out).split("\n").filter((l) => l !== "");
}

/** kcat -Q: the offset of `timestamp` (-1 latest, -2 earliest) for partitions 0..n-1. */
async function kcatOffsets(
  address: string,
  topic: string,
  n: number,
  timestamp: number,
  extra: string[] = [],
): Promise<number[]> {
  const args = ["-Q", ...extra];
  for (let p = 0; p < n; p++) args.push("-t", `${topic}:${p}:${timestamp}`);
  const out = decoder.decode(await kcat(address, args, { timeoutMs: 30_000 }));
  const got: number[] = Array(n).fill(NaN);
  for (const line of out.split("\n")) {
    const m = /^(\S+) \[(\d+)\] offset (-?\d+)$/.exec(line.trim());
    if (m && m[1] === topic) got[Number(m[2])] = Number(m[3]);
  }
  return got;
}

/** Waits for a log line matching `re` and returns it. */
async function logged(b: BrokerProcess, re: RegExp, ms = 30_000): Promise<string> {
  let found: string | undefined;
  await waitFor(`log line ${re}`, () => {
    found = b.lines.find((l) => re.test(l));
    return found !== undefined;
  }, ms).catch((e) => {
    throw new Error(`${e.message}; log:\n${b.lines.join("\n")}`);
  });
  return found!;
}

/** Whether the child process is still running. */
async function alive(b: BrokerProcess): Promise<boolean> {
  const r = await Promise.race([b.child.status.then(() => false), sleep(200).then(() => true)]);
  return r;
}

// ---- 1. kcat: six partitions on three workers -------------------------------------------

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

// ---- 5. a worker dies and is restarted ---------------------------------------------------

const STREAM = `
import sys, time
from confluent_kafka import Producer

addr, topic, seconds, parts = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
p = Producer({"bootstrap.servers": addr, "acks": "all", "enable.idempotence": True,
              "linger.ms": 2, "message.timeout.ms": 60000, "retry.backoff.ms": 10,
              "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500})
out = sys.stdout
def on_delivery(err, msg):
    if err is None:
        out.write("A %d %d %s\\n" % (msg.partition(), msg.offset(), msg.value().decode()))
    else:
        out.write("E %d %s %s\\n" % (msg.partition(), msg.value().decode(), err))

out.write("STARTED\\n")
out.flush()
i = 0
end = time.time() + seconds
while time.time() < end:
    try:
        p.produce(topic, value="s-%d" % i, partition=i % parts, on_delivery=on_delivery)
        i += 1
    except BufferError:
        p.poll(0.01)
        continue
    p.poll(0)
    if i % 20 == 0:
        out.flush()
        time.sleep(0.02)
left = p.flush(60)
out.write("DONE %d %d\\n" % (i, left))
out.flush()
`;

Deno.test(
  "workers=3: the last worker dies mid-stream and is restarted; no acknowledged record lost",
  async () => {
    await withBroker("crash", ["--set", "num.partitions=6"], async (b) => {
      const topic = "six-crash";
      const parts = 6;
      const own = owners(topic, parts);
      const onLast = own.filter((o) => o === WORKERS - 1).length;
      assert.equal(onLast, 2);
      // Phase 1: acknowledged records on every partition.
      const pre = Array.from(
        { length: parts },
        (_, p) =>
          Array.from({ length: 100 }, (_, i): [string, string] => [`pk${i}`, `pre-${p}-${i}`]),
      );
      await kcatProduce(b.address, topic, 0, pre[0]);
      await Promise.all([1, 2, 3, 4, 5].map((p) => kcatProduce(b.address, topic, p, pre[p])));

      // Phase 2: an idempotent acks=all stream over all partitions; the last worker dies in it.
      const stream = new LineProcess(
        "/usr/bin/python3",
        ["-c", STREAM, b.address, topic, "7", String(parts)],
        120_000,
      );
      const acked: { p: number; o: number; v: string }[] = [];
      const failed: string[] = [];
      let done: string | null = null;
      const reading = (async () => {
        while (true) {
          const line = await stream.nextLine(90_000);
          if (line === null) break;
          if (line.startsWith("A ")) {
            const [, p, o, v] = line.split(" ");
            acked.push({ p: Number(p), o: Number(o), v });
          } else if (line.startsWith("E ")) failed.push(line);
          else if (line.startsWith("DONE ")) done = line;
        }
      })();
      try {
        await waitFor("records acknowledged before the crash", () => acked.length >= 300, 30_000);
        const atCrash = acked.length;
        b.child.kill("SIGUSR2");
        await logged(b, new RegExp(`worker ${WORKERS - 1} died .*; restarting it`));
        const restarted = await logged(b, new RegExp(`worker ${WORKERS - 1} restarted: \\d+`));
        assert.match(restarted, new RegExp(`restarted: ${onLast} partition\\(s\\) recovered`));
        await reading;
        const status = await stream.status;
        assert.equal(status.code, 0, await stream.stderr);
        assert.ok(done !== null, "the stream did not finish");
        const [, sent, left] = (done as string).split(" ").map(Number);
        assert.equal(left, 0);
        assert.equal(acked.length + failed.length, sent);
        assert.ok(acked.length > atCrash, `${acked.length} acked, ${atCrash} before the crash`);
      } finally {
        await stream.closeStdin();
        await reading.catch(() => {});
      }

      // Phase 3: more records after the restart.
      const post = Array.from(
        { length: parts },
        (_, p) =>
          Array.from({ length: 20 }, (_, i): [string, string] => [`qk${i}`, `post-${p}-${i}`]),
      );
      await Promise.all(post.map((recs, p) => kcatProduce(b.address, topic, p, recs)));

      // Everything reads back: phase 1, then the stream in send order (idempotence: no
      // duplicates, no gaps), then phase 3; each acknowledged record at its acknowledged offset.
      for (let p = 0; p < parts; p++) {
        const got = await kcatRead(b.address, topic, p, "%o %s\n");
        const streamed = acked.filter((a) => a.p === p).sort((x, y) => x.o - y.o);
        const want = [
          ...pre[p].map(([, v]) => v),
          ...streamed.map((a) => a.v),
          ...post[p].map(([, v]) => v),
        ].map((v, i) => `${i} ${v}`);
        assert.deepEqual(got, want, `partition ${p} (worker ${own[p]})`);
        for (const a of streamed) assert.equal(got[a.o], `${a.o} ${a.v}`);
        const order = streamed.map((a) => Number(a.v.slice(2)));
        for (let i = 1; i < order.length; i++) assert.ok(order[i] > order[i - 1], "send order");
      }
      assert.ok(await alive(b), "the broker process exited");
      // The crash is invisible to the producer: librdkafka retries NOT_LEADER_OR_FOLLOWER and
      // connection losses, so no record may fail (a non-retriable error code would fail it).
      assert.deepEqual(failed, [], b.lines.filter((l) => /WARN|ERROR/.test(l)).join("\n"));
    }, { TRIBUTARY_TEST_HOOKS: "1" });
  },
);

// ---- 6. admin API --------------------------------------------------------------------------

async function adminUrl(b: BrokerProcess): Promise<string> {
  const line = await logged(b, /admin API and console on http:\/\/[^:]+:\d+\//);
  const m = /admin API and console on (http:\/\/[^:]+:\d+)\//.exec(line)!;
  return m[1];
}

async function getJson(url: string): Promise<any> {
  const r = await fetch(url);
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return await r.json();
}

Deno.test(
  "workers=3, admin API: partition offsets from every worker, records in summed in /metrics",
  async () => {
    await withBroker("admin", ["--admin-port", "0", "--set", "num.partitions=6"], async (b) => {
      const topic = "six-admin";
      assertSpansWorkers(topic, [0, 1, 2, 3, 4, 5]);
      const base = await adminUrl(b);
      const counts = [5, 12, 19, 26, 33, 40];
      const records = counts.map((n, p) =>
        Array.from({ length: n }, (_, i): [string, string] => [`k${i}`, `a${p}-${i}`])
      );
      await kcatProduce(b.address, topic, 0, records[0]);
      await Promise.all([1, 2, 3, 4, 5].map((p) => kcatProduce(b.address, topic, p, records[p])));

      const detail = await getJson(`${base}/v1/topics/${topic}`);
      assert.equal(detail.name, topic);
      assert.equal(detail.partitions.length, 6);
      for (const part of detail.partitions) {
        const p = part.partition;
        assert.equal(part.highWatermark, counts[p], `partition ${p} highWatermark`);
        assert.equal(part.logEndOffset, counts[p]);
        assert.equal(part.lastStableOffset, counts[p]);
        assert.equal(part.logStartOffset, 0);
        assert.ok(part.sizeBytes > 0);
      }
      // The record peek runs on each partition's owner.
      for (let p = 0; p < 6; p++) {
        const peek = await getJson(`${base}/v1/topics/${topic}/partitions/${p}/records?limit=1000`);
        assert.deepEqual(
          peek.records.map((r: { offset: number; key: string; value: string }) =>
            `${r.offset} ${r.key} ${r.value}`
          ),
          records[p].map(([k, v], i) => `${i} ${k} ${v}`),
        );
      }

      const r = await fetch(`${base}/metrics`);
      assert.equal(r.status, 200);
      const text = await r.text();
      const total = counts.reduce((a, n) => a + n, 0);
      assert.ok(
        text.split("\n").includes(`tributary_topic_records_in_total{topic="${topic}"} ${total}`),
        text.split("\n").filter((l) => l.startsWith("tributary_topic_records_in_total")).join(
          "\n",
        ),
      );
      for (let p = 0; p < 6; p++) {
        assert.ok(
          text.split("\n").includes(
            `tributary_partition_high_watermark{topic="${topic}",partition="${p}"} ${counts[p]}`,
          ),
          `high watermark of partition ${p} in /metrics`,
        );
      }
    });
  },
);

// ---- 7. topic lifecycle and configs ---------------------------------------------------

Deno.test(
  "workers=3, kafkajs admin: delete and recreate a topic with fewer partitions; alter configs",
  async () => {
    await withBroker("life", ["--set", "auto.create.topics.enable=false"], async (b) => {
      const topic = "life-workers";
      const kafka = client(b.address);
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
        const oldProducer = kafka.producer();
        await oldProducer.connect();
        await oldProducer.send({
          topic,
          messages: Array.from({ length: 60 }, (_, i) => ({ partition: i % 6, value: `old-${i}` })),
        });
        await oldProducer.disconnect();
        assert.deepEqual(await kcatOffsets(b.address, topic, 6, -1), [10, 10, 10, 10, 10, 10]);

        await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
        await waitFor(
          "the topic to be gone",
          async () => !(await admin.listTopics()).includes(topic),
        );
        // Every worker's partition directory is removed.
        await waitFor("the partition directories to be removed", () => {
          for (const e of Deno.readDirSync(b.dataDir)) {
            if (e.name.startsWith(`${topic}-`)) return false;
          }
          return true;
        }, 10_000);

        await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
        const md = await admin.fetchTopicMetadata({ topics: [topic] });
        assert.equal(md.topics[0].partitions.length, 4);
        assertSpansWorkers(topic, [0, 1, 2, 3]);
        const producer = client(b.address, "life-new").producer();
        await producer.connect();
        await producer.send({
          topic,
          messages: Array.from({ length: 20 }, (_, i) => ({
            partition: i % 4,
            key: `nk${i}`,
            value: `new-${i}`,
          })),
        });
        await producer.disconnect();
        for (let p = 0; p < 4; p++) {
          const got = await kcatRead(b.address, topic, p, "%o %k %s\n");
          assert.deepEqual(
            got,
            [0, 1, 2, 3, 4].map((j) => `${j} nk${j * 4 + p} new-${j * 4 + p}`),
            `partition ${p} (worker ${ownerOf(topic, p, WORKERS)})`,
          );
        }
        assert.deepEqual(await kcatOffsets(b.address, topic, 4, -1), [5, 5, 5, 5]);
        assert.deepEqual(await kcatOffsets(b.address, topic, 4, -2), [0, 0, 0, 0]);

        // Configs: set on the controller, applied by the owners (a small segment.bytes makes
        // every partition roll segments, whichever worker owns it).
        await admin.alterConfigs({
          validateOnly: false,
          resources: [{
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: [
              { name: "retention.ms", value: "7200000" },
              { name: "segment.bytes", value: "2048" },
            ],
          }],
        });
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configNames: ["retention.ms", "segment.bytes"],
          }],
        });
        const entries = Object.fromEntries(
          described.resources[0].configEntries.map((e) => [e.configName, e.configValue]),
        );
        assert.deepEqual(entries, { "retention.ms": "7200000", "segment.bytes": "2048" });

        const big = Array.from(
          { length: 4 },
          (_, p) =>
            Array.from({ length: 24 }, (_, i): [string, string] => [
              `bk${i}`,
              `big-${p}-${i}-${"z".repeat(400)}`,
            ]),
        );
        await Promise.all(
          big.map((recs, p) =>
            kcatProduce(b.address, topic, p, recs, ["-X", "batch.num.messages=1"])
          ),
        );
        for (let p = 0; p < 4; p++) {
          const segments = [...Deno.readDirSync(`${b.dataDir}/${topic}-${p}`)]
            .filter((e) => e.name.endsWith(".log")).length;
          assert.ok(segments >= 3, `partition ${p}: ${segments} segment(s)`);
          const got = await kcatRead(b.address, topic, p, "%o %s\n");
          assert.deepEqual(got.slice(5), big[p].map(([, v], i) => `${i + 5} ${v}`));
        }
      } finally {
        await admin.disconnect().catch(() => {});
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

// ---- worker 0 (the controller) dies: groups and transactions state come back from disk ------

Deno.test(
  "workers=3: the controller worker dies and is restarted; committed offsets and data survive",
  async () => {
    await withBroker("controller-crash", ["--set", "num.partitions=3"], async (b) => {
      const topic = "ctl";
      for (let p = 0; p < 3; p++) {
        await kcatProduce(
          b.address,
          topic,
          p,
          Array.from({ length: 50 }, (_, i) => [`k${p}-${i}`, `a-${p}-${i}`]),
        );
      }
      // A kcat group consumer reads everything and commits (offsets live on worker 0).
      const groupRead = async (expect: number) => {
        const out = await kcat(b.address, [
          "-G",
          "ctl-group",
          topic,
          "-X",
          "auto.offset.reset=earliest",
          "-X",
          "enable.auto.commit=true",
          "-X",
          "auto.commit.interval.ms=100",
          "-q",
          "-e",
          "-f",
          "%s\n",
        ], { timeoutMs: 60_000 });
        const lines = decoder.decode(out).split("\n").filter((l) => l !== "");
        assert.equal(lines.length, expect, lines.slice(0, 5).join(","));
        return lines;
      };
      assert.equal((await groupRead(150)).filter((l) => l.startsWith("a-")).length, 150);

      b.child.kill("SIGUSR1");
      await waitFor("worker 0 restarted", () => b.lines.some((l) => /worker 0 restarted/.test(l)));
      assert.ok(b.lines.some((l) => /worker 0 died/.test(l)));

      for (let p = 0; p < 3; p++) {
        await kcatProduce(
          b.address,
          topic,
          p,
          Array.from({ length: 10 }, (_, i) => [`n${p}-${i}`, `b-${p}-${i}`]),
        );
      }
      // The same group resumes at its committed offsets: only the 30 new records.
      const again = await groupRead(30);
      assert.deepEqual(again.filter((l) => l.startsWith("b-")).length, 30);
      for (let p = 0; p < 3; p++) {
        const all = await kcatRead(b.address, topic, p, "%o %s\n");
        assert.equal(all.length, 60);
        assert.equal(all[0], `0 a-${p}-0`);
        assert.equal(all[59], `59 b-${p}-9`);
      }
    }, { TRIBUTARY_TEST_HOOKS: "1" });
  },
);
