/**
 * A kill -9 at any point of a truncation leaves a log that opens, whole: a child process
 * (tests/support/truncation_crash_child.ts) appends and truncates a file-engine log in a
 * loop and is killed at a different moment each round; after each kill the log must open
 * with contiguous, CRC-valid batches, a leader epoch cache that agrees with every batch's
 * partition leader epoch and ends below the log end, and producer state that continues the
 * producer's sequence (and recognises a retry of its last batch).
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { forEachBatch, isCrcValid, totalSize } from "../../protocol/record_batch.ts";
import { logConfig } from "../../storage/log_config.ts";
import { PartitionLog } from "../../storage/partition_log.ts";
import { CRASH_PRODUCER_ID, CRASH_SEGMENT_BYTES } from "../support/truncation_crash_child.ts";

const CHILD = new URL("../support/truncation_crash_child.ts", import.meta.url).pathname;

/** Runs the child on `dir` until it has printed `cycles` lines, waits `extraMs`, kills it. */
async function runAndKill(dir: string, cycles: number, extraMs: number): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-check", CHILD, dir],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { TRIBUTARY_LOG_LEVEL: "error" },
  }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = 0;
  let text = "";
  try {
    while (seen < cycles) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
      seen = (text.match(/cycle \d+\n/g) ?? []).length;
    }
    if (extraMs > 0) await new Promise((r) => setTimeout(r, extraMs));
  } finally {
    child.kill("SIGKILL");
    reader.releaseLock();
    await child.stdout.cancel();
    const status = await child.status;
    const stderr = decoder.decode(await new Response(child.stderr).arrayBuffer());
    assert.equal(seen >= cycles, true, `the child stopped early: ${stderr}`);
    assert.equal(status.signal, "SIGKILL", stderr);
  }
}

async function checkLog(dir: string): Promise<void> {
  const log = await PartitionLog.open(dir, logConfig({ segmentBytes: CRASH_SEGMENT_BYTES }), {
    topic: "crash",
    partition: 0,
  });
  try {
    const entries = log.leaderEpochCache.epochEntries();
    let offset = log.logStartOffset;
    let lastSeq = -1;
    let lastBatch: { seq: number; count: number; base: number } | null = null;
    while (offset < log.logEndOffset) {
      const part = await log.read(offset, 1 << 20, { minOneBatch: true });
      assert.ok(part.length > 0, `nothing readable at ${offset} of ${log.logEndOffset}`);
      forEachBatch(part, (pos, h) => {
        assert.ok(isCrcValid(part, pos, totalSize(h)), `CRC of the batch at ${h.baseOffset}`);
        assert.equal(h.baseOffset, offset, "offsets are contiguous");
        // The epoch entry covering the batch names the batch's epoch.
        const covering = entries.filter((e) => e.startOffset <= h.baseOffset).at(-1);
        assert.equal(covering?.epoch, h.partitionLeaderEpoch, `epoch at ${h.baseOffset}`);
        assert.equal(h.baseSequence, lastSeq + 1, "sequences follow on");
        lastSeq = h.baseSequence + h.lastOffsetDelta;
        lastBatch = { seq: h.baseSequence, count: h.recordCount, base: h.baseOffset };
        offset = h.baseOffset + h.lastOffsetDelta + 1;
      });
    }
    for (let i = 1; i < entries.length; i++) {
      assert.ok(entries[i].epoch > entries[i - 1].epoch);
      assert.ok(entries[i].startOffset > entries[i - 1].startOffset);
    }
    if (entries.length > 0) assert.ok(entries.at(-1)!.startOffset < log.logEndOffset);
    // Producer state continues the sequence, and knows the last batch as a retry.
    if (lastBatch !== null) {
      const b = lastBatch as { seq: number; count: number; base: number };
      const retry = await log.append(
        encodeRecordBatch({
          producerId: CRASH_PRODUCER_ID,
          producerEpoch: 0,
          baseSequence: b.seq,
          records: Array.from({ length: b.count }, () => ({ value: "retry" })),
        }),
      );
      assert.deepEqual([retry.duplicate, retry.baseOffset], [true, b.base]);
    }
    const next = await log.append(
      encodeRecordBatch({
        producerId: CRASH_PRODUCER_ID,
        producerEpoch: 0,
        baseSequence: lastSeq + 1,
        records: [{ value: "after" }, { value: "the crash" }],
      }),
      { leaderEpoch: log.leaderEpochCache.latestEpoch + 1 },
    );
    assert.equal(next.duplicate, false);
  } finally {
    await log.close();
  }
}

Deno.test("a log killed -9 in the middle of truncations opens whole every time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "truncation-crash-" });
  try {
    for (const [cycles, extraMs] of [[1, 0], [2, 3], [3, 7], [2, 11], [4, 1]]) {
      await runAndKill(dir, cycles, extraMs);
      await checkLog(dir);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a truncation cut short after its segment deletions, or after its file cut, opens at that point", async () => {
  const dir = await Deno.makeTempDir({ prefix: "truncation-state-" });
  const cfg = logConfig({ segmentBytes: CRASH_SEGMENT_BYTES });
  const opts = { topic: "crash", partition: 0 };
  try {
    let log = await PartitionLog.open(dir, cfg, opts);
    for (let i = 0; i < 12; i++) {
      await log.append(
        encodeRecordBatch({
          producerId: CRASH_PRODUCER_ID,
          producerEpoch: 0,
          baseSequence: 2 * i,
          records: [{ value: `a${i}`, timestamp: 5000 + i }, {
            value: `b${i}`,
            timestamp: 5000 + i,
          }],
        }),
        { leaderEpoch: i < 6 ? 1 : i < 8 ? 2 : 3 },
      );
    }
    const bases = log.segmentBaseOffsets();
    assert.deepEqual(bases, [0, 6, 12, 18]);
    await log.close();
    // What a kill leaves: the newest segment renamed away (as truncateTo deletes it first),
    // the one before cut at a batch boundary with its index files as they were, no clean
    // shutdown marker, the epoch checkpoint and producer snapshots not yet trimmed.
    const name = (base: number, suffix: string) =>
      `${dir}/${String(base).padStart(20, "0")}${suffix}`;
    const newest = bases.at(-1)!;
    for (const s of [".log", ".index", ".timeindex"]) {
      await Deno.rename(name(newest, s), name(newest, s) + ".deleted");
    }
    const cutSegment = bases.at(-2)!;
    const cutAt = cutSegment + 2; // one two-record batch kept in that segment
    const f = await Deno.open(name(cutSegment, ".log"), { read: true, write: true });
    const header = new Uint8Array(12);
    await f.read(header);
    const firstSize = 12 + new DataView(header.buffer).getInt32(8);
    await f.truncate(firstSize);
    f.close();
    await Deno.remove(`${dir}/.kafka_cleanshutdown`);
    const checkpoint = await Deno.readTextFile(`${dir}/leader-epoch-checkpoint`);
    assert.equal(checkpoint, "0\n3\n1 0\n2 12\n3 16\n");

    log = await PartitionLog.open(dir, cfg, opts);
    assert.equal(log.logEndOffset, cutAt);
    assert.equal(log.recovery.cleanShutdown, false);
    // Trimmed to the log end: epoch 3 started at 16, which the cut lost.
    assert.deepEqual(log.leaderEpochCache.epochEntries(), [
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 12 },
    ]);
    assert.equal(await Deno.readTextFile(`${dir}/leader-epoch-checkpoint`), "0\n2\n1 0\n2 12\n");
    // The time index no longer names what was cut; producer state continues at the cut.
    assert.equal(await log.offsetForTimestamp(5000 + cutAt / 2), null);
    assert.deepEqual(await log.maxTimestampAndOffset(), {
      offset: cutAt - 2,
      timestamp: 5000 + cutAt / 2 - 1,
    });
    const next = await log.append(
      encodeRecordBatch({
        producerId: CRASH_PRODUCER_ID,
        producerEpoch: 0,
        baseSequence: cutAt,
        records: [{ value: "next" }],
      }),
      { leaderEpoch: 3 },
    );
    assert.deepEqual([next.baseOffset, next.duplicate], [cutAt, false]);
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.endsWith(".snapshot")) assert.ok(Number(e.name.slice(0, 20)) <= cutAt, e.name);
    }
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a truncation the disk fails takes the log out of service until it is reopened", async () => {
  const root = await Deno.makeTempDir({ prefix: "truncation-fail-" });
  const dir = `${root}/crash-0`;
  try {
    const log = await PartitionLog.open(dir, logConfig({ segmentBytes: CRASH_SEGMENT_BYTES }), {
      topic: "crash",
      partition: 0,
    });
    for (let i = 0; i < 6; i++) {
      await log.append(encodeRecordBatch({ records: [{ value: `v${i}` }] }));
    }
    // The directory goes away under the log (a failed disk, an operator's rm).
    await Deno.remove(dir, { recursive: true });
    const code = (c: number) => (e: unknown) => e instanceof KafkaError && e.code === c;
    await assert.rejects(log.truncateTo(2), code(ErrorCode.KAFKA_STORAGE_ERROR));
    await assert.rejects(log.read(0, 1000), code(ErrorCode.NOT_LEADER_OR_FOLLOWER));
    await assert.rejects(
      log.append(encodeRecordBatch({ records: [{ value: "x" }] })),
      code(ErrorCode.NOT_LEADER_OR_FOLLOWER),
    );
    await log.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
