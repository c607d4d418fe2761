/**
 * Kafka's bound on one admin request (10,000 partitions, POLICY_VIOLATION past it), and
 * creating thousands of partitions in slices: other clients are served meanwhile. A broker
 * that held every request for the length of a big creation made clients time out, and
 * kafkajs re-sends a timed-out batch under a new sequence number, which no broker can tell
 * from new data: the records were stored twice.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { BrokerProcess, decoder, kcat, testBroker } from "../support/helpers.ts";
import { Kafka, logLevel } from "kafkajs";
import { RawClient } from "../support/raw_client.ts";
import { waitFor } from "../support/wait.ts";

function grow(port: number, name: string, count: number): Promise<Msg> {
  return RawClient.once(port, CreatePartitionsRequest, CreatePartitionsResponse, 3, {
    topics: [{ name, count, assignments: null }],
    timeoutMs: 600_000,
    validateOnly: false,
  });
}

Deno.test(
  "one request creates at most 10,000 partitions: POLICY_VIOLATION past it",
  async () => {
    const b = await testBroker();
    try {
      const topic = (name: string, numPartitions: number) => ({
        name,
        numPartitions,
        replicationFactor: -1,
        assignments: [],
        configs: [],
      });
      const create = (topics: Msg[], validateOnly: boolean) =>
        RawClient.once(b.port, CreateTopicsRequest, CreateTopicsResponse, 7, {
          topics,
          timeoutMs: 5000,
          validateOnly,
        });
      let r = await create([topic("huge", 10_001)], false);
      assert.equal(r.topics[0].errorCode, ErrorCode.POLICY_VIOLATION);
      assert.equal(r.topics[0].errorMessage, "Excessively large number of partitions per request.");
      assert.equal(b.broker.topic("huge"), undefined);
      // The bound is on the whole request, as in Kafka: every topic of it is refused.
      r = await create([topic("a", 6000), topic("b", 6000), topic("c", -1)], false);
      assert.deepEqual(r.topics.map((t: Msg) => t.errorCode), [
        ErrorCode.POLICY_VIOLATION,
        ErrorCode.POLICY_VIOLATION,
        ErrorCode.POLICY_VIOLATION,
      ]);
      assert.equal(b.broker.topic("a"), undefined);
      assert.equal(b.broker.topic("c"), undefined);
      r = await create([topic("a", 5000), topic("b", 5000)], true);
      assert.deepEqual(r.topics.map((t: Msg) => t.errorCode), [0, 0]);

      await b.broker.createTopic("small", 2);
      const g = await grow(b.port, "small", 64_512);
      assert.equal(g.results[0].errorCode, ErrorCode.POLICY_VIOLATION);
      assert.match(
        g.results[0].errorMessage,
        /Unable to perform excessively large batch operation/,
      );
      assert.equal(b.broker.topic("small")!.partitions, 2);
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "a produce is answered while thousands of partitions are being created",
  async () => {
    const b = await testBroker();
    try {
      await b.broker.createTopic("busy", 1);
      await b.broker.createTopic("other", 1);
      let grown = false;
      const growing = grow(b.port, "busy", 3001).then((r) => {
        grown = true;
        return r;
      });
      // Wait until the creation is under way (its directories appear), then produce elsewhere.
      await waitFor("busy-50 to be created", () => existsSync(`${b.dataDir}/busy-50`), {
        intervalMs: 1,
      });
      const p = await RawClient.once(b.port, ProduceRequest, ProduceResponse, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{
          name: "other",
          partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: "x" }] }) }],
        }],
      });
      assert.equal(p.responses[0].partitionResponses[0].errorCode, 0);
      assert.equal(grown, false, "the produce waited for the whole creation");
      assert.equal((await growing).results[0].errorCode, 0);
      assert.equal(b.broker.topic("busy")!.partitions, 3001);
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "an idempotent kafkajs producer stores every record once while 5,000 partitions are created",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-limits-" });
    // Its own process, on one thread: the broker, not the client, is what is busy.
    const b = await BrokerProcess.start(dataDir, ["--workers", "1"]);
    try {
      await kcat(b.address, ["-P", "-t", "steady", "-p", "0"], { stdin: "seed\n" });
      await kcat(b.address, ["-P", "-t", "wide", "-p", "0"], { stdin: "seed\n" });
      const kafka = new Kafka({
        brokers: [b.address],
        logLevel: logLevel.NOTHING,
        requestTimeout: 2000,
        retry: { retries: 50, initialRetryTime: 100, maxRetryTime: 2000 },
      });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const sent: Promise<unknown>[] = [];
      let growing = true;
      const growth = grow(b.port, "wide", 5001).finally(() => (growing = false));
      let i = 0;
      while (growing || i < 50) {
        sent.push(producer.send({
          topic: "steady",
          acks: -1,
          messages: [{ value: `v${i++}`, partition: 0 }],
        }));
        await new Promise((r) => setTimeout(r, 10));
      }
      await Promise.all(sent);
      assert.equal((await growth).results[0].errorCode, 0);
      await producer.disconnect();
      const out = decoder.decode(
        await kcat(b.address, ["-C", "-t", "steady", "-p", "0", "-e", "-f", "%o %s\n"]),
      );
      const want = Array.from({ length: i }, (_, n) => `${n + 1} v${n}`);
      assert.deepEqual(out.split("\n").filter((l) => l).slice(1), want);
    } finally {
      await b.kill("SIGKILL");
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test(
  "a retried idempotent batch, on the same or another connection, is answered with the " +
    "original offset and stored once",
  async () => {
    const b = await testBroker();
    try {
      await b.broker.createTopic("idem", 1);
      const init = await RawClient.once(b.port, InitProducerIdRequest, InitProducerIdResponse, 4, {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
      });
      assert.equal(init.errorCode, 0);
      const batch = (seq: number, value: string) =>
        encodeRecordBatch({
          records: [{ value }],
          producerId: init.producerId,
          producerEpoch: init.producerEpoch,
          baseSequence: seq,
        });
      const request = (records: Uint8Array) => ({
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: "idem", partitionData: [{ index: 0, records }] }],
      });
      const a = await RawClient.connect(b.port);
      const c = await RawClient.connect(b.port);
      try {
        // Sequence 0 three times in one pipeline and once on another connection, then 1 and 0.
        const [first, again] = await Promise.all([
          a.pipeline(
            ProduceRequest,
            ProduceResponse,
            9,
            [0, 0, 0].map(() => request(batch(0, "x"))),
          ),
          c.call(ProduceRequest, ProduceResponse, 9, request(batch(0, "x"))),
        ]);
        const answers = [...first, again].map((r: Msg) => r.responses[0].partitionResponses[0]);
        assert.deepEqual(answers.map((r: Msg) => [r.errorCode, r.baseOffset]), [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, 0],
        ]);
        const next = await c.call(ProduceRequest, ProduceResponse, 9, request(batch(1, "y")));
        assert.deepEqual(
          [
            next.responses[0].partitionResponses[0].errorCode,
            next.responses[0].partitionResponses[0].baseOffset,
          ],
          [0, 1],
        );
        const old = await a.call(ProduceRequest, ProduceResponse, 9, request(batch(0, "x")));
        assert.deepEqual(
          [
            old.responses[0].partitionResponses[0].errorCode,
            old.responses[0].partitionResponses[0].baseOffset,
          ],
          [0, 0],
        );
      } finally {
        a.close();
        c.close();
      }
      assert.equal(b.broker.partition("idem", 0)!.highWatermark, 2);
    } finally {
      await b.stop();
    }
  },
);
