/**
 * Kafka's per-record validation of appended batches (LogValidator.validateRecord), reported
 * per record (KIP-467): the first batch with bad records fails the whole append with
 * INVALID_RECORD or INVALID_TIMESTAMP, and the error lists each bad record's index in that
 * batch with a message, so a producer fails exactly those records as invalid and the rest of
 * the batch as collateral (librdkafka: INVALID_RECORD vs _INVALID_DIFFERENT_RECORD).
 *
 * The checks: a record without a key on a compacted topic; with `message.timestamp.type`
 * CreateTime, a record timestamp (other than -1) before now − `message.timestamp.before.max.ms`
 * or after now + `message.timestamp.after.max.ms`; a batch claiming LogAppendTime where that
 * is not allowed. Record bodies are only decoded when a check needs them: for keys on
 * compacted topics, and for timestamps when a lower bound is set or when the batch's
 * maxTimestamp is past the upper bound (a batch whose maxTimestamp is within it has no record
 * past it, as every client computes maxTimestamp from its records).
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { type BatchHeader, timestampType, totalSize } from "../protocol/record_batch.ts";
import { decodeRecords } from "../protocol/records.ts";
import { compactPolicy, type LogConfig } from "./log_config.ts";

/** One rejected record of a Produce partition response (ProduceResponse's RecordError). */
export interface RecordError {
  batchIndex: number;
  batchIndexErrorMessage: string | null;
}

/** An append refused because of some of its records; `recordErrors` name them. */
export class RecordValidationError extends KafkaError {
  constructor(code: number, message: string, readonly recordErrors: RecordError[]) {
    super(code, message);
  }
}

/** A `*.max.ms` this large means no bound (Kafka's default Long.MAX_VALUE). */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;
const NO_TIMESTAMP = -1;

/**
 * Throws RecordValidationError for the first of `headers` (the batches of `records`, in
 * order, not yet given offsets) holding records Kafka rejects one by one.
 */
export function validateRecords(
  records: Uint8Array,
  headers: readonly BatchHeader[],
  cfg: LogConfig,
  topicPartition: string,
  now: number,
): void {
  const compacted = compactPolicy(cfg);
  const createTime = cfg.messageTimestampType === "CreateTime";
  const lower = cfg.timestampBeforeMaxMs >= UNBOUNDED ? -Infinity : now - cfg.timestampBeforeMaxMs;
  const upper = cfg.timestampAfterMaxMs >= UNBOUNDED ? Infinity : now + cfg.timestampAfterMaxMs;
  let pos = 0;
  for (const h of headers) {
    const size = totalSize(h);
    const logAppendBatch = timestampType(h) === "LogAppendTime";
    // LogAppendTime batches give every record the batch's maxTimestamp.
    const timestampsToCheck = logAppendBatch
      ? !createTime || h.maxTimestamp === NO_TIMESTAMP || h.maxTimestamp < lower ||
        h.maxTimestamp > upper
      : createTime && (lower > -Infinity || h.maxTimestamp > upper);
    if (compacted || timestampsToCheck) {
      const errors = batchRecordErrors(
        records.subarray(pos, pos + size),
        h,
        { compacted, createTime, lower, upper, topicPartition, now, cfg },
      );
      if (errors.length > 0) throw recordValidationError(errors);
    }
    pos += size;
  }
}

interface Checks {
  compacted: boolean;
  createTime: boolean;
  lower: number;
  upper: number;
  topicPartition: string;
  now: number;
  cfg: LogConfig;
}

function batchRecordErrors(
  batch: Uint8Array,
  h: BatchHeader,
  c: Checks,
): { code: number; error: RecordError }[] {
  const errors: { code: number; error: RecordError }[] = [];
  const logAppendBatch = timestampType(h) === "LogAppendTime";
  const { records } = decodeRecords(batch);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const fail = (code: number, message: string) =>
      errors.push({ code, error: { batchIndex: i, batchIndexErrorMessage: message } });
    if (c.compacted && r.key === null) {
      fail(
        ErrorCode.INVALID_RECORD,
        `Compacted topic cannot accept message without key in topic partition ${c.topicPartition}`,
      );
      continue;
    }
    const ts = logAppendBatch ? h.maxTimestamp : h.baseTimestamp + r.timestampDelta;
    if (c.createTime && ts !== NO_TIMESTAMP) {
      if (ts < c.lower || ts > c.upper) {
        fail(
          ErrorCode.INVALID_TIMESTAMP,
          `Timestamp ${ts} of message with offset ${h.baseOffset + r.offsetDelta} is out of ` +
            `range. The timestamp should be within [${c.now - c.cfg.timestampBeforeMaxMs}, ` +
            `${c.now + c.cfg.timestampAfterMaxMs}]`,
        );
      }
    } else if (logAppendBatch) {
      fail(
        ErrorCode.INVALID_TIMESTAMP,
        `Invalid timestamp type in message DefaultRecord(offset=${h.baseOffset + r.offsetDelta}, ` +
          `timestamp=${ts}, key=${r.key?.length ?? 0} bytes, value=${r.value?.length ?? 0} ` +
          `bytes). Producer should not set timestamp type to LogAppendTime.`,
      );
    }
  }
  return errors;
}

/** Kafka's LogValidator.processRecordErrors: the partition's code and message. */
function recordValidationError(
  errors: { code: number; error: RecordError }[],
): RecordValidationError {
  const recordErrors = errors.map((e) => e.error);
  if (errors.some((e) => e.code === ErrorCode.INVALID_TIMESTAMP)) {
    return new RecordValidationError(
      ErrorCode.INVALID_TIMESTAMP,
      "One or more records have been rejected due to invalid timestamp",
      recordErrors,
    );
  }
  const shown = recordErrors.slice(0, 3).map((e) =>
    `RecordError(batchIndex=${e.batchIndex}, message='${e.batchIndexErrorMessage}')`
  );
  return new RecordValidationError(
    ErrorCode.INVALID_RECORD,
    `One or more records have been rejected due to ${errors.length} record errors in total, ` +
      `and only showing the first three errors at most: [${shown.join(", ")}]`,
    recordErrors,
  );
}
