/**
 * WriteTxnMarkers (API 27) over the wire, as another broker's transaction coordinator sends
 * it: transactional batches produced without a coordinator here, then ended by raw
 * WriteTxnMarkers requests; read_committed readers (ListOffsets and kcat) see exactly the
 * committed records, and each partition's error is Kafka's.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  ProduceRequest,
  ProduceResponse,
  WriteTxnMarkersRequest,
  WriteTxnMarkersResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { kcatValues, latestOffset } from "../support/e2e_transactions_fixtures.ts";
import { LeadershipTable } from "../support/fake_leadership.ts";

const TOPIC = "markers";

/** The error code of a ListOffsets (latest) for one partition. */
async function listOffsetsError(port: number, topic: string, partition: number) {
  const r = await RawClient.once(port, ListOffsetsRequest, ListOffsetsResponse, 5, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: -1 }] }],
  });
  return r.topics[0].partitions[0].errorCode;
}

/** A transactional batch of `values` by a producer with no transactional id in the request. */
async function produceTxn(
  port: number,
  partition: number,
  producerId: number,
  values: string[],
  baseSequence = 0,
) {
  const r = await RawClient.once(port, ProduceRequest, ProduceResponse, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{
      name: TOPIC,
      partitionData: [{
        index: partition,
        records: encodeRecordBatch({
          isTransactional: true,
          producerId,
          producerEpoch: 0,
          baseSequence,
          records: values.map((value) => ({ value })),
        }),
      }],
    }],
  });
  const p = r.responses[0].partitionResponses[0];
  assert.equal(p.errorCode, 0, p.errorMessage);
  return p.baseOffset as number;
}

function writeMarkers(port: number, version: number, markers: Msg[]) {
  return RawClient.once(port, WriteTxnMarkersRequest, WriteTxnMarkersResponse, version, {
    markers,
  }).then((r) => r.markers as Msg[]);
}

const marker = (
  producerId: number,
  commit: boolean,
  topics: { name: string; partitionIndexes: number[] }[],
  producerEpoch = 0,
) => ({ producerId, producerEpoch, transactionResult: commit, topics, coordinatorEpoch: 3 });

Deno.test("wire: WriteTxnMarkers commits and aborts on this broker; read_committed sees exactly the committed records", async () => {
  const table = new LeadershipTable(1);
  const b = await testBroker({ config: { "node.id": 1 }, leadership: table.viewFor(1) });
  try {
    table.register(1, "127.0.0.1", b.port);
    await b.broker.createTopic(TOPIC, 3);
    const versions = await RawClient.once(b.port, ApiVersionsRequest, ApiVersionsResponse, 2, {});
    const api27 = versions.apiKeys.find((k: Msg) => k.apiKey === 27);
    assert.deepEqual([api27.minVersion, api27.maxVersion], [0, 1]);

    assert.equal(await produceTxn(b.port, 0, 7001, ["c1", "c2"]), 0);
    assert.equal(await produceTxn(b.port, 1, 7002, ["a1", "a2", "a3"]), 0);
    assert.equal(await produceTxn(b.port, 2, 7003, ["x"]), 0);
    // Open transactions hold the last stable offset at their first offset.
    assert.deepEqual(
      await Promise.all([0, 1].map((p) => latestOffset(b.port, TOPIC, p, true))),
      [0, 0],
    );

    // v1 (flexible): commit on partition 0, abort on partition 1, and partitions that fail.
    table.move(TOPIC, 2, 2); // led by broker 2, which is not this one
    const r1 = await writeMarkers(b.port, 1, [
      marker(7001, true, [{ name: TOPIC, partitionIndexes: [0, 9] }, {
        name: "no-such-topic",
        partitionIndexes: [0],
      }]),
      marker(7002, false, [{ name: TOPIC, partitionIndexes: [1] }]),
      marker(7003, true, [{ name: TOPIC, partitionIndexes: [2] }]),
      marker(-1, true, [{ name: TOPIC, partitionIndexes: [0] }]),
      marker(7003, true, [{ name: TOPIC, partitionIndexes: [0] }], -1),
    ]);
    assert.deepEqual(r1, [
      {
        producerId: 7001,
        topics: [
          {
            name: TOPIC,
            partitions: [
              { partitionIndex: 0, errorCode: 0 },
              { partitionIndex: 9, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
            ],
          },
          {
            name: "no-such-topic",
            partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
          },
        ],
      },
      {
        producerId: 7002,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 1, errorCode: 0 }] }],
      },
      {
        producerId: 7003,
        topics: [{
          name: TOPIC,
          partitions: [{ partitionIndex: 2, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }],
        }],
      },
      {
        producerId: -1,
        topics: [{
          name: TOPIC,
          partitions: [{ partitionIndex: 0, errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING }],
        }],
      },
      {
        producerId: 7003,
        topics: [{
          name: TOPIC,
          partitions: [{ partitionIndex: 0, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH }],
        }],
      },
    ]);
    // Each marker took one offset after the records: the transactions are closed.
    assert.deepEqual(
      await Promise.all([0, 1].map((p) => latestOffset(b.port, TOPIC, p, true))),
      [3, 4],
    );
    assert.deepEqual(
      await Promise.all([0, 1].map((p) => latestOffset(b.port, TOPIC, p, false))),
      [3, 4],
    );
    // Another broker leads partition 2: ListOffsets is not served here either.
    assert.equal(await listOffsetsError(b.port, TOPIC, 2), ErrorCode.NOT_LEADER_OR_FOLLOWER);

    // Back to this broker. Partition 2 was not written: its transaction is still open.
    table.move(TOPIC, 2, 1);
    assert.equal(await latestOffset(b.port, TOPIC, 2, true), 0);
    assert.equal(await latestOffset(b.port, TOPIC, 2, false), 1);

    // v0 (not flexible) ends it with an abort.
    const r0 = await writeMarkers(b.port, 0, [
      marker(7003, false, [{ name: TOPIC, partitionIndexes: [2] }]),
    ]);
    assert.deepEqual(r0, [
      {
        producerId: 7003,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 2, errorCode: 0 }] }],
      },
    ]);
    assert.equal(await latestOffset(b.port, TOPIC, 2, true), 2);

    // A marker from an older coordinator (epoch 2, after one of epoch 3) is fenced, as Kafka's
    // producer state refuses it; the current coordinator's goes in.
    assert.equal(await produceTxn(b.port, 0, 7001, ["c3"], 2), 3);
    const fenced = await writeMarkers(b.port, 1, [{
      ...marker(7001, true, [{ name: TOPIC, partitionIndexes: [0] }]),
      coordinatorEpoch: 2,
    }]);
    assert.equal(
      fenced[0].topics[0].partitions[0].errorCode,
      ErrorCode.TRANSACTION_COORDINATOR_FENCED,
    );
    assert.equal(await latestOffset(b.port, TOPIC, 0, true), 3);
    const current = await writeMarkers(b.port, 1, [
      marker(7001, true, [{ name: TOPIC, partitionIndexes: [0] }]),
    ]);
    assert.equal(current[0].topics[0].partitions[0].errorCode, 0);
    assert.equal(await latestOffset(b.port, TOPIC, 0, true), 5);

    assert.deepEqual(await kcatValues(b.address, TOPIC, 0, "read_committed"), ["c1", "c2", "c3"]);
    assert.deepEqual(await kcatValues(b.address, TOPIC, 1, "read_committed"), []);
    assert.deepEqual(await kcatValues(b.address, TOPIC, 1, "read_uncommitted"), ["a1", "a2", "a3"]);
    assert.deepEqual(await kcatValues(b.address, TOPIC, 2, "read_committed"), []);
  } finally {
    await b.stop();
  }
});
