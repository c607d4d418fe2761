import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  type FetchOne,
  type FetchRead,
  type FetchReadResult,
  readInOrder,
} from "../../src/fetch_budget.ts";
import {
  decodeReads,
  decodeResults,
  decodeResultsInto,
  encodeReads,
  encodeResults,
  readRun,
} from "../../src/workers/fetch_run_wire.ts";

Deno.test("fetchRun wire: reads survive a structured clone in columns", () => {
  const reads: FetchRead[] = [
    { topic: "a", partition: 0, offset: 0, maxBytes: 1048576 },
    { topic: "b", partition: 7, offset: 2 ** 40 + 3, maxBytes: 0 },
    { topic: "a", partition: 2147483647, offset: 12, maxBytes: 2147483647 },
  ];
  const wire = structuredClone(encodeReads(reads));
  assert.deepEqual(wire.topics, ["a", "b"]);
  assert.deepEqual(decodeReads(wire), reads);
});

Deno.test("fetchRun wire: every kind of answer comes back equal", () => {
  const records = new Uint8Array([1, 2, 3, 4]);
  const results: FetchReadResult[] = [
    { errorCode: 6 },
    {
      outcome: {
        errorCode: 0,
        highWatermark: 10,
        lastStableOffset: 8,
        logStartOffset: 2,
        records,
        abortedTransactions: [{ producerId: 5, firstOffset: 3 }],
        freshBuffer: true,
      },
      limit: 500,
      minOneBatch: true,
    },
    {
      outcome: {
        errorCode: 0,
        highWatermark: 2 ** 50,
        lastStableOffset: 2 ** 50,
        logStartOffset: 0,
        records: new Uint8Array(0),
        abortedTransactions: null,
        freshBuffer: false,
      },
      limit: 0,
      minOneBatch: false,
    },
    {
      outcome: {
        errorCode: 0,
        highWatermark: 3,
        lastStableOffset: 3,
        logStartOffset: 0,
        records: null,
        abortedTransactions: [],
        freshBuffer: false,
      },
      limit: 1048576,
      minOneBatch: false,
    },
    {
      outcome: {
        errorCode: 1,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        records: new Uint8Array(0),
        abortedTransactions: [],
        freshBuffer: false,
      },
      limit: 7,
      minOneBatch: true,
    },
  ];
  const wire = encodeResults(results);
  assert.equal(wire.records.length, 1);
  assert.equal(wire.records[0][1], records, "non-empty records travel as they are");
  assert.deepEqual(decodeResults(structuredClone(wire)), results);
});

Deno.test("fetchRun wire: readRun answers what readInOrder then encodeResults answer", async () => {
  const reads: FetchRead[] = [
    { topic: "a", partition: 0, offset: 5, maxBytes: 3 },
    { topic: "a", partition: 1, offset: 6, maxBytes: 100 },
    { topic: "b", partition: 2, offset: 7, maxBytes: 100 },
    { topic: "b", partition: 3, offset: 8, maxBytes: 100 },
    { topic: "a", partition: 4, offset: 9, maxBytes: 100 },
    { topic: "b", partition: 5, offset: 10, maxBytes: 2 },
    { topic: "a", partition: 6, offset: 11, maxBytes: 100 },
  ];
  const seen: string[] = [];
  // Sync, async, throwing, rejecting, cold-tier-pending and non-empty answers, in one run.
  const fetchOne: FetchOne = (r, a) => {
    seen.push(`${r.topic}-${r.partition}@${a.offset}/${a.maxBytes}/${a.minOneBatch}`);
    const outcome = (records: Uint8Array | null) => ({
      errorCode: 0,
      highWatermark: r.offset + 1,
      lastStableOffset: r.offset,
      logStartOffset: 0,
      records,
      abortedTransactions: a.committed ? [{ producerId: r.partition, firstOffset: 1 }] : null,
      freshBuffer: records !== null && records.length > 0,
    });
    switch (r.partition) {
      case 0:
        return outcome(new Uint8Array(0));
      case 1:
        return Promise.resolve(outcome(new Uint8Array(4)));
      case 2:
        throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, "out");
      case 3:
        return Promise.reject(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, "moved"));
      case 4:
        return outcome(null);
      default:
        return outcome(new Uint8Array(3));
    }
  };
  for (const committed of [false, true]) {
    seen.length = 0;
    const wire = encodeReads(reads);
    const expected = encodeResults(await readInOrder(decodeReads(wire), 6, committed, 0, fetchOne));
    const expectedSeen = [...seen];
    seen.length = 0;
    const { results, transfer } = await readRun(wire, 6, committed, 0, fetchOne);
    assert.deepEqual(seen, expectedSeen, "the same reads with the same limits");
    assert.deepEqual(results, expected);
    assert.equal(transfer.length, 3, "each fresh read's buffer changes hands");
  }
});

Deno.test("fetchRun wire: a split run's reads and answers keep their request indexes", () => {
  const reads: FetchRead[] = [
    { topic: "a", partition: 0, offset: 1, maxBytes: 10 },
    { topic: "b", partition: 1, offset: 2, maxBytes: 20 },
    { topic: "a", partition: 2, offset: 3, maxBytes: 30 },
  ];
  const at = [2, 0];
  assert.deepEqual(decodeReads(encodeReads(reads, at)), [reads[2], reads[0]]);
  const records = new Uint8Array([9]);
  const answers: FetchReadResult[] = [
    { errorCode: 3 },
    {
      outcome: {
        errorCode: 0,
        highWatermark: 4,
        lastStableOffset: 4,
        logStartOffset: 0,
        records,
        abortedTransactions: [{ producerId: 1, firstOffset: 2 }],
        freshBuffer: false,
      },
      limit: 10,
      minOneBatch: true,
    },
  ];
  const out: FetchReadResult[] = new Array(3);
  decodeResultsInto(encodeResults(answers), out, at);
  assert.deepEqual(out[2], answers[0]);
  assert.deepEqual(out[0], answers[1]);
  assert.equal(out[1], undefined);
});
