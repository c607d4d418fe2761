/**
 * The transaction coordinator following partition leadership (cluster mode), driven with a
 * fake Leadership and an in-memory log: a partition being loaded answers
 * COORDINATOR_LOAD_IN_PROGRESS, a lost one NOT_COORDINATOR and stops its marker retries, a
 * regained one completes the transaction it left deciding, with the new coordinator epoch in
 * its markers.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { TransactionCoordinator } from "../../src/txn/transaction_coordinator.ts";
import { TxnState } from "../../src/txn/transaction_metadata.ts";
import type { TopicPartition } from "../../src/txn/transaction_metadata.ts";
import { MemoryTxnLogStore } from "../support/memory_txn_log_store.ts";
import { LeadershipTable } from "../support/fake_leadership.ts";

const TXN_TOPIC = "__transaction_state";

/** A memory log whose partition reads can be held back, as a slow load. */
class GatedStore extends MemoryTxnLogStore {
  gate: Promise<void> | null = null;
  async *readPartition(partition: number) {
    if (this.gate) await this.gate;
    for (const r of this.records) if (r.partition === partition) yield r;
  }
}

class Markers {
  written: { tp: string; commit: boolean; coordinatorEpoch: number }[] = [];
  failing = false;
  attempts = 0;
  writeMarker(
    tp: TopicPartition,
    _producerId: number,
    _producerEpoch: number,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<boolean> {
    this.attempts++;
    if (this.failing) return Promise.reject(new Error("leader unreachable"));
    this.written.push({ tp: `${tp.topic}-${tp.partition}`, commit, coordinatorEpoch });
    return Promise.resolve(true);
  }
}

Deno.test("txn coordinator follows leadership: load in progress, not coordinator, completion on regain", async () => {
  const store = new GatedStore();
  const markers = new Markers();
  let pid = 5000;
  const coordinator = new TransactionCoordinator({
    store,
    markers,
    nextProducerId: () => Promise.resolve(pid++),
    retryBackoffMs: 1,
    config: {
      transactionMaxTimeoutMs: 900_000,
      transactionalIdExpirationMs: 3600_000,
      abortTimedOutTransactionsIntervalMs: 0,
      removeExpiredTransactionalIdsIntervalMs: 0,
    },
  });
  const table = new LeadershipTable(1);
  const stop = coordinator.followLeadership(table.viewFor(1));
  try {
    await coordinator.startup();
    const id = "t";
    const p = coordinator.partitionFor(id);
    const init = await coordinator.handleInitProducerId(id, 60_000, null);
    assert.equal(init.errorCode, 0);
    const tp = { topic: "data", partition: 0 };
    assert.equal(
      await coordinator.handleAddPartitionsToTransaction(id, init.producerId, 0, [tp]),
      0,
    );
    // The marker cannot be written: EndTxn answers once PrepareCommit is logged.
    markers.failing = true;
    assert.equal(await coordinator.handleEndTransaction(id, init.producerId, 0, true), 0);
    assert.equal(coordinator.describe(id)!.state, "PrepareCommit");

    // Lost: NOT_COORDINATOR, and the marker retries stop (the new coordinator completes it).
    table.move(TXN_TOPIC, p, 2);
    assert.equal(coordinator.coordinatorError(id), ErrorCode.NOT_COORDINATOR);
    assert.equal(
      (await coordinator.handleInitProducerId(id, 60_000, null)).errorCode,
      ErrorCode.NOT_COORDINATOR,
    );
    assert.equal(
      await coordinator.handleEndTransaction(id, init.producerId, 0, true),
      ErrorCode.NOT_COORDINATOR,
    );
    assert.equal(coordinator.describe(id), undefined);
    await coordinator.idle();
    const attemptsWhenLost = markers.attempts;

    // Regained at leader epoch 2, slowly: COORDINATOR_LOAD_IN_PROGRESS until it is read.
    let release!: () => void;
    store.gate = new Promise((r) => (release = r));
    markers.failing = false;
    table.move(TXN_TOPIC, p, 1);
    assert.equal(coordinator.coordinatorError(id), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal(
      (await coordinator.handleInitProducerId(id, 60_000, null)).errorCode,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    assert.equal(
      coordinator.handleVerifyPartitionsInTransaction(id, init.producerId, 0, [tp]),
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    assert.equal(markers.attempts, attemptsWhenLost, "no marker retried while away");
    release();
    await coordinator.idle();
    // Loaded: the deciding transaction was completed, its marker carries the new epoch.
    assert.equal(coordinator.coordinatorError(id), ErrorCode.NONE);
    assert.equal(coordinator.stateManager.get(id)!.state, TxnState.CompleteCommit);
    assert.deepEqual(markers.written, [{ tp: "data-0", commit: true, coordinatorEpoch: 2 }]);
    assert.deepEqual(store.states(id), ["Empty", "Ongoing", "PrepareCommit", "CompleteCommit"]);
  } finally {
    stop();
    await coordinator.close();
  }
});
