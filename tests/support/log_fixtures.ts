/**
 * Batches and byte-level readings the storage tests share (the storage conformance suites and
 * the PartitionLog unit tests): what they append, and how they read back what a log holds.
 */
import assert from "node:assert/strict";
import { KafkaError } from "../../protocol/errors.ts";
import { forEachBatch, totalSize } from "../../protocol/record_batch.ts";
import { decodeRecords, encodeRecordBatch, endTxnMarker } from "../../protocol/records.ts";
import type { PartitionLog } from "../../storage/partition_log.ts";

export interface BatchOpts {
  ts?: number;
  size?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  compression?: number;
  /** Records without keys (as a plain producer sends them). */
  keyless?: boolean;
}

/**
 * `n` records; record i has timestamp ts + i, key "k<i>" (none if `keyless`) and value
 * "<tag>-i" padded to `size`.
 */
export function testBatch(n: number, tag = "r", o: BatchOpts = {}): Uint8Array {
  const ts = o.ts ?? 1_000_000;
  return encodeRecordBatch({
    producerId: o.producerId,
    producerEpoch: o.producerEpoch,
    baseSequence: o.baseSequence,
    isTransactional: o.isTransactional,
    compression: o.compression,
    records: Array.from({ length: n }, (_, i) => ({
      ...(o.keyless ? {} : { key: `k${i}` }),
      value: `${tag}-${i}`.padEnd(o.size ?? 0, "."),
      timestamp: ts + i,
    })),
  });
}

/** The commit (or abort) marker of `producerId`'s transaction, epoch 0. */
export function marker(producerId: number, commit: boolean, coordinatorEpoch = 0): Uint8Array {
  return encodeRecordBatch({
    isControl: true,
    isTransactional: true,
    producerId,
    producerEpoch: 0,
    records: [endTxnMarker(commit ? 1 : 0, coordinatorEpoch)],
  });
}

/** Every record value in `buf`, with the padding of `testBatch`'s `size` taken off. */
export function values(buf: Uint8Array): string[] {
  const out: string[] = [];
  forEachBatch(buf, (pos, h) => {
    for (const r of decodeRecords(buf.subarray(pos, pos + totalSize(h))).records) {
      out.push(new TextDecoder().decode(r.value!).replace(/\.+$/, ""));
    }
  });
  return out;
}

/** The base offset of every batch in `buf`. */
export function baseOffsets(buf: Uint8Array): number[] {
  const out: number[] = [];
  forEachBatch(buf, (_p, h) => void out.push(h.baseOffset));
  return out;
}

/** Asserts `p` rejects with a KafkaError of `code`. */
export async function rejectsWith(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof KafkaError && e.code === code);
}

/** `parts`, one after another. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** The first timestamp of `tenRecordBatch`'s batches. */
export const TS0 = 1_000_000;

/** Batch i: 10 records with timestamps TS0 + i*1000 + j, keys "k<j>" and ~50-byte values. */
export function tenRecordBatch(i: number): Uint8Array {
  return encodeRecordBatch({
    records: Array.from({ length: 10 }, (_, j) => ({
      key: `k${j}`,
      value: `value-${i}-${j}`.padEnd(50, "."),
      timestamp: TS0 + i * 1000 + j,
    })),
  });
}

/** Every batch of `log` from `from` to its log end, concatenated (local and remote tiers). */
export async function readAllTiers(
  log: PartitionLog,
  from = log.logStartOffset,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const buf = await log.read(offset, 1 << 20, { minOneBatch: true });
    if (buf.length === 0) throw new Error(`no progress at ${offset}`);
    parts.push(buf);
    forEachBatch(buf, (_p, h) => void (offset = h.baseOffset + h.lastOffsetDelta + 1));
  }
  return concat(parts);
}
