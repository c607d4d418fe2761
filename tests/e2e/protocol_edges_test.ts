/**
 * Protocol edges at the wire: an unknown ApiVersions version, pipelined requests, acks=0
 * produce, and the per-partition produce/fetch errors a client relies on (CRC, magic 1, too
 * large, unknown topic, out of range). Requests are built and responses parsed with the
 * project's own codec.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { Writer } from "../../protocol/primitives.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { testBroker } from "../support/helpers.ts";
import {
  fetchPartition,
  frame,
  parseResponse,
  produce,
  PRODUCE_V,
  produceBody,
  RawClient,
  rawFrame,
  text,
} from "../support/e2e_robustness_fixtures.ts";

const enc = new TextEncoder();

Deno.test(
  "ApiVersions v99 gets a v0 response: UNSUPPORTED_VERSION and the API list",
  async () => {
    const b = await testBroker();
    const c = await RawClient.connect(b.port);
    try {
      // KIP-511: the request body of an unknown version is not parsed.
      await c.write(rawFrame(18, 99, 0x01020304, new Uint8Array([1, 2, 3, 4, 5])));
      const f = await c.readFrame();
      const expected = b.broker.registry.apiVersions();
      assert.ok(expected.length > 0);
      // Decoded by hand: correlation id, error code, int32 array of (key, min, max). No
      // throttle time in v0, no tagged fields.
      assert.equal(f.length, 4 + 2 + 4 + 6 * expected.length);
      const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
      assert.equal(v.getInt32(0), 0x01020304);
      assert.equal(v.getInt16(4), 35);
      assert.equal(v.getInt32(6), expected.length);
      for (let i = 0; i < expected.length; i++) {
        const at = 10 + 6 * i;
        assert.deepEqual(
          [v.getInt16(at), v.getInt16(at + 2), v.getInt16(at + 4)],
          [expected[i].apiKey, expected[i].minVersion, expected[i].maxVersion],
        );
      }
      const keys = expected.map((e) => e.apiKey);
      for (const k of [0, 1, 2, 3, 18]) assert.ok(keys.includes(k), `api ${k} advertised`);
      const apiVersionsEntry = expected.find((e) => e.apiKey === 18)!;
      assert.deepEqual([apiVersionsEntry.minVersion, apiVersionsEntry.maxVersion], [0, 4]);

      // The connection stays usable: the client retries at a version it now knows.
      const r = await c.request(ApiVersionsRequest, ApiVersionsResponse, 3, {
        clientSoftwareName: "raw",
        clientSoftwareVersion: "1",
      });
      assert.equal(r.errorCode, 0);
      assert.equal(r.apiKeys.length, expected.length);
      // v0 itself, answered normally.
      await c.write(rawFrame(18, 0, 77, new Uint8Array(0)));
      const f0 = await c.readFrame();
      const v0 = new DataView(f0.buffer, f0.byteOffset, f0.byteLength);
      assert.deepEqual([v0.getInt32(0), v0.getInt16(4), v0.getInt32(6)], [77, 0, expected.length]);
      assert.equal(f0.length, 10 + 6 * expected.length);
    } finally {
      c.close();
      await b.stop();
    }
  },
);

Deno.test(
  "50 pipelined ApiVersions/Metadata requests in one write: 50 responses in order",
  async () => {
    const b = await testBroker();
    const c = await RawClient.connect(b.port);
    try {
      await b.broker.createTopic("piped", 2);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 50; i++) {
        const id = 1000 + i * 3;
        frames.push(
          i % 2 === 0
            ? frame(ApiVersionsRequest, 3, id, {
              clientSoftwareName: "raw",
              clientSoftwareVersion: "1",
            })
            : frame(MetadataRequest, 12, id, {
              topics: [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: "piped" }],
              allowAutoTopicCreation: false,
              includeTopicAuthorizedOperations: false,
            }),
        );
      }
      const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of frames) {
        all.set(f, at);
        at += f.length;
      }
      await c.write(all);
      const apis = b.broker.registry.apiVersions().map((
        k,
      ) => [k.apiKey, k.minVersion, k.maxVersion]);
      for (let i = 0; i < 50; i++) {
        const id = 1000 + i * 3;
        const f = await c.readFrame();
        if (i % 2 === 0) {
          const r = parseResponse(f, ApiVersionsResponse, 3, id);
          assert.equal(r.errorCode, 0);
          assert.deepEqual(r.apiKeys.map((k: Msg) => [k.apiKey, k.minVersion, k.maxVersion]), apis);
        } else {
          const r = parseResponse(f, MetadataResponse, 12, id);
          assert.deepEqual(
            r.brokers.map((x: Msg) => [x.nodeId, x.host, x.port]),
            [[b.broker.nodeId, "127.0.0.1", b.port]],
          );
          assert.equal(r.topics.length, 1);
          assert.equal(r.topics[0].errorCode, 0);
          assert.equal(r.topics[0].name, "piped");
          assert.equal(r.topics[0].topicId, b.broker.topic("piped")!.topicId);
          assert.deepEqual(r.topics[0].partitions.map((p: Msg) => p.partitionIndex), [0, 1]);
        }
      }
    } finally {
      c.close();
      await b.stop();
    }
  },
);

Deno.test(
  "acks=0 produce gets no response; the next request's response comes first; a failed one closes",
  async () => {
    const b = await testBroker();
    const c = await RawClient.connect(b.port);
    try {
      await b.broker.createTopic("fire", 1);
      const batch = encodeRecordBatch({ records: [{ key: "k", value: "fire-and-forget" }] });
      const both = [
        frame(ProduceRequest, PRODUCE_V, 500, produceBody("fire", 0, batch, 0)),
        frame(ApiVersionsRequest, 3, 501, {
          clientSoftwareName: "raw",
          clientSoftwareVersion: "1",
        }),
      ];
      await c.write(new Uint8Array([...both[0], ...both[1]]));
      const r = parseResponse(await c.readFrame(), ApiVersionsResponse, 3, 501);
      assert.equal(r.errorCode, 0);
      // The unacknowledged append happened, before the next request was served.
      const f = await fetchPartition(c, "fire", 0, 0);
      assert.equal(f.highWatermark, 1);
      const { records } = decodeRecords(f.records);
      assert.deepEqual(records.map((x) => [text(x.key), text(x.value)]), [[
        "k",
        "fire-and-forget",
      ]]);
      // A failing acks=0 produce closes the connection, as Kafka does: the producer has no
      // other way to learn of it.
      await c.write(frame(ProduceRequest, PRODUCE_V, 502, produceBody("fire", 7, batch, 0)));
      await c.write(
        frame(ApiVersionsRequest, 3, 503, {
          clientSoftwareName: "raw",
          clientSoftwareVersion: "1",
        }),
      );
      await c.expectClosed();
    } finally {
      c.close();
      await b.stop();
    }
  },
);

/** A legacy magic-1 message set with one message (offset, size, crc, magic, attrs, ts, key, value). */
function magicOneMessageSet(value: string): Uint8Array {
  const v = enc.encode(value);
  const msg = new Writer();
  msg.int8(1); // magic
  msg.int8(0); // attributes
  msg.int64(Date.now());
  msg.int32(-1); // null key
  msg.int32(v.length);
  msg.raw(v);
  const body = msg.finishCopy();
  const w = new Writer();
  w.int64(0);
  w.int32(4 + body.length);
  w.uint32(crc32(body));
  w.raw(body);
  return w.finishCopy();
}

/** CRC-32 (IEEE), as magic 0/1 messages use. */
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A one-record batch of exactly `size` bytes. */
function batchOfSize(size: number): Uint8Array {
  let len = size - 80;
  for (let i = 0; i < 10; i++) {
    const b = encodeRecordBatch({ records: [{ key: null, value: "v".repeat(len) }] });
    if (b.length === size) return b;
    len += size - b.length;
  }
  throw new Error(`could not build a batch of ${size} bytes`);
}

Deno.test(
  "produce and fetch errors: CRC, magic 1, too large, unknown topic, out of range",
  async () => {
    const b = await testBroker({
      config: { "message.max.bytes": "1000", "auto.create.topics.enable": "false" },
    });
    const c = await RawClient.connect(b.port);
    try {
      await b.broker.createTopic("errs", 1);
      const log = b.broker.partition("errs", 0)!;

      // A flipped CRC byte: CORRUPT_MESSAGE, nothing appended.
      const bad = encodeRecordBatch({ records: [{ key: "k", value: "v" }] });
      bad[17] ^= 0x01;
      let p = await produce(c, "errs", 0, bad);
      assert.deepEqual([p.index, p.errorCode, p.baseOffset], [0, ErrorCode.CORRUPT_MESSAGE, -1]);
      assert.equal(p.errorCode, 2);
      // A flipped byte in the records (covered by the CRC) is caught the same way.
      const bad2 = encodeRecordBatch({ records: [{ key: "k", value: "value" }] });
      bad2[bad2.length - 3] ^= 0x40;
      p = await produce(c, "errs", 0, bad2);
      assert.equal(p.errorCode, ErrorCode.CORRUPT_MESSAGE);
      assert.equal(log.logEndOffset, 0);

      // A magic-1 message set in a Produce v3+ request: INVALID_RECORD, as Kafka 3.9.
      p = await produce(c, "errs", 0, magicOneMessageSet("legacy"));
      assert.deepEqual([p.errorCode, p.baseOffset], [ErrorCode.INVALID_RECORD, -1]);
      assert.equal(log.logEndOffset, 0);

      // message.max.bytes=1000: a 1000-byte batch is accepted, a 1001-byte one is not.
      p = await produce(c, "errs", 0, batchOfSize(1000));
      assert.deepEqual([p.errorCode, p.baseOffset], [0, 0]);
      p = await produce(c, "errs", 0, batchOfSize(1001));
      assert.deepEqual([p.errorCode, p.baseOffset], [ErrorCode.MESSAGE_TOO_LARGE, -1]);
      assert.equal(p.errorCode, 10);
      p = await produce(c, "errs", 0, batchOfSize(5000));
      assert.equal(p.errorCode, 10);
      assert.equal(log.logEndOffset, 1);

      // Unknown topic with auto-creation off, and an unknown partition: UNKNOWN_TOPIC_OR_PARTITION.
      const ok = encodeRecordBatch({ records: [{ key: "k", value: "v" }] });
      p = await produce(c, "nope", 0, ok);
      assert.deepEqual([p.errorCode, p.baseOffset], [3, -1]);
      p = await produce(c, "errs", 1, ok);
      assert.equal(p.errorCode, 3);
      assert.equal(b.broker.topic("nope"), undefined);
      const md = await c.request(MetadataRequest, MetadataResponse, 12, {
        topics: [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: "nope" }],
        allowAutoTopicCreation: true,
        includeTopicAuthorizedOperations: false,
      });
      assert.deepEqual(md.topics.map((t: Msg) => [t.name, t.errorCode]), [["nope", 3]]);
      assert.equal(b.broker.topic("nope"), undefined);

      // Invalid acks.
      const r = await c.request(
        ProduceRequest,
        ProduceResponse,
        PRODUCE_V,
        produceBody("errs", 0, ok, 2),
      );
      assert.equal(r.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_REQUIRED_ACKS);

      // One valid append continues at offset 1.
      p = await produce(c, "errs", 0, ok);
      assert.deepEqual([p.errorCode, p.baseOffset], [0, 1]);

      // Fetch at the end: empty, no error. Beyond it (or negative): OFFSET_OUT_OF_RANGE.
      let f = await fetchPartition(c, "errs", 0, 2);
      assert.deepEqual([f.errorCode, f.highWatermark, f.records.length], [0, 2, 0]);
      f = await fetchPartition(c, "errs", 0, 3);
      assert.deepEqual([f.errorCode, f.highWatermark], [ErrorCode.OFFSET_OUT_OF_RANGE, 2]);
      assert.equal(f.errorCode, 1);
      f = await fetchPartition(c, "errs", 0, 1_000_000);
      assert.equal(f.errorCode, 1);
      f = await fetchPartition(c, "errs", 0, -1);
      assert.equal(f.errorCode, 1);
      // Fetch of an unknown topic.
      f = await fetchPartition(c, "nope", 0, 0);
      assert.equal(f.errorCode, 3);

      // What is stored is exactly the two accepted batches.
      f = await fetchPartition(c, "errs", 0, 0);
      const first = decodeRecords(f.records);
      assert.equal(first.header.baseOffset, 0);
      assert.equal(text(first.records[0].value), "v".repeat(first.records[0].value!.length));
      assert.equal(first.header.batchLength + 12, 1000);
      assert.equal(f.records.length, 1000 + ok.length);
      const second = decodeRecords(f.records.subarray(1000));
      assert.equal(second.header.baseOffset, 1);
      assert.deepEqual(second.records.map((x) => [text(x.key), text(x.value)]), [["k", "v"]]);

      // Two batches in one partition's records: offsets assigned by the broker (the client's
      // baseOffset is ignored), the response names the first.
      const two = [
        encodeRecordBatch({ baseOffset: 999, records: [{ value: "a0" }, { value: "a1" }] }),
        encodeRecordBatch({ baseOffset: 5, records: [{ value: "b0" }] }),
      ];
      p = await produce(c, "errs", 0, new Uint8Array([...two[0], ...two[1]]));
      assert.deepEqual([p.errorCode, p.baseOffset], [0, 2]);
      f = await fetchPartition(c, "errs", 0, 2);
      assert.equal(f.highWatermark, 5);
      const a = decodeRecords(f.records);
      const bb = decodeRecords(f.records.subarray(a.header.batchLength + 12));
      assert.deepEqual(
        [a.header.baseOffset, ...a.records.map((x) => text(x.value))],
        [2, "a0", "a1"],
      );
      assert.deepEqual([bb.header.baseOffset, ...bb.records.map((x) => text(x.value))], [4, "b0"]);
      // A request whose second batch is corrupt appends neither.
      const half = encodeRecordBatch({ records: [{ value: "c0" }] });
      const broken = encodeRecordBatch({ records: [{ value: "c1" }] });
      broken[broken.length - 1] ^= 1;
      p = await produce(c, "errs", 0, new Uint8Array([...half, ...broken]));
      assert.equal(p.errorCode, ErrorCode.CORRUPT_MESSAGE);
      assert.equal(log.logEndOffset, 5);
    } finally {
      c.close();
      await b.stop();
    }
  },
);
