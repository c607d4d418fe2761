/**
 * The `fetchRun` peer message in columns: a Fetch's reads for one owner worker and their
 * answers, as numbers in one Float64Array plus the few values that are not numbers. Structured
 * cloning hundreds of small objects (and an empty Uint8Array per caught-up partition) cost
 * several microseconds per partition on each side; a typed array is copied in one piece.
 * Only non-empty records and non-empty aborted-transaction lists travel as values.
 */
import {
  type FetchArgs,
  type FetchOne,
  type FetchRead,
  type FetchReadResult,
  limitOf,
} from "../fetch_budget.ts";
import { errorCodeOf } from "../handlers/util.ts";
import type { FetchOutcome } from "../partition_ops.ts";

const EMPTY = new Uint8Array(0);

/** A run of reads: topic names once, then (topic index, partition, offset, maxBytes) each. */
export interface FetchReadsWire {
  topics: string[];
  reads: Float64Array;
}

const READ_FIELDS = 4;

/** `reads`, or (with `which`) those of `reads` at the indexes `which` lists, in its order. */
export function encodeReads(reads: FetchRead[], which?: number[]): FetchReadsWire {
  const topics: string[] = [];
  const index = new Map<string, number>();
  const n = which ? which.length : reads.length;
  const out = new Float64Array(n * READ_FIELDS);
  let topic: string | undefined;
  let t = 0;
  for (let i = 0, o = 0; i < n; i++, o += READ_FIELDS) {
    const r = reads[which ? which[i] : i];
    // A topic's partitions mostly come in a run: the map only where the topic changes.
    if (r.topic !== topic) {
      topic = r.topic;
      t = index.get(topic) ?? -1;
      if (t < 0) {
        t = topics.length;
        topics.push(topic);
        index.set(topic, t);
      }
    }
    out[o] = t;
    out[o + 1] = r.partition;
    out[o + 2] = r.offset;
    out[o + 3] = r.maxBytes;
  }
  return { topics, reads: out };
}

export function decodeReads(w: FetchReadsWire): FetchRead[] {
  const n = w.reads.length / READ_FIELDS;
  const out: FetchRead[] = new Array(n);
  for (let i = 0, o = 0; i < n; i++, o += READ_FIELDS) {
    out[i] = {
      topic: w.topics[w.reads[o]],
      partition: w.reads[o + 1],
      offset: w.reads[o + 2],
      maxBytes: w.reads[o + 3],
    };
  }
  return out;
}

/**
 * Answers: per read (flags, errorCode, highWatermark, lastStableOffset, logStartOffset,
 * limit); records and aborted transactions by read index where they are not empty.
 */
export interface FetchResultsWire {
  nums: Float64Array;
  records: [number, Uint8Array][];
  aborted: [number, NonNullable<FetchOutcome["abortedTransactions"]>][];
}

const RESULT_FIELDS = 6;
/** The read failed: only errorCode is set. */
const FAILED = 1;
/** outcome.records is null (a cold-tier read still running). */
const RECORDS_NULL = 2;
const FRESH_BUFFER = 4;
/** outcome.abortedTransactions is null (read_uncommitted). */
const ABORTED_NULL = 8;
const MIN_ONE_BATCH = 16;

export function encodeResults(results: FetchReadResult[]): FetchResultsWire {
  const nums = new Float64Array(results.length * RESULT_FIELDS);
  const records: FetchResultsWire["records"] = [];
  const aborted: FetchResultsWire["aborted"] = [];
  for (let i = 0, o = 0; i < results.length; i++, o += RESULT_FIELDS) {
    const res = results[i];
    if (!("outcome" in res)) {
      nums[o] = FAILED;
      nums[o + 1] = res.errorCode;
      continue;
    }
    const flags = res.minOneBatch ? MIN_ONE_BATCH : 0;
    putOutcome(nums, o, i, res.outcome, flags, res.limit, records, aborted);
  }
  return { nums, records, aborted };
}

/** Writes read `i`'s outcome into its columns at `o`; its records and aborted lists aside. */
function putOutcome(
  nums: Float64Array,
  o: number,
  i: number,
  x: FetchOutcome,
  flags: number,
  limit: number,
  records: FetchResultsWire["records"],
  aborted: FetchResultsWire["aborted"],
): void {
  if (x.records === null) flags |= RECORDS_NULL;
  else if (x.records.length > 0) records.push([i, x.records]);
  if (x.freshBuffer) flags |= FRESH_BUFFER;
  if (x.abortedTransactions === null) flags |= ABORTED_NULL;
  else if (x.abortedTransactions.length > 0) aborted.push([i, x.abortedTransactions]);
  nums[o] = flags;
  nums[o + 1] = x.errorCode;
  nums[o + 2] = x.highWatermark;
  nums[o + 3] = x.lastStableOffset;
  nums[o + 4] = x.logStartOffset;
  nums[o + 5] = limit;
}

export function decodeResults(w: FetchResultsWire): FetchReadResult[] {
  const n = w.nums.length / RESULT_FIELDS;
  const out: FetchReadResult[] = new Array(n);
  decodeResultsInto(w, out);
  return out;
}

/**
 * The answers into `out`: the i-th at `at[i]` (at i without `at`), so a split Fetch's answers
 * land in request order with no array per owner.
 */
export function decodeResultsInto(
  w: FetchResultsWire,
  out: FetchReadResult[],
  at?: number[],
): void {
  const n = w.nums.length / RESULT_FIELDS;
  for (let i = 0, o = 0; i < n; i++, o += RESULT_FIELDS) {
    const flags = w.nums[o];
    const to = at ? at[i] : i;
    if (flags & FAILED) {
      out[to] = { errorCode: w.nums[o + 1] };
      continue;
    }
    out[to] = {
      outcome: {
        errorCode: w.nums[o + 1],
        highWatermark: w.nums[o + 2],
        lastStableOffset: w.nums[o + 3],
        logStartOffset: w.nums[o + 4],
        records: flags & RECORDS_NULL ? null : EMPTY,
        abortedTransactions: flags & ABORTED_NULL ? null : [],
        freshBuffer: (flags & FRESH_BUFFER) !== 0,
      },
      limit: w.nums[o + 5],
      minOneBatch: (flags & MIN_ONE_BATCH) !== 0,
    };
  }
  for (const [i, records] of w.records) {
    (out[at ? at[i] : i] as { outcome: FetchOutcome }).outcome.records = records;
  }
  for (const [i, aborted] of w.aborted) {
    (out[at ? at[i] : i] as { outcome: FetchOutcome }).outcome.abortedTransactions = aborted;
  }
}

/**
 * Reads a run one after another under the budget, as readInOrder does, writing each answer
 * straight into its columns (what encodeResults would give for readInOrder's results): no
 * object per read, one read and one arguments object for the whole run. Each read is over
 * before the next one starts, so `fetchOne` may use both only until it has answered.
 * `transfer` lists the buffers of fresh local reads, which change hands.
 */
export async function readRun(
  w: FetchReadsWire,
  maxBytes: number,
  committed: boolean,
  remoteWaitMs: number,
  fetchOne: FetchOne,
): Promise<{ results: FetchResultsWire; transfer: ArrayBuffer[] }> {
  const n = w.reads.length / READ_FIELDS;
  const nums = new Float64Array(n * RESULT_FIELDS);
  const records: FetchResultsWire["records"] = [];
  const aborted: FetchResultsWire["aborted"] = [];
  const transfer = new Set<ArrayBuffer>();
  const read: FetchRead = { topic: "", partition: 0, offset: 0, maxBytes: 0 };
  const args: FetchArgs = { offset: 0, maxBytes: 0, minOneBatch: true, committed, remoteWaitMs };
  let total = 0;
  let first = true;
  for (let i = 0, o = 0, q = 0; i < n; i++, o += READ_FIELDS, q += RESULT_FIELDS) {
    read.topic = w.topics[w.reads[o]];
    read.partition = w.reads[o + 1];
    read.offset = w.reads[o + 2];
    read.maxBytes = w.reads[o + 3];
    args.offset = read.offset;
    args.maxBytes = limitOf(read, maxBytes, total, first);
    args.minOneBatch = first;
    let x: FetchOutcome;
    try {
      const got = fetchOne(read, args);
      x = got instanceof Promise ? await got : got;
    } catch (e) {
      nums[q] = FAILED;
      nums[q + 1] = errorCodeOf(e, `fetch ${read.topic}-${read.partition}`);
      continue;
    }
    putOutcome(nums, q, i, x, first ? MIN_ONE_BATCH : 0, args.maxBytes, records, aborted);
    if (x.records !== null && x.records.length > 0) {
      total += x.records.length;
      first = false;
    }
    if (x.freshBuffer) transfer.add(x.records!.buffer as ArrayBuffer);
  }
  return { results: { nums, records, aborted }, transfer: [...transfer] };
}
