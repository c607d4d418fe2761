/**
 * node-rdkafka (a current librdkafka, built from source by npm into
 * tests/clients/node_rdkafka/node_modules; `.ci/run` installs it) under the system Node.js
 * against a 2-worker broker: its default connect() asks for all topics' metadata with the
 * request layout of librdkafka 2.3+, then keyed records go out with idempotence and come
 * back exactly through a consumer group, whose commits the broker holds.
 */
import assert from "node:assert/strict";
import { OffsetFetchRequest, OffsetFetchResponse } from "../../protocol/messages/mod.ts";
import type { Msg } from "../support/msg.ts";
import { BrokerProcess, run } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { createTopic, logEndOffsets } from "../support/wire_client.ts";

const dir = new URL("../clients/node_rdkafka/", import.meta.url).pathname;
const addon = `${dir}node_modules/node-rdkafka/build/Release/node-librdkafka.node`;

interface Delivered {
  key: string;
  partition: number;
  offset: number;
}
interface Consumed extends Delivered {
  value: string;
}

Deno.test(
  "node-rdkafka: default connect(), 300 keyed records produced and consumed back exactly in a group",
  async () => {
    try {
      await Deno.stat(addon);
    } catch {
      assert.fail(
        `node-rdkafka is not built (${addon} missing): run .ci/run, or npm ci in ${dir}`,
      );
    }
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-node-rdkafka-" });
    const b = await BrokerProcess.start(dataDir);
    try {
      const topic = "rd-node";
      const partitions = 3;
      const count = 300;
      await createTopic(b.port, topic, partitions);
      const r = await run(
        "node",
        [`${dir}produce_consume.js`, b.address, topic, String(count), "g-node"],
        { timeoutMs: 60_000 },
      );
      assert.equal(r.code, 0, `node-rdkafka failed: ${r.stderr}`);
      const out = JSON.parse(new TextDecoder().decode(r.stdout)) as {
        librdkafka: string;
        delivered: Delivered[];
        consumed: Consumed[];
      };
      const [major, minor] = out.librdkafka.split(".").map(Number);
      assert.ok(major > 2 || (major === 2 && minor >= 3), `librdkafka ${out.librdkafka}`);

      // Every record delivered once, and each partition's offsets are 0..n-1.
      const keys = Array.from({ length: count }, (_, i) => `k${i}`);
      assert.deepEqual(out.delivered.map((d) => d.key).sort(), [...keys].sort());
      const byPartition = new Map<number, number[]>();
      for (const d of out.delivered) {
        byPartition.set(d.partition, [...byPartition.get(d.partition) ?? [], d.offset]);
      }
      const ends: number[] = [];
      for (let p = 0; p < partitions; p++) {
        const offsets = (byPartition.get(p) ?? []).sort((x, y) => x - y);
        assert.deepEqual(offsets, offsets.map((_, i) => i), `partition ${p} offsets`);
        ends.push(offsets.length);
      }
      assert.equal(ends.reduce((x, y) => x + y, 0), count);
      assert.deepEqual(await logEndOffsets(b.port, topic, [0, 1, 2]), ends);

      // Consumed: exactly what was delivered, where it was delivered, with its value.
      const where = new Map(out.delivered.map((d) => [d.key, `${d.partition}@${d.offset}`]));
      assert.deepEqual(
        out.consumed.map((m) => `${m.key}=${m.value} ${m.partition}@${m.offset}`).sort(),
        keys.map((k) => `${k}=v${k.slice(1)} ${where.get(k)}`).sort(),
      );

      // The group's commits are the log end offsets.
      const committed = await RawClient.once(b.port, OffsetFetchRequest, OffsetFetchResponse, 6, {
        groupId: "g-node",
        topics: [{ name: topic, partitionIndexes: [0, 1, 2] }],
      });
      assert.equal(committed.errorCode, 0);
      assert.deepEqual(
        (committed.topics[0].partitions as Msg[]).map((p) => [
          p.partitionIndex,
          p.committedOffset,
          p.errorCode,
        ]),
        ends.map((e, p) => [p, e, 0]),
      );
    } finally {
      await b.kill();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
