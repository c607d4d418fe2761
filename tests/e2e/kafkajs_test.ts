/**
 * End to end with kafkajs 2.2.4: producing (explicit partitions, by key, idempotent, gzip)
 * and the admin client, through its public API only. What was produced is read back with
 * plain Fetch requests of our own (tests/support/raw_client.ts), no consumer group involved.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { CompressionTypes, ConfigResourceTypes, Kafka, logLevel, Partitioners } from "kafkajs";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  CreateTopicsRequest,
  CreateTopicsResponse,
  FetchRequest,
  FetchResponse,
} from "../../protocol/messages/mod.ts";
import { forEachBatch, totalSize } from "../../protocol/record_batch.ts";
import { decodeRecords } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { decoder, kcat, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";

type Started = Awaited<ReturnType<typeof testBroker>>;

function client(b: Started): Kafka {
  return new Kafka({
    clientId: "tributary-test",
    brokers: [b.address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50 },
    connectionTimeout: 3000,
    requestTimeout: 10000,
  });
}

interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  timestamp: string;
  batchContext: { producerId: string; firstSequence: number; firstOffset: string };
}

interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  messages: FetchedMessage[];
}

/** Records as a Fetch v11 response carries them, in the shape kafkajs's fetch gives them. */
function messagesOf(records: Uint8Array | null, fetchOffset: number): FetchedMessage[] {
  const out: FetchedMessage[] = [];
  if (!records) return out;
  const buf = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b));
  forEachBatch(records, (pos, framing) => {
    const { header: h, records: recs } = decodeRecords(
      records.subarray(pos, pos + totalSize(framing)),
    );
    if (h.isControl) return;
    for (const r of recs) {
      const offset = h.baseOffset + r.offsetDelta;
      if (offset < fetchOffset) continue;
      out.push({
        offset: String(offset),
        key: buf(r.key),
        value: buf(r.value),
        headers: Object.fromEntries(r.headers.map((x) => [x.key, buf(x.value)!])),
        timestamp: String(
          h.timestampType === 1 ? h.maxTimestamp : h.baseTimestamp + r.timestampDelta,
        ),
        batchContext: {
          producerId: String(h.producerId),
          firstSequence: h.baseSequence,
          firstOffset: String(h.baseOffset),
        },
      });
    }
  });
  return out;
}

/** A connection of its own for plain Fetch (v11, as kafkajs sends): no consumer group. */
async function rawBroker(b: Started) {
  const c = await RawClient.connect(b.port);
  return {
    client: c,
    async fetch(
      topic: string,
      partition: number,
      fetchOffset = 0,
      maxWaitTime = 50,
    ): Promise<FetchedPartition> {
      const r = await c.call(FetchRequest, FetchResponse, 11, {
        replicaId: -1,
        maxWaitMs: maxWaitTime,
        minBytes: 1,
        maxBytes: 10 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{
          topic,
          partitions: [{
            partition,
            currentLeaderEpoch: -1,
            fetchOffset,
            logStartOffset: -1,
            partitionMaxBytes: 10 << 20,
          }],
        }],
        forgottenTopicsData: [],
        rackId: "",
      });
      assert.equal(r.errorCode, 0);
      const responses = r.responses as Msg[];
      assert.equal(responses.length, 1);
      assert.equal(responses[0].topic, topic);
      assert.equal(responses[0].partitions.length, 1);
      const p = responses[0].partitions[0];
      return {
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        highWatermark: String(p.highWatermark),
        messages: messagesOf(p.records, fetchOffset),
      };
    },
    /** Every message of a partition from offset 0, fetching until the high watermark. */
    async fetchAll(topic: string, partition: number): Promise<FetchedPartition> {
      const first = await this.fetch(topic, partition, 0);
      const messages = [...first.messages];
      while (messages.length < Number(first.highWatermark)) {
        const next = Number(messages[messages.length - 1].offset) + 1;
        const p = await this.fetch(topic, partition, next);
        assert.equal(p.errorCode, 0);
        assert.ok(p.messages.length > 0, `no progress at offset ${next}`);
        messages.push(...p.messages);
      }
      return { ...first, messages };
    },
    disconnect: () => Promise.resolve(c.close()),
  };
}

const str = (b: Buffer | null) => (b === null ? null : b.toString("utf8"));

function headersOf(m: FetchedMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, v.toString("utf8")]));
}

function sortByPartition<T extends { partition: number }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => a.partition - b.partition);
}

Deno.test(
  "kafkajs producer: explicit partitions and keys, headers, offsets per partition",
  async () => {
    const b = await testBroker();
    const kafka = client(b);
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const raw = await rawBroker(b);
    try {
      await admin.connect();
      assert.equal(await admin.createTopics({ topics: [{ topic: "kp", numPartitions: 3 }] }), true);
      await producer.connect();

      // What each partition should hold, in order.
      const expected: { key: string; value: string; headers: Record<string, string> }[][] = [
        [],
        [],
        [],
      ];

      // 1. Explicit partitions: 3 to p0, 2 to p1, 1 to p2.
      const explicit1 = [0, 0, 0, 1, 1, 2].map((partition, i) => ({
        partition,
        key: `ek-${i}`,
        value: `ev-${i}`,
        headers: { "h-index": String(i), "h-part": `p${partition}` },
      }));
      const r1 = await producer.send({ topic: "kp", acks: -1, messages: explicit1 });
      for (const m of explicit1) {
        expected[m.partition].push({
          key: m.key,
          value: m.value,
          headers: m.headers,
        });
      }
      assert.deepEqual(
        sortByPartition(r1).map((r) => [r.topicName, r.partition, r.errorCode, r.baseOffset]),
        [["kp", 0, 0, "0"], ["kp", 1, 0, "0"], ["kp", 2, 0, "0"]],
      );

      // 2. Another explicit send: 2 to p0 and 1 to p2 continue those partitions.
      const explicit2 = [0, 2, 0].map((partition, i) => ({
        partition,
        key: `ek2-${i}`,
        value: `ev2-${i}`,
        headers: { only: `x${i}` },
      }));
      const r2 = await producer.send({ topic: "kp", messages: explicit2 });
      for (const m of explicit2) {
        expected[m.partition].push({
          key: m.key,
          value: m.value,
          headers: m.headers,
        });
      }
      assert.deepEqual(
        sortByPartition(r2).map((r) => [r.partition, r.errorCode, r.baseOffset]),
        [[0, 0, "3"], [2, 0, "1"]],
      );

      // 3. By key with the Java-compatible murmur2 partitioner.
      const partitioner = Partitioners.DefaultPartitioner();
      const partitionMetadata = [0, 1, 2].map((p) => ({
        partitionId: p,
        partitionErrorCode: 0,
        leader: b.broker.nodeId,
        replicas: [b.broker.nodeId],
        isr: [b.broker.nodeId],
      }));
      const keyed = Array.from({ length: 30 }, (_, i) => ({
        key: `user-${i}`,
        value: `keyed-value-${i}-${"z".repeat(i)}`,
        headers: { seq: String(i) },
      }));
      const before = expected.map((e) => e.length);
      const keyedPartitions = new Set<number>();
      for (const m of keyed) {
        const p = partitioner({ topic: "kp", partitionMetadata, message: m });
        keyedPartitions.add(p);
        expected[p].push(m);
      }
      assert.equal(keyedPartitions.size, 3, "30 keys should spread over all 3 partitions");
      const r3 = await producer.send({ topic: "kp", messages: keyed });
      assert.deepEqual(
        sortByPartition(r3).map((r) => [r.partition, r.errorCode, r.baseOffset]),
        [0, 1, 2].map((p) => [p, 0, String(before[p])]),
      );

      for (let p = 0; p < 3; p++) {
        const got = await raw.fetchAll("kp", p);
        assert.equal(got.partition, p);
        assert.equal(got.errorCode, 0);
        assert.equal(got.highWatermark, String(expected[p].length));
        assert.equal(got.messages.length, expected[p].length);
        got.messages.forEach((m, i) => {
          assert.equal(m.offset, String(i), `p${p} message ${i}`);
          assert.equal(str(m.key), expected[p][i].key);
          assert.equal(str(m.value), expected[p][i].value);
          assert.deepEqual(headersOf(m), expected[p][i].headers);
        });
      }
    } finally {
      await raw.disconnect();
      await producer.disconnect();
      await admin.disconnect();
      await b.stop();
    }
  },
);

Deno.test(
  "kafkajs idempotent producer gets contiguous offsets and one producer id",
  async () => {
    const b = await testBroker();
    const kafka = client(b);
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const raw = await rawBroker(b);
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "idem", numPartitions: 1 }] });
      await producer.connect();
      const baseOffsets: string[] = [];
      for (let s = 0; s < 5; s++) {
        const r = await producer.send({
          topic: "idem",
          acks: -1,
          messages: Array.from({ length: 20 }, (_, i) => ({
            partition: 0,
            key: `k${s * 20 + i}`,
            value: `idempotent-${s * 20 + i}`,
          })),
        });
        assert.equal(r.length, 1);
        assert.equal(r[0].errorCode, 0);
        baseOffsets.push(r[0].baseOffset!);
      }
      assert.deepEqual(baseOffsets, ["0", "20", "40", "60", "80"]);

      const got = await raw.fetchAll("idem", 0);
      assert.equal(got.highWatermark, "100");
      assert.deepEqual(
        got.messages.map((m) => m.offset),
        Array.from({ length: 100 }, (_, i) => String(i)),
      );
      assert.deepEqual(
        got.messages.map((m) => [str(m.key), str(m.value)]),
        Array.from({ length: 100 }, (_, i) => [`k${i}`, `idempotent-${i}`]),
      );
      const pids = new Set(got.messages.map((m) => m.batchContext.producerId));
      assert.equal(pids.size, 1);
      const pid = Number([...pids][0]);
      assert.ok(pid >= 0, `producer id ${pid}`);
      // Each batch starts where the previous one's sequence ended.
      const firstSeqs = [
        ...new Set(
          got.messages.map((m) => `${m.batchContext.firstOffset}:${m.batchContext.firstSequence}`),
        ),
      ];
      assert.deepEqual(firstSeqs, ["0:0", "20:20", "40:40", "60:60", "80:80"]);
    } finally {
      await raw.disconnect();
      await producer.disconnect();
      await admin.disconnect();
      await b.stop();
    }
  },
);

Deno.test(
  "kafkajs admin: create, list, metadata, offsets, timestamps, partitions, configs, delete, cluster",
  async () => {
    const b = await testBroker();
    const kafka = client(b);
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await admin.connect();
      assert.equal(
        await admin.createTopics({
          topics: [
            {
              topic: "adm",
              numPartitions: 3,
              configEntries: [
                { name: "retention.ms", value: "3600000" },
                { name: "max.message.bytes", value: "500000" },
              ],
            },
            { topic: "adm-other", numPartitions: 1 },
          ],
        }),
        true,
      );
      assert.deepEqual((await admin.listTopics()).sort(), ["adm", "adm-other"]);

      const md = await admin.fetchTopicMetadata({ topics: ["adm"] });
      assert.equal(md.topics.length, 1);
      assert.equal(md.topics[0].name, "adm");
      const nodeId = b.broker.nodeId;
      assert.deepEqual(
        sortByPartition(md.topics[0].partitions.map((p) => ({ ...p, partition: p.partitionId })))
          .map((p) => [
            p.partitionId,
            p.partitionErrorCode,
            p.leader,
            p.replicas,
            p.isr,
          ]),
        [0, 1, 2].map((p) => [p, 0, nodeId, [nodeId], [nodeId]]),
      );

      // Empty topic: low = high = 0.
      assert.deepEqual(sortByPartition(await admin.fetchTopicOffsets("adm")), [
        { partition: 0, offset: "0", high: "0", low: "0" },
        { partition: 1, offset: "0", high: "0", low: "0" },
        { partition: 2, offset: "0", high: "0", low: "0" },
      ]);

      // 7 records to p0, none to p1, 12 to p2, one second apart in CreateTime.
      await producer.connect();
      const base = Date.now() - 1_000_000;
      const counts = [7, 0, 12];
      for (const p of [0, 2]) {
        await producer.send({
          topic: "adm",
          messages: Array.from({ length: counts[p] }, (_, i) => ({
            partition: p,
            key: `k${i}`,
            value: `p${p}-v${i}`,
            timestamp: String(base + i * 1000),
          })),
        });
      }
      assert.deepEqual(sortByPartition(await admin.fetchTopicOffsets("adm")), [
        { partition: 0, offset: "7", high: "7", low: "0" },
        { partition: 1, offset: "0", high: "0", low: "0" },
        { partition: 2, offset: "12", high: "12", low: "0" },
      ]);

      // First offset with timestamp >= base + 3.5 s is 4; an empty partition (and a timestamp
      // past everything) answers -1, which kafkajs replaces by the high watermark.
      assert.deepEqual(
        sortByPartition(await admin.fetchTopicOffsetsByTimestamp("adm", base + 3500)),
        [
          { partition: 0, offset: "4" },
          { partition: 1, offset: "0" },
          { partition: 2, offset: "4" },
        ],
      );
      assert.deepEqual(sortByPartition(await admin.fetchTopicOffsetsByTimestamp("adm", base)), [
        { partition: 0, offset: "0" },
        { partition: 1, offset: "0" },
        { partition: 2, offset: "0" },
      ]);
      assert.deepEqual(
        sortByPartition(await admin.fetchTopicOffsetsByTimestamp("adm", base + 8000)),
        [
          { partition: 0, offset: "7" },
          { partition: 1, offset: "0" },
          { partition: 2, offset: "8" },
        ],
      );

      // Grow to 5 partitions; the new ones are empty and writable.
      await admin.createPartitions({ topicPartitions: [{ topic: "adm", count: 5 }] });
      const md5 = await admin.fetchTopicMetadata({ topics: ["adm"] });
      assert.deepEqual(md5.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3, 4]);
      // A fresh producer: the first one's cached metadata still says 3 partitions.
      const producer2 = kafka.producer();
      await producer2.connect();
      const r = await producer2.send({
        topic: "adm",
        messages: [{ partition: 4, key: "nk", value: "new" }],
      });
      await producer2.disconnect();
      assert.deepEqual(r.map((x) => [x.partition, x.errorCode, x.baseOffset]), [[4, 0, "0"]]);
      const offsets5 = sortByPartition(await admin.fetchTopicOffsets("adm"));
      assert.deepEqual(offsets5.map((o) => [o.partition, o.low, o.high]), [
        [0, "0", "7"],
        [1, "0", "0"],
        [2, "0", "12"],
        [3, "0", "0"],
        [4, "0", "1"],
      ]);

      // Configs: the overrides show with their values as DYNAMIC_TOPIC_CONFIG (1); others are
      // defaults (5).
      const dc = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: "adm" }],
        includeSynonyms: false,
      });
      assert.equal(dc.resources.length, 1);
      const res = dc.resources[0];
      assert.equal(res.errorCode, 0);
      assert.equal(res.resourceName, "adm");
      assert.equal(res.resourceType, ConfigResourceTypes.TOPIC);
      const entry = (name: string) => {
        const e = res.configEntries.find((c) => c.configName === name);
        assert.ok(e, `config ${name} missing`);
        return e;
      };
      assert.deepEqual(
        [
          entry("retention.ms").configValue,
          entry("retention.ms").isDefault,
          entry("retention.ms").configSource,
        ],
        ["3600000", false, 1],
      );
      assert.deepEqual(
        [entry("max.message.bytes").configValue, entry("max.message.bytes").isDefault],
        ["500000", false],
      );
      assert.deepEqual(
        [
          entry("segment.bytes").configValue,
          entry("segment.bytes").isDefault,
          entry("segment.bytes").configSource,
        ],
        ["1073741824", true, 5],
      );
      const names = res.configEntries.map((c) => c.configName);
      assert.equal(new Set(names).size, names.length);
      const only = await admin.describeConfigs({
        resources: [{
          type: ConfigResourceTypes.TOPIC,
          name: "adm",
          configNames: ["retention.ms"],
        }],
        includeSynonyms: false,
      });
      assert.deepEqual(
        only.resources[0].configEntries.map((c) => [c.configName, c.configValue]),
        [["retention.ms", "3600000"]],
      );

      // describeCluster: this broker, its controller role and the cluster id.
      const cluster = await admin.describeCluster();
      assert.deepEqual(cluster, {
        brokers: [{ nodeId, host: "127.0.0.1", port: b.port }],
        controller: nodeId,
        clusterId: b.broker.clusterId,
      });

      // Delete: gone from listTopics and from the broker.
      await admin.deleteTopics({ topics: ["adm"] });
      assert.deepEqual(await admin.listTopics(), ["adm-other"]);
      assert.equal(b.broker.topic("adm"), undefined);
      for (let p = 0; p < 5; p++) assert.equal(b.broker.partition("adm", p), undefined);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
      await b.stop();
    }
  },
);

Deno.test(
  "kafkajs admin errors: existing topic, invalid names, bad replication factor",
  async () => {
    const b = await testBroker();
    const kafka = client(b);
    const admin = kafka.admin();
    const raw = await rawBroker(b);
    try {
      await admin.connect();
      assert.equal(
        await admin.createTopics({ topics: [{ topic: "dup", numPartitions: 2 }] }),
        true,
      );
      // kafkajs's admin turns an all-TOPIC_ALREADY_EXISTS failure into `false` ...
      assert.equal(
        await admin.createTopics({ topics: [{ topic: "dup", numPartitions: 2 }] }),
        false,
      );
      // ... the protocol-level answer is that error for that topic.
      const again = await raw.client.call(CreateTopicsRequest, CreateTopicsResponse, 2, {
        topics: [{
          name: "dup",
          numPartitions: 4,
          replicationFactor: 1,
          assignments: [],
          configs: [],
        }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.deepEqual((again.topics as Msg[]).map((x) => [x.errorCode, x.name]), [[
        ErrorCode.TOPIC_ALREADY_EXISTS,
        "dup",
      ]]);
      // The existing topic was not changed.
      assert.equal(b.broker.topic("dup")!.partitions, 2);

      for (const bad of ["bad name!", "..", "x".repeat(250), "slash/name"]) {
        await assert.rejects(
          admin.createTopics({ topics: [{ topic: bad, numPartitions: 1 }] }),
          (e: any) => {
            assert.deepEqual(
              e.errors?.map((x: any) => x.type),
              ["INVALID_TOPIC_EXCEPTION"],
              `${bad}: ${e}`,
            );
            return true;
          },
        );
        assert.equal(b.broker.topic(bad), undefined);
      }
      await assert.rejects(
        admin.createTopics({ topics: [{ topic: "rf3", numPartitions: 1, replicationFactor: 3 }] }),
        (e: any) => {
          assert.deepEqual(e.errors?.map((x: any) => x.type), ["INVALID_REPLICATION_FACTOR"]);
          return true;
        },
      );
      await assert.rejects(
        admin.createTopics({
          topics: [{ topic: "badcfg", configEntries: [{ name: "retention.ms", value: "soon" }] }],
        }),
        (e: any) => {
          assert.deepEqual(e.errors?.map((x: any) => x.type), ["INVALID_CONFIG"]);
          return true;
        },
      );
      assert.deepEqual(await admin.listTopics(), ["dup"]);
    } finally {
      await raw.disconnect();
      await admin.disconnect();
      await b.stop();
    }
  },
);

Deno.test(
  "kafkajs GZIP batch is stored compressed and kcat reads it back exactly",
  async () => {
    const b = await testBroker();
    const kafka = client(b);
    const admin = kafka.admin();
    const producer = kafka.producer();
    const raw = await rawBroker(b);
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "gz", numPartitions: 1 }] });
      await producer.connect();
      const n = 500;
      const base = Date.now() - 600_000;
      const messages = Array.from({ length: n }, (_, i) => ({
        partition: 0,
        key: `gk-${i}`,
        value: `gzip-value-${i}-${"abc".repeat(i % 30)}`,
        timestamp: String(base + 10 * i),
      }));
      const r = await producer.send({ topic: "gz", compression: CompressionTypes.GZIP, messages });
      assert.deepEqual(r.map((x) => [x.partition, x.errorCode, x.baseOffset]), [[0, 0, "0"]]);

      // One batch, codec bits = 1 (gzip), 500 records.
      const seg = await Deno.readFile(`${b.dataDir}/gz-0/00000000000000000000.log`);
      const view = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
      assert.equal(view.getInt16(21) & 7, 1);
      assert.equal(view.getInt32(57), n);
      assert.equal(12 + view.getInt32(8), seg.length, "exactly one batch in the segment");

      const out = decoder.decode(
        await kcat(b.address, [
          "-C",
          "-t",
          "gz",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%o|%k|%s\n",
        ]),
      );
      assert.equal(out, messages.map((m, i) => `${i}|${m.key}|${m.value}\n`).join(""));

      // A plain fetch decodes the same batch.
      const got = await raw.fetchAll("gz", 0);
      assert.equal(got.highWatermark, String(n));
      assert.deepEqual(
        got.messages.map((m) => [m.offset, str(m.key), str(m.value)]),
        messages.map((m, i) => [String(i), m.key, m.value]),
      );
      assert.deepEqual(got.messages.map((m) => m.timestamp), messages.map((m) => m.timestamp));

      // Timestamp lookups look inside the compressed batch: first record at or after a time.
      for (const [ts, offset] of [[base, "0"], [base + 55, "6"], [base + 4990, "499"]] as const) {
        assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp("gz", ts), [{
          partition: 0,
          offset,
        }]);
      }
    } finally {
      await raw.disconnect();
      await producer.disconnect();
      await admin.disconnect();
      await b.stop();
    }
  },
);

Deno.test(
  "fetch long poll: waits maxWaitTime when empty, a kafkajs append wakes it",
  async () => {
    const b = await testBroker();
    const kafka = client(b);
    const producer = kafka.producer();
    const raw = await rawBroker(b);
    try {
      await b.broker.createTopic("poll", 1);
      await producer.connect();

      let t0 = performance.now();
      const empty = await raw.fetch("poll", 0, 0, 600);
      const waited = performance.now() - t0;
      assert.deepEqual([empty.errorCode, empty.highWatermark, empty.messages.length], [0, "0", 0]);
      assert.ok(waited >= 550, `empty fetch returned after ${waited} ms`);

      // A fetch that may wait longer than the test would: only the append can answer it.
      const maxWait = 25_000;
      t0 = performance.now();
      let answered = false;
      const pending = raw.fetch("poll", 0, 0, maxWait).finally(() => answered = true);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(answered, false, "an empty fetch answered before maxWaitTime");
      await producer.send({ topic: "poll", messages: [{ partition: 0, key: "w", value: "wake" }] });
      const woken = await pending;
      const took = performance.now() - t0;
      assert.ok(took < maxWait, `woken fetch returned after ${took} ms: not woken by the append`);
      assert.equal(woken.highWatermark, "1");
      assert.deepEqual(woken.messages.map((m) => [m.offset, str(m.key), str(m.value)]), [[
        "0",
        "w",
        "wake",
      ]]);
    } finally {
      await raw.disconnect();
      await producer.disconnect();
      await b.stop();
    }
  },
);
