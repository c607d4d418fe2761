/**
 * Durability across restarts: a clean close and reopen, a kill -9 in the middle of an
 * acks=all stream (every acknowledged record must survive at its offset), a torn tail on
 * the active segment, and idempotent-producer state rebuilt from the log.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { forEachBatch } from "../../protocol/record_batch.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import {
  BrokerProcess,
  decoder,
  kcat,
  LineProcess,
  python,
  testBroker,
} from "../support/helpers.ts";

const SEGMENT = "00000000000000000000.log";

/** Every record of partition 0 as "offset value" lines, via kcat. */
async function readAll(address: string, topic: string): Promise<string[]> {
  const out = decoder.decode(
    await kcat(address, ["-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f", "%o %s\n"], {
      timeoutMs: 60_000,
    }),
  );
  return out.split("\n").filter((l) => l);
}

async function produceLines(address: string, topic: string, values: string[]): Promise<void> {
  await kcat(address, ["-P", "-t", topic, "-p", "0", "-X", "linger.ms=5"], {
    stdin: values.join("\n") + "\n",
  });
}

Deno.test(
  "close and reopen on the same data dir: everything reads back, appends continue",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-dur-" });
    try {
      const first = await testBroker({ dataDir, keepDir: true });
      const values = Array.from(
        { length: 5000 },
        (_, i) => `before-restart-${i}-${"q".repeat(i % 23)}`,
      );
      await produceLines(first.address, "reopen", values);
      await kcat(first.address, ["-P", "-t", "reopen", "-p", "0", "-K", ":"], {
        stdin: "k:keyed\n",
      });
      await first.close();

      const second = await testBroker({ dataDir, keepDir: true });
      try {
        assert.equal(second.broker.partition("reopen", 0)!.highWatermark, 5001);
        const got = await readAll(second.address, "reopen");
        assert.deepEqual(got, [...values, "keyed"].map((v, i) => `${i} ${v}`));
        await produceLines(second.address, "reopen", ["after-1", "after-2"]);
        const tail = decoder.decode(
          await kcat(second.address, [
            "-C",
            "-t",
            "reopen",
            "-p",
            "0",
            "-o",
            "5001",
            "-e",
            "-f",
            "%o %s\n",
          ]),
        );
        assert.equal(tail, "5001 after-1\n5002 after-2\n");
      } finally {
        await second.close();
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

const ACKED_STREAM = `
import sys, time
from confluent_kafka import Producer

addr, topic = sys.argv[1], sys.argv[2]
p = Producer({"bootstrap.servers": addr, "acks": "all", "linger.ms": 2,
              "message.timeout.ms": 3000, "socket.timeout.ms": 3000,
              "reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 200})
errors = 0
out = sys.stdout
def on_delivery(err, msg):
    global errors
    if err is None:
        out.write("A %d %s\\n" % (msg.offset(), msg.value().decode()))
    else:
        errors += 1

i = 0
deadline = time.time() + 20
while errors == 0 and time.time() < deadline:
    try:
        p.produce(topic, value="rec-%d" % i, partition=0, on_delivery=on_delivery)
        i += 1
    except BufferError:
        p.poll(0.01)
    if i % 200 == 0:
        p.poll(0)
        out.flush()
p.flush(10)
out.write("DONE %d %d\\n" % (i, errors))
out.flush()
`;

Deno.test("kill -9 during an acks=all stream loses no acknowledged record", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-kill-" });
  let broker: BrokerProcess | undefined = await BrokerProcess.start(dataDir);
  let producer: LineProcess | undefined;
  try {
    producer = new LineProcess(
      "/usr/bin/python3",
      ["-c", ACKED_STREAM, broker.address, "killed"],
      60_000,
    );
    const acked = new Map<number, string>();
    let firstAckAt = 0;
    let done = "";
    // Read acknowledgements; after ~1 s of acknowledged stream, SIGKILL the broker.
    while (true) {
      const line = await producer.nextLine(30_000);
      if (line === null) break;
      if (line.startsWith("DONE")) {
        done = line;
        continue;
      }
      const m = /^A (\d+) (.*)$/.exec(line);
      assert.ok(m, `unexpected producer output: ${line}`);
      const offset = Number(m[1]);
      assert.ok(!acked.has(offset), `offset ${offset} acknowledged twice`);
      acked.set(offset, m[2]);
      if (firstAckAt === 0) firstAckAt = Date.now();
      if (broker && acked.size >= 1000 && Date.now() - firstAckAt >= 1000) {
        const code: number = await broker.kill("SIGKILL");
        assert.equal(code, 137);
        broker = undefined;
      }
    }
    const status = await producer.status;
    assert.equal(status.code, 0, await producer.stderr);
    assert.equal(broker, undefined, "the broker was killed mid-stream");
    const [, sent, errors] = done.split(" ").map(Number);
    assert.ok(errors > 0, "the producer saw the broker die");
    assert.ok(sent > acked.size);

    broker = await BrokerProcess.start(dataDir);
    const present = await readAll(broker.address, "killed");
    // Whatever survived is a contiguous prefix of the stream, and includes every acknowledged
    // record at its acknowledged offset with its exact value.
    const stored = new Map<number, string>();
    present.forEach((l, i) => {
      const sp = l.indexOf(" ");
      assert.equal(Number(l.slice(0, sp)), i);
      stored.set(i, l.slice(sp + 1));
    });
    let missing = 0;
    for (const [offset, value] of acked) {
      if (stored.get(offset) !== value) missing++;
    }
    console.log(
      `kill -9: ${sent} sent, ${acked.size} acknowledged, ${stored.size} present after restart, ` +
        `${missing} acknowledged records missing`,
    );
    assert.equal(missing, 0);
    assert.ok(stored.size >= acked.size);
    for (let i = 0; i < stored.size; i++) assert.equal(stored.get(i), `rec-${i}`);

    // The restarted log takes new appends right after the survivors.
    await produceLines(broker.address, "killed", ["after-kill"]);
    const tail = decoder.decode(
      await kcat(broker.address, [
        "-C",
        "-t",
        "killed",
        "-p",
        "0",
        "-o",
        String(stored.size),
        "-e",
        "-f",
        "%o %s\n",
      ]),
    );
    assert.equal(tail, `${stored.size} after-kill\n`);
  } finally {
    if (producer) await producer.closeStdin();
    if (broker) assert.equal(await broker.kill("SIGTERM"), 0);
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test(
  "a torn tail on the active segment is cut back to the last whole batch",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-torn-" });
    try {
      let b = await testBroker({ dataDir, keepDir: true });
      const values = Array.from({ length: 300 }, (_, i) => `whole-${i}`);
      await produceLines(b.address, "torn", values.slice(0, 100));
      await produceLines(b.address, "torn", values.slice(100, 300));
      await b.close();

      const path = `${dataDir}/torn-0/${SEGMENT}`;
      const whole = await Deno.readFile(path);
      let batches = 0;
      assert.equal(forEachBatch(whole, () => void batches++), whole.length);
      assert.ok(batches >= 2);

      // 1. The first 40 bytes of a real batch (a write torn mid-header) after the last one.
      const next = encodeRecordBatch({ baseOffset: 300, records: [{ value: "torn-away" }] });
      await Deno.writeFile(path, next.subarray(0, 40), { append: true });
      b = await testBroker({ dataDir, keepDir: true });
      assert.equal(b.broker.partition("torn", 0)!.highWatermark, 300);
      assert.equal((await Deno.stat(path)).size, whole.length, "torn bytes truncated");
      assert.deepEqual(await readAll(b.address, "torn"), values.map((v, i) => `${i} ${v}`));
      await produceLines(b.address, "torn", ["after-torn-1"]);
      await b.close();

      // 2. A whole batch with a bad CRC followed by garbage.
      const afterFirst = await Deno.readFile(path);
      const bad = encodeRecordBatch({ baseOffset: 301, records: [{ value: "bad-crc" }] });
      bad[bad.length - 1] ^= 0xff;
      const garbage = new Uint8Array(777).map((_, i) => (i * 131 + 7) & 0xff);
      await Deno.writeFile(path, new Uint8Array([...bad, ...garbage]), { append: true });
      b = await testBroker({ dataDir, keepDir: true });
      assert.equal(b.broker.partition("torn", 0)!.highWatermark, 301);
      assert.equal((await Deno.stat(path)).size, afterFirst.length);
      await produceLines(b.address, "torn", ["after-torn-2", "after-torn-3"]);
      assert.deepEqual(
        await readAll(b.address, "torn"),
        [...values, "after-torn-1", "after-torn-2", "after-torn-3"].map((v, i) => `${i} ${v}`),
      );
      await b.close();

      // 3. Pure garbage with a plausible batch length prefix.
      const g = new Uint8Array(64);
      new DataView(g.buffer).setBigInt64(0, 303n);
      new DataView(g.buffer).setInt32(8, 52);
      await Deno.writeFile(path, g, { append: true });
      b = await testBroker({ dataDir, keepDir: true });
      assert.equal(b.broker.partition("torn", 0)!.highWatermark, 303);
      await produceLines(b.address, "torn", ["after-torn-4"]);
      const tail = decoder.decode(
        await kcat(b.address, ["-C", "-t", "torn", "-p", "0", "-o", "300", "-e", "-f", "%o %s\n"]),
      );
      assert.equal(
        tail,
        "300 after-torn-1\n301 after-torn-2\n302 after-torn-3\n303 after-torn-4\n",
      );
      await b.close();
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

const IDEMPOTENT_ACROSS_RESTART = `
import json, sys
from confluent_kafka import Producer

addr, topic, n, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
acks, errors = [], []
def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        acks.append([msg.offset(), msg.value().decode()])

p = Producer({"bootstrap.servers": addr, "enable.idempotence": True, "acks": "all",
              "linger.ms": 5, "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 200})
for phase in (1, 2):
    for i in range(n):
        p.produce(topic, value="%s-%d-%d" % (tag, phase, i), partition=0, on_delivery=on_delivery)
    left = p.flush(30)
    print(json.dumps({"phase": phase, "left": left, "acks": acks, "errors": errors}), flush=True)
    if phase == 1 and sys.stdin.readline().strip() != "go":
        sys.exit(3)
`;

interface BatchInfo {
  baseOffset: number;
  count: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

async function batchesOf(path: string): Promise<{ batches: BatchInfo[]; bytes: Uint8Array }> {
  const bytes = await Deno.readFile(path);
  const batches: BatchInfo[] = [];
  const end = forEachBatch(bytes, (_pos, h) => {
    batches.push({
      baseOffset: h.baseOffset,
      count: h.recordCount,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
    });
  });
  assert.equal(end, bytes.length);
  return { batches, bytes };
}

Deno.test(
  "idempotent producer state survives restarts: same session continues, dedup, new session",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-idem-" });
    let b = await testBroker({ dataDir, keepDir: true });
    const port = b.port;
    let session: LineProcess | undefined;
    try {
      await b.broker.createTopic("idem", 1);
      const n = 500;
      session = new LineProcess("/usr/bin/python3", [
        "-c",
        IDEMPOTENT_ACROSS_RESTART,
        b.address,
        "idem",
        String(n),
        "s1",
      ]);
      const phase1 = JSON.parse((await session.nextLine())!);
      assert.deepEqual([phase1.phase, phase1.left, phase1.errors], [1, 0, []]);
      assert.deepEqual(phase1.acks, Array.from({ length: n }, (_, i) => [i, `s1-1-${i}`]));

      // Restart on the same port while the producer session stays up.
      await b.close();
      b = await testBroker({ dataDir, keepDir: true, port });
      await session.writeLine("go");
      const phase2 = JSON.parse((await session.nextLine())!);
      assert.deepEqual([phase2.phase, phase2.left, phase2.errors], [2, 0, []]);
      assert.deepEqual(
        phase2.acks.slice(n),
        Array.from({ length: n }, (_, i) => [n + i, `s1-2-${i}`]),
      );
      assert.equal((await session.status).code, 0, await session.stderr);
      session = undefined;

      // One producer id, one epoch, sequences continuing across the restart.
      const path = `${dataDir}/idem-0/${SEGMENT}`;
      const { batches, bytes } = await batchesOf(path);
      const pid = batches[0].producerId;
      assert.ok(pid >= 0);
      let expect = 0;
      for (const h of batches) {
        assert.deepEqual([h.producerId, h.producerEpoch, h.baseOffset, h.baseSequence], [
          pid,
          0,
          expect,
          expect,
        ]);
        expect += h.count;
      }
      assert.equal(expect, 2 * n);

      // Restart again without the producer-state snapshots written at close: the state
      // rebuilt from the batch headers recognises a retry of the last batch as a duplicate
      // and refuses a sequence gap.
      await b.close();
      let snapshots = 0;
      for await (const e of Deno.readDir(`${dataDir}/idem-0`)) {
        if (e.name.endsWith(".snapshot")) {
          await Deno.remove(`${dataDir}/idem-0/${e.name}`);
          snapshots++;
        }
      }
      assert.ok(snapshots > 0, "a clean close writes a producer snapshot");
      b = await testBroker({ dataDir, keepDir: true, port });
      const log = b.broker.partition("idem", 0)!;
      assert.equal(log.highWatermark, 2 * n);
      const last = batches[batches.length - 1];
      let pos = 0;
      forEachBatch(bytes, (p, h) => {
        if (h.baseOffset === last.baseOffset) pos = p;
      });
      const retry = bytes.slice(pos);
      const dup = await log.append(retry);
      assert.deepEqual(
        [dup.duplicate, dup.baseOffset, dup.lastOffset],
        [true, last.baseOffset, last.baseOffset + last.count - 1],
      );
      assert.equal(log.highWatermark, 2 * n);
      const gap = encodeRecordBatch({
        producerId: pid,
        producerEpoch: 0,
        baseSequence: 2 * n + 5,
        records: [{ value: "gap" }],
      });
      await assert.rejects(log.append(gap), (e: unknown) => {
        assert.ok(e instanceof KafkaError);
        assert.equal(e.code, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
        return true;
      });
      const inOrder = encodeRecordBatch({
        producerId: pid,
        producerEpoch: 0,
        baseSequence: 2 * n,
        records: [{ value: "s1-next" }],
      });
      const appended = await log.append(inOrder);
      assert.deepEqual([appended.duplicate, appended.baseOffset], [false, 2 * n]);

      // A new producer session after the restart gets a new producer id and starts at 0.
      const out = await python(
        IDEMPOTENT_ACROSS_RESTART.replace("if phase == 1 and", "if False and"),
        [
          b.address,
          "idem",
          "100",
          "s2",
        ],
      );
      const lines = out.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.length, 2);
      assert.deepEqual([lines[1].left, lines[1].errors], [0, []]);
      const base = 2 * n + 1;
      assert.deepEqual(
        lines[1].acks,
        [
          ...Array.from({ length: 100 }, (_, i) => [base + i, `s2-1-${i}`]),
          ...Array.from({ length: 100 }, (_, i) => [base + 100 + i, `s2-2-${i}`]),
        ],
      );
      await b.close();
      const after = (await batchesOf(path)).batches.filter((h) => h.baseOffset >= base);
      const pids = new Set(after.map((h) => h.producerId));
      assert.equal(pids.size, 1);
      const pid2 = [...pids][0];
      assert.notEqual(pid2, pid);
      assert.ok(pid2 > pid, `new id ${pid2} after ${pid}`);
      let seq = 0;
      for (const h of after) {
        assert.equal(h.baseSequence, seq);
        seq += h.count;
      }
      assert.equal(seq, 200);
    } finally {
      if (session) await session.closeStdin();
      await b.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
