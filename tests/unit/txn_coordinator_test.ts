/**
 * The transaction coordinator's state machine, driven directly with a fake clock, an
 * in-memory transaction log and a recording marker writer: transitions, fencing (new
 * producer, KIP-360 resume and retry, stale epochs), timeouts, recovery of a deciding
 * transaction, log failures, marker retries, expiry and the log format.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  TransactionCoordinator,
  type TxnCoordinatorConfig,
} from "../../src/txn/transaction_coordinator.ts";
import {
  decodeTxnKey,
  decodeTxnValue,
  encodeTxnKey,
  encodeTxnValue,
} from "../../src/txn/transaction_log.ts";
import { partitionFor } from "../../src/internal_topic.ts";
import {
  IllegalTxnStateError,
  type TopicPartition,
  TransactionMetadata,
  TxnState,
} from "../../src/txn/transaction_metadata.ts";
import { MemoryTxnLogStore } from "../support/memory_txn_log_store.ts";

interface Marker {
  tp: string;
  producerId: number;
  producerEpoch: number;
  commit: boolean;
}

class Markers {
  written: Marker[] = [];
  failNext = 0;
  gone = new Set<string>();
  writeMarker(
    tp: TopicPartition,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
  ): Promise<boolean> {
    const k = `${tp.topic}-${tp.partition}`;
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error("injected marker failure"));
    }
    if (this.gone.has(k)) return Promise.resolve(false);
    this.written.push({ tp: k, producerId, producerEpoch, commit });
    return Promise.resolve(true);
  }
}

const CONFIG: TxnCoordinatorConfig = {
  transactionMaxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 7 * 24 * 3600_000,
  abortTimedOutTransactionsIntervalMs: 10_000,
  removeExpiredTransactionalIdsIntervalMs: 3600_000,
};

class World {
  t = 1_700_000_000_000;
  nextPid = 1000;
  store: MemoryTxnLogStore;
  markers = new Markers();
  completed: { producerId: number; partitions: string[]; commit: boolean }[] = [];
  coordinator: TransactionCoordinator;
  constructor(store = new MemoryTxnLogStore()) {
    this.store = store;
    this.coordinator = this.newCoordinator();
  }
  newCoordinator(): TransactionCoordinator {
    return new TransactionCoordinator({
      store: this.store,
      markers: this.markers,
      nextProducerId: () => Promise.resolve(this.nextPid++),
      config: CONFIG,
      now: () => this.t,
      retryBackoffMs: 1,
      onTransactionCompleted: (producerId, partitions, commit) => {
        this.completed.push({
          producerId,
          partitions: partitions.map((tp) => `${tp.topic}-${tp.partition}`).sort(),
          commit,
        });
      },
    });
  }
  init(id: string, timeout = 60_000, expected: [number, number] | null = null) {
    return this.coordinator.handleInitProducerId(
      id,
      timeout,
      expected ? { producerId: expected[0], producerEpoch: expected[1] } : null,
    );
  }
  add(id: string, pid: number, epoch: number, ...tps: string[]) {
    return this.coordinator.handleAddPartitionsToTransaction(
      id,
      pid,
      epoch,
      tps.map((s) => {
        const i = s.lastIndexOf("-");
        return { topic: s.slice(0, i), partition: Number(s.slice(i + 1)) };
      }),
    );
  }
  end(id: string, pid: number, epoch: number, commit: boolean) {
    return this.coordinator.handleEndTransaction(id, pid, epoch, commit);
  }
  state(id: string): string | undefined {
    return this.coordinator.describe(id)?.state;
  }
}

Deno.test("InitProducerId: first call allocates an id at epoch 0, each new producer bumps", async () => {
  const w = new World();
  const a = await w.init("t1");
  assert.deepEqual(a, { errorCode: 0, producerId: 1000, producerEpoch: 0 });
  const b = await w.init("t1");
  assert.deepEqual(b, { errorCode: 0, producerId: 1000, producerEpoch: 1 });
  const other = await w.init("t2");
  assert.equal(other.producerId, 1001);
  assert.deepEqual(w.store.states("t1"), ["Empty", "Empty"]);
  assert.equal(w.state("t1"), "Empty");
  assert.equal(w.coordinator.describe("t1")!.startTimeMs, -1);
});

Deno.test("InitProducerId: timeout validated against transaction.max.timeout.ms", async () => {
  const w = new World();
  for (const bad of [0, -1, CONFIG.transactionMaxTimeoutMs + 1]) {
    assert.equal((await w.init("t", bad)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  }
  assert.equal((await w.init("t", CONFIG.transactionMaxTimeoutMs)).errorCode, 0);
  assert.equal((await w.init("", 1000)).errorCode, ErrorCode.INVALID_REQUEST);
});

Deno.test("InitProducerId KIP-360: resume bumps, retry of a lost response repeats, stale fenced", async () => {
  const w = new World();
  const { producerId: pid } = await w.init("t"); // epoch 0
  await w.init("t"); // a new instance: epoch 1, last epoch forgotten
  // The epoch-1 producer hits an abortable error and resumes with its id/epoch: bump to 2.
  const resumed = await w.init("t", 60_000, [pid, 1]);
  assert.deepEqual(resumed, { errorCode: 0, producerId: pid, producerEpoch: 2 });
  // Its response was lost; the retry still names epoch 1, the last epoch: same answer.
  const retried = await w.init("t", 60_000, [pid, 1]);
  assert.deepEqual(retried, { errorCode: 0, producerId: pid, producerEpoch: 2 });
  // Epoch 0 is neither current nor last: fenced.
  assert.equal((await w.init("t", 60_000, [pid, 0])).errorCode, ErrorCode.PRODUCER_FENCED);
  // Another producer id entirely: fenced.
  assert.equal((await w.init("t", 60_000, [pid + 7, 2])).errorCode, ErrorCode.PRODUCER_FENCED);
  // A new instance (no id/epoch) resets the last epoch, so the epoch-2 producer's retry fails.
  assert.equal((await w.init("t")).producerEpoch, 3);
  assert.equal((await w.init("t", 60_000, [pid, 1])).errorCode, ErrorCode.PRODUCER_FENCED);
});

Deno.test("AddPartitions: mapping, fencing, Ongoing with start time, no write when known", async () => {
  const w = new World();
  const { producerId: pid, producerEpoch: e } = await w.init("t");
  assert.equal(await w.add("nope", pid, e, "a-0"), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(await w.add("t", pid + 1, e, "a-0"), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(await w.add("t", pid, e + 1, "a-0"), ErrorCode.PRODUCER_FENCED);
  assert.equal(await w.add("", pid, e, "a-0"), ErrorCode.INVALID_REQUEST);
  const start = w.t;
  assert.equal(await w.add("t", pid, e, "a-0", "a-1"), 0);
  w.t += 500;
  assert.equal(await w.add("t", pid, e, "a-1"), 0); // already in: no log write
  assert.equal(await w.add("t", pid, e, "b-0"), 0);
  const d = w.coordinator.describe("t")!;
  assert.equal(d.state, "Ongoing");
  assert.equal(d.startTimeMs, start);
  assert.deepEqual(d.partitions.map((tp) => `${tp.topic}-${tp.partition}`).sort(), [
    "a-0",
    "a-1",
    "b-0",
  ]);
  assert.deepEqual(w.store.states("t"), ["Empty", "Ongoing", "Ongoing"]);
});

Deno.test("EndTxn commit: Prepare, markers to every partition, Complete; repeats are idempotent", async () => {
  const w = new World();
  const { producerId: pid, producerEpoch: e } = await w.init("t");
  assert.equal(await w.end("t", pid, e, true), ErrorCode.INVALID_TXN_STATE); // Empty
  await w.add("t", pid, e, "a-0", "b-3");
  assert.equal(await w.end("t", pid, e + 1, true), ErrorCode.PRODUCER_FENCED);
  assert.equal(await w.end("t", pid, e, true), 0);
  assert.deepEqual(w.store.states("t"), ["Empty", "Ongoing", "PrepareCommit", "CompleteCommit"]);
  assert.deepEqual(
    w.markers.written.map((m) => [m.tp, m.producerId, m.producerEpoch, m.commit]).sort(),
    [["a-0", pid, e, true], ["b-3", pid, e, true]],
  );
  assert.deepEqual(w.completed, [{ producerId: pid, partitions: ["a-0", "b-3"], commit: true }]);
  assert.equal(w.state("t"), "CompleteCommit");
  assert.deepEqual(w.coordinator.describe("t")!.partitions, []);
  assert.equal(await w.end("t", pid, e, true), 0); // a retried commit
  assert.equal(await w.end("t", pid, e, false), ErrorCode.INVALID_TXN_STATE);
  // The next transaction starts from CompleteCommit.
  assert.equal(await w.add("t", pid, e, "a-0"), 0);
  assert.equal(await w.end("t", pid, e, false), 0);
  assert.equal(w.state("t"), "CompleteAbort");
  assert.equal(w.markers.written.at(-1)!.commit, false);
  assert.equal(await w.end("t", pid, e, true), ErrorCode.INVALID_TXN_STATE);
});

Deno.test("A new producer fences an ongoing transaction: aborted under a bumped epoch", async () => {
  const w = new World();
  const { producerId: pid } = await w.init("t"); // epoch 0
  await w.add("t", pid, 0, "a-0");
  // The new instance gets CONCURRENT_TRANSACTIONS while the old transaction is aborted.
  const first = await w.init("t");
  assert.equal(first.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.deepEqual(w.markers.written, [
    { tp: "a-0", producerId: pid, producerEpoch: 1, commit: false },
  ]);
  assert.equal(w.state("t"), "CompleteAbort");
  // Its retry bumps again.
  assert.deepEqual(await w.init("t"), { errorCode: 0, producerId: pid, producerEpoch: 2 });
  assert.deepEqual(w.store.states("t"), [
    "Empty",
    "Ongoing",
    "PrepareAbort",
    "CompleteAbort",
    "Empty",
  ]);
  // The zombie (epoch 0) is fenced everywhere.
  assert.equal(await w.add("t", pid, 0, "a-0"), ErrorCode.PRODUCER_FENCED);
  assert.equal(await w.end("t", pid, 0, true), ErrorCode.PRODUCER_FENCED);
  assert.equal(
    w.coordinator.verifyTransactionalProduce("t", pid, 0, "a", 0),
    ErrorCode.PRODUCER_FENCED,
  );
  // KIP-360 with the zombie's epoch is refused too (the fence forgot the last epoch).
  assert.equal((await w.init("t", 60_000, [pid, 0])).errorCode, ErrorCode.PRODUCER_FENCED);
});

Deno.test("Timeout: an Ongoing transaction past its timeout is aborted with an epoch bump", async () => {
  const w = new World();
  const { producerId: pid, producerEpoch: e } = await w.init("t", 5_000);
  const { producerId: pid2, producerEpoch: e2 } = await w.init("u", 60_000);
  await w.add("t", pid, e, "a-0", "a-1");
  await w.add("u", pid2, e2, "a-2");
  w.t += 5_000; // exactly at the timeout: not yet
  await w.coordinator.abortTimedOutTransactions();
  assert.equal(w.state("t"), "Ongoing");
  w.t += 1;
  await w.coordinator.abortTimedOutTransactions();
  assert.equal(w.state("t"), "CompleteAbort");
  assert.equal(w.state("u"), "Ongoing");
  assert.deepEqual(
    w.markers.written.map((m) => [m.tp, m.producerEpoch, m.commit]).sort(),
    [["a-0", e + 1, false], ["a-1", e + 1, false]],
  );
  assert.equal(w.coordinator.describe("t")!.producerEpoch, e + 1);
  // The timed-out producer is fenced: its commit, adds and produce are refused.
  assert.equal(await w.end("t", pid, e, true), ErrorCode.PRODUCER_FENCED);
  assert.equal(await w.add("t", pid, e, "a-0"), ErrorCode.PRODUCER_FENCED);
  assert.equal(
    w.coordinator.verifyTransactionalProduce("t", pid, e, "a", 0),
    ErrorCode.PRODUCER_FENCED,
  );
  // A restarted producer continues with a further bump.
  assert.deepEqual(await w.init("t", 5_000), {
    errorCode: 0,
    producerId: pid,
    producerEpoch: e + 2,
  });
});

Deno.test("Produce verification: only partitions of the ongoing transaction, current epoch", async () => {
  const w = new World();
  const { producerId: pid, producerEpoch: e } = await w.init("t");
  const v = (tp: string, epoch = e, p = pid, id = "t") =>
    w.coordinator.verifyTransactionalProduce(
      id,
      p,
      epoch,
      tp.split("-")[0],
      Number(tp.split("-")[1]),
    );
  assert.equal(v("a-0"), ErrorCode.INVALID_TXN_STATE); // Empty: nothing added yet
  await w.add("t", pid, e, "a-0");
  assert.equal(v("a-0"), 0);
  assert.equal(v("a-1"), ErrorCode.INVALID_TXN_STATE);
  assert.equal(v("a-0", e + 1), ErrorCode.PRODUCER_FENCED);
  assert.equal(v("a-0", e, pid + 1), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(v("a-0", e, pid, "unknown"), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  const r = w.coordinator.handleVerifyPartitionsInTransaction("t", pid, e, [
    { topic: "a", partition: 0 },
    { topic: "a", partition: 9 },
  ]);
  assert.ok(r instanceof Map);
  assert.deepEqual([...r], [["a:0", 0], ["a:9", ErrorCode.INVALID_TXN_STATE]]);
  await w.end("t", pid, e, true);
  assert.equal(v("a-0"), ErrorCode.INVALID_TXN_STATE); // completed: partitions cleared
});

Deno.test("Recovery: a transaction deciding at the crash is completed on load", async () => {
  const store = new MemoryTxnLogStore();
  const w = new World(store);
  const { producerId: pid, producerEpoch: e } = await w.init("c", 60_000);
  await w.add("c", pid, e, "x-0", "x-1");
  const { producerId: pid2, producerEpoch: e2 } = await w.init("a", 60_000);
  await w.add("a", pid2, e2, "y-0");
  const { producerId: pid3, producerEpoch: e3 } = await w.init("o", 1_000);
  await w.add("o", pid3, e3, "z-0");
  // Simulate crashes right after the Prepare records were written: write them directly.
  const md = w.coordinator.stateManager.get("c")!;
  await store.append(
    partitionFor("c", 50),
    encodeTxnKey("c"),
    encodeTxnValue({ ...md.snapshot(), txnState: TxnState.PrepareCommit }),
  );
  const mdA = w.coordinator.stateManager.get("a")!;
  await store.append(
    partitionFor("a", 50),
    encodeTxnKey("a"),
    encodeTxnValue({ ...mdA.snapshot(), txnState: TxnState.PrepareAbort }),
  );
  // A new coordinator over the same log (a restart).
  w.markers.written = [];
  w.coordinator = w.newCoordinator();
  await w.coordinator.startup();
  assert.equal(w.state("c"), "CompleteCommit");
  assert.equal(w.state("a"), "CompleteAbort");
  assert.equal(w.state("o"), "Ongoing"); // left to its timeout, as Kafka does
  assert.deepEqual(
    w.markers.written.map((m) => [m.tp, m.producerId, m.commit]).sort(),
    [["x-0", pid, true], ["x-1", pid, true], ["y-0", pid2, false]],
  );
  // The open one times out after the restart and is aborted.
  w.t += 1_001;
  await w.coordinator.abortTimedOutTransactions();
  assert.equal(w.state("o"), "CompleteAbort");
  // State survives another restart, and producers continue where they were.
  w.coordinator = w.newCoordinator();
  await w.coordinator.startup();
  assert.equal(w.state("c"), "CompleteCommit");
  assert.deepEqual(await w.init("c", 60_000, [pid, e]), {
    errorCode: 0,
    producerId: pid,
    producerEpoch: e + 1,
  });
});

Deno.test("Log append failure: error mapped, state unchanged, nothing left pending", async () => {
  const w = new World();
  const { producerId: pid, producerEpoch: e } = await w.init("t");
  w.store.failNext = 1;
  assert.equal(await w.add("t", pid, e, "a-0"), ErrorCode.NOT_COORDINATOR);
  assert.equal(w.state("t"), "Empty");
  assert.equal(w.coordinator.stateManager.get("t")!.pendingState, null);
  w.store.failCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  w.store.failNext = 1;
  assert.equal((await w.init("t")).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(w.coordinator.describe("t")!.producerEpoch, e);
  assert.equal(await w.add("t", pid, e, "a-0"), 0);
  // A failed Prepare write leaves the transaction Ongoing; the client may retry.
  w.store.failNext = 1;
  assert.equal(await w.end("t", pid, e, true), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(w.state("t"), "Ongoing");
  assert.equal(w.markers.written.length, 0);
  assert.equal(await w.end("t", pid, e, true), 0);
  assert.equal(w.state("t"), "CompleteCommit");
});

Deno.test("Failed epoch fence keeps the bumped epoch for the next attempt", async () => {
  const w = new World();
  const { producerId: pid } = await w.init("t", 1_000); // epoch 0
  await w.add("t", pid, 0, "a-0");
  w.t += 2_000;
  w.store.failNext = 1; // the PrepareAbort of the timeout abort fails
  await w.coordinator.abortTimedOutTransactions();
  const md = w.coordinator.stateManager.get("t")!;
  assert.equal(md.state, TxnState.Ongoing);
  assert.equal(md.hasFailedEpochFence, true);
  assert.equal(md.producerEpoch, 1); // bumped, never returned to a client
  await w.coordinator.abortTimedOutTransactions();
  assert.equal(w.state("t"), "CompleteAbort");
  assert.equal(md.producerEpoch, 1); // not bumped twice
  assert.deepEqual(w.markers.written.map((m) => m.producerEpoch), [1]);
});

Deno.test("Marker failures: EndTxn answers once the decision is logged; markers are retried", async () => {
  const w = new World();
  const { producerId: pid, producerEpoch: e } = await w.init("t");
  await w.add("t", pid, e, "a-0", "gone-0");
  w.markers.gone.add("gone-0"); // deleted since: skipped
  w.markers.failNext = 3;
  assert.equal(await w.end("t", pid, e, true), 0);
  await w.coordinator.idle();
  assert.equal(w.state("t"), "CompleteCommit");
  assert.deepEqual(w.markers.written.map((m) => m.tp), ["a-0"]);
  // While the markers were pending, a new transaction could not start.
  assert.deepEqual(w.store.states("t"), ["Empty", "Ongoing", "PrepareCommit", "CompleteCommit"]);
});

Deno.test("Concurrent requests for one id during a pending write get CONCURRENT_TRANSACTIONS", async () => {
  const w = new World();
  const { producerId: pid, producerEpoch: e } = await w.init("t");
  // Issued together: the second and third find the first one's write pending.
  const [added, again, reinit] = await Promise.all([
    w.add("t", pid, e, "a-0"),
    w.add("t", pid, e, "a-1"),
    w.init("t"),
  ]);
  assert.deepEqual([added, again, reinit.errorCode], [0, 51, 51]);
  const [ended, endedAgain] = await Promise.all([
    w.end("t", pid, e, true),
    w.end("t", pid, e, true),
  ]);
  assert.deepEqual([ended, endedAgain], [0, ErrorCode.CONCURRENT_TRANSACTIONS]);
  assert.equal(w.state("t"), "CompleteCommit");
});

Deno.test("Epoch exhaustion rotates to a new producer id", async () => {
  const w = new World();
  const { producerId: pid } = await w.init("t");
  const md = w.coordinator.stateManager.get("t")!;
  md.producerEpoch = 0x7fff - 1; // exhausted
  // A new instance: a new producer id at epoch 0.
  const r = await w.init("t");
  assert.equal(r.errorCode, 0);
  assert.notEqual(r.producerId, pid);
  assert.equal(r.producerEpoch, 0);
  assert.equal(md.lastProducerId, pid);
  // KIP-360 resume on an exhausted epoch rotates too, remembering the last epoch, so a retry
  // of that call (old id, exhausted epoch) gets the same answer instead of being fenced.
  md.producerEpoch = 0x7fff - 1;
  const resumed = await w.init("t", 60_000, [r.producerId, 0x7fff - 1]);
  assert.equal(resumed.errorCode, 0);
  assert.notEqual(resumed.producerId, r.producerId);
  const retry = await w.init("t", 60_000, [r.producerId, 0x7fff - 1]);
  assert.deepEqual(retry, resumed);
});

Deno.test("Transactional ids idle past transactional.id.expiration.ms get a tombstone", async () => {
  const w = new World();
  const { producerId: pid, producerEpoch: e } = await w.init("idle");
  await w.init("busy");
  const b = w.coordinator.describe("busy")!;
  await w.add("busy", b.producerId, b.producerEpoch, "a-0");
  await w.end("idle", pid, e, true).catch(() => {});
  w.t += CONFIG.transactionalIdExpirationMs + 1;
  await w.coordinator.removeExpiredTransactionalIds();
  assert.equal(w.coordinator.describe("idle"), undefined);
  assert.equal(w.state("busy"), "Ongoing"); // an open transaction never expires
  assert.deepEqual(w.store.states("idle"), ["Empty", "tombstone"]);
  // Gone after a reload too; a new InitProducerId starts over with a new producer id.
  w.coordinator = w.newCoordinator();
  await w.coordinator.startup();
  assert.equal(w.coordinator.describe("idle"), undefined);
  const again = await w.init("idle");
  assert.notEqual(again.producerId, pid);
  assert.equal(again.producerEpoch, 0);
});

Deno.test("ListTransactions filters and DescribeTransactions", async () => {
  const w = new World();
  const a = await w.init("a");
  const b = await w.init("b");
  await w.add("b", b.producerId, b.producerEpoch, "t-0");
  const list = (s: string[], p: number[] = [], d = -1) =>
    w.coordinator.list(s, p, d).transactions.map((t) => t.transactionalId).sort();
  assert.deepEqual(list([]), ["a", "b"]);
  assert.deepEqual(list(["Ongoing"]), ["b"]);
  assert.deepEqual(list([], [a.producerId]), ["a"]);
  assert.deepEqual(w.coordinator.list(["Bogus"], []).unknownStateFilters, ["Bogus"]);
  assert.deepEqual(list(["Bogus"]), []);
  w.t += 10_000;
  assert.deepEqual(list(["Ongoing"], [], 5_000), ["b"]);
  assert.deepEqual(list(["Ongoing"], [], 20_000), []);
});

Deno.test("Transition rules: illegal transitions throw, pending blocks a second prepare", () => {
  const md = TransactionMetadata.create("x", 1, 1000, 0);
  assert.throws(() => md.prepareAbortOrCommit(TxnState.PrepareCommit, 1), IllegalTxnStateError);
  const t = md.prepareIncrementProducerEpoch(1000, null, 1);
  assert.ok(typeof t !== "string");
  assert.throws(() => md.prepareAddPartitions([], 2), IllegalTxnStateError); // pending
  md.completeTransitionTo(t);
  assert.equal(md.producerEpoch, 0);
  assert.throws(() => md.prepareComplete(3), IllegalTxnStateError); // Empty → Complete*
  assert.throws(() => md.completeTransitionTo(t), IllegalTxnStateError); // nothing pending
});

Deno.test("Transaction log format: Kafka's key/value layout, Empty has null partitions", () => {
  // Java: "hello".hashCode() == 99162322; Kafka's partitionFor takes abs() mod the count.
  assert.equal(partitionFor("hello", 50), 99162322 % 50);
  assert.equal(partitionFor("polygenelubricants", 50), 0); // hashCode == Integer.MIN_VALUE
  const key = encodeTxnKey("my-txn");
  assert.deepEqual([...key.subarray(0, 4)], [0, 0, 0, 6]); // version 0, string length 6
  assert.equal(decodeTxnKey(key), "my-txn");
  const v = {
    producerId: 4242,
    lastProducerId: -1,
    producerEpoch: 7,
    lastProducerEpoch: -1,
    txnTimeoutMs: 60000,
    txnState: TxnState.Ongoing,
    topicPartitions: [{ topic: "b", partition: 1 }, { topic: "a", partition: 2 }, {
      topic: "a",
      partition: 0,
    }],
    txnStartTimestamp: 111,
    txnLastUpdateTimestamp: 222,
  } as const;
  const bytes = encodeTxnValue({ ...v, topicPartitions: [...v.topicPartitions] });
  // version int16 0, producerId int64, epoch int16, timeout int32, status int8, partitions...
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(view.getInt16(0), 0);
  assert.equal(Number(view.getBigInt64(2)), 4242);
  assert.equal(view.getInt16(10), 7);
  assert.equal(view.getInt32(12), 60000);
  assert.equal(view.getInt8(16), 1);
  assert.equal(view.getInt32(17), 2); // two topics
  const back = decodeTxnValue(bytes);
  assert.deepEqual(back.topicPartitions, [
    { topic: "a", partition: 0 },
    { topic: "a", partition: 2 },
    { topic: "b", partition: 1 },
  ]);
  assert.equal(back.txnStartTimestamp, 111);
  assert.equal(back.txnLastUpdateTimestamp, 222);
  const empty = encodeTxnValue({ ...v, txnState: TxnState.Empty, topicPartitions: [] });
  assert.equal(new DataView(empty.buffer, empty.byteOffset).getInt32(17), -1); // null array
  assert.deepEqual(decodeTxnValue(empty).topicPartitions, []);
  assert.throws(() =>
    encodeTxnValue({ ...v, txnState: TxnState.PrepareEpochFence, topicPartitions: [] })
  );
});
