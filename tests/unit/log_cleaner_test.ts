/** LogCleaner: compaction results, tombstones, codecs, swap recovery, concurrency. */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { forEachBatch, totalSize } from "../../protocol/record_batch.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import { LogCleaner } from "../../storage/log_cleaner.ts";
import { type LogConfig, logConfig } from "../../storage/log_config.ts";
import { PartitionLog } from "../../storage/partition_log.ts";

const dec = new TextDecoder();

interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

async function readRecords(log: PartitionLog): Promise<{ recs: Rec[]; codecs: number[] }> {
  const recs: Rec[] = [];
  const codecs: number[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const buf = await log.read(offset, 1 << 20, { minOneBatch: true });
    if (buf.length === 0) break;
    forEachBatch(buf, (pos, h) => {
      const { header, records } = decodeRecords(buf.subarray(pos, pos + totalSize(h)));
      codecs.push(header.compression);
      for (const r of records) {
        recs.push({
          offset: header.baseOffset + r.offsetDelta,
          key: r.key && dec.decode(r.key),
          value: r.value && dec.decode(r.value),
          timestamp: header.baseTimestamp + r.timestampDelta,
        });
      }
      offset = header.baseOffset + header.lastOffsetDelta + 1;
    });
  }
  return { recs, codecs };
}

function batch(
  recs: { key: string | null; value: string | null }[],
  compression = 0,
  ts = Date.now(),
): Uint8Array {
  return encodeRecordBatch({
    compression,
    records: recs.map((r, i) => ({ key: r.key, value: r.value, timestamp: ts + i })),
  });
}

async function withLog(
  cfg: Partial<LogConfig>,
  fn: (log: PartitionLog, cleaner: LogCleaner, dir: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "cleaner-" });
  const dir = `${root}/c-0`;
  const config = logConfig({ segmentBytes: 1024, cleanupPolicy: "compact", ...cfg });
  const log = await PartitionLog.open(dir, config);
  const cleaner = new LogCleaner(
    { backoffMs: 10, dedupeBufferBytes: 1 << 20, checkpointDir: root },
    () => [log],
  );
  try {
    await fn(log, cleaner, dir);
  } finally {
    await cleaner.close();
    await log.close().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("compaction keeps the latest record per key at its original offset", async () => {
  await withLog({}, async (log, cleaner) => {
    const last = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const key = `k${i % 17}`;
      await log.append(batch([{ key, value: `v${i}` }]));
      last.set(key, i);
    }
    const before = (await readRecords(log)).recs;
    const res = await cleaner.cleanLog(log);
    assert.ok(res && res.segmentsRewritten > 0 && res.recordsRemoved > 0, JSON.stringify(res));
    const after = (await readRecords(log)).recs;
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    // Every record kept is an original one, unchanged, at its original offset.
    const byOffset = new Map(before.map((r) => [r.offset, r]));
    for (const r of after) assert.deepEqual(r, byOffset.get(r.offset));
    // Below the active segment each key appears once; the latest value of every key is kept.
    const cleanPart = after.filter((r) => r.offset < activeBase);
    const keys = cleanPart.map((r) => r.key);
    assert.equal(new Set(keys).size, keys.length, "one record per key in the cleaned part");
    const finalByKey = new Map<string, string>();
    for (const r of after) finalByKey.set(r.key!, r.value!);
    for (const [k, i] of last) assert.equal(finalByKey.get(k), `v${i}`);
    // The active segment was not touched.
    assert.deepEqual(
      after.filter((r) => r.offset >= activeBase),
      before.filter((r) => r.offset >= activeBase),
    );
    assert.equal(log.logEndOffset, 300);
    // A second pass with nothing new changes nothing.
    const again = await cleaner.cleanLog(log);
    assert.equal(again?.segmentsRewritten, 0);
  });
});

Deno.test("compressed batches are rewritten with their own codec", async () => {
  await withLog({ segmentBytes: 2048 }, async (log, cleaner) => {
    for (let i = 0; i < 80; i++) {
      const codec = i % 5; // none, gzip, snappy, lz4, zstd
      await log.append(batch(
        Array.from({ length: 4 }, (_, j) => ({ key: `k${(i * 4 + j) % 10}`, value: `v${i}-${j}` })),
        codec,
      ));
    }
    const { codecs: before } = await readRecords(log);
    await cleaner.cleanLog(log);
    const { recs, codecs } = await readRecords(log);
    assert.ok(codecs.length < before.length, "batches went");
    assert.deepEqual(new Set(codecs), new Set([0, 1, 2, 3, 4]));
    const last = new Map<string, string>();
    for (const r of recs) last.set(r.key!, r.value!);
    assert.equal(last.get("k9"), "v79-3"); // (79 * 4 + 3) % 10 == 9
  });
});

Deno.test("tombstones survive delete.retention.ms after the first pass, then go", async () => {
  await withLog({ deleteRetentionMs: 1000 }, async (log, cleaner) => {
    await log.append(batch([{ key: "gone", value: "x" }, { key: "kept", value: "y" }]));
    await log.append(batch([{ key: "gone", value: null }]));
    for (let i = 0; i < 40; i++) await log.append(batch([{ key: `f${i}`, value: "z".repeat(40) }]));
    const now = Date.now();
    await cleaner.cleanLog(log, now);
    let recs = (await readRecords(log)).recs;
    assert.deepEqual(recs.filter((r) => r.key === "gone").map((r) => r.value), [null]);
    assert.ok(cleaner.isDue(log, now + 1001), "a horizon passing makes the log due");
    assert.ok(!cleaner.isDue(log, now + 10));
    await cleaner.cleanLog(log, now + 1001);
    recs = (await readRecords(log)).recs;
    assert.deepEqual(recs.filter((r) => r.key === "gone"), []);
    assert.deepEqual(recs.filter((r) => r.key === "kept").map((r) => r.value), ["y"]);
  });
});

Deno.test("a compacted topic refuses records without a key", async () => {
  await withLog({}, async (log) => {
    await assert.rejects(
      log.append(batch([{ key: "a", value: "1" }, { key: null, value: "2" }])),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_RECORD,
    );
    assert.equal(log.logEndOffset, 0);
  });
});

Deno.test("a swap cut short by a crash is completed on open; .cleaned leftovers go", async () => {
  const root = await Deno.makeTempDir({ prefix: "cleaner-swap-" });
  try {
    const dir = `${root}/s-0`;
    const cfg = logConfig({ segmentBytes: 1024, cleanupPolicy: "compact" });
    let log = await PartitionLog.open(dir, cfg);
    for (let i = 0; i < 60; i++) await log.append(batch([{ key: `k${i % 3}`, value: `v${i}` }]));
    const first = log.closedSegments()[0];
    // The cleaned copy: just the segment's last batch (offsets kept).
    const all = await log.read(first.baseOffset, 1 << 20);
    let lastPos = 0;
    forEachBatch(all, (pos) => void (lastPos = pos));
    const cleaned = all.slice(lastPos);
    await log.close();
    const base = String(first.baseOffset).padStart(20, "0");
    await Deno.writeFile(`${dir}/${base}.log.swap`, cleaned);
    await Deno.remove(`${dir}/${base}.index`);
    await Deno.writeFile(`${dir}/00000000000000000040.log.cleaned`, new Uint8Array(10));
    log = await PartitionLog.open(dir, cfg);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.ok(!names.some((n) => n.endsWith(".swap") || n.endsWith(".cleaned")), String(names));
    const recs = (await readRecords(log)).recs;
    const firstSegEnd = first.endOffset;
    assert.deepEqual(
      recs.filter((r) => r.offset <= firstSegEnd).map((r) => r.offset),
      [firstSegEnd],
    );
    assert.equal(recs.length, 60 - firstSegEnd);
    assert.equal(log.logEndOffset, 60);
    await log.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("cleaning runs in slices: appends and reads proceed meanwhile", async () => {
  await withLog({ segmentBytes: 64 * 1024 }, async (log, cleaner) => {
    for (let i = 0; i < 1500; i++) {
      await log.append(batch(
        Array.from({ length: 20 }, (_, j) => ({ key: `k${(i * 20 + j) % 500}`, value: `v${i}` })),
      ));
    }
    let cleanDone = false;
    const cleaning = cleaner.cleanLog(log).then((r) => {
      cleanDone = true;
      return r;
    });
    let appendsDuringClean = 0;
    for (let i = 0; i < 50 && !cleanDone; i++) {
      await log.append(batch([{ key: "hot", value: `h${i}` }]));
      await log.read(log.logEndOffset - 1, 1000);
      if (!cleanDone) appendsDuringClean++;
      await new Promise((r) => setTimeout(r, 1));
    }
    const res = await cleaning;
    assert.ok(res && res.recordsRemoved > 0);
    assert.ok(appendsDuringClean >= 3, `only ${appendsDuringClean} appends interleaved`);
    const recs = (await readRecords(log)).recs;
    assert.deepEqual(
      recs.filter((r) => r.key === "hot").map((r) => r.value),
      Array.from({ length: recs.filter((r) => r.key === "hot").length }, (_, i) => `h${i}`),
    );
  });
});
