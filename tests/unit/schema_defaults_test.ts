/**
 * The encoder honours declared defaults, strict encoding rejects keys that are no field, and
 * the generated types line up with the schemas (checked by `deno check`, exercised here).
 */
import assert from "node:assert/strict";
import {
  HeartbeatRequest,
  HeartbeatResponse,
  type MetadataRequest,
  MetadataRequest as MetadataRequestSchema,
  MetadataResponse,
  type MetadataResponseTopic,
} from "../../protocol/messages/mod.ts";
import {
  decodeMessage,
  type Encodable,
  encodeMessage,
  isStrictEncoding,
  type MessageSchema,
  setStrictEncoding,
} from "../../protocol/schema.ts";
import type { Msg } from "../support/msg.ts";
import { defineApi } from "../../src/registry.ts";

/** Runs `fn` with strict encoding set to `on`, restoring the previous setting. */
function withStrict<T>(on: boolean, fn: () => T): T {
  const was = isStrictEncoding();
  setStrictEncoding(on);
  try {
    return fn();
  } finally {
    setStrictEncoding(was);
  }
}

Deno.test("a field missing from an encoded message is written as its declared default", () => {
  // MetadataResponse v12: controllerId defaults to -1, clusterId to null, and a topic's
  // topicAuthorizedOperations to -2147483648.
  const topic: Encodable<MetadataResponseTopic> = {
    errorCode: 0,
    name: "t",
    topicId: "AAAAAAAAAAAAAAAAAAAAAA",
    isInternal: false,
    partitions: [],
  };
  const bytes = withStrict(
    true,
    () => encodeMessage(MetadataResponse, 12, { brokers: [], topics: [topic] }),
  );
  const m = decodeMessage(MetadataResponse, 12, bytes);
  assert.equal(m.controllerId, -1);
  assert.equal(m.clusterId, null);
  assert.equal(m.topics[0].topicAuthorizedOperations, -2147483648);
  assert.equal(m.throttleTimeMs, 0);

  // MetadataRequest v4+: allowAutoTopicCreation defaults to true.
  const req = decodeMessage(MetadataRequestSchema, 8, encodeMessage(MetadataRequestSchema, 8, {}));
  assert.equal(req.allowAutoTopicCreation, true);
  assert.equal(req.topics, null);
});

Deno.test("an explicit value wins over the default", () => {
  const bytes = encodeMessage(MetadataResponse, 12, { controllerId: 3, brokers: [], topics: [] });
  assert.equal(decodeMessage(MetadataResponse, 12, bytes).controllerId, 3);
});

Deno.test("strict encoding rejects a misspelt field; loose encoding writes the default", () => {
  // A compile error too (see below); cast here to show what the runtime check adds.
  const typo = { errorcode: 6 } as Msg;
  assert.throws(
    () => withStrict(true, () => encodeMessage(HeartbeatResponse, 4, typo)),
    /unknown field "errorcode"/,
  );
  const loose = withStrict(false, () => encodeMessage(HeartbeatResponse, 4, typo));
  assert.equal(decodeMessage(HeartbeatResponse, 4, loose).errorCode, 0);
});

Deno.test("strict encoding accepts fields of other versions and unknown tagged fields", () => {
  withStrict(true, () => {
    // throttleTimeMs exists from v1 only; at v0 it is a known key that is not written.
    const v0 = encodeMessage(HeartbeatResponse, 0, { throttleTimeMs: 5, errorCode: 0 });
    assert.equal(v0.length, 2);
    const v4 = encodeMessage(HeartbeatResponse, 4, {
      errorCode: 0,
      _unknownTags: [[9, new Uint8Array([1])]],
    });
    assert.deepEqual(decodeMessage(HeartbeatResponse, 4, v4)._unknownTags, [[
      9,
      new Uint8Array([1]),
    ]]);
  });
});

Deno.test("strict encoding checks nested structs", () => {
  assert.throws(
    () =>
      withStrict(true, () =>
        encodeMessage(MetadataResponse, 12, {
          // @ts-expect-error: a misspelt nested field does not compile either
          brokers: [{ nodeId: 1, host: "h", port: 9092, rak: "r" }],
          topics: [],
        })),
    /unknown field "rak"/,
  );
});

Deno.test("defineApi types a handler by its schemas", async () => {
  const api = defineApi({
    apiKey: 3,
    name: "Metadata",
    minVersion: 0,
    maxVersion: 12,
    request: MetadataRequestSchema,
    response: MetadataResponse,
    handler: (req) => ({
      brokers: [],
      topics: (req.topics ?? []).map((t) => ({
        errorCode: 3,
        name: t.name,
        isInternal: false,
        partitions: [],
      })),
    }),
  });
  defineApi({
    apiKey: 12,
    name: "Heartbeat",
    minVersion: 0,
    maxVersion: 4,
    request: HeartbeatRequest,
    response: HeartbeatResponse,
    // @ts-expect-error: a misspelt response field does not compile
    handler: () => ({ errorcode: 6 }),
  });
  const schema: MessageSchema<MetadataRequest> = api.request;
  const req: MetadataRequest = decodeMessage(
    schema,
    12,
    encodeMessage(schema, 12, { topics: [{ name: "x", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }] }),
  );
  const resp = await api.handler(req, undefined as never);
  assert.equal(resp?.topics?.[0]?.name, "x");
  assert.equal(resp?.topics?.[0]?.errorCode, 3);
});
