/**
 * Record batch (magic v2) header access without decoding the records.
 *
 * The broker's hot paths — validating a produce payload, assigning offsets, indexing and
 * serving fetches — only ever need the 61-byte batch header, so everything here works on
 * byte positions in a shared buffer and never allocates per record.
 *
 * Layout (big-endian):
 *   baseOffset int64 @0 | batchLength int32 @8 (bytes after this field) |
 *   partitionLeaderEpoch int32 @12 | magic int8 @16 | crc uint32 @17 (CRC-32C of bytes 21..end) |
 *   attributes int16 @21 | lastOffsetDelta int32 @23 | baseTimestamp int64 @27 |
 *   maxTimestamp int64 @35 | producerId int64 @43 | producerEpoch int16 @51 |
 *   baseSequence int32 @53 | recordCount int32 @57 | records...
 */
import { crc32c } from "./crc32c.ts";
import { ErrorCode, KafkaError } from "./errors.ts";

/** Size of the v2 batch header (everything before the first record). */
export const RECORD_BATCH_OVERHEAD = 61;
/** baseOffset + batchLength: the part of every batch/message set entry not counted in its length. */
export const LOG_OVERHEAD = 12;
/** Smallest legal batchLength: the header minus the two fields before the length. */
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;
export const MAGIC_V2 = 2;

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;

/** Attribute bits. */
export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

/** Compression codec ids as stored in the low attribute bits. */
export const CompressionType = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

/** Control record types (the `type` field of a control record key). */
export const ControlRecordType = { ABORT: 0, COMMIT: 1 } as const;

export type TimestampType = "CreateTime" | "LogAppendTime";

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

// Byte readers on a plain Uint8Array: cheaper than building a DataView per batch.
function i16(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16)) >> 16;
}
function i32(b: Uint8Array, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}
function u32(b: Uint8Array, p: number): number {
  return i32(b, p) >>> 0;
}
function i64(b: Uint8Array, p: number): number {
  return i32(b, p) * 4294967296 + u32(b, p + 4);
}
function put32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}
function put64(b: Uint8Array, p: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  put32(b, p, hi | 0);
  put32(b, p + 4, (v - hi * 4294967296) >>> 0);
}

/** Codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
export function compression(h: BatchHeader): number {
  return h.attributes & COMPRESSION_CODEC_MASK;
}
export function isTransactional(h: BatchHeader): boolean {
  return (h.attributes & TRANSACTIONAL_FLAG_MASK) !== 0;
}
export function isControl(h: BatchHeader): boolean {
  return (h.attributes & CONTROL_FLAG_MASK) !== 0;
}
export function timestampType(h: BatchHeader): TimestampType {
  return (h.attributes & TIMESTAMP_TYPE_MASK) !== 0 ? "LogAppendTime" : "CreateTime";
}
export function hasProducerId(h: BatchHeader): boolean {
  return h.producerId >= 0;
}
export function lastOffset(h: BatchHeader): number {
  return h.baseOffset + h.lastOffsetDelta;
}
export function nextOffset(h: BatchHeader): number {
  return h.baseOffset + h.lastOffsetDelta + 1;
}
/** Bytes the batch occupies in a log or on the wire. */
export function totalSize(h: BatchHeader): number {
  return h.batchLength + LOG_OVERHEAD;
}

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from int32 max to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > 0x7fffffff - increment) return increment - (0x7fffffff - sequence) - 1;
  return sequence + increment;
}
/** Sequence number of the batch's last record, or -1 when the batch has none. */
export function lastSequence(h: BatchHeader): number {
  if (h.baseSequence === NO_SEQUENCE) return NO_SEQUENCE;
  return incrementSequence(h.baseSequence, h.lastOffsetDelta);
}

/** The magic byte of the entry at `pos` (valid for legacy message sets too). */
export function peekMagic(buf: Uint8Array, pos = 0): number {
  if (pos < 0 || pos + MAGIC_OFFSET + 1 > buf.length) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `truncated batch at ${pos}`);
  }
  return (buf[pos + MAGIC_OFFSET] << 24) >> 24;
}

/** Parses the v2 header at `pos`. Throws CORRUPT_MESSAGE if truncated, UNSUPPORTED_FOR_MESSAGE_FORMAT for magic 0/1. */
export function readBatchHeader(buf: Uint8Array, pos = 0): BatchHeader {
  const magic = peekMagic(buf, pos);
  if (magic !== MAGIC_V2) {
    throw new KafkaError(
      ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `record batch magic ${magic} at ${pos}; only magic 2 is supported`,
    );
  }
  if (pos + RECORD_BATCH_OVERHEAD > buf.length) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `truncated batch header at ${pos}`);
  }
  return {
    baseOffset: i64(buf, pos),
    batchLength: i32(buf, pos + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: i32(buf, pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc: u32(buf, pos + CRC_OFFSET),
    attributes: i16(buf, pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: i32(buf, pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: i64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: i64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: i64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: i16(buf, pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: i32(buf, pos + BASE_SEQUENCE_OFFSET),
    recordCount: i32(buf, pos + RECORDS_COUNT_OFFSET),
  };
}

/** The batchLength field at `pos` (no other checks); used when walking entries cheaply. */
export function readBatchLength(buf: Uint8Array, pos: number): number {
  return i32(buf, pos + BATCH_LENGTH_OFFSET);
}

/** The CRC-32C the header should carry for the batch at `pos` of `size` total bytes. */
export function computeBatchCrc(buf: Uint8Array, pos: number, size: number): number {
  return crc32c(buf, 0, pos + ATTRIBUTES_OFFSET, pos + size);
}

/** True when the stored CRC matches the batch contents. */
export function isCrcValid(buf: Uint8Array, pos: number, size: number): boolean {
  return u32(buf, pos + CRC_OFFSET) === computeBatchCrc(buf, pos, size);
}

/**
 * Splits a produce payload into whole v2 batches and checks each one the way Kafka's
 * LogValidator does for client appends, so nothing malformed ever reaches the log.
 * Throws KafkaError: UNSUPPORTED_FOR_MESSAGE_FORMAT (magic != 2), CORRUPT_MESSAGE (bad CRC,
 * truncation, inconsistent counts, empty payload), MESSAGE_TOO_LARGE (batch > maxBatchBytes).
 */
export function validateBatches(
  records: Uint8Array,
  maxBatchBytes = Number.MAX_SAFE_INTEGER,
): BatchHeader[] {
  if (records.length === 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, "empty record set");
  const headers: BatchHeader[] = [];
  let pos = 0;
  while (pos < records.length) {
    if (records.length - pos < LOG_OVERHEAD + 5) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `truncated batch at ${pos}`);
    }
    const h = readBatchHeader(records, pos);
    if (h.batchLength < MIN_BATCH_LENGTH) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `batch length ${h.batchLength} too small`);
    }
    const size = totalSize(h);
    if (pos + size > records.length) {
      throw new KafkaError(
        ErrorCode.CORRUPT_MESSAGE,
        `truncated batch at ${pos}: ${size} bytes declared, ${records.length - pos} present`,
      );
    }
    if (size > maxBatchBytes) {
      throw new KafkaError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `batch of ${size} bytes exceeds the maximum of ${maxBatchBytes}`,
      );
    }
    if (!isCrcValid(records, pos, size)) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `batch CRC mismatch at ${pos}`);
    }
    if (h.recordCount <= 0 || h.lastOffsetDelta !== h.recordCount - 1) {
      throw new KafkaError(
        ErrorCode.CORRUPT_MESSAGE,
        `inconsistent batch: ${h.recordCount} records, lastOffsetDelta ${h.lastOffsetDelta}`,
      );
    }
    if (compression(h) > CompressionType.ZSTD) {
      throw new KafkaError(
        ErrorCode.CORRUPT_MESSAGE,
        `unknown compression codec ${compression(h)}`,
      );
    }
    headers.push(h);
    pos += size;
  }
  return headers;
}

/** The smallest record body: attributes, timestampDelta, offsetDelta, key and value lengths
 * and the header count, one byte each. */
const MIN_RECORD_BODY = 6;

/**
 * Kafka's framing check of an uncompressed batch's records, as its record iterator makes it
 * (DefaultRecordBatch, DefaultRecord.readFrom): `recordCount` length-prefixed records, each
 * inside the batch, ending exactly at the batch end. Only each record's length varint is read,
 * no record is decoded. Null when the framing holds, else Kafka's message for what is wrong.
 */
export function recordFramingError(buf: Uint8Array, pos: number, h: BatchHeader): string | null {
  const end = pos + totalSize(h);
  let p = pos + RECORD_BATCH_OVERHEAD;
  for (let i = 0; i < h.recordCount; i++) {
    // A zigzag varint of at most five bytes (an int32).
    let u = 0;
    let shift = 0;
    let b = 0x80;
    while ((b & 0x80) !== 0) {
      if (p >= end || shift > 28) {
        return `Found invalid record count ${h.recordCount}: record ${i} has no whole length`;
      }
      b = buf[p++];
      u |= (b & 0x7f) << shift;
      shift += 7;
    }
    const len = (u >>> 1) ^ -(u & 1);
    if (len < MIN_RECORD_BODY || len > end - p) {
      return `Invalid record size: expected ${len} bytes in record payload, but instead the ` +
        `buffer has only ${end - p} remaining bytes.`;
    }
    p += len;
  }
  return p === end ? null : "Incorrect declared batch size, records still remaining in file";
}

/** Writes baseOffset in place. It sits before the CRC'd range, so the CRC stays valid. */
export function setBaseOffset(buf: Uint8Array, pos: number, offset: number): void {
  put64(buf, pos + BASE_OFFSET_OFFSET, offset);
}

/** Writes partitionLeaderEpoch in place (also outside the CRC'd range). */
export function setPartitionLeaderEpoch(buf: Uint8Array, pos: number, epoch: number): void {
  put32(buf, pos + PARTITION_LEADER_EPOCH_OFFSET, epoch | 0);
}

/**
 * Stamps a batch with the broker's clock, as Kafka does for LogAppendTime topics: sets the
 * timestamp-type bit and maxTimestamp (which then stands for every record's timestamp) and
 * recomputes the CRC in place.
 */
export function setLogAppendTime(buf: Uint8Array, pos: number, ts: number): void {
  if (pos + RECORD_BATCH_OVERHEAD > buf.length) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `truncated batch header at ${pos}`);
  }
  const size = i32(buf, pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  if (pos + size > buf.length) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `truncated batch at ${pos}`);
  }
  buf[pos + ATTRIBUTES_OFFSET + 1] |= TIMESTAMP_TYPE_MASK;
  put64(buf, pos + MAX_TIMESTAMP_OFFSET, ts);
  put32(buf, pos + CRC_OFFSET, computeBatchCrc(buf, pos, size));
}

/**
 * Walks concatenated v2 batches, calling `fn(pos, header)` for each whole one. Stops cleanly at a
 * trailing partial batch (fetch responses may end in one) or when `fn` returns false.
 * Returns the position just past the last batch visited.
 */
export function forEachBatch(
  buf: Uint8Array,
  fn: (pos: number, header: BatchHeader) => boolean | void,
): number {
  let pos = 0;
  while (pos + RECORD_BATCH_OVERHEAD <= buf.length) {
    const h = readBatchHeader(buf, pos);
    if (h.batchLength < MIN_BATCH_LENGTH) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `batch length ${h.batchLength} too small`);
    }
    const size = totalSize(h);
    if (pos + size > buf.length) break;
    if (fn(pos, h) === false) return pos + size;
    pos += size;
  }
  return pos;
}

// --- Minimal record walking, for the two broker features that need per-record timestamps
// (ListOffsets by timestamp / max timestamp) and the control-record type of transaction markers.

/** Decodes an unsigned LEB128 varint at `state.pos` (up to 64 bits, as a JS number). */
function readUvarlong(b: Uint8Array, state: { pos: number }, end: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (state.pos >= end) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, "truncated varint");
    const byte = b[state.pos++];
    result += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return result;
    mul *= 128;
  }
  throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, "varint too long");
}
function readZigzag(b: Uint8Array, state: { pos: number }, end: number): number {
  const u = readUvarlong(b, state, end);
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/**
 * Calls `fn(offset, timestamp)` for every record of an uncompressed batch body
 * `records[start, end)` (for a compressed batch pass the decompressed body). Only the record
 * length, timestampDelta and offsetDelta are decoded; keys, values and headers are skipped.
 * For LogAppendTime batches every record's timestamp is the batch maxTimestamp.
 */
export function forEachRecordTimestamp(
  h: BatchHeader,
  records: Uint8Array,
  start: number,
  end: number,
  fn: (offset: number, timestamp: number) => boolean | void,
): void {
  const state = { pos: start };
  const logAppend = timestampType(h) === "LogAppendTime";
  for (let i = 0; i < h.recordCount && state.pos < end; i++) {
    const len = readZigzag(records, state, end);
    const recordEnd = state.pos + len;
    if (len < 0 || recordEnd > end) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, "record length out of range");
    }
    state.pos++; // attributes
    const tsDelta = readZigzag(records, state, recordEnd);
    const offsetDelta = readZigzag(records, state, recordEnd);
    const ts = logAppend ? h.maxTimestamp : h.baseTimestamp + tsDelta;
    if (fn(h.baseOffset + offsetDelta, ts) === false) return;
    state.pos = recordEnd;
  }
}

/**
 * The type of the control record in the control batch at `pos` (0 ABORT, 1 COMMIT), or -1 if
 * it cannot be read (compressed, malformed, or cut off: `buf` may hold just the header plus a few
 * dozen bytes). Transaction markers are always written
 * uncompressed, with a 4-byte key of version int16 + type int16.
 */
/**
 * The coordinator epoch of an end-transaction marker (the control record's value: version
 * int16, coordinator epoch int32), or -1 when the batch holds none readable.
 */
export function readMarkerCoordinatorEpoch(buf: Uint8Array, pos: number, h: BatchHeader): number {
  if (!isControl(h) || compression(h) !== CompressionType.NONE || h.recordCount < 1) return -1;
  const end = Math.min(pos + totalSize(h), buf.length);
  try {
    const state = { pos: pos + RECORD_BATCH_OVERHEAD };
    readZigzag(buf, state, end); // record length
    state.pos++; // attributes
    readZigzag(buf, state, end); // timestampDelta
    readZigzag(buf, state, end); // offsetDelta
    const keyLen = readZigzag(buf, state, end);
    if (keyLen < 0) return -1;
    state.pos += keyLen;
    const valueLen = readZigzag(buf, state, end);
    if (valueLen < 6 || state.pos + 6 > end) return -1;
    return i32(buf, state.pos + 2);
  } catch {
    return -1;
  }
}

export function readControlRecordType(buf: Uint8Array, pos: number, h: BatchHeader): number {
  if (!isControl(h) || compression(h) !== CompressionType.NONE || h.recordCount < 1) return -1;
  const end = Math.min(pos + totalSize(h), buf.length);
  try {
    const state = { pos: pos + RECORD_BATCH_OVERHEAD };
    readZigzag(buf, state, end); // record length
    state.pos++; // attributes
    readZigzag(buf, state, end); // timestampDelta
    readZigzag(buf, state, end); // offsetDelta
    const keyLen = readZigzag(buf, state, end);
    if (keyLen < 4 || state.pos + 4 > end) return -1;
    return i16(buf, state.pos + 2);
  } catch {
    return -1;
  }
}
