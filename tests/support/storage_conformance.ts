/**
 * One conformance suite for every storage engine (`runStorageConformance`): the file engine
 * and the memory engine must agree, byte for byte and offset for offset, on what a
 * PartitionLog and a LogManager do — appends and reads, the high watermark and last stable
 * offset, ListOffsets by timestamp, segment rolls, retention by size and time, DeleteRecords,
 * compaction,
 * idempotence and aborted transactions, and owning their bytes — or a test suite run on the memory engine would prove
 * nothing about the broker on disk. Reopening is the one case a non-durable engine skips, and
 * its test name says so.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  forEachBatch,
  isCrcValid,
  readBatchHeader,
  totalSize,
} from "../../protocol/record_batch.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import { type LogConfig, logConfig } from "../../storage/log_config.ts";
import type { StorageEngine } from "../../storage/local_log_store.ts";
import type { LogManager, LogManagerOptions } from "../../storage/log_manager.ts";
import { LogCleaner } from "../../storage/log_cleaner.ts";
import type { PartitionLog } from "../../storage/partition_log.ts";
import {
  baseOffsets,
  concat,
  marker,
  rejectsWith,
  testBatch as batch,
  values,
} from "./log_fixtures.ts";

export interface StorageHarness {
  engine: StorageEngine;
  /** Whether a reopened log holds what was appended before close. */
  durable: boolean;
  /** Opens a new, empty partition log named `name` (topic-partition). */
  open(name: string, config: Partial<LogConfig>): Promise<PartitionLog>;
  /** Closes `log` and opens the same partition again, as after a restart. */
  reopen(log: PartitionLog, config: Partial<LogConfig>): Promise<PartitionLog>;
  /** Opens a LogManager of this engine (a fresh one unless `again`: the same one reopened). */
  manager(opts?: LogManagerOptions & { again?: boolean }): Promise<LogManager>;
  cleanup(): Promise<void>;
}

/**
 * The `test` of a conformance suite: a Deno test named `<suite> (<engine>): what`, on a fresh
 * harness cleaned up after; one that `needs` durability is ignored, and says so in its name,
 * on an engine that is not durable.
 */
export function conformanceTest(
  suite: string,
  name: string,
  make: () => Promise<StorageHarness>,
  opts: { durable: boolean },
) {
  return (
    what: string,
    fn: (h: StorageHarness) => Promise<void>,
    needs: { durable?: boolean } = {},
  ) => {
    const skipped = needs.durable && !opts.durable;
    Deno.test({
      name: `${suite} (${name}): ${what}${
        skipped ? ` — skipped: the ${name} engine is not durable` : ""
      }`,
      ignore: skipped,
      fn: async () => {
        const h = await make();
        try {
          assert.equal(h.durable, opts.durable);
          await fn(h);
        } finally {
          await h.cleanup();
        }
      },
    });
  };
}

export function runStorageConformance(
  name: string,
  make: () => Promise<StorageHarness>,
  opts: { durable: boolean },
): void {
  const test = conformanceTest("storage", name, make, opts);
  const withLog = (
    what: string,
    config: Partial<LogConfig>,
    fn: (log: PartitionLog, h: StorageHarness) => Promise<void>,
  ) =>
    test(what, async (h) => {
      const log = await h.open("t-0", config);
      try {
        await fn(log, h);
      } finally {
        await log.close();
      }
    });

  withLog(
    "appends get consecutive offsets; reads return the batches byte for byte",
    {},
    async (log) => {
      assert.equal(log.durable, opts.durable);
      assert.equal(log.logEndOffset, 0);
      assert.equal((await log.read(0, 1 << 20)).length, 0);
      const a = batch(3, "a");
      const b = batch(2, "b");
      const two = concat([batch(1, "c"), batch(4, "d")]);
      const r1 = await log.append(a);
      const r2 = await log.append(b);
      const r3 = await log.append(two);
      assert.deepEqual(
        [r1, r2, r3].map((r) => [r.baseOffset, r.lastOffset, r.recordCount, r.duplicate]),
        [[0, 2, 3, false], [3, 4, 2, false], [5, 9, 5, false]],
      );
      assert.equal(log.logEndOffset, 10);
      assert.equal(log.highWatermark, 10);
      assert.equal(log.lastStableOffset, 10);
      assert.equal(log.logStartOffset, 0);
      // append() assigned offsets in place: the stored bytes are exactly these.
      const all = await log.read(0, 1 << 20);
      assert.deepEqual(all, concat([a, b, two]));
      assert.equal(log.sizeInBytes, all.length);
      assert.deepEqual(baseOffsets(all), [0, 3, 5, 6]);
      assert.deepEqual(values(all), [
        "a-0",
        "a-1",
        "a-2",
        "b-0",
        "b-1",
        "c-0",
        "d-0",
        "d-1",
        "d-2",
        "d-3",
      ]);
      forEachBatch(all, (pos, h) => assert.ok(isCrcValid(all, pos, totalSize(h))));
      // A read from inside a batch starts at that whole batch.
      assert.deepEqual(baseOffsets(await log.read(4, 1 << 20)), [3, 5, 6]);
      assert.deepEqual(baseOffsets(await log.read(8, 1 << 20)), [6]);
    },
  );

  withLog(
    "the log keeps its own bytes: neither the appended nor a read buffer aliases them",
    {},
    async (log) => {
      // The broker appends views of pooled request buffers and reuses read buffers afterwards.
      const appended = batch(2, "own");
      await log.append(appended);
      const stored = appended.slice();
      appended.fill(0);
      const first = await log.read(0, 1 << 20);
      assert.deepEqual(first, stored);
      first.fill(0xff);
      assert.deepEqual(await log.read(0, 1 << 20), stored);
      await log.append(batch(1, "more"));
      const both = await log.read(0, 1 << 20);
      both.fill(0);
      assert.deepEqual(values(await log.read(0, 1 << 20)), ["own-0", "own-1", "more-0"]);
    },
  );

  withLog("reads honour maxBytes, minOneBatch and the upper bound", {}, async (log) => {
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
    await rejectsWith(log.read(11, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    await rejectsWith(log.read(-1, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  withLog("an invalid append is refused whole and leaves the log as it was", {
    maxMessageBytes: 400,
  }, async (log) => {
    await log.append(batch(1, "ok"));
    const bad = batch(2);
    bad[bad.length - 1] ^= 1;
    await rejectsWith(log.append(concat([batch(1, "good"), bad])), ErrorCode.CORRUPT_MESSAGE);
    await rejectsWith(log.append(batch(1, "x", { size: 500 })), ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(log.logEndOffset, 1);
    assert.deepEqual(values(await log.read(0, 1 << 20)), ["ok-0"]);
    assert.equal((await log.append(batch(1, "next"))).baseOffset, 1);
  });

  withLog("a retried idempotent batch is a duplicate with its first offsets", {}, async (log) => {
    const idem = { producerId: 7, producerEpoch: 0 };
    await log.append(batch(2, "x"));
    const first = await log.append(batch(3, "p", { ...idem, baseSequence: 0 }));
    const again = await log.append(batch(3, "p", { ...idem, baseSequence: 0 }));
    assert.deepEqual([first.baseOffset, first.lastOffset, first.duplicate], [2, 4, false]);
    assert.deepEqual([again.baseOffset, again.lastOffset, again.duplicate], [2, 4, true]);
    await rejectsWith(
      log.append(batch(1, "gap", { ...idem, baseSequence: 9 })),
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    assert.equal(log.logEndOffset, 5);
  });

  withLog("transactions hold back the LSO; aborted ones are indexed", {}, async (log) => {
    await log.append(batch(2, "plain"));
    const t42 = { producerId: 42, producerEpoch: 0, isTransactional: true };
    const t43 = { producerId: 43, producerEpoch: 0, isTransactional: true };
    await log.append(batch(2, "t", { ...t42, baseSequence: 0 })); // 2-3
    await log.append(batch(1, "u", { ...t43, baseSequence: 0 })); // 4
    await log.append(batch(1, "v")); // 5
    assert.equal(log.highWatermark, 6);
    assert.equal(log.lastStableOffset, 2);
    // read_committed reads stop at the LSO.
    assert.deepEqual(baseOffsets(await log.read(0, 1 << 20, { upperBound: 2 })), [0]);
    await log.append(marker(42, false), { origin: "coordinator" }); // 6: abort 42
    assert.equal(log.lastStableOffset, 4);
    await log.append(marker(43, true), { origin: "coordinator" }); // 7: commit 43
    assert.equal(log.lastStableOffset, 8);
    assert.equal(log.highWatermark, 8);
    assert.deepEqual(log.abortedTransactions(0, 8), [
      { producerId: 42, firstOffset: 2, lastOffset: 6 },
    ]);
    assert.deepEqual(log.abortedTransactions(7, 8), []);
    // The markers carry today's time, the data 1970's: segment.ms rolled before the first.
    assert.deepEqual(log.segmentBaseOffsets(), [0, 6]);
    assert.deepEqual(baseOffsets(await log.read(0, 1 << 20)), [0, 2, 4, 5]);
    assert.deepEqual(baseOffsets(await log.read(6, 1 << 20)), [6, 7]);
  });

  withLog("segments roll at segment.bytes; every engine cuts them at the same offsets", {
    segmentBytes: 3 * batch(2, "s", { size: 50 }).length,
  }, async (log) => {
    for (let i = 0; i < 10; i++) await log.append(batch(2, "s", { size: 50 }));
    assert.deepEqual(log.segmentBaseOffsets(), [0, 6, 12, 18]);
    assert.equal(log.segmentCount, 4);
    // A read returns batches of one segment only.
    assert.deepEqual(baseOffsets(await log.read(2, 1 << 20)), [2, 4]);
    assert.deepEqual(baseOffsets(await log.read(6, 1 << 20)), [6, 8, 10]);
    assert.deepEqual(baseOffsets(await log.read(19, 1 << 20)), [18]);
  });

  withLog("segments roll at segment.ms, measured from the first batch's timestamp", {
    segmentMs: 60_000,
  }, async (log) => {
    const t0 = 5_000_000;
    await log.append(batch(1, "a", { ts: t0 }), { now: t0 });
    await log.append(batch(1, "b", { ts: t0 + 59_000 }), { now: t0 + 59_000 });
    await log.append(batch(1, "c", { ts: t0 + 61_000 }), { now: t0 + 61_000 });
    assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
  });

  withLog("LogAppendTime stamps the broker's clock and keeps the CRC valid", {
    messageTimestampType: "LogAppendTime",
  }, async (log) => {
    const r = await log.append(batch(3, "x", { ts: 1 }), { now: 777_000 });
    assert.equal(r.logAppendTime, 777_000);
    const buf = await log.read(0, 1 << 20);
    const h = readBatchHeader(buf, 0);
    assert.equal(h.maxTimestamp, 777_000);
    assert.ok(isCrcValid(buf, 0, totalSize(h)));
    assert.deepEqual(await log.offsetForTimestamp(777_000), { offset: 0, timestamp: 777_000 });
  });

  withLog("ListOffsets by timestamp and max timestamp, across segments", {
    segmentBytes: 600,
    indexIntervalBytes: 50,
  }, async (log) => {
    // Batch i holds records at 10_000*i + (0, 1, 2); batch 7 holds the maximum.
    for (let i = 0; i < 12; i++) {
      const ts = i === 7 ? 900_000 : 10_000 * i;
      await log.append(batch(3, `b${i}`, { ts, size: 40 }));
    }
    assert.ok(log.segmentCount > 2);
    assert.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestamp: 0 });
    assert.deepEqual(await log.offsetForTimestamp(30_001), { offset: 10, timestamp: 30_001 });
    assert.deepEqual(await log.offsetForTimestamp(30_003), { offset: 12, timestamp: 40_000 });
    assert.deepEqual(await log.offsetForTimestamp(110_002), { offset: 21, timestamp: 900_000 });
    assert.deepEqual(await log.offsetForTimestamp(60_002), { offset: 20, timestamp: 60_002 });
    assert.equal(await log.offsetForTimestamp(900_003), null);
    assert.deepEqual(await log.maxTimestampAndOffset(), { offset: 23, timestamp: 900_002 });
  });

  test("timestamp lookups look inside compressed batches", async (h) => {
    const log = await h.open("z-0", {});
    try {
      await log.append(batch(10, "g", { ts: 100, compression: 1 }));
      await log.append(batch(10, "g", { ts: 200, compression: 1 }));
      assert.deepEqual(await log.offsetForTimestamp(105), { offset: 5, timestamp: 105 });
      assert.deepEqual(await log.maxTimestampAndOffset(), { offset: 19, timestamp: 209 });
      assert.deepEqual(values(await log.read(0, 1 << 20)).length, 20);
    } finally {
      await log.close();
    }
  });

  withLog("time retention drops expired segments and moves the log start", {
    segmentBytes: 2 * batch(5, "x", { size: 40 }).length,
    retentionMs: 60_000,
  }, async (log) => {
    const now = 10_000_000;
    for (let i = 0; i < 10; i++) await log.append(batch(5, "x", { ts: now - 120_000, size: 40 }));
    for (let i = 0; i < 10; i++) await log.append(batch(5, "x", { ts: now - 1_000, size: 40 }));
    // Two batches (10 offsets) per segment: 0..40 expired, 50..90 fresh.
    assert.deepEqual(log.segmentBaseOffsets(), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert.equal(await log.deleteOldSegments(now), 5);
    assert.deepEqual(log.segmentBaseOffsets(), [50, 60, 70, 80, 90]);
    assert.equal(log.logStartOffset, 50);
    await rejectsWith(log.read(49, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.deepEqual(baseOffsets(await log.read(50, 1 << 20)), [50, 55]);
    // Everything expired, the active segment too: the log rolls and drops it all (Kafka).
    assert.equal(await log.deleteOldSegments(now + 3_600_000), 5);
    assert.deepEqual(log.segmentBaseOffsets(), [100]);
    assert.equal(log.logStartOffset, 100);
    assert.equal(log.logEndOffset, 100);
    assert.equal((await log.append(batch(1, "later", { ts: now }))).baseOffset, 100);
  });

  withLog("size retention keeps the newest segments within retention.bytes", {
    segmentBytes: 3 * batch(5, "x", { size: 40 }).length,
    retentionBytes: 7 * batch(5, "x", { size: 40 }).length,
    retentionMs: -1,
  }, async (log) => {
    const size = batch(5, "x", { size: 40 }).length;
    for (let i = 0; i < 20; i++) await log.append(batch(5, "x", { size: 40 }));
    // Segments of 3 batches (15 offsets): 0 15 30 45 60 75 90, the last one with 2 batches.
    assert.deepEqual(log.segmentBaseOffsets(), [0, 15, 30, 45, 60, 75, 90]);
    assert.equal(log.sizeInBytes, 20 * size);
    // 13 batches over the bound: whole segments go while what remains stays >= the bound.
    assert.equal(await log.deleteOldSegments(), 4);
    assert.deepEqual(log.segmentBaseOffsets(), [60, 75, 90]);
    assert.equal(log.logStartOffset, 60);
    assert.equal(log.sizeInBytes, 8 * size);
    assert.equal(log.logEndOffset, 100);
  });

  withLog("DeleteRecords moves the log start and drops whole segments below it", {
    segmentBytes: 3 * batch(5, "x").length,
  }, async (log) => {
    for (let i = 0; i < 9; i++) await log.append(batch(5, "x"));
    assert.deepEqual(log.segmentBaseOffsets(), [0, 15, 30]);
    assert.equal(await log.deleteRecordsBefore(17), 17);
    assert.equal(log.logStartOffset, 17);
    assert.deepEqual(log.segmentBaseOffsets(), [15, 30]);
    await rejectsWith(log.read(16, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.deepEqual(baseOffsets(await log.read(17, 1 << 20)), [15, 20, 25]);
    assert.equal(await log.deleteRecordsBefore(3), 17, "never moves back");
    await rejectsWith(log.deleteRecordsBefore(46), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(await log.deleteRecordsBefore(-1), 45);
    assert.equal((await log.read(45, 1000)).length, 0);
    assert.deepEqual(await log.offsetForTimestamp(0), null);
  });

  withLog(
    "DeleteRecords is refused on a compact-only topic",
    { cleanupPolicy: "compact" },
    async (log) => {
      await log.append(batch(2));
      await rejectsWith(log.deleteRecordsBefore(1), ErrorCode.POLICY_VIOLATION);
      assert.equal(log.logStartOffset, 0);
    },
  );

  withLog("compaction keeps each key's latest record at its offset, active segment untouched", {
    cleanupPolicy: "compact",
    segmentBytes: 3 *
      encodeRecordBatch({ records: [{ key: "k0", value: "v000", timestamp: 1_000_000 }] }).length,
  }, async (log) => {
    const size =
      encodeRecordBatch({ records: [{ key: "k0", value: "v000", timestamp: 1_000_000 }] }).length;
    for (let i = 0; i < 12; i++) {
      const value = `v${String(i).padStart(3, "0")}`;
      await log.append(
        encodeRecordBatch({ records: [{ key: `k${i % 4}`, value, timestamp: 1_000_000 + i }] }),
      );
    }
    assert.deepEqual(log.segmentBaseOffsets(), [0, 3, 6, 9]);
    const cleaner = new LogCleaner(
      { backoffMs: 60_000, dedupeBufferBytes: 1 << 20, checkpointDir: null },
      () => [log],
    );
    try {
      const r = await cleaner.cleanLog(log);
      // Closed segments 0..8: the latest k0 is 8, k1 5, k2 6, k3 7; 9..11 are the active one.
      assert.deepEqual(
        [r?.segmentsRewritten, r?.recordsRemoved, r?.firstDirtyOffset],
        [2, 5, 9],
      );
    } finally {
      await cleaner.close();
    }
    const got: string[] = [];
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const buf = await log.read(offset, 1 << 20, { minOneBatch: true });
      if (buf.length === 0) break;
      forEachBatch(buf, (pos, h) => {
        for (const rec of decodeRecords(buf.subarray(pos, pos + totalSize(h))).records) {
          const o = h.baseOffset + rec.offsetDelta;
          got.push(
            `${o}:${new TextDecoder().decode(rec.key!)}=${new TextDecoder().decode(rec.value!)}`,
          );
          offset = o + 1;
        }
      });
    }
    assert.deepEqual(got, [
      "5:k1=v005",
      "6:k2=v006",
      "7:k3=v007",
      "8:k0=v008",
      "9:k1=v009",
      "10:k2=v010",
      "11:k3=v011",
    ]);
    assert.deepEqual(log.segmentBaseOffsets(), [0, 3, 6, 9]);
    assert.equal(log.sizeInBytes, 7 * size);
    assert.equal(log.logStartOffset, 0);
    assert.equal(log.logEndOffset, 12);
    assert.deepEqual(await log.offsetForTimestamp(1_000_002), { offset: 5, timestamp: 1_000_005 });
  });

  withLog("a closed log refuses appends and reads with NOT_LEADER_OR_FOLLOWER", {}, async (log) => {
    await log.append(batch(1));
    await log.close();
    await rejectsWith(log.append(batch(1)), ErrorCode.NOT_LEADER_OR_FOLLOWER);
    await rejectsWith(log.read(0, 100), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  test("reopen keeps batches, offsets, producer state and aborted transactions", async (h) => {
    const cfg = { segmentBytes: 2 * batch(2, "r").length };
    let log = await h.open("d-0", cfg);
    const txn = { producerId: 9, producerEpoch: 0, isTransactional: true };
    await log.append(batch(2, "r"));
    await log.append(batch(2, "t", { ...txn, baseSequence: 0 }));
    await log.append(marker(9, false), { origin: "coordinator" });
    await log.append(batch(2, "r"));
    const before = await log.read(0, 1 << 20);
    const segments = log.segmentBaseOffsets();
    log = await h.reopen(log, cfg);
    try {
      assert.equal(log.logEndOffset, 7);
      assert.deepEqual(log.segmentBaseOffsets(), segments);
      assert.deepEqual(await log.read(0, 1 << 20), before);
      assert.deepEqual(log.abortedTransactions(0, 7), [
        { producerId: 9, firstOffset: 2, lastOffset: 4 },
      ]);
      // The producer's sequence survived: a gap is refused, the next sequence goes on.
      await rejectsWith(
        log.append(batch(1, "t", { ...txn, baseSequence: 9 })),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.equal((await log.append(batch(1, "t", { ...txn, baseSequence: 2 }))).baseOffset, 7);
    } finally {
      await log.close();
    }
  }, { durable: true });

  test("LogManager: create, list, grow, configure and delete topics", async (h) => {
    const lm = await h.manager();
    try {
      assert.equal(lm.engine, h.engine);
      const meta = await lm.createTopic("orders", 2, { "retention.ms": 60_000 });
      assert.equal(meta.partitions, 2);
      assert.equal(lm.topicConfig("orders")!.retentionMs, 60_000);
      await rejectsWith(lm.createTopic("orders", 1), ErrorCode.TOPIC_ALREADY_EXISTS);
      await rejectsWith(lm.createTopic("bad name!", 1), ErrorCode.INVALID_TOPIC_EXCEPTION);
      await lm.getPartition("orders", 1)!.append(batch(3, "o"));
      assert.equal(lm.getPartition("orders", 1)!.logEndOffset, 3);
      await lm.createPartitions("orders", 3);
      assert.equal(lm.getTopic("orders")!.partitions, 3);
      assert.equal(lm.getPartition("orders", 2)!.logEndOffset, 0);
      lm.updateTopicConfig("orders", { "retention.ms": 1000 });
      assert.equal(lm.getPartition("orders", 0)!.config.retentionMs, 1000);
      assert.deepEqual(lm.listTopics().map((t) => t.name), ["orders"]);
      await lm.deleteTopic("orders");
      assert.equal(lm.getTopic("orders"), undefined);
      // The same name again is a new, empty topic.
      const again = await lm.createTopic("orders", 1);
      assert.notEqual(again.topicId, meta.topicId);
      assert.equal(lm.getPartition("orders", 0)!.logEndOffset, 0);
    } finally {
      await lm.close();
    }
  });

  test("LogManager: the retention pass deletes by the topic's retention.bytes", async (h) => {
    const size = batch(5, "x").length;
    const lm = await h.manager({ retentionCheckIntervalMs: 3_600_000 });
    try {
      await lm.createTopic("r", 1, {});
      const log = lm.getPartition("r", 0)!;
      log.config = logConfig({ segmentBytes: size, retentionBytes: 2 * size, retentionMs: -1 });
      for (let i = 0; i < 6; i++) await log.append(batch(5, "x"));
      assert.equal(await lm.runRetention(), 4);
      assert.equal(log.logStartOffset, 20);
      assert.deepEqual(log.segmentBaseOffsets(), [20, 25]);
    } finally {
      await lm.close();
    }
  });

  test("LogManager: topics, data and log start offsets survive a reopen", async (h) => {
    let lm = await h.manager();
    await lm.createTopic("kept", 1);
    await lm.getPartition("kept", 0)!.append(batch(4, "k"));
    await lm.getPartition("kept", 0)!.deleteRecordsBefore(1);
    await lm.close();
    lm = await h.manager({ again: true });
    try {
      assert.deepEqual(lm.listTopics().map((t) => t.name), ["kept"]);
      assert.equal(lm.getPartition("kept", 0)!.logEndOffset, 4);
      assert.equal(lm.getPartition("kept", 0)!.logStartOffset, 1, "the checkpoint applies");
    } finally {
      await lm.close();
    }
  }, { durable: true });

  test("LogManager: a memory manager starts empty, a file one with what it held", async (h) => {
    let lm = await h.manager();
    await lm.createTopic("once", 1);
    await lm.close();
    lm = await h.manager({ again: true });
    try {
      assert.deepEqual(lm.listTopics().map((t) => t.name), h.durable ? ["once"] : []);
    } finally {
      await lm.close();
    }
  });
}
