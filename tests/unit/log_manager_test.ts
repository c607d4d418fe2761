import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import {
  LogManager,
  randomUuid,
  uuidFromString,
  uuidToString,
  validateTopicName,
} from "../../storage/log_manager.ts";

function batch(value: string): Uint8Array {
  return encodeRecordBatch({ records: [{ value, timestamp: Date.now() }] });
}

async function rejectsWith(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof KafkaError && e.code === code);
}

Deno.test("uuids use Kafka's 22-character base64url form", () => {
  const id = randomUuid();
  assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  assert.equal(uuidFromString(id).length, 16);
  assert.equal(uuidToString(uuidFromString(id)), id);
  assert.equal(uuidToString(new Uint8Array(16)), "AAAAAAAAAAAAAAAAAAAAAA");
});

Deno.test("topic names follow Kafka's rules", () => {
  for (const ok of ["a", "orders.v1", "my_topic-2", "x".repeat(249)]) validateTopicName(ok);
  for (const bad of ["", ".", "..", "a b", "ü", "x".repeat(250), "a/b"]) {
    assert.throws(
      () => validateTopicName(bad),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_TOPIC_EXCEPTION,
    );
  }
});

Deno.test("LogManager persists cluster id, node id and topics across restarts", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "log-manager-" });
  const lm = await LogManager.open(dataDir, { nodeId: 3 });
  assert.match(lm.clusterId, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(lm.nodeId, 3);
  const props = await Deno.readTextFile(`${dataDir}/meta/meta.properties`);
  assert.match(props, new RegExp(`^cluster\\.id=${lm.clusterId}$`, "m"));
  assert.match(props, /^node\.id=3$/m);

  const orders = await lm.createTopic("orders", 3, { "segment.bytes": "1048576" });
  assert.equal(orders.partitions, 3);
  assert.match(orders.topicId, /^[A-Za-z0-9_-]{22}$/);
  await lm.createTopic("logs.app", 1, { "message.timestamp.type": "LogAppendTime" });
  assert.equal(lm.topicConfig("orders")!.segmentBytes, 1048576);
  assert.equal(lm.topicConfig("logs.app")!.messageTimestampType, "LogAppendTime");
  for (let p = 0; p < 3; p++) {
    assert.ok(Deno.statSync(`${dataDir}/orders-${p}`).isDirectory);
    const meta = Deno.readTextFileSync(`${dataDir}/orders-${p}/partition.metadata`);
    assert.match(meta, new RegExp(`topic_id: ${orders.topicId}`));
  }
  await lm.getPartition("orders", 1)!.append(batch("hello"));
  await lm.getPartition("orders", 1)!.append(batch("world"));
  assert.equal(lm.getPartition("orders", 3), undefined);
  assert.equal(lm.getPartition("nope", 0), undefined);
  await lm.flushAll();
  await lm.close();

  const again = await LogManager.open(dataDir);
  assert.equal(again.clusterId, lm.clusterId);
  assert.equal(again.nodeId, 3);
  assert.deepEqual(again.listTopics().map((t) => t.name).sort(), ["logs.app", "orders"]);
  assert.equal(again.getTopic("orders")!.topicId, orders.topicId);
  assert.equal(again.getTopicById(orders.topicId)!.name, "orders");
  assert.deepEqual(again.getTopic("orders")!.configs, { "segment.bytes": "1048576" });
  assert.equal(again.topicConfig("logs.app")!.messageTimestampType, "LogAppendTime");
  assert.equal(again.getPartition("orders", 1)!.logEndOffset, 2);
  assert.equal((await again.getPartition("orders", 1)!.append(batch("!"))).baseOffset, 2);
  await again.close();

  await assert.rejects(LogManager.open(dataDir, { nodeId: 4 }), /node.id/);
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("createTopic validation errors", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "log-manager-" });
  const lm = await LogManager.open(dataDir);
  await lm.createTopic("a.b", 1);
  await rejectsWith(lm.createTopic("a.b", 1), ErrorCode.TOPIC_ALREADY_EXISTS);
  await rejectsWith(lm.createTopic("a_b", 1), ErrorCode.INVALID_TOPIC_EXCEPTION);
  await rejectsWith(lm.createTopic("bad name", 1), ErrorCode.INVALID_TOPIC_EXCEPTION);
  await rejectsWith(lm.createTopic("zero", 0), ErrorCode.INVALID_PARTITIONS);
  await rejectsWith(
    lm.createTopic("cfg", 1, { "message.timestamp.type": "Sometime" }),
    ErrorCode.INVALID_CONFIG,
  );
  assert.deepEqual(lm.listTopics().map((t) => t.name), ["a.b"]);
  await lm.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("deleteTopic removes directories; a recreated topic starts empty with a new id", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "log-manager-" });
  const lm = await LogManager.open(dataDir);
  const first = await lm.createTopic("t", 2);
  const log = lm.getPartition("t", 0)!;
  await log.append(batch("old"));
  await lm.deleteTopic("t");
  await rejectsWith(log.append(batch("late")), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(lm.getTopic("t"), undefined);
  assert.equal(lm.getPartition("t", 0), undefined);
  assert.throws(() => Deno.statSync(`${dataDir}/t-0`));
  await rejectsWith(lm.deleteTopic("t"), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

  const second = await lm.createTopic("t", 1);
  assert.notEqual(second.topicId, first.topicId);
  assert.equal(lm.getPartition("t", 0)!.logEndOffset, 0);
  await lm.close();
  const again = await LogManager.open(dataDir);
  assert.equal(again.getTopic("t")!.partitions, 1);
  assert.equal(again.getTopic("t")!.topicId, second.topicId);
  await again.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("createPartitions grows a topic and persists the new count", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "log-manager-" });
  const lm = await LogManager.open(dataDir);
  await lm.createTopic("grow", 2);
  await rejectsWith(lm.createPartitions("grow", 2), ErrorCode.INVALID_PARTITIONS);
  await rejectsWith(lm.createPartitions("missing", 4), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const t = await lm.createPartitions("grow", 5);
  assert.equal(t.partitions, 5);
  await lm.getPartition("grow", 4)!.append(batch("x"));
  await lm.close();
  const again = await LogManager.open(dataDir);
  assert.equal(again.getTopic("grow")!.partitions, 5);
  assert.equal(again.getPartition("grow", 4)!.logEndOffset, 1);
  await again.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("stray partition directories from interrupted operations are removed on open", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "log-manager-" });
  const lm = await LogManager.open(dataDir);
  const kept = await lm.createTopic("kept", 1);
  await lm.close();
  // A directory of a topic the catalogue never recorded, a leftover "-delete" directory, a
  // partition beyond the topic's count and an unrelated directory without partition.metadata.
  for (const [dir, id] of [["ghost-0", randomUuid()], ["kept-1", kept.topicId]]) {
    Deno.mkdirSync(`${dataDir}/${dir}`);
    Deno.writeTextFileSync(`${dataDir}/${dir}/partition.metadata`, `version: 0\ntopic_id: ${id}\n`);
  }
  Deno.mkdirSync(`${dataDir}/old-0.abc-delete`);
  Deno.mkdirSync(`${dataDir}/unrelated`);
  const again = await LogManager.open(dataDir);
  const names = [...Deno.readDirSync(dataDir)].map((e) => e.name).sort();
  assert.deepEqual(names, ["kept-0", "meta", "unrelated"]);
  await again.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("updateTopicConfig applies to open partitions and is persisted", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "log-manager-" });
  const lm = await LogManager.open(dataDir);
  await lm.createTopic("c", 1);
  const log = lm.getPartition("c", 0)!;
  assert.equal(log.config.messageTimestampType, "CreateTime");
  lm.updateTopicConfig("c", { "message.timestamp.type": "LogAppendTime", "retention.ms": 1000 });
  assert.equal(log.config.messageTimestampType, "LogAppendTime");
  assert.equal(log.config.retentionMs, 1000);
  const r = await log.append(batch("stamped"), { now: 12345 });
  assert.equal(r.logAppendTime, 12345);
  await lm.close();
  const again = await LogManager.open(dataDir);
  assert.deepEqual(again.getTopic("c")!.configs, {
    "message.timestamp.type": "LogAppendTime",
    "retention.ms": 1000,
  });
  assert.equal(again.getPartition("c", 0)!.config.messageTimestampType, "LogAppendTime");
  await again.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("a new partition is a directory and partition.metadata; its .log comes with the first write, and a crash before or after it opens the same log", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lm-lazy-log-" });
  const names = (p: number) => [...Deno.readDirSync(`${dir}/t-${p}`)].map((e) => e.name).sort();
  try {
    const lm = await LogManager.open(dir);
    await lm.createTopic("t", 2);
    assert.deepEqual(names(0), ["partition.metadata"]);
    await lm.getPartition("t", 1)!.append(batch("a"));
    assert.ok(names(1).includes("00000000000000000000.log"));
    // No close: the next open recovers both as after a crash.
    const again = await LogManager.open(dir);
    assert.equal(again.getPartition("t", 0)!.logEndOffset, 0);
    assert.equal(again.getPartition("t", 1)!.logEndOffset, 1);
    await again.getPartition("t", 0)!.append(batch("b"));
    assert.equal(again.getPartition("t", 0)!.logEndOffset, 1);
    await again.close();
    await lm.close().catch(() => {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
