import assert from "node:assert/strict";
import type { FetchRead, FetchReadResult } from "../../src/fetch_budget.ts";
import {
  decodeReads,
  decodeResults,
  encodeReads,
  encodeResults,
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
