/**
 * Conversion between v2 record batches and legacy message sets (magic 0/1), record by record,
 * as Kafka's RecordsUtil.downConvert and the LogValidator's up-conversion build them. When to
 * convert is the callers' policy (storage/log_validator.ts for produce, the Fetch handler for
 * old fetch versions).
 */
import { Compression } from "./compression.ts";
import { ErrorCode, KafkaError } from "./errors.ts";
import { encodeLegacyMessageSet, type LegacyRecordInput, NO_TIMESTAMP } from "./legacy_records.ts";
import { compression, forEachBatch, isControl, timestampType, totalSize } from "./record_batch.ts";
import { decodeRecords, encodeRecordBatch } from "./records.ts";

/** A record carried over from a legacy message set: what v2 keeps of it (no headers). */
export interface ConvertedRecord {
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
}

/**
 * One v2 batch holding `records` in order (offset deltas 0..n-1, no producer id), compressed
 * with `codec`, as MemoryRecordsBuilder writes the up-converted records of a produce request.
 * Timestamps are kept as given (NO_TIMESTAMP for magic 0 records).
 */
export function toRecordBatch(records: ConvertedRecord[], codec: number): Uint8Array {
  return encodeRecordBatch({
    compression: codec,
    records: records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp })),
  });
}

/**
 * v2 batches (as stored) to a magic 0 or 1 message set, as Kafka's RecordsUtil.downConvert:
 * control batches (transaction markers) are dropped, headers are lost, each batch becomes one
 * wrapper with its own codec when compressed (every record kept: the consumer skips those
 * before its fetch offset) or one message per record from `fetchOffset` on when not; a
 * LogAppendTime batch's time goes on every message (magic 1). zstd batches cannot be
 * down-converted: UNSUPPORTED_COMPRESSION_TYPE. A trailing partial batch is left out. Old
 * formats take more bytes per record, so conversion stops before the result would exceed
 * `maxBytes`, except that the first converted batch is always whole.
 */
export function downConvert(
  batches: Uint8Array,
  toMagic: 0 | 1,
  fetchOffset: number,
  maxBytes = Number.MAX_SAFE_INTEGER,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  forEachBatch(batches, (pos, h) => {
    if (isControl(h)) return;
    const codec = compression(h);
    if (codec === Compression.ZSTD) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
        "down-conversion of zstd-compressed batches is not supported",
      );
    }
    const { header, records } = decodeRecords(batches.subarray(pos, pos + totalSize(h)));
    const appendTime = timestampType(h) === "LogAppendTime";
    const out: LegacyRecordInput[] = [];
    for (const r of records) {
      const offset = header.baseOffset + r.offsetDelta;
      if (codec === Compression.NONE && offset < fetchOffset) continue;
      out.push({
        offset,
        timestamp: appendTime ? header.maxTimestamp : header.baseTimestamp + r.timestampDelta,
        key: r.key,
        value: r.value,
      });
    }
    if (out.length === 0) return;
    const set = encodeLegacyMessageSet(
      toMagic,
      codec,
      out,
      appendTime ? header.maxTimestamp : NO_TIMESTAMP,
    );
    if (parts.length > 0 && total + set.length > maxBytes) return false;
    parts.push(set);
    total += set.length;
  });
  if (parts.length === 1) return parts[0];
  const all = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}
