/**
 * TxnOffsetCommit (key 28) over the wire, through the project's own codec: offsets committed
 * inside a transaction are invisible to OffsetFetch until EndTxn commits (dropped on abort),
 * requireStable answers UNSTABLE_OFFSET_COMMIT while they are pending, verification against
 * AddOffsetsToTxn, and a broker killed with SIGKILL rebuilding committed / aborted / still open
 * transactional offsets from `__consumer_offsets`.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  EndTxnRequest,
  EndTxnResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
} from "../../protocol/messages/mod.ts";
import type { Msg } from "../support/msg.ts";
import { BrokerProcess, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";

interface Producer {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
}

async function initProducer(port: number, transactionalId: string): Promise<Producer> {
  const r = await RawClient.once(port, InitProducerIdRequest, InitProducerIdResponse, 4, {
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.equal(r.errorCode, 0);
  return { transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch };
}

async function addOffsets(port: number, p: Producer, groupId: string): Promise<number> {
  const r = await RawClient.once(port, AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, 3, {
    ...p,
    groupId,
  });
  return r.errorCode;
}

/** TxnOffsetCommit of one partition; the partition's error code. */
async function txnCommit(
  port: number,
  p: Producer,
  groupId: string,
  topic: string,
  partition: number,
  offset: number,
  version = 3,
  epoch = p.producerEpoch,
): Promise<number> {
  const r = await RawClient.once(port, TxnOffsetCommitRequest, TxnOffsetCommitResponse, version, {
    transactionalId: p.transactionalId,
    groupId,
    producerId: p.producerId,
    producerEpoch: epoch,
    generationId: -1,
    memberId: "",
    groupInstanceId: null,
    topics: [{
      name: topic,
      partitions: [{
        partitionIndex: partition,
        committedOffset: offset,
        committedLeaderEpoch: -1,
        committedMetadata: `m${offset}`,
      }],
    }],
  });
  return r.topics[0].partitions[0].errorCode;
}

async function endTxn(port: number, p: Producer, committed: boolean): Promise<void> {
  const r = await RawClient.once(port, EndTxnRequest, EndTxnResponse, 3, { ...p, committed });
  assert.equal(r.errorCode, 0);
}

/** [offset, error] of each partition, by OffsetFetch v7 (or v8 with `groups`). */
async function fetchOffsets(
  port: number,
  groupId: string,
  topic: string,
  partitions: number[],
  requireStable = false,
  version = 7,
): Promise<[number, number][]> {
  const topics = [{ name: topic, partitionIndexes: partitions }];
  const r = await RawClient.once(
    port,
    OffsetFetchRequest,
    OffsetFetchResponse,
    version,
    version >= 8 ? { groups: [{ groupId, topics }], requireStable } : {
      groupId,
      topics,
      requireStable,
    },
  );
  const t = version >= 8 ? r.groups[0].topics[0] : r.topics[0];
  return t.partitions.map((x: Msg) => [x.committedOffset, x.errorCode]);
}

Deno.test(
  "TxnOffsetCommit: pending until EndTxn commits, dropped on abort, requireStable",
  async () => {
    const b = await testBroker();
    const port = b.port;
    const topic = "tin";
    const group = "tgroup";
    try {
      await b.broker.createTopic(topic, 3);
      const p = await initProducer(port, "to-1");

      // Without AddOffsetsToTxn the group's offsets partition is not in the transaction.
      assert.equal(await txnCommit(port, p, group, topic, 0, 1), ErrorCode.INVALID_TXN_STATE);
      assert.equal(
        await txnCommit(port, p, group, topic, 0, 1, 4),
        ErrorCode.TRANSACTION_ABORTABLE,
      );

      assert.equal(await addOffsets(port, p, group), 0);
      assert.equal(
        await txnCommit(port, p, group, topic, 0, 1, 3, p.producerEpoch + 1),
        ErrorCode.INVALID_PRODUCER_EPOCH,
      );
      assert.equal(
        await txnCommit(port, p, group, "nope", 0, 1),
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
      assert.equal(await txnCommit(port, p, group, topic, 0, 10, 0), 0);
      assert.equal(await txnCommit(port, p, group, topic, 1, 11), 0);

      // Pending: invisible, and unstable for requireStable (v7 and v8).
      assert.deepEqual(await fetchOffsets(port, group, topic, [0, 1, 2]), [[-1, 0], [-1, 0], [
        -1,
        0,
      ]]);
      const unstable = ErrorCode.UNSTABLE_OFFSET_COMMIT;
      assert.deepEqual(await fetchOffsets(port, group, topic, [0, 1, 2], true), [
        [-1, unstable],
        [-1, unstable],
        [-1, 0],
      ]);
      assert.deepEqual(await fetchOffsets(port, group, topic, [0, 2], true, 8), [
        [-1, unstable],
        [-1, 0],
      ]);

      await endTxn(port, p, true);
      assert.deepEqual(await fetchOffsets(port, group, topic, [0, 1, 2], true), [
        [10, 0],
        [11, 0],
        [-1, 0],
      ]);

      // Next transaction: aborted, so the committed offsets stay.
      assert.equal(await addOffsets(port, p, group), 0);
      assert.equal(await txnCommit(port, p, group, topic, 0, 20), 0);
      assert.equal(await txnCommit(port, p, group, topic, 2, 22), 0);
      assert.deepEqual(await fetchOffsets(port, group, topic, [0, 2], true), [
        [-1, unstable],
        [-1, unstable],
      ]);
      assert.deepEqual(await fetchOffsets(port, group, topic, [0, 2]), [[10, 0], [-1, 0]]);
      await endTxn(port, p, false);
      assert.deepEqual(await fetchOffsets(port, group, topic, [0, 1, 2], true), [
        [10, 0],
        [11, 0],
        [-1, 0],
      ]);
      // The transaction is over: a commit outside one is refused.
      assert.equal(await txnCommit(port, p, group, topic, 0, 30), ErrorCode.INVALID_TXN_STATE);
      assert.deepEqual(await fetchOffsets(port, group, topic, [0], true), [[10, 0]]);
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "TxnOffsetCommit: after kill -9, committed offsets are visible, aborted and open ones not",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-txn-offsets-" });
    const topic = "rin";
    const group = "rgroup";
    let proc = await BrokerProcess.start(dataDir);
    try {
      const created = await RawClient.once(
        proc.port,
        CreateTopicsRequest,
        CreateTopicsResponse,
        5,
        {
          topics: [{
            name: topic,
            numPartitions: 3,
            replicationFactor: 1,
            assignments: [],
            configs: [],
          }],
          timeoutMs: 5000,
          validateOnly: false,
        },
      );
      assert.equal(created.topics[0].errorCode, 0);
      const [a, b, c] = [
        await initProducer(proc.port, "r-a"),
        await initProducer(proc.port, "r-b"),
        await initProducer(proc.port, "r-c"),
      ];
      // Interleaved in one __consumer_offsets partition: each producer's records are held
      // until its own marker.
      for (const p of [a, b, c]) assert.equal(await addOffsets(proc.port, p, group), 0);
      assert.equal(await txnCommit(proc.port, a, group, topic, 0, 5), 0);
      assert.equal(await txnCommit(proc.port, b, group, topic, 1, 7), 0);
      assert.equal(await txnCommit(proc.port, c, group, topic, 2, 9), 0);
      await endTxn(proc.port, a, true);
      await endTxn(proc.port, b, false);
      const expected: [number, number][] = [[5, 0], [-1, 0], [
        -1,
        ErrorCode.UNSTABLE_OFFSET_COMMIT,
      ]];
      assert.deepEqual(await fetchOffsets(proc.port, group, topic, [0, 1, 2], true), expected);

      await proc.kill("SIGKILL");
      proc = await BrokerProcess.start(dataDir);
      assert.deepEqual(await fetchOffsets(proc.port, group, topic, [0, 1, 2]), [[5, 0], [-1, 0], [
        -1,
        0,
      ]]);
      assert.deepEqual(await fetchOffsets(proc.port, group, topic, [0, 1, 2], true), expected);

      // The open transaction survived the restart: committing it now makes its offset visible.
      await endTxn(proc.port, c, true);
      assert.deepEqual(await fetchOffsets(proc.port, group, topic, [0, 1, 2], true), [
        [5, 0],
        [-1, 0],
        [9, 0],
      ]);

      // And that survives a further restart.
      await proc.kill("SIGKILL");
      proc = await BrokerProcess.start(dataDir);
      assert.deepEqual(await fetchOffsets(proc.port, group, topic, [0, 1, 2], true), [
        [5, 0],
        [-1, 0],
        [9, 0],
      ]);
    } finally {
      await proc.kill("SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
