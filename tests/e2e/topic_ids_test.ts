/**
 * Topics named by id, as Kafka decides: Metadata v12 by a non-zero id whatever the name
 * beside it (the Java client 3.9 sends ""), DeleteTopics v6 by name or id (never both), Fetch
 * v13+ by id; and DescribeTopicPartitions (the Java admin client's describeTopics), with its
 * cursor and partition limit.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse,
  FetchRequest,
  FetchResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { BrokerProcess, decoder, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { createTopic } from "../support/wire_client.ts";

const ZERO = "AAAAAAAAAAAAAAAAAAAAAA";
/** A well-formed id no topic has. */
const UNKNOWN_ID = "AAAAAAAAAAAAAAAAAAAAAQ";
const ALL_TOPIC_OPERATIONS = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) |
  (1 << 10) | (1 << 11);

async function metadata(c: RawClient, version: number, topics: Msg[] | null): Promise<Msg> {
  return await c.call(MetadataRequest, MetadataResponse, version, {
    topics,
    allowAutoTopicCreation: true,
    includeTopicAuthorizedOperations: false,
  });
}

async function topicIdOf(c: RawClient, name: string): Promise<string> {
  const r = await metadata(c, 12, [{ topicId: ZERO, name }]);
  assert.equal(r.topics[0].errorCode, 0);
  return r.topics[0].topicId;
}

const summary = (t: Msg) => [t.errorCode, t.name, t.topicId, t.partitions.length];

Deno.test(
  "Metadata v12 by topic id with an empty name, as the Java client asks",
  async () => {
    const b = await testBroker({ config: { "auto.create.topics.enable": "true" } });
    const c = await RawClient.connect(b.port);
    try {
      await createTopic(b.port, "by-id", 3);
      await createTopic(b.port, "other", 1);
      const id = await topicIdOf(c, "by-id");
      const other = await topicIdOf(c, "other");

      // The Java client's describeTopics(TopicCollection.ofTopicIds(...)): name "" beside the id.
      let r = await metadata(c, 12, [{ topicId: id, name: "" }]);
      assert.deepEqual(r.topics.map(summary), [[0, "by-id", id, 3]]);
      assert.deepEqual(r.topics[0].partitions.map((p: Msg) => p.partitionIndex), [0, 1, 2]);
      // A null name, two ids, a repeated id: each known id once, in request order.
      r = await metadata(c, 12, [
        { topicId: other, name: null },
        { topicId: id, name: "" },
        { topicId: other, name: "" },
      ]);
      assert.deepEqual(r.topics.map(summary), [[0, "other", other, 1], [0, "by-id", id, 3]]);
      // An unknown id: UNKNOWN_TOPIC_ID, name null, the id echoed; nothing is created from "".
      r = await metadata(c, 12, [{ topicId: UNKNOWN_ID, name: "" }, { topicId: id, name: "" }]);
      assert.deepEqual(r.topics.map(summary), [
        [ErrorCode.UNKNOWN_TOPIC_ID, null, UNKNOWN_ID, 0],
        [0, "by-id", id, 3],
      ]);
      // With an id present, names are not looked at (nor auto-created).
      r = await metadata(c, 12, [{ topicId: id, name: "" }, { topicId: ZERO, name: "fresh" }]);
      assert.deepEqual(r.topics.map(summary), [[0, "by-id", id, 3]]);
      assert.equal(b.broker.topic("fresh"), undefined);
      assert.equal(b.broker.topic(""), undefined);
      // By name still works (and auto-creates).
      r = await metadata(c, 12, [{ topicId: ZERO, name: "fresh" }]);
      assert.deepEqual(r.topics.map((t: Msg) => [t.errorCode, t.name]), [[0, "fresh"]]);

      // v10–11 carry ids but may not ask by them: INVALID_REQUEST for the whole request.
      for (const v of [10, 11]) {
        r = await metadata(c, v, [{ topicId: id, name: "by-id" }, {
          topicId: ZERO,
          name: "other",
        }]);
        assert.deepEqual(r.topics.map(summary), [
          [ErrorCode.INVALID_REQUEST, "by-id", id, 0],
          [ErrorCode.INVALID_REQUEST, "other", ZERO, 0],
        ]);
        assert.deepEqual(r.brokers, []);
        r = await metadata(c, v, [{ topicId: ZERO, name: null }]);
        assert.deepEqual(r.topics.map(summary), [[ErrorCode.INVALID_REQUEST, "", ZERO, 0]]);
      }
    } finally {
      c.close();
      await b.stop();
    }
  },
);

Deno.test("DeleteTopics v6: by name or by id, never both, never twice", async () => {
  const b = await testBroker();
  const c = await RawClient.connect(b.port);
  try {
    for (const t of ["d1", "d2", "d3", "d4"]) await createTopic(b.port, t, 1);
    const [d1, d2, d3] = [
      await topicIdOf(c, "d1"),
      await topicIdOf(c, "d2"),
      await topicIdOf(c, "d3"),
    ];
    const del = (topics: Msg[]) =>
      c.call(DeleteTopicsRequest, DeleteTopicsResponse, 6, { topics, timeoutMs: 5000 });
    const rows = (r: Msg) =>
      (r.responses as Msg[]).map((x) => [x.name, x.topicId, x.errorCode, x.errorMessage]);

    // Name and id together (the name "" included): INVALID_REQUEST, nothing deleted.
    let r = await del([{ name: "", topicId: d1 }, { name: "d2", topicId: d2 }]);
    assert.deepEqual(rows(r), [
      ["", d1, ErrorCode.INVALID_REQUEST, "You may not specify both topic name and topic id."],
      ["d2", d2, ErrorCode.INVALID_REQUEST, "You may not specify both topic name and topic id."],
    ]);
    // Neither; a name twice; an id twice: INVALID_REQUEST, nothing deleted.
    r = await del([
      { name: null, topicId: ZERO },
      { name: "d4", topicId: ZERO },
      { name: "d4", topicId: ZERO },
      { name: null, topicId: d3 },
      { name: null, topicId: d3 },
    ]);
    assert.deepEqual(rows(r), [
      [null, ZERO, ErrorCode.INVALID_REQUEST, "Neither topic name nor id were specified."],
      ["d4", ZERO, ErrorCode.INVALID_REQUEST, "Duplicate topic name."],
      [null, d3, ErrorCode.INVALID_REQUEST, "Duplicate topic id."],
    ]);
    assert.deepEqual(b.broker.topics().map((t) => t.name).sort(), ["d1", "d2", "d3", "d4"]);

    // By id (name null, as the Java client sends), by name, and an unknown id.
    r = await del([
      { name: null, topicId: d1 },
      { name: "d2", topicId: ZERO },
      { name: null, topicId: UNKNOWN_ID },
    ]);
    assert.deepEqual(
      (r.responses as Msg[]).map((x) => [x.name, x.topicId, x.errorCode]),
      [["d1", d1, 0], ["d2", d2, 0], [null, UNKNOWN_ID, ErrorCode.UNKNOWN_TOPIC_ID]],
    );
    assert.deepEqual(b.broker.topics().map((t) => t.name).sort(), ["d3", "d4"]);
  } finally {
    c.close();
    await b.stop();
  }
});

Deno.test(
  "Fetch v13 by topic id on 2 workers: known ids read, unknown ids UNKNOWN_TOPIC_ID",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-topic-ids-" });
    const b = await BrokerProcess.start(dataDir);
    const c = await RawClient.connect(b.port);
    try {
      await createTopic(b.port, "f", 2);
      const id = await topicIdOf(c, "f");
      for (const p of [0, 1]) {
        const r = await c.call(ProduceRequest, ProduceResponse, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5000,
          topicData: [{
            name: "f",
            partitionData: [{
              index: p,
              records: encodeRecordBatch({ records: [{ key: `k${p}`, value: `v${p}` }] }),
            }],
          }],
        });
        assert.equal(r.responses[0].partitionResponses[0].errorCode, 0);
      }
      const part = (partition: number) => ({
        partition,
        currentLeaderEpoch: -1,
        fetchOffset: 0,
        lastFetchedEpoch: -1,
        logStartOffset: -1,
        partitionMaxBytes: 1 << 20,
      });
      const r = await c.call(FetchRequest, FetchResponse, 13, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          { topicId: id, partitions: [part(0), part(1)] },
          { topicId: UNKNOWN_ID, partitions: [part(0)] },
        ],
        forgottenTopicsData: [],
        rackId: "",
      });
      assert.equal(r.errorCode, 0);
      assert.deepEqual(r.responses.map((t: Msg) => t.topicId), [id, UNKNOWN_ID]);
      const known = r.responses[0].partitions as Msg[];
      assert.deepEqual(
        known.map((p) => {
          const { records } = decodeRecords(p.records);
          return [
            p.partitionIndex,
            p.errorCode,
            p.highWatermark,
            decoder.decode(records[0].value!),
          ];
        }),
        [[0, 0, 1, "v0"], [1, 0, 1, "v1"]],
      );
      assert.deepEqual(
        r.responses[1].partitions.map((p: Msg) => [p.partitionIndex, p.errorCode]),
        [[0, ErrorCode.UNKNOWN_TOPIC_ID]],
      );
    } finally {
      c.close();
      await b.kill();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

async function describe(
  c: RawClient,
  topics: string[],
  limit: number,
  cursor: { topicName: string; partitionIndex: number } | null = null,
): Promise<Msg> {
  return await c.call(DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse, 0, {
    topics: topics.map((name) => ({ name })),
    responsePartitionLimit: limit,
    cursor,
  });
}

/** [name, error, [partition indexes]] per topic, and the next cursor. */
function pages(r: Msg): unknown {
  return {
    topics: (r.topics as Msg[]).map((t) => [
      t.name,
      t.errorCode,
      (t.partitions as Msg[]).map((p) => p.partitionIndex),
    ]),
    next: r.nextCursor && [r.nextCursor.topicName, r.nextCursor.partitionIndex],
  };
}

Deno.test(
  "DescribeTopicPartitions: names sorted, partition limit, cursor paging",
  async () => {
    const b = await testBroker({ config: { "max.request.partition.size.limit": "5" } });
    const c = await RawClient.connect(b.port);
    try {
      await createTopic(b.port, "tb", 3);
      await createTopic(b.port, "ta", 2);
      await createTopic(b.port, "tc", 1);
      const ids = { ta: b.broker.topic("ta")!.topicId, tb: b.broker.topic("tb")!.topicId };

      // All topics, 4 partitions per page.
      let r = await describe(c, [], 4);
      assert.deepEqual(pages(r), {
        topics: [["ta", 0, [0, 1]], ["tb", 0, [0, 1]]],
        next: ["tb", 2],
      });
      const ta = r.topics[0];
      assert.deepEqual(
        [ta.topicId, ta.isInternal, ta.topicAuthorizedOperations],
        [ids.ta, false, ALL_TOPIC_OPERATIONS],
      );
      assert.deepEqual(ta.partitions[1], {
        errorCode: 0,
        partitionIndex: 1,
        leaderId: b.broker.nodeId,
        leaderEpoch: 0,
        replicaNodes: [b.broker.nodeId],
        isrNodes: [b.broker.nodeId],
        eligibleLeaderReplicas: [],
        lastKnownElr: [],
        offlineReplicas: [],
      });
      assert.equal(r.topics[1].topicId, ids.tb);
      r = await describe(c, [], 4, { topicName: "tb", partitionIndex: 2 });
      assert.deepEqual(pages(r), { topics: [["tb", 0, [2]], ["tc", 0, [0]]], next: null });
      // A page that ends exactly at a topic's end points at the next topic's first partition.
      r = await describe(c, [], 2);
      assert.deepEqual(pages(r), { topics: [["ta", 0, [0, 1]]], next: ["tb", 0] });
      // The broker's max.request.partition.size.limit (5) caps the client's limit; 0 means 1.
      r = await describe(c, [], 2000);
      assert.deepEqual(pages(r), {
        topics: [["ta", 0, [0, 1]], ["tb", 0, [0, 1, 2]]],
        next: ["tc", 0],
      });
      r = await describe(c, [], 0);
      assert.deepEqual(pages(r), { topics: [["ta", 0, [0]]], next: ["ta", 1] });

      // By name: unknown and invalid names get errors, in name order with the others.
      r = await describe(c, ["tc", "nope", "bad/name", "ta"], 100);
      assert.deepEqual(pages(r), {
        topics: [
          ["bad/name", ErrorCode.INVALID_TOPIC_EXCEPTION, []],
          ["nope", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []],
          ["ta", 0, [0, 1]],
          ["tc", 0, [0]],
        ],
        next: null,
      });
      assert.equal(r.topics[1].topicId, ZERO);
      // By name with a cursor: topics before the cursor's are left out.
      r = await describe(c, ["tc", "ta", "tb"], 100, { topicName: "tb", partitionIndex: 1 });
      assert.deepEqual(pages(r), { topics: [["tb", 0, [1, 2]], ["tc", 0, [0]]], next: null });

      // A cursor topic not asked for, or a negative cursor partition: INVALID_REQUEST.
      r = await describe(c, ["ta", "tc"], 100, { topicName: "tb", partitionIndex: 0 });
      assert.deepEqual(pages(r), {
        topics: [["ta", ErrorCode.INVALID_REQUEST, []], ["tc", ErrorCode.INVALID_REQUEST, []]],
        next: null,
      });
      r = await describe(c, [], 100, { topicName: "ta", partitionIndex: -1 });
      assert.deepEqual(pages(r), { topics: [], next: null });
      r = await describe(c, ["ta"], 100, { topicName: "ta", partitionIndex: -1 });
      assert.deepEqual(pages(r), { topics: [["ta", ErrorCode.INVALID_REQUEST, []]], next: null });
    } finally {
      c.close();
      await b.stop();
    }
  },
);
