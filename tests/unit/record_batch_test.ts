import assert from "node:assert/strict";
import { crc32c } from "../../protocol/crc32c.ts";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  compression,
  computeBatchCrc,
  ControlRecordType,
  forEachBatch,
  forEachRecordTimestamp,
  incrementSequence,
  isControl,
  isCrcValid,
  isTransactional,
  lastOffset,
  lastSequence,
  LOG_OVERHEAD,
  readBatchHeader,
  readControlRecordType,
  RECORD_BATCH_OVERHEAD,
  recordFramingError,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  timestampType,
  totalSize,
  validateBatches,
} from "../../protocol/record_batch.ts";
import { decodeRecords, encodeRecordBatch, endTxnMarker } from "../../protocol/records.ts";

/** One record, built byte by byte: length, attributes, tsDelta, offsetDelta, key, value, headers. */
function handBuiltBatch(): Uint8Array {
  const record = [0x10, 0x00, 0x00, 0x00, 0x01, 0x06, 0x61, 0x62, 0x63, 0x00]; // len 8 zigzag=16
  // attributes 0, tsDelta 0, offsetDelta 0, key null (-1 => 1), value "abc" (3 => 6), 0 headers
  const buf = new Uint8Array(RECORD_BATCH_OVERHEAD + record.length);
  const v = new DataView(buf.buffer);
  v.setBigInt64(0, 42n); // baseOffset
  v.setInt32(8, buf.length - LOG_OVERHEAD); // batchLength
  v.setInt32(12, 7); // partitionLeaderEpoch
  v.setInt8(16, 2); // magic
  v.setInt16(21, 0x0001 | 0x0010); // gzip bits + transactional (not actually compressed)
  v.setInt32(23, 0); // lastOffsetDelta
  v.setBigInt64(27, 1_700_000_000_000n); // baseTimestamp
  v.setBigInt64(35, 1_700_000_000_005n); // maxTimestamp
  v.setBigInt64(43, 9001n); // producerId
  v.setInt16(51, 3); // producerEpoch
  v.setInt32(53, 17); // baseSequence
  v.setInt32(57, 1); // recordCount
  buf.set(record, RECORD_BATCH_OVERHEAD);
  v.setUint32(17, crc32c(buf, 0, 21));
  return buf;
}

function batch(n: number, ts = 1_000, extra: Record<string, unknown> = {}): Uint8Array {
  return encodeRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ value: `v${i}`, timestamp: ts + i })),
    ...extra,
  });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  return out;
}

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof KafkaError) return e.code;
    throw e;
  }
  return ErrorCode.NONE;
}

Deno.test("readBatchHeader parses a hand-built batch", () => {
  const buf = handBuiltBatch();
  const h = readBatchHeader(buf);
  assert.equal(h.baseOffset, 42);
  assert.equal(h.batchLength, buf.length - 12);
  assert.equal(h.partitionLeaderEpoch, 7);
  assert.equal(h.magic, 2);
  assert.equal(h.crc, crc32c(buf, 0, 21));
  assert.equal(h.lastOffsetDelta, 0);
  assert.equal(h.baseTimestamp, 1_700_000_000_000);
  assert.equal(h.maxTimestamp, 1_700_000_000_005);
  assert.equal(h.producerId, 9001);
  assert.equal(h.producerEpoch, 3);
  assert.equal(h.baseSequence, 17);
  assert.equal(h.recordCount, 1);
  assert.equal(compression(h), 1);
  assert.equal(isTransactional(h), true);
  assert.equal(isControl(h), false);
  assert.equal(timestampType(h), "CreateTime");
  assert.equal(lastOffset(h), 42);
  assert.equal(totalSize(h), buf.length);
  assert.equal(lastSequence(h), 17);
  assert.ok(isCrcValid(buf, 0, buf.length));
});

Deno.test("readBatchHeader agrees with the record codec and reads at an offset", () => {
  const b = batch(3, 5000, { producerId: 77, producerEpoch: 2, baseSequence: 10 });
  const buf = concat(new Uint8Array(5), b);
  const h = readBatchHeader(buf, 5);
  const d = decodeRecords(b).header;
  assert.equal(h.recordCount, d.recordCount);
  assert.equal(h.lastOffsetDelta, 2);
  assert.equal(h.maxTimestamp, 5002);
  assert.equal(h.producerId, 77);
  assert.equal(lastSequence(h), 12);
  assert.equal(code(() => readBatchHeader(buf.subarray(0, 45), 5)), ErrorCode.CORRUPT_MESSAGE);
  assert.equal(code(() => readBatchHeader(buf, buf.length)), ErrorCode.CORRUPT_MESSAGE);
});

Deno.test("validateBatches splits a payload into whole batches", () => {
  const payload = concat(batch(2), batch(5), batch(1));
  const hs = validateBatches(payload);
  assert.deepEqual(hs.map((h) => h.recordCount), [2, 5, 1]);
  assert.equal(hs.reduce((n, h) => n + totalSize(h), 0), payload.length);
});

Deno.test("validateBatches rejects magic 0/1 with UNSUPPORTED_FOR_MESSAGE_FORMAT", () => {
  const b = batch(1);
  b[16] = 1;
  assert.equal(code(() => validateBatches(b)), ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
  // A small legacy v0 message (14-byte body) is reported as unsupported, not corrupt.
  const legacy = new Uint8Array(12 + 14 + 3);
  new DataView(legacy.buffer).setInt32(8, 14 + 3);
  legacy[16] = 0;
  assert.equal(code(() => validateBatches(legacy)), ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
});

Deno.test("validateBatches: flipped CRC byte, truncation, empty and short lengths are CORRUPT_MESSAGE", () => {
  const flipped = batch(3);
  flipped[flipped.length - 2] ^= 0x40;
  assert.equal(code(() => validateBatches(flipped)), ErrorCode.CORRUPT_MESSAGE);
  const crcByte = batch(3);
  crcByte[18] ^= 1;
  assert.equal(code(() => validateBatches(crcByte)), ErrorCode.CORRUPT_MESSAGE);

  const whole = concat(batch(2), batch(2));
  assert.equal(code(() => validateBatches(whole.subarray(0, whole.length - 1))), 2);
  assert.equal(code(() => validateBatches(whole.subarray(0, 20))), ErrorCode.CORRUPT_MESSAGE);
  assert.equal(code(() => validateBatches(whole.subarray(0, 10))), ErrorCode.CORRUPT_MESSAGE);
  assert.equal(code(() => validateBatches(new Uint8Array(0))), ErrorCode.CORRUPT_MESSAGE);

  const short = batch(1);
  new DataView(short.buffer).setInt32(8, 48);
  assert.equal(code(() => validateBatches(short)), ErrorCode.CORRUPT_MESSAGE);
});

Deno.test("validateBatches checks record count against lastOffsetDelta", () => {
  const patch = (b: Uint8Array, f: (v: DataView) => void) => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    f(v);
    v.setUint32(17, computeBatchCrc(b, 0, b.length));
    return b;
  };
  const gap = patch(batch(3), (v) => v.setInt32(23, 5));
  assert.equal(code(() => validateBatches(gap)), ErrorCode.CORRUPT_MESSAGE);
  const negative = patch(batch(3), (v) => v.setInt32(57, -1));
  assert.equal(code(() => validateBatches(negative)), ErrorCode.CORRUPT_MESSAGE);
  const zero = patch(batch(1), (v) => {
    v.setInt32(57, 0);
    v.setInt32(23, -1);
  });
  assert.equal(code(() => validateBatches(zero)), ErrorCode.CORRUPT_MESSAGE);
});

Deno.test("validateBatches enforces maxBatchBytes with MESSAGE_TOO_LARGE", () => {
  const b = batch(10);
  assert.equal(validateBatches(b, b.length).length, 1);
  assert.equal(code(() => validateBatches(b, b.length - 1)), ErrorCode.MESSAGE_TOO_LARGE);
});

Deno.test("setBaseOffset and setPartitionLeaderEpoch leave the CRC valid", () => {
  const b = batch(4);
  setBaseOffset(b, 0, 2 ** 40 + 3);
  setPartitionLeaderEpoch(b, 0, 12);
  const h = readBatchHeader(b);
  assert.equal(h.baseOffset, 2 ** 40 + 3);
  assert.equal(h.partitionLeaderEpoch, 12);
  assert.ok(isCrcValid(b, 0, b.length));
  assert.equal(decodeRecords(b).records.length, 4);
});

Deno.test("setLogAppendTime sets maxTimestamp and the type bit and recomputes the CRC", () => {
  const b = concat(batch(1), batch(3, 100, { producerId: 5, producerEpoch: 0, baseSequence: 0 }));
  const pos = totalSize(readBatchHeader(b));
  setLogAppendTime(b, pos, 1_234_567_890_123);
  const h = readBatchHeader(b, pos);
  assert.equal(timestampType(h), "LogAppendTime");
  assert.equal(h.maxTimestamp, 1_234_567_890_123);
  assert.equal(h.baseTimestamp, 100);
  assert.equal(h.producerId, 5);
  assert.ok(isCrcValid(b, pos, totalSize(h)));
  assert.equal(validateBatches(b).length, 2);
  assert.equal(decodeRecords(b.subarray(pos)).header.timestampType, 1);
});

Deno.test("forEachBatch stops cleanly at a trailing partial batch", () => {
  const a = batch(1);
  const b = batch(2);
  const whole = concat(a, b, batch(3));
  const cut = whole.subarray(0, whole.length - 7);
  const seen: number[] = [];
  const end = forEachBatch(cut, (pos, h) => void seen.push(pos, h.recordCount));
  assert.deepEqual(seen, [0, 1, a.length, 2]);
  assert.equal(end, a.length + b.length);
  assert.equal(forEachBatch(whole.subarray(0, 30), () => {}), 0);
  // Returning false stops the walk.
  const first: number[] = [];
  assert.equal(forEachBatch(whole, (pos) => (first.push(pos), false)), a.length);
  assert.deepEqual(first, [0]);
});

Deno.test("sequence numbers wrap at int32 max", () => {
  assert.equal(incrementSequence(5, 3), 8);
  assert.equal(incrementSequence(2147483647, 1), 0);
  assert.equal(incrementSequence(2147483646, 3), 1);
  const b = batch(3, 0, { producerId: 1, producerEpoch: 0, baseSequence: 2147483646 });
  assert.equal(lastSequence(readBatchHeader(b)), 0); // ...646, ...647, 0
});

Deno.test("forEachRecordTimestamp and readControlRecordType read just enough of the records", () => {
  const b = encodeRecordBatch({
    baseOffset: 100,
    records: [{ value: "a", timestamp: 50 }, { value: "b", timestamp: 40 }, { timestamp: 70 }],
  });
  const h = readBatchHeader(b);
  const seen: [number, number][] = [];
  forEachRecordTimestamp(h, b, RECORD_BATCH_OVERHEAD, b.length, (o, t) => void seen.push([o, t]));
  assert.deepEqual(seen, [[100, 50], [101, 40], [102, 70]]);

  for (const type of [ControlRecordType.ABORT, ControlRecordType.COMMIT]) {
    const marker = encodeRecordBatch({
      isControl: true,
      isTransactional: true,
      producerId: 3,
      producerEpoch: 1,
      records: [endTxnMarker(type, 0)],
    });
    const mh = readBatchHeader(marker);
    assert.equal(readControlRecordType(marker, 0, mh), type);
    assert.equal(
      readControlRecordType(marker.subarray(0, RECORD_BATCH_OVERHEAD + 12), 0, mh),
      type,
    );
  }
  assert.equal(readControlRecordType(b, 0, h), -1);
});

/** `b` with recordCount (and lastOffsetDelta) set to `count` and its CRC recomputed. */
function withRecordCount(b: Uint8Array, count: number): Uint8Array {
  const out = b.slice();
  const v = new DataView(out.buffer);
  v.setInt32(57, count);
  v.setInt32(23, count - 1);
  v.setUint32(17, computeBatchCrc(out, 0, out.length));
  return out;
}

Deno.test("recordFramingError: whole records ending at the batch end pass", () => {
  for (const b of [batch(1), batch(1000)]) {
    assert.equal(recordFramingError(b, 0, readBatchHeader(b)), null);
  }
  // Records of 100 B and of 1 KiB (two-byte length varints), and at an offset in a buffer.
  for (const size of [100, 1024]) {
    const value = new Uint8Array(size).fill(0x61);
    const b = encodeRecordBatch({ records: Array.from({ length: 50 }, () => ({ value })) });
    const two = concat(batch(3), b);
    const pos = totalSize(readBatchHeader(two));
    assert.equal(recordFramingError(two, pos, readBatchHeader(two, pos)), null);
  }
});

Deno.test("recordFramingError: a count that disagrees with the records is Kafka's error", () => {
  const b = batch(5);
  const more = withRecordCount(b, 6);
  assert.match(recordFramingError(more, 0, readBatchHeader(more))!, /record 5 has no whole length/);
  const fewer = withRecordCount(b, 4);
  assert.equal(
    recordFramingError(fewer, 0, readBatchHeader(fewer)),
    "Incorrect declared batch size, records still remaining in file",
  );
});

Deno.test("recordFramingError: a record length past the batch end or too short is refused", () => {
  const b = batch(1);
  const at = RECORD_BATCH_OVERHEAD;
  const len = b[at] >>> 1; // a one-byte zigzag varint
  assert.equal(b.length - at - 1, len);
  const withLength = (zigzag: number) => {
    const out = b.slice();
    out[at] = zigzag;
    return recordFramingError(out, 0, readBatchHeader(out));
  };
  assert.equal(withLength(len * 2), null);
  assert.equal(
    withLength((len + 1) * 2),
    `Invalid record size: expected ${len + 1} bytes in record payload, but instead the buffer ` +
      `has only ${len} remaining bytes.`,
  );
  assert.equal(
    withLength((len - 1) * 2),
    "Incorrect declared batch size, records still remaining in file",
  );
  assert.match(withLength(4 * 2)!, /^Invalid record size: expected 4 bytes/);
  assert.match(withLength(1)!, /^Invalid record size: expected -1 bytes/);
});
