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
  InitProducerIdRequest,
  InitProducerIdResponse,
  ProduceRequest,
  ProduceResponse,
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

    // Groups: FindCoordinator names the leader of the group's __consumer_offsets partition.
    const gp = partitionFor("g1", 50);
    table.move(OFFSETS_TOPIC, gp, 2);
    assert.deepEqual(await findCoordinator(b.port, 0, "g1"), {
      errorCode: 0,
      nodeId: 2,
      host: "broker-two.example",
      port: 19092,
    });
    table.move(OFFSETS_TOPIC, gp, 1);
    assert.equal((await findCoordinator(b.port, 0, "g1")).nodeId, 1);
  } finally {
    await b.stop();
  }
});
