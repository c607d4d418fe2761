/**
 * Transaction markers across brokers: two real in-process brokers on loopback sharing a fake
 * Leadership. Broker 1 coordinates the transaction; one of its partitions is led by broker 2,
 * so EndTxn writes that partition's marker with WriteTxnMarkers over TCP (src/client/), and
 * the transaction completes only once broker 2 has it. Records produced to broker 2 are
 * verified there by asking broker 1 (AddPartitionsToTxn v4 verify-only).
 */
import assert from "node:assert/strict";
import {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  EndTxnRequest,
  EndTxnResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
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

async function beginTxn(port: number, transactionalId: string) {
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
    v3AndBelowTopics: [{ name: TOPIC, partitions: [0, 1] }],
  });
  assert.deepEqual(
    add.resultsByTopicV3AndBelow[0].resultsByPartition.map((p: { partitionErrorCode: number }) =>
      p.partitionErrorCode
    ),
    [0, 0],
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
      (await produce(b2.port, null, 1, t1.producerId, t1.producerEpoch, 0, ["p1-a", "p1-b"]))
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
      (await produce(b2.port, null, 1, t2.producerId, t2.producerEpoch, 0, ["p1-x"])).errorCode,
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
