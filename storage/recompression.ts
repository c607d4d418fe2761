/**
 * The part of Kafka's LogValidator that applies a topic's `compression.type`: when it names a
 * codec (or `uncompressed`) that differs from the one a batch was produced with, the batch is
 * stored recompressed to it (validateMessagesAndAssignOffsetsCompressed, "not in place").
 * `producer` keeps batches as sent and never reaches this file.
 *
 * Kafka rebuilds the batch from its records; the records section is the same bytes whatever
 * the codec, so here the batch keeps its header — producer id, epoch, base sequence,
 * transactional flag, timestamps, offset deltas — and only the records section, the codec
 * bits, the length and the CRC change. Offsets are assigned afterwards as for any batch.
 * Control batches written uncompressed stay so, as in Kafka.
 */
import { compress, decompress, DEFAULT_MAX_OUTPUT } from "../protocol/compression.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  type BatchHeader,
  COMPRESSION_CODEC_MASK,
  CompressionType,
  computeBatchCrc,
  CRC_OFFSET,
  isControl,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  totalSize,
  validateBatches,
} from "../protocol/record_batch.ts";
import type { LogConfig } from "./log_config.ts";

/** What batches are stored in: a codec id and its level. */
export interface RecompressionTarget {
  codec: number;
  /** `compression.gzip.level` / `compression.zstd.level`; lz4 and snappy have one mode here. */
  level?: number;
}

/** The codec a topic's `compression.type` stores batches in; null for `producer`. */
export function recompressionTarget(cfg: LogConfig): RecompressionTarget | null {
  switch (cfg.compressionType) {
    case "producer":
      return null;
    case "uncompressed":
      return { codec: CompressionType.NONE };
    case "gzip":
      return { codec: CompressionType.GZIP, level: cfg.compressionGzipLevel };
    case "snappy":
      return { codec: CompressionType.SNAPPY };
    case "lz4":
      return { codec: CompressionType.LZ4 };
    case "zstd":
      return { codec: CompressionType.ZSTD, level: cfg.compressionZstdLevel };
  }
}

/**
 * The append's batches as the topic stores them, or null when that is as sent (`producer`, or
 * every batch already in the topic's codec). Recompressed batches are checked again as
 * Kafka re-checks sizes after recompression: max.message.bytes per batch
 * (MESSAGE_TOO_LARGE) and segment.bytes for the whole (RECORD_LIST_TOO_LARGE).
 */
export function recompressForTopic(
  records: Uint8Array,
  headers: readonly BatchHeader[],
  cfg: LogConfig,
): { records: Uint8Array; headers: BatchHeader[] } | null {
  const target = recompressionTarget(cfg);
  const out = target && recompressBatches(records, headers, target);
  if (!out) return null;
  if (out.length > cfg.segmentBytes) {
    throw new KafkaError(
      ErrorCode.RECORD_LIST_TOO_LARGE,
      `${out.length} bytes exceed segment.bytes ${cfg.segmentBytes}`,
    );
  }
  return { records: out, headers: validateBatches(out, cfg.maxMessageBytes) };
}

/**
 * `records` (whole, validated v2 batches described by `headers`) with every batch stored in
 * the target codec, or null when every batch already is (whatever level it was made with,
 * as in Kafka). A corrupt compressed section throws CORRUPT_MESSAGE (from decompress).
 */
export function recompressBatches(
  records: Uint8Array,
  headers: readonly BatchHeader[],
  target: RecompressionTarget,
): Uint8Array | null {
  const codec = target.codec;
  const parts: Uint8Array[] = [];
  let changed = false;
  let pos = 0;
  for (const h of headers) {
    const size = totalSize(h);
    const batch = records.subarray(pos, pos + size);
    pos += size;
    const source = h.attributes & COMPRESSION_CODEC_MASK;
    if (source === codec || (isControl(h) && source === CompressionType.NONE)) {
      parts.push(batch);
      continue;
    }
    changed = true;
    parts.push(withCodec(batch, source, target));
  }
  if (!changed) return null;
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One batch with its records section re-encoded from `source` to `target`. */
function withCodec(batch: Uint8Array, source: number, target: RecompressionTarget): Uint8Array {
  const plain = decompress(source, batch.subarray(RECORD_BATCH_OVERHEAD), DEFAULT_MAX_OUTPUT);
  const body = compress(target.codec, plain, { level: target.level });
  const out = new Uint8Array(RECORD_BATCH_OVERHEAD + body.length);
  out.set(batch.subarray(0, RECORD_BATCH_OVERHEAD));
  out.set(body, RECORD_BATCH_OVERHEAD);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setInt32(BATCH_LENGTH_OFFSET, out.length - LOG_OVERHEAD);
  const attributes = view.getInt16(ATTRIBUTES_OFFSET);
  view.setInt16(ATTRIBUTES_OFFSET, (attributes & ~COMPRESSION_CODEC_MASK) | target.codec);
  view.setUint32(CRC_OFFSET, computeBatchCrc(out, 0, out.length));
  return out;
}
