/**
 * GroupCoordinator transactional offset commits (TxnOffsetCommit): member checks, failed
 * verification, pending offsets across a reload until the producer's marker.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { ManualClock } from "../../src/group/clock.ts";
import { GroupCoordinator, type TxnOffsetCommitParams } from "../../src/group/group_coordinator.ts";
import { setup, stableGroupOfOne } from "../support/group_coordinator_fixtures.ts";
import { MemoryCoordinatorLog } from "../support/memory_coordinator_log.ts";

// ---- TxnOffsetCommit -------------------------------------------------------------------------

function txnParams(over: Partial<TxnOffsetCommitParams> = {}): TxnOffsetCommitParams {
  return {
    transactionalId: "tx",
    groupId: "g",
    producerId: 7,
    producerEpoch: 0,
    generationId: -1,
    memberId: "",
    groupInstanceId: null,
    apiVersion: 3,
    topics: [{
      name: "t",
      partitions: [{
        partitionIndex: 0,
        committedOffset: 42,
        committedLeaderEpoch: -1,
        committedMetadata: null,
      }],
    }],
    ...over,
  };
}

const txnCode = (r: { partitions: { errorCode: number }[] }[]) => r[0].partitions[0].errorCode;

const fetched = (c: GroupCoordinator, requireStable = false) => {
  const p = c.fetchOffsets("g", [{ name: "t", partitionIndexes: [0] }], undefined, requireStable)
    .topics[0].partitions[0];
  return [p.committedOffset, p.errorCode];
};

Deno.test("txn offset commit: member checks only for what the request carries", async () => {
  const { c } = setup();
  // Unknown group: accepted without generation, ILLEGAL_GENERATION with one.
  assert.equal(
    txnCode(await c.commitTransactionalOffsets(txnParams({ generationId: 3 }))),
    ErrorCode.ILLEGAL_GENERATION,
  );
  const j = await stableGroupOfOne(c);
  // No member fields (v0–2): accepted even though the group has members.
  assert.equal(txnCode(await c.commitTransactionalOffsets(txnParams())), ErrorCode.NONE);
  assert.equal(
    txnCode(await c.commitTransactionalOffsets(txnParams({ memberId: "x", generationId: 1 }))),
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  assert.equal(
    txnCode(
      await c.commitTransactionalOffsets(
        txnParams({ memberId: j.memberId, generationId: j.generationId + 1 }),
      ),
    ),
    ErrorCode.ILLEGAL_GENERATION,
  );
  assert.equal(
    txnCode(
      await c.commitTransactionalOffsets(
        txnParams({ memberId: j.memberId, generationId: j.generationId }),
      ),
    ),
    ErrorCode.NONE,
  );
  assert.equal(
    txnCode(await c.commitTransactionalOffsets(txnParams({ groupId: "" }))),
    ErrorCode.INVALID_GROUP_ID,
  );
  assert.deepEqual(fetched(c), [-1, ErrorCode.NONE]);
  assert.deepEqual(fetched(c, true), [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]);
  c.onTransactionCompleted(7, [{ topic: "__consumer_offsets", partition: 0 }], true);
  assert.deepEqual(fetched(c, true), [42, ErrorCode.NONE]);
  c.close();
});

Deno.test("txn offset commit: a failed verification appends nothing", async () => {
  const log = new MemoryCoordinatorLog();
  let verdict: number = ErrorCode.INVALID_TXN_STATE;
  const c = new GroupCoordinator(log, {
    clock: new ManualClock(),
    partitionExists: () => true,
    verifyTransaction: () => verdict,
  });
  assert.equal(
    txnCode(await c.commitTransactionalOffsets(txnParams())),
    ErrorCode.INVALID_TXN_STATE,
  );
  assert.equal(
    txnCode(await c.commitTransactionalOffsets(txnParams({ apiVersion: 4 }))),
    ErrorCode.TRANSACTION_ABORTABLE,
  );
  verdict = ErrorCode.PRODUCER_FENCED;
  assert.equal(
    txnCode(await c.commitTransactionalOffsets(txnParams())),
    ErrorCode.INVALID_PRODUCER_EPOCH,
  );
  verdict = ErrorCode.CONCURRENT_TRANSACTIONS;
  assert.equal(
    txnCode(await c.commitTransactionalOffsets(txnParams())),
    ErrorCode.COORDINATOR_NOT_AVAILABLE,
  );
  assert.equal(log.records.length, 0);
  assert.deepEqual(fetched(c, true), [-1, ErrorCode.NONE]);
  c.close();
});

Deno.test("txn offset commit: reload holds records per producer until its marker", async () => {
  const { c, log } = setup();
  const commit = (producerId: number, offset: number, partition = 0) =>
    c.commitTransactionalOffsets(txnParams({
      producerId,
      topics: [{
        name: "t",
        partitions: [{
          partitionIndex: partition,
          committedOffset: offset,
          committedLeaderEpoch: -1,
          committedMetadata: "",
        }],
      }],
    }));
  await commit(1, 10); // committed below
  await commit(2, 20, 1); // aborted below
  await commit(3, 30, 2); // left open
  await commit(4, 40); // superseded by a later plain commit of t-0, then committed
  log.marker(1, true);
  c.onTransactionCompleted(1, [{ topic: "__consumer_offsets", partition: 0 }], true);
  log.marker(2, false);
  c.onTransactionCompleted(2, [{ topic: "__consumer_offsets", partition: 0 }], false);
  const plain = await c.commitOffsets({
    groupId: "g",
    generationId: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1,
    apiVersion: 8,
    topics: [{
      name: "t",
      partitions: [{
        partitionIndex: 0,
        committedOffset: 15,
        committedLeaderEpoch: -1,
        committedMetadata: "",
      }],
    }],
  });
  assert.equal(plain[0].partitions[0].errorCode, ErrorCode.NONE);
  log.marker(4, true);
  c.onTransactionCompleted(4, [{ topic: "__consumer_offsets", partition: 0 }], true);
  const view = (g: GroupCoordinator) =>
    g.fetchOffsets("g", [{ name: "t", partitionIndexes: [0, 1, 2] }], undefined, true)
      .topics[0].partitions.map((p) => [p.committedOffset, p.errorCode]);
  const expected = [[15, 0], [-1, 0], [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]];
  assert.deepEqual(view(c), expected);
  c.close();

  const again = new GroupCoordinator(log, { clock: new ManualClock() });
  await again.load();
  assert.deepEqual(view(again), expected);
  // The open transaction commits after the restart.
  again.onTransactionCompleted(3, [{ topic: "__consumer_offsets", partition: 0 }], true);
  assert.deepEqual(view(again), [[15, 0], [-1, 0], [30, 0]]);
  again.close();
});
