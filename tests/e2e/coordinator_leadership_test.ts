/**
 * Coordinators follow partition leadership: a real broker (real logs in a temp dir) with a
 * fake Leadership that moves a transactional id's `__transaction_state` partition to another
 * broker and back. FindCoordinator names the leader; while away the coordinator answers
 * NOT_COORDINATOR; back, it loads the partition from its log and the transaction goes on.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  EndTxnRequest,
  EndTxnResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  ProduceRequest,
  ProduceResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { partitionFor } from "../../src/internal_topic.ts";
import { testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import {
  describeTxn,
  kcatValues,
  latestOffset,
  waitFor,
} from "../support/e2e_transactions_fixtures.ts";
import { LeadershipTable } from "../support/fake_leadership.ts";

const TXN_TOPIC = "__transaction_state";
const OFFSETS_TOPIC = "__consumer_offsets";
const TOPIC = "moving";

function findCoordinator(port: number, keyType: number, key: string) {
  return RawClient.once(port, FindCoordinatorRequest, FindCoordinatorResponse, 4, {
    keyType,
    coordinatorKeys: [key],
  }).then((r) => {
    const c = r.coordinators[0];
    return { errorCode: c.errorCode, nodeId: c.nodeId, host: c.host, port: c.port };
  });
}

function initProducerId(port: number, id: string) {
  return RawClient.once(port, InitProducerIdRequest, InitProducerIdResponse, 4, {
    transactionalId: id,
    transactionTimeoutMs: 60_000,
    producerId: -1,
    producerEpoch: -1,
  });
}

function addPartitions(port: number, id: string, pid: number, epoch: number) {
  return RawClient.once(port, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, 3, {
    v3AndBelowTransactionalId: id,
    v3AndBelowProducerId: pid,
    v3AndBelowProducerEpoch: epoch,
    v3AndBelowTopics: [{ name: TOPIC, partitions: [0] }],
  }).then((r) => r.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode);
}

function endTxn(port: number, id: string, pid: number, epoch: number, commit: boolean) {
  return RawClient.once(port, EndTxnRequest, EndTxnResponse, 3, {
    transactionalId: id,
    producerId: pid,
    producerEpoch: epoch,
    committed: commit,
  }).then((r) => r.errorCode);
}

Deno.test("coordinators follow leadership: a transaction's partition moves away and back", async () => {
  const table = new LeadershipTable(1);
  const b = await testBroker({ config: { "node.id": 1 }, leadership: table.viewFor(1) });
  try {
    table.register(1, "127.0.0.1", b.port);
    table.register(2, "broker-two.example", 19092);
    await b.broker.createTopic(TOPIC, 1);
    const id = "mover";
    assert.deepEqual(await findCoordinator(b.port, 1, id), {
      errorCode: 0,
      nodeId: 1,
      host: "127.0.0.1",
      port: b.port,
    });
    const init = await initProducerId(b.port, id);
    assert.equal(init.errorCode, 0);
    const { producerId: pid, producerEpoch: epoch } = init;
    assert.equal(await addPartitions(b.port, id, pid, epoch), 0);
    const produced = await RawClient.once(b.port, ProduceRequest, ProduceResponse, 9, {
      transactionalId: id,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{
        name: TOPIC,
        partitionData: [{
          index: 0,
          records: encodeRecordBatch({
            isTransactional: true,
            producerId: pid,
            producerEpoch: epoch,
            baseSequence: 0,
            records: [{ value: "kept" }],
          }),
        }],
      }],
    });
    assert.equal(produced.responses[0].partitionResponses[0].errorCode, 0);

    // Away: broker 2 leads the id's partition.
    const p = partitionFor(id, 50);
    assert.equal(b.broker.transactions.partitionFor(id), p);
    table.move(TXN_TOPIC, p, 2);
    assert.deepEqual(await findCoordinator(b.port, 1, id), {
      errorCode: 0,
      nodeId: 2,
      host: "broker-two.example",
      port: 19092,
    });
    assert.equal((await initProducerId(b.port, id)).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(await addPartitions(b.port, id, pid, epoch), ErrorCode.NOT_COORDINATOR);
    assert.equal(await endTxn(b.port, id, pid, epoch, true), ErrorCode.NOT_COORDINATOR);
    assert.equal((await describeTxn(b.port, id)).errorCode, ErrorCode.NOT_COORDINATOR);
    // Another id, on a partition still led here, is unaffected.
    let other = "other-0";
    for (let i = 1; b.broker.transactions.partitionFor(other) === p; i++) other = `other-${i}`;
    assert.equal((await initProducerId(b.port, other)).errorCode, 0);

    // No leader at all: clients are told to retry.
    table.move(TXN_TOPIC, p, -1);
    assert.equal(
      (await findCoordinator(b.port, 1, id)).errorCode,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );

    // Back: the partition is loaded from the log, the ongoing transaction is there again.
    table.move(TXN_TOPIC, p, 1);
    await waitFor(
      "the partition is loaded",
      async () => (await describeTxn(b.port, id)).errorCode === 0,
    );
    const d = await describeTxn(b.port, id);
    assert.deepEqual([d.transactionState, d.producerId, d.producerEpoch], ["Ongoing", pid, epoch]);
    assert.deepEqual(d.topics, [{ topic: TOPIC, partitions: [0] }]);
    assert.equal((await findCoordinator(b.port, 1, id)).nodeId, 1);
    assert.equal(await endTxn(b.port, id, pid, epoch, true), 0);
    await waitFor(
      "the commit completes",
      async () => (await describeTxn(b.port, id)).transactionState === "CompleteCommit",
    );
    assert.equal(await latestOffset(b.port, TOPIC, 0, true), 2);
    assert.deepEqual(await kcatValues(b.address, TOPIC, 0, "read_committed"), ["kept"]);
  } finally {
    await b.stop();
  }
});

Deno.test("coordinators follow leadership: a group's partition moves away and back", async () => {
  const table = new LeadershipTable(1);
  const b = await testBroker({ config: { "node.id": 1 }, leadership: table.viewFor(1) });
  try {
    table.register(1, "127.0.0.1", b.port);
    table.register(2, "broker-two.example", 19092);
    await b.broker.createTopic(TOPIC, 2);
    const group = "g1";
    const commit = (offset: number, generation = -1, memberId = "") =>
      RawClient.once(b.port, OffsetCommitRequest, OffsetCommitResponse, 2, {
        groupId: group,
        generationIdOrMemberEpoch: generation,
        memberId,
        retentionTimeMs: -1,
        topics: [{
          name: TOPIC,
          partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: "m" }],
        }],
      }).then((r) => r.topics[0].partitions[0].errorCode);
    const fetch = () =>
      RawClient.once(b.port, OffsetFetchRequest, OffsetFetchResponse, 3, {
        groupId: group,
        topics: [{ name: TOPIC, partitionIndexes: [0] }],
      }).then((r) => ({
        errorCode: r.errorCode,
        offsets: r.topics.map((t: { partitions: { committedOffset: number }[] }) =>
          t.partitions.map((p) => p.committedOffset)
        ),
      }));
    const join = () =>
      RawClient.once(b.port, JoinGroupRequest, JoinGroupResponse, 3, {
        groupId: group,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 30_000,
        memberId: "",
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]) }],
      });
    assert.equal(await commit(7), 0);
    assert.deepEqual(await fetch(), { errorCode: 0, offsets: [[7]] });
    const joined = await join();
    assert.equal(joined.errorCode, 0);
    const synced = await RawClient.once(b.port, SyncGroupRequest, SyncGroupResponse, 3, {
      groupId: group,
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      assignments: [{ memberId: joined.memberId, assignment: new Uint8Array([0, 0]) }],
    });
    assert.equal(synced.errorCode, 0);

    // Away: FindCoordinator names broker 2; this broker answers NOT_COORDINATOR.
    const gp = partitionFor(group, 50);
    table.move(OFFSETS_TOPIC, gp, 2);
    assert.deepEqual(await findCoordinator(b.port, 0, group), {
      errorCode: 0,
      nodeId: 2,
      host: "broker-two.example",
      port: 19092,
    });
    assert.equal(await commit(8, joined.generationId, joined.memberId), ErrorCode.NOT_COORDINATOR);
    assert.deepEqual(await fetch(), { errorCode: ErrorCode.NOT_COORDINATOR, offsets: [] });
    assert.equal((await join()).errorCode, ErrorCode.NOT_COORDINATOR);
    const hb = await RawClient.once(b.port, HeartbeatRequest, HeartbeatResponse, 3, {
      groupId: group,
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
    });
    assert.equal(hb.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(b.broker.groups.group(group), undefined, "the group left memory");
    table.move(OFFSETS_TOPIC, gp, -1);
    assert.equal(
      (await findCoordinator(b.port, 0, group)).errorCode,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );

    // Back: loaded from the log, with the offset committed before (not the refused one) and
    // the member of the stored generation.
    table.move(OFFSETS_TOPIC, gp, 1);
    await waitFor("the group's partition is loaded", async () => (await fetch()).errorCode === 0);
    assert.deepEqual(await fetch(), { errorCode: 0, offsets: [[7]] });
    assert.equal(b.broker.groups.group(group)?.generationId, joined.generationId);
    // The loaded group is Stable with its member: a commit needs its generation.
    assert.equal(await commit(9), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(await commit(9, joined.generationId, joined.memberId), 0);
    assert.deepEqual(await fetch(), { errorCode: 0, offsets: [[9]] });
  } finally {
    await b.stop();
  }
});

Deno.test("FindCoordinator creates the coordinators' topic the metadata does not know yet", async () => {
  const table = new LeadershipTable(1);
  table.unknownTopics.add(TXN_TOPIC);
  const b = await testBroker({ config: { "node.id": 1 }, leadership: table.viewFor(1) });
  try {
    table.register(1, "127.0.0.1", b.port);
    assert.equal(b.broker.metadataCache.topic(TXN_TOPIC), undefined);
    assert.equal(
      (await findCoordinator(b.port, 1, "new-id")).errorCode,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    await waitFor(
      "the topic is created",
      () => b.broker.metadataCache.topic(TXN_TOPIC) !== undefined,
    );
    assert.equal(b.broker.metadataCache.topic(TXN_TOPIC)!.partitions, 50);
    // Once the metadata has leaders for it, clients are answered.
    table.unknownTopics.delete(TXN_TOPIC);
    assert.equal((await findCoordinator(b.port, 1, "new-id")).nodeId, 1);
  } finally {
    await b.stop();
  }
});
