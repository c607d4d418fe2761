/**
 * Robustness at the wire: hostile and broken connections (garbage, huge or truncated frames,
 * unknown APIs and versions, malformed bodies) must cost only their own connection while a
 * healthy client keeps producing and fetching exact data; pipelining, acks=0, and the
 * per-partition produce/fetch errors a client relies on. Requests are built and responses
 * parsed with the project's own codec.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../protocol/errors.ts";
import { writeRequestHeader } from "../protocol/headers.ts";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  FetchRequest,
  FetchResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../protocol/messages/mod.ts";
import { Reader, Writer } from "../protocol/primitives.ts";
import { decodeRecords, encodeRecordBatch } from "../protocol/records.ts";
import {
  codecFor,
  decodeMessage,
  isFlexible,
  type MessageSchema,
  type Msg,
} from "../protocol/schema.ts";
import { decoder, kcat, testBroker } from "./helpers.ts";
import { SAFETY_TIMEOUT_MS, waitFor } from "./wait.ts";

const enc = new TextEncoder();

type Started = Awaited<ReturnType<typeof testBroker>>;

/** The bytes of one request frame (size prefix included). */
function frame(
  schema: MessageSchema,
  version: number,
  correlationId: number,
  body: Msg,
  apiKey = schema.apiKey!,
): Uint8Array {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(
    w,
    { apiKey, apiVersion: version, correlationId, clientId: "raw" },
    isFlexible(schema, version),
  );
  codecFor(schema, version).encode(w, body);
  const out = w.finishCopy();
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

/** A header-only frame: key, version, correlation id, client id, then `body` bytes verbatim. */
function rawFrame(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Uint8Array,
  flexible = false,
) {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: "raw" }, flexible);
  w.raw(body);
  const out = w.finishCopy();
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

/** A client on one socket: writes frames, reads whole response frames. */
class RawClient {
  private buf = new Uint8Array(0);
  private nextCorrelation = 1;
  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads more bytes; null at EOF or reset. */
  private async fill(timeoutMs: number): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) =>
      timer = setTimeout(() => r("timeout"), timeoutMs)
    );
    const n = await Promise.race([this.conn.read(chunk).catch(() => null), timeout]);
    clearTimeout(timer);
    if (n === "timeout") throw new Error(`no data within ${timeoutMs} ms`);
    if (n === null) return false;
    const next = new Uint8Array(this.buf.length + n);
    next.set(this.buf);
    next.set(chunk.subarray(0, n), this.buf.length);
    this.buf = next;
    return true;
  }

  /** The next response frame without its size prefix. */
  async readFrame(timeoutMs = SAFETY_TIMEOUT_MS): Promise<Uint8Array> {
    while (true) {
      if (this.buf.length >= 4) {
        const size = new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
        if (this.buf.length >= 4 + size) {
          const f = this.buf.slice(4, 4 + size);
          this.buf = this.buf.slice(4 + size);
          return f;
        }
      }
      if (!(await this.fill(timeoutMs))) throw new Error("connection closed by the broker");
    }
  }

  /** Resolves once the broker has closed the socket; fails if any byte arrives first. */
  async expectClosed(timeoutMs = SAFETY_TIMEOUT_MS): Promise<void> {
    const more = await this.fill(timeoutMs);
    assert.equal(more, false, `expected the broker to close; got ${this.buf.length} bytes`);
    assert.equal(this.buf.length, 0);
  }

  /** Sends a request and decodes its response; checks the correlation id. */
  async request(req: MessageSchema, resp: MessageSchema, version: number, body: Msg): Promise<Msg> {
    const id = this.nextCorrelation++;
    await this.write(frame(req, version, id, body));
    return parseResponse(await this.readFrame(), resp, version, id);
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** Decodes a response frame (header v1 for flexible versions except ApiVersions). */
function parseResponse(
  f: Uint8Array,
  schema: MessageSchema,
  version: number,
  correlationId: number,
): Msg {
  const r = new Reader(f);
  assert.equal(r.int32(), correlationId, "correlation id");
  if (isFlexible(schema, version) && schema.apiKey !== 18) {
    assert.equal(r.uvarint(), 0, "no response header tags");
  }
  return decodeMessage(schema, version, f.subarray(r.pos));
}

const PRODUCE_V = 9;
const FETCH_V = 12;

function produceBody(topic: string, partition: number, records: Uint8Array | null, acks = -1): Msg {
  return {
    transactionalId: null,
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

function fetchBody(topic: string, partition: number, fetchOffset: number): Msg {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic,
      partitions: [{
        partition,
        currentLeaderEpoch: -1,
        fetchOffset,
        lastFetchedEpoch: -1,
        logStartOffset: -1,
        partitionMaxBytes: 1 << 20,
      }],
    }],
    forgottenTopicsData: [],
    rackId: "",
  };
}

/** The single partition response of a one-partition Produce. */
async function produce(c: RawClient, topic: string, partition: number, records: Uint8Array | null) {
  const r = await c.request(
    ProduceRequest,
    ProduceResponse,
    PRODUCE_V,
    produceBody(topic, partition, records),
  );
  assert.equal(r.responses.length, 1);
  assert.equal(r.responses[0].name, topic);
  assert.equal(r.responses[0].partitionResponses.length, 1);
  return r.responses[0].partitionResponses[0] as Msg;
}

async function fetchPartition(c: RawClient, topic: string, partition: number, offset: number) {
  const r = await c.request(
    FetchRequest,
    FetchResponse,
    FETCH_V,
    fetchBody(topic, partition, offset),
  );
  assert.equal(r.errorCode, 0);
  assert.equal(r.responses.length, 1);
  assert.equal(r.responses[0].partitions.length, 1);
  return r.responses[0].partitions[0] as Msg;
}

const text = (b: Uint8Array | null) => (b === null ? null : decoder.decode(b));

/** Produces one record on the healthy connection and reads it back exactly. */
async function healthyRoundTrip(
  h: RawClient,
  topic: string,
  expectedOffset: number,
  value: string,
) {
  const batch = encodeRecordBatch({
    records: [{ key: `k${expectedOffset}`, value, headers: [{ key: "case", value }] }],
  });
  const p = await produce(h, topic, 0, batch);
  assert.equal(p.errorCode, 0, `produce after ${value}`);
  assert.equal(p.baseOffset, expectedOffset);
  const f = await fetchPartition(h, topic, 0, expectedOffset);
  assert.equal(f.errorCode, 0);
  assert.equal(f.highWatermark, expectedOffset + 1);
  const { header, records } = decodeRecords(f.records);
  assert.equal(header.baseOffset, expectedOffset);
  assert.equal(records.length, 1);
  assert.equal(text(records[0].key), `k${expectedOffset}`);
  assert.equal(text(records[0].value), value);
  assert.deepEqual(records[0].headers.map((x) => [x.key, text(x.value)]), [["case", value]]);
}

/** A fresh connection answers ApiVersions v3 with the broker's API list. */
async function newConnectionWorks(b: Started): Promise<void> {
  const c = await RawClient.connect(b.port);
  try {
    const r = await c.request(ApiVersionsRequest, ApiVersionsResponse, 3, {
      clientSoftwareName: "raw",
      clientSoftwareVersion: "1",
    });
    assert.equal(r.errorCode, 0);
    assert.deepEqual(
      r.apiKeys.map((k: Msg) => [k.apiKey, k.minVersion, k.maxVersion]),
      b.broker.registry.apiVersions().map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
    );
  } finally {
    c.close();
  }
}

/** Waits until the broker tracks exactly `n` connections. */
async function connectionsSettle(b: Started, n: number): Promise<void> {
  await waitFor(
    () => `broker to hold ${n} connections (holds ${b.broker.connections.size})`,
    () => b.broker.connections.size === n,
    { intervalMs: 10 },
  );
}

/** Deterministic pseudo-random bytes (xorshift32). */
function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

Deno.test(
  "hostile connections are closed alone; the healthy client and new ones keep working",
  async () => {
    const b = await testBroker();
    const h = await RawClient.connect(b.port);
    try {
      await b.broker.createTopic("healthy", 1);
      let offset = 0;
      await healthyRoundTrip(h, "healthy", offset++, "before");
      await connectionsSettle(b, 1);
      // This isolate's heap and ArrayBuffer memory: `deno test --parallel` runs other test
      // modules in the same process, so the process RSS moves with them.
      const isolateMemory = () => {
        const m = Deno.memoryUsage();
        return m.heapUsed + m.external;
      };
      const memBefore = isolateMemory();

      const cases: { name: string; run: (c: RawClient) => Promise<void> }[] = [
        {
          name: "random garbage",
          run: async (c) => {
            const g = pseudoRandom(4096, 0x5eed);
            g[0] |= 0x80; // a negative frame size
            await c.write(g);
            await c.expectClosed();
          },
        },
        {
          name: "garbage in a well-sized frame",
          run: async (c) => {
            const g = pseudoRandom(1004, 0xbeef);
            new DataView(g.buffer).setInt32(0, 1000);
            new DataView(g.buffer).setInt16(4, -7); // no such api key
            await c.write(g);
            await c.expectClosed();
          },
        },
        {
          name: "huge length prefix 0x7fffffff",
          run: async (c) => {
            // Only the prefix and a few bytes: the broker must refuse from the prefix alone.
            await c.write(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0, 18, 0, 3]));
            await c.expectClosed();
          },
        },
        {
          name: "length prefix one above socket.request.max.bytes",
          run: async (c) => {
            const f = new Uint8Array(8);
            new DataView(f.buffer).setInt32(0, 104857600 + 1);
            await c.write(f);
            await c.expectClosed();
          },
        },
        {
          name: "truncated request, then the client closes",
          run: async (c) => {
            const f = frame(MetadataRequest, 1, 1, { topics: null });
            await c.write(f.subarray(0, f.length - 3));
            c.close();
          },
        },
        {
          name: "empty frame (size 0)",
          run: async (c) => {
            await c.write(new Uint8Array([0, 0, 0, 0]));
            await c.expectClosed();
          },
        },
        {
          name: "frame shorter than a request header",
          run: async (c) => {
            await c.write(new Uint8Array([0, 0, 0, 3, 0, 18, 0]));
            await c.expectClosed();
          },
        },
        {
          name: "a valid request written one byte at a time",
          run: async (c) => {
            const f = frame(ApiVersionsRequest, 3, 4242, {
              clientSoftwareName: "slow",
              clientSoftwareVersion: "1",
            });
            for (let i = 0; i < f.length; i++) {
              await c.write(f.subarray(i, i + 1));
              if (i % 8 === 0) await new Promise((r) => setTimeout(r, 1));
            }
            const r = parseResponse(await c.readFrame(), ApiVersionsResponse, 3, 4242);
            assert.equal(r.errorCode, 0);
          },
        },
        {
          name: "unknown api key 999",
          run: async (c) => {
            await c.write(rawFrame(999, 0, 7, new Uint8Array(0)));
            await c.expectClosed();
          },
        },
        {
          name: "Produce v99",
          run: async (c) => {
            await c.write(rawFrame(0, 99, 8, new Uint8Array(16)));
            await c.expectClosed();
          },
        },
        {
          name: "Fetch v18 (above the supported range)",
          run: async (c) => {
            await c.write(rawFrame(1, 18, 8, new Uint8Array(16)));
            await c.expectClosed();
          },
        },
        {
          name: "Metadata v1 claiming 5 topics with no bytes for them",
          run: async (c) => {
            await c.write(rawFrame(3, 1, 9, new Uint8Array([0, 0, 0, 5])));
            await c.expectClosed();
          },
        },
        {
          name: "Produce v9 whose records overrun the frame",
          run: async (c) => {
            const body = new Writer();
            body.compactNullableString(null); // transactional id
            body.int16(-1);
            body.int32(1000);
            body.uvarint(2); // one topic
            body.compactString("healthy");
            body.uvarint(2); // one partition
            body.int32(0);
            body.uvarint(1_000_000); // records: far more bytes than follow
            body.raw(new Uint8Array(20));
            await c.write(rawFrame(0, 9, 10, body.finishCopy(), true));
            await c.expectClosed();
          },
        },
        {
          // As Kafka: bytes after the last field are ignored.
          name: "Metadata v1 with trailing bytes",
          run: async (c) => {
            await c.write(rawFrame(3, 1, 11, new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3])));
            const r = parseResponse(await c.readFrame(), MetadataResponse, 1, 11);
            assert.deepEqual(r.topics.map((t: Msg) => [t.errorCode, t.name]), [[0, "healthy"]]);
          },
        },
      ];

      for (const tc of cases) {
        const c = await RawClient.connect(b.port);
        try {
          await tc.run(c);
        } catch (e) {
          throw new Error(`${tc.name}: ${e instanceof Error ? e.message : e}`);
        } finally {
          c.close();
        }
        await connectionsSettle(b, 1);
        await healthyRoundTrip(h, "healthy", offset++, `after ${tc.name}`);
        await newConnectionWorks(b);
      }

      // Random bodies behind valid headers of every served API but ApiVersions (which tolerates
      // trailing bytes by design): each is rejected by closing that connection.
      for (const api of b.broker.registry.apiVersions()) {
        if (api.apiKey === 18) continue;
        for (const seed of [1, 2, 3]) {
          const c = await RawClient.connect(b.port);
          try {
            const schema = b.broker.registry.get(api.apiKey)!.request;
            const flexible = isFlexible(schema, api.maxVersion);
            await c.write(
              rawFrame(
                api.apiKey,
                api.maxVersion,
                seed,
                pseudoRandom(300, seed * 7919 + api.apiKey),
                flexible,
              ),
            );
            await c.expectClosed();
          } catch (e) {
            throw new Error(
              `${api.name} v${api.maxVersion} seed ${seed}: ${e instanceof Error ? e.message : e}`,
            );
          } finally {
            c.close();
          }
        }
      }
      await connectionsSettle(b, 1);
      await healthyRoundTrip(h, "healthy", offset++, "after fuzzed bodies");
      await newConnectionWorks(b);

      const grown = isolateMemory() - memBefore;
      assert.ok(grown < 64 * 1024 * 1024, `heap + buffers grew by ${grown} bytes`);

      // kcat sees every healthy record, in order.
      const out = decoder.decode(
        await kcat(b.address, [
          "-C",
          "-t",
          "healthy",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%o %s\n",
        ]),
      );
      const values = ["before", ...cases.map((c) => `after ${c.name}`), "after fuzzed bodies"];
      assert.equal(out, values.map((v, i) => `${i} ${v}\n`).join(""));
    } finally {
      h.close();
      await b.stop();
    }
  },
);

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
