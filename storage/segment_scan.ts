/**
 * The batch walk under a segment's recovery and producer-state replay: from a position to
 * the end of the file, header by header or (verifying CRCs) in 1 MiB chunks, stopping at the
 * first batch that is torn, corrupt or out of order. Knows nothing of indexes; LogSegment
 * feeds it positional reads of its .log file.
 */
import {
  type BatchHeader,
  isCrcValid,
  lastOffset,
  MAGIC_V2,
  MIN_BATCH_LENGTH,
  readBatchHeader,
  RECORD_BATCH_OVERHEAD,
  totalSize,
} from "../protocol/record_batch.ts";

const SCAN_CHUNK = 1 << 20;

/** Where a scan stopped (the end of the last good batch) and, if early, why. */
export interface ScanResult {
  end: number;
  reason?: string;
}

/** Reads up to `length` bytes at file position `position` into `into` at `offset`. */
export type PositionalRead = (
  into: Uint8Array,
  offset: number,
  length: number,
  position: number,
) => number;

/**
 * Walks the batches of a segment file of `size` bytes whose first offset is `baseOffset`,
 * from `position`, calling `fn` for each good batch with the buffer holding its header.
 */
export function scanBatches(
  read: PositionalRead,
  baseOffset: number,
  size: number,
  position: number,
  verifyCrc: boolean,
  fn: (position: number, header: BatchHeader, buf: Uint8Array, bufPos: number) => void,
): ScanResult {
  let expectNext = baseOffset;
  const check = (h: BatchHeader, pos: number): string | undefined => {
    if (h.magic !== MAGIC_V2) return `magic ${h.magic} at ${pos}`;
    if (h.batchLength < MIN_BATCH_LENGTH) return `batch length ${h.batchLength} at ${pos}`;
    if (pos + totalSize(h) > size) return `torn batch at ${pos}`;
    if (h.baseOffset < expectNext || h.lastOffsetDelta < 0) {
      return `offset ${h.baseOffset} out of order at ${pos}`;
    }
    if (lastOffset(h) - baseOffset > 0x7fffffff) return `offset overflow at ${pos}`;
    return undefined;
  };
  if (!verifyCrc) {
    const buf = new Uint8Array(RECORD_BATCH_OVERHEAD + 32);
    while (position < size) {
      const n = read(buf, 0, buf.length, position);
      if (n < RECORD_BATCH_OVERHEAD) {
        return { end: position, reason: `torn header at ${position}` };
      }
      if (buf[16] !== MAGIC_V2) {
        return { end: position, reason: `magic ${buf[16]} at ${position}` };
      }
      const h = readBatchHeader(buf, 0);
      const bad = check(h, position);
      if (bad) return { end: position, reason: bad };
      fn(position, h, buf, 0);
      expectNext = lastOffset(h) + 1;
      position += totalSize(h);
    }
    return { end: position };
  }
  let chunk = new Uint8Array(Math.min(SCAN_CHUNK, Math.max(size - position, 1)));
  while (position < size) {
    const want = Math.min(chunk.length, size - position);
    const n = read(chunk, 0, want, position);
    let p = 0;
    while (p + RECORD_BATCH_OVERHEAD <= n) {
      if (chunk[p + 16] !== MAGIC_V2) {
        return { end: position + p, reason: `magic ${chunk[p + 16]} at ${position + p}` };
      }
      const h = readBatchHeader(chunk, p);
      const bad = check(h, position + p);
      if (bad) return { end: position + p, reason: bad };
      const size = totalSize(h);
      if (p + size > n) break; // finish in the next chunk
      if (!isCrcValid(chunk, p, size)) {
        return { end: position + p, reason: `CRC mismatch at ${position + p}` };
      }
      fn(position + p, h, chunk, p);
      expectNext = lastOffset(h) + 1;
      p += size;
    }
    if (p === 0) {
      // A batch bigger than the chunk, or a torn tail shorter than a header.
      if (n < RECORD_BATCH_OVERHEAD) {
        return { end: position, reason: `torn header at ${position}` };
      }
      const size = totalSize(readBatchHeader(chunk, 0));
      if (position + size > size) return { end: position, reason: `torn batch` };
      chunk = new Uint8Array(size);
      continue;
    }
    position += p;
  }
  return { end: position };
}
