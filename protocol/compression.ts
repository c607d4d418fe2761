/**
 * Record-batch compression codecs, by Kafka attribute id: 0 none, 1 gzip, 2 snappy, 3 lz4,
 * 4 zstd.
 *
 * gzip and zstd go through `node:zlib`. snappy and lz4 are pure TypeScript because Deno has
 * no binding for them and WebAssembly is off the table.
 *
 * Every decoder is bounded by `maxOutput`: sizes announced by a header are checked against it
 * (and against the most the input could possibly expand to) before anything is allocated, so
 * a lying header costs a KafkaError, never memory.
 */
import {
  constants as zlibConstants,
  gunzipSync,
  gzipSync,
  zstdCompressSync,
  zstdDecompressSync,
} from "node:zlib";
import { ErrorCode, KafkaError } from "./errors.ts";

export const Compression = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;

/** Default cap on decompressed size; a v2 batch is bounded by message.max.bytes anyway. */
export const DEFAULT_MAX_OUTPUT = 256 * 1024 * 1024;

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
      return asBytes(gzipSync(data, opts.level === undefined ? {} : { level: opts.level }));
    case Compression.SNAPPY:
      return snappyCompressXerial(data);
    case Compression.LZ4:
      return lz4CompressFrame(data, { brokenDescriptorChecksum: opts.legacyLz4 });
    case Compression.ZSTD:
      return asBytes(
        zstdCompressSync(
          data,
          opts.level === undefined
            ? {}
            : { params: { [zlibConstants.ZSTD_c_compressionLevel]: opts.level } },
        ),
      );
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
      return zlibDecompress("gzip", data, maxOutput);
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

function corrupt(reason: string): never {
  throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, reason);
}

/** A plain Uint8Array view of a node Buffer, so callers never meet Buffer's slice semantics. */
function asBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// ---------------------------------------------------------------------------------------
// gzip / zstd via node:zlib

function zlibDecompress(kind: "gzip" | "zstd", data: Uint8Array, maxOutput: number): Uint8Array {
  if (data.length === 0) corrupt(`empty ${kind} input`);
  // zlib refuses a zero limit; a one-byte limit still proves the output empty or too big.
  const opts = { maxOutputLength: Math.max(1, Math.min(maxOutput, 2 ** 32)) };
  let out: Uint8Array;
  try {
    out = kind === "gzip" ? gunzipSync(data, opts) : zstdDecompressSync(data, opts);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === "ERR_BUFFER_TOO_LARGE") {
      corrupt(`${kind} output exceeds maxOutput ${maxOutput}`);
    }
    corrupt(`${kind}: ${err.message ?? String(e)}`);
  }
  if (out.length > maxOutput) corrupt(`${kind} output exceeds maxOutput ${maxOutput}`);
  return asBytes(out);
}

/**
 * node:zlib returns a partial result for a truncated zstd stream instead of failing, and
 * stops after the first frame, so frames are delimited and checked for completeness here and
 * handed to zstd one by one.
 */
function zstdDecompress(data: Uint8Array, maxOutput: number): Uint8Array {
  const frames = zstdFrames(data, maxOutput);
  if (frames.length === 1) return zlibDecompress("zstd", data.subarray(...frames[0]), maxOutput);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [s, e] of frames) {
    const part = zlibDecompress("zstd", data.subarray(s, e), maxOutput - total);
    parts.push(part);
    total += part.length;
  }
  return concat(parts, total);
}

/** Walks zstd frame and block headers; returns the [start, end) of each non-skippable frame. */
function zstdFrames(data: Uint8Array, maxOutput: number): [number, number][] {
  const end = data.length;
  if (end === 0) corrupt("empty zstd input");
  const frames: [number, number][] = [];
  let p = 0;
  let declared = 0;
  while (p < end) {
    const frameStart = p;
    if (p + 4 > end) corrupt("zstd: truncated magic");
    const magic = readLE32(data, p);
    p += 4;
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      if (p + 4 > end) corrupt("zstd: truncated skippable frame");
      const size = readLE32(data, p);
      p += 4 + size;
      if (p > end) corrupt("zstd: truncated skippable frame");
      continue;
    }
    if (magic !== 0xfd2fb528) corrupt("zstd: bad frame magic");
    if (p >= end) corrupt("zstd: truncated frame header");
    const fhd = data[p++];
    if (fhd & 0x08) corrupt("zstd: reserved header bit set");
    const single = (fhd >> 5) & 1;
    const fcsFlag = fhd >> 6;
    const fcsSize = fcsFlag === 0 ? single : 1 << fcsFlag;
    const dictSize = [0, 1, 2, 4][fhd & 3];
    const hasChecksum = (fhd >> 2) & 1;
    const headerRest = (single ? 0 : 1) + dictSize + fcsSize;
    if (p + headerRest > end) corrupt("zstd: truncated frame header");
    p += (single ? 0 : 1) + dictSize;
    if (fcsSize > 0) {
      let fcs = 0;
      for (let i = fcsSize - 1; i >= 0; i--) fcs = fcs * 256 + data[p + i];
      if (fcsSize === 2) fcs += 256;
      declared += fcs;
      if (declared > maxOutput) corrupt(`zstd content size exceeds maxOutput ${maxOutput}`);
      p += fcsSize;
    }
    for (;;) {
      if (p + 3 > end) corrupt("zstd: truncated block header");
      const bh = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16);
      p += 3;
      const type = (bh >> 1) & 3;
      if (type === 3) corrupt("zstd: reserved block type");
      const size = bh >>> 3;
      if (size > 128 * 1024) corrupt("zstd: block larger than 128 KiB");
      p += type === 1 ? 1 : size;
      if (p > end) corrupt("zstd: truncated block");
      if (bh & 1) break;
    }
    if (hasChecksum) {
      p += 4;
      if (p > end) corrupt("zstd: truncated content checksum");
    }
    frames.push([frameStart, p]);
  }
  if (frames.length === 0) corrupt("zstd: no data frame");
  return frames;
}

// ---------------------------------------------------------------------------------------
// shared helpers

function readLE32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

function writeLE32(b: Uint8Array, p: number, v: number): void {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
}

/** A signed 32-bit load; only used for equality and hashing, so the sign is irrelevant. */
function load32(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}

/** Copies a match that may overlap its own output (offset < length repeats a pattern). */
function copyMatch(out: Uint8Array, op: number, offset: number, len: number): void {
  let from = op - offset;
  if (offset >= len && len > 32) {
    out.copyWithin(op, from, from + len);
    return;
  }
  const end = op + len;
  while (op < end) out[op++] = out[from++];
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// xxHash32 (LZ4 frame checksums)

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** xxHash32 of `data[start, end)`, as the LZ4 frame format uses for its checksums. */
export function xxhash32(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
  const len = end - start;
  let i = start;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    while (i <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(load32(data, i), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(load32(data, i + 4), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(load32(data, i + 8), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(load32(data, i + 12), P2)) | 0, 13), P1);
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + len) | 0;
  while (i + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(load32(data, i), P3)) | 0, 17), P4);
    i += 4;
  }
  while (i < end) {
    h = Math.imul(rotl((h + Math.imul(data[i], P5)) | 0, 11), P1);
    i++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------
// snappy

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
/** Input per xerial chunk; 32 KiB is what snappy-java's SnappyOutputStream (Kafka) uses. */
const XERIAL_CHUNK = 32 * 1024;
/** Snappy compresses in independent 64 KiB fragments so every offset fits two bytes. */
const SNAPPY_FRAGMENT = 64 * 1024;
/** Bytes left at a fragment's end where no match is searched, so 4-byte loads stay inside. */
const SNAPPY_MARGIN = 15;
const SNAPPY_HASH_BITS = 14;
const snappyTable = new Uint16Array(1 << SNAPPY_HASH_BITS);

function snappyMaxLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/** Compresses into one raw snappy block (varint length preamble, then elements). */
export function snappyCompressRaw(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(snappyMaxLength(data.length));
  return out.subarray(0, snappyEncodeBlock(data, 0, data.length, out, 0));
}

/** Compresses with snappy-java's xerial framing: the form Kafka's Java producer writes. */
export function snappyCompressXerial(data: Uint8Array): Uint8Array {
  const chunks = Math.ceil(data.length / XERIAL_CHUNK);
  const out = new Uint8Array(16 + chunks * (4 + snappyMaxLength(XERIAL_CHUNK)));
  out.set(XERIAL_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setInt32(8, 1); // version
  view.setInt32(12, 1); // minimum compatible version
  let op = 16;
  for (let s = 0; s < data.length; s += XERIAL_CHUNK) {
    const e = Math.min(data.length, s + XERIAL_CHUNK);
    const blockEnd = snappyEncodeBlock(data, s, e, out, op + 4);
    view.setInt32(op, blockEnd - op - 4);
    op = blockEnd;
  }
  return out.subarray(0, op);
}

function snappyEncodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  op: number,
): number {
  let n = end - start;
  while (n >= 0x80) {
    out[op++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[op++] = n;
  for (let s = start; s < end; s += SNAPPY_FRAGMENT) {
    op = snappyEncodeFragment(src, s, Math.min(end, s + SNAPPY_FRAGMENT), out, op);
  }
  return op;
}

function snappyHash(v: number): number {
  return Math.imul(v, 0x1e35a7bd) >>> (32 - SNAPPY_HASH_BITS);
}

/**
 * Greedy hash matcher over one fragment. The table holds positions relative to the fragment,
 * reset to 0: an empty slot thus proposes position 0, which the 4-byte compare accepts or not.
 * After 32 misses the stride grows, so incompressible input is skipped quickly.
 */
function snappyEncodeFragment(
  src: Uint8Array,
  s: number,
  e: number,
  out: Uint8Array,
  op: number,
): number {
  let nextEmit = s;
  if (e - s >= SNAPPY_MARGIN) {
    const table = snappyTable;
    table.fill(0);
    const ipLimit = e - SNAPPY_MARGIN;
    let ip = s + 1;
    let skip = 32;
    for (;;) {
      const next = ip + (skip++ >> 5);
      if (next > ipLimit) break;
      const h = snappyHash(load32(src, ip));
      let cand = s + table[h];
      table[h] = ip - s;
      if (load32(src, cand) !== load32(src, ip)) {
        ip = next;
        continue;
      }
      op = snappyEmitLiteral(src, nextEmit, ip, out, op);
      // Emit copies for as long as the position right after a match starts another one.
      let matching = true;
      while (matching) {
        // Extend the match; `cand` trails `ip`, so only `e` bounds the compare.
        let a = ip + 4;
        let b = cand + 4;
        while (a < e && src[a] === src[b]) {
          a++;
          b++;
        }
        op = snappyEmitCopy(ip - cand, a - ip, out, op);
        ip = a;
        nextEmit = ip;
        if (ip >= ipLimit) break;
        table[snappyHash(load32(src, ip - 1))] = ip - 1 - s;
        const h2 = snappyHash(load32(src, ip));
        cand = s + table[h2];
        table[h2] = ip - s;
        matching = load32(src, cand) === load32(src, ip);
      }
      if (ip >= ipLimit) break;
      ip++;
      skip = 32;
    }
  }
  if (nextEmit < e) op = snappyEmitLiteral(src, nextEmit, e, out, op);
  return op;
}

function snappyEmitLiteral(
  src: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  op: number,
): number {
  const n = to - from - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else if (n < 0x10000) {
    out[op++] = 61 << 2;
    out[op++] = n;
    out[op++] = n >>> 8;
  } else if (n < 0x1000000) {
    out[op++] = 62 << 2;
    out[op++] = n;
    out[op++] = n >>> 8;
    out[op++] = n >>> 16;
  } else {
    out[op++] = 63 << 2;
    writeLE32(out, op, n);
    op += 4;
  }
  if (to - from < 16) {
    for (let i = from; i < to; i++) out[op++] = src[i];
  } else {
    out.set(src.subarray(from, to), op);
    op += to - from;
  }
  return op;
}

function snappyEmitCopy(offset: number, len: number, out: Uint8Array, op: number): number {
  // Long matches go out as 64-byte copies, leaving at least 4 for the final element.
  while (len >= 68) {
    out[op++] = (63 << 2) | 2;
    out[op++] = offset;
    out[op++] = offset >>> 8;
    len -= 64;
  }
  if (len > 64) {
    out[op++] = (59 << 2) | 2;
    out[op++] = offset;
    out[op++] = offset >>> 8;
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    out[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    out[op++] = offset;
  } else {
    out[op++] = 2 | ((len - 1) << 2);
    out[op++] = offset;
    out[op++] = offset >>> 8;
  }
  return op;
}

function isXerial(data: Uint8Array): boolean {
  if (data.length < 8) return false;
  for (let i = 0; i < 8; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/**
 * Decompresses snappy: xerial-framed (detected by its magic, which can never begin a valid
 * raw block) or one raw block, as librdkafka and older clients send.
 */
export function snappyDecompress(
  data: Uint8Array,
  maxOutput: number = DEFAULT_MAX_OUTPUT,
): Uint8Array {
  if (!isXerial(data)) return snappyDecodeBlock(data, 0, data.length, maxOutput);
  if (data.length < 16) corrupt("snappy: truncated xerial header");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const parts: Uint8Array[] = [];
  let total = 0;
  let p = 16;
  while (p < data.length) {
    if (p + 4 > data.length) corrupt("snappy: truncated xerial chunk length");
    const len = view.getInt32(p);
    p += 4;
    if (len < 0 || p + len > data.length) corrupt("snappy: xerial chunk overruns input");
    if (len > 0) {
      const part = snappyDecodeBlock(data, p, p + len, maxOutput - total);
      parts.push(part);
      total += part.length;
    }
    p += len;
  }
  return concat(parts, total);
}

/** Decodes one raw snappy block from `src[start, end)`. */
function snappyDecodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  maxOutput: number,
): Uint8Array {
  let ip = start;
  let n = 0;
  for (let shift = 0;; shift += 7) {
    if (ip >= end) corrupt("snappy: truncated length preamble");
    if (shift > 28) corrupt("snappy: length preamble too long");
    const b = src[ip++];
    n += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (n > 0xffffffff) corrupt("snappy: length preamble overflows 32 bits");
  if (n > maxOutput) corrupt(`snappy: length ${n} exceeds maxOutput ${maxOutput}`);
  // The densest element, a 3-byte copy, yields 64 bytes: anything claiming more is a lie.
  if (n > (end - ip) * 22) corrupt(`snappy: length ${n} impossible for ${end - ip} bytes`);
  const out = new Uint8Array(n);
  let op = 0;
  while (ip < end) {
    const tag = src[ip++];
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2;
        if (len >= 60) {
          const extra = len - 59;
          if (ip + extra > end) corrupt("snappy: truncated literal length");
          len = 0;
          for (let i = extra - 1; i >= 0; i--) len = len * 256 + src[ip + i];
          ip += extra;
        }
        len += 1;
        if (len > end - ip || len > n - op) corrupt("snappy: literal overruns");
        if (len < 16) {
          for (let i = 0; i < len; i++) out[op + i] = src[ip + i];
        } else {
          out.set(src.subarray(ip, ip + len), op);
        }
        ip += len;
        op += len;
        continue;
      }
      case 1:
        if (ip >= end) corrupt("snappy: truncated copy");
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | src[ip++];
        break;
      case 2:
        if (ip + 2 > end) corrupt("snappy: truncated copy");
        len = (tag >>> 2) + 1;
        offset = src[ip] | (src[ip + 1] << 8);
        ip += 2;
        break;
      default:
        if (ip + 4 > end) corrupt("snappy: truncated copy");
        len = (tag >>> 2) + 1;
        offset = readLE32(src, ip);
        ip += 4;
    }
    if (offset === 0 || offset > op) corrupt("snappy: copy offset out of range");
    if (len > n - op) corrupt("snappy: copy overruns declared length");
    copyMatch(out, op, offset, len);
    op += len;
  }
  if (op !== n) corrupt(`snappy: produced ${op} bytes, header said ${n}`);
  return out;
}

// ---------------------------------------------------------------------------------------
// lz4 frame format

const LZ4_MAGIC = 0x184d2204;
const LZ4_MIN_MATCH = 4;
/** The last 5 bytes of a block are always literals, and no match starts in the last 12. */
const LZ4_LAST_LITERALS = 5;
const LZ4_MFLIMIT = 12;
const LZ4_HASH_BITS = 14;
const lz4Table = new Int32Array(1 << LZ4_HASH_BITS);
const LZ4_BLOCK_SIZES: { [id: number]: number } = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};

export interface Lz4Options {
  /** Maximum block size: 64 KiB (Kafka's Java default) or 4 MiB. */
  blockSize?: 65536 | 4194304;
  /** Append the xxHash32 of the content (Java and librdkafka accept it). */
  contentChecksum?: boolean;
  /** Append an xxHash32 after every block. */
  blockChecksum?: boolean;
  /** Descriptor checksum over the magic number too, as Kafka wrote for magic 0. */
  brokenDescriptorChecksum?: boolean;
}

/**
 * LZ4 frame with independent blocks: the only kind Kafka's Java consumer can read (it
 * decompresses each block into a fresh buffer), so linked blocks are never produced here.
 */
export function lz4CompressFrame(data: Uint8Array, opts: Lz4Options = {}): Uint8Array {
  const blockSize = opts.blockSize ?? 65536;
  const bsId = blockSize === 4194304 ? 7 : 4;
  const n = data.length;
  const blocks = Math.ceil(n / blockSize);
  const out = new Uint8Array(
    7 + 4 + 4 + blocks * (8 + lz4MaxBlock(Math.min(n, blockSize))),
  );
  writeLE32(out, 0, LZ4_MAGIC);
  out[4] = 0x40 | 0x20 | (opts.blockChecksum ? 0x10 : 0) | (opts.contentChecksum ? 0x04 : 0);
  out[5] = bsId << 4;
  out[6] = (xxhash32(out, 0, opts.brokenDescriptorChecksum ? 0 : 4, 6) >>> 8) & 0xff;
  let op = 7;
  lz4Table.fill(0);
  for (let s = 0; s < n; s += blockSize) {
    const e = Math.min(n, s + blockSize);
    let size = lz4EncodeBlock(data, s, e, out, op + 4) - op - 4;
    if (size >= e - s) {
      // Incompressible: store it, flagged by the high bit of the size.
      size = e - s;
      writeLE32(out, op, size | 0x80000000);
      out.set(data.subarray(s, e), op + 4);
    } else {
      writeLE32(out, op, size);
    }
    op += 4 + size;
    if (opts.blockChecksum) {
      writeLE32(out, op, xxhash32(out, 0, op - size, op));
      op += 4;
    }
  }
  writeLE32(out, op, 0);
  op += 4;
  if (opts.contentChecksum) {
    writeLE32(out, op, xxhash32(data));
    op += 4;
  }
  return out.subarray(0, op);
}

function lz4MaxBlock(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function lz4Hash(v: number): number {
  return Math.imul(v, 0x9e3779b1) >>> (32 - LZ4_HASH_BITS);
}

/**
 * Greedy single-probe matcher for one independent block. The table holds absolute
 * position + 1 and is shared across blocks: candidates before `s` (another block) or more
 * than 65535 back are rejected. Returns the end of the written block.
 */
function lz4EncodeBlock(
  src: Uint8Array,
  s: number,
  e: number,
  out: Uint8Array,
  op: number,
): number {
  let anchor = s;
  const matchLimit = e - LZ4_LAST_LITERALS;
  const lastMatchStart = e - LZ4_MFLIMIT;
  const table = lz4Table;
  let ip = s;
  let searches = 1 << 6;
  while (ip <= lastMatchStart) {
    const seq = load32(src, ip);
    const h = lz4Hash(seq);
    let cand = table[h] - 1;
    table[h] = ip + 1;
    if (cand < s || ip - cand > 65535 || load32(src, cand) !== seq) {
      ip += searches++ >> 6;
      continue;
    }
    searches = 1 << 6;
    // Extend backwards over literals, then forwards up to the last-literals margin.
    while (ip > anchor && cand > s && src[ip - 1] === src[cand - 1]) {
      ip--;
      cand--;
    }
    let a = ip + LZ4_MIN_MATCH;
    let b = cand + LZ4_MIN_MATCH;
    while (a < matchLimit && src[a] === src[b]) {
      a++;
      b++;
    }
    op = lz4EmitSequence(src, anchor, ip, ip - cand, a - ip, out, op);
    ip = a;
    anchor = ip;
    if (ip - 2 > s && ip <= lastMatchStart) table[lz4Hash(load32(src, ip - 2))] = ip - 1;
  }
  return lz4EmitSequence(src, anchor, e, 0, 0, out, op);
}

/** One sequence: token, literals, and (unless `matchLen` is 0, the last one) a match. */
function lz4EmitSequence(
  src: Uint8Array,
  from: number,
  to: number,
  offset: number,
  matchLen: number,
  out: Uint8Array,
  op: number,
): number {
  const litLen = to - from;
  const ml = matchLen === 0 ? 0 : matchLen - LZ4_MIN_MATCH;
  out[op++] = ((litLen >= 15 ? 15 : litLen) << 4) | (ml >= 15 ? 15 : ml);
  if (litLen >= 15) {
    let r = litLen - 15;
    while (r >= 255) {
      out[op++] = 255;
      r -= 255;
    }
    out[op++] = r;
  }
  if (litLen < 16) {
    for (let i = from; i < to; i++) out[op++] = src[i];
  } else {
    out.set(src.subarray(from, to), op);
    op += litLen;
  }
  if (matchLen === 0) return op;
  out[op++] = offset;
  out[op++] = offset >>> 8;
  if (ml >= 15) {
    let r = ml - 15;
    while (r >= 255) {
      out[op++] = 255;
      r -= 255;
    }
    out[op++] = r;
  }
  return op;
}

/** A growable output bounded by `max`. */
class Output {
  buf: Uint8Array;
  pos = 0;
  constructor(initial: number, readonly max: number) {
    this.buf = new Uint8Array(Math.min(initial, max));
  }
  /** Makes room for `n` more bytes, or for as many as `max` still allows. */
  reserve(n: number): void {
    const want = Math.min(this.pos + n, this.max);
    if (want <= this.buf.length) return;
    const next = new Uint8Array(Math.min(this.max, Math.max(want, this.buf.length * 2)));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
}

/**
 * Decompresses one or more LZ4 frames (skippable frames are skipped). Handles independent
 * and linked blocks, stored blocks, block and content checksums and the content size field.
 */
export function lz4DecompressFrame(
  data: Uint8Array,
  maxOutput: number = DEFAULT_MAX_OUTPUT,
  ignoreDescriptorChecksum = false,
): Uint8Array {
  const end = data.length;
  if (end === 0) corrupt("empty lz4 input");
  const out = new Output(Math.max(1024, end * 4), maxOutput);
  let p = 0;
  while (p < end) {
    if (p + 4 > end) corrupt("lz4: truncated magic");
    const magic = readLE32(data, p);
    p += 4;
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      if (p + 4 > end) corrupt("lz4: truncated skippable frame");
      p += 4 + readLE32(data, p);
      if (p > end) corrupt("lz4: truncated skippable frame");
      continue;
    }
    if (magic !== LZ4_MAGIC) corrupt("lz4: bad frame magic");
    p = lz4DecodeFrame(data, p, out, ignoreDescriptorChecksum);
  }
  return out.buf.subarray(0, out.pos);
}

function lz4DecodeFrame(
  src: Uint8Array,
  p: number,
  out: Output,
  ignoreDescriptorChecksum: boolean,
): number {
  const end = src.length;
  const descStart = p;
  if (p + 3 > end) corrupt("lz4: truncated frame descriptor");
  const flg = src[p++];
  const bd = src[p++];
  if (flg >> 6 !== 1) corrupt(`lz4: frame version ${flg >> 6}`);
  if (flg & 0x02 || bd & 0x8f) corrupt("lz4: reserved descriptor bits set");
  if (flg & 0x01) corrupt("lz4: dictionaries are not supported");
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const blockMax = LZ4_BLOCK_SIZES[(bd >> 4) & 7];
  if (blockMax === undefined) corrupt(`lz4: block size id ${(bd >> 4) & 7}`);
  let contentSize = -1;
  if (hasContentSize) {
    if (p + 9 > end) corrupt("lz4: truncated frame descriptor");
    contentSize = readLE32(src, p) + readLE32(src, p + 4) * 4294967296;
    p += 8;
    if (contentSize > out.max - out.pos) corrupt(`lz4: content size exceeds maxOutput`);
    // 255 bytes of match length per input byte is the format's densest encoding.
    if (contentSize > (end - p) * 255) corrupt("lz4: content size impossible for input");
    out.reserve(contentSize);
  }
  const hc = (xxhash32(src, 0, descStart, p) >>> 8) & 0xff;
  if (src[p++] !== hc && !ignoreDescriptorChecksum) {
    corrupt("lz4: frame descriptor checksum mismatch");
  }
  const frameStart = out.pos;
  for (;;) {
    if (p + 4 > end) corrupt("lz4: truncated block size");
    const word = readLE32(src, p);
    p += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax) corrupt(`lz4: block of ${size} bytes exceeds maximum ${blockMax}`);
    if (p + size + (blockChecksum ? 4 : 0) > end) corrupt("lz4: truncated block");
    if (blockChecksum && xxhash32(src, 0, p, p + size) !== readLE32(src, p + size)) {
      corrupt("lz4: block checksum mismatch");
    }
    if (word & 0x80000000) {
      if (size > out.max - out.pos) corrupt("lz4: output exceeds maxOutput");
      out.reserve(size);
      out.buf.set(src.subarray(p, p + size), out.pos);
      out.pos += size;
    } else {
      out.reserve(blockMax);
      const limit = Math.min(out.pos + blockMax, out.max);
      out.pos = lz4DecodeBlock(
        src,
        p,
        p + size,
        out.buf,
        out.pos,
        limit,
        independent ? out.pos : frameStart,
      );
    }
    p += size + (blockChecksum ? 4 : 0);
  }
  if (contentSize >= 0 && out.pos - frameStart !== contentSize) {
    corrupt(`lz4: content size ${contentSize} but decoded ${out.pos - frameStart}`);
  }
  if (contentChecksum) {
    if (p + 4 > end) corrupt("lz4: truncated content checksum");
    if (xxhash32(out.buf, 0, frameStart, out.pos) !== readLE32(src, p)) {
      corrupt("lz4: content checksum mismatch");
    }
    p += 4;
  }
  return p;
}

/**
 * Decodes one LZ4 block into `out` at `op`, writing no further than `limit`. Matches may
 * reach back to `windowStart` (the block start, or the frame start for linked blocks).
 */
function lz4DecodeBlock(
  src: Uint8Array,
  ip: number,
  end: number,
  out: Uint8Array,
  op: number,
  limit: number,
  windowStart: number,
): number {
  for (;;) {
    if (ip >= end) corrupt("lz4: truncated sequence");
    const token = src[ip++];
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (ip >= end) corrupt("lz4: truncated literal length");
        b = src[ip++];
        litLen += b;
      } while (b === 255);
    }
    if (litLen > end - ip) corrupt("lz4: literals overrun block");
    if (litLen > limit - op) corrupt("lz4: output exceeds block size or maxOutput");
    if (litLen < 16) {
      for (let i = 0; i < litLen; i++) out[op + i] = src[ip + i];
    } else {
      out.set(src.subarray(ip, ip + litLen), op);
    }
    ip += litLen;
    op += litLen;
    if (ip === end) return op;
    if (ip + 2 > end) corrupt("lz4: truncated match offset");
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op - windowStart) corrupt("lz4: match offset out of range");
    let matchLen = (token & 15) + LZ4_MIN_MATCH;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (ip >= end) corrupt("lz4: truncated match length");
        b = src[ip++];
        matchLen += b;
      } while (b === 255);
    }
    if (matchLen > limit - op) corrupt("lz4: output exceeds block size or maxOutput");
    copyMatch(out, op, offset, matchLen);
    op += matchLen;
  }
}
