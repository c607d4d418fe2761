/**
 * Where an injected fault's error goes, for every API and version the registry serves: a
 * request naming one of everything (one topic, one partition, one group...) is answered with
 * the fault's response, which must encode, decode, and carry the error code where clients
 * read it (top level, or each entry mirroring what the request named).
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  decodeMessage,
  defaults,
  encodeMessage,
  type FieldSchema,
  type MessageSchema,
  parseVersions,
} from "../../protocol/schema.ts";
import {
  FetchRequest,
  FetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { faultResponse } from "../../src/fault_response.ts";
import { registerHandlers } from "../../src/handlers/mod.ts";
import { HandlerRegistry } from "../../src/registry.ts";

type Loose = Record<string, unknown>;

const inVersion = (f: FieldSchema, v: number) => {
  const [lo, hi] = parseVersions(f.versions);
  return v >= lo && v <= hi;
};

/** Fills every array of a decoded-defaults message with one entry, recursively. */
function oneOfEach(fields: FieldSchema[], v: number, base: Loose): Loose {
  for (const f of fields) {
    if (!inVersion(f, v)) continue;
    if (f.type.startsWith("[]") && f.fields) {
      const entry: Loose = {};
      for (const s of f.fields) if (inVersion(s, v)) entry[s.name] = defaultOf(s);
      base[f.name] = [oneOfEach(f.fields, v, entry)];
    } else if (f.type === "[]string") base[f.name] = ["x"];
    else if (f.type === "[]int32") base[f.name] = [0];
    else if (f.type === "string" && base[f.name] !== null) base[f.name] = "x";
  }
  return base;
}

function defaultOf(f: FieldSchema): unknown {
  if (f.type.startsWith("[]")) return [];
  if (f.type === "string") return "x";
  if (f.type === "bool") return false;
  if (f.type === "uuid") return "AAAAAAAAAAAAAAAAAAAAAA";
  if (f.type === "bytes" || f.type === "records") return new Uint8Array(0);
  if (f.fields) return undefined;
  return 0;
}

function errorCodes(v: unknown, out: number[] = []): number[] {
  if (Array.isArray(v)) { for (const x of v) errorCodes(x, out); }
  else if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    for (const [k, x] of Object.entries(v as Loose)) {
      if (k === "errorCode" || k.endsWith("ErrorCode")) out.push(x as number);
      else errorCodes(x, out);
    }
  }
  return out;
}

Deno.test("fault responses: every API and version encodes, decodes and carries the error", () => {
  const registry = new HandlerRegistry();
  registerHandlers(registry);
  const code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
  const missing: string[] = [];
  let checked = 0;
  for (const { apiKey } of registry.apiVersions()) {
    const reg = registry.get(apiKey)!;
    for (let v = reg.minVersion; v <= reg.maxVersion; v++) {
      const req = oneOfEach(
        reg.request.fields,
        v,
        defaults(reg.request as MessageSchema, v) as Loose,
      );
      // The request round-trips, so the response below mirrors a request a client could send.
      const decodedReq = decodeMessage(reg.request, v, encodeMessage(reg.request, v, req));
      const resp = faultResponse(reg.request, reg.response, v, decodedReq as Loose, code);
      if (resp === null) {
        missing.push(`${reg.name} v${v}`);
        continue;
      }
      const back = decodeMessage(reg.response, v, encodeMessage(reg.response, v, resp));
      const codes = errorCodes(back);
      assert.ok(codes.includes(code), `${reg.name} v${v}: ${JSON.stringify(back)}`);
      checked++;
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked > 100, `${checked} versions checked`);
});

Deno.test("fault responses: Produce fails each partition it names, by topic and index", () => {
  const req = {
    ...defaults(ProduceRequest, 9),
    acks: -1,
    topicData: [
      { name: "a", partitionData: [{ index: 0, records: null }, { index: 2, records: null }] },
      { name: "b", partitionData: [{ index: 1, records: null }] },
    ],
  };
  const resp = faultResponse(
    ProduceRequest,
    ProduceResponse,
    9,
    req,
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
  )!;
  const back = decodeMessage(ProduceResponse, 9, encodeMessage(ProduceResponse, 9, resp));
  assert.deepEqual(
    back.responses.map((t) => [t.name, t.partitionResponses.map((p) => [p.index, p.errorCode])]),
    [["a", [[0, 6], [2, 6]]], ["b", [[1, 6]]]],
  );
  assert.equal(back.responses[0].partitionResponses[0].errorMessage, "injected fault");
});

Deno.test("fault responses: Fetch sets the top-level error and each partition's", () => {
  const req = {
    ...defaults(FetchRequest, 12),
    topics: [{
      ...defaults(FetchRequest, 12).topics[0],
      topic: "t",
      partitions: [{ partition: 3, currentLeaderEpoch: -1, fetchOffset: 10 }],
    }],
  };
  const resp = faultResponse(FetchRequest, FetchResponse, 12, req as Loose, 7)!;
  const back = decodeMessage(FetchResponse, 12, encodeMessage(FetchResponse, 12, resp));
  assert.equal(back.errorCode, 7);
  assert.equal(back.responses[0].topic, "t");
  assert.equal(back.responses[0].partitions[0].partitionIndex, 3);
  assert.equal(back.responses[0].partitions[0].errorCode, 7);
  assert.equal(back.responses[0].partitions[0].highWatermark, 0);
});

Deno.test("fault responses: FindCoordinator v4 answers each key; v3 at the top level", () => {
  const v4 = faultResponse(FindCoordinatorRequest, FindCoordinatorResponse, 4, {
    keyType: 0,
    coordinatorKeys: ["g1", "g2"],
  }, 15)!;
  const b4 = decodeMessage(
    FindCoordinatorResponse,
    4,
    encodeMessage(FindCoordinatorResponse, 4, v4),
  );
  assert.deepEqual(b4.coordinators.map((c) => [c.key, c.errorCode]), [["g1", 15], ["g2", 15]]);
  const v3 = faultResponse(FindCoordinatorRequest, FindCoordinatorResponse, 3, {
    key: "g",
    keyType: 0,
  }, 15)!;
  const b3 = decodeMessage(
    FindCoordinatorResponse,
    3,
    encodeMessage(FindCoordinatorResponse, 3, v3),
  );
  assert.equal(b3.errorCode, 15);
});

Deno.test("fault responses: Metadata fails each topic named; all-topics has nowhere to put it", () => {
  const req = {
    ...defaults(MetadataRequest, 12),
    topics: [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: "t" }],
  };
  const resp = faultResponse(MetadataRequest, MetadataResponse, 12, req as Loose, 5)!;
  const back = decodeMessage(MetadataResponse, 12, encodeMessage(MetadataResponse, 12, resp));
  assert.deepEqual(back.topics.map((t) => [t.name, t.errorCode]), [["t", 5]]);
  const all = faultResponse(MetadataRequest, MetadataResponse, 12, {
    ...defaults(MetadataRequest, 12),
    topics: null,
  } as Loose, 5);
  assert.equal(all, null);
});
