/**
 * Damage a read finds in a segment file, as the error the partition answers: what a read
 * meets damaged is reported, never skipped, as Kafka's CorruptRecordException (CORRUPT_MESSAGE)
 * and KafkaStorageException (KAFKA_STORAGE_ERROR) are.
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import {
  type BatchHeader,
  MAGIC_V2,
  MIN_BATCH_LENGTH,
  totalSize,
} from "../protocol/record_batch.ts";

/**
 * Why header `h`, read at `position` of a segment based at `baseOffset` holding `size` bytes,
 * cannot be a stored batch; null when it can.
 */
export function storedBatchDamage(
  h: BatchHeader,
  position: number,
  baseOffset: number,
  size: number,
): string | null {
  if (h.magic !== MAGIC_V2) return `magic ${h.magic} at position ${position}`;
  if (h.batchLength < MIN_BATCH_LENGTH) {
    return `batch length ${h.batchLength} at position ${position}`;
  }
  if (position + totalSize(h) > size) {
    return `a batch of ${
      totalSize(h)
    } bytes at position ${position} runs past the end (${size} bytes)`;
  }
  if (h.baseOffset < baseOffset || h.lastOffsetDelta < 0) {
    return `offset ${h.baseOffset} at position ${position} is outside the segment`;
  }
  return null;
}

/** CORRUPT_MESSAGE for damage found while reading the segment file `path`. */
export function corruptSegment(path: string, what: string): KafkaError {
  return new KafkaError(ErrorCode.CORRUPT_MESSAGE, `corrupt segment ${path}: ${what}`);
}

/** KAFKA_STORAGE_ERROR: the file holds fewer bytes than the log appended to it. */
export function segmentCutShort(
  path: string,
  size: number,
  position: number,
  wanted: number,
  got: number,
): KafkaError {
  return new KafkaError(
    ErrorCode.KAFKA_STORAGE_ERROR,
    `read ${got} of ${wanted} bytes at position ${position} of ${path} (${size} bytes appended): the file was cut short`,
  );
}
