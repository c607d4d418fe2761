/**
 * replication-offset-checkpoint: LogManager writes the managed high watermarks in Kafka's
 * OffsetCheckpointFile format on its interval and on close, leaves single-replica partitions
 * out (so they keep following the log end after a restart), and a reopened partition found in
 * it starts managed at min(checkpoint, log end offset).
 */
import assert from "node:assert/strict";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { HIGH_WATERMARK_CHECKPOINT_FILE } from "../../storage/high_watermark_checkpoint.ts";
import { LogManager } from "../../storage/log_manager.ts";
import { until } from "../support/wait.ts";

function batch(n: number): Uint8Array {
  return encodeRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ value: `v${i}`, timestamp: 1000 + i })),
  });
}

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

Deno.test("HW checkpoint: none is written while every high watermark follows the log end", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "hw-checkpoint-" });
  try {
    let lm = await LogManager.open(dataDir);
    await lm.createTopic("plain", 1, {});
    await lm.getPartition("plain", 0)!.append(batch(3));
    await lm.close();
    assert.equal(await readText(`${dataDir}/meta/${HIGH_WATERMARK_CHECKPOINT_FILE}`), null);
    lm = await LogManager.open(dataDir);
    const log = lm.getPartition("plain", 0)!;
    assert.equal(log.highWatermarkFollowsLogEnd, true);
    assert.equal(log.highWatermark, 3);
    await lm.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("HW checkpoint: managed high watermarks round-trip through a clean close", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "hw-checkpoint-" });
  const path = `${dataDir}/meta/${HIGH_WATERMARK_CHECKPOINT_FILE}`;
  try {
    let lm = await LogManager.open(dataDir);
    await lm.createTopic("orders", 3, {});
    for (let p = 0; p < 3; p++) await lm.getPartition("orders", p)!.append(batch(4 + p));
    for (const p of [1, 2]) lm.getPartition("orders", p)!.highWatermarkFollowsLogEnd = false;
    lm.getPartition("orders", 1)!.updateHighWatermark(2);
    await lm.getPartition("orders", 2)!.append(batch(1)); // HW stays at 6, LEO 7
    await lm.close();
    const text = await readText(path);
    assert.ok(text !== null);
    const lines = text.split("\n");
    assert.deepEqual(lines.slice(0, 2), ["0", "2"]);
    assert.deepEqual(lines.slice(2).filter((l) => l !== "").sort(), ["orders 1 2", "orders 2 6"]);
    assert.equal(text.endsWith("\n"), true);

    lm = await LogManager.open(dataDir);
    const [p0, p1, p2] = [0, 1, 2].map((p) => lm.getPartition("orders", p)!);
    assert.deepEqual([p0.highWatermarkFollowsLogEnd, p0.highWatermark], [true, 4]);
    assert.deepEqual([p1.highWatermarkFollowsLogEnd, p1.highWatermark, p1.logEndOffset], [
      false,
      2,
      5,
    ]);
    assert.deepEqual([p2.highWatermarkFollowsLogEnd, p2.highWatermark, p2.logEndOffset], [
      false,
      6,
      7,
    ]);
    // Reads by consumers stop at the checkpointed high watermark.
    assert.equal(p1.fetchUpperBound("highWatermark"), 2);
    // Back to a single replica: the next checkpoint leaves it out.
    p2.highWatermarkFollowsLogEnd = true;
    lm.highWatermarkCheckpointer.checkpoint();
    assert.equal(await readText(path), "0\n1\norders 1 2\n");
    await lm.close();

    // Once no partition is managed, the file says so: after the next restart none opens managed.
    lm = await LogManager.open(dataDir);
    lm.getPartition("orders", 1)!.highWatermarkFollowsLogEnd = true;
    lm.highWatermarkCheckpointer.checkpoint();
    assert.equal(await readText(path), "0\n0\n");
    await lm.close();
    lm = await LogManager.open(dataDir);
    for (let p = 0; p < 3; p++) {
      assert.equal(lm.getPartition("orders", p)!.highWatermarkFollowsLogEnd, true);
    }
    await lm.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("HW checkpoint: a checkpoint above the log end opens at the log end", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "hw-checkpoint-" });
  const path = `${dataDir}/meta/${HIGH_WATERMARK_CHECKPOINT_FILE}`;
  try {
    let lm = await LogManager.open(dataDir);
    await lm.createTopic("t", 1, {});
    await lm.getPartition("t", 0)!.append(batch(5));
    await lm.close();
    // As after a crash that lost the log's tail but not the checkpoint.
    await Deno.writeTextFile(path, "0\n1\nt 0 99\n");
    lm = await LogManager.open(dataDir);
    const log = lm.getPartition("t", 0)!;
    assert.deepEqual([log.highWatermarkFollowsLogEnd, log.highWatermark], [false, 5]);
    await lm.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("HW checkpoint: written on its interval while running", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "hw-checkpoint-" });
  const path = `${dataDir}/meta/${HIGH_WATERMARK_CHECKPOINT_FILE}`;
  const lm = await LogManager.open(dataDir, { highWatermarkCheckpointIntervalMs: 10 });
  try {
    await lm.createTopic("t", 1, {});
    const log = lm.getPartition("t", 0)!;
    await log.append(batch(5));
    log.highWatermarkFollowsLogEnd = false;
    log.updateHighWatermark(3);
    lm.startBackgroundTasks();
    await until(
      "the checkpoint naming HW 3",
      async () => (await readText(path)) === "0\n1\nt 0 3\n",
    );
    log.updateHighWatermark(4);
    await until(
      "the checkpoint naming HW 4",
      async () => (await readText(path)) === "0\n1\nt 0 4\n",
    );
  } finally {
    await lm.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a follower's truncations and its HW survive a LogManager restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "hw-checkpoint-" });
  try {
    let lm = await LogManager.open(dataDir);
    await lm.createTopic("f", 2, {});
    const a = lm.getPartition("f", 0)!;
    const b = lm.getPartition("f", 1)!;
    for (const log of [a, b]) {
      log.highWatermarkFollowsLogEnd = false;
      for (let i = 0; i < 5; i++) await log.append(batch(2), { leaderEpoch: 1 + (i >> 1) });
      log.updateHighWatermark(8);
    }
    await a.truncateTo(6); // diverged after 6: the HW follows it down
    await b.truncateFullyAndStartAt(40); // the leader no longer holds anything it has
    await lm.close();

    lm = await LogManager.open(dataDir);
    const a2 = lm.getPartition("f", 0)!;
    const b2 = lm.getPartition("f", 1)!;
    assert.deepEqual(
      [a2.logStartOffset, a2.logEndOffset, a2.highWatermark, a2.highWatermarkFollowsLogEnd],
      [0, 6, 6, false],
    );
    assert.deepEqual(a2.leaderEpochCache.epochEntries(), [
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 4 },
    ]);
    assert.deepEqual(
      [b2.logStartOffset, b2.logEndOffset, b2.highWatermark, b2.highWatermarkFollowsLogEnd],
      [40, 40, 40, false],
    );
    assert.equal(b2.leaderEpochCache.latestEpoch, -1);
    await lm.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
