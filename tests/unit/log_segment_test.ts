import assert from "node:assert/strict";
import { forEachBatch, readBatchHeader, totalSize } from "../../protocol/record_batch.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { logConfig } from "../../storage/log_config.ts";
import { LogSegment, segmentFileName } from "../../storage/log_segment.ts";

const config = logConfig({ indexIntervalBytes: 256 });

/** Batches of `count` records each with offsets starting at `base`, timestamps = 1000 * offset. */
function batches(base: number, n: number, count = 3, valueSize = 40): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let b = 0; b < n; b++) {
    const first = base + b * count;
    out.push(encodeRecordBatch({
      baseOffset: first,
      records: Array.from({ length: count }, (_, i) => ({
        value: "x".repeat(valueSize),
        timestamp: (first + i) * 1000,
      })),
    }));
  }
  return out;
}

function appendAll(seg: LogSegment, list: Uint8Array[]): void {
  for (const b of list) seg.append(b, [readBatchHeader(b)]);
}

function offsetsOf(buf: Uint8Array): number[] {
  const out: number[] = [];
  forEachBatch(buf, (_p, h) => void out.push(h.baseOffset));
  return out;
}

Deno.test("segment files use Kafka's 20-digit names", () => {
  assert.equal(segmentFileName(0, ".log"), "00000000000000000000.log");
  assert.equal(segmentFileName(1234567, ".index"), "00000000000001234567.index");
});

Deno.test("LogSegment append, translateOffset and read of whole batches", async () => {
  const dir = await Deno.makeTempDir({ prefix: "segment-" });
  const seg = LogSegment.create(dir, 100, config);
  const list = batches(100, 20);
  appendAll(seg, list);
  assert.equal(seg.size, list.reduce((n, b) => n + b.length, 0));
  assert.equal(seg.nextOffset, 160);
  assert.ok(seg.offsetIndex.entries > 0, "sparse entries every 256 bytes");

  const mid = seg.translateOffset(131)!;
  assert.equal(mid.header.baseOffset, 130);
  assert.equal(mid.position, list[0].length * 10);
  assert.equal(seg.translateOffset(160), null);

  assert.deepEqual(offsetsOf(seg.read(131, 3 * list[0].length)!), [130, 133, 136]);
  assert.deepEqual(offsetsOf(seg.read(131, 3 * list[0].length - 1)!), [130, 133]);
  assert.equal(seg.read(131, 10)!.length, 0);
  assert.deepEqual(offsetsOf(seg.read(131, 10, { minOneBatch: true })!), [130]);
  assert.deepEqual(offsetsOf(seg.read(100, 1 << 20, { maxOffset: 110 })!), [100, 103, 106]);
  assert.equal(seg.read(160, 1000), null);

  seg.close();
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(files, [
    "00000000000000000100.index",
    "00000000000000000100.log",
    "00000000000000000100.timeindex",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("LogSegment.recover truncates a torn tail and rebuilds identical indexes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "segment-" });
  const seg = LogSegment.create(dir, 0, config);
  const list = batches(0, 30);
  appendAll(seg, list);
  seg.close();
  const indexBytes = await Deno.readFile(seg.offsetIndex.path);
  const timeBytes = await Deno.readFile(seg.timeIndex.path);
  const whole = seg.size;

  // Half of one more batch, as a crash mid-write would leave it.
  const extra = batches(90, 1)[0];
  const f = await Deno.open(seg.logPath, { append: true });
  await f.write(extra.subarray(0, extra.length >> 1));
  f.close();

  const reopened = LogSegment.open(dir, 0, config);
  const r = reopened.recover(true);
  assert.equal(r.truncatedBytes, extra.length >> 1);
  assert.equal(r.validBytes, whole);
  assert.equal(r.nextOffset, 90);
  assert.equal((await Deno.stat(seg.logPath)).size, whole);
  reopened.close();
  assert.deepEqual(await Deno.readFile(reopened.offsetIndex.path), indexBytes);
  assert.deepEqual(await Deno.readFile(reopened.timeIndex.path), timeBytes);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("LogSegment.recover stops at a corrupt batch (CRC) and at garbage", async () => {
  const dir = await Deno.makeTempDir({ prefix: "segment-" });
  const seg = LogSegment.create(dir, 0, config);
  const list = batches(0, 10);
  appendAll(seg, list);
  seg.close();
  const bytes = await Deno.readFile(seg.logPath);
  const at = list[0].length * 7;
  bytes[at + 70] ^= 0xff; // inside batch 7's records
  await Deno.writeFile(seg.logPath, bytes);
  const r = LogSegment.open(dir, 0, config).recover(true);
  assert.equal(r.validBytes, at);
  assert.equal(r.nextOffset, 21);
  assert.match(r.reason!, /CRC/);

  await Deno.writeFile(seg.logPath, new Uint8Array(100).fill(0x55), { append: true });
  const g = LogSegment.open(dir, 0, config).recover(true);
  assert.equal(g.validBytes, at);
  assert.equal(g.truncatedBytes, 100);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("LogSegment rebuilds missing indexes lazily and finds offsets by timestamp", async () => {
  const dir = await Deno.makeTempDir({ prefix: "segment-" });
  const seg = LogSegment.create(dir, 0, config);
  appendAll(seg, batches(0, 40));
  seg.close();
  await Deno.remove(seg.offsetIndex.path);
  const reopened = LogSegment.open(dir, 0, config);
  assert.equal(reopened.indexFilesOk, false);
  assert.equal(reopened.translateOffset(77)!.header.baseOffset, 75);
  assert.ok(reopened.offsetIndex.entries > 0);
  assert.ok((await Deno.stat(reopened.offsetIndex.path)).size > 0);

  assert.deepEqual(reopened.findOffsetByTimestamp(50_500, 0), { offset: 51, timestamp: 51_000 });
  assert.deepEqual(reopened.findOffsetByTimestamp(0, 10), { offset: 10, timestamp: 10_000 });
  assert.equal(reopened.findOffsetByTimestamp(120_000, 0), null);
  assert.deepEqual(reopened.maxTimestampSoFar(), { timestamp: 119_000, offset: 119 });
  assert.equal(reopened.largestTimestamp, 119_000);
  reopened.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("LogSegment.timeWaitedForRoll measures from the first batch's timestamp", async () => {
  const dir = await Deno.makeTempDir({ prefix: "segment-" });
  const seg = LogSegment.create(dir, 0, config, 5);
  assert.equal(seg.timeWaitedForRoll(105, 0), 100); // empty: wall clock since creation
  const b = batches(0, 1)[0]; // maxTimestamp 2000
  seg.append(b, [readBatchHeader(b)]);
  assert.equal(seg.timeWaitedForRoll(0, 9_000), 7_000);
  assert.equal(totalSize(readBatchHeader(b)), b.length);
  seg.close();
  await Deno.remove(dir, { recursive: true });
});
