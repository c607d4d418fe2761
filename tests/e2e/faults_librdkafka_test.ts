/**
 * Fault injection seen through librdkafka (Debian's python3 confluent-kafka): Produce errors
 * are retried until delivery; COORDINATOR_NOT_AVAILABLE from FindCoordinator and JoinGroup
 * does not keep a consumer out of its group; a delayed Produce is delivered after one sent
 * later, and no sooner than the delay; dropped connections are reopened and producing continues. Python reports what
 * it saw as JSON lines; the assertions are made here.
 */
import assert from "node:assert/strict";
import { startBroker } from "../../mod.ts";
import { LineProcess, python } from "../support/helpers.ts";
import { waitFor } from "../support/wait.ts";

const PRODUCE = `
import json, sys, time
from confluent_kafka import Producer
addr, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
reports = []
def on_delivery(err, msg):
    reports.append({"err": None if err is None else err.name(), "partition": msg.partition(),
                    "offset": msg.offset(), "value": msg.value().decode(),
                    "at": time.monotonic()})
p = Producer({"bootstrap.servers": addr, "enable.idempotence": True, "acks": "all",
              "retry.backoff.ms": 50, "linger.ms": 0})
p.list_topics(timeout=10)  # connected: the time below is the produce alone
sent = time.monotonic()
for i in range(n):
    p.produce(topic, value="v%d" % i, partition=0, on_delivery=on_delivery)
left = p.flush(30)
for r in reports:
    r["elapsedMs"] = (r.pop("at") - sent) * 1000
print(json.dumps({"left": left, "reports": reports}))
`;

Deno.test("librdkafka: Produce failed with retriable errors is delivered after retries", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    topics: [{ name: "payments", partitions: 1 }],
  });
  b.faults.push({ api: "Produce", count: 2, errorCode: "NOT_LEADER_OR_FOLLOWER" });
  b.faults.push({ api: "Produce", count: 1, errorCode: "REQUEST_TIMED_OUT" });
  const out = JSON.parse(await python(PRODUCE, [b.address, "payments", "1"]));
  assert.equal(out.left, 0);
  assert.deepEqual(
    out.reports.map((r: Record<string, unknown>) => [r.err, r.partition, r.offset, r.value]),
    [[null, 0, 0, "v0"]],
  );
  // All three injected answers were taken before the one that appended.
  assert.deepEqual(b.faults.list().requests, []);
  assert.equal(b.broker.partition("payments", 0)!.highWatermark, 1);
});

const RACE = `
import json, sys, time
from confluent_kafka import Producer
addr = sys.argv[1]
order = []
def producer():
    p = Producer({"bootstrap.servers": addr, "acks": "all", "linger.ms": 0})
    p.list_topics(timeout=10)  # connected: what follows is the produce alone
    return p
slow, fast = producer(), producer()
sent = time.monotonic()
def report(err, msg):
    order.append({"topic": msg.topic(), "err": None if err is None else err.name(),
                  "offset": msg.offset(), "elapsedMs": (time.monotonic() - sent) * 1000})
slow.produce("slow", value="s", partition=0, on_delivery=report)
fast.produce("fast", value="f", partition=0, on_delivery=report)
while len(order) < 2:
    slow.poll(0.01)
    fast.poll(0.01)
print(json.dumps(order))
`;

Deno.test("librdkafka: a delayed Produce is delivered after an undelayed one sent later", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    topics: [{ name: "slow", partitions: 1 }, { name: "fast", partitions: 1 }],
  });
  const delayMs = 700;
  b.faults.push({ api: "Produce", delayMs, topic: "slow", partition: 0 });
  const order = JSON.parse(await python(RACE, [b.address]));
  // Sent first, delivered second: the delay held the slow producer's request, and only it.
  assert.deepEqual(
    order.map((r: Record<string, unknown>) => [r.topic, r.err, r.offset]),
    [["fast", null, 0], ["slow", null, 0]],
  );
  assert.ok(order[1].elapsedMs >= delayMs, `delivered after ${order[1].elapsedMs} ms`);
  assert.deepEqual(b.faults.list().requests, []);
});

const GROUP = `
import json, sys
from confluent_kafka import Consumer, Producer
addr, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
p = Producer({"bootstrap.servers": addr})
p.produce(topic, key="k", value="hello")
p.flush(10)
c = Consumer({"bootstrap.servers": addr, "group.id": group, "auto.offset.reset": "earliest",
              "session.timeout.ms": 6000, "enable.auto.commit": False})
assigned = []
c.subscribe([topic], on_assign=lambda cons, parts: assigned.extend(
    [[t.topic, t.partition] for t in parts]))
got, errors = [], []
while not got:
    m = c.poll(1.0)
    if m is None:
        continue
    if m.error():
        errors.append(m.error().name())
        continue
    got.append([m.partition(), m.offset(), m.key().decode(), m.value().decode()])
c.close()
print(json.dumps({"assigned": assigned, "got": got, "errors": errors}))
`;

Deno.test("librdkafka: COORDINATOR_NOT_AVAILABLE from FindCoordinator and JoinGroup, the group still joins", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    topics: [{ name: "jobs", partitions: 1 }],
  });
  b.faults.push({ api: "FindCoordinator", count: 2, errorCode: "COORDINATOR_NOT_AVAILABLE" });
  b.faults.push({ api: "JoinGroup", count: 2, errorCode: "COORDINATOR_NOT_AVAILABLE" });
  const out = JSON.parse(await python(GROUP, [b.address, "jobs", "faulty-group"], 90_000));
  assert.deepEqual(out.assigned, [["jobs", 0]]);
  assert.deepEqual(out.got, [[0, 0, "k", "hello"]]);
  // Each injected answer was taken: librdkafka asked again after every one.
  assert.deepEqual(b.faults.list().requests, []);
});

const RECONNECT = `
import json, sys
from confluent_kafka import Producer
addr, topic = sys.argv[1], sys.argv[2]
reports = []
p = Producer({"bootstrap.servers": addr, "enable.idempotence": True, "acks": "all",
              "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200})
def send(v):
    p.produce(topic, value=v, partition=0,
              on_delivery=lambda err, msg: reports.append(
                  [None if err is None else err.name(), msg.offset(), msg.value().decode()]))
    p.flush(30)
send("before")
print("sent", flush=True)
sys.stdin.readline()  # the broker drops every connection meanwhile
send("after")
print(json.dumps(reports), flush=True)
`;

Deno.test("librdkafka: dropped connections are reopened and producing continues", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    topics: [{ name: "audit", partitions: 1 }],
  });
  const p = new LineProcess("/usr/bin/python3", ["-c", RECONNECT, b.address, "audit"]);
  try {
    assert.equal(await p.nextLine(), "sent");
    const before = b.broker.metrics.connectionsTotal;
    const dropped = await b.faults.dropConnections();
    assert.ok(dropped >= 1, `${dropped} connections dropped`);
    await waitFor("every connection closed", () => b.broker.connections.size === 0);
    // And the next connection accepted is dropped too: librdkafka tries again.
    await b.faults.dropConnections({ next: 1 });
    await p.writeLine("go");
    const reports = JSON.parse((await p.nextLine(60_000))!);
    assert.deepEqual(reports, [[null, 0, "before"], [null, 1, "after"]]);
    assert.equal(b.faults.list().dropNextConnections, 0);
    // One connection was dropped as it was accepted (above); a later one served the produce.
    assert.ok(b.broker.metrics.connectionsTotal > before);
    assert.equal((await p.status).code, 0, await p.stderr);
  } finally {
    await p.closeStdin();
  }
});
