/**
 * Storage throughput: appending 16 KiB batches (16 records of 1 KiB) to a PartitionLog, and
 * reading by offset. Each group has a baseline so Deno prints ratios:
 *   append: validateBatches alone (the CRC pass every append pays) vs a full append, and a
 *           follower's append of the same bytes (appendAsFollower);
 *   read:   a raw 16 KiB pread at a known position vs PartitionLog.read (index lookup + header
 *           walk + one read) for one batch and for 1 MiB.
 * The memory engine (`storage: "memory"`) runs the same appends and reads for comparison.
 * MB/s = 16384 / (µs per iteration) for the 16 KiB cases.
 */
import { closeSync, openSync, readSync } from "node:fs";
import {
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateBatches,
} from "../protocol/record_batch.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import { logConfig } from "../storage/log_config.ts";
import { PartitionLog } from "../storage/partition_log.ts";

const root = await Deno.makeTempDir({ prefix: "storage-bench-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(root, { recursive: true });
  } catch {
    // best effort
  }
});

const value = new Uint8Array(1024).map((_, i) => (i * 31) & 0xff);
const now = Date.now();
const template = encodeRecordBatch({
  records: Array.from({ length: 16 }, (_, i) => ({ key: `k${i}`, value, timestamp: now + i })),
});
const config = logConfig({ segmentBytes: 256 * 1024 * 1024 });

// A log to append to (rolls every 256 MiB) and a separate, prefilled one to read from.
const appendLog = await PartitionLog.open(`${root}/append-0`, config);
const appendLogAppendTime = await PartitionLog.open(
  `${root}/append-1`,
  logConfig({ ...config, messageTimestampType: "LogAppendTime" }),
);
const readLog = await PartitionLog.open(`${root}/read-0`, config);
const READ_BATCHES = 4096; // 64 MiB
for (let i = 0; i < READ_BATCHES; i++) await readLog.append(template.slice());
const readEnd = readLog.logEndOffset;
const rawFd = openSync(`${root}/read-0/${"0".repeat(20)}.log`, "r");
const rawBuf = new Uint8Array(template.length);
let seed = 42;
const nextRandom = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);

Deno.bench({
  name: "validateBatches 16 KiB batch",
  group: "append",
  baseline: true,
  fn: () => {
    validateBatches(template);
  },
});

// append() patches baseOffset in place, so one buffer can be appended again and again.
const appendBuf = template.slice();
Deno.bench({
  name: "PartitionLog.append 16 KiB batch (16 x 1 KiB)",
  group: "append",
  fn: async () => {
    await appendLog.append(appendBuf);
  },
});

const appendTimeBuf = template.slice();
Deno.bench({
  name: "PartitionLog.append 16 KiB batch, LogAppendTime (CRC recomputed)",
  group: "append",
  fn: async () => {
    // The append stamps LogAppendTime into the buffer, and a producer batch claiming it is
    // refused (as Kafka does): start each round from the producer's bytes again.
    appendTimeBuf.set(template);
    await appendLogAppendTime.append(appendTimeBuf);
  },
});

// A follower stores the leader's bytes as they are: only the base offset (outside the CRC'd
// bytes) is moved to the follower's log end for each round.
const followerLog = await PartitionLog.open(`${root}/follower-0`, config);
const followerBuf = template.slice();
setPartitionLeaderEpoch(followerBuf, 0, 1);
Deno.bench({
  name: "PartitionLog.appendAsFollower 16 KiB batch (CRC check, no validation)",
  group: "append",
  fn: async () => {
    setBaseOffset(followerBuf, 0, followerLog.logEndOffset);
    await followerLog.appendAsFollower(followerBuf);
  },
});

Deno.bench({
  name: "raw pread 16 KiB at a known position",
  group: "read",
  baseline: true,
  fn: () => {
    const batch = nextRandom() % READ_BATCHES;
    readSync(rawFd, rawBuf, 0, rawBuf.length, batch * template.length);
  },
});

Deno.bench({
  name: "PartitionLog.read random offset, maxBytes 16 KiB (one batch)",
  group: "read",
  fn: async () => {
    await readLog.read(nextRandom() % readEnd, template.length);
  },
});

Deno.bench({
  name: "PartitionLog.read random offset, maxBytes 1 MiB (64 batches)",
  group: "read",
  fn: async () => {
    await readLog.read(nextRandom() % (readEnd - 1100), 1024 * 1024);
  },
});

Deno.bench({
  name: "PartitionLog.read at the tail (consumer caught up, one batch)",
  group: "read",
  fn: async () => {
    await readLog.read(readEnd - 1, 1024 * 1024);
  },
});

// Small batches (one 100-byte record each, as a producer with linger.ms=0 sends them): about
// forty of them between two offset index entries, so finding an offset walks their headers.
const smallLog = await PartitionLog.open(`${root}/small-0`, config);
const small = encodeRecordBatch({
  records: [{ key: null, value: value.subarray(0, 100), timestamp: now }],
});
for (let i = 0; i < 20_000; i++) await smallLog.append(small.slice());
const smallEnd = smallLog.logEndOffset;
Deno.bench({
  name: "PartitionLog.read random offset among 100 B batches, maxBytes 16 KiB",
  group: "read",
  fn: async () => {
    await smallLog.read(nextRandom() % smallEnd, 16 * 1024);
  },
});

// The memory engine: the same rules, batches kept as Uint8Arrays. Retention (64 MiB, checked
// every 1024 appends) keeps the appended log from growing with the iteration count.
const memoryConfig = logConfig({ ...config, segmentBytes: 16 << 20, retentionBytes: 64 << 20 });
const memoryAppendLog = await PartitionLog.open("memory-append-0", memoryConfig, {
  topic: "memory-append",
  partition: 0,
  engine: "memory",
});
const memoryAppendBuf = template.slice();
let memoryAppends = 0;
Deno.bench({
  name: "memory engine: PartitionLog.append 16 KiB batch",
  group: "append",
  fn: async () => {
    await memoryAppendLog.append(memoryAppendBuf);
    if (++memoryAppends % 1024 === 0) await memoryAppendLog.deleteOldSegments();
  },
});
const memoryReadLog = await PartitionLog.open("memory-read-0", config, {
  topic: "memory-read",
  partition: 0,
  engine: "memory",
});
for (let i = 0; i < READ_BATCHES; i++) await memoryReadLog.append(template.slice());
Deno.bench({
  name: "memory engine: PartitionLog.read random offset, maxBytes 16 KiB (one batch)",
  group: "read",
  fn: async () => {
    await memoryReadLog.read(nextRandom() % readEnd, template.length);
  },
});
Deno.bench({
  name: "memory engine: PartitionLog.read random offset, maxBytes 1 MiB (64 batches)",
  group: "read",
  fn: async () => {
    await memoryReadLog.read(nextRandom() % (readEnd - 1100), 1024 * 1024);
  },
});

globalThis.addEventListener("unload", () => closeSync(rawFd));
