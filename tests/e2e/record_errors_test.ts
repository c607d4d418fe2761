/**
 * Per-record produce errors (KIP-467), as Kafka's LogValidator reports them: the partition
 * fails with INVALID_RECORD or INVALID_TIMESTAMP, `recordErrors` lists each bad record's index
 * in its batch with Kafka's message, nothing of the request's partition is appended, and a
 * producer built on a current librdkafka (node-rdkafka) fails exactly the bad records as
 * INVALID_RECORD and the rest of the batch as _INVALID_DIFFERENT_RECORD.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { ProduceRequest, ProduceResponse } from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { BrokerProcess, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { createTopic, logEndOffsets } from "../support/wire_client.ts";

const COMPACTED = [{ name: "cleanup.policy", value: "compact" }];

async function produce(
  c: RawClient,
  version: number,
  topic: string,
  records: Uint8Array,
): Promise<Msg> {
  const r = await c.call(ProduceRequest, ProduceResponse, version, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
  return r.responses[0].partitionResponses[0];
}

const keyless = (i: number) => i % 10 === 3; // 3, 13, ..., 93

/** 100 records, 10 of them (indexes 3, 13, ..., 93) without a key. */
function hundredWithTenKeyless(): Uint8Array {
  return encodeRecordBatch({
    records: Array.from({ length: 100 }, (_, i) => ({
      key: keyless(i) ? null : `k${i}`,
      value: `v${i}`,
    })),
  });
}

function keylessMessage(topic: string): string {
  return `Compacted topic cannot accept message without key in topic partition ${topic}-0`;
}

async function keylessScenario(port: number, version: number, topic: string): Promise<void> {
  await createTopic(port, topic, 1, COMPACTED);
  const c = await RawClient.connect(port);
  try {
    const p = await produce(c, version, topic, hundredWithTenKeyless());
    const message = keylessMessage(topic);
    const indexes = Array.from({ length: 100 }, (_, i) => i).filter(keyless);
    assert.deepEqual(
      [p.errorCode, p.baseOffset, p.logStartOffset],
      [ErrorCode.INVALID_RECORD, -1, 0],
    );
    assert.deepEqual(
      p.recordErrors,
      indexes.map((batchIndex) => ({ batchIndex, batchIndexErrorMessage: message })),
    );
    assert.equal(
      p.errorMessage,
      "One or more records have been rejected due to 10 record errors in total, and only " +
        "showing the first three errors at most: [" +
        [3, 13, 23].map((i) => `RecordError(batchIndex=${i}, message='${message}')`).join(", ") +
        "]",
    );
    assert.deepEqual(await logEndOffsets(port, topic, [0]), [0]);
    // A batch of keyed records is appended.
    const ok = await produce(
      c,
      version,
      topic,
      encodeRecordBatch({ records: [{ key: "a", value: "1" }, { key: "b", value: "2" }] }),
    );
    assert.deepEqual([ok.errorCode, ok.baseOffset, ok.recordErrors], [0, 0, []]);
    assert.deepEqual(await logEndOffsets(port, topic, [0]), [2]);
  } finally {
    c.close();
  }
}

Deno.test("Produce v8 and v9: 10 keyless records of 100 on a compacted topic", async () => {
  const b = await testBroker();
  try {
    await keylessScenario(b.port, 8, "compacted-v8");
    await keylessScenario(b.port, 9, "compacted-v9");
  } finally {
    await b.stop();
  }
});

Deno.test("record errors cross workers: 10 keyless records of 100 on 2 workers", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-record-errors-" });
  const b = await BrokerProcess.start(dataDir);
  try {
    // Several topics so that some land on each worker's partitions.
    for (const t of ["cw-a", "cw-b", "cw-c"]) await keylessScenario(b.port, 9, t);
  } finally {
    await b.kill();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test(
  "CreateTime out of message.timestamp.{before,after}.max.ms, per record",
  async () => {
    const b = await testBroker();
    const c = await RawClient.connect(b.port);
    try {
      await createTopic(b.port, "ts", 1, [
        { name: "message.timestamp.before.max.ms", value: "3600000" },
        { name: "message.timestamp.after.max.ms", value: "3600000" },
      ]);
      const now = Date.now();
      const hour = 3600_000;
      const stamps = [now, now + 2 * hour, now - 1000, now - 3 * hour, -1, now + hour / 2];
      const before = Date.now();
      const p = await produce(
        c,
        9,
        "ts",
        encodeRecordBatch({
          baseTimestamp: now,
          records: stamps.map((timestamp, i) => ({ key: `k${i}`, value: "v", timestamp })),
        }),
      );
      const after = Date.now();
      assert.equal(p.errorCode, ErrorCode.INVALID_TIMESTAMP);
      assert.equal(
        p.errorMessage,
        "One or more records have been rejected due to invalid timestamp",
      );
      assert.deepEqual(p.recordErrors.map((e: Msg) => e.batchIndex), [1, 3]);
      // Kafka's message, with the broker's clock between `before` and `after`.
      for (const [e, i] of [[p.recordErrors[0], 1], [p.recordErrors[1], 3]] as const) {
        const m =
          /^Timestamp (-?\d+) of message with offset (\d+) is out of range\. The timestamp should be within \[(\d+), (\d+)\]$/
            .exec(e.batchIndexErrorMessage);
        assert.ok(m, e.batchIndexErrorMessage);
        assert.deepEqual([Number(m[1]), Number(m[2])], [stamps[i], i]);
        const brokerNow = Number(m[3]) + hour;
        assert.ok(brokerNow >= before && brokerNow <= after, "the broker's now");
        assert.equal(Number(m[4]), brokerNow + hour);
      }
      assert.deepEqual(await logEndOffsets(b.port, "ts", [0]), [0]);

      // Within bounds (and -1, no timestamp): appended.
      const ok = await produce(
        c,
        9,
        "ts",
        encodeRecordBatch({
          baseTimestamp: now,
          records: [now, now - hour / 2, -1, now + hour / 2].map((timestamp, i) => ({
            key: `k${i}`,
            timestamp,
          })),
        }),
      );
      assert.deepEqual([ok.errorCode, ok.baseOffset], [0, 0]);
      assert.deepEqual(await logEndOffsets(b.port, "ts", [0]), [4]);
    } finally {
      c.close();
      await b.stop();
    }
  },
);

Deno.test(
  "log.message.timestamp.after.max.ms of 1 hour (Kafka 4.0's default) refuses records from the future",
  async () => {
    // Kafka 3.9's default is unbounded, so the bound is set here.
    const b = await testBroker({ config: { "log.message.timestamp.after.max.ms": 3600_000 } });
    const c = await RawClient.connect(b.port);
    try {
      await createTopic(b.port, "future", 1);
      await createTopic(b.port, "future-compacted", 1, COMPACTED);
      const now = Date.now();
      const far = now + 2 * 3600_000;
      let p = await produce(
        c,
        9,
        "future",
        encodeRecordBatch({
          records: [{ value: "a", timestamp: now }, { value: "b", timestamp: far }],
        }),
      );
      assert.equal(p.errorCode, ErrorCode.INVALID_TIMESTAMP);
      assert.deepEqual(p.recordErrors.map((e: Msg) => e.batchIndex), [1]);
      // Old timestamps are fine by default (before.max.ms is unbounded).
      p = await produce(
        c,
        9,
        "future",
        encodeRecordBatch({ records: [{ value: "old", timestamp: 1 }] }),
      );
      assert.deepEqual([p.errorCode, p.baseOffset], [0, 0]);

      // A record without a key and one from the future in one batch of a compacted topic: each
      // record reports its first fault (the key), the partition INVALID_TIMESTAMP.
      p = await produce(
        c,
        9,
        "future-compacted",
        encodeRecordBatch({
          records: [
            { key: null, value: "x", timestamp: far },
            { key: "k", value: "y", timestamp: far },
            { key: "k", value: "z", timestamp: now },
          ],
        }),
      );
      assert.equal(p.errorCode, ErrorCode.INVALID_TIMESTAMP);
      assert.deepEqual(p.recordErrors.map((e: Msg) => e.batchIndex), [0, 1]);
      assert.equal(p.recordErrors[0].batchIndexErrorMessage, keylessMessage("future-compacted"));
      assert.ok(
        p.recordErrors[1].batchIndexErrorMessage.startsWith(
          `Timestamp ${far} of message with offset 1 is out of range.`,
        ),
        p.recordErrors[1].batchIndexErrorMessage,
      );
    } finally {
      c.close();
      await b.stop();
    }
  },
);

Deno.test(
  "node-rdkafka: 10 keyless records of 100 to a compacted topic fail as INVALID_RECORD, 90 as collateral",
  async () => {
    const dir = new URL("../clients/node_rdkafka/", import.meta.url).pathname;
    try {
      await Deno.stat(`${dir}node_modules/node-rdkafka/build/Release/node-librdkafka.node`);
    } catch {
      assert.fail(`node-rdkafka is not built: run .ci/run, or npm ci in ${dir}`);
    }
    const b = await testBroker();
    try {
      await createTopic(b.port, "rd-compacted", 1, COMPACTED);
      const r = await run("node", [`${dir}record_errors.js`, b.address, "rd-compacted"], {
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, `node-rdkafka failed: ${r.stderr}`);
      const reports = JSON.parse(new TextDecoder().decode(r.stdout)) as {
        index: number;
        code: number;
        message: string;
      }[];
      assert.equal(reports.length, 100);
      reports.sort((x, y) => x.index - y.index);
      assert.deepEqual(
        reports.map((x) => [x.index, x.code]),
        reports.map((_, i) => [i, keyless(i) ? ErrorCode.INVALID_RECORD : -138]),
      );
      assert.deepEqual(await logEndOffsets(b.port, "rd-compacted", [0]), [0]);
    } finally {
      await b.stop();
    }
  },
);
