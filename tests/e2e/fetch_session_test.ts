/**
 * Fetch sessions (KIP-227) end to end: a raw Fetch client against a real broker, alone and on
 * two Deno workers. On workers, topic `a` lives on worker 0 and `b` on worker 1, so whichever
 * worker a connection lands on, a session on `a` alone and one on `b` alone cover both the
 * session read on the connection's worker and the one forwarded whole to the other worker,
 * and a session over both (and a four-partition topic) the read spread over workers.
 * @platformatic/kafka keeps fetch sessions (full, then incremental requests): it consumes
 * exactly, alone and on workers; confluent-kafka and kafkajs (no sessions) do too.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import {
  Consumer as PlatConsumer,
  Producer as PlatProducer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { fetchSessionsOf } from "../../src/fetch_session.ts";
import { ownerOf } from "../../src/workers/ownership.ts";
import { BrokerProcess, decoder, python, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { waitFor } from "../support/wait.ts";

/** A topic name with the given owner among two workers. */
function ownedBy(prefix: string, worker: number): string {
  for (let i = 0;; i++) {
    const name = `${prefix}-${i}`;
    if (ownerOf(name, 0, 2) === worker) return name;
  }
}

async function createTopic(port: number, name: string, partitions: number): Promise<string> {
  const r = await RawClient.once(port, CreateTopicsRequest, CreateTopicsResponse, 7, {
    topics: [{
      name,
      numPartitions: partitions,
      replicationFactor: 1,
      assignments: [],
      configs: [],
    }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal(r.topics[0].errorCode, 0, `create ${name}`);
  return r.topics[0].topicId as string;
}

async function deleteTopic(port: number, name: string): Promise<void> {
  const r = await RawClient.once(port, DeleteTopicsRequest, DeleteTopicsResponse, 4, {
    topicNames: [name],
    timeoutMs: 5000,
  });
  assert.equal(r.responses[0].errorCode, 0, `delete ${name}`);
}

/** Produces one record; returns its offset. */
async function produce(c: RawClient, topic: string, partition: number, value: string) {
  const r = await c.call(ProduceRequest, ProduceResponse, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{
      name: topic,
      partitionData: [{ index: partition, records: encodeRecordBatch({ records: [{ value }] }) }],
    }],
  });
  const p = r.responses[0].partitionResponses[0];
  assert.equal(p.errorCode, 0, `produce ${topic}-${partition}`);
  return p.baseOffset as number;
}

interface Req {
  topic: string;
  /** Topic id: the request is v13 (topics by id) when given. */
  topicId?: string;
  partition: number;
  offset: number;
}

const FETCH_V = 12;

function fetchBody(
  sessionId: number,
  sessionEpoch: number,
  parts: Req[],
  forgotten: Req[] = [],
  wait: { maxWaitMs?: number; minBytes?: number } = {},
): Msg {
  const topics: Msg[] = [];
  for (const p of parts) {
    let t = topics.find((x) => x.topic === p.topic && x.topicId === p.topicId);
    if (!t) topics.push(t = { topic: p.topic, topicId: p.topicId, partitions: [] });
    (t.partitions as Msg[]).push({
      partition: p.partition,
      currentLeaderEpoch: -1,
      fetchOffset: p.offset,
      lastFetchedEpoch: -1,
      logStartOffset: -1,
      partitionMaxBytes: 1 << 20,
    });
  }
  const forgottenTopicsData: Msg[] = [];
  for (const p of forgotten) {
    let t = forgottenTopicsData.find((x) => x.topic === p.topic && x.topicId === p.topicId);
    if (!t) forgottenTopicsData.push(t = { topic: p.topic, topicId: p.topicId, partitions: [] });
    (t.partitions as number[]).push(p.partition);
  }
  return {
    replicaId: -1,
    maxWaitMs: wait.maxWaitMs ?? 0,
    minBytes: wait.minBytes ?? 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics,
    forgottenTopicsData,
    rackId: "",
  };
}

/** One Fetch; its response. */
function fetch(
  c: RawClient,
  sessionId: number,
  sessionEpoch: number,
  parts: Req[],
  forgotten: Req[] = [],
  wait: { maxWaitMs?: number; minBytes?: number } = {},
  version = FETCH_V,
): Promise<Msg> {
  return c.call(
    FetchRequest,
    FetchResponse,
    version,
    fetchBody(sessionId, sessionEpoch, parts, forgotten, wait),
  );
}

/**
 * A response's partitions as "topic-partition hw=H err=E [values]" lines, in order (topic ids
 * mapped back to names with `names`).
 */
function summary(r: Msg, names: Map<string, string> = new Map()): string[] {
  const out: string[] = [];
  for (const t of r.responses as Msg[]) {
    const topic = t.topic || names.get(t.topicId as string) || t.topicId;
    for (const p of t.partitions as Msg[]) {
      const values: string[] = [];
      const records = p.records as Uint8Array | null;
      let off = 0;
      while (records && off < records.length) {
        const size = 12 + new DataView(records.buffer, records.byteOffset + off + 8).getInt32(0);
        const { header, records: recs } = decodeRecords(records.subarray(off, off + size));
        for (let i = 0; i < recs.length; i++) {
          values.push(`${header.baseOffset + i}:${decoder.decode(recs[i].value!)}`);
        }
        off += size;
      }
      out.push(
        `${topic}-${p.partitionIndex} hw=${p.highWatermark} err=${p.errorCode} [${
          values.join(",")
        }]`,
      );
    }
  }
  return out;
}

/**
 * The session life cycle on one connection over `parts` (each partition holds one record at
 * offset 0 when this starts; the first part gets more). `tag` keeps values distinct.
 */
async function lifeCycle(port: number, c: RawClient, parts: Req[], tag: string) {
  // Full fetch (epoch 0): every partition answered, a session created.
  const full = await fetch(c, 0, 0, parts);
  assert.equal(full.errorCode, 0);
  const id = full.sessionId as number;
  assert.ok(id > 0, `session id ${id}`);
  assert.equal(summary(full).length, parts.length);
  for (const line of summary(full)) assert.match(line, /hw=1 err=0 \[0:/);
  // Incremental, epoch 1, every position moved to 1: nothing new, an empty answer.
  const moved = parts.map((p) => ({ ...p, offset: 1 }));
  const quiet = await fetch(c, id, 1, moved);
  assert.equal(quiet.errorCode, 0);
  assert.equal(quiet.sessionId, id);
  assert.deepEqual(quiet.responses, []);
  // New data on the first partition only: epoch 2 names no partition, answers only that one.
  const first = parts[0];
  assert.equal(await produce(c, first.topic, first.partition, `${tag}-x`), 1);
  const inc = await fetch(c, id, 2, []);
  assert.equal(inc.errorCode, 0);
  assert.equal(inc.sessionId, id);
  assert.deepEqual(summary(inc), [`${first.topic}-${first.partition} hw=2 err=0 [1:${tag}-x]`]);
  // Nothing new again (the session's offset for it still 1: the client moves it to 2).
  const after = await fetch(c, id, 3, [{ ...first, offset: 2 }]);
  assert.deepEqual(after.responses, []);
  // A long poll on the session is woken by an append to the last partition and answers it.
  const last = parts[parts.length - 1];
  const polled = fetch(c, id, 4, [], [], { maxWaitMs: 10_000, minBytes: 1 });
  const writer = await RawClient.connect(port);
  try {
    await produce(writer, last.topic, last.partition, `${tag}-y`);
  } finally {
    writer.close();
  }
  const woken = await polled;
  assert.equal(woken.errorCode, 0);
  const expectHw = last === first ? 3 : 2;
  const expectOffset = last === first ? 2 : 1;
  assert.deepEqual(summary(woken), [
    `${last.topic}-${last.partition} hw=${expectHw} err=0 [${expectOffset}:${tag}-y]`,
  ]);
  // Wrong epoch, unknown id: session errors, no partitions; the session itself unharmed.
  const stale = await fetch(c, id, 4, []);
  assert.equal(stale.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
  assert.deepEqual(stale.responses, []);
  const unknownId = id === 1 ? 2 : 1;
  const unknown = await fetch(c, unknownId, 1, []);
  assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  assert.deepEqual(unknown.responses, []);
  const still = await fetch(c, id, 5, [{ ...last, offset: expectOffset + 1 }]);
  assert.equal(still.errorCode, 0);
  assert.deepEqual(still.responses, []);
  // Epoch -1 closes the session: a sessionless answer of what it names, then the id is gone.
  const closing = await fetch(c, id, -1, [{ ...first, offset: 0 }]);
  assert.equal(closing.errorCode, 0);
  assert.equal(closing.sessionId, 0);
  assert.equal(summary(closing).length, 1);
  const closed = await fetch(c, id, 6, []);
  assert.equal(closed.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
}

/** Forgotten partitions, a deleted topic in a session, and a v13 (topic id) session. */
async function topicsComeAndGo(port: number, c: RawClient, tag: string) {
  const keep = `${tag}-keep`;
  await createTopic(port, keep, 1);
  await produce(c, keep, 0, "k");
  const doomed = `${tag}-doomed`;
  const doomedId = await createTopic(port, doomed, 1);
  await produce(c, doomed, 0, "d");
  const full = await fetch(c, 0, 0, [
    { topic: keep, partition: 0, offset: 1 },
    { topic: doomed, partition: 0, offset: 1 },
  ]);
  const id = full.sessionId as number;
  assert.ok(id > 0);
  assert.deepEqual(summary(full), [`${keep}-0 hw=1 err=0 []`, `${doomed}-0 hw=1 err=0 []`]);
  await deleteTopic(port, doomed);
  // The deleted topic's partition is answered with its error, the unchanged one not at all.
  const gone = await fetch(c, id, 1, []);
  assert.equal(gone.errorCode, 0);
  assert.deepEqual(summary(gone), [
    `${doomed}-0 hw=-1 err=${ErrorCode.UNKNOWN_TOPIC_OR_PARTITION} []`,
  ]);
  // Until the client forgets it.
  const forgot = await fetch(c, id, 2, [], [{ topic: doomed, partition: 0, offset: 0 }]);
  assert.equal(forgot.errorCode, 0);
  assert.deepEqual(forgot.responses, []);

  // v13: topics by id; a deleted topic's id answers UNKNOWN_TOPIC_ID.
  const other = `${tag}-byid`;
  const otherId = await createTopic(port, other, 1);
  await produce(c, other, 0, "i");
  const names = new Map([[otherId, other], [doomedId, doomed]]);
  const byId = (topicId: string, offset: number): Req => ({
    topic: "",
    topicId,
    partition: 0,
    offset,
  });
  const f13 = await fetch(
    c,
    0,
    0,
    [byId(otherId, 0), byId(doomedId, 0)],
    [],
    {},
    13,
  );
  const id13 = f13.sessionId as number;
  assert.ok(id13 > 0);
  assert.deepEqual(summary(f13, names), [
    `${other}-0 hw=1 err=0 [0:i]`,
    `${doomed}-0 hw=-1 err=${ErrorCode.UNKNOWN_TOPIC_ID} []`,
  ]);
  // A v12 request on a topic-id session.
  const mixed = await fetch(c, id13, 1, []);
  assert.equal(mixed.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
  // Forget the unknown id, move the other on: nothing to answer.
  const f13b = await fetch(
    c,
    id13,
    1,
    [byId(otherId, 1)],
    [byId(doomedId, 0)],
    {},
    13,
  );
  assert.equal(f13b.errorCode, 0);
  assert.deepEqual(f13b.responses, []);
  await produce(c, other, 0, "j");
  const f13c = await fetch(c, id13, 2, [], [], {}, 13);
  assert.deepEqual(summary(f13c, names), [`${other}-0 hw=2 err=0 [1:j]`]);
}

/**
 * Every scenario against a broker on `port` with `workers` workers, on two connections (each
 * lands on some worker): sessions over a topic of worker 0, one of worker 1 (the same worker
 * alone), and over both plus a four-partition topic spread over the workers.
 */
async function scenarios(port: number, workers: number): Promise<void> {
  const layouts = [["a"], ["b"], ["a", "wide", "b"]];
  for (let conn = 0; conn < 2; conn++) {
    const c = await RawClient.connect(port);
    try {
      for (const [i, kinds] of layouts.entries()) {
        // Fresh topics: each partition holds exactly one record at offset 0.
        const parts: Req[] = [];
        for (const kind of kinds) {
          const prefix = `s${kind}-c${conn}l${i}`;
          const topic = kind === "wide" ? prefix : ownedBy(prefix, kind === "a" ? 0 : workers - 1);
          const n = kind === "wide" ? 4 : 1;
          await createTopic(port, topic, n);
          for (let p = 0; p < n; p++) {
            await produce(c, topic, p, `v${p}`);
            parts.push({ topic, partition: p, offset: 0 });
          }
        }
        if (workers > 1) {
          const owners = new Set(parts.map((p) => ownerOf(p.topic, p.partition, 2)));
          assert.deepEqual([...owners].sort(), i === 0 ? [0] : i === 1 ? [1] : [0, 1]);
        }
        await lifeCycle(port, c, parts, `c${conn}l${i}`);
      }
      await topicsComeAndGo(port, c, `gone${conn}`);
    } finally {
      c.close();
    }
  }
}

Deno.test(
  "fetch sessions, one broker: full, incremental, errors, close, forget, delete, v13",
  async () => {
    const b = await testBroker({});
    try {
      await scenarios(b.port, 1);
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "fetch sessions on two workers: kept on the connection's worker, read anywhere",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-sessions-" });
    const b = await BrokerProcess.start(dataDir, ["--workers", "2"]);
    try {
      await scenarios(b.port, 2);
    } finally {
      await b.kill();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

const CONFLUENT_CONSUME = `
import sys
from confluent_kafka import Consumer, TopicPartition
addr, topic, parts, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c = Consumer({"bootstrap.servers": addr, "group.id": "unused", "enable.auto.commit": False,
              "fetch.wait.max.ms": 100})
c.assign([TopicPartition(topic, p, 0) for p in range(parts)])
got = []
while len(got) < n:
    m = c.poll(10)
    if m is None:
        break
    if m.error():
        raise Exception(str(m.error()))
    got.append("%d:%d:%s" % (m.partition(), m.offset(), m.value().decode()))
c.close()
print("\\n".join(sorted(got)))
`;

Deno.test(
  "real clients on two workers (no sessions of their own): kafkajs and confluent-kafka read exactly",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-sessions-clients-" });
    const b = await BrokerProcess.start(dataDir, [
      "--workers",
      "2",
      "--set",
      "group.initial.rebalance.delay.ms=0",
    ]);
    try {
      const topic = "sess-clients";
      await createTopic(b.port, topic, 3);
      const kafka = new Kafka({
        clientId: "sessions-test",
        brokers: [b.address],
        logLevel: logLevel.NOTHING,
        retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      const producer = kafka.producer();
      await producer.connect();
      const expected: string[] = [];
      for (let p = 0; p < 3; p++) {
        const messages = Array.from({ length: 50 }, (_, i) => ({ value: `p${p}-m${i}` }));
        await producer.send({ topic, messages: messages.map((m) => ({ ...m, partition: p })) });
        expected.push(...messages.map((m, i) => `${p}:${i}:${m.value}`));
      }
      await producer.disconnect();
      expected.sort();

      const out = await python(CONFLUENT_CONSUME, [b.address, topic, "3", String(expected.length)]);
      assert.deepEqual(out.trim().split("\n"), expected);

      const consumer = kafka.consumer({ groupId: "sess-kafkajs", maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: string[] = [];
      const done = new Promise<void>((resolve) => {
        consumer.run({
          eachMessage: ({ partition, message }) => {
            got.push(`${partition}:${message.offset}:${message.value!.toString()}`);
            if (got.length === expected.length) resolve();
            return Promise.resolve();
          },
        });
      });
      await done;
      await consumer.disconnect();
      assert.deepEqual(got.sort(), expected);
    } finally {
      await b.kill();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

/**
 * @platformatic/kafka consumes a four-partition topic produced in rounds: each round arrives
 * through incremental fetches of its session. Returns after every record was seen once.
 */
async function platformaticRounds(address: string, port: number): Promise<void> {
  const topic = "sess-plat";
  await createTopic(port, topic, 4);
  const base = { bootstrapBrokers: [address], retries: 5, retryDelay: 100 };
  const producer = new PlatProducer({
    clientId: "sess-plat-producer",
    ...base,
    serializers: stringSerializers,
  });
  const consumer = new PlatConsumer({
    clientId: "sess-plat-consumer",
    groupId: "sess-plat-group",
    ...base,
    deserializers: stringDeserializers,
    sessionTimeout: 6000,
    heartbeatInterval: 300,
    maxWaitTime: 100,
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: "earliest" });
    const seen: string[] = [];
    stream.on("data", (m) => seen.push(`${m.partition}:${m.offset}:${m.value}`));
    const expected: string[] = [];
    for (let round = 0; round < 5; round++) {
      const messages = Array.from({ length: 12 }, (_, i) => ({
        topic,
        value: `r${round}-${i}`,
        partition: (round + i) % 4,
      }));
      await producer.send({ messages });
      const perPartition = new Map<number, number>();
      for (const e of expected) {
        const p = Number(e.split(":")[0]);
        perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
      }
      for (const m of messages) {
        const offset = perPartition.get(m.partition) ?? 0;
        perPartition.set(m.partition, offset + 1);
        expected.push(`${m.partition}:${offset}:${m.value}`);
      }
      await waitFor(`round ${round}`, () => seen.length >= expected.length);
    }
    assert.deepEqual([...seen].sort(), [...expected].sort());
    await stream.close();
  } finally {
    await consumer.close(true).catch(() => {});
    await producer.close().catch(() => {});
  }
}

Deno.test(
  "platformatic keeps a fetch session: consumes rounds exactly, one broker",
  async () => {
    const b = await testBroker({
      config: { "group.initial.rebalance.delay.ms": 0, "group.min.session.timeout.ms": 1000 },
    });
    try {
      await platformaticRounds(b.address, b.port);
      // Its fetches went through a session, mostly incremental.
      const cache = fetchSessionsOf(b.broker);
      assert.ok(cache.size >= 1, `sessions ${cache.size}`);
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "platformatic keeps a fetch session: consumes rounds exactly, two workers",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-sessions-plat-" });
    const b = await BrokerProcess.start(dataDir, [
      "--workers",
      "2",
      "--set",
      "group.initial.rebalance.delay.ms=0",
      "--set",
      "group.min.session.timeout.ms=1000",
    ]);
    try {
      await platformaticRounds(b.address, b.port);
    } finally {
      await b.kill();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "max.incremental.fetch.session.cache.slots bounds the sessions kept; 0 disables them",
  async () => {
    for (const slots of [1, 0]) {
      const b = await testBroker({
        config: { "max.incremental.fetch.session.cache.slots": slots },
      });
      const c = await RawClient.connect(b.port);
      try {
        await createTopic(b.port, "slots", 1);
        await produce(c, "slots", 0, "s");
        const parts = [{ topic: "slots", partition: 0, offset: 0 }];
        const first = await fetch(c, 0, 0, parts);
        assert.equal(first.errorCode, 0);
        assert.deepEqual(summary(first), ["slots-0 hw=1 err=0 [0:s]"]);
        if (slots === 0) {
          assert.equal(first.sessionId, 0);
          assert.equal(fetchSessionsOf(b.broker).size, 0);
          continue;
        }
        assert.ok(first.sessionId > 0);
        // The cache is full and its session recent: a second full fetch is served sessionless.
        const second = await fetch(c, 0, 0, parts);
        assert.equal(second.errorCode, 0);
        assert.equal(second.sessionId, 0);
        assert.deepEqual(summary(second), ["slots-0 hw=1 err=0 [0:s]"]);
        assert.equal(fetchSessionsOf(b.broker).size, 1);
        // The first session is still served.
        const inc = await fetch(c, first.sessionId, 1, [{ ...parts[0], offset: 1 }]);
        assert.equal(inc.errorCode, 0);
        assert.deepEqual(inc.responses, []);
      } finally {
        c.close();
        await b.stop();
      }
    }
  },
);

Deno.test(
  "fetch sessions at the first and last versions: v7 by name, v17 by id",
  async () => {
    const b = await testBroker({});
    const c = await RawClient.connect(b.port);
    try {
      for (const version of [7, 17]) {
        const topic = `edge-v${version}`;
        const topicId = await createTopic(b.port, topic, 2);
        const names = new Map([[topicId, topic]]);
        await produce(c, topic, 0, "a");
        await produce(c, topic, 1, "b");
        const part = (partition: number, offset: number): Req =>
          version >= 13 ? { topic: "", topicId, partition, offset } : { topic, partition, offset };
        const full = await fetch(c, 0, 0, [part(0, 0), part(1, 0)], [], {}, version);
        assert.equal(full.errorCode, 0);
        assert.ok(full.sessionId > 0);
        assert.deepEqual(summary(full, names), [
          `${topic}-0 hw=1 err=0 [0:a]`,
          `${topic}-1 hw=1 err=0 [0:b]`,
        ]);
        await produce(c, topic, 1, "c");
        const inc = await fetch(c, full.sessionId, 1, [part(0, 1), part(1, 1)], [], {}, version);
        assert.equal(inc.errorCode, 0);
        assert.equal(inc.sessionId, full.sessionId);
        assert.deepEqual(summary(inc, names), [`${topic}-1 hw=2 err=0 [1:c]`]);
      }
    } finally {
      c.close();
      await b.stop();
    }
  },
);
