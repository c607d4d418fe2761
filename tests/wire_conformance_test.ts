/**
 * Requests as stock clients send them, byte for byte where a client's encoding differs from
 * the schema's minimum: trailing bytes (librdkafka's all-topics Metadata), failed acks=0
 * produces (the connection is the only signal), lookups by topic id with an empty name (the
 * Java client 3.9) and DescribeTopicPartitions.
 */
import assert from "node:assert/strict";
import { writeRequestHeader } from "../protocol/headers.ts";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  MetadataResponse,
  ProduceRequest,
} from "../protocol/messages/mod.ts";
import { Reader, Writer } from "../protocol/primitives.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import {
  codecFor,
  decodeMessage,
  isFlexible,
  type MessageSchema,
  type Msg,
} from "../protocol/schema.ts";
import { BrokerProcess, testBroker } from "./helpers.ts";
import { RawClient } from "./raw_client.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A frame (size prefix included) of `body` bytes behind a request header. */
export function rawRequest(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Uint8Array,
  flexible: boolean,
): Uint8Array {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: "wire" }, flexible);
  w.raw(body);
  const out = w.finishCopy();
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

/** A frame of `body` encoded with the project's schema. */
export function request(
  schema: MessageSchema,
  version: number,
  correlationId: number,
  body: Msg,
): Uint8Array {
  const w = new Writer();
  codecFor(schema, version).encode(w, body);
  return rawRequest(
    schema.apiKey!,
    version,
    correlationId,
    w.finishCopy(),
    isFlexible(schema, version),
  );
}

/** One socket: raw frames out, whole response frames in, and a check that it was closed. */
export class WireClient {
  private buf = new Uint8Array(0);
  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number): Promise<WireClient> {
    return new WireClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads more bytes; false at EOF or reset. */
  private async fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk).catch(() => null);
    if (n === null) return false;
    const next = new Uint8Array(this.buf.length + n);
    next.set(this.buf);
    next.set(chunk.subarray(0, n), this.buf.length);
    this.buf = next;
    return true;
  }

  async readFrame(): Promise<Uint8Array> {
    while (true) {
      if (this.buf.length >= 4) {
        const size = new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
        if (this.buf.length >= 4 + size) {
          const f = this.buf.slice(4, 4 + size);
          this.buf = this.buf.slice(4 + size);
          return f;
        }
      }
      if (!(await this.fill())) throw new Error("connection closed by the broker");
    }
  }

  /** Decodes the next response, checking its correlation id. */
  async response(schema: MessageSchema, version: number, correlationId: number): Promise<Msg> {
    const f = await this.readFrame();
    const r = new Reader(f);
    assert.equal(r.int32(), correlationId, "correlation id");
    if (isFlexible(schema, version) && schema.apiKey !== 18) {
      assert.equal(r.uvarint(), 0, "no response header tags");
    }
    return decodeMessage(schema, version, f.subarray(r.pos));
  }

  /** Resolves once the broker has closed the socket; fails if any byte arrives first. */
  async expectClosed(): Promise<void> {
    const more = await this.fill();
    assert.equal(more, false, `expected the broker to close; got ${this.buf.length} bytes`);
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

const apiVersions = (id: number) =>
  request(ApiVersionsRequest, 3, id, { clientSoftwareName: "wire", clientSoftwareVersion: "1" });

/** librdkafka 2.3+'s all-topics Metadata v9+: a 4-byte zero placeholder for the topic array. */
function librdkafkaAllTopicsMetadata(version: number): Uint8Array {
  const w = new Writer();
  w.int32(0); // the placeholder; its first byte reads as a compact null array
  w.int8(1); // allow_auto_topic_creation
  if (version <= 10) w.int8(0); // include_cluster_authorized_operations
  w.int8(0); // include_topic_authorized_operations
  w.uvarint(0); // tagged fields
  return w.finishCopy();
}

Deno.test(
  "Metadata v12 with librdkafka's 4-byte topic placeholder gets the all-topics answer",
  opts,
  async () => {
    const b = await testBroker();
    const c = await WireClient.connect(b.port);
    try {
      await b.broker.createTopic("alpha", 2);
      await b.broker.createTopic("beta", 1);
      for (const [i, version] of [9, 10, 12].entries()) {
        await c.write(rawRequest(3, version, 100 + i, librdkafkaAllTopicsMetadata(version), true));
        const r = await c.response(MetadataResponse, version, 100 + i);
        assert.deepEqual(
          r.brokers.map((x: Msg) => [x.nodeId, x.host, x.port]),
          [[b.broker.nodeId, "127.0.0.1", b.port]],
        );
        const id = (name: string) =>
          version >= 10 ? b.broker.topic(name)!.topicId : "AAAAAAAAAAAAAAAAAAAAAA";
        assert.deepEqual(
          (r.topics as Msg[]).map((t) => [t.errorCode, t.name, t.topicId, t.partitions.length])
            .sort((x, y) => String(x[1]).localeCompare(String(y[1]))),
          [
            [0, "alpha", id("alpha"), 2],
            [0, "beta", id("beta"), 1],
          ],
          `Metadata v${version}`,
        );
      }
      // The connection carries on.
      await c.write(apiVersions(200));
      assert.equal((await c.response(ApiVersionsResponse, 3, 200)).errorCode, 0);
    } finally {
      c.close();
      await b.stop();
    }
  },
);

Deno.test("a Metadata v12 body cut short still closes the connection", opts, async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("alpha", 1);
    const cases: [string, Uint8Array][] = [
      ["placeholder only", new Uint8Array([0, 0, 0])],
      // Two topics announced (compact count 3), one present.
      [
        "topic array short",
        new Uint8Array([3, ...new Uint8Array(16), 6, 97, 108, 112, 104, 97, 0]),
      ],
      ["empty body", new Uint8Array(0)],
    ];
    for (const [name, body] of cases) {
      const c = await WireClient.connect(b.port);
      try {
        await c.write(rawRequest(3, 12, 1, body, true));
        await c.expectClosed();
      } catch (e) {
        throw new Error(`${name}: ${e instanceof Error ? e.message : e}`);
      } finally {
        c.close();
      }
    }
    // Others are unaffected.
    const c = await WireClient.connect(b.port);
    try {
      await c.write(apiVersions(7));
      assert.equal((await c.response(ApiVersionsResponse, 3, 7)).errorCode, 0);
    } finally {
      c.close();
    }
  } finally {
    await b.stop();
  }
});

function acksZeroProduce(id: number, topic: string, partition: number, records: Uint8Array) {
  return request(ProduceRequest, 9, id, {
    transactionalId: null,
    acks: 0,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
}

/** Creates `name` with `partitions` partitions through CreateTopics. */
export async function createTopic(
  port: number,
  name: string,
  partitions: number,
  configs: { name: string; value: string }[] = [],
): Promise<void> {
  const r = await RawClient.once(port, CreateTopicsRequest, CreateTopicsResponse, 5, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal(r.topics[0].errorCode, 0, `create ${name}: ${r.topics[0].errorMessage}`);
}

/** The log end offset of each partition `partitions` of `topic` (ListOffsets latest). */
export async function logEndOffsets(
  port: number,
  topic: string,
  partitions: number[],
): Promise<number[]> {
  const r = await RawClient.once(port, ListOffsetsRequest, ListOffsetsResponse, 5, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{
      name: topic,
      partitions: partitions.map((p) => ({ partitionIndex: p, timestamp: -1 })),
    }],
  });
  return (r.topics[0].partitions as Msg[]).map((p) => {
    assert.equal(p.errorCode, 0);
    return p.offset as number;
  });
}

async function acksZeroScenario(port: number): Promise<void> {
  await createTopic(port, "quiet", 2);
  const good = (v: string) => encodeRecordBatch({ records: [{ key: "k", value: v }] });
  // Good acks=0 produces to both partitions: no response, the connection stays open, the
  // data lands.
  const c = await WireClient.connect(port);
  try {
    await c.write(acksZeroProduce(1, "quiet", 0, good("a")));
    await c.write(acksZeroProduce(2, "quiet", 1, good("b")));
    await c.write(apiVersions(3));
    assert.equal((await c.response(ApiVersionsResponse, 3, 3)).errorCode, 0);
  } finally {
    c.close();
  }
  const failures: [string, Uint8Array][] = [
    ["unknown partition", acksZeroProduce(10, "quiet", 7, good("x"))],
    ["unknown topic", acksZeroProduce(11, "nope", 0, good("x"))],
    [
      "batch over message.max.bytes",
      acksZeroProduce(
        12,
        "quiet",
        0,
        encodeRecordBatch({ records: [{ key: null, value: "v".repeat(2000) }] }),
      ),
    ],
  ];
  for (const [name, frame] of failures) {
    const f = await WireClient.connect(port);
    try {
      // The ApiVersions behind it is never answered: the connection closes first.
      await f.write(frame);
      await f.write(apiVersions(99));
      await f.expectClosed();
    } catch (e) {
      throw new Error(`${name}: ${e instanceof Error ? e.message : e}`);
    } finally {
      f.close();
    }
  }
  // Exactly the two good records were appended.
  assert.deepEqual(await logEndOffsets(port, "quiet", [0, 1]), [1, 1]);
}

const ACKS_ZERO_CONFIG = { "message.max.bytes": "1000", "auto.create.topics.enable": "false" };

Deno.test(
  "acks=0 produce: a failure closes the connection, a success keeps it open",
  opts,
  async () => {
    const b = await testBroker({ config: ACKS_ZERO_CONFIG });
    try {
      await acksZeroScenario(b.port);
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "acks=0 produce on 2 workers: a failure closes the connection, a success keeps it open",
  opts,
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-acks0-" });
    const args = Object.entries(ACKS_ZERO_CONFIG).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    const b = await BrokerProcess.start(dataDir, args);
    try {
      await acksZeroScenario(b.port);
    } finally {
      await b.kill();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
