/**
 * What a recovery truncation (or a deleted segment) throws away, read from the batch headers
 * in the dropped bytes before they go, so the log line can say which offsets and how many
 * records were lost. The headers may themselves be damaged: the walk stops at the first one
 * that cannot be a v2 batch header and counts the rest as unreadable bytes.
 */
import {
  lastOffset,
  MAGIC_V2,
  MIN_BATCH_LENGTH,
  readBatchHeader,
  RECORD_BATCH_OVERHEAD,
  totalSize,
} from "../protocol/record_batch.ts";

export interface DroppedBatches {
  bytes: number;
  /** Batches whose header was readable (the last may be torn: its records are counted). */
  batches: number;
  records: number;
  /** First and last offset the readable headers claim, -1 when none was readable. */
  firstOffset: number;
  lastOffset: number;
  /** Bytes past the last readable header. */
  unreadableBytes: number;
}

/** Reads up to `into.length` bytes of the file at `position`; returns how many it read. */
export type ReadAt = (into: Uint8Array, position: number) => number;

/** Describes the bytes [from, to) of a segment file by walking the batch headers in them. */
export function describeDropped(readAt: ReadAt, from: number, to: number): DroppedBatches {
  const out: DroppedBatches = {
    bytes: Math.max(0, to - from),
    batches: 0,
    records: 0,
    firstOffset: -1,
    lastOffset: -1,
    unreadableBytes: 0,
  };
  // Headers are read through a 64 KiB window: a big segment costs few reads, not one a batch.
  const buf = new Uint8Array(64 * 1024);
  let held = 0;
  let heldLength = 0;
  let position = from;
  while (position + RECORD_BATCH_OVERHEAD <= to) {
    if (position < held || position + RECORD_BATCH_OVERHEAD > held + heldLength) {
      heldLength = readAt(buf.subarray(0, Math.min(buf.length, to - position)), position);
      held = position;
      if (heldLength < RECORD_BATCH_OVERHEAD) break;
    }
    const p = position - held;
    if (buf[p + 16] !== MAGIC_V2) break;
    const h = readBatchHeader(buf, p);
    if (h.batchLength < MIN_BATCH_LENGTH || h.lastOffsetDelta < 0 || h.recordCount < 0) break;
    if (out.lastOffset >= 0 && h.baseOffset <= out.lastOffset) break;
    if (out.firstOffset < 0) out.firstOffset = h.baseOffset;
    out.lastOffset = lastOffset(h);
    out.batches++;
    out.records += h.recordCount;
    position += totalSize(h);
  }
  out.unreadableBytes = Math.max(0, to - position);
  return out;
}

/** Two dropped regions, `a` before `b` in the file, as one. */
export function mergeDropped(a: DroppedBatches, b: DroppedBatches): DroppedBatches {
  return {
    bytes: a.bytes + b.bytes,
    batches: a.batches + b.batches,
    records: a.records + b.records,
    firstOffset: a.firstOffset >= 0 ? a.firstOffset : b.firstOffset,
    lastOffset: b.lastOffset >= 0 ? b.lastOffset : a.lastOffset,
    unreadableBytes: a.unreadableBytes + b.unreadableBytes,
  };
}

/** "1200 bytes: 3 batches, 150 records, offsets 50..199 by their headers; 37 unreadable" */
export function formatDropped(d: DroppedBatches): string {
  let s = `${d.bytes} bytes`;
  if (d.batches > 0) {
    s += `: ${d.batches} batch${d.batches === 1 ? "" : "es"}, ${d.records} record${
      d.records === 1 ? "" : "s"
    }, offsets ${d.firstOffset}..${d.lastOffset} by their headers`;
  }
  if (d.unreadableBytes > 0) {
    s += d.batches > 0 ? `; ${d.unreadableBytes} bytes unreadable` : ` (no readable batch header)`;
  }
  return s;
}
