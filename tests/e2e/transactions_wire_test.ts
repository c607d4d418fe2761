/**
 * The transaction APIs no client library here speaks, through the project's own codec:
 * produce verification, AddPartitionsToTxn v4 verify-only, DescribeTransactions,
 * ListTransactions, DescribeProducers.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  DescribeProducersRequest,
  DescribeProducersResponse,
  EndTxnRequest,
  EndTxnResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  ListTransactionsRequest,
  ListTransactionsResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { describeTxn, kcatValues } from "../support/e2e_transactions_fixtures.ts";

type Started = Awaited<ReturnType<typeof testBroker>>;

Deno.test(
  "wire: produce verification, AddPartitionsToTxn v4, Describe/ListTransactions, DescribeProducers",
  async () => {
    const b: Started = await testBroker();
    const port = b.port;
    const topic = "wire-t";
    try {
      await b.broker.createTopic(topic, 2);
      const fc = await RawClient.once(port, FindCoordinatorRequest, FindCoordinatorResponse, 4, {
        keyType: 1,
        coordinatorKeys: ["w"],
      });
      assert.deepEqual(
        [fc.coordinators[0].errorCode, fc.coordinators[0].port],
        [0, port],
      );
      const init = await RawClient.once(port, InitProducerIdRequest, InitProducerIdResponse, 4, {
        transactionalId: "w",
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
      });
      assert.equal(init.errorCode, 0);
      const { producerId, producerEpoch } = init;
      const tooLong = await RawClient.once(port, InitProducerIdRequest, InitProducerIdResponse, 4, {
        transactionalId: "w2",
        transactionTimeoutMs: 900_001,
        producerId: -1,
        producerEpoch: -1,
      });
      assert.equal(tooLong.errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);

      const add = (version: number, parts: number[], verifyOnly = false, epoch = producerEpoch) =>
        RawClient.once(
          port,
          AddPartitionsToTxnRequest,
          AddPartitionsToTxnResponse,
          version,
          version < 4
            ? {
              v3AndBelowTransactionalId: "w",
              v3AndBelowProducerId: producerId,
              v3AndBelowProducerEpoch: epoch,
              v3AndBelowTopics: [{ name: topic, partitions: parts }],
            }
            : {
              transactions: [{
                transactionalId: "w",
                producerId,
                producerEpoch: epoch,
                verifyOnly,
                topics: [{ name: topic, partitions: parts }],
              }],
            },
        );
      const codes = (r: Msg, version: number) =>
        (version < 4 ? r.resultsByTopicV3AndBelow : r.resultsByTransaction[0].topicResults)
          .flatMap((t: Msg) => t.resultsByPartition.map((p: Msg) => p.partitionErrorCode));
      // An unknown partition fails the whole request; nothing is added.
      assert.deepEqual(codes(await add(3, [0, 9]), 3), [
        ErrorCode.OPERATION_NOT_ATTEMPTED,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ]);
      assert.deepEqual(codes(await add(3, [0], false, producerEpoch + 1), 3), [
        ErrorCode.PRODUCER_FENCED,
      ]);
      assert.deepEqual(codes(await add(1, [0], false, producerEpoch + 1), 1), [
        ErrorCode.INVALID_PRODUCER_EPOCH,
      ]);
      assert.deepEqual(codes(await add(3, [0]), 3), [0]);
      assert.deepEqual(codes(await add(4, [0, 1], true), 4), [0, ErrorCode.INVALID_TXN_STATE]);

      const produce = (partition: number, epoch: number, seq: number, version = 9) =>
        RawClient.once(port, ProduceRequest, ProduceResponse, version, {
          transactionalId: "w",
          acks: -1,
          timeoutMs: 5000,
          topicData: [{
            name: topic,
            partitionData: [{
              index: partition,
              records: encodeRecordBatch({
                isTransactional: true,
                producerId,
                producerEpoch: epoch,
                baseSequence: seq,
                records: [{ value: `v${partition}-${seq}` }],
              }),
            }],
          }],
        }).then((r) => r.responses[0].partitionResponses[0]);
      assert.equal((await produce(0, producerEpoch, 0)).errorCode, 0);
      const notAdded = await produce(1, producerEpoch, 0);
      assert.equal(notAdded.errorCode, ErrorCode.INVALID_TXN_STATE);
      assert.equal(notAdded.errorMessage, "Partition was not added to the transaction");
      assert.equal(
        (await produce(1, producerEpoch, 0, 11)).errorCode,
        ErrorCode.TRANSACTION_ABORTABLE,
      );
      assert.equal(
        (await produce(0, producerEpoch + 1, 0)).errorCode,
        ErrorCode.INVALID_PRODUCER_EPOCH,
      );
      const internal = await RawClient.once(port, ProduceRequest, ProduceResponse, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{
          name: "__transaction_state",
          partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: "x" }] }) }],
        }],
      });
      assert.equal(
        internal.responses[0].partitionResponses[0].errorCode,
        ErrorCode.INVALID_TOPIC_EXCEPTION,
      );

      const d = await describeTxn(port, "w");
      assert.equal(d.errorCode, 0);
      assert.equal(d.transactionState, "Ongoing");
      assert.equal(d.producerId, producerId);
      assert.deepEqual(d.topics, [{ topic, partitions: [0] }]);
      assert.equal(
        (await describeTxn(port, "nobody")).errorCode,
        ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
      );

      const producers = await RawClient.once(
        port,
        DescribeProducersRequest,
        DescribeProducersResponse,
        0,
        {
          topics: [{ name: topic, partitionIndexes: [0, 1, 7] }],
        },
      );
      const [p0, p1, p7] = producers.topics[0].partitions;
      assert.equal(p0.activeProducers.length, 1);
      assert.equal(p0.activeProducers[0].producerId, producerId);
      assert.equal(p0.activeProducers[0].currentTxnStartOffset, 0);
      assert.equal(p0.activeProducers[0].lastSequence, 0);
      assert.equal(p1.activeProducers.length, 0);
      assert.equal(p7.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

      const list = (states: string[], version = 1, durationFilter = -1) =>
        RawClient.once(port, ListTransactionsRequest, ListTransactionsResponse, version, {
          stateFilters: states,
          producerIdFilters: [],
          durationFilter,
        });
      const ongoing = await list(["Ongoing", "Bogus"]);
      assert.deepEqual(ongoing.unknownStateFilters, ["Bogus"]);
      assert.deepEqual(ongoing.transactionStates.map((t: Msg) => t.transactionalId), ["w"]);
      assert.equal((await list([], 1, 3_600_000)).transactionStates.length, 0);
      assert.equal((await list([], 0)).transactionStates.length, 1);

      const end = await RawClient.once(port, EndTxnRequest, EndTxnResponse, 3, {
        transactionalId: "w",
        producerId,
        producerEpoch,
        committed: true,
      });
      assert.equal(end.errorCode, 0);
      assert.equal((await describeTxn(port, "w")).transactionState, "CompleteCommit");
      assert.deepEqual(await kcatValues(b.address, topic, 0, "read_committed"), ["v0-0"]);
    } finally {
      await b.stop();
    }
  },
);
