// Run by tests/record_errors_test.ts under the system Node.js:
//   node record_errors.js BROKERS TOPIC
// Produces 100 records in one batch to partition 0, those at indexes 3, 13, ..., 93 without
// a key, and prints one JSON array of delivery reports: { index, code, message } (code 0 for
// a delivered record).
"use strict";
const Kafka = require("node-rdkafka");

const [brokers, topic] = process.argv.slice(2);
const count = 100;

function fail(what, err) {
  process.stderr.write(`${what}: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
}
const watchdog = setTimeout(() => fail("timeout", "no result within 45 s"), 45_000);

const producer = new Kafka.Producer({
  "metadata.broker.list": brokers,
  "client.id": "tributary-node-rdkafka",
  dr_cb: true,
  // One batch: everything is queued before the linger ends.
  "linger.ms": 500,
  "batch.num.messages": 1000,
  // Record errors are permanent: no retries.
  "message.send.max.retries": 0,
});
// node-rdkafka hands delivery errors over as their librdkafka description (err2str, split
// into origin and lower-cased text) with code -1: map the description back to its code.
const err2str = require("node-rdkafka/librdkafka.js").err2str;
const codeByText = new Map();
for (const code of Object.values(Kafka.CODES.ERRORS)) {
  const parts = err2str(code).split(": ");
  const text = (parts.length > 1 ? parts[1] : parts[0]).toLowerCase();
  if (!codeByText.has(text)) codeByText.set(text, code);
}
function codeOf(err) {
  if (typeof err.code === "number" && err.code !== -1) return err.code;
  return codeByText.get(err.message) ?? -1;
}

const reports = [];
producer.on("delivery-report", (err, report) => {
  reports.push({
    index: report.opaque,
    code: err ? codeOf(err) : 0,
    message: err ? err.message : "",
  });
  if (reports.length === count) {
    clearTimeout(watchdog);
    process.stdout.write(JSON.stringify(reports) + "\n");
    producer.disconnect(() => process.exit(0));
  }
});
producer.on("event.error", (err) => fail("producer error", err));
producer.connect({ timeout: 15_000 }, (err) => {
  if (err) fail("connect", err);
  producer.setPollInterval(10);
  for (let i = 0; i < count; i++) {
    const key = i % 10 === 3 ? null : Buffer.from(`k${i}`);
    producer.produce(topic, 0, Buffer.from(`v${i}`), key, null, i);
  }
});
