/**
 * Record-batch compression codecs, by Kafka attribute id: 0 none, 1 gzip, 2 snappy, 3 lz4,
 * 4 zstd.
 *
 * gzip and zstd go through `node:zlib`. snappy and lz4 are pure TypeScript because Deno has
 * no binding for them and WebAssembly is off the table.
 *
 * This file maps codec ids to the codecs, one file each in protocol/compression/.
 *
 * Every decoder is bounded by `maxOutput`: sizes announced by a header are checked against it
 * (and against the most the input could possibly expand to) before anything is allocated, so
 * a lying header costs a KafkaError, never memory.
 */
import { ErrorCode, KafkaError } from "./errors.ts";
import { corrupt, DEFAULT_MAX_OUTPUT } from "./compression/common.ts";
import { gzipCompress, gzipDecompress } from "./compression/gzip.ts";
import { lz4CompressFrame, lz4DecompressFrame } from "./compression/lz4.ts";
import { snappyCompressXerial, snappyDecompress } from "./compression/snappy.ts";
import { zstdCompress, zstdDecompress } from "./compression/zstd.ts";

export { DEFAULT_MAX_OUTPUT };
export { lz4CompressFrame, lz4DecompressFrame, type Lz4Options } from "./compression/lz4.ts";
export { snappyCompressRaw, snappyCompressXerial, snappyDecompress } from "./compression/snappy.ts";
export { xxhash32 } from "./compression/xxhash32.ts";

export const Compression = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;

/**
 * Magic 0 message sets frame LZ4 as Kafka 0.8–0.9 did: the frame descriptor's checksum also
 * covers the magic number (KAFKA-3160); such frames are written that way and read without
 * checking that byte, as Kafka's KafkaLZ4BlockInputStream/OutputStream do for magic 0.
 */
export interface CodecOptions {
  legacyLz4?: boolean;
  /** gzip (1–9; -1: zlib's default) and zstd levels, as Kafka's compression.*.level. */
  level?: number;
}

/** Compresses `data` with the codec of a batch's attributes bits 0-2. */
export function compress(codec: number, data: Uint8Array, opts: CodecOptions = {}): Uint8Array {
  switch (codec) {
    case Compression.NONE:
      return data;
    case Compression.GZIP:
      return gzipCompress(data, opts.level);
    case Compression.SNAPPY:
      return snappyCompressXerial(data);
    case Compression.LZ4:
      return lz4CompressFrame(data, { brokenDescriptorChecksum: opts.legacyLz4 });
    case Compression.ZSTD:
      return zstdCompress(data, opts.level);
    default:
      throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `compression codec ${codec}`);
  }
}

/**
 * Decompresses `data`; fails with CORRUPT_MESSAGE on malformed input or when the result
 * would exceed `maxOutput` bytes.
 */
export function decompress(
  codec: number,
  data: Uint8Array,
  maxOutput: number = DEFAULT_MAX_OUTPUT,
  opts: CodecOptions = {},
): Uint8Array {
  switch (codec) {
    case Compression.NONE:
      if (data.length > maxOutput) corrupt(`${data.length} bytes exceed maxOutput ${maxOutput}`);
      return data;
    case Compression.GZIP:
      return gzipDecompress(data, maxOutput);
    case Compression.SNAPPY:
      return snappyDecompress(data, maxOutput);
    case Compression.LZ4:
      return lz4DecompressFrame(data, maxOutput, opts.legacyLz4 === true);
    case Compression.ZSTD:
      return zstdDecompress(data, maxOutput);
    default:
      throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `compression codec ${codec}`);
  }
}
