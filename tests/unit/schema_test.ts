import assert from "node:assert/strict";
import * as messages from "../../protocol/messages/mod.ts";
import {
  codecFor,
  decodeMessage,
  encodeMessage,
  type FieldSchema,
  type MessageSchema,
  parseVersions,
  UNKNOWN_TAGS,
} from "../../protocol/schema.ts";
import type { Msg } from "../support/msg.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";

function inRange(v: string | undefined, version: number) {
  const [lo, hi] = parseVersions(v);
  return version >= lo && version <= hi;
}

/** Deterministic pseudo-random sample values, so failures reproduce. */
let seed = 1;
function rnd(n: number) {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}

function sampleValue(f: FieldSchema, version: number): unknown {
  const nullable = inRange(f.nullableVersions, version);
  if (nullable && rnd(4) === 0) return null;
  if (f.type.startsWith("[]")) {
    const n = rnd(3) + 1;
    const elem = { ...f, type: f.type.slice(2), nullableVersions: undefined };
    return Array.from({ length: n }, () => sampleValue(elem, version));
  }
  if (f.fields) return sampleStruct(f.fields, version);
  switch (f.type) {
    case "int8":
      return rnd(200) - 100;
    case "int16":
      return rnd(60000) - 30000;
    case "uint16":
      return rnd(65535);
    case "int32":
      return rnd(2 ** 31) - 2 ** 30;
    case "int64":
      return rnd(2 ** 31) * 2 ** 20 - 2 ** 40;
    case "float64":
      return rnd(1000) / 7;
    case "bool":
      return rnd(2) === 1;
    case "string":
      return "s-" + "é".repeat(rnd(4)) + rnd(1000);
    case "uuid":
      return "AQIDBAUGBwgJCgsMDQ4PEA";
    case "bytes":
    case "records":
      return new Uint8Array(Array.from({ length: rnd(5) }, (_, i) => i + 1));
  }
  throw new Error(`no sample for ${f.type}`);
}

function sampleStruct(fields: FieldSchema[], version: number): Msg {
  const m: Msg = {};
  for (const f of fields) {
    if (!inRange(f.versions, version)) continue;
    m[f.name] = sampleValue(f, version);
  }
  return m;
}

/** Keeps only fields present at `version` so the comparison ignores defaults of absent ones. */
function project(fields: FieldSchema[], version: number, m: Msg, flexible: boolean): Msg {
  const out: Msg = {};
  for (const f of fields) {
    if (!inRange(f.versions, version)) continue;
    if (f.tag !== undefined && !(flexible && inRange(f.taggedVersions, version))) continue;
    const v = m[f.name];
    if (f.fields && Array.isArray(v)) {
      out[f.name] = v.map((x) => project(f.fields!, version, x, flexible));
    } else if (f.fields && v) out[f.name] = project(f.fields, version, v, flexible);
    else out[f.name] = v instanceof Uint8Array ? Array.from(v) : v;
  }
  return out;
}

const schemas = Object.values(messages) as MessageSchema[];

Deno.test("every schema round-trips at every version it declares", () => {
  let count = 0;
  for (const schema of schemas) {
    const [lo, hi] = parseVersions(schema.validVersions);
    for (let v = lo; v <= hi; v++) {
      const flexible = codecFor(schema, v).flexible;
      for (let trial = 0; trial < 3; trial++) {
        const m = sampleStruct(schema.fields, v);
        const bytes = encodeMessage(schema, v, m);
        const back = decodeMessage(schema, v, bytes);
        assert.deepEqual(
          project(schema.fields, v, back, flexible),
          project(schema.fields, v, m, flexible),
          `${schema.name} v${v}`,
        );
        assert.deepEqual(encodeMessage(schema, v, back), bytes, `${schema.name} v${v} re-encode`);
        count++;
      }
    }
  }
  assert.ok(count > 500, `only ${count} round trips`);
});

Deno.test("truncated input fails cleanly at every cut point", () => {
  for (const schema of schemas) {
    const [, hi] = parseVersions(schema.validVersions);
    const m = sampleStruct(schema.fields, hi);
    const bytes = encodeMessage(schema, hi, m);
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(() => decodeMessage(schema, hi, bytes.subarray(0, cut)), `${schema.name}`);
    }
  }
});

Deno.test("golden bytes: ApiVersionsRequest v3 and MetadataRequest v1", () => {
  // ApiVersions v3 (flexible): client software name "kcat" (compact string: len+1 = 5),
  // version "1.7" (len+1 = 4), then an empty tagged-field section (0).
  const apiv = encodeMessage(messages.ApiVersionsRequest, 3, {
    clientSoftwareName: "kcat",
    clientSoftwareVersion: "1.7",
  });
  assert.deepEqual(Array.from(apiv), [5, 107, 99, 97, 116, 4, 49, 46, 55, 0]);
  // Metadata v1: topics array of one (int32 1), name "t" (int16 1, 't').
  const md = encodeMessage(messages.MetadataRequest, 1, { topics: [{ name: "t" }] });
  assert.deepEqual(Array.from(md), [0, 0, 0, 1, 0, 1, 116]);
  // Metadata v1 with null topics means "all topics": int32 -1.
  const all = encodeMessage(messages.MetadataRequest, 1, { topics: null });
  assert.deepEqual(Array.from(all), [255, 255, 255, 255]);
  assert.equal(decodeMessage(messages.MetadataRequest, 1, all).topics, null);
});

Deno.test("unknown tagged fields are preserved, known tagged fields decoded", () => {
  // FetchRequest v12+ has tagged ClusterId (tag 0). Append tag 0 and an unknown tag 7.
  const w = new Writer();
  const base = encodeMessage(messages.ApiVersionsRequest, 3, {
    clientSoftwareName: "a",
    clientSoftwareVersion: "b",
  });
  w.raw(base.subarray(0, base.length - 1));
  w.uvarint(1); // one tagged field
  w.uvarint(7);
  w.uvarint(2);
  w.raw(new Uint8Array([9, 9]));
  const m = decodeMessage(messages.ApiVersionsRequest, 3, w.finish());
  assert.deepEqual(m[UNKNOWN_TAGS]!.map(([t, b]: [number, Uint8Array]) => [t, Array.from(b)]), [
    [7, [9, 9]],
  ]);
  const again = encodeMessage(messages.ApiVersionsRequest, 3, m);
  assert.deepEqual(Array.from(again), Array.from(w.finish()));

  const fetch = encodeMessage(messages.FetchRequest, 12, {
    clusterId: "abc",
    replicaId: -1,
    maxWaitMs: 1,
    minBytes: 1,
    maxBytes: 10,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [],
    forgottenTopicsData: [],
    rackId: "",
  });
  assert.equal(decodeMessage(messages.FetchRequest, 12, fetch).clusterId, "abc");
});

Deno.test("a lying array length costs an error, not memory", () => {
  const w = new Writer();
  w.int32(0x7fffffff); // topics array claiming 2^31 entries in a 4-byte frame
  assert.throws(() => decodeMessage(messages.MetadataRequest, 1, w.finish()), /exceeds/);
  const r = new Reader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
  assert.equal(r.uvarint(), 0xffffffff);
});

Deno.test("schema: generated codecs keep strict encoding, defaults and unknown tags", async () => {
  const { codecFor, isStrictEncoding, setStrictEncoding, UNKNOWN_TAGS } = await import(
    "../../protocol/schema.ts"
  );
  const { Reader, Writer } = await import("../../protocol/primitives.ts");
  const { FetchRequest } = await import("../../protocol/messages/mod.ts");
  const codec = codecFor(FetchRequest, 12);
  const body = {
    maxWaitMs: 5,
    topics: [{ topic: "t", partitions: [{ partition: 3, fetchOffset: 9 }] }],
  };
  const w = new Writer();
  codec.encode(w, body);
  const m = codec.decode(new Reader(w.finishCopy()));
  assert.equal(m.maxWaitMs, 5);
  assert.equal(m.replicaId, -1); // a declared default, written for the missing field
  assert.deepEqual(m.forgottenTopicsData, []);
  const p = m.topics[0].partitions[0];
  assert.deepEqual([p.partition, p.fetchOffset, p.currentLeaderEpoch], [3, 9, -1]);
  // A tag no schema knows survives a round trip.
  (m as unknown as Record<string, unknown>)[UNKNOWN_TAGS] = [[99, new Uint8Array([7])]];
  const w2 = new Writer();
  codec.encode(w2, m);
  const again = codec.decode(new Reader(w2.finishCopy())) as unknown as Record<string, unknown>;
  assert.deepEqual(again[UNKNOWN_TAGS], [[99, new Uint8Array([7])]]);
  const was = isStrictEncoding();
  setStrictEncoding(true);
  try {
    assert.throws(() => codec.encode(new Writer(), { maxWaitMS: 1 } as never), /unknown field/);
  } finally {
    setStrictEncoding(was);
  }
});
