/**
 * @platformatic/kafka 2.12.1 as a general client: an independent, pure-JavaScript client that
 * negotiates the newest versions both sides know (flexible versions throughout: Produce v11,
 * Fetch v17, Metadata v12, CreateTopics v7, ...).
 *
 * - admin: createTopics (with configs), listTopics, metadata (topic ids, leaders),
 *   createPartitions, describeConfigs, listOffsets (earliest, latest, by timestamp),
 *   deleteRecords, deleteTopics;
 * - an idempotent producer with keys, several headers and every compression codec → a
 *   consumer of the classic group protocol reads back exactly what was sent, once each,
 *   with partitions and offsets as the producer reported them;
 * - group admin: listGroups, describeGroups, listConsumerGroupOffsets,
 *   alterConsumerGroupOffsets, deleteConsumerGroupOffsets (OffsetDelete), deleteGroups.
 */
import assert from "node:assert/strict";
import {
  Admin,
  Consumer,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { uuidFromString } from "../../protocol/schema.ts";
import { testBroker } from "../support/helpers.ts";
import { waitFor } from "../support/wait.ts";

/** Kafka's base64url topic id as platformatic prints UUIDs (8-4-4-4-12 hex). */
function hexUuid(id: string): string {
  const h = [...uuidFromString(id)].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
const PER_CODEC = 40;

Deno.test(
  "platformatic: admin, idempotent producer with headers and codecs, classic group, offsets",
  async () => {
    const b = await testBroker({
      config: {
        "group.initial.rebalance.delay.ms": 0,
        "group.min.session.timeout.ms": 1000,
        "auto.create.topics.enable": false,
      },
    });
    const base = { bootstrapBrokers: [b.address], retries: 5, retryDelay: 100 };
    const admin = new Admin({ clientId: "plat-admin", ...base });
    const producer = new Producer({
      clientId: "plat-producer",
      ...base,
      serializers: stringSerializers,
      idempotent: true,
    });
    let consumer: Consumer<string, string, string, string> | undefined;
    try {
      // ---- topics -----------------------------------------------------------------------
      const created = await admin.createTopics({
        topics: ["plat-events"],
        partitions: 3,
        replicas: 1,
        configs: [{ name: "retention.ms", value: "86400000" }],
      });
      assert.equal(created.length, 1);
      assert.equal(created[0].name, "plat-events");
      assert.equal(created[0].partitions, 3);
      assert.equal(created[0].id, hexUuid(b.broker.topic("plat-events")!.topicId));
      await assert.rejects(
        admin.createTopics({ topics: ["plat-events"], partitions: 3, replicas: 1 }),
      );
      assert.deepEqual(await admin.listTopics(), ["plat-events"]);
      assert.ok((await admin.listTopics({ includeInternals: true })).includes("plat-events"));

      await admin.createPartitions({ topics: [{ name: "plat-events", count: 4 }] });
      const md = await admin.metadata({ topics: ["plat-events"] });
      const t = md.topics.get("plat-events")!;
      assert.equal(t.partitionsCount, 4);
      assert.equal(t.id, hexUuid(b.broker.topic("plat-events")!.topicId));
      assert.ok(t.partitions.every((p) => p.leader === b.broker.nodeId));
      assert.ok(md.brokers.has(b.broker.nodeId));

      const [described] = await admin.describeConfigs({
        resources: [{
          resourceType: 2,
          resourceName: "plat-events",
          configurationKeys: ["retention.ms"],
        }],
      });
      const retention = described.configs.find((c) => c.name === "retention.ms");
      assert.equal(retention?.value, "86400000");

      // ---- produce: keys, headers, every codec --------------------------------------------
      const expected = new Map<string, { partition: number; offset: bigint; h: string }>();
      for (const [ci, codec] of CODECS.entries()) {
        const messages = [];
        for (let i = 0; i < PER_CODEC; i++) {
          const n = ci * PER_CODEC + i;
          messages.push({
            topic: "plat-events",
            key: `key-${n}`,
            value: `value-${n}-${"x".repeat(n % 7)}`,
            partition: n % 4,
            headers: { codec, seq: String(n), "trace-id": `t${n}` },
          });
        }
        const r = await producer.send({ messages, compression: codec });
        assert.ok(r.offsets && r.offsets.length > 0, codec);
        for (const m of messages) {
          expected.set(m.key, { partition: m.partition, offset: -1n, h: m.headers.seq });
        }
      }
      const total = CODECS.length * PER_CODEC;

      // ---- offsets ---------------------------------------------------------------------
      const latest = await admin.listOffsets({
        topics: [{
          name: "plat-events",
          partitions: [0, 1, 2, 3].map((p) => ({ partitionIndex: p, timestamp: -1n })),
        }],
      });
      const ends = latest[0].partitions.sort((x, y) => x.partitionIndex - y.partitionIndex)
        .map((p) => Number(p.offset));
      assert.deepEqual(ends, [50, 50, 50, 50]);
      const earliest = await admin.listOffsets({
        topics: [{ name: "plat-events", partitions: [{ partitionIndex: 2, timestamp: -2n }] }],
      });
      assert.equal(earliest[0].partitions[0].offset, 0n);
      const byTime = await admin.listOffsets({
        topics: [{ name: "plat-events", partitions: [{ partitionIndex: 1, timestamp: 0n }] }],
      });
      assert.equal(byTime[0].partitions[0].offset, 0n);

      // ---- consume (classic group protocol) ----------------------------------------------
      consumer = new Consumer({
        clientId: "plat-consumer",
        groupId: "plat-group",
        ...base,
        deserializers: stringDeserializers,
        sessionTimeout: 6000,
        heartbeatInterval: 300,
        maxWaitTime: 100,
      });
      const stream = await consumer.consume({
        topics: ["plat-events"],
        mode: "committed",
        fallbackMode: "earliest",
        autocommit: 100,
      });
      const seen = new Map<string, number>();
      const bad: string[] = [];
      stream.on("data", (m) => {
        seen.set(m.key, (seen.get(m.key) ?? 0) + 1);
        const n = Number(m.key.slice(4));
        const e = expected.get(m.key);
        if (
          !e || m.value !== `value-${n}-${"x".repeat(n % 7)}` || m.partition !== e.partition ||
          m.headers.get("seq") !== e.h || m.headers.get("trace-id") !== `t${n}` ||
          m.headers.get("codec") !== CODECS[Math.floor(n / PER_CODEC)] ||
          m.offset !== BigInt(Math.floor(n / 4)) || m.topic !== "plat-events"
        ) {
          bad.push(`${m.key}@${m.partition}/${m.offset}: ${m.value}`);
        }
      });
      await waitFor(`${total} records`, () => seen.size === total);
      assert.deepEqual(bad, []);
      await waitFor("the commits", () => {
        const all = b.broker.groups.offsets.all("plat-group");
        return all.length === 4 && all.every((o) => o.offset === 50);
      });
      assert.equal([...seen.values()].reduce((a, c) => a + c, 0), total, "each record once");
      const g = b.broker.groups.describeGroup("plat-group");
      assert.equal(g.groupState, "Stable");
      assert.equal(g.members.length, 1);
      await stream.close();
      await consumer.close();
      consumer = undefined;

      // ---- group admin -------------------------------------------------------------------
      const groups = await admin.listGroups();
      assert.equal(groups.get("plat-group")?.groupType, "classic");
      assert.equal(groups.get("plat-group")?.protocolType, "consumer");
      const dg = (await admin.describeGroups({ groups: ["plat-group"] })).get("plat-group")!;
      assert.equal(dg.state, "Empty");
      assert.equal(dg.members.size, 0);
      const [committed] = await admin.listConsumerGroupOffsets({ groups: ["plat-group"] });
      const cparts = committed.topics[0].partitions.sort((x, y) =>
        x.partitionIndex - y.partitionIndex
      );
      assert.deepEqual(cparts.map((p) => p.committedOffset), [50n, 50n, 50n, 50n]);
      await admin.alterConsumerGroupOffsets({
        groupId: "plat-group",
        topics: [{ name: "plat-events", partitionOffsets: [{ partition: 0, offset: 10n }] }],
      });
      assert.equal(b.broker.groups.offsets.get("plat-group", "plat-events", 0)?.offset, 10);
      await admin.deleteConsumerGroupOffsets({
        groupId: "plat-group",
        topics: [{ name: "plat-events", partitionIndexes: [3] }],
      });
      assert.equal(b.broker.groups.offsets.get("plat-group", "plat-events", 3), undefined);
      await admin.deleteGroups({ groups: ["plat-group"] });
      assert.equal((await admin.listGroups()).size, 0);

      // ---- records and topics ------------------------------------------------------------
      const deleted = await admin.deleteRecords({
        topics: [{ name: "plat-events", partitions: [{ partition: 0, offset: 20n }] }],
      });
      assert.equal(deleted[0].partitions[0].lowWatermark, 20n);
      const after = await admin.listOffsets({
        topics: [{ name: "plat-events", partitions: [{ partitionIndex: 0, timestamp: -2n }] }],
      });
      assert.equal(after[0].partitions[0].offset, 20n);

      await admin.deleteTopics({ topics: ["plat-events"] });
      assert.deepEqual(await admin.listTopics(), []);
      assert.equal(b.broker.topic("plat-events"), undefined);
    } finally {
      if (consumer) await consumer.close(true).catch(() => {});
      await producer.close();
      await admin.close();
      await b.stop();
    }
  },
);
