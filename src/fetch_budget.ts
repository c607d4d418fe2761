/**
 * A Fetch response's byte budget, as Kafka's ReplicaManager.readFromLog applies it: the
 * partitions are read in request order, each gets at most what is left of the response's
 * `maxBytes` (and its own partition_max_bytes), and the first non-empty read may exceed that
 * by one batch so a consumer always progresses. When the partitions live on several workers
 * each owner reads its own in order against the whole budget, all at once, and
 * `fitToBudget` then cuts every answer to what the one-by-one reading returns: a prefix of
 * whole batches, because a log read returns the longest run of whole batches that fits. An
 * answer read with less than the one-by-one reading allows (the owner's earlier reads took
 * more of the budget than they keep) is read again, in order.
 */
import { forEachBatch, lastOffset, totalSize } from "../protocol/record_batch.ts";
import { errorCodeOf } from "./handlers/util.ts";
import { type FetchOutcome, releaseFreshRead } from "./partition_ops.ts";

const EMPTY = new Uint8Array(0);

/** One partition a Fetch reads. */
export interface FetchRead {
  topic: string;
  partition: number;
  offset: number;
  /** The partition's own limit (partition_max_bytes). */
  maxBytes: number;
}

/** A partition's read with the limits it was read with, or the error code it failed with. */
export type FetchReadResult =
  | { outcome: FetchOutcome; limit: number; minOneBatch: boolean }
  | { errorCode: number };

/** The fetch op's arguments for one read, given what the reads before it returned. */
export interface FetchArgs {
  offset: number;
  maxBytes: number;
  minOneBatch: boolean;
  committed: boolean;
  remoteWaitMs: number;
}

/** The limit of the next read: what is left of the budget, within the partition's own. */
export function limitOf(
  read: Pick<FetchRead, "maxBytes">,
  maxBytes: number,
  total: number,
  first: boolean,
): number {
  const limit = first
    ? Math.min(read.maxBytes, maxBytes - total)
    : Math.max(0, Math.min(read.maxBytes, maxBytes - total));
  return Math.max(limit, 0);
}

/**
 * Reads one partition: synchronously when the partition is open here and the data local
 * (see fetchPartition), so a Fetch of many empty partitions awaits nothing per partition.
 */
export type FetchOne = (
  read: FetchRead,
  args: FetchArgs,
) => FetchOutcome | Promise<FetchOutcome>;

function ok(outcome: FetchOutcome, args: FetchArgs): FetchReadResult {
  return { outcome, limit: args.maxBytes, minOneBatch: args.minOneBatch };
}

function failed(r: FetchRead, e: unknown): FetchReadResult {
  return { errorCode: errorCodeOf(e, `fetch ${r.topic}-${r.partition}`) };
}

/** One read; a failure becomes its error code. A promise only when `fetchOne` gave one. */
function readOne(
  r: FetchRead,
  args: FetchArgs,
  fetchOne: FetchOne,
): FetchReadResult | Promise<FetchReadResult> {
  try {
    const outcome = fetchOne(r, args);
    if (outcome instanceof Promise) {
      return outcome.then((o) => ok(o, args), (e) => failed(r, e));
    }
    return ok(outcome, args);
  } catch (e) {
    return failed(r, e);
  }
}

/** Reads `reads` one after another under the budget (the one-by-one reading). */
export async function readInOrder(
  reads: FetchRead[],
  maxBytes: number,
  committed: boolean,
  remoteWaitMs: number,
  fetchOne: FetchOne,
): Promise<FetchReadResult[]> {
  const results: FetchReadResult[] = new Array(reads.length);
  let total = 0;
  let first = true;
  // One arguments object for every read: each read is over before the next one starts, and
  // what outlives it (a cold-tier read) keeps copies (see fetchPartition).
  const args: FetchArgs = { offset: 0, maxBytes: 0, minOneBatch: true, committed, remoteWaitMs };
  for (let i = 0; i < reads.length; i++) {
    const r = reads[i];
    args.offset = r.offset;
    args.maxBytes = limitOf(r, maxBytes, total, first);
    args.minOneBatch = first;
    const pending = readOne(r, args, fetchOne);
    const res = pending instanceof Promise ? await pending : pending;
    results[i] = res;
    if ("outcome" in res && res.outcome.records !== null && res.outcome.records.length > 0) {
      total += res.outcome.records.length;
      first = false;
    }
  }
  return results;
}

/**
 * Cuts reads made concurrently (each owner against the whole budget) to what reading them
 * one by one in request order returns; reads made with less than that allows are made again
 * with `fetchOne`.
 */
export async function fitToBudget(
  reads: FetchRead[],
  results: FetchReadResult[],
  maxBytes: number,
  committed: boolean,
  remoteWaitMs: number,
  fetchOne: FetchOne,
): Promise<void> {
  // Nothing read anywhere (caught-up consumers): every owner read each partition with the
  // whole budget and its first batch allowed, as the one-by-one reading does; nothing to cut.
  if (results.every(nothingRead)) return;
  let total = 0;
  let first = true;
  for (let i = 0; i < reads.length; i++) {
    const r = reads[i];
    let res = results[i];
    if (!("outcome" in res)) continue;
    const limit = limitOf(r, maxBytes, total, first);
    if (
      (res.limit < limit || (first && !res.minOneBatch)) && !exhausted(r, res.outcome, committed)
    ) {
      // Read with less room than it has now: its answer may lack what fits.
      const records = res.outcome.records;
      if (records && res.outcome.freshBuffer) releaseFreshRead(records.buffer);
      const again = readOne(r, {
        offset: r.offset,
        maxBytes: limit,
        minOneBatch: first,
        committed,
        remoteWaitMs,
      }, fetchOne);
      res = again instanceof Promise ? await again : again;
      results[i] = res;
      if (!("outcome" in res)) continue;
    }
    const o = res.outcome;
    if (o.records === null) continue;
    if (o.records.length > limit) cut(o, limit, first, committed);
    if (o.records!.length > 0) {
      total += o.records!.length;
      first = false;
    }
  }
}

/** A failed read, a cold-tier read still running, or one that returned no bytes. */
function nothingRead(res: FetchReadResult): boolean {
  return !("outcome" in res) || res.outcome.records === null || res.outcome.records.length === 0;
}

/**
 * Whether a read returned everything up to the partition's bound (high watermark, or LSO for
 * read_committed) when it was read, so no larger limit or `minOneBatch` could add to it: a
 * caught-up partition needs no second read (with workers, a round trip to its owner).
 */
function exhausted(r: FetchRead, o: FetchOutcome, committed: boolean): boolean {
  if (o.errorCode !== 0 || o.records === null) return false;
  const bound = committed ? o.lastStableOffset : o.highWatermark;
  if (o.records.length === 0) return r.offset >= bound;
  let next = -1;
  const end = forEachBatch(o.records, (_pos, h) => {
    next = lastOffset(h) + 1;
  });
  return end === o.records.length && next >= bound;
}

/** Keeps the whole batches within `limit` (at least one when `minOneBatch`). */
function cut(o: FetchOutcome, limit: number, minOneBatch: boolean, committed: boolean): void {
  const records = o.records!;
  let end = 0;
  let next = -1;
  forEachBatch(records, (pos, h) => {
    const batchEnd = pos + totalSize(h);
    if (batchEnd > limit && !(minOneBatch && pos === 0)) return false;
    end = batchEnd;
    next = lastOffset(h) + 1;
  });
  if (end === 0) {
    if (o.freshBuffer) releaseFreshRead(records.buffer);
    o.records = EMPTY;
    o.freshBuffer = false;
    o.abortedTransactions = committed ? [] : null;
    return;
  }
  o.records = records.subarray(0, end);
  // Aborted transactions overlapping the batches kept (they all start before the cut's end).
  if (o.abortedTransactions) {
    o.abortedTransactions = o.abortedTransactions.filter((a) => a.firstOffset < next);
  }
}
