// Run by tests/e2e/sasl_reauth_test.ts under the system Node.js:
//   node reauth.js BROKERS TOPIC GROUP PRODUCER_MECH:USER:PASSWORD CONSUMER_MECH:USER:PASSWORD
// A SASL_PLAINTEXT producer and consumer (librdkafka, which re-authenticates per KIP-368 at
// 90% of the broker's session lifetime) run side by side: the producer sends a keyed record
// (key kI, value vI) every 20 ms and the consumer reads them in group GROUP, until a line
// arrives on stdin; then the producer flushes, the consumer reads up to the last record and
// commits, and one JSON line is printed after a line "connected" (both clients connected): { librdkafka, delivered: [...], consumed: [...] }.
// Any client error (an authentication failure, a disconnect) ends the process with a
// non-zero status and the error on stderr: the broker closing a connection is a failure.
"use strict";
const Kafka = require("node-rdkafka");

const [brokers, topic, group, producerAuth, consumerAuth] = process.argv.slice(2);

function fail(what, err) {
  process.stderr.write(`${what}: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
}

// A hung client must not hang the test: the Deno side waits for this process to exit.
const watchdog = setTimeout(() => fail("timeout", "no result within 50 s"), 50_000);

function sasl(spec) {
  const [mechanism, user, password] = spec.split(":");
  return {
    "metadata.broker.list": brokers,
    "security.protocol": "SASL_PLAINTEXT",
    "sasl.mechanisms": mechanism,
    "sasl.username": user,
    "sasl.password": password,
    "client.id": "tributary-node-rdkafka-reauth",
  };
}

function connect(client, what) {
  return new Promise((resolve, reject) => {
    client.connect({ timeout: 15_000 }, (err, metadata) => {
      if (err) reject(new Error(`${what} connect: ${err.message}`));
      else resolve(metadata);
    });
  });
}

/** Resolves on the first line on stdin (the test's "stop"). */
const stop = new Promise((resolve) => {
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (d) => d.includes("\n") && resolve());
  process.stdin.on("end", resolve);
});

async function produce() {
  const producer = new Kafka.Producer({
    ...sasl(producerAuth),
    dr_cb: true,
    "enable.idempotence": true,
    "linger.ms": 0,
  });
  const delivered = [];
  let failed = null;
  let reports = 0;
  let sent = 0;
  let stopped = false;
  // node-rdkafka emits delivery reports from its poll loop, so flush() can call back before
  // the last report reaches JavaScript: wait for one report per record sent.
  let allReported;
  const reported = new Promise((resolve) => (allReported = resolve));
  producer.on("delivery-report", (err, report) => {
    reports++;
    if (err) failed = new Error(`delivery of ${report.key}: ${err.message}`);
    else {
      delivered.push({
        key: report.key.toString(),
        partition: report.partition,
        offset: Number(report.offset),
      });
    }
    if (stopped && reports === sent) allReported();
  });
  producer.on("event.error", (err) => fail("producer error", err));
  producer.on("disconnected", () => fail("producer", "disconnected"));
  await connect(producer, "producer");
  process.stdout.write("connected\n");
  producer.setPollInterval(10);
  const ticker = setInterval(() => {
    producer.produce(topic, null, Buffer.from(`v${sent}`), Buffer.from(`k${sent}`));
    sent++;
  }, 20);
  await stop;
  clearInterval(ticker);
  stopped = true;
  await new Promise((resolve, reject) =>
    producer.flush(10_000, (err) => (err ? reject(err) : resolve()))
  );
  // Bounded by the script's watchdog.
  if (reports !== sent) await reported;
  if (failed) throw failed;
  if (delivered.length !== sent) throw new Error(`${delivered.length} of ${sent} delivered`);
  producer.removeAllListeners("disconnected");
  await new Promise((resolve) => producer.disconnect(resolve));
  return delivered;
}

async function startConsumer() {
  const consumer = new Kafka.KafkaConsumer({
    ...sasl(consumerAuth),
    "group.id": group,
    "enable.auto.commit": false,
  }, { "auto.offset.reset": "earliest" });
  consumer.on("event.error", (err) => fail("consumer error", err));
  consumer.on("disconnected", () => fail("consumer", "disconnected"));
  await connect(consumer, "consumer");
  const consumed = [];
  let want = null;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  consumer.on("data", (m) => {
    consumed.push({
      key: m.key.toString(),
      value: m.value.toString(),
      partition: m.partition,
      offset: m.offset,
    });
    if (want !== null && consumed.length >= want) resolveDone();
  });
  consumer.subscribe([topic]);
  consumer.consume();
  return {
    async finish(count) {
      want = count;
      if (consumed.length < count) await done;
      consumer.commitSync(null);
      consumer.removeAllListeners("disconnected");
      await new Promise((resolve) => consumer.disconnect(resolve));
      return consumed;
    },
  };
}

(async () => {
  const consumer = await startConsumer();
  const delivered = await produce();
  const consumed = await consumer.finish(delivered.length);
  clearTimeout(watchdog);
  process.stdout.write(
    JSON.stringify({ librdkafka: Kafka.librdkafkaVersion, delivered, consumed }) + "\n",
  );
  process.exit(0);
})().catch((e) => fail("failed", e));
