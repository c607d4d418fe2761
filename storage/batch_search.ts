/**
 * Searches inside bytes already read from a log, shared by local segments and cold-tier
 * reads: the first record at or after a timestamp within one batch (Kafka's
 * findOffsetByTimestamp, last step), and the whole-batch prefix of a read buffer.
 */
import {
  type BatchHeader,
  compression,
  CompressionType,
  forEachRecordTimestamp,
  lastOffset,
  LOG_OVERHEAD,
  MAGIC_V2,
  MIN_BATCH_LENGTH,
  RECORD_BATCH_OVERHEAD,
  timestampType,
} from "../protocol/record_batch.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { TimestampOffset } from "./time_index.ts";

/** Decompresses a batch's records section (bytes after the 61-byte header) for codec `codec`. */
export type Decompressor = (codec: number, data: Uint8Array) => Uint8Array;

/** baseOffset + lastOffsetDelta of the batch at `p`, read without building a header object. */
function batchLastOffset(b: Uint8Array, p: number): number {
  const hi = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
  const delta = (b[p + 23] << 24) | (b[p + 24] << 16) | (b[p + 25] << 8) | b[p + 26];
  return hi * 4294967296 + lo + delta;
}
/**
 * The first record of the whole batch `batch` (header `h`) with timestamp >= `minTimestamp` and
 * offset >= `minOffset`; shared by local segments and remote (cold tier) reads.
 */
export function findRecordInBatch(
  batch: Uint8Array,
  h: BatchHeader,
  minTimestamp: number,
  minOffset: number,
  decompress?: Decompressor,
): TimestampOffset | null {
  if (h.maxTimestamp < minTimestamp || lastOffset(h) < minOffset) return null;
  const approx = { offset: Math.max(h.baseOffset, minOffset), timestamp: h.maxTimestamp };
  if (timestampType(h) === "LogAppendTime") return approx;
  let body = batch;
  let start = RECORD_BATCH_OVERHEAD;
  if (compression(h) !== CompressionType.NONE) {
    if (!decompress) return approx;
    body = decompress(compression(h), batch.subarray(RECORD_BATCH_OVERHEAD));
    start = 0;
  }
  let found: TimestampOffset | null = null;
  try {
    forEachRecordTimestamp(h, body, start, body.length, (offset, timestamp) => {
      if (timestamp >= minTimestamp && offset >= minOffset) {
        found = { offset, timestamp };
        return false;
      }
    });
  } catch (e) {
    if (e instanceof KafkaError) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, e.message);
    throw e;
  }
  return found;
}

/**
 * Whole batches at the start of `buf` (which begins at a batch boundary): stops before a
 * trailing partial batch, before a header that cannot be a v2 batch (a read starting there
 * reports it) and before the first batch after the first whose last offset reaches
 * `maxOffset`. Returns the byte length kept.
 */
export function wholeBatchesLength(buf: Uint8Array, maxOffset: number): number {
  let end = 0;
  while (end + RECORD_BATCH_OVERHEAD <= buf.length) {
    const batchLength = (buf[end + 8] << 24) | (buf[end + 9] << 16) | (buf[end + 10] << 8) |
      buf[end + 11];
    if (buf[end + 16] !== MAGIC_V2 || batchLength < MIN_BATCH_LENGTH) break;
    const size = batchLength + LOG_OVERHEAD;
    if (end + size > buf.length) break;
    if (end > 0 && batchLastOffset(buf, end) >= maxOffset) break;
    end += size;
  }
  return end;
}
