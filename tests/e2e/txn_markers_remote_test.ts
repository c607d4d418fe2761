/**
 * Transaction markers across brokers: two real in-process brokers on loopback sharing a fake
 * Leadership. Broker 1 coordinates the transaction; one of its partitions is led by broker 2,
 * so EndTxn writes that partition's marker with WriteTxnMarkers over TCP (src/client/), and
 * the transaction completes only once broker 2 has it. Records produced to broker 2 are
 * verified there by asking broker 1 (AddPartitionsToTxn v4 verify-only).
 */
import assert from "node:assert/strict";
import {
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  EndTxnRequest,
  EndTxnResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  ProduceRequest,
  ProduceResponse,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
} from "../../protocol/messages/mod.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { partitionFor } from "../../src/internal_topic.ts";
import { endTxnMarkerBatch } from "../../src/txn/txn_log_store.ts";
import { testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import {
  describeTxn,
  kcatValues,
  latestOffset,
  waitFor,
} from "../support/e2e_transactions_fixtures.ts";
import { LeadershipTable } from "../support/fake_leadership.ts";

const TOPIC = "span";
const OFFSETS_TOPIC = "__consumer_offsets";

type Started = Awaited<ReturnType<typeof testBroker>>;

async function twoBrokers(table: LeadershipTable): Promise<[Started, Started]> {
  const b1 = await testBroker({ config: { "node.id": 1 }, leadership: table.viewFor(1) });
  const b2 = await testBroker({ config: { "node.id": 2 }, leadership: table.viewFor(2) });
  table.register(1, "127.0.0.1", b1.port);
  table.register(2, "127.0.0.1", b2.port);
  // Each broker has its own catalogue until cluster mode shares one: the topic on both.
  await b1.broker.createTopic(TOPIC, 2);
  await b2.broker.createTopic(TOPIC, 2);
  return [b1, b2];
}

async function produce(
  port: number,
  transactionalId: string | null,
  partition: number,
  producerId: number,
  producerEpoch: number,
  baseSequence: number,
  values: string[],
) {
  const r = await RawClient.once(port, ProduceRequest, ProduceResponse, 9, {
    transactionalId,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{
      name: TOPIC,
      partitionData: [{
        index: partition,
        records: encodeRecordBatch({
          isTransactional: true,
          producerId,
          producerEpoch,
          baseSequence,
          records: values.map((value) => ({ value })),
        }),
      }],
    }],
  });
  return r.responses[0].partitionResponses[0];
}

async function beginTxn(port: number, transactionalId: string, partitions = [0, 1]) {
  const init = await RawClient.once(port, InitProducerIdRequest, InitProducerIdResponse, 4, {
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.equal(init.errorCode, 0);
  const add = await RawClient.once(port, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, 3, {
    v3AndBelowTransactionalId: transactionalId,
    v3AndBelowProducerId: init.producerId,
    v3AndBelowProducerEpoch: init.producerEpoch,
    v3AndBelowTopics: [{ name: TOPIC, partitions }],
  });
  assert.deepEqual(
    add.resultsByTopicV3AndBelow[0].resultsByPartition.map((p: { partitionErrorCode: number }) =>
      p.partitionErrorCode
    ),
    partitions.map(() => 0),
  );
  return { producerId: init.producerId as number, producerEpoch: init.producerEpoch as number };
}

function endTxn(
  port: number,
  transactionalId: string,
  pid: number,
  epoch: number,
  commit: boolean,
) {
  return RawClient.once(port, EndTxnRequest, EndTxnResponse, 3, {
    transactionalId,
    producerId: pid,
    producerEpoch: epoch,
    committed: commit,
  });
}

Deno.test("two brokers: EndTxn on the coordinator writes the marker on the other broker's partition", async () => {
  const table = new LeadershipTable(1);
  const [b1, b2] = await twoBrokers(table);
  try {
    table.move(TOPIC, 1, 2);
    // Committed transaction.
    const t1 = await beginTxn(b1.port, "span-commit");
    assert.equal(
      (await produce(b1.port, "span-commit", 0, t1.producerId, t1.producerEpoch, 0, ["p0-a"]))
        .errorCode,
      0,
    );
    assert.equal(
      (await produce(b2.port, "span-commit", 1, t1.producerId, t1.producerEpoch, 0, [
        "p1-a",
        "p1-b",
      ]))
        .errorCode,
      0,
    );
    assert.equal(await latestOffset(b2.port, TOPIC, 1, true), 0);
    assert.equal(
      (await endTxn(b1.port, "span-commit", t1.producerId, t1.producerEpoch, true)).errorCode,
      0,
    );
    await waitFor(
      "the transaction completes",
      async () => (await describeTxn(b1.port, "span-commit")).transactionState === "CompleteCommit",
    );
    // Broker 2 has the marker (records 0-1, marker 2); broker 1 has its own.
    assert.equal(await latestOffset(b2.port, TOPIC, 1, true), 3);
    assert.equal(await latestOffset(b1.port, TOPIC, 0, true), 2);
    assert.deepEqual(await kcatValues(b2.address, TOPIC, 1, "read_committed"), ["p1-a", "p1-b"]);
    assert.deepEqual(await kcatValues(b1.address, TOPIC, 0, "read_committed"), ["p0-a"]);

    // Aborted transaction, whose marker cannot be delivered at first: broker 2 is not in the
    // metadata (not alive) when EndTxn comes, so the transaction stays in PrepareAbort until
    // it is back.
    const t2 = await beginTxn(b1.port, "span-abort");
    assert.equal(
      (await produce(b2.port, "span-abort", 1, t2.producerId, t2.producerEpoch, 0, ["p1-x"]))
        .errorCode,
      0,
    );
    table.endpoints.delete(2);
    assert.equal(
      (await endTxn(b1.port, "span-abort", t2.producerId, t2.producerEpoch, false)).errorCode,
      0,
    );
    assert.equal((await describeTxn(b1.port, "span-abort")).transactionState, "PrepareAbort");
    assert.equal(await latestOffset(b2.port, TOPIC, 1, true), 3);
    table.register(2, "127.0.0.1", b2.port);
    await waitFor(
      "the transaction completes",
      async () => (await describeTxn(b1.port, "span-abort")).transactionState === "CompleteAbort",
    );
    assert.equal(await latestOffset(b2.port, TOPIC, 1, true), 5);
    assert.deepEqual(await kcatValues(b2.address, TOPIC, 1, "read_committed"), ["p1-a", "p1-b"]);
    assert.deepEqual(await kcatValues(b2.address, TOPIC, 1, "read_uncommitted"), [
      "p1-a",
      "p1-b",
      "p1-x",
    ]);
  } finally {
    await b1.stop();
    await b2.stop();
  }
});

Deno.test("two brokers: a partition leader verifies a transactional produce with the coordinator on the other broker", async () => {
  const table = new LeadershipTable(1);
  const [b1, b2] = await twoBrokers(table);
  try {
    table.move(TOPIC, 1, 2);
    // Only partition 0 is in the transaction: broker 2 asks broker 1 and refuses partition 1.
    const t = await beginTxn(b1.port, "verify", [0]);
    const notAdded = await produce(b2.port, "verify", 1, t.producerId, t.producerEpoch, 0, ["x"]);
    assert.deepEqual([notAdded.errorCode, notAdded.errorMessage], [
      ErrorCode.INVALID_TXN_STATE,
      "Partition was not added to the transaction",
    ]);
    // A fenced epoch and an unknown producer id, as the coordinator answers them.
    const fenced = await produce(b2.port, "verify", 1, t.producerId, t.producerEpoch + 1, 0, ["x"]);
    assert.equal(fenced.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    const unknown = await produce(b2.port, "no-such-id", 1, t.producerId, t.producerEpoch, 0, [
      "x",
    ]);
    assert.equal(unknown.errorCode, ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    // The coordinator not alive: retriable for the producer.
    table.endpoints.delete(1);
    const away = await produce(b2.port, "verify", 1, t.producerId, t.producerEpoch, 0, ["x"]);
    assert.equal(away.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
    table.register(1, "127.0.0.1", b1.port);
    // Nothing was written on broker 2.
    assert.equal(await latestOffset(b2.port, TOPIC, 1, false), 0);

    // Once added, the same batch is accepted; the abort's marker then closes it.
    const add = await RawClient.once(
      b1.port,
      AddPartitionsToTxnRequest,
      AddPartitionsToTxnResponse,
      3,
      {
        v3AndBelowTransactionalId: "verify",
        v3AndBelowProducerId: t.producerId,
        v3AndBelowProducerEpoch: t.producerEpoch,
        v3AndBelowTopics: [{ name: TOPIC, partitions: [1] }],
      },
    );
    assert.equal(add.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode, 0);
    const ok = await produce(b2.port, "verify", 1, t.producerId, t.producerEpoch, 0, ["y"]);
    assert.deepEqual([ok.errorCode, ok.baseOffset], [0, 0]);
    assert.equal(
      (await endTxn(b1.port, "verify", t.producerId, t.producerEpoch, false)).errorCode,
      0,
    );
    await waitFor(
      "the abort completes",
      async () => (await describeTxn(b1.port, "verify")).transactionState === "CompleteAbort",
    );
    assert.equal(await latestOffset(b2.port, TOPIC, 1, true), 2);
    assert.deepEqual(await kcatValues(b2.address, TOPIC, 1, "read_committed"), []);
  } finally {
    await b1.stop();
    await b2.stop();
  }
});

Deno.test("remote verification: a marker for the producer that lands while the coordinator is asked makes the answer stale", async () => {
  const table = new LeadershipTable(1);
  const b2 = await testBroker({ config: { "node.id": 2 }, leadership: table.viewFor(2) });
  try {
    table.register(2, "127.0.0.1", b2.port);
    await b2.broker.createTopic(TOPIC, 2);
    table.move(TOPIC, 0, 2); // broker 2 leads the data partition, broker 1 coordinates
    // The coordinator (broker 1) answers NONE, but only after a marker for the producer was
    // written here (as a coordinator's WriteTxnMarkers would between question and answer).
    const asked: string[] = [];
    b2.broker.replicaManager.remoteTxn = {
      leadership: table.viewFor(2),
      verifier: {
        async verify(coordinatorId, transactionalId, producerId, _epoch, topic, partition) {
          asked.push(`${coordinatorId}/${transactionalId}/${producerId}/${topic}-${partition}`);
          await b2.broker.replicaManager.appendMarker(
            topic,
            partition,
            endTxnMarkerBatch(producerId, 0, false, 0),
          );
          return ErrorCode.NONE;
        },
      },
    };
    const r = await produce(b2.port, "stale", 0, 4242, 0, 0, ["late"]);
    assert.deepEqual(asked, [`1/stale/4242/${TOPIC}-0`]);
    assert.deepEqual([r.errorCode, r.errorMessage], [
      ErrorCode.INVALID_TXN_STATE,
      "Partition was not added to the transaction",
    ]);
    // Only the marker is in the log; no transaction was left open.
    assert.equal(await latestOffset(b2.port, TOPIC, 0, false), 1);
    assert.equal(await latestOffset(b2.port, TOPIC, 0, true), 1);
  } finally {
    await b2.stop();
  }
});

Deno.test("two brokers: offsets committed in a transaction whose group coordinator is the other broker", async () => {
  const table = new LeadershipTable(1);
  const group = "remote-group";
  // The group's __consumer_offsets partition is led by broker 2 from the start.
  table.move(OFFSETS_TOPIC, partitionFor(group, 50), 2);
  const [b1, b2] = await twoBrokers(table);
  try {
    // Both catalogues have the offsets topic (cluster mode shares one).
    await b1.broker.createTopic(OFFSETS_TOPIC, 50);
    const t = await beginTxn(b1.port, "offsets-txn", [0]);
    const addOffsets = await RawClient.once(
      b1.port,
      AddOffsetsToTxnRequest,
      AddOffsetsToTxnResponse,
      3,
      {
        transactionalId: "offsets-txn",
        producerId: t.producerId,
        producerEpoch: t.producerEpoch,
        groupId: group,
      },
    );
    assert.equal(addOffsets.errorCode, 0);
    const txnCommit = (transactionalId: string, offset: number) =>
      RawClient.once(b2.port, TxnOffsetCommitRequest, TxnOffsetCommitResponse, 3, {
        transactionalId,
        groupId: group,
        producerId: t.producerId,
        producerEpoch: t.producerEpoch,
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        topics: [{
          name: TOPIC,
          partitions: [{
            partitionIndex: 0,
            committedOffset: offset,
            committedLeaderEpoch: -1,
            committedMetadata: null,
          }],
        }],
      }).then((r) => r.topics[0].partitions[0].errorCode);
    const fetch = () =>
      RawClient.once(b2.port, OffsetFetchRequest, OffsetFetchResponse, 3, {
        groupId: group,
        topics: [{ name: TOPIC, partitionIndexes: [0] }],
      }).then((r) => [r.errorCode, r.topics[0].partitions[0].committedOffset]);
    // Broker 2 coordinates the group but not the transaction: it asks broker 1.
    assert.equal(await txnCommit("no-such-txn", 5), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(await txnCommit("offsets-txn", 42), 0);
    assert.deepEqual(await fetch(), [0, -1], "pending until the transaction commits");
    assert.equal(
      (await endTxn(b1.port, "offsets-txn", t.producerId, t.producerEpoch, true)).errorCode,
      0,
    );
    await waitFor(
      "the commit completes",
      async () => (await describeTxn(b1.port, "offsets-txn")).transactionState === "CompleteCommit",
    );
    // The marker reached broker 2's offsets partition by WriteTxnMarkers: the offset is in.
    assert.deepEqual(await fetch(), [0, 42]);
    assert.equal(b1.broker.groups.coordinatorError(group), ErrorCode.NOT_COORDINATOR);
  } finally {
    await b1.stop();
    await b2.stop();
  }
});
