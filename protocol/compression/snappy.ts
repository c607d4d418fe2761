/**
 * snappy (codec 2) in pure TypeScript (Deno has no binding and WebAssembly is off the table):
 * raw blocks and snappy-java's xerial framing, which Kafka's Java producer writes. Decoding
 * accepts both; every size is checked against `maxOutput` before anything is allocated.
 */
import {
  concat,
  copyMatch,
  corrupt,
  DEFAULT_MAX_OUTPUT,
  load32,
  readLE32,
  writeLE32,
} from "./common.ts";

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
