/**
 * lz4 (codec 3) in pure TypeScript: the LZ4 frame format with independent blocks (what
 * Kafka's Java consumer can read), including the magic 0 framing with the broken descriptor
 * checksum. Decoding handles linked and stored blocks and all checksums, bounded by
 * `maxOutput`.
 */
import { copyMatch, corrupt, DEFAULT_MAX_OUTPUT, load32, readLE32, writeLE32 } from "./common.ts";
import { xxhash32 } from "./xxhash32.ts";

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
