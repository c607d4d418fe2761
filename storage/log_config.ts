/**
 * Per-partition log settings, named after Kafka's topic configs (broker default in brackets).
 * A topic's effective config is the broker defaults overlaid with the topic's overrides, which
 * are kept as Kafka-named strings (`segment.bytes`, ...) so DescribeConfigs can echo them.
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";

export type MessageTimestampType = "CreateTime" | "LogAppendTime";
export type CleanupPolicy = "delete" | "compact" | "compact,delete";
/** `compression.type`: a codec batches are stored in, or `producer` (as sent). */
export type CompressionTypeConfig =
  | "producer"
  | "uncompressed"
  | "gzip"
  | "snappy"
  | "lz4"
  | "zstd";
const COMPRESSION_TYPES: readonly string[] = [
  "producer",
  "uncompressed",
  "gzip",
  "snappy",
  "lz4",
  "zstd",
];

export interface LogConfig {
  /** `segment.bytes` [log.segment.bytes]: roll the active segment before it exceeds this. */
  segmentBytes: number;
  /** `segment.ms` [log.roll.ms]: roll once the active segment's first batch is this old. */
  segmentMs: number;
  /** `segment.jitter.ms` [log.roll.jitter.ms]: most random time taken off segmentMs. */
  segmentJitterMs: number;
  /** `file.delete.delay.ms` [log.segment.delete.delay.ms]: a deleted segment's files linger this long. */
  fileDeleteDelayMs: number;
  /** `index.interval.bytes`: log bytes between sparse index entries. */
  indexIntervalBytes: number;
  /** Entries per index before the segment must roll (Kafka: `segment.index.bytes` / 8). */
  maxIndexEntries: number;
  /** `flush.messages`: fsync after this many messages (default: leave it to the OS). */
  flushIntervalMessages: number;
  /** `flush.ms`: fsync when the last flush is this old (checked on append). */
  flushIntervalMs: number;
  /** `message.timestamp.type`. */
  messageTimestampType: MessageTimestampType;
  /** `max.message.bytes`: largest batch accepted. */
  maxMessageBytes: number;
  /** `compression.type` [compression.type]: batches are recompressed to it unless `producer`. */
  compressionType: CompressionTypeConfig;
  /** `compression.gzip.level`: level of gzip recompression (-1: zlib's default). */
  compressionGzipLevel: number;
  /** `compression.zstd.level`: level of zstd recompression. */
  compressionZstdLevel: number;
  /** `message.timestamp.before.max.ms`: oldest CreateTime accepted, before now. */
  timestampBeforeMaxMs: number;
  /** `message.timestamp.after.max.ms`: newest CreateTime accepted, after now. */
  timestampAfterMaxMs: number;
  /** `retention.ms` (carried for the retention task; -1 = unlimited). */
  retentionMs: number;
  /** `retention.bytes` (carried for the retention task; -1 = unlimited). */
  retentionBytes: number;
  /** `cleanup.policy`: delete (retention), compact (LogCleaner) or both. */
  cleanupPolicy: CleanupPolicy;
  /** `remote.storage.enable`: tier closed segments to the cold tier (KIP-405). */
  remoteStorageEnable: boolean;
  /** `local.retention.ms`: local retention of a tiered topic; -2 = retentionMs. */
  localRetentionMs: number;
  /** `local.retention.bytes`: local size bound of a tiered topic; -2 = retentionBytes. */
  localRetentionBytes: number;
  /** `delete.retention.ms`: how long compaction keeps tombstones (KIP-534 delete horizon). */
  deleteRetentionMs: number;
  /** `min.compaction.lag.ms`: records younger than this are not compacted. */
  minCompactionLagMs: number;
  /** `max.compaction.lag.ms`: dirty data older than this is compacted whatever the ratio. */
  maxCompactionLagMs: number;
  /** `min.cleanable.dirty.ratio`: compact once dirty bytes / log bytes reach this. */
  minCleanableDirtyRatio: number;
}

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentJitterMs: 0,
  fileDeleteDelayMs: 60000,
  indexIntervalBytes: 4096,
  maxIndexEntries: (10 * 1024 * 1024) / 8,
  flushIntervalMessages: Number.MAX_SAFE_INTEGER,
  flushIntervalMs: Number.MAX_SAFE_INTEGER,
  messageTimestampType: "CreateTime",
  maxMessageBytes: 1048588,
  compressionType: "producer",
  compressionGzipLevel: -1,
  compressionZstdLevel: 3,
  timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER,
  timestampAfterMaxMs: 3600000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  cleanupPolicy: "delete",
  remoteStorageEnable: false,
  localRetentionMs: -2,
  localRetentionBytes: -2,
  deleteRetentionMs: 86400000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  minCleanableDirtyRatio: 0.5,
});

/** The local retention in force: local.retention.ms, or retention.ms when it is -2. */
export function effectiveLocalRetentionMs(c: LogConfig): number {
  return c.localRetentionMs === -2 ? c.retentionMs : c.localRetentionMs;
}

/** The local size bound in force: local.retention.bytes, or retention.bytes when it is -2. */
export function effectiveLocalRetentionBytes(c: LogConfig): number {
  return c.localRetentionBytes === -2 ? c.retentionBytes : c.localRetentionBytes;
}

/** Whether the policy includes "delete" (time/size retention and DeleteRecords apply). */
export function deletePolicy(c: LogConfig): boolean {
  return c.cleanupPolicy !== "compact";
}

/** Whether the policy includes "compact" (the LogCleaner works on the log). */
export function compactPolicy(c: LogConfig): boolean {
  return c.cleanupPolicy !== "delete";
}

/**
 * Kafka's LogConfig.randomSegmentJitter: drawn once per segment, so that partitions created
 * together do not all roll at the same moment.
 */
export function randomSegmentJitter(c: LogConfig): number {
  if (c.segmentJitterMs <= 0) return 0;
  return Math.floor(Math.random() * Math.min(c.segmentJitterMs, c.segmentMs));
}

/** A fresh config: the defaults (or `base`) with `overrides` applied. */
export function logConfig(
  overrides: Partial<LogConfig> = {},
  base: Readonly<LogConfig> = DEFAULT_LOG_CONFIG,
): LogConfig {
  return { ...base, ...overrides };
}

function intProp(key: string, value: string, min: number): number {
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < min) {
    throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value ${value} for ${key}`);
  }
  return n;
}

/** Topic config keys this module understands, with Kafka's names. */
export const TOPIC_CONFIG_KEYS = [
  "segment.bytes",
  "segment.ms",
  "segment.jitter.ms",
  "file.delete.delay.ms",
  "segment.index.bytes",
  "index.interval.bytes",
  "flush.messages",
  "flush.ms",
  "message.timestamp.type",
  "max.message.bytes",
  "compression.type",
  "compression.gzip.level",
  "compression.zstd.level",
  "message.timestamp.before.max.ms",
  "message.timestamp.after.max.ms",
  "retention.ms",
  "retention.bytes",
  "cleanup.policy",
  "remote.storage.enable",
  "local.retention.ms",
  "local.retention.bytes",
  "delete.retention.ms",
  "min.compaction.lag.ms",
  "max.compaction.lag.ms",
  "min.cleanable.dirty.ratio",
] as const;

/**
 * Applies Kafka-named topic overrides to `base`. Unknown keys are ignored (they are stored and
 * echoed by the admin layer), null means "default"; bad values throw INVALID_CONFIG.
 */
export function logConfigFromProperties(
  props: Record<string, string | number | boolean | null>,
  base: Readonly<LogConfig> = DEFAULT_LOG_CONFIG,
): LogConfig {
  const c = logConfig({}, base);
  for (const [key, raw] of Object.entries(props)) {
    if (raw === null) continue;
    const value = String(raw);
    switch (key) {
      case "segment.bytes":
        c.segmentBytes = intProp(key, value, 14);
        break;
      case "segment.ms":
        c.segmentMs = intProp(key, value, 1);
        break;
      case "segment.jitter.ms":
        c.segmentJitterMs = intProp(key, value, 0);
        break;
      case "file.delete.delay.ms":
        c.fileDeleteDelayMs = intProp(key, value, 0);
        break;
      case "segment.index.bytes":
        c.maxIndexEntries = Math.max(1, Math.floor(intProp(key, value, 4) / 8));
        break;
      case "index.interval.bytes":
        c.indexIntervalBytes = intProp(key, value, 0);
        break;
      case "flush.messages":
        c.flushIntervalMessages = intProp(key, value, 1);
        break;
      case "flush.ms":
        c.flushIntervalMs = intProp(key, value, 0);
        break;
      case "message.timestamp.type":
        if (value !== "CreateTime" && value !== "LogAppendTime") {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value ${value} for ${key}`);
        }
        c.messageTimestampType = value;
        break;
      case "max.message.bytes":
        c.maxMessageBytes = intProp(key, value, 0);
        break;
      case "compression.type":
        if (!COMPRESSION_TYPES.includes(value)) {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value ${value} for ${key}`);
        }
        c.compressionType = value as CompressionTypeConfig;
        break;
      case "compression.gzip.level": {
        const n = intProp(key, value, -1);
        if (n === 0 || n > 9) {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value ${value} for ${key}`);
        }
        c.compressionGzipLevel = n;
        break;
      }
      case "compression.zstd.level": {
        const n = Number(value.trim());
        if (value.trim() === "" || !Number.isInteger(n) || n < -131072 || n > 22) {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value ${value} for ${key}`);
        }
        c.compressionZstdLevel = n;
        break;
      }
      case "message.timestamp.before.max.ms":
        c.timestampBeforeMaxMs = intProp(key, value, 0);
        break;
      case "message.timestamp.after.max.ms":
        c.timestampAfterMaxMs = intProp(key, value, 0);
        break;
      case "retention.ms":
        c.retentionMs = intProp(key, value, -1);
        break;
      case "retention.bytes":
        c.retentionBytes = intProp(key, value, -1);
        break;
      case "cleanup.policy": {
        const parts = new Set(value.split(",").map((s) => s.trim().toLowerCase()));
        const bad = [...parts].filter((p) => p !== "delete" && p !== "compact");
        if (parts.size === 0 || bad.length > 0) {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value ${value} for ${key}`);
        }
        c.cleanupPolicy = parts.size === 2
          ? "compact,delete"
          : parts.has("compact")
          ? "compact"
          : "delete";
        break;
      }
      case "remote.storage.enable":
        if (value !== "true" && value !== "false") {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value ${value} for ${key}`);
        }
        c.remoteStorageEnable = value === "true";
        break;
      case "local.retention.ms":
        c.localRetentionMs = intProp(key, value, -2);
        break;
      case "local.retention.bytes":
        c.localRetentionBytes = intProp(key, value, -2);
        break;
      case "delete.retention.ms":
        c.deleteRetentionMs = intProp(key, value, 0);
        break;
      case "min.compaction.lag.ms":
        c.minCompactionLagMs = intProp(key, value, 0);
        break;
      case "max.compaction.lag.ms":
        c.maxCompactionLagMs = intProp(key, value, 1);
        break;
      case "min.cleanable.dirty.ratio": {
        const n = Number(value);
        if (value.trim() === "" || !(n >= 0 && n <= 1)) {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value ${value} for ${key}`);
        }
        c.minCleanableDirtyRatio = n;
        break;
      }
    }
  }
  return c;
}
