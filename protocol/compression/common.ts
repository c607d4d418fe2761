/**
 * What the codecs share: the output bound, the error every malformed input becomes, and the
 * little-endian loads and match copies the LZ-family formats (snappy, lz4) use.
 */
import { ErrorCode, KafkaError } from "../errors.ts";

/** Default cap on decompressed size; a v2 batch is bounded by message.max.bytes anyway. */
export const DEFAULT_MAX_OUTPUT = 256 * 1024 * 1024;

export function corrupt(reason: string): never {
  throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, reason);
}

/** A plain Uint8Array view of a node Buffer, so callers never meet Buffer's slice semantics. */
export function asBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function readLE32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

export function writeLE32(b: Uint8Array, p: number, v: number): void {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
}

/** A signed 32-bit load; only used for equality and hashing, so the sign is irrelevant. */
export function load32(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}

/** Copies a match that may overlap its own output (offset < length repeats a pattern). */
export function copyMatch(out: Uint8Array, op: number, offset: number, len: number): void {
  let from = op - offset;
  if (offset >= len && len > 32) {
    out.copyWithin(op, from, from + len);
    return;
  }
  const end = op + len;
  while (op < end) out[op++] = out[from++];
}

export function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
