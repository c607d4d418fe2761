/**
 * The Fetch budget with partitions on several workers: each owner reading its own partitions
 * against the whole budget, then cutting (or re-reading) the answers with fitToBudget,
 * returns exactly what reading every partition one by one in request order returns.
 */
import assert from "node:assert/strict";
import { forEachBatch, lastOffset, totalSize } from "../../protocol/record_batch.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import {
  type FetchArgs,
  type FetchRead,
  type FetchReadResult,
  fitToBudget,
  readInOrder,
} from "../../src/fetch_budget.ts";
import type { FetchOutcome } from "../../src/partition_ops.ts";

/** A partition's log: batches of random sizes, from offset 0. */
function makeLog(rand: () => number): Uint8Array {
  const batches: Uint8Array[] = [];
  let offset = 0;
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) {
    const count = 1 + Math.floor(rand() * 3);
    batches.push(encodeRecordBatch({
      baseOffset: offset,
      records: Array.from({ length: count }, () => ({
        key: null,
        value: "x".repeat(Math.floor(rand() * 400)),
      })),
    }));
    offset += count;
  }
  const all = new Uint8Array(batches.reduce((s, b) => s + b.length, 0));
  let pos = 0;
  for (const b of batches) {
    all.set(b, pos);
    pos += b.length;
  }
  return all;
}

/** The offset after the log's last batch (its high watermark). */
function logEnd(log: Uint8Array): number {
  let next = 0;
  forEachBatch(log, (_pos, h) => {
    next = lastOffset(h) + 1;
  });
  return next;
}

/** A log read: the longest run of whole batches within maxBytes (one at least if asked). */
function readLog(log: Uint8Array, args: FetchArgs): FetchOutcome {
  let start = 0;
  forEachBatch(log, (pos, h) => {
    if (lastOffset(h) >= args.offset) return false;
    start = pos + totalSize(h);
  });
  log = log.subarray(start);
  let end = 0;
  while (end + 12 <= log.length) {
    const size = 12 + new DataView(log.buffer, log.byteOffset + end + 8, 4).getInt32(0);
    if (end + size > args.maxBytes && !(args.minOneBatch && end === 0)) break;
    end += size;
  }
  const hw = logEnd(log);
  return {
    errorCode: 0,
    highWatermark: hw,
    lastStableOffset: hw,
    logStartOffset: 0,
    records: log.slice(0, end),
    abortedTransactions: args.committed ? [] : null,
    freshBuffer: false,
  };
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const lengths = (rs: FetchReadResult[]) =>
  rs.map((r) => ("outcome" in r ? r.outcome.records!.length : -1));

Deno.test("reads split by owner and cut to the budget equal the one-by-one reading", async () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = seeded(seed);
    const count = 1 + Math.floor(rand() * 6);
    const logs = Array.from({ length: count }, () => makeLog(rand));
    const owners = logs.map(() => Math.floor(rand() * 3));
    // Some partitions are read from their end (a caught-up consumer), the rest from 0.
    const reads: FetchRead[] = logs.map((log, i) => ({
      topic: "t",
      partition: i,
      offset: rand() < 0.3 ? logEnd(log) : 0,
      maxBytes: Math.floor(rand() * 1500),
    }));
    const maxBytes = Math.floor(rand() * 2500);
    const fetchOne = (r: FetchRead, a: FetchArgs) => Promise.resolve(readLog(logs[r.partition], a));
    const expected = await readInOrder(reads, maxBytes, false, 0, fetchOne);
    const results: FetchReadResult[] = new Array(reads.length);
    for (const owner of new Set(owners)) {
      const mine = reads.filter((_, i) => owners[i] === owner);
      const answers = await readInOrder(mine, maxBytes, false, 0, fetchOne);
      mine.forEach((r, k) => results[r.partition] = answers[k]);
    }
    await fitToBudget(reads, results, maxBytes, false, 0, fetchOne);
    assert.deepEqual(lengths(results), lengths(expected), `seed ${seed}`);
  }
});

Deno.test("caught-up partitions read by other owners are not read again", async () => {
  const log = makeLog(seeded(7));
  const end = logEnd(log);
  // Six caught-up partitions over two owners: each owner's later reads had minOneBatch unset.
  const reads: FetchRead[] = Array.from({ length: 6 }, (_, i) => ({
    topic: "t",
    partition: i,
    offset: end,
    maxBytes: 1000,
  }));
  let calls = 0;
  const fetchOne = (_r: FetchRead, a: FetchArgs) => {
    calls++;
    return readLog(log, a);
  };
  const results: FetchReadResult[] = new Array(reads.length);
  for (const owner of [0, 1]) {
    const mine = reads.filter((_, i) => i % 2 === owner);
    const answers = await readInOrder(mine, 5000, false, 0, fetchOne);
    mine.forEach((r, k) => results[r.partition] = answers[k]);
  }
  assert.equal(calls, 6);
  await fitToBudget(reads, results, 5000, false, 0, fetchOne);
  assert.equal(calls, 6);
  assert.deepEqual(lengths(results), [0, 0, 0, 0, 0, 0]);
});
