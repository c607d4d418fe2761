/**
 * Record-level codec for v2 record batches (magic 2).
 *
 * The broker's hot path moves batches as opaque bytes; this module opens them up for tests,
 * transaction control batches, compaction rewrites and the admin API.
 */
import { compress, Compression, decompress } from "./compression.ts";
import { crc32c } from "./crc32c.ts";
import { ErrorCode, KafkaError, ProtocolError } from "./errors.ts";
import { Reader, readInt64, writeInt64, Writer } from "./primitives.ts";
import type { BatchHeader } from "./record_batch.ts";

/** Size of the v2 batch header, up to and including the record count. */
export const BATCH_HEADER_SIZE = 61;
/** The CRC covers everything from the attributes field to the end of the batch. */
const CRC_START = 21;
/** baseOffset and batchLength are not counted by batchLength. */
const LOG_OVERHEAD = 12;
/** Smallest possible record: length, attributes, two deltas, null key and value, 0 headers. */
const MIN_RECORD_SIZE = 7;

/**
 * One record of a v2 batch (Kafka's DefaultRecord); not called `Record`, which would shadow
 * TypeScript's utility type.
 */
export interface KafkaRecord {
  offsetDelta: number;
  timestampDelta: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
}

/**
 * A batch header with its attribute bits decoded, for code that inspects batches (tests,
 * transaction markers, compaction, the admin API). The wire fields are record_batch.ts's
 * BatchHeader, the one header type the log works with.
 */
export interface DecodedBatchHeader extends BatchHeader {
  /** Attributes bits 0-2. */
  compression: number;
  /** Attributes bit 3: 0 CreateTime, 1 LogAppendTime. */
  timestampType: 0 | 1;
  /** Attributes bit 4. */
  isTransactional: boolean;
  /** Attributes bit 5. */
  isControl: boolean;
  /** Attributes bit 6 (KIP-534): baseTimestamp holds the delete horizon of a compacted batch. */
  hasDeleteHorizon: boolean;
}

type Bytesish = Uint8Array | string | null;

export interface BatchInput {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  compression?: number;
  timestampType?: 0 | 1;
  isTransactional?: boolean;
  isControl?: boolean;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  baseTimestamp?: number;
  maxTimestamp?: number;
  /** Defaults to the last record's offsetDelta (0 when empty); compaction keeps the original. */
  lastOffsetDelta?: number;
  /** KIP-534: baseTimestamp holds the delete horizon of a compacted batch (attribute bit 6). */
  hasDeleteHorizon?: boolean;
  records: {
    key?: Bytesish;
    value?: Bytesish;
    headers?: { key: string; value: Bytesish }[];
    timestamp?: number;
    offsetDelta?: number;
  }[];
}

const textEncoder = new TextEncoder();

function toBytes(v: Bytesish | undefined): Uint8Array | null {
  if (v == null) return null;
  return typeof v === "string" ? textEncoder.encode(v) : v;
}

function corrupt(reason: string): never {
  throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, reason);
}

/**
 * Builds a complete v2 batch. Missing timestamps default to now; baseTimestamp defaults to
 * the first record's timestamp and maxTimestamp to the largest, as Kafka's producer does.
 */
export function encodeRecordBatch(input: BatchInput): Uint8Array {
  const now = Date.now();
  const inRecs = input.records;
  const stamps = inRecs.map((r) => r.timestamp ?? now);
  const baseTimestamp = input.baseTimestamp ?? (stamps.length > 0 ? stamps[0] : now);
  const maxTimestamp = input.maxTimestamp ??
    (stamps.length > 0 ? stamps.reduce((a, b) => (b > a ? b : a)) : baseTimestamp);
  const records: KafkaRecord[] = inRecs.map((r, i) => ({
    offsetDelta: r.offsetDelta ?? i,
    timestampDelta: stamps[i] - baseTimestamp,
    key: toBytes(r.key),
    value: toBytes(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: toBytes(h.value) })),
  }));
  const lastOffsetDelta = input.lastOffsetDelta ??
    (records.length > 0 ? records[records.length - 1].offsetDelta : 0);

  const codec = input.compression ?? Compression.NONE;
  const body = compress(codec, encodeRecordsBody(records));
  const attributes = (codec & 7) |
    (input.timestampType === 1 ? 0x08 : 0) |
    (input.isTransactional ? 0x10 : 0) |
    (input.isControl ? 0x20 : 0) |
    (input.hasDeleteHorizon ? 0x40 : 0);

  const out = new Uint8Array(BATCH_HEADER_SIZE + body.length);
  const view = new DataView(out.buffer);
  writeInt64(view, 0, input.baseOffset ?? 0);
  view.setInt32(8, out.length - LOG_OVERHEAD);
  view.setInt32(12, input.partitionLeaderEpoch ?? -1);
  view.setInt8(16, 2);
  // 17..20: crc, filled last
  view.setInt16(21, attributes);
  view.setInt32(23, lastOffsetDelta);
  writeInt64(view, 27, baseTimestamp);
  writeInt64(view, 35, maxTimestamp);
  writeInt64(view, 43, input.producerId ?? -1);
  view.setInt16(51, input.producerEpoch ?? -1);
  view.setInt32(53, input.baseSequence ?? -1);
  view.setInt32(57, records.length);
  out.set(body, BATCH_HEADER_SIZE);
  view.setUint32(17, crc32c(out, 0, CRC_START));
  return out;
}

/** The uncompressed record section of a batch (the bytes after the record count). */
export function encodeRecordsBody(records: KafkaRecord[]): Uint8Array {
  const w = new Writer(64 + records.length * 32);
  const scratch = new Writer(64);
  for (const r of records) {
    scratch.pos = 0;
    scratch.int8(0); // record attributes: unused
    scratch.varlong(r.timestampDelta);
    scratch.varint(r.offsetDelta);
    writeVarBytes(scratch, r.key);
    writeVarBytes(scratch, r.value);
    scratch.varint(r.headers.length);
    for (const h of r.headers) {
      writeVarBytes(scratch, textEncoder.encode(h.key));
      writeVarBytes(scratch, h.value);
    }
    w.varint(scratch.pos);
    w.raw(scratch.finish());
  }
  return w.finish();
}

function writeVarBytes(w: Writer, b: Uint8Array | null): void {
  if (b === null) {
    w.varint(-1);
  } else {
    w.varint(b.length);
    w.raw(b);
  }
}

/** Parses and checks a batch header: sizes, magic and CRC. */
export function decodeBatchHeader(batch: Uint8Array): DecodedBatchHeader {
  if (batch.length < BATCH_HEADER_SIZE) corrupt(`batch of ${batch.length} bytes is truncated`);
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const batchLength = view.getInt32(8);
  const magic = view.getInt8(16);
  if (magic !== 2) corrupt(`record batch magic ${magic} is not supported`);
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) corrupt(`batchLength ${batchLength}`);
  if (batchLength > batch.length - LOG_OVERHEAD) {
    corrupt(`batchLength ${batchLength} overruns the ${batch.length} bytes given`);
  }
  const crc = view.getUint32(17);
  const actual = crc32c(batch, 0, CRC_START, LOG_OVERHEAD + batchLength);
  if (crc !== actual) corrupt(`batch CRC ${hex(crc)} does not match computed ${hex(actual)}`);
  const attributes = view.getInt16(21);
  const recordCount = view.getInt32(57);
  if (recordCount < 0) corrupt(`record count ${recordCount}`);
  return {
    baseOffset: readInt64(view, 0),
    batchLength,
    partitionLeaderEpoch: view.getInt32(12),
    magic,
    crc,
    attributes,
    compression: attributes & 7,
    timestampType: (attributes & 0x08) ? 1 : 0,
    isTransactional: (attributes & 0x10) !== 0,
    isControl: (attributes & 0x20) !== 0,
    hasDeleteHorizon: (attributes & 0x40) !== 0,
    lastOffsetDelta: view.getInt32(23),
    baseTimestamp: readInt64(view, 27),
    maxTimestamp: readInt64(view, 35),
    producerId: readInt64(view, 43),
    producerEpoch: view.getInt16(51),
    baseSequence: view.getInt32(53),
    recordCount,
  };
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

/**
 * Decodes the first batch in `batch` (bytes after it are ignored). Keys, values and header
 * values are views into `batch` or into the decompressed buffer: copy them to keep them.
 */
export function decodeRecords(
  batch: Uint8Array,
  maxOutput?: number,
): { header: DecodedBatchHeader; records: KafkaRecord[] } {
  const header = decodeBatchHeader(batch);
  const end = LOG_OVERHEAD + header.batchLength;
  const body = decompress(header.compression, batch.subarray(BATCH_HEADER_SIZE, end), maxOutput);
  if (header.recordCount > body.length / MIN_RECORD_SIZE) {
    corrupt(`record count ${header.recordCount} cannot fit in ${body.length} bytes`);
  }
  try {
    return { header, records: decodeRecordsBody(body, header.recordCount) };
  } catch (e) {
    if (e instanceof ProtocolError) corrupt(e.message);
    throw e;
  }
}

function decodeRecordsBody(body: Uint8Array, count: number): KafkaRecord[] {
  const records: KafkaRecord[] = [];
  const outer = new Reader(body);
  for (let i = 0; i < count; i++) {
    const len = outer.varint();
    if (len < MIN_RECORD_SIZE - 1) corrupt(`record ${i} length ${len}`);
    outer.need(len);
    const r = new Reader(body, outer.pos, outer.pos + len);
    outer.pos += len;
    r.int8(); // attributes: unused in v2
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const key = readVarBytes(r);
    const value = readVarBytes(r);
    const headerCount = r.varint();
    if (headerCount < 0 || headerCount * 2 > r.remaining) {
      corrupt(`record ${i} header count ${headerCount}`);
    }
    const headers: KafkaRecord["headers"] = [];
    for (let h = 0; h < headerCount; h++) {
      const klen = r.varint();
      if (klen < 0) corrupt(`record ${i} header ${h} has a null key`);
      const hkey = r.text(klen);
      headers.push({ key: hkey, value: readVarBytes(r) });
    }
    if (r.remaining !== 0) corrupt(`record ${i} has ${r.remaining} bytes past its fields`);
    records.push({ offsetDelta, timestampDelta, key, value, headers });
  }
  if (outer.remaining !== 0) corrupt(`${outer.remaining} bytes follow the last record`);
  return records;
}

function readVarBytes(r: Reader): Uint8Array | null {
  const n = r.varint();
  if (n === -1) return null;
  if (n < 0) corrupt(`negative length ${n}`);
  return r.raw(n);
}

/** Control record types (the key of a record in a control batch). */
export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

/** Key and value of a transaction marker record: version 0 key and EndTxnMarker value. */
export function endTxnMarker(
  type: number,
  coordinatorEpoch: number,
): { key: Uint8Array; value: Uint8Array } {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setInt16(2, type);
  const value = new Uint8Array(6);
  new DataView(value.buffer).setInt32(2, coordinatorEpoch);
  return { key, value };
}

/** The control type of a control record's key (version int16, type int16). */
export function controlType(key: Uint8Array | null): number {
  if (key === null || key.length < 4) corrupt("control record key is too short");
  return new DataView(key.buffer, key.byteOffset, key.byteLength).getInt16(2);
}
