/**
 * Damage a read finds in a segment file, as the error the partition answers: what a read
 * meets damaged is reported, never skipped, as Kafka's CorruptRecordException (CORRUPT_MESSAGE)
 * and KafkaStorageException (KAFKA_STORAGE_ERROR) are.
 */
import { ErrorCode, errorName, KafkaError } from "../protocol/errors.ts";
import { log } from "./logger.ts";
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

/**
 * Turns a failed read of partition `name`'s segments into the error its fetch answers:
 * CORRUPT_MESSAGE for damage found in a batch, KAFKA_STORAGE_ERROR for the file failing
 * underneath. Each distinct failure is logged once as an error (a consumer retries the same
 * offset); the memory of them is bounded.
 */
export class ReadFailures {
  private readonly reported = new Set<string>();

  constructor(private readonly name: string) {}

  failure(offset: number, e: unknown): KafkaError {
    const err = e instanceof KafkaError
      ? e
      : new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `reading the log failed: ${e}`);
    if (!this.reported.has(err.message)) {
      if (this.reported.size >= 64) this.reported.clear();
      this.reported.add(err.message);
      log.error(
        `${this.name}: read at offset ${offset} answers ${errorName(err.code)}: ${err.message}`,
      );
    }
    return err;
  }
}

/**
 * KAFKA_STORAGE_ERROR for a failed file operation on partition `name` (ENOSPC, EIO, EISDIR,
 * ...), logged: the client sees the partition's storage failing, not an unknown server error.
 */
export function storageFailure(name: string, what: string, e: unknown): KafkaError {
  const err = new KafkaError(
    ErrorCode.KAFKA_STORAGE_ERROR,
    `${what} of ${name} failed: ${e instanceof Error ? e.message : e}`,
  );
  log.error(err.message);
  return err;
}
