import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  computeBatchCrc,
  forEachBatch,
  isCrcValid,
  readBatchHeader,
  timestampType,
  totalSize,
} from "../../protocol/record_batch.ts";
import { decompress } from "../../protocol/compression.ts";
import { decodeRecords, encodeRecordBatch, endTxnMarker } from "../../protocol/records.ts";
import { type LogConfig, logConfig } from "../../storage/log_config.ts";
import { CLEAN_SHUTDOWN_FILE, PartitionLog } from "../../storage/partition_log.ts";
import {
  baseOffsets,
  type BatchOpts,
  rejectsWith,
  testBatch,
  values,
} from "../support/log_fixtures.ts";

/** Keyless records; record i has timestamp ts + i and value "<tag>-i" padded to `size`. */
function batch(n: number, tag = "r", o: BatchOpts = {}): Uint8Array {
  return testBatch(n, tag, { ...o, keyless: true });
}

async function withLog(
  config: Partial<LogConfig>,
  fn: (dir: string, log: PartitionLog) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "partition-log-" });
  const dir = `${root}/orders-3`;
  const log = await PartitionLog.open(dir, logConfig(config), { topic: "orders", partition: 3 });
  try {
    await fn(dir, log);
  } finally {
    await log.close();
    await Deno.remove(root, { recursive: true });
  }
}

function logFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".log")).sort();
}

Deno.test("append assigns exact offsets and read returns the same records", async () => {
  await withLog({}, async (_dir, log) => {
    assert.equal(log.topic, "orders");
    assert.equal(log.partition, 3);
    assert.equal(log.logEndOffset, 0);
    const r1 = await log.append(batch(3, "a"));
    assert.deepEqual(r1, {
      baseOffset: 0,
      lastOffset: 2,
      logAppendTime: -1,
      logStartOffset: 0,
      duplicate: false,
      recordCount: 3,
    });
    const r2 = await log.append(batch(2, "b"));
    assert.equal(r2.baseOffset, 3);
    assert.equal(r2.lastOffset, 4);
    assert.equal(log.logEndOffset, 5);
    assert.equal(log.highWatermark, 5);
    assert.equal(log.lastStableOffset, 5);
    const all = await log.read(0, 1 << 20);
    assert.deepEqual(baseOffsets(all), [0, 3]);
    assert.deepEqual(values(all), ["a-0", "a-1", "a-2", "b-0", "b-1"]);
    assert.equal(readBatchHeader(all).partitionLeaderEpoch, 0);
    assert.equal(log.sizeInBytes, all.length);
  });
});

Deno.test("read from the middle of a batch returns that whole batch", async () => {
  await withLog({}, async (_dir, log) => {
    await log.append(batch(5, "a"));
    await log.append(batch(5, "b"));
    const buf = await log.read(7, 1 << 20);
    assert.deepEqual(baseOffsets(buf), [5]);
    assert.deepEqual(values(buf), ["b-0", "b-1", "b-2", "b-3", "b-4"]);
  });
});

Deno.test("read honours maxBytes, minOneBatch and upperBound", async () => {
  await withLog({}, async (_dir, log) => {
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = batch(2, `b${i}`, { size: 100 });
      sizes.push(b.length);
      await log.append(b);
    }
    assert.deepEqual(baseOffsets(await log.read(0, sizes[0] + sizes[1])), [0, 2]);
    assert.deepEqual(baseOffsets(await log.read(0, sizes[0] + sizes[1] - 1)), [0]);
    assert.equal((await log.read(2, 10)).length, 0);
    assert.deepEqual(baseOffsets(await log.read(2, 10, { minOneBatch: true })), [2]);
    assert.deepEqual(baseOffsets(await log.read(0, 0, { minOneBatch: true })), [0]);
    assert.deepEqual(baseOffsets(await log.read(0, 1 << 20, { upperBound: 6 })), [0, 2, 4]);
    assert.deepEqual(baseOffsets(await log.read(0, 1 << 20, { upperBound: 5 })), [0, 2]);
    assert.equal((await log.read(6, 1 << 20, { upperBound: 6 })).length, 0);
    assert.equal((await log.read(10, 1 << 20)).length, 0);
  });
});

Deno.test("read outside [logStartOffset, logEndOffset] is OFFSET_OUT_OF_RANGE", async () => {
  await withLog({}, async (_dir, log) => {
    await log.append(batch(3));
    await rejectsWith(log.read(4, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    await rejectsWith(log.read(-1, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal((await log.read(3, 100)).length, 0);
  });
});

Deno.test("invalid appends are rejected whole and leave the log untouched", async () => {
  await withLog({ maxMessageBytes: 400 }, async (_dir, log) => {
    await log.append(batch(1, "ok"));
    const good = batch(1, "good");
    const bad = batch(2);
    bad[bad.length - 1] ^= 1;
    const payload = new Uint8Array(good.length + bad.length);
    payload.set(good);
    payload.set(bad, good.length);
    await rejectsWith(log.append(payload), ErrorCode.CORRUPT_MESSAGE);
    await rejectsWith(log.append(batch(1, "x", { size: 500 })), ErrorCode.MESSAGE_TOO_LARGE);
    // A v2 batch relabelled magic 1 is read as a legacy message set, and is not a valid one.
    const legacy = batch(1);
    legacy[16] = 1;
    await rejectsWith(log.append(legacy), ErrorCode.CORRUPT_MESSAGE);
    const control = encodeRecordBatch({
      isControl: true,
      producerId: 1,
      producerEpoch: 0,
      records: [endTxnMarker(1, 0)],
    });
    await rejectsWith(log.append(control), ErrorCode.INVALID_RECORD);
    // A record count the records do not fill (CRC made valid again): Kafka's record iterator
    // refuses it as INVALID_RECORD.
    const miscounted = batch(2, "m");
    const v = new DataView(miscounted.buffer);
    v.setInt32(57, 3);
    v.setInt32(23, 2);
    v.setUint32(17, computeBatchCrc(miscounted, 0, miscounted.length));
    await rejectsWith(log.append(miscounted), ErrorCode.INVALID_RECORD);
    assert.equal(log.logEndOffset, 1);
    assert.deepEqual(values(await log.read(0, 1 << 20)), ["ok-0"]);
    assert.equal((await log.append(batch(1, "next"))).baseOffset, 1);
  });
});

Deno.test("concurrent appends are serialised with contiguous offsets", async () => {
  await withLog({}, async (_dir, log) => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => log.append(batch(2, `c${i}`))),
    );
    assert.deepEqual(results.map((r) => r.baseOffset), Array.from({ length: 50 }, (_, i) => i * 2));
    assert.equal(log.logEndOffset, 100);
  });
});

Deno.test("appends run in order whether they write at once, roll, flush or come from a listener", async () => {
  // Small segments and a flush every third record: some appends go asynchronous (roll, fsync).
  await withLog({ segmentBytes: 1024, flushIntervalMessages: 3 }, async (_dir, log) => {
    let fromListener: Promise<unknown> | null = null;
    const stop = log.onAppend(() => {
      // Enqueued while the append that notified is still running: it must come after it.
      if (fromListener === null) fromListener = log.append(batch(1, "listener", { size: 200 }));
    });
    const first = log.append(batch(1, "a0", { size: 200 }));
    const rest = Array.from(
      { length: 11 },
      (_, i) => log.append(batch(1, `a${i + 1}`, { size: 200 })),
    );
    const results = await Promise.all([first, ...rest]);
    await fromListener;
    stop();
    assert.equal(results[0].baseOffset, 0);
    const got: string[] = [];
    let offset = 0;
    while (offset < log.logEndOffset) {
      const buf = await log.read(offset, 1 << 20);
      forEachBatch(buf, (_p, h) => void (offset = h.baseOffset + h.lastOffsetDelta + 1));
      got.push(...values(buf));
    }
    assert.equal(got.length, 13);
    assert.ok(got.indexOf("listener-0") > 0, "the listener's append follows the one notifying");
    const own = got.filter((v) => v !== "listener-0");
    assert.deepEqual(own, Array.from({ length: 12 }, (_, i) => `a${i}-0`));
    // Each append's answer names where its batch went, in the order they were called.
    results.forEach((r, i) => assert.equal(got[r.baseOffset], `a${i}-0`));
    assert.ok(log.segmentCount > 1);
  });
});

Deno.test("the active segment rolls before exceeding segmentBytes", async () => {
  await withLog({ segmentBytes: 1024 }, async (dir, log) => {
    const one = batch(2, "x", { size: 200 }).length;
    for (let i = 0; i < 12; i++) await log.append(batch(2, `s${i}`, { size: 200 }));
    const perSegment = Math.floor(1024 / one);
    const files = logFiles(dir);
    assert.equal(files.length, Math.ceil(12 / perSegment));
    assert.equal(log.segmentCount, files.length);
    for (const f of files) assert.match(f, /^\d{20}\.log$/);
    assert.equal(files[1], `${String(perSegment * 2).padStart(20, "0")}.log`);
    for (const f of files) assert.ok(Deno.statSync(`${dir}/${f}`).size <= 1024);
    // Reads cross segment boundaries one segment at a time.
    const all: string[] = [];
    let offset = 0;
    while (offset < log.logEndOffset) {
      const buf = await log.read(offset, 1 << 20);
      forEachBatch(buf, (_p, h) => void (offset = h.baseOffset + h.lastOffsetDelta + 1));
      all.push(...values(buf));
    }
    assert.equal(all.length, 24);
    assert.equal(all[23], "s11-1");
  });
});

Deno.test("the active segment rolls after segmentMs measured from its first batch", async () => {
  await withLog(
    { segmentMs: 60_000, messageTimestampType: "LogAppendTime" },
    async (dir, log) => {
      await log.append(batch(1), { now: 1_000_000 });
      await log.append(batch(1), { now: 1_059_000 });
      assert.equal(logFiles(dir).length, 1);
      await log.append(batch(1), { now: 1_060_001 });
      assert.equal(logFiles(dir).length, 2);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
    },
  );
  // CreateTime: Kafka measures with the batches' own timestamps (far from this test's clock,
  // so the future-timestamp bound is lifted).
  await withLog(
    { segmentMs: 60_000, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER },
    async (dir, log) => {
      await log.append(batch(1, "a", { ts: 5_000_000 }), { now: 0 });
      await log.append(batch(1, "b", { ts: 5_070_000 }), { now: 0 });
      assert.equal(logFiles(dir).length, 2);
    },
  );
});

Deno.test("LogAppendTime stamps maxTimestamp with the broker clock and keeps the CRC valid", async () => {
  await withLog({ messageTimestampType: "LogAppendTime" }, async (_dir, log) => {
    const r = await log.append(batch(3, "t", { ts: 5 }), { now: 1_700_000_000_123 });
    assert.equal(r.logAppendTime, 1_700_000_000_123);
    const buf = await log.read(0, 1 << 20);
    const h = readBatchHeader(buf);
    assert.equal(timestampType(h), "LogAppendTime");
    assert.equal(h.maxTimestamp, 1_700_000_000_123);
    assert.ok(isCrcValid(buf, 0, totalSize(h)));
    assert.equal(decodeRecords(buf).header.timestampType, 1);
    assert.deepEqual(await log.offsetForTimestamp(1_700_000_000_000), {
      offset: 0,
      timestamp: 1_700_000_000_123,
    });
  });
});

Deno.test("reopen after close reads everything back", async () => {
  const root = await Deno.makeTempDir({ prefix: "partition-log-" });
  const dir = `${root}/t-0`;
  const cfg = logConfig({ segmentBytes: 2048, indexIntervalBytes: 128 });
  const log = await PartitionLog.open(dir, cfg);
  assert.equal(log.topic, "t");
  for (let i = 0; i < 40; i++) await log.append(batch(3, `r${i}`, { size: 30 }));
  const before = await log.read(0, 1 << 20);
  const segments = log.segmentCount;
  await log.close();
  await rejectsWith(log.append(batch(1)), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.ok(Deno.statSync(`${dir}/${CLEAN_SHUTDOWN_FILE}`).isFile);

  const again = await PartitionLog.open(dir, cfg);
  assert.equal(again.recovery.cleanShutdown, true);
  assert.equal(again.recovery.truncatedBytes, 0);
  assert.equal(again.logEndOffset, 120);
  assert.equal(again.segmentCount, segments);
  assert.deepEqual(await again.read(0, 1 << 20), before);
  for (let o = 0; o < 120; o += 7) {
    assert.equal(values(await again.read(o, 1))[0] ?? null, null); // maxBytes 1: nothing whole
    const first = values(await again.read(o, 1, { minOneBatch: true }));
    assert.equal(first[o % 3], `r${Math.floor(o / 3)}-${o % 3}`);
  }
  assert.equal((await again.append(batch(1, "after"))).baseOffset, 120);
  await again.close();
  await Deno.remove(root, { recursive: true });
});

Deno.test("a torn tail is truncated to the last whole batch on reopen", async () => {
  for (const damage of ["garbage", "half"] as const) {
    const root = await Deno.makeTempDir({ prefix: "partition-log-" });
    const dir = `${root}/t-0`;
    const cfg = logConfig({ indexIntervalBytes: 64 });
    const log = await PartitionLog.open(dir, cfg);
    for (let i = 0; i < 10; i++) await log.append(batch(2, `r${i}`));
    await log.close();
    // Simulate a crash: no clean-shutdown marker, damaged tail.
    await Deno.remove(`${dir}/${CLEAN_SHUTDOWN_FILE}`);
    const path = `${dir}/${"0".repeat(20)}.log`;
    const bytes = await Deno.readFile(path);
    const last = batch(2, "lost");
    if (damage === "garbage") {
      await Deno.writeFile(path, new Uint8Array(37).fill(0xab), { append: true });
    } else {
      await Deno.writeFile(path, last.subarray(0, last.length >> 1), { append: true });
    }
    const again = await PartitionLog.open(dir, cfg);
    assert.equal(again.recovery.cleanShutdown, false);
    assert.ok(again.recovery.truncatedBytes > 0);
    assert.equal(again.logEndOffset, 20);
    assert.equal((await Deno.stat(path)).size, bytes.length);
    assert.equal((await again.append(batch(2, "new"))).baseOffset, 20);
    assert.deepEqual(values(await again.read(18, 1 << 20)), ["r9-0", "r9-1", "new-0", "new-1"]);
    await again.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("deleted index files are rebuilt on open", async () => {
  const root = await Deno.makeTempDir({ prefix: "partition-log-" });
  const dir = `${root}/t-0`;
  const cfg = logConfig({ segmentBytes: 1500, indexIntervalBytes: 100 });
  const log = await PartitionLog.open(dir, cfg);
  for (let i = 0; i < 30; i++) await log.append(batch(2, `r${i}`, { ts: 1000 * i }));
  const before = await log.read(0, 1 << 20);
  await log.close();
  const indexes = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes("index"));
  const contents = new Map(indexes.map((n) => [n, Deno.readFileSync(`${dir}/${n}`)]));
  for (const n of indexes) await Deno.remove(`${dir}/${n}`);
  const again = await PartitionLog.open(dir, cfg);
  assert.ok(again.recovery.rebuiltIndexes >= again.segmentCount - 1);
  await again.close();
  for (const n of indexes) assert.deepEqual(Deno.readFileSync(`${dir}/${n}`), contents.get(n), n);
  const third = await PartitionLog.open(dir, cfg);
  assert.deepEqual(await third.read(0, 1 << 20), before);
  assert.deepEqual(await third.offsetForTimestamp(12_000), { offset: 24, timestamp: 12_000 });
  await third.close();
  await Deno.remove(root, { recursive: true });
});

Deno.test("an index that disagrees with the log after a clean shutdown is rebuilt", async () => {
  const root = await Deno.makeTempDir({ prefix: "partition-log-" });
  const dir = `${root}/t-0`;
  const cfg = logConfig({ indexIntervalBytes: 64 });
  const log = await PartitionLog.open(dir, cfg);
  for (let i = 0; i < 20; i++) await log.append(batch(2, `r${i}`));
  const before = await log.read(0, 1 << 20);
  await log.close();
  // Point the last entry at the wrong offset, as a lost index write might.
  const path = `${dir}/${"0".repeat(20)}.index`;
  const idx = Deno.readFileSync(path);
  const v = new DataView(idx.buffer);
  v.setInt32(idx.length - 8, v.getInt32(idx.length - 8) - 2);
  Deno.writeFileSync(path, idx);
  const again = await PartitionLog.open(dir, cfg);
  assert.equal(again.recovery.cleanShutdown, true);
  assert.equal(again.recovery.rebuiltIndexes, 1);
  assert.equal(again.logEndOffset, 40);
  for (let o = 0; o < 40; o += 3) {
    assert.deepEqual(
      values(await again.read(o, 1, { minOneBatch: true }))[o % 2],
      `r${o >> 1}-${o % 2}`,
    );
  }
  assert.deepEqual(await again.read(0, 1 << 20), before);
  await again.close();
  await Deno.remove(root, { recursive: true });
});

Deno.test("offsetForTimestamp and maxTimestampAndOffset across segments", async () => {
  await withLog({ segmentBytes: 600, indexIntervalBytes: 50 }, async (_dir, log) => {
    // Batch i holds records with timestamps 10_000*i + (0, 1, 2); batch 7 holds the maximum.
    for (let i = 0; i < 12; i++) {
      const ts = i === 7 ? 900_000 : 10_000 * i;
      await log.append(batch(3, `b${i}`, { ts, size: 40 }));
    }
    assert.ok(log.segmentCount > 2);
    assert.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestamp: 0 });
    assert.deepEqual(await log.offsetForTimestamp(30_001), { offset: 10, timestamp: 30_001 });
    assert.deepEqual(await log.offsetForTimestamp(30_003), { offset: 12, timestamp: 40_000 });
    // Kafka semantics: the first offset with a timestamp >= target, even if out of order.
    assert.deepEqual(await log.offsetForTimestamp(110_002), { offset: 21, timestamp: 900_000 });
    assert.deepEqual(await log.offsetForTimestamp(60_002), { offset: 20, timestamp: 60_002 });
    assert.deepEqual(await log.offsetForTimestamp(800_000), { offset: 21, timestamp: 900_000 });
    assert.equal(await log.offsetForTimestamp(900_003), null);
    assert.deepEqual(await log.maxTimestampAndOffset(), { offset: 23, timestamp: 900_002 });
  });
});

Deno.test("timestamp lookups look inside compressed batches with a decompressor", async () => {
  const root = await Deno.makeTempDir({ prefix: "partition-log-" });
  const log = await PartitionLog.open(`${root}/z-0`, logConfig(), {
    topic: "z",
    partition: 0,
    decompress,
  });
  await log.append(batch(10, "g", { ts: 100, compression: 1 }));
  await log.append(batch(10, "g", { ts: 200, compression: 1 }));
  assert.deepEqual(await log.offsetForTimestamp(105), { offset: 5, timestamp: 105 });
  assert.deepEqual(await log.maxTimestampAndOffset(), { offset: 19, timestamp: 209 });
  await log.close();
  await Deno.remove(root, { recursive: true });
});

Deno.test("onAppend fires after each append until unsubscribed", async () => {
  await withLog({}, async (_dir, log) => {
    let calls = 0;
    const off = log.onAppend(() => calls++);
    await log.append(batch(1));
    await log.append(batch(1));
    off();
    await log.append(batch(1));
    assert.equal(calls, 2);
  });
});

Deno.test("transactions hold back the last stable offset until their marker", async () => {
  await withLog({}, async (_dir, log) => {
    await log.append(batch(2, "plain"));
    const txn = { producerId: 42, producerEpoch: 0, isTransactional: true };
    await log.append(batch(2, "t", { ...txn, baseSequence: 0 }));
    await log.append(batch(1, "u"));
    assert.equal(log.highWatermark, 5);
    assert.equal(log.lastStableOffset, 2);
    const marker = (type: number) =>
      encodeRecordBatch({
        isControl: true,
        isTransactional: true,
        producerId: 42,
        producerEpoch: 0,
        records: [endTxnMarker(type, 0)],
      });
    await log.append(marker(0), { origin: "coordinator" });
    assert.equal(log.lastStableOffset, 6);
    assert.deepEqual(log.abortedTransactions(0, 6), [
      { producerId: 42, firstOffset: 2, lastOffset: 5 },
    ]);
    assert.deepEqual(log.abortedTransactions(6, 10), []);
  });
});
