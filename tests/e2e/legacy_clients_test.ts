/**
 * The request sequences of two packaged clients that use the versions Kafka 4.0 removed
 * (KIP-896): segmentio/kafka-go 0.2.1 (Debian) and Burrow 1.2.1 (Debian; the real Burrow runs
 * in e2e_burrow_test.ts), replayed over the wire.
 */
import assert from "node:assert/strict";
import { encodeLegacyMessageSet, readLegacyEntries } from "../../protocol/legacy_records.ts";
import {
  CreateTopicsRequest,
  CreateTopicsResponse,
  MetadataRequest,
  MetadataResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { BrokerProcess, kcat, testBroker } from "../support/helpers.ts";
import { b, contents, dec, fetch, listOffsetsV0, produce, TS } from "../support/legacy_wire.ts";
import { RawClient } from "../support/raw_client.ts";

Deno.test(
  "kafka-go 0.2.1's sequence with 2 workers: CreateTopics v0, Produce v2 magic 1, Fetch v2; kcat's v2 records down-converted",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "tributary-legacy-" });
    const bp = await BrokerProcess.start(dir, ["--workers", "2"]);
    const c = await RawClient.connect(bp.port);
    try {
      // kafka-go's Conn.CreateTopics sends v0.
      const ct = await c.call(CreateTopicsRequest, CreateTopicsResponse, 0, {
        topics: [{
          name: "kgo",
          numPartitions: 4,
          replicationFactor: 1,
          assignments: [],
          configs: [],
        }],
        timeoutMs: 10000,
      });
      assert.deepEqual(ct.topics.map((t: Msg) => [t.name, t.errorCode]), [["kgo", 0]]);
      const md = await c.call(MetadataRequest, MetadataResponse, 0, { topics: [{ name: "kgo" }] });
      assert.deepEqual(md.topics.map((t: Msg) => [t.name, t.errorCode, t.partitions.length]), [[
        "kgo",
        0,
        4,
      ]]);
      // Every partition (the two workers own two each): Produce v2 with magic 1 messages.
      for (let p = 0; p < 4; p++) {
        const set = encodeLegacyMessageSet(1, 0, [
          { offset: 0, timestamp: TS + p, key: b(`key-${p}`), value: b(`hello-${p}`) },
          { offset: 1, timestamp: TS + p + 1, key: null, value: b(`world-${p}`) },
        ]);
        const r = await produce(c, 2, "kgo", set, p);
        assert.deepEqual([r.errorCode, r.baseOffset, r.logAppendTimeMs], [0, 0, -1]);
      }
      // kcat (librdkafka, v2 batches with a header) adds one record to partition 2.
      await kcat(bp.address, ["-P", "-t", "kgo", "-p", "2", "-k", "kk", "-H", "h=1"], {
        stdin: "from-kcat",
      });
      // Fetch v2 reads magic 1: exactly the messages as they would have been written.
      for (let p = 0; p < 4; p++) {
        const f = await fetch(c, 2, "kgo", 0, p);
        assert.equal(f.errorCode, 0);
        const expected = [
          { offset: 0, timestamp: TS + p, key: b(`key-${p}`), value: b(`hello-${p}`) },
          { offset: 1, timestamp: TS + p + 1, key: null, value: b(`world-${p}`) },
        ];
        if (p !== 2) {
          assert.deepEqual(f.records, encodeLegacyMessageSet(1, 0, expected));
          assert.equal(f.highWatermark, 2);
          continue;
        }
        assert.equal(f.highWatermark, 3);
        const got = contents(f.records);
        assert.deepEqual(got.slice(0, 2), [
          [0, 1, TS + 2, "key-2", "hello-2"],
          [1, 1, TS + 3, null, "world-2"],
        ]);
        // kcat's record: its offset, key and value, a create time, and no header.
        assert.deepEqual([got[2][0], got[2][1], got[2][3], got[2][4]], [2, 1, "kk", "from-kcat"]);
        assert.ok(got[2][2] > TS, `kcat timestamp ${got[2][2]}`);
        assert.equal(readLegacyEntries(f.records).length, 3);
      }
      // kcat reads the up-converted v2 batches.
      const out = dec.decode(
        await kcat(bp.address, [
          "-C",
          "-t",
          "kgo",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%o %k %s %T\\n",
        ]),
      );
      assert.equal(out, `0 key-0 hello-0 ${TS}\n1  world-0 ${TS + 1}\n`);
    } finally {
      c.close();
      await bp.kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "Burrow's view: Metadata v0, ListOffsets v0 latest/earliest, OffsetFetch v1: exact lag",
  async () => {
    const br = await testBroker();
    const c = await RawClient.connect(br.port);
    try {
      await br.broker.createTopic("lag", 2);
      for (let i = 0; i < 5; i++) {
        await produce(c, 2, "lag", encodeRecordBatch({ records: [{ value: `a${i}` }] }), 0);
      }
      for (let i = 0; i < 3; i++) {
        await produce(c, 2, "lag", encodeRecordBatch({ records: [{ value: `b${i}` }] }), 1);
      }
      await c.call(OffsetCommitRequest, OffsetCommitResponse, 2, {
        groupId: "burrow-g",
        generationIdOrMemberEpoch: -1,
        memberId: "",
        retentionTimeMs: -1,
        topics: [{
          name: "lag",
          partitions: [
            { partitionIndex: 0, committedOffset: 2, committedMetadata: "" },
            { partitionIndex: 1, committedOffset: 3, committedMetadata: "" },
          ],
        }],
      });
      // Burrow's sarama client lists topics with Metadata v0 and the offsets with ListOffsets v0.
      const md = await c.call(MetadataRequest, MetadataResponse, 0, { topics: [] });
      const topic = (md.topics as Msg[]).find((t) => t.name === "lag")!;
      assert.deepEqual(
        topic.partitions.map((p: Msg) => [p.partitionIndex, p.leaderId, p.errorCode]),
        [
          [0, br.broker.nodeId, 0],
          [1, br.broker.nodeId, 0],
        ],
      );
      const lag: number[] = [];
      for (const p of [0, 1]) {
        const latest = await listOffsetsV0(c, "lag", -1, 1, p);
        const earliest = await listOffsetsV0(c, "lag", -2, 1, p);
        assert.deepEqual([latest.errorCode, earliest.errorCode, earliest.oldStyleOffsets], [0, 0, [
          0,
        ]]);
        const f = await c.call(OffsetFetchRequest, OffsetFetchResponse, 1, {
          groupId: "burrow-g",
          topics: [{ name: "lag", partitionIndexes: [p] }],
        });
        lag.push(latest.oldStyleOffsets[0] - f.topics[0].partitions[0].committedOffset);
      }
      assert.deepEqual(lag, [3, 0]);
    } finally {
      c.close();
      await br.stop();
    }
  },
);
