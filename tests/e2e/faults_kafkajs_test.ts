/**
 * Fault injection seen through kafkajs: Produce failed twice with a retriable error is retried
 * and lands once; a non-retriable error rejects the send with it; a hang holds answers back
 * until it ends; dropped connections are reopened.
 */
// npm packages are imported by npm: specifier (the project keeps no import map).
// deno-lint-ignore-file no-import-prefix
import assert from "node:assert/strict";
import { Kafka, logLevel } from "npm:kafkajs@2.2.4";
import { startBroker } from "../../mod.ts";
import { waitFor } from "../support/wait.ts";

function kafkaFor(address: string) {
  return new Kafka({
    brokers: [address],
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, retries: 5 },
  });
}

Deno.test("kafkajs: two NOT_LEADER_OR_FOLLOWER Produce answers are retried, the record lands once", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    topics: [{ name: "orders", partitions: 1 }],
  });
  const kafka = kafkaFor(b.address);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const pushed = b.faults.push({
      api: "Produce",
      count: 2,
      errorCode: "NOT_LEADER_OR_FOLLOWER",
      topic: "orders",
    });
    assert.equal(pushed.errorCode, 6);
    assert.equal(pushed.remaining, 2);
    const meta = await producer.send({
      topic: "orders",
      messages: [{ key: "k", value: "only-once" }],
    });
    assert.deepEqual(meta.map((m) => [m.partition, m.errorCode, m.baseOffset]), [[0, 0, "0"]]);
    // Both injected answers were taken: kafkajs sent the request three times.
    assert.deepEqual(b.faults.list().requests, []);
    const offsets = await admin.fetchTopicOffsets("orders");
    assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]), [[0, "0", "1"]]);

    const consumer = kafka.consumer({ groupId: "faults-once" });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: "orders", fromBeginning: true });
      const seen: [string, string, string][] = [];
      await consumer.run({
        eachMessage: ({ message }) => {
          seen.push([message.offset, message.key!.toString(), message.value!.toString()]);
          return Promise.resolve();
        },
      });
      await waitFor("the record consumed", () => seen.length >= 1);
      assert.deepEqual(seen, [["0", "k", "only-once"]]);
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});

Deno.test("kafkajs: a non-retriable TOPIC_AUTHORIZATION_FAILED rejects the send", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    topics: [{ name: "secret", partitions: 1 }],
  });
  const kafka = kafkaFor(b.address);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    b.faults.push({ api: "Produce", errorCode: "TOPIC_AUTHORIZATION_FAILED" });
    await assert.rejects(
      producer.send({ topic: "secret", messages: [{ value: "x" }] }),
      (e: Error & { type?: string; cause?: { type?: string }; retriable?: boolean }) => {
        const type = e.type ?? e.cause?.type;
        assert.equal(type, "TOPIC_AUTHORIZATION_FAILED", `${e.name}: ${e.message}`);
        return true;
      },
    );
    // Nothing was appended: the fault answered instead of the handler.
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets("secret");
    await admin.disconnect();
    assert.deepEqual(offsets.map((o) => o.high), ["0"]);
    // The next send is answered normally.
    const meta = await producer.send({ topic: "secret", messages: [{ value: "y" }] });
    assert.equal(meta[0].baseOffset, "0");
  } finally {
    await producer.disconnect();
  }
});

Deno.test("kafkajs: a hang holds the answer until it ends; dropped connections reconnect", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    topics: [{ name: "events", partitions: 2 }],
  });
  const kafka = kafkaFor(b.address);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const hangMs = 400;
    let hangOver = false;
    b.faults.hang(hangMs);
    assert.notEqual(b.faults.list().hangingUntil, null);
    const timer = new Promise<void>((r) => setTimeout(() => r(void (hangOver = true)), hangMs));
    const topics = await admin.listTopics();
    // The answer came only once the hang was over (the timer of the same length fired first).
    assert.equal(hangOver, true);
    await timer;
    assert.deepEqual(topics.filter((t) => !t.startsWith("__")), ["events"]);
    assert.equal(b.faults.list().hangingUntil, null);

    const before = b.broker.metrics.connectionsTotal;
    const dropped = await b.faults.dropConnections();
    assert.ok(dropped >= 1, `${dropped} connections dropped`);
    await waitFor("connections closed", () => b.broker.connections.size === 0);
    const md = await admin.fetchTopicMetadata({ topics: ["events"] });
    assert.equal(md.topics[0].partitions.length, 2);
    assert.ok(b.broker.metrics.connectionsTotal > before, "kafkajs opened a new connection");
  } finally {
    await admin.disconnect();
  }
});
