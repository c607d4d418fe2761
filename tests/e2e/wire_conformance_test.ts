/**
 * Requests as stock clients send them, byte for byte where a client's encoding differs from
 * the schema's minimum: trailing bytes (librdkafka's all-topics Metadata), failed acks=0
 * produces (the connection is the only signal), lookups by topic id with an empty name (the
 * Java client 3.9) and DescribeTopicPartitions.
 */
import assert from "node:assert/strict";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  MetadataResponse,
  ProduceRequest,
} from "../../protocol/messages/mod.ts";
import { Writer } from "../../protocol/primitives.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { BrokerProcess, testBroker } from "../support/helpers.ts";
import {
  createTopic,
  logEndOffsets,
  rawRequest,
  request,
  WireClient,
} from "../support/wire_client.ts";

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

Deno.test("a Metadata v12 body cut short still closes the connection", async () => {
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
