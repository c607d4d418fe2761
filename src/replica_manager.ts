/**
 * The ReplicaManager, as Kafka names it: every read and write of partition data goes through
 * here. It runs partition operations (src/partition_ops.ts) where the partition's log is open
 * (here, or on the owning worker), keeps the Fetch long poll (Kafka's fetch purgatory), and
 * appends transactional batches and transaction markers. Replication (src/replication/) hooks
 * in here: a leader's appends carry its leader epoch, and none is made before it leads.
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { LogManager } from "../storage/log_manager.ts";
import type { PartitionLog } from "../storage/partition_log.ts";
import { bufferPool } from "./buffer_pool.ts";
import {
  type FetchArgs,
  type FetchOne,
  type FetchRead,
  type FetchReadResult,
  fitToBudget,
  readInOrder,
} from "./fetch_budget.ts";
import { errorCodeOf } from "./handlers/util.ts";
import type { BrokerConfig } from "./config.ts";
import {
  type AppendOutcome,
  type FetchOutcome,
  fetchPartition,
  markFreshRead,
  PARTITION_OPS,
  type PartitionOpArgs,
  type PartitionOpHost,
  type PartitionOpName,
  type PartitionOpResult,
  transferablesOf,
} from "./partition_ops.ts";
import type { ReplicaManagerApi, WatchedPartition } from "./services.ts";
import type { ReplicationApi } from "./replication/replication_api.ts";
import { notLedYet, RefusedProduces } from "./replication/refused_produces.ts";
import { readBatchHeader } from "../protocol/record_batch.ts";
import type { Leadership } from "./cluster/leadership.ts";
import type { TransactionCoordinator } from "./txn/mod.ts";
import { TRANSACTION_STATE_TOPIC } from "./txn/transaction_log.ts";
import {
  checkTransactionalProduce,
  type ProduceRejection,
  verificationRejection,
} from "./txn/produce_verification.ts";
import type { RemoteTxnVerification } from "./txn/txn_verifier.ts";
import { CONTROLLER_WORKER } from "./workers/ownership.ts";
import { Transfer } from "./workers/peer_link.ts";
import {
  decodeResultsInto,
  encodeReads,
  type FetchResultsWire,
  readRun,
} from "./workers/fetch_run_wire.ts";
import type { PartitionOpCall, PeerArgs, TxnAppendCall } from "./workers/peer_methods.ts";
import type { WorkerCluster } from "./workers/worker_cluster.ts";

export type { WatchedPartition } from "./services.ts";

let nextWatchId = 1;

/** A verification's answer, checked right before the append it allows (see below). */
export interface TransactionVerification {
  check(): number;
  release(): void;
}

function verifyingKey(topic: string, partition: number, producerId: number): string {
  return `${topic}\u0000${partition}\u0000${producerId}`;
}

function rejectedAppend(r: ProduceRejection): AppendOutcome {
  return {
    errorCode: r.code,
    errorMessage: r.message,
    baseOffset: -1,
    logAppendTime: -1,
    logStartOffset: -1,
    recordCount: 0,
    duplicate: false,
  };
}

function unknownPartition(topic: string, partition: number): KafkaError {
  return new KafkaError(
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    `unknown partition ${topic}-${partition}`,
  );
}

/** Runs a partition operation on an open log (the table's entries share one signature). */
function runOp<K extends PartitionOpName>(
  host: PartitionOpHost,
  log: PartitionLog,
  name: K,
  args: PartitionOpArgs<K>,
): Promise<PartitionOpResult<K>> {
  const op = PARTITION_OPS[name] as (
    h: PartitionOpHost,
    l: PartitionLog,
    a: PartitionOpArgs<K>,
  ) => Promise<PartitionOpResult<K>>;
  return op(host, log, args);
}

export class ReplicaManager implements ReplicaManagerApi, PartitionOpHost {
  /** Fetches waiting on appends here, for other workers (see waitForAppend). */
  private readonly watches = new Map<string, () => void>();
  /** The transaction coordinator, set once built (it writes markers through this object). */
  transactions?: TransactionCoordinator;
  /** Replication, on a cluster member without workers (set once started). */
  replication?: ReplicationApi;
  /** This broker's (worker's) refused produces (see refused_produces.ts). */
  readonly refusedProduces: RefusedProduces = new RefusedProduces();
  /** Who coordinates a transactional id that is not coordinated here, and how to ask it. */
  remoteTxn?: { leadership: Leadership; verifier: RemoteTxnVerification };
  /**
   * Remote verifications in flight, by partition and producer: a marker for that producer
   * appended meanwhile marks them stale (see produce_verification.ts).
   */
  private readonly verifying = new Map<string, Set<{ stale: boolean }>>();

  constructor(
    private readonly logs: LogManager,
    private readonly config: BrokerConfig,
    readonly dataDir: string,
    private readonly cluster?: WorkerCluster,
  ) {}

  /** `remote.fetch.max.wait.ms`: how long a fetch waits on the cold tier. */
  get remoteFetchMaxWaitMs(): number {
    return this.config.int("remote.fetch.max.wait.ms");
  }

  get remoteStorageEnabled(): boolean {
    return this.logs.remoteLogManager.rsm !== null;
  }

  /**
   * The partition's log when it is open here: always when the broker runs alone; with
   * workers, only on its owner (the internal topics' partitions are all on the controller).
   * Requests go through partitionOp, which works wherever the owner is.
   */
  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.getPartition(topic, partition);
  }

  /** Whether the catalogue has this partition (wherever its log is open). */
  hasPartition(topic: string, partition: number): boolean {
    const count = this.logs.partitionCount(topic);
    return count !== undefined && Number.isInteger(partition) && partition >= 0 &&
      partition < count;
  }

  /** Appends a transaction marker (a control batch) as the coordinator, on the owner. */
  async appendMarker(topic: string, partition: number, batch: Uint8Array): Promise<void> {
    const waiting = this.verifying.get(
      verifyingKey(topic, partition, readBatchHeader(batch, 0).producerId),
    );
    for (const v of waiting ?? []) v.stale = true;
    const r = await this.partitionOp(topic, partition, "append", {
      records: batch,
      opts: { origin: "coordinator" },
    });
    if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? "");
  }

  /**
   * Runs a partition operation (src/partition_ops.ts) on the partition's owner: here, or on
   * the worker that owns it. Rejects with UNKNOWN_TOPIC_OR_PARTITION when it does not exist.
   */
  partitionOp<K extends PartitionOpName>(
    topic: string,
    partition: number,
    name: K,
    args: PartitionOpArgs<K>,
  ): Promise<PartitionOpResult<K>> {
    const cluster = this.cluster;
    if (cluster && !cluster.owns(topic, partition)) {
      if (!this.hasPartition(topic, partition)) {
        return Promise.reject(unknownPartition(topic, partition));
      }
      let transfer: ArrayBuffer[] = [];
      if (name === "append") {
        // The records are a view into the connection's read buffer: copy them once into a
        // buffer of their own and hand that over.
        const a = args as PartitionOpArgs<"append">;
        const records = bufferPool.take(a.records.length);
        records.set(a.records);
        args = { ...a, records } as PartitionOpArgs<K>;
        transfer = [records.buffer as ArrayBuffer];
      }
      const call = { topic, partition, name, args } as PartitionOpCall;
      return cluster.call(cluster.ownerOf(topic, partition), "op", call, transfer).then((r) => {
        if (r.returned) bufferPool.give(r.returned.buffer);
        if (name === "fetch") {
          const f = r.result as FetchOutcome;
          if (f.freshBuffer) markFreshRead(f.records!.buffer);
        }
        return r.result as PartitionOpResult<K>;
      });
    }
    const log = this.logs.getPartition(topic, partition);
    if (log) return this.runLeaderOp(log, name, args);
    if (!cluster || !this.hasPartition(topic, partition)) {
      return Promise.reject(unknownPartition(topic, partition));
    }
    return this.openedLog(topic, partition).then((l) => {
      if (!l) throw unknownPartition(topic, partition);
      return this.runLeaderOp(l, name, args);
    });
  }

  /**
   * Runs an operation on a log here (its owner). A leader stamps its appends with its leader
   * epoch (the followers' epoch caches and divergence checks read it back); while
   * replication has not made this broker the partition's leader there is no append.
   */
  private runLeaderOp<K extends PartitionOpName>(
    log: PartitionLog,
    name: K,
    args: PartitionOpArgs<K>,
  ): Promise<PartitionOpResult<K>> {
    if (name === "append" && this.replication) {
      const { topic, partition } = log;
      const epoch = this.replication.leaderEpochOf(topic, partition);
      const a = args as PartitionOpArgs<"append">;
      const fromClient = (a.opts?.origin ?? "client") === "client";
      if (epoch === undefined) {
        // The metadata may name this broker leader a moment before replication has made it
        // one (the log's role changes after the catalogue sync): no append until then.
        if (fromClient) this.refusedProduces.refuse(topic, partition, a.records);
        return Promise.reject(notLedYet(topic, partition));
      }
      if (fromClient && this.refusedProduces.holdsBackAppend(log, a.records)) {
        // A batch pipelined behind one refused above: refused alike (refused_produces.ts).
        return Promise.reject(notLedYet(topic, partition));
      }
      if (a.opts?.leaderEpoch === undefined) {
        args = { ...a, opts: { ...a.opts, leaderEpoch: epoch } } as PartitionOpArgs<K>;
      }
    }
    return runOp(this, log, name, args);
  }

  /**
   * This worker's log of a partition it owns, once open. The controller publishes a new (or
   * grown) topic in its catalogue before the other workers have opened their partitions of
   * it (their catalogue sync runs after), so a request reaching the owner in between — from a
   * peer that already lists the topic, or here while the sync opens it — waits for that sync
   * (serialized with one under way) instead of failing. Undefined when it is not ours or
   * still not open (the topic was deleted meanwhile).
   */
  private async openedLog(topic: string, partition: number): Promise<PartitionLog | undefined> {
    const log = this.logs.getPartition(topic, partition);
    const cluster = this.cluster;
    if (log || !cluster || cluster.isController || !cluster.owns(topic, partition)) return log;
    await this.logs.syncCatalogue();
    return this.logs.getPartition(topic, partition);
  }

  /**
   * Resolves on the first append to any of `parts`, or after `ms`: the Fetch long poll. Each
   * part carries the high watermark its last read saw; one that has moved since resolves at
   * once, so an append landing between the read and the wait is not slept through. With
   * workers, partitions owned elsewhere are watched by their owners, which answer on the
   * first append; the first answer (or the timeout) cancels the rest.
   */
  waitForAppend(parts: WatchedPartition[], ms: number): Promise<void> {
    const cluster = this.cluster;
    const local: WatchedPartition[] = [];
    const remote = new Map<number, WatchedPartition[]>();
    for (const tp of parts) {
      const owner = cluster ? cluster.ownerOf(tp[0], tp[1]) : 0;
      if (!cluster || owner === cluster.index) local.push(tp);
      else {
        const list = remote.get(owner);
        if (list) list.push(tp);
        else remote.set(owner, [tp]);
      }
    }
    if (remote.size === 0) return this.watchLocal(null, local, ms);
    const key = `${cluster!.index}:${nextWatchId++}`;
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.watches.get(key)?.();
        for (const owner of remote.keys()) {
          cluster!.call(owner, "unwatch", { key }).catch(() => {});
        }
        resolve();
      };
      this.watchLocal(key, local, ms).then(finish);
      for (const [owner, list] of remote) {
        cluster!.call(owner, "watch", { key, parts: list, ms }).then(finish, finish);
      }
    });
  }

  /**
   * Reads a Fetch's partitions under the response's byte budget (see fetch_budget.ts): in
   * request order when they are all in one place; with workers, one message per owner, all
   * awaited together, then cut to what reading them one by one returns.
   */
  async fetchMessages(
    reads: FetchRead[],
    maxBytes: number,
    committed: boolean,
    remoteWaitMs: number,
  ): Promise<FetchReadResult[]> {
    const cluster = this.cluster;
    const inOrder = (rs: FetchRead[], fetchOne: FetchOne) =>
      readInOrder(rs, maxBytes, committed, remoteWaitMs, fetchOne);
    // A partition open here is read without a promise (see fetchPartition).
    const viaOp: FetchOne = (r: FetchRead, a: FetchArgs) => {
      if (!cluster || cluster.owns(r.topic, r.partition)) {
        const log = this.logs.getPartition(r.topic, r.partition);
        if (log) return fetchPartition(log, a);
      }
      return this.partitionOp(r.topic, r.partition, "fetch", a);
    };
    if (!cluster) return inOrder(reads, viaOp);
    // Partitions by owner, keeping each owner's in request order (the topic's hash taken once
    // per run of its partitions).
    const byOwner = new Map<number, number[]>();
    const results: FetchReadResult[] = new Array(reads.length);
    let topic: string | undefined;
    let ownerIn = (_p: number) => 0;
    for (let i = 0; i < reads.length; i++) {
      const r = reads[i];
      if (!this.hasPartition(r.topic, r.partition)) {
        results[i] = { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        continue;
      }
      if (r.topic !== topic) ownerIn = cluster.ownersOf(topic = r.topic);
      const owner = ownerIn(r.partition);
      const list = byOwner.get(owner);
      if (list) list.push(i);
      else byOwner.set(owner, [i]);
    }
    if (byOwner.size <= 1 && (byOwner.size === 0 || byOwner.has(cluster.index))) {
      return inOrder(reads, viaOp);
    }
    // This worker's share, already known to be its own: read without asking again.
    const ownRead: FetchOne = (r, a) => {
      const log = this.logs.getPartition(r.topic, r.partition);
      return log ? fetchPartition(log, a) : this.partitionOp(r.topic, r.partition, "fetch", a);
    };
    await Promise.all([...byOwner].map(async ([owner, indexes]) => {
      if (owner === cluster.index) {
        const mine: FetchRead[] = new Array(indexes.length);
        for (let k = 0; k < indexes.length; k++) mine[k] = reads[indexes[k]];
        const answers = await inOrder(mine, ownRead);
        for (let k = 0; k < indexes.length; k++) results[indexes[k]] = answers[k];
        return;
      }
      try {
        const wire = await cluster.call(owner, "fetchRun", {
          reads: encodeReads(reads, indexes),
          maxBytes,
          committed,
          remoteWaitMs,
        });
        decodeResultsInto(wire, results, indexes);
        // Only non-empty records travel, so only they can be fresh reads.
        for (const [k] of wire.records) {
          const a = results[indexes[k]];
          if ("outcome" in a && a.outcome.freshBuffer) markFreshRead(a.outcome.records!.buffer);
        }
      } catch (e) {
        const errorCode = errorCodeOf(e, `fetch from worker ${owner}`);
        for (let k = 0; k < indexes.length; k++) results[indexes[k]] = { errorCode };
      }
    }));
    await fitToBudget(reads, results, maxBytes, committed, remoteWaitMs, viaOp);
    return results;
  }

  /** Reads this worker's partitions of a Fetch another worker split by owner. */
  private async fetchRun(
    a: PeerArgs<"fetchRun">,
  ): Promise<Transfer<FetchResultsWire>> {
    const { results, transfer } = await readRun(
      a.reads,
      a.maxBytes,
      a.committed,
      a.remoteWaitMs,
      (r, args) => {
        const open = this.logs.getPartition(r.topic, r.partition);
        if (open) return fetchPartition(open, args);
        const { topic, partition } = r;
        return this.openedLog(topic, partition).then((log) => {
          if (!log) {
            throw new KafkaError(
              ErrorCode.NOT_LEADER_OR_FOLLOWER,
              `${topic}-${partition} is not open on worker ${this.cluster!.index}`,
            );
          }
          return fetchPartition(log, args);
        });
      },
    );
    // The fresh local reads change hands.
    return new Transfer(results, transfer);
  }

  /** Resolves on the first append to a local partition of `parts`, after `ms`, or on unwatch. */
  private watchLocal(key: string | null, parts: WatchedPartition[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const unsubs: (() => void)[] = [];
      const done = () => {
        clearTimeout(timer);
        for (const u of unsubs) u();
        if (key !== null) this.watches.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (key !== null) this.watches.set(key, done);
      for (const [t, p, seen] of parts) {
        const log = this.logs.getPartition(t, p);
        if (!log) continue;
        if (log.highWatermark > seen) {
          done();
          return;
        }
        unsubs.push(log.onAppend(done));
      }
    });
  }

  /**
   * Appends a transactional producer's batch once the transaction coordinator has checked
   * that the partition is in the producer's ongoing transaction (Produce's verification).
   * The check and the hand-over to the partition's owner happen in one turn of the
   * controller's event loop, and markers leave the controller by the same ordered channel, so
   * a batch checked before EndTxn lands before that transaction's marker.
   */
  transactionalAppend(
    transactionalId: string,
    topic: string,
    partition: number,
    records: Uint8Array,
    apiVersion: number,
  ): Promise<AppendOutcome> {
    const cluster = this.cluster;
    if (cluster && !cluster.isController) {
      const copy = bufferPool.take(records.length);
      copy.set(records);
      return cluster.call(
        CONTROLLER_WORKER,
        "txnAppend",
        { transactionalId, topic, partition, records: copy, apiVersion },
        [copy.buffer as ArrayBuffer],
      ).then((r) => {
        bufferPool.give(r.returned.buffer);
        return r.result;
      });
    }
    const coordinator = this.remoteCoordinatorOf(transactionalId);
    if (coordinator !== null) {
      return this.remotelyVerifiedAppend(
        coordinator,
        transactionalId,
        topic,
        partition,
        records,
        apiVersion,
      );
    }
    const rejected = this.verifyTransactional(
      transactionalId,
      topic,
      partition,
      records,
      apiVersion,
    );
    if (rejected) return Promise.resolve(rejected);
    return this.partitionOp(topic, partition, "append", { records });
  }

  /**
   * The broker coordinating `transactionalId` when it is not this one (the leader of its
   * `__transaction_state` partition), else null.
   */
  private remoteCoordinatorOf(transactionalId: string): number | null {
    const remote = this.remoteTxn;
    if (!remote) return null;
    const p = this.transactions!.partitionFor(transactionalId);
    const leader = remote.leadership.leaderOf(TRANSACTION_STATE_TOPIC, p);
    if (!leader || leader.leaderId === remote.leadership.localNodeId) return null;
    return leader.leaderId;
  }

  /**
   * Verification by the coordinator on another broker (AddPartitionsToTxn v4 verify-only),
   * then the append, in the same turn as the check that no marker for the producer came
   * in the meantime.
   */
  private async remotelyVerifiedAppend(
    coordinatorId: number,
    transactionalId: string,
    topic: string,
    partition: number,
    records: Uint8Array,
    apiVersion: number,
  ): Promise<AppendOutcome> {
    const h = readBatchHeader(records, 0);
    const v = await this.remoteVerification(
      coordinatorId,
      transactionalId,
      topic,
      partition,
      h.producerId,
      h.producerEpoch,
    );
    const error = v.check();
    v.release();
    const rejected = verificationRejection(error, h.producerId, h.producerEpoch, apiVersion);
    if (rejected) return rejectedAppend(rejected);
    return this.partitionOp(topic, partition, "append", { records });
  }

  /**
   * Asks the remote coordinator; `check()` is its answer, or INVALID_TXN_STATE once a marker
   * of the producer reached the partition since the question (until `release()`).
   */
  private async remoteVerification(
    coordinatorId: number,
    transactionalId: string,
    topic: string,
    partition: number,
    producerId: number,
    producerEpoch: number,
  ): Promise<TransactionVerification> {
    const key = verifyingKey(topic, partition, producerId);
    const token = { stale: false };
    let set = this.verifying.get(key);
    if (!set) this.verifying.set(key, set = new Set());
    set.add(token);
    const release = () => {
      set.delete(token);
      if (set.size === 0 && this.verifying.get(key) === set) this.verifying.delete(key);
    };
    let error: number;
    try {
      error = coordinatorId < 0
        ? ErrorCode.COORDINATOR_NOT_AVAILABLE
        : await this.remoteTxn!.verifier.verify(
          coordinatorId,
          transactionalId,
          producerId,
          producerEpoch,
          topic,
          partition,
        );
    } catch (e) {
      release();
      throw e;
    }
    return {
      check: () => error === ErrorCode.NONE && token.stale ? ErrorCode.INVALID_TXN_STATE : error,
      release,
    };
  }

  /**
   * The coordinator's verification of a transactional write by a producer to one partition
   * (TxnOffsetCommit's `__consumer_offsets` batch): asked of the remote coordinator first when
   * the id's coordinator is another broker; `check()`, called right before the append is
   * enqueued, gives the coordinator's error code (see produce_verification.ts).
   */
  async transactionVerification(
    transactionalId: string,
    topic: string,
    partition: number,
    producerId: number,
    producerEpoch: number,
  ): Promise<TransactionVerification> {
    const coordinator = this.remoteCoordinatorOf(transactionalId);
    if (coordinator === null) {
      return {
        check: () =>
          this.transactions!.verifyTransactionalProduce(
            transactionalId,
            producerId,
            producerEpoch,
            topic,
            partition,
          ),
        release: () => {},
      };
    }
    return await this.remoteVerification(
      coordinator,
      transactionalId,
      topic,
      partition,
      producerId,
      producerEpoch,
    );
  }

  /** Produce's verification of a transactional batch: the rejection, or null to append. */
  private verifyTransactional(
    transactionalId: string,
    topic: string,
    partition: number,
    records: Uint8Array,
    apiVersion: number,
  ): AppendOutcome | null {
    const rejected = checkTransactionalProduce(
      this.transactions!,
      transactionalId,
      topic,
      partition,
      records,
      apiVersion,
    );
    return rejected ? rejectedAppend(rejected) : null;
  }

  /**
   * The controller's side of a transactional append from another worker. The batch arrived
   * in a buffer of its own: it is handed on to the partition's owner as it is (no second
   * copy), and comes back with the answer, to return to the sender's pool.
   */
  private transferredTransactionalAppend(
    a: TxnAppendCall,
  ): Promise<{ result: AppendOutcome; returned: Uint8Array }> {
    const { topic, partition, records } = a;
    const coordinator = this.remoteCoordinatorOf(a.transactionalId);
    if (coordinator !== null) {
      return this.remotelyVerifiedAppend(
        coordinator,
        a.transactionalId,
        topic,
        partition,
        records,
        a.apiVersion,
      ).then((result) => ({ result, returned: records }));
    }
    const rejected = this.verifyTransactional(
      a.transactionalId,
      topic,
      partition,
      records,
      a.apiVersion,
    );
    if (rejected) return Promise.resolve({ result: rejected, returned: records });
    const cluster = this.cluster!;
    if (cluster.owns(topic, partition) || !this.hasPartition(topic, partition)) {
      return this.partitionOp(topic, partition, "append", { records })
        .then((result) => ({ result, returned: records }));
    }
    // Verification and the hand-over happen in this one turn, as in transactionalAppend.
    const call: PartitionOpCall = { topic, partition, name: "append", args: { records } };
    return cluster.call(
      cluster.ownerOf(topic, partition),
      "op",
      call,
      [records.buffer as ArrayBuffer],
    ).then((r) => ({ result: r.result as AppendOutcome, returned: r.returned! }));
  }

  /** The partition-data methods other workers call on this one (see src/workers/). */
  serve(cluster: WorkerCluster): void {
    cluster.serve(
      "op",
      async (a) => {
        const log = await this.openedLog(a.topic, a.partition);
        if (!log) {
          throw new KafkaError(
            ErrorCode.NOT_LEADER_OR_FOLLOWER,
            `${a.topic}-${a.partition} is not open on worker ${cluster.index}`,
          );
        }
        const result = await this.runLeaderOp(log, a.name, a.args);
        const transfer = transferablesOf(a.name, result);
        if (a.name === "append") {
          // The appended copy is written out: hand it back to the sender's buffer pool.
          const records = (a.args as PartitionOpArgs<"append">).records;
          return new Transfer({ result, returned: records }, [records.buffer as ArrayBuffer]);
        }
        return new Transfer({ result }, transfer);
      },
    );
    cluster.serve("fetchRun", (a) => this.fetchRun(a));
    cluster.serve(
      "watch",
      (a) => this.watchLocal(a.key, a.parts, a.ms),
    );
    cluster.serve("unwatch", (a) => {
      this.watches.get(a.key)?.();
    });
    if (!cluster.isController) return;
    cluster.serve(
      "txnAppend",
      (a) =>
        this.transferredTransactionalAppend(a).then((r) =>
          new Transfer(r, [r.returned.buffer as ArrayBuffer])
        ),
    );
  }
}
