/**
 * Legacy message sets (magic 0 and 1), the record formats before v2 record batches.
 *
 * Kafka 3.x still accepts them from old producers (Produce v0–2) and still writes them for
 * old consumers (Fetch v0–3), so this module reads and writes them; the broker stores only
 * v2 batches (see protocol/records_conversion.ts and storage/log_validator.ts).
 *
 * Layout of one entry (big-endian), Kafka's LegacyRecord:
 *   offset int64 | messageSize int32 | crc uint32 (CRC-32 of magic..end) | magic int8 |
 *   attributes int8 (bits 0-2 codec, bit 3 LogAppendTime: magic 1 only) |
 *   timestamp int64 (magic 1 only) | key bytes (int32 length, -1 null) | value bytes
 * A compressed entry (a "wrapper") has a null key and, as value, the compressed bytes of an
 * inner message set. Magic 1 inner offsets are relative (0..n-1) and the wrapper carries the
 * absolute offset of its last inner message; magic 0 inner offsets are absolute.
 */
import { crc32 } from "node:zlib";
import { compress, Compression, decompress, DEFAULT_MAX_OUTPUT } from "./compression.ts";
import { ErrorCode, KafkaError } from "./errors.ts";

export const MAGIC_V0 = 0;
export const MAGIC_V1 = 1;
/** offset + messageSize. */
export const LEGACY_LOG_OVERHEAD = 12;
/** crc, magic, attributes, key length, value length. */
export const RECORD_OVERHEAD_V0 = 14;
/** RECORD_OVERHEAD_V0 plus the timestamp. */
export const RECORD_OVERHEAD_V1 = 22;
const CODEC_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
export const NO_TIMESTAMP = -1;

/** One message of a legacy message set, as read (a wrapper's value is still compressed). */
export interface LegacyEntry {
  offset: number;
  magic: number;
  attributes: number;
  /** NO_TIMESTAMP for magic 0. */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Whether the stored CRC-32 matches the message. */
  crcValid: boolean;
  /** Bytes of the whole entry, offset and size fields included. */
  sizeInBytes: number;
}

/** A record to write into a legacy message set. */
export interface LegacyRecordInput {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
}

export function codecOf(attributes: number): number {
  return attributes & CODEC_MASK;
}
/** Whether the attributes say LogAppendTime (meaningful for magic 1 only). */
export function isLogAppendTime(attributes: number): boolean {
  return (attributes & TIMESTAMP_TYPE_MASK) !== 0;
}

function corrupt(reason: string): never {
  throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, reason);
}

function i32(b: Uint8Array, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}
function i64(b: Uint8Array, p: number): number {
  return i32(b, p) * 4294967296 + (i32(b, p + 4) >>> 0);
}

/** CRC-32 (IEEE, as java.util.zip.CRC32) of `b[start, end)`. */
export function legacyCrc(b: Uint8Array, start: number, end: number): number {
  return crc32(b.subarray(start, end)) >>> 0;
}

/**
 * The entries of a legacy message set, shallowly (wrappers are not opened). A trailing
 * partial entry is an error when `allowPartial` is false (produce payloads must be whole) and
 * is dropped otherwise. Throws CORRUPT_MESSAGE on a malformed entry.
 */
export function readLegacyEntries(buf: Uint8Array, allowPartial = false): LegacyEntry[] {
  const out: LegacyEntry[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < LEGACY_LOG_OVERHEAD) {
      if (allowPartial) break;
      corrupt(`truncated message at ${pos}`);
    }
    const size = i32(buf, pos + 8);
    if (size < RECORD_OVERHEAD_V0) corrupt(`message size ${size} at ${pos} is too small`);
    const end = pos + LEGACY_LOG_OVERHEAD + size;
    if (end > buf.length) {
      if (allowPartial) break;
      corrupt(`truncated message at ${pos}: ${size} bytes declared`);
    }
    out.push(readEntry(buf, pos, end));
    pos = end;
  }
  return out;
}

function readEntry(buf: Uint8Array, pos: number, end: number): LegacyEntry {
  const m = pos + LEGACY_LOG_OVERHEAD;
  const magic = (buf[m + 4] << 24) >> 24;
  if (magic !== MAGIC_V0 && magic !== MAGIC_V1) corrupt(`message magic ${magic} at ${pos}`);
  if (end - m < (magic === MAGIC_V0 ? RECORD_OVERHEAD_V0 : RECORD_OVERHEAD_V1)) {
    corrupt(`message at ${pos} is shorter than its header`);
  }
  const crc = i32(buf, m) >>> 0;
  const attributes = buf[m + 5];
  let p = m + 6;
  let timestamp = NO_TIMESTAMP;
  if (magic === MAGIC_V1) {
    timestamp = i64(buf, p);
    p += 8;
  }
  const key = readBytes(buf, p, end);
  p += 4 + (key?.length ?? 0);
  const value = readBytes(buf, p, end);
  p += 4 + (value?.length ?? 0);
  if (p !== end) corrupt(`message at ${pos} has ${end - p} bytes past its value`);
  return {
    offset: i64(buf, pos),
    magic,
    attributes,
    timestamp,
    key,
    value,
    crcValid: crc === legacyCrc(buf, m + 4, end),
    sizeInBytes: end - pos,
  };
}

function readBytes(buf: Uint8Array, p: number, end: number): Uint8Array | null {
  if (p + 4 > end) corrupt("truncated message key or value length");
  const n = i32(buf, p);
  if (n === -1) return null;
  if (n < 0 || p + 4 + n > end) corrupt(`message key or value length ${n} out of range`);
  return buf.subarray(p + 4, p + 4 + n);
}

/** A record of a wrapper's inner message set, with its absolute offset and timestamp. */
export interface InnerRecord extends LegacyEntry {
  /** The absolute offset (relative inner offsets of magic 1 resolved against the wrapper). */
  absoluteOffset: number;
}

/**
 * Opens a compressed wrapper as Kafka's legacy deep iterator does: the inner messages must
 * have the wrapper's magic (INVALID_RECORD), a magic 1 wrapper's offset must be 0 or at least
 * the last inner offset (INVALID_RECORD); a LogAppendTime wrapper's timestamp stands for
 * every inner message. zstd needs v2 batches (INVALID_RECORD). Inner CRCs are not checked
 * here (`crcValid` says).
 */
export function innerRecords(
  wrapper: LegacyEntry,
  maxOutput: number = DEFAULT_MAX_OUTPUT,
): InnerRecord[] {
  const codec = codecOf(wrapper.attributes);
  if (codec === Compression.ZSTD || codec > Compression.ZSTD) {
    throw new KafkaError(
      ErrorCode.INVALID_RECORD,
      `invalid wrapper codec ${codec} for magic ${wrapper.magic}`,
    );
  }
  if (wrapper.value === null) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, "compressed message set with a null value");
  }
  const body = decompress(codec, wrapper.value, maxOutput, {
    legacyLz4: wrapper.magic === MAGIC_V0,
  });
  const inner = readLegacyEntries(body);
  if (inner.length === 0) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, "compressed message set with no inner messages");
  }
  let base = 0;
  if (wrapper.magic === MAGIC_V1 && wrapper.offset !== 0) {
    const lastInner = inner[inner.length - 1].offset;
    if (wrapper.offset < lastInner) {
      throw new KafkaError(
        ErrorCode.INVALID_RECORD,
        `wrapper offset ${wrapper.offset} is less than the last inner offset ${lastInner}`,
      );
    }
    base = wrapper.offset - lastInner;
  }
  const appendTime = wrapper.magic === MAGIC_V1 && isLogAppendTime(wrapper.attributes);
  return inner.map((r) => {
    if (r.magic !== wrapper.magic) {
      throw new KafkaError(
        ErrorCode.INVALID_RECORD,
        `compressed message magic ${r.magic} does not match wrapper magic ${wrapper.magic}`,
      );
    }
    return {
      ...r,
      timestamp: appendTime ? wrapper.timestamp : r.timestamp,
      absoluteOffset: wrapper.magic === MAGIC_V1 ? base + r.offset : r.offset,
    };
  });
}

function entrySize(magic: number, key: Uint8Array | null, value: Uint8Array | null): number {
  return (magic === MAGIC_V0 ? RECORD_OVERHEAD_V0 : RECORD_OVERHEAD_V1) + (key?.length ?? 0) +
    (value?.length ?? 0);
}

/** Writes one entry at `pos` of `out` (sized by entrySize); returns the position after it. */
function writeEntry(
  out: Uint8Array,
  pos: number,
  offset: number,
  magic: number,
  attributes: number,
  timestamp: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const size = entrySize(magic, key, value);
  view.setBigInt64(pos, BigInt(offset));
  view.setInt32(pos + 8, size);
  const m = pos + LEGACY_LOG_OVERHEAD;
  out[m + 4] = magic;
  out[m + 5] = attributes;
  let p = m + 6;
  if (magic === MAGIC_V1) {
    view.setBigInt64(p, BigInt(timestamp));
    p += 8;
  }
  for (const b of [key, value]) {
    view.setInt32(p, b === null ? -1 : b.length);
    p += 4;
    if (b !== null) {
      out.set(b, p);
      p += b.length;
    }
  }
  view.setUint32(m, legacyCrc(out, m + 4, p));
  return p;
}

function writeEntries(
  records: LegacyRecordInput[],
  magic: number,
  attributes: number,
  offsetOf: (r: LegacyRecordInput) => number,
  timestampOf: (r: LegacyRecordInput) => number,
): Uint8Array {
  let total = 0;
  for (const r of records) total += LEGACY_LOG_OVERHEAD + entrySize(magic, r.key, r.value);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const r of records) {
    pos = writeEntry(out, pos, offsetOf(r), magic, attributes, timestampOf(r), r.key, r.value);
  }
  return out;
}

/**
 * Builds a legacy message set as Kafka's MemoryRecordsBuilder does for magic 0/1: one entry
 * per record when uncompressed, else one wrapper (offset of the last record, timestamp the
 * largest, or `logAppendTime`) around the compressed inner messages, whose offsets are
 * relative for magic 1. With `logAppendTime` >= 0 (magic 1) every message is marked
 * LogAppendTime and carries that time. Magic 0 drops timestamps. zstd cannot be written
 * (UNSUPPORTED_COMPRESSION_TYPE).
 */
export function encodeLegacyMessageSet(
  magic: 0 | 1,
  codec: number,
  records: LegacyRecordInput[],
  logAppendTime = NO_TIMESTAMP,
): Uint8Array {
  if (codec === Compression.ZSTD) {
    throw new KafkaError(
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      `zstd needs record batches (magic 2); cannot write magic ${magic}`,
    );
  }
  const appendTime = magic === MAGIC_V1 && logAppendTime >= 0;
  const tsAttr = appendTime ? TIMESTAMP_TYPE_MASK : 0;
  const ts = (r: LegacyRecordInput) =>
    magic === MAGIC_V0 ? NO_TIMESTAMP : appendTime ? logAppendTime : r.timestamp;
  if (codec === Compression.NONE || records.length === 0) {
    return writeEntries(records, magic, tsAttr, (r) => r.offset, ts);
  }
  const base = records[0].offset;
  const inner = writeEntries(
    records,
    magic,
    tsAttr,
    (r) => (magic === MAGIC_V1 ? r.offset - base : r.offset),
    ts,
  );
  const compressed = magic === MAGIC_V0 && codec === Compression.LZ4
    ? compress(codec, inner, { legacyLz4: true })
    : compress(codec, inner);
  let maxTs = NO_TIMESTAMP;
  for (const r of records) if (r.timestamp > maxTs) maxTs = r.timestamp;
  const wrapperTs = magic === MAGIC_V0 ? NO_TIMESTAMP : appendTime ? logAppendTime : maxTs;
  const out = new Uint8Array(LEGACY_LOG_OVERHEAD + entrySize(magic, null, compressed));
  writeEntry(
    out,
    0,
    records[records.length - 1].offset,
    magic,
    (codec & CODEC_MASK) | tsAttr,
    wrapperTs,
    null,
    compressed,
  );
  return out;
}
