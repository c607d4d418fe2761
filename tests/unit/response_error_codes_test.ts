import assert from "node:assert/strict";
import { FetchResponse, MetadataResponse } from "../../protocol/messages/mod.ts";
import { responseErrorCodes } from "../../src/response_error_codes.ts";

Deno.test("response error codes: top level and every partition's, zeros left out", () => {
  const body = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: "a",
        topicId: "AAAAAAAAAAAAAAAAAAAAAA",
        partitions: [
          { partitionIndex: 0, errorCode: 0, records: new Uint8Array([1, 2]) },
          { partitionIndex: 1, errorCode: 6, records: new Uint8Array(0) },
        ],
      },
      { topic: "b", partitions: [{ partitionIndex: 0, errorCode: 1 }] },
    ],
  };
  assert.deepEqual(responseErrorCodes(FetchResponse, body).sort(), [1, 6]);
  assert.deepEqual(responseErrorCodes(FetchResponse, { ...body, errorCode: 71 }).sort(), [
    1,
    6,
    71,
  ]);
});

Deno.test("response error codes: missing or null parts are skipped", () => {
  assert.deepEqual(responseErrorCodes(FetchResponse, { errorCode: 0 }), []);
  assert.deepEqual(responseErrorCodes(FetchResponse, { responses: null }), []);
  assert.deepEqual(
    responseErrorCodes(MetadataResponse, {
      topics: [{ errorCode: 3, partitions: [{ errorCode: 0 }, { errorCode: 9 }] }],
    }).sort(),
    [3, 9],
  );
});
