/**
 * Record peek for the admin API: decodes records of one partition from an offset, bounded
 * by a record count and a byte budget. Keys, values and header values are returned as UTF-8
 * text when they are valid UTF-8, else as base64, with an encoding marker beside each.
 * Control batches (transaction markers) are skipped; reads stop at the high watermark.
 */
import { Buffer } from "node:buffer";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { forEachBatch, isControl, lastOffset, totalSize } from "../protocol/record_batch.ts";
import { decodeRecords } from "../protocol/records.ts";
import type { PartitionLog } from "../storage/partition_log.ts";

/** Largest `limit` a peek accepts. */
export const MAX_PEEK_RECORDS = 1000;
/** Default and largest byte budget (keys + values + header values) of one peek. */
export const DEFAULT_PEEK_BYTES = 1024 * 1024;
export const MAX_PEEK_BYTES = 8 * 1024 * 1024;
/** Bytes read from the log per step. */
const READ_CHUNK = 1024 * 1024;
/** Largest decompressed batch a peek will open. */
const MAX_DECOMPRESSED = 64 * 1024 * 1024;

export type Encoding = "utf8" | "base64";

export interface PeekedHeader {
  key: string;
  value: string | null;
  valueEncoding: Encoding | null;
}

export interface PeekedRecord {
  offset: number;
  timestamp: number;
  timestampType: "CreateTime" | "LogAppendTime";
  key: string | null;
  keyEncoding: Encoding | null;
  value: string | null;
  valueEncoding: Encoding | null;
  headers: PeekedHeader[];
}

export interface PeekResult {
  topic: string;
  partition: number;
  /** The offset asked for. */
  offset: number;
  /** Where the next peek should start to continue after these records. */
  nextOffset: number;
  logStartOffset: number;
  highWatermark: number;
  /** True when the byte budget, not `limit` or the end of the log, ended the peek. */
  truncated: boolean;
  records: PeekedRecord[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Text of `bytes` with its encoding: UTF-8 when valid, else base64. */
export function encodeBytes(bytes: Uint8Array | null): [string | null, Encoding | null] {
  if (bytes === null) return [null, null];
  try {
    return [utf8.decode(bytes), "utf8"];
  } catch {
    return [
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
      "base64",
    ];
  }
}

/**
 * Up to `limit` records of `log` from `offset` (default: the log start), at most `maxBytes`
 * of keys, values and header values (at least one record is returned when any exists).
 * Throws OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset].
 */
export async function peekRecords(
  log: PartitionLog,
  opts: { offset?: number; limit?: number; maxBytes?: number } = {},
): Promise<PeekResult> {
  const logStartOffset = log.logStartOffset;
  const highWatermark = log.highWatermark;
  const offset = opts.offset ?? logStartOffset;
  const limit = Math.min(Math.max(opts.limit ?? 100, 0), MAX_PEEK_RECORDS);
  const maxBytes = Math.min(Math.max(opts.maxBytes ?? DEFAULT_PEEK_BYTES, 1), MAX_PEEK_BYTES);
  if (offset < logStartOffset || offset > log.logEndOffset) {
    throw new KafkaError(
      ErrorCode.OFFSET_OUT_OF_RANGE,
      `offset ${offset} is outside [${logStartOffset}, ${log.logEndOffset}] of ${log.topic}-${log.partition}`,
    );
  }
  const records: PeekedRecord[] = [];
  let cursor = offset;
  let bytes = 0;
  let truncated = false;
  let done = limit === 0;
  while (!done && cursor < highWatermark) {
    const buf = await log.read(cursor, Math.min(READ_CHUNK, Math.max(maxBytes, 1)), {
      minOneBatch: true,
      upperBound: highWatermark,
    });
    if (buf.length === 0) break;
    const before = cursor;
    forEachBatch(buf, (pos, h) => {
      const next = lastOffset(h) + 1;
      if (next <= cursor) return true;
      if (isControl(h)) {
        cursor = next;
        return true;
      }
      const batch = decodeRecords(buf.subarray(pos, pos + totalSize(h)), MAX_DECOMPRESSED);
      const logAppendTime = batch.header.timestampType === 1;
      for (const r of batch.records) {
        const off = h.baseOffset + r.offsetDelta;
        if (off < cursor) continue;
        if (records.length >= limit) {
          done = true;
          return false;
        }
        const size = (r.key?.length ?? 0) + (r.value?.length ?? 0) +
          r.headers.reduce((n, x) => n + x.key.length + (x.value?.length ?? 0), 0);
        if (records.length > 0 && bytes + size > maxBytes) {
          truncated = true;
          done = true;
          return false;
        }
        bytes += size;
        const [key, keyEncoding] = encodeBytes(r.key);
        const [value, valueEncoding] = encodeBytes(r.value);
        records.push({
          offset: off,
          timestamp: logAppendTime
            ? batch.header.maxTimestamp
            : batch.header.baseTimestamp + r.timestampDelta,
          timestampType: logAppendTime ? "LogAppendTime" : "CreateTime",
          key,
          keyEncoding,
          value,
          valueEncoding,
          headers: r.headers.map((x) => {
            const [v, enc] = encodeBytes(x.value);
            return { key: x.key, value: v, valueEncoding: enc };
          }),
        });
        cursor = off + 1;
      }
      // Compaction may leave gaps after the last record: continue after the whole batch.
      cursor = Math.max(cursor, next);
      if (records.length >= limit) {
        done = true;
        return false;
      }
      return true;
    });
    if (cursor === before) break; // no progress: nothing more readable here
  }
  return {
    topic: log.topic,
    partition: log.partition,
    offset,
    nextOffset: cursor,
    logStartOffset,
    highWatermark,
    truncated,
    records,
  };
}
