/**
 * End to end: an idempotent producer's batches straddling a leader change. Broker 2 refuses
 * seq 2 (it follows), is elected, then gets seq 3, which the producer had pipelined behind
 * seq 2 before it saw the refusal: broker 2 answers NOT_LEADER_OR_FOLLOWER again (its log
 * lacks seq 2) instead of OUT_OF_ORDER_SEQUENCE_NUMBER, which librdkafka takes as a fatal
 * "sequence desynchronization" when seq 3 is its head-of-line batch. The producer's resend
 * of seq 2 then seq 3 is appended in order, each once, and a retry of seq 3 is a duplicate.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { ProduceRequest, ProduceResponse } from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { BrokerConnection } from "../../src/client/connection.ts";
import { startEtcd } from "../support/etcd.ts";
import { ReplicatedCluster } from "../support/replication_fixtures.ts";
import { until } from "../support/wait.ts";

const T = "idem-failover";
const PID = 7001;

async function produceSeq(
  conn: BrokerConnection,
  seq: number,
): Promise<{ errorCode: number; baseOffset: number }> {
  const records = encodeRecordBatch({
    producerId: PID,
    producerEpoch: 0,
    baseSequence: seq,
    records: [{ value: `v${seq}` }],
  });
  const r = await conn.request(ProduceRequest, ProduceResponse, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 10_000,
    topicData: [{ name: T, partitionData: [{ index: 0, records }] }],
  });
  const pr = r.responses[0].partitionResponses[0];
  return { errorCode: pr.errorCode, baseOffset: Number(pr.baseOffset) };
}

Deno.test({
  name: "idempotent failover: a batch behind one the new leader refused is refused alike",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const cluster = new ReplicatedCluster(etcd, { "replica.lag.time.max.ms": 60_000 });
    const conns: BrokerConnection[] = [];
    try {
      for (const id of [1, 2]) await cluster.start(id);
      await cluster.allLive();
      await cluster.createTopic(T, [[1, 2]]);
      const one = await BrokerConnection.connect(cluster.address(1), { clientId: "idem" });
      const two = await BrokerConnection.connect(cluster.address(2), { clientId: "idem" });
      conns.push(one, two);
      assert.deepEqual(await produceSeq(one, 0), { errorCode: 0, baseOffset: 0 });
      assert.deepEqual(await produceSeq(one, 1), { errorCode: 0, baseOffset: 1 });
      await until("broker 2 replicated seq 0-1", () => cluster.log(2, T, 0)!.logEndOffset === 2);
      // Broker 2 does not lead yet: seq 2 is refused, nothing appended.
      assert.equal((await produceSeq(two, 2)).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const state = await cluster.electLeader(T, 0, 2);
      // Broker 2 has made itself leader once its epoch cache starts the new epoch.
      await until(
        "broker 2 leads",
        () => cluster.log(2, T, 0)!.leaderEpochCache.latestEpoch === state.leaderEpoch,
      );
      // Seq 3 (pipelined behind seq 2) waits for seq 2's resend: without that it would be
      // OUT_OF_ORDER_SEQUENCE_NUMBER.
      assert.equal((await produceSeq(two, 3)).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.equal(cluster.log(2, T, 0)!.logEndOffset, 2);
      assert.deepEqual(await produceSeq(two, 2), { errorCode: 0, baseOffset: 2 });
      assert.deepEqual(await produceSeq(two, 3), { errorCode: 0, baseOffset: 3 });
      const dup = await produceSeq(two, 3);
      assert.deepEqual(dup, { errorCode: 0, baseOffset: 3 });
      assert.equal(cluster.log(2, T, 0)!.logEndOffset, 4);
    } finally {
      for (const c of conns) c.close();
      await cluster.close();
      await etcd.cleanup();
    }
  },
});
