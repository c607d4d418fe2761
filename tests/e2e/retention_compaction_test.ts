/**
 * Retention, DeleteRecords, compaction and runtime configuration end to end, with real
 * clients: kafkajs (AlterConfigs, DescribeConfigs, DeleteRecords, produce with timestamps),
 * @platformatic/kafka (IncrementalAlterConfigs; the confluent-kafka-python available here,
 * Debian's 1.7.0, predates incremental_alter_configs), confluent-kafka-python (DescribeConfigs
 * sources) and kcat (compressed produce, tombstones, consuming).
 */
import assert from "node:assert/strict";
import { ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import { Admin as PlatformaticAdmin } from "@platformatic/kafka";
import { decoder, kcat, python, testBroker } from "../support/helpers.ts";
import { waitFor } from "../support/wait.ts";

type Started = Awaited<ReturnType<typeof testBroker>>;

function kafka(b: Started): Kafka {
  return new Kafka({
    clientId: "tiering-e2e",
    brokers: [b.address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50 },
  });
}

/** Messages of an error and everything it wraps (cause, errors). */
function errorChain(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = e as Error & { errors?: unknown[] };
  return [
    e.message,
    ...(inner.cause ? [errorChain(inner.cause)] : []),
    ...(inner.errors ?? []).map(errorChain),
  ].join(" | ");
}

async function lowWatermark(admin: ReturnType<Kafka["admin"]>, topic: string): Promise<number> {
  const [p] = await admin.fetchTopicOffsets(topic);
  return Number(p.low);
}

/** Python confluent-kafka DescribeConfigs: {name: [value, source]} for a topic. */
async function pythonDescribe(
  address: string,
  topic: string,
): Promise<Record<string, [string, number]>> {
  const out = await python(
    `
import json, sys
from confluent_kafka.admin import AdminClient, ConfigResource
a = AdminClient({"bootstrap.servers": sys.argv[1]})
r = ConfigResource(ConfigResource.Type.TOPIC, sys.argv[2])
entries = a.describe_configs([r])[r].result(timeout=10)
print(json.dumps({k: [e.value, e.source] for k, e in entries.items()}))
`,
    [address, topic],
  );
  return JSON.parse(out);
}

Deno.test(
  "AlterConfigs lowers retention.ms at runtime; the next pass deletes; sources say TOPIC",
  async () => {
    const b = await testBroker({ config: { "log.retention.check.interval.ms": "100" } });
    const admin = kafka(b).admin();
    const producer = kafka(b).producer();
    try {
      await admin.connect();
      await producer.connect();
      await admin.createTopics({
        topics: [{
          topic: "ret",
          numPartitions: 1,
          configEntries: [{ name: "segment.bytes", value: "4096" }],
        }],
      });
      const now = Date.now();
      for (let chunk = 0; chunk < 20; chunk++) {
        await producer.send({
          topic: "ret",
          messages: Array.from({ length: 50 }, (_, j) => {
            const i = chunk * 50 + j;
            return {
              partition: 0,
              key: `k${i}`,
              value: `v${i}`,
              timestamp: String(i < 500 ? now - 2 * 3_600_000 : now),
            };
          }),
        });
      }
      assert.equal(await b.broker.logs.runRetention(), 0, "a retention pass deletes nothing");
      assert.equal(await lowWatermark(admin, "ret"), 0, "default retention keeps everything");

      await admin.alterConfigs({
        validateOnly: false,
        resources: [{
          type: ConfigResourceTypes.TOPIC,
          name: "ret",
          configEntries: [
            { name: "retention.ms", value: "3600000" },
            { name: "segment.bytes", value: "4096" },
          ],
        }],
      });
      await waitFor("time retention", async () => (await lowWatermark(admin, "ret")) > 400);
      const low = await lowWatermark(admin, "ret");
      assert.ok(low <= 500, `deleted fresh records: low ${low}`);
      const out = decoder.decode(
        await kcat(b.address, [
          "-C",
          "-t",
          "ret",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%o %k\n",
        ]),
      ).trim().split("\n");
      assert.equal(out.length, 1000 - low);
      assert.equal(out[0], `${low} k${low}`);

      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: "ret" }],
      });
      const entry = described.resources[0].configEntries.find((e) =>
        e.configName === "retention.ms"
      )!;
      assert.equal(entry.configValue, "3600000");
      assert.equal(entry.configSource, 1); // TOPIC_CONFIG
      const py = await pythonDescribe(b.address, "ret");
      assert.deepEqual(py["retention.ms"], ["3600000", 1]); // DYNAMIC_TOPIC_CONFIG
      assert.equal(py["retention.bytes"][1], 5); // DEFAULT_CONFIG

      // Invalid values are refused with INVALID_CONFIG and change nothing; kafka-python shows
      // the error message, which names the key.
      await assert.rejects(
        admin.alterConfigs({
          validateOnly: false,
          resources: [{
            type: ConfigResourceTypes.TOPIC,
            name: "ret",
            configEntries: [{ name: "retention.ms", value: "soon" }],
          }],
        }),
        (e: Error & { type?: string }) => e.type === "INVALID_CONFIG",
      );
      const refused = await python(
        `
import sys
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
r = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "ret", configs={"retention.ms": "soon"})])
print(r.resources[0][0], r.resources[0][1])
`,
        [b.address],
      );
      assert.match(refused, /^40 retention\.ms: 'soon' is not an integer/);
      assert.deepEqual((await pythonDescribe(b.address, "ret"))["retention.ms"], ["3600000", 1]);
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await b.stop();
    }
  },
);

Deno.test(
  "IncrementalAlterConfigs (platformatic) sets retention.bytes; DeleteRecords (kafkajs) survives restart",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tier-e2e-" });
    let b = await testBroker({
      dataDir,
      keepDir: true,
      config: { "log.retention.check.interval.ms": "100" },
    });
    const pAdmin = new PlatformaticAdmin({ clientId: "plat", bootstrapBrokers: [b.address] });
    let admin = kafka(b).admin();
    try {
      await admin.connect();
      await admin.createTopics({
        topics: [{
          topic: "sized",
          numPartitions: 1,
          configEntries: [{ name: "segment.bytes", value: "4096" }],
        }],
      });
      const lines = Array.from({ length: 3000 }, (_, i) => `k${i}\tvalue-${i}`);
      await kcat(b.address, ["-P", "-t", "sized", "-p", "0", "-K", "\t", "-X", "batch.size=2000"], {
        stdin: lines.join("\n") + "\n",
      });
      const log = b.broker.partition("sized", 0)!;
      const size = log.localBytes;
      assert.ok(size > 40_000, String(size));

      await pAdmin.incrementalAlterConfigs({
        resources: [{
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: "sized",
          configs: [{ name: "retention.bytes", configOperation: 0, value: "20000" }],
        }],
      } as never);
      await waitFor("size retention", () => log.localBytes <= 20_000 + 4096);
      assert.ok(log.localBytes >= 20_000 - 4096);
      const described = await pythonDescribe(b.address, "sized");
      assert.deepEqual(described["retention.bytes"], ["20000", 1]);
      assert.deepEqual(described["segment.bytes"], ["4096", 1], "incremental keeps other keys");

      // A cross-key rule broken: INVALID_CONFIG (40) naming the key.
      await assert.rejects(
        pAdmin.incrementalAlterConfigs({
          resources: [{
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: "sized",
            configs: [{ name: "local.retention.bytes", configOperation: 0, value: "999999" }],
          }],
        } as never),
        (e: unknown) => /Configuration is invalid/.test(errorChain(e)),
      );

      const low = log.logStartOffset;
      const target = low + 123;
      await admin.fetchTopicMetadata({ topics: ["sized"] }); // kafkajs needs the leader cached
      await admin.deleteTopicRecords({
        topic: "sized",
        partitions: [{ partition: 0, offset: String(target) }],
      });
      assert.equal(await lowWatermark(admin, "sized"), target);
      const first = decoder.decode(
        await kcat(b.address, [
          "-C",
          "-t",
          "sized",
          "-p",
          "0",
          "-o",
          "beginning",
          "-c",
          "1",
          "-f",
          "%o %k",
        ]),
      );
      assert.equal(first, `${target} k${target}`);

      await admin.disconnect();
      await b.close();
      b = await testBroker({ dataDir, keepDir: true });
      admin = kafka(b).admin();
      await admin.connect();
      assert.equal(await lowWatermark(admin, "sized"), target, "log start checkpointed");
      assert.deepEqual((await pythonDescribe(b.address, "sized"))["retention.bytes"], ["20000", 1]);
    } finally {
      await pAdmin.close().catch(() => {});
      await admin.disconnect().catch(() => {});
      await b.close().catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "a consumer reads a compacted topic: the last value per key; tombstones expire",
  async () => {
    const b = await testBroker({
      config: { "log.cleaner.backoff.ms": "50", "log.retention.check.interval.ms": "100" },
    });
    try {
      await b.broker.createTopic("compacted", 1, [
        ["cleanup.policy", "compact"],
        ["segment.bytes", "4096"],
        ["min.cleanable.dirty.ratio", "0.01"],
        ["delete.retention.ms", "4000"],
      ]);
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) lines.push(`key-${i % 50}\tvalue-${i}`);
      const produce = async (ls: string[], extra: string[] = []) =>
        await kcat(
          b.address,
          [
            "-P",
            "-t",
            "compacted",
            "-p",
            "0",
            "-K",
            "\t",
            "-z",
            "gzip",
            "-X",
            "batch.size=2000",
            ...extra,
          ],
          { stdin: ls.join("\n") + "\n" },
        );
      await produce(lines);
      await produce(["key-7\t"], ["-Z"]); // a tombstone (-Z: empty value is NULL)
      // Uncompressed fillers, enough to roll: the keys and the tombstone end up in closed segments.
      await produce(Array.from({ length: 400 }, (_, i) => `filler-${i}\tf${i}`), ["-z", "none"]);
      const consume = async () =>
        decoder.decode(
          await kcat(b.address, [
            "-C",
            "-t",
            "compacted",
            "-p",
            "0",
            "-o",
            "beginning",
            "-e",
            "-f",
            "%o\t%k\t%S\t%s\n",
          ]),
        ).trim().split("\n").map((l) => l.split("\t"));
      let rows = await consume();
      await waitFor("compaction", async () => {
        rows = await consume();
        return rows.filter((r) => r[1].startsWith("key-")).length === 50;
      });
      const offsets = rows.map((r) => Number(r[0]));
      assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), "offsets kept, in order");
      assert.ok(rows.length < 600, `${rows.length} records left`);
      const last = new Map<string, string | null>();
      for (const r of rows) last.set(r[1], r[2] === "-1" ? null : r[3]);
      for (let k = 0; k < 50; k++) {
        const want = k === 7 ? null : `value-${2950 + k}`;
        assert.equal(last.get(`key-${k}`), want, `key-${k}`);
      }
      // Each key of the first 3000 appears once (the active segment holds only fillers).
      assert.equal(rows.filter((r) => r[1].startsWith("key-")).length, 50);

      await waitFor("tombstone expiry", async () => {
        rows = await consume();
        return !rows.some((r) => r[1] === "key-7");
      });
      assert.equal(rows.filter((r) => r[1].startsWith("key-")).length, 49);
      // gzip batches stayed gzip.
      const log = b.broker.partition("compacted", 0)!;
      const buf = await log.read(0, 1 << 20, { minOneBatch: true });
      assert.equal(buf[22] & 7, 1, "codec of the first batch is gzip");
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "broker configs change at runtime (AlterConfigs on the broker), persisted; static ones refused",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tier-e2e-broker-" });
    let b = await testBroker({ dataDir, keepDir: true });
    let admin = kafka(b).admin();
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "plain", numPartitions: 1 }] });
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{
          type: ConfigResourceTypes.BROKER,
          name: String(b.broker.nodeId),
          configEntries: [{ name: "log.retention.ms", value: "123456" }],
        }],
      });
      assert.equal(b.broker.partition("plain", 0)!.config.retentionMs, 123456, "applied at once");
      const topic = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: "plain" }],
      });
      const e = topic.resources[0].configEntries.find((c) => c.configName === "retention.ms")!;
      assert.equal(e.configValue, "123456");
      assert.equal(e.configSource, 2); // DYNAMIC_BROKER_CONFIG
      await assert.rejects(
        admin.alterConfigs({
          validateOnly: false,
          resources: [{
            type: ConfigResourceTypes.BROKER,
            name: String(b.broker.nodeId),
            configEntries: [{ name: "num.partitions", value: "3" }],
          }],
        }),
        (err: Error & { type?: string }) => err.type === "INVALID_REQUEST",
      );
      await admin.disconnect();
      await b.close();
      b = await testBroker({ dataDir, keepDir: true });
      admin = kafka(b).admin();
      await admin.connect();
      assert.equal(b.broker.partition("plain", 0)!.config.retentionMs, 123456, "persisted");
      const broker = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.BROKER, name: String(b.broker.nodeId) }],
      });
      const be = broker.resources[0].configEntries.find((c) =>
        c.configName === "log.retention.ms"
      )!;
      assert.equal(be.configValue, "123456");
      assert.equal(be.readOnly, false);
    } finally {
      await admin.disconnect().catch(() => {});
      await b.close().catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
