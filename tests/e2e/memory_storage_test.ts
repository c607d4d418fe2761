/**
 * The memory storage engine end to end: `startBroker({ dev: true, storage: "memory" })` serves
 * kafkajs produce/consume, ListOffsets by timestamp, a consumer group with committed offsets
 * and transactions
 * (read_committed skips the aborted one) without creating a file; the CLI's `--storage memory`
 * serves kcat (plain and group consumers) and leaves the directory it was given empty;
 * DescribeLogDirs names the one log "dir" `(memory)` with the partitions' sizes in memory.
 */
// npm packages are imported by npm: specifier (the project keeps no import map).
// deno-lint-ignore-file no-import-prefix
import assert from "node:assert/strict";
import { Kafka, logLevel } from "npm:kafkajs@2.2.4";
import { startBroker } from "../../mod.ts";
import { DescribeLogDirsRequest, DescribeLogDirsResponse } from "../../protocol/messages/mod.ts";
import { RawClient } from "../support/raw_client.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import { forEachBatch, totalSize } from "../../protocol/record_batch.ts";
import { BrokerProcess, decoder, kcat, run } from "../support/helpers.ts";
import { waitFor } from "../support/wait.ts";

function encodeOne(value: string): Uint8Array {
  return encodeRecordBatch({ records: [{ key: "k", value }] });
}

async function entries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

/**
 * Records every directory this isolate creates (Deno.mkdir, Deno.makeTempDir and their sync
 * twins) until restore(); the calls still go through.
 */
function watchDirectoryCreation(): { calls: string[]; restore(): void } {
  const calls: string[] = [];
  const d = Deno as unknown as Record<string, (...args: unknown[]) => unknown>;
  const names = ["mkdir", "mkdirSync", "makeTempDir", "makeTempDirSync"];
  const saved = names.map((n) => d[n]);
  names.forEach((n, i) => {
    d[n] = (...args: unknown[]) => {
      calls.push(`${n}(${JSON.stringify(args[0] ?? null)})`);
      return saved[i].apply(Deno, args);
    };
  });
  return { calls, restore: () => names.forEach((n, i) => d[n] = saved[i]) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("memory storage: kafkajs produce, ListOffsets by time, group consume, transactions; no file created", async () => {
  // Dev mode makes a temp data dir with the file engine. Directory creation is watched in
  // this test's isolate only: TMPDIR belongs to the whole test process, and other test files
  // running in parallel keep their own temp dirs (an etcd's data) under it.
  const made = watchDirectoryCreation();
  const cwdBefore = await entries(Deno.cwd());
  try {
    await using b = await startBroker({
      dev: true,
      storage: "memory",
      host: "127.0.0.1",
      port: 0,
      logLevel: "warn",
      topics: [{ name: "plain", partitions: 2 }, { name: "txn", partitions: 1 }],
    });
    assert.equal(b.storage, "memory");
    assert.equal(b.dataDir, "(memory)");
    const kafka = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });

    // Produce to both partitions, consume them back in a group, and check the commit.
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 20 }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}`,
      partition: i % 2,
      timestamp: String(1_000_000 + i),
    }));
    await producer.send({ topic: "plain", messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: "mem-group", sessionTimeout: 6000 });
    const got: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: "plain", fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        got.push(`${partition}:${message.key}=${message.value}`);
        return Promise.resolve();
      },
    });
    await waitFor(() => `20 records consumed, got ${got.length}`, () => got.length >= 20);
    await consumer.disconnect(); // commits what it consumed
    const expected = sent.map((m) => `${m.partition}:${m.key}=${m.value}`);
    assert.deepEqual([...got].sort(), [...expected].sort());
    const admin = kafka.admin();
    await admin.connect();
    try {
      // ListOffsets by timestamp: partition 0 holds 1_000_000 + 0, 2, 4..., partition 1 + 1, 3...
      const byTime = await admin.fetchTopicOffsetsByTimestamp("plain", 1_000_010);
      assert.deepEqual(
        byTime.map((o) => [o.partition, o.offset]).sort(),
        [[0, "5"], [1, "5"]],
      );
      const [committed] = await admin.fetchOffsets({ groupId: "mem-group", topics: ["plain"] });
      assert.deepEqual(
        committed.partitions.map((p) => [p.partition, p.offset]).sort(),
        [[0, "10"], [1, "10"]],
      );

      // Transactions: one committed, one aborted, then a plain record; read_committed sees
      // the committed and the plain ones only.
      const tx = kafka.producer({ transactionalId: "mem-tx", maxInFlightRequests: 1 });
      await tx.connect();
      const t1 = await tx.transaction();
      await t1.send({ topic: "txn", messages: [{ value: "c1" }, { value: "c2" }] });
      await t1.commit();
      const t2 = await tx.transaction();
      await t2.send({ topic: "txn", messages: [{ value: "aborted" }] });
      await t2.abort();
      await tx.disconnect();
      const plain = kafka.producer();
      await plain.connect();
      await plain.send({ topic: "txn", messages: [{ value: "after" }] });
      await plain.disconnect();
      // c1 c2 COMMIT aborted ABORT after: the log end is 6.
      const offsets = await admin.fetchTopicOffsets("txn");
      assert.deepEqual(offsets.map((o) => [o.partition, o.high, o.low]), [[0, "6", "0"]]);

      const reader = kafka.consumer({ groupId: "mem-reader", sessionTimeout: 6000 });
      const values: string[] = [];
      await reader.connect();
      await reader.subscribe({ topic: "txn", fromBeginning: true });
      await reader.run({
        eachMessage: ({ message }) => {
          values.push(String(message.value));
          return Promise.resolve();
        },
      });
      await waitFor(() => `"after" read, got ${values}`, () => values.includes("after"));
      await reader.disconnect();
      assert.deepEqual(values, ["c1", "c2", "after"]);
    } finally {
      await admin.disconnect();
    }
  } finally {
    made.restore();
  }
  assert.deepEqual(made.calls, [], "no directory created by the memory-engine broker");
  assert.deepEqual(await entries(Deno.cwd()), cwdBefore, "nothing created in the working dir");
  assert.equal(await exists("(memory)"), false);
});

Deno.test("--storage memory: kcat produce and consume, group consume, nothing on disk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tributary-memcli-" });
  try {
    const p = await BrokerProcess.start(dir, ["--storage", "memory", "--dev", "--workers", "1"]);
    try {
      assert.ok(p.lines.some((l) => l.includes("storage in memory")), p.lines.join("\n"));
      assert.ok(p.lines.some((l) => l.includes("data dir (memory)")), p.lines.join("\n"));
      // BrokerProcess passes --data-dir: it is named as unused, and stays empty below.
      assert.ok(
        p.lines.some((l) => l.includes("WARN  --data-dir is not used with --storage memory")),
        p.lines.join("\n"),
      );
      const lines = Array.from({ length: 100 }, (_, i) => `key-${i}\tvalue-${i}`);
      await kcat(p.address, ["-P", "-t", "mem", "-K", "\t", "-p", "0"], {
        stdin: lines.join("\n") + "\n",
      });
      const out = decoder.decode(
        await kcat(p.address, [
          "-C",
          "-t",
          "mem",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%o\t%k\t%s\n",
        ]),
      );
      assert.deepEqual(
        out.split("\n").filter((l) => l),
        lines.map((l, i) => `${i}\t${l}`),
      );
      // A kcat group consumer (librdkafka's balanced consumer) reads them all and commits.
      const group = decoder.decode(
        await kcat(p.address, [
          "-G",
          "mem-kcat",
          "-X",
          "auto.offset.reset=earliest",
          "-X",
          "enable.auto.commit=true",
          "-e",
          "-f",
          "%k\n",
          "mem",
        ], { timeoutMs: 60_000 }),
      );
      assert.deepEqual(
        group.split("\n").filter((l) => l),
        lines.map((_, i) => `key-${i}`),
      );
      assert.deepEqual(await entries(dir), [], "the data dir stays empty");
    } finally {
      assert.equal(await p.kill("SIGTERM"), 0);
    }
    assert.deepEqual(await entries(dir), [], "the data dir stays empty after exit");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--storage memory refuses more than one worker, and an unknown engine", async () => {
  const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
  const many = await run(Deno.execPath(), [
    "run",
    "-A",
    cli,
    "--storage",
    "memory",
    "--workers",
    "2",
    "--port",
    "0",
  ]);
  assert.equal(many.code, 2);
  assert.match(many.stderr, /--workers: the memory storage engine runs one worker/);
  const bad = await run(Deno.execPath(), ["run", "-A", cli, "--storage", "tape", "--port", "0"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--storage: 'tape' is not a storage engine \(file or memory\)/);
  const badSet = await run(Deno.execPath(), [
    "run",
    "-A",
    cli,
    "--set",
    "tributary.storage.engine=tape",
    "--port",
    "0",
  ]);
  assert.equal(badSet.code, 2);
  assert.match(badSet.stderr, /tributary\.storage\.engine/);
});

Deno.test("memory storage: DescribeLogDirs reports the (memory) dir and partition sizes", async () => {
  await using b = await startBroker({
    storage: "memory",
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    topics: [{ name: "sized", partitions: 2 }],
  });
  const stored = await b.broker.partition("sized", 1)!.append(
    new Uint8Array(encodeOne("x".repeat(100))),
  );
  assert.equal(stored.baseOffset, 0);
  const size = b.broker.partition("sized", 1)!.sizeInBytes;
  const c = await RawClient.connect(b.port);
  try {
    for (let v = 0; v <= 4; v++) {
      const r = await c.call(DescribeLogDirsRequest, DescribeLogDirsResponse, v, {
        topics: [{ topic: "sized", partitions: [0, 1] }],
      });
      assert.equal(r.results.length, 1);
      const dir = r.results[0];
      assert.equal(dir.errorCode, 0);
      assert.equal(dir.logDir, "(memory)");
      const parts = dir.topics[0].partitions.map((
        p: { partitionIndex: number; partitionSize: bigint | number },
      ) => [
        p.partitionIndex,
        Number(p.partitionSize),
      ]);
      assert.deepEqual(parts, [[0, 0], [1, size]], `v${v}`);
      if (v >= 4) {
        assert.equal(Number(dir.totalBytes), -1);
        assert.equal(Number(dir.usableBytes), -1);
      }
    }
  } finally {
    c.close();
  }
});

Deno.test("memory storage: a compacted topic is compacted, kafkajs reads the latest per key", async () => {
  await using b = await startBroker({
    storage: "memory",
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    config: { "log.cleaner.backoff.ms": 20 },
    topics: [{
      name: "latest",
      partitions: 1,
      configs: {
        "cleanup.policy": "compact",
        "segment.bytes": 300,
        "min.cleanable.dirty.ratio": 0.01,
      },
    }],
  });
  const kafka = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const latest = new Map<string, string>();
  for (let i = 0; i < 30; i++) {
    const key = `k${i % 3}`;
    const value = `v${String(i).padStart(2, "0")}`;
    await producer.send({ topic: "latest", messages: [{ key, value }] });
    latest.set(key, value);
  }
  await producer.disconnect();
  const log = b.broker.partition("latest", 0)!;
  assert.ok(log.segmentCount > 3, `${log.segmentCount} segments`);
  const records = async () => {
    const out: { offset: number; key: string; value: string }[] = [];
    const consumer = kafka.consumer({ groupId: `reader-${crypto.randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: "latest", fromBeginning: true });
    let done!: () => void;
    const all = new Promise<void>((r) => done = r);
    await consumer.run({
      eachMessage: ({ message }) => {
        out.push({
          offset: Number(message.offset),
          key: String(message.key),
          value: String(message.value),
        });
        if (Number(message.offset) === 29) done();
        return Promise.resolve();
      },
    });
    await all;
    await consumer.disconnect();
    return out;
  };
  const activeBase = () => log.segmentBaseOffsets().at(-1)!;
  /** Keys of the records below the active segment, read from the log itself. */
  const closedKeys = async () => {
    const keys: string[] = [];
    let offset = log.logStartOffset;
    while (offset < activeBase()) {
      const buf = await log.read(offset, 1 << 20, { minOneBatch: true, upperBound: activeBase() });
      if (buf.length === 0) break;
      forEachBatch(buf, (pos, h) => {
        for (const r of decodeRecords(buf.subarray(pos, pos + totalSize(h))).records) {
          keys.push(new TextDecoder().decode(r.key!));
          offset = h.baseOffset + r.offsetDelta + 1;
        }
      });
    }
    return keys;
  };
  // The cleaner runs in the background: wait until the closed segments hold one record a key.
  await waitFor(() => "the closed segments compacted to one record per key", async () => {
    const keys = await closedKeys();
    return keys.length > 0 && new Set(keys).size === keys.length;
  });
  const got = await records();
  const cleanPart = got.filter((r) => r.offset < activeBase());
  assert.equal(new Set(cleanPart.map((r) => r.key)).size, cleanPart.length, "one per key");
  assert.ok(got.length < 30, `${got.length} records left of 30`);
  const final = new Map(got.map((r) => [r.key, r.value]));
  assert.deepEqual(final, latest);
  assert.deepEqual(got.map((r) => r.offset), [...got.map((r) => r.offset)].sort((x, y) => x - y));
  assert.equal(got.at(-1)!.offset, 29);
});
