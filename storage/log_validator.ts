/**
 * The part of Kafka's LogValidator that turns a legacy produce payload (magic 0/1 message
 * sets, which Produce v0–2 may carry) into what this log stores: one v2 record batch, as
 * Kafka 3.x does (its message format is always v2). The batch then takes the same path as
 * any v2 append: offsets, LogAppendTime stamping and size checks happen in PartitionLog.
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
import { type ConvertedRecord, toRecordBatch } from "../protocol/records_conversion.ts";
import type { MessageTimestampType } from "./log_config.ts";

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

/** The v2 batch storing the legacy message set `records` (see the rules above). */
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
