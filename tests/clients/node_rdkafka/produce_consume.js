// Run by tests/e2e_node_rdkafka_test.ts under the system Node.js:
//   node produce_consume.js BROKERS TOPIC COUNT GROUP
// Produces COUNT keyed records (key kI, value vI) with node-rdkafka's default connect(),
// which asks for the metadata of all topics, then consumes them in consumer group GROUP,
// commits, and prints one JSON line: { librdkafka, delivered: [...], consumed: [...] }.
// Any client error ends the process with a non-zero status and the error on stderr.
"use strict";
const Kafka = require("node-rdkafka");

const [brokers, topic, countArg, group] = process.argv.slice(2);
const count = Number(countArg);

function fail(what, err) {
  process.stderr.write(`${what}: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
}

// A hung client must not hang the test: the Deno side waits for this process to exit.
const watchdog = setTimeout(() => fail("timeout", "no result within 45 s"), 45_000);

function connect(client, what) {
  return new Promise((resolve, reject) => {
    client.connect({ timeout: 15_000 }, (err, metadata) => {
      if (err) reject(new Error(`${what} connect: ${err.message}`));
      else resolve(metadata);
    });
  });
}

async function produce() {
  const producer = new Kafka.Producer({
    "metadata.broker.list": brokers,
    "client.id": "tributary-node-rdkafka",
    dr_cb: true,
    "enable.idempotence": true,
    "linger.ms": 5,
  });
  const delivered = [];
  const done = new Promise((resolve, reject) => {
    producer.on("delivery-report", (err, report) => {
      if (err) return reject(new Error(`delivery of ${report.key}: ${err.message}`));
      delivered.push({
        key: report.key.toString(),
        partition: report.partition,
        offset: Number(report.offset),
      });
      if (delivered.length === count) resolve();
    });
  });
  producer.on("event.error", (err) => fail("producer error", err));
  const metadata = await connect(producer, "producer");
  if (!metadata.topics.some((t) => t.name === topic)) {
    throw new Error(`all-topics metadata lacks ${topic}: ${JSON.stringify(metadata.topics)}`);
  }
  producer.setPollInterval(10);
  for (let i = 0; i < count; i++) {
    producer.produce(topic, null, Buffer.from(`v${i}`), Buffer.from(`k${i}`));
  }
  await done;
  await new Promise((resolve, reject) =>
    producer.flush(10_000, (err) => (err ? reject(err) : resolve()))
  );
  await new Promise((resolve) => producer.disconnect(resolve));
  return delivered;
}

async function consume() {
  const consumer = new Kafka.KafkaConsumer({
    "metadata.broker.list": brokers,
    "group.id": group,
    "client.id": "tributary-node-rdkafka",
    "enable.auto.commit": false,
  }, { "auto.offset.reset": "earliest" });
  consumer.on("event.error", (err) => fail("consumer error", err));
  await connect(consumer, "consumer");
  const consumed = [];
  await new Promise((resolve, reject) => {
    consumer.on("data", (m) => {
      consumed.push({
        key: m.key.toString(),
        value: m.value.toString(),
        partition: m.partition,
        offset: m.offset,
      });
      if (consumed.length === count) resolve();
    });
    consumer.subscribe([topic]);
    consumer.consume();
    consumer.on("disconnected", () => reject(new Error("consumer disconnected")));
  });
  consumer.commitSync(null);
  await new Promise((resolve) => {
    consumer.removeAllListeners("disconnected");
    consumer.disconnect(resolve);
  });
  return consumed;
}

(async () => {
  const delivered = await produce();
  const consumed = await consume();
  clearTimeout(watchdog);
  process.stdout.write(
    JSON.stringify({ librdkafka: Kafka.librdkafkaVersion, delivered, consumed }) + "\n",
  );
  process.exit(0);
})().catch((e) => fail("failed", e));
