/** Retention by time and size, DeleteRecords and the log start checkpoint (storage layer). */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { logConfig } from "../../storage/log_config.ts";
import { LogManager } from "../../storage/log_manager.ts";
import { PartitionLog } from "../../storage/partition_log.ts";
import { waitFor } from "../support/wait.ts";

function batch(i: number, ts: number): Uint8Array {
  return encodeRecordBatch({
    records: Array.from({ length: 5 }, (_, j) => ({
      key: `k${j}`,
      value: `v-${i}-${j}`.padEnd(40, "."),
      timestamp: ts,
    })),
  });
}

async function rejectsWith(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof KafkaError && e.code === code);
}

async function withLog(
  cfg: Parameters<typeof logConfig>[0],
  fn: (log: PartitionLog) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "retention-" });
  const log = await PartitionLog.open(`${root}/r-0`, logConfig(cfg));
  try {
    await fn(log);
  } finally {
    await log.close();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("time retention deletes segments past retention.ms and moves the log start", async () => {
  const now = 10_000_000;
  await withLog({ segmentBytes: 600, retentionMs: 60_000 }, async (log) => {
    for (let i = 0; i < 10; i++) await log.append(batch(i, now - 120_000)); // expired
    for (let i = 10; i < 20; i++) await log.append(batch(i, now - 1_000)); // fresh
    const segs = log.segmentCount;
    const deleted = await log.deleteOldSegments(now);
    assert.ok(deleted > 0 && log.segmentCount === segs - deleted);
    assert.equal(log.logStartOffset, log.segmentBaseOffsets()[0]);
    assert.ok(log.logStartOffset >= 45 && log.logStartOffset <= 50, String(log.logStartOffset));
    await rejectsWith(log.read(0, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.ok((await log.read(log.logStartOffset, 1000)).length > 0);
    // Everything expired, the active segment included: roll, then delete all (Kafka).
    assert.ok(await log.deleteOldSegments(now + 3_600_000) > 0);
    assert.equal(log.segmentCount, 1);
    assert.equal(log.logStartOffset, 100);
    assert.equal(log.logEndOffset, 100);
    const r = await log.append(batch(99, now));
    assert.equal(r.baseOffset, 100);
  });
});

Deno.test("size retention keeps the newest segments within retention.bytes", async () => {
  await withLog({ segmentBytes: 600, retentionBytes: 2000, retentionMs: -1 }, async (log) => {
    for (let i = 0; i < 30; i++) await log.append(batch(i, Date.now()));
    const before = log.sizeInBytes;
    assert.ok(before > 2000);
    await log.deleteOldSegments();
    assert.ok(log.sizeInBytes <= 2000 + 600, `${log.sizeInBytes}`);
    assert.ok(log.sizeInBytes > 2000 - 600);
    assert.equal(log.logStartOffset, log.segmentBaseOffsets()[0]);
    assert.equal(log.logEndOffset, 150);
  });
});

Deno.test("compact-only topics keep their segments; DeleteRecords is refused", async () => {
  await withLog({ segmentBytes: 600, retentionMs: 1, cleanupPolicy: "compact" }, async (log) => {
    for (let i = 0; i < 10; i++) await log.append(batch(i, 1000));
    const segs = log.segmentCount;
    assert.equal(await log.deleteOldSegments(), 0);
    assert.equal(log.segmentCount, segs);
    await rejectsWith(log.deleteRecordsBefore(10), ErrorCode.POLICY_VIOLATION);
  });
});

Deno.test("DeleteRecords moves the log start, deletes whole segments below it, and survives restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "delete-records-" });
  try {
    let lm = await LogManager.open(dataDir);
    await lm.createTopic("d", 1, { "segment.bytes": "600", "retention.ms": "-1" });
    let log = lm.getPartition("d", 0)!;
    for (let i = 0; i < 20; i++) await log.append(batch(i, Date.now()));
    const segs = log.segmentCount;
    assert.equal(await log.deleteRecordsBefore(37), 37);
    assert.ok(log.segmentCount < segs);
    await rejectsWith(log.read(36, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.ok((await log.read(37, 1000)).length > 0, "the batch holding 37 is served");
    assert.equal(await log.deleteRecordsBefore(10), 37, "never moves back");
    await rejectsWith(log.deleteRecordsBefore(101), ErrorCode.OFFSET_OUT_OF_RANGE);
    await rejectsWith(log.deleteRecordsBefore(-7), ErrorCode.OFFSET_OUT_OF_RANGE);
    await lm.close();

    lm = await LogManager.open(dataDir);
    log = lm.getPartition("d", 0)!;
    assert.equal(log.logStartOffset, 37, "log-start-offset-checkpoint");
    assert.equal(await log.deleteRecordsBefore(-1), 100, "-1 means the high watermark");
    await lm.close();
    lm = await LogManager.open(dataDir);
    assert.equal(lm.getPartition("d", 0)!.logStartOffset, 100);
    await lm.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the retention pass follows config changes without a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "retention-cfg-" });
  const lm = await LogManager.open(dataDir, { retentionCheckIntervalMs: 20 });
  try {
    await lm.createTopic("c", 1, { "segment.bytes": "600", "retention.ms": "-1" });
    const log = lm.getPartition("c", 0)!;
    for (let i = 0; i < 10; i++) await log.append(batch(i, Date.now() - 3_600_000));
    lm.startBackgroundTasks();
    assert.equal(await lm.runRetention(), 0, "a retention pass deletes nothing yet");
    assert.equal(log.logStartOffset, 0);
    lm.updateTopicConfig("c", { "segment.bytes": "600", "retention.ms": "60000" });
    await waitFor("retention to move the log start", () => log.logStartOffset !== 0);
    assert.equal(log.logStartOffset, 50);
  } finally {
    await lm.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
