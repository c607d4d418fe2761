/**
 * LogValidator: what an append goes through before it is written, after Kafka's class of the
 * same name (validateMessagesAndAssignOffsets). validateAppend converts a legacy payload,
 * checks the batches' framing and sizes and, for client appends, the batch-level rules and
 * every record (storage/record_validation.ts); assignOffsets and stampBatches then give the
 * batches their offsets, leader epoch and LogAppendTime. PartitionLog runs these inside its
 * append chain; the producer-state checks sit between assignOffsets and stampBatches there.
 *
 * A legacy produce payload (magic 0/1 message sets, which Produce v0–2 may carry) becomes
 * what this log stores: one v2 record batch, as Kafka 3.x does (its message format is always
 * v2). The batch then takes the same path as any v2 append.
 */
import { DEFAULT_MAX_OUTPUT } from "../protocol/compression.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import {
  codecOf,
  innerRecords,
  isLogAppendTime,
  type LegacyEntry,
  MAGIC_V1,
  NO_TIMESTAMP,
  readLegacyEntries,
} from "../protocol/legacy_records.ts";
import {
  type BatchHeader,
  compression,
  CompressionType,
  isControl,
  isTransactional,
  MAGIC_V2,
  peekMagic,
  recordFramingError,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  TIMESTAMP_TYPE_MASK,
  totalSize,
  validateBatches,
} from "../protocol/record_batch.ts";
import { type ConvertedRecord, toRecordBatch } from "../protocol/records_conversion.ts";
import type { LogConfig, MessageTimestampType } from "./log_config.ts";
import { validateRecords } from "./record_validation.ts";
import { recompressForTopic } from "./recompression.ts";

export interface LegacyConversionConfig {
  maxMessageBytes: number;
  messageTimestampType: MessageTimestampType;
}

function checkTimestampType(
  outer: LegacyEntry,
  record: LegacyEntry,
  cfg: LegacyConversionConfig,
): void {
  const bound = cfg.messageTimestampType === "CreateTime" && record.timestamp !== NO_TIMESTAMP;
  if (!bound && outer.magic === MAGIC_V1 && isLogAppendTime(outer.attributes)) {
    throw new KafkaError(
      ErrorCode.INVALID_TIMESTAMP,
      "producers may not set the timestamp type to LogAppendTime",
    );
  }
}

/**
 * The v2 batch storing the legacy message set `records`.
 *
 * Rules, after LogValidator.convertAndAssignOffsetsNonCompressed and
 * validateMessagesAndAssignOffsetsCompressed (`compression.type=producer`):
 * - every message must be whole (CORRUPT_MESSAGE), no larger than `max.message.bytes`
 *   (MESSAGE_TOO_LARGE) and carry a valid CRC-32 (CORRUPT_MESSAGE), inner messages of a
 *   wrapper included;
 * - inner messages may not be compressed again and must share their wrapper's magic
 *   (INVALID_RECORD); zstd wrappers are invalid (INVALID_RECORD);
 * - a producer may not mark messages LogAppendTime (INVALID_TIMESTAMP) unless they carry a
 *   timestamp bound for a CreateTime topic, where Kafka lets it pass;
 * - the stored codec is the payload's (the last compressed message's codec, or none);
 *   magic 0 messages have no timestamp (stored as -1), magic 1 keep theirs, or their
 *   LogAppendTime wrapper's.
 */
export function convertLegacyMessageSet(
  records: Uint8Array,
  cfg: LegacyConversionConfig,
): Uint8Array {
  const entries = readLegacyEntries(records);
  if (entries.length === 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, "empty record set");
  let codec = 0;
  for (const e of entries) {
    if (e.sizeInBytes > cfg.maxMessageBytes) {
      throw new KafkaError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `message of ${e.sizeInBytes} bytes exceeds the maximum of ${cfg.maxMessageBytes}`,
      );
    }
    if (!e.crcValid) {
      throw new KafkaError(
        ErrorCode.CORRUPT_MESSAGE,
        `message at offset ${e.offset} fails its CRC`,
      );
    }
    if (codecOf(e.attributes) !== 0) codec = codecOf(e.attributes);
  }
  const out: ConvertedRecord[] = [];
  for (const e of entries) {
    if (codecOf(e.attributes) === 0) {
      checkTimestampType(e, e, cfg);
      out.push({ timestamp: e.timestamp, key: e.key, value: e.value });
      continue;
    }
    for (const r of innerRecords(e, DEFAULT_MAX_OUTPUT)) {
      if (codecOf(r.attributes) !== 0) {
        throw new KafkaError(
          ErrorCode.INVALID_RECORD,
          "compressed outer message has an inner message with a compression attribute set",
        );
      }
      if (!r.crcValid) {
        throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `inner message ${r.offset} fails its CRC`);
      }
      checkTimestampType(e, r, cfg);
      out.push({ timestamp: r.timestamp, key: r.key, value: r.value });
    }
  }
  return toRecordBatch(out, codec);
}

/** A validated append: the bytes to store (converted when legacy) and their batch headers. */
export interface ValidatedAppend {
  records: Uint8Array;
  headers: BatchHeader[];
}

/**
 * Checks an append before any of it is written; throws KafkaError (nothing appended) when it
 * is invalid. Client appends (Produce) may not carry control batches and get the full
 * per-record checks; coordinator appends (transaction markers) skip the client rules.
 */
export function validateAppend(
  records: Uint8Array,
  cfg: LogConfig,
  fromClient: boolean,
  topicPartition: string,
  now: number,
): ValidatedAppend {
  // Old producers' magic 0/1 message sets are stored as one v2 batch, as Kafka 3.x does.
  if (records.length > 0 && peekMagic(records) < MAGIC_V2) {
    records = convertLegacyMessageSet(records, cfg);
  }
  if (records.length > cfg.segmentBytes) {
    throw new KafkaError(
      ErrorCode.RECORD_LIST_TOO_LARGE,
      `${records.length} bytes exceed segment.bytes ${cfg.segmentBytes}`,
    );
  }
  const headers = validateBatches(records, cfg.maxMessageBytes);
  if (fromClient) {
    let pos = 0;
    for (const h of headers) {
      // Kafka's record iterator checks the framing of every record; for an uncompressed batch
      // that is a walk over the length prefixes. (Kafka iterates compressed batches too; here
      // their records are read only where a rule decompresses them, record_validation.ts.)
      const framing = compression(h) === CompressionType.NONE
        ? recordFramingError(records, pos, h)
        : null;
      if (framing !== null) throw new KafkaError(ErrorCode.INVALID_RECORD, framing);
      pos += totalSize(h);
      if (isControl(h)) {
        throw new KafkaError(ErrorCode.INVALID_RECORD, "clients may not write control batches");
      }
      if (h.producerId >= 0 && h.baseSequence < 0) {
        throw new KafkaError(ErrorCode.INVALID_RECORD, `invalid sequence ${h.baseSequence}`);
      }
      if (h.producerId < 0 && isTransactional(h)) {
        throw new KafkaError(ErrorCode.INVALID_RECORD, "transactional batch without producer id");
      }
    }
    validateRecords(records, headers, cfg, topicPartition, now);
  }
  // A topic compression.type other than `producer` stores batches recompressed to it.
  return recompressForTopic(records, headers, cfg) ?? { records, headers };
}

/** Where each batch starts, the offset after the last one, and how many records they hold. */
export interface AssignedOffsets {
  positions: number[];
  nextOffset: number;
  recordCount: number;
}

/**
 * Gives the batches consecutive offsets from `firstOffset` in their headers only; the bytes
 * are patched by stampBatches once the producer checks passed, so a failure leaves no trace.
 */
export function assignOffsets(headers: BatchHeader[], firstOffset: number): AssignedOffsets {
  const positions: number[] = [];
  let next = firstOffset;
  let pos = 0;
  let recordCount = 0;
  for (const h of headers) {
    positions.push(pos);
    h.baseOffset = next;
    next += h.lastOffsetDelta + 1;
    pos += totalSize(h);
    recordCount += h.recordCount;
  }
  return { positions, nextOffset: next, recordCount };
}

/**
 * Writes the assigned base offsets and the leader epoch into the batches and, for a
 * LogAppendTime topic (`logAppendTime` not null), the broker's time. Returns the largest
 * timestamp of the append.
 */
export function stampBatches(
  records: Uint8Array,
  headers: BatchHeader[],
  positions: number[],
  leaderEpoch: number,
  logAppendTime: number | null,
): number {
  let maxTimestamp = -1;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    setBaseOffset(records, positions[i], h.baseOffset);
    setPartitionLeaderEpoch(records, positions[i], leaderEpoch);
    if (logAppendTime !== null) {
      setLogAppendTime(records, positions[i], logAppendTime);
      h.maxTimestamp = logAppendTime;
      h.attributes |= TIMESTAMP_TYPE_MASK;
    }
    if (h.maxTimestamp > maxTimestamp) maxTimestamp = h.maxTimestamp;
  }
  return maxTimestamp;
}
