/**
 * The broker on three Deno workers (`--workers 3`) as a child process: the admin API and
 * /metrics summed over workers, and topic deletion, re-creation and config changes through
 * kafkajs admin.
 */
import assert from "node:assert/strict";
import { ConfigResourceTypes } from "kafkajs";
import { ownerOf } from "../../src/workers/ownership.ts";
import type { BrokerProcess } from "../support/helpers.ts";
import {
  assertSpansWorkers,
  client,
  kcatOffsets,
  kcatProduce,
  kcatRead,
  logged,
  waitFor,
  withBroker,
  WORKERS,
} from "../support/workers_fixtures.ts";

// ---- 6. admin API --------------------------------------------------------------------------

async function adminUrl(b: BrokerProcess): Promise<string> {
  const line = await logged(b, /admin API and console on http:\/\/[^:]+:\d+\//);
  const m = /admin API and console on (http:\/\/[^:]+:\d+)\//.exec(line)!;
  return m[1];
}

async function getJson(url: string): Promise<any> {
  const r = await fetch(url);
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return await r.json();
}

Deno.test(
  "workers=3, admin API: partition offsets from every worker, records in summed in /metrics",
  async () => {
    await withBroker("admin", ["--admin-port", "0", "--set", "num.partitions=6"], async (b) => {
      const topic = "six-admin";
      assertSpansWorkers(topic, [0, 1, 2, 3, 4, 5]);
      const base = await adminUrl(b);
      const counts = [5, 12, 19, 26, 33, 40];
      const records = counts.map((n, p) =>
        Array.from({ length: n }, (_, i): [string, string] => [`k${i}`, `a${p}-${i}`])
      );
      await kcatProduce(b.address, topic, 0, records[0]);
      await Promise.all([1, 2, 3, 4, 5].map((p) => kcatProduce(b.address, topic, p, records[p])));

      const detail = await getJson(`${base}/v1/topics/${topic}`);
      assert.equal(detail.name, topic);
      assert.equal(detail.partitions.length, 6);
      for (const part of detail.partitions) {
        const p = part.partition;
        assert.equal(part.highWatermark, counts[p], `partition ${p} highWatermark`);
        assert.equal(part.logEndOffset, counts[p]);
        assert.equal(part.lastStableOffset, counts[p]);
        assert.equal(part.logStartOffset, 0);
        assert.ok(part.sizeBytes > 0);
      }
      // The record peek runs on each partition's owner.
      for (let p = 0; p < 6; p++) {
        const peek = await getJson(`${base}/v1/topics/${topic}/partitions/${p}/records?limit=1000`);
        assert.deepEqual(
          peek.records.map((r: { offset: number; key: string; value: string }) =>
            `${r.offset} ${r.key} ${r.value}`
          ),
          records[p].map(([k, v], i) => `${i} ${k} ${v}`),
        );
      }

      const r = await fetch(`${base}/metrics`);
      assert.equal(r.status, 200);
      const text = await r.text();
      const total = counts.reduce((a, n) => a + n, 0);
      assert.ok(
        text.split("\n").includes(`tributary_topic_records_in_total{topic="${topic}"} ${total}`),
        text.split("\n").filter((l) => l.startsWith("tributary_topic_records_in_total")).join(
          "\n",
        ),
      );
      for (let p = 0; p < 6; p++) {
        assert.ok(
          text.split("\n").includes(
            `tributary_partition_high_watermark{topic="${topic}",partition="${p}"} ${counts[p]}`,
          ),
          `high watermark of partition ${p} in /metrics`,
        );
      }
    });
  },
);

Deno.test(
  "workers=3, admin API: a topic being created is listed with every partition's offsets, never a 503",
  async () => {
    await withBroker("fresh", ["--admin-port", "0"], async (b) => {
      const base = await adminUrl(b);
      const topic = "fresh-admin";
      const partitions = 120;
      // The controller lists the topic before the other workers have opened their
      // partitions of it: listings made meanwhile ask those workers for the offsets.
      let done = false;
      const creating = fetch(`${base}/v1/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: topic, partitions }),
      }).then(async (r) => ({ status: r.status, body: await r.text() })).finally(() => {
        done = true;
      });
      const failed: string[] = [];
      const listing = async () => {
        const r = await fetch(`${base}/v1/topics`);
        const body = await r.text();
        if (r.status !== 200) failed.push(`${r.status} ${body}`);
        return r.status === 200 ? JSON.parse(body).topics.find((t: any) => t.name === topic) : null;
      };
      while (!done) await listing();
      const created = await creating;
      assert.equal(created.status, 201, created.body);
      const t = await listing();
      assert.deepEqual(failed, []);
      assert.equal(t.partitions.length, partitions);
      for (const p of t.partitions) assert.equal(p.highWatermark, 0, `partition ${p.partition}`);
    });
  },
);

// ---- 7. topic lifecycle and configs ---------------------------------------------------

Deno.test(
  "workers=3, kafkajs admin: delete and recreate a topic with fewer partitions; alter configs",
  async () => {
    await withBroker("life", ["--set", "auto.create.topics.enable=false"], async (b) => {
      const topic = "life-workers";
      const kafka = client(b.address);
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
        const oldProducer = kafka.producer();
        await oldProducer.connect();
        await oldProducer.send({
          topic,
          messages: Array.from({ length: 60 }, (_, i) => ({ partition: i % 6, value: `old-${i}` })),
        });
        await oldProducer.disconnect();
        assert.deepEqual(await kcatOffsets(b.address, topic, 6, -1), [10, 10, 10, 10, 10, 10]);

        await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
        await waitFor(
          "the topic to be gone",
          async () => !(await admin.listTopics()).includes(topic),
        );
        // Every worker's partition directory is removed.
        await waitFor("the partition directories to be removed", () => {
          for (const e of Deno.readDirSync(b.dataDir)) {
            if (e.name.startsWith(`${topic}-`)) return false;
          }
          return true;
        }, 10_000);

        await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
        const md = await admin.fetchTopicMetadata({ topics: [topic] });
        assert.equal(md.topics[0].partitions.length, 4);
        assertSpansWorkers(topic, [0, 1, 2, 3]);
        const producer = client(b.address, "life-new").producer();
        await producer.connect();
        await producer.send({
          topic,
          messages: Array.from({ length: 20 }, (_, i) => ({
            partition: i % 4,
            key: `nk${i}`,
            value: `new-${i}`,
          })),
        });
        await producer.disconnect();
        for (let p = 0; p < 4; p++) {
          const got = await kcatRead(b.address, topic, p, "%o %k %s\n");
          assert.deepEqual(
            got,
            [0, 1, 2, 3, 4].map((j) => `${j} nk${j * 4 + p} new-${j * 4 + p}`),
            `partition ${p} (worker ${ownerOf(topic, p, WORKERS)})`,
          );
        }
        assert.deepEqual(await kcatOffsets(b.address, topic, 4, -1), [5, 5, 5, 5]);
        assert.deepEqual(await kcatOffsets(b.address, topic, 4, -2), [0, 0, 0, 0]);

        // Configs: set on the controller, applied by the owners (a small segment.bytes makes
        // every partition roll segments, whichever worker owns it).
        await admin.alterConfigs({
          validateOnly: false,
          resources: [{
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: [
              { name: "retention.ms", value: "7200000" },
              { name: "segment.bytes", value: "2048" },
            ],
          }],
        });
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configNames: ["retention.ms", "segment.bytes"],
          }],
        });
        const entries = Object.fromEntries(
          described.resources[0].configEntries.map((e) => [e.configName, e.configValue]),
        );
        assert.deepEqual(entries, { "retention.ms": "7200000", "segment.bytes": "2048" });

        const big = Array.from(
          { length: 4 },
          (_, p) =>
            Array.from({ length: 24 }, (_, i): [string, string] => [
              `bk${i}`,
              `big-${p}-${i}-${"z".repeat(400)}`,
            ]),
        );
        await Promise.all(
          big.map((recs, p) =>
            kcatProduce(b.address, topic, p, recs, ["-X", "batch.num.messages=1"])
          ),
        );
        for (let p = 0; p < 4; p++) {
          const segments = [...Deno.readDirSync(`${b.dataDir}/${topic}-${p}`)]
            .filter((e) => e.name.endsWith(".log")).length;
          assert.ok(segments >= 3, `partition ${p}: ${segments} segment(s)`);
          const got = await kcatRead(b.address, topic, p, "%o %s\n");
          assert.deepEqual(got.slice(5), big[p].map(([, v], i) => `${i + 5} ${v}`));
        }
      } finally {
        await admin.disconnect().catch(() => {});
      }
    });
  },
);
