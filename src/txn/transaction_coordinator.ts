/**
 * TransactionCoordinator: Kafka's transaction coordinator
 * (kafka.coordinator.transaction.TransactionCoordinator). A single broker owns every
 * partition of `__transaction_state`; in cluster mode (followLeadership) the partitions it
 * leads, loaded and unloaded as leadership moves. Markers go through a TxnMarkerWriter
 * (txn_marker_channel.ts: local, or WriteTxnMarkers to the partition's leader).
 *
 * Request flow, as in Kafka:
 * - InitProducerId(transactional id): creates the metadata on first use (new producer id),
 *   bumps the epoch (fencing the previous producer instance), rotates the producer id when
 *   the epoch is exhausted, and — KIP-360 — lets a producer that passes its id/epoch resume
 *   after an abortable error (bump) or retry a lost response (same epoch). An ongoing
 *   transaction is first aborted under a bumped epoch (PrepareEpochFence → PrepareAbort) and
 *   the caller gets CONCURRENT_TRANSACTIONS, to retry.
 * - AddPartitionsToTxn / AddOffsetsToTxn: Ongoing with the union of partitions.
 * - EndTxn: PrepareCommit/PrepareAbort is written to the log (the decision), then a marker is
 *   appended to every partition of the transaction, then CompleteCommit/CompleteAbort. Kafka
 *   answers the client once the Prepare record is written; here the markers are local appends,
 *   so the answer waits for them too (clients then never see CONCURRENT_TRANSACTIONS after a
 *   commit), unless a marker write fails, in which case the answer goes out at once and the
 *   markers are retried in the background.
 * - Timeouts: an Ongoing transaction older than its timeout is aborted under a bumped epoch, so
 *   the zombie producer is fenced (its produce gets INVALID_PRODUCER_EPOCH, EndTxn
 *   PRODUCER_FENCED).
 * - On start, the log is read back; transactions found in PrepareCommit/PrepareAbort get
 *   their markers (again — markers are idempotent for the reader) and are completed.
 * - Idle transactional ids expire after `transactional.id.expiration.ms` (a tombstone).
 *
 * Every validation and `prepare*` call runs synchronously up to the first `await`, so two
 * requests for one id cannot interleave between a check and the pending state it sets.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import type { Leadership } from "../cluster/leadership.ts";
import { log } from "../log.ts";
import {
  IllegalTxnStateError,
  type TopicPartition,
  tpKey,
  TransactionMetadata,
  TxnState,
  txnStateName,
  type TxnTransitMetadata,
} from "./transaction_metadata.ts";
import { TransactionStateManager, type TxnLogStore } from "./transaction_state_manager.ts";
import { TRANSACTION_STATE_TOPIC } from "./transaction_log.ts";
import {
  describeTransaction,
  listTransactions,
  type TransactionDescription,
} from "./transaction_listing.ts";

export type { TransactionDescription } from "./transaction_listing.ts";

export interface TxnCoordinatorConfig {
  /** transaction.max.timeout.ms */
  transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms */
  transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  abortTimedOutTransactionsIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  removeExpiredTransactionalIdsIntervalMs: number;
}

/** Writes transaction markers (control batches) to data partitions. */
export interface TxnMarkerWriter {
  /**
   * Appends a COMMIT or ABORT marker for the producer to `tp`. Resolves false when the
   * partition no longer exists (deleted: nothing left to mark). Throws on a storage failure,
   * which is retried.
   */
  writeMarker(
    tp: TopicPartition,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<boolean>;
  /** Releases what the writer holds (connections to other brokers). */
  close?(): void;
}

export interface TxnCoordinatorDeps {
  store: TxnLogStore;
  markers: TxnMarkerWriter;
  /** A fresh producer id (the broker's ProducerIdManager). */
  nextProducerId(): Promise<number>;
  config: TxnCoordinatorConfig;
  /** Clock (tests pass a fake one). */
  now?: () => number;
  /** Pause between retries of a failed marker or completion write. */
  retryBackoffMs?: number;
  /**
   * Called once the markers of a finished transaction are written, with every partition it
   * touched; the group coordinator applies (commit) or drops (abort) the transaction's
   * pending offset commits when one of them is a `__consumer_offsets` partition.
   */
  onTransactionCompleted?(
    producerId: number,
    partitions: TopicPartition[],
    commit: boolean,
  ): void | Promise<void>;
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class TransactionCoordinator {
  readonly stateManager: TransactionStateManager;
  private readonly now: () => number;
  private readonly retryBackoffMs: number;
  private closed = false;
  /** Whether ownership follows partition leadership (cluster mode). */
  private following = false;
  /** Partitions being loaded (cluster mode). */
  private readonly loading = new Set<Promise<void>>();
  private timers: ReturnType<typeof setInterval>[] = [];
  /** Marker/completion work in flight, so close() and tests can wait for it. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: TxnCoordinatorDeps) {
    this.stateManager = new TransactionStateManager(
      deps.store,
      deps.config.transactionMaxTimeoutMs,
    );
    this.now = deps.now ?? Date.now;
    this.retryBackoffMs = deps.retryBackoffMs ?? 100;
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Loads the transaction log and finishes every transaction that was deciding (Prepare*)
   * when the broker stopped. Resolves once those are complete (or retrying in background).
   */
  async startup(): Promise<void> {
    if (this.following) {
      // Cluster mode: the partitions led here were taken over by followLeadership.
      await Promise.all([...this.loading]);
      return;
    }
    const { loaded, records } = await this.stateManager.load();
    const pending: Promise<void>[] = [];
    for (const md of this.stateManager.all()) {
      if (md.state === TxnState.PrepareCommit || md.state === TxnState.PrepareAbort) {
        log.info(
          `completing transaction ${md.transactionalId} found in ${txnStateName(md.state)}`,
        );
        pending.push(this.sendMarkersAndComplete(md, md.state === TxnState.PrepareCommit).done);
      }
    }
    if (loaded > 0 || records > 0) {
      log.info(`loaded ${loaded} transactional id(s) from ${records} transaction log record(s)`);
    }
    await Promise.all(pending);
  }

  /**
   * Cluster mode: coordinate the transactional ids whose `__transaction_state` partition this
   * broker leads, and follow that leadership. A partition gained is loaded (its ids answer
   * COORDINATOR_LOAD_IN_PROGRESS meanwhile) and its deciding transactions completed; one lost
   * is unloaded (NOT_COORDINATOR). Returns a function that stops following.
   */
  followLeadership(leadership: Leadership): () => void {
    this.following = true;
    this.stateManager.followOwnership();
    const apply = (partition: number, leaderId: number, leaderEpoch: number) => {
      if (leaderId === leadership.localNodeId) this.gainPartition(partition, leaderEpoch);
      else this.stateManager.losePartition(partition);
    };
    for (let p = 0; p < this.stateManager.partitionCount(); p++) {
      const l = leadership.leaderOf(TRANSACTION_STATE_TOPIC, p);
      if (l) apply(p, l.leaderId, l.leaderEpoch);
    }
    return leadership.onChange((c) => {
      if (c.topic === TRANSACTION_STATE_TOPIC) {
        apply(c.partition, c.leader.leaderId, c.leader.leaderEpoch);
      }
    });
  }

  /** Loads a partition gained and completes the transactions it left deciding. */
  private gainPartition(partition: number, coordinatorEpoch: number): void {
    const work = (async () => {
      const loaded = await this.stateManager.gainPartition(partition, coordinatorEpoch);
      for (const md of loaded ?? []) {
        if (md.state === TxnState.PrepareCommit || md.state === TxnState.PrepareAbort) {
          log.info(
            `completing transaction ${md.transactionalId} found in ${txnStateName(md.state)}`,
          );
          this.sendMarkersAndComplete(md, md.state === TxnState.PrepareCommit);
        }
      }
    })().catch((e) =>
      log.error(
        `loading __transaction_state-${partition} failed: ${(e as Error).stack ?? e}`,
      )
    );
    const tracked = work.finally(() => this.loading.delete(tracked));
    this.loading.add(tracked);
  }

  /** NONE, or why this coordinator cannot answer for the id (NOT_COORDINATOR, loading). */
  coordinatorError(transactionalId: string): number {
    return this.stateManager.coordinatorError(transactionalId);
  }

  /** Starts the periodic timeout-abort and id-expiry tasks. */
  startScheduler(): void {
    const { abortTimedOutTransactionsIntervalMs: a, removeExpiredTransactionalIdsIntervalMs: r } =
      this.deps.config;
    const every = (ms: number, fn: () => void) => {
      if (ms <= 0 || ms >= 2 ** 31) return;
      this.timers.push(setInterval(fn, ms));
    };
    // A failure is logged; an unhandled rejection would take the broker down.
    const report = (what: string) => (e: unknown) =>
      log.error(`${what} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    every(a, () => {
      this.abortTimedOutTransactions().catch(report("aborting timed-out transactions"));
    });
    every(r, () => {
      this.removeExpiredTransactionalIds().catch(report("expiring transactional ids"));
    });
  }

  /** Stops the scheduler and waits for in-flight marker writes (which stop retrying). */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.deps.markers.close?.();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Resolves when every background marker/completion write has finished (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.loading.size > 0) {
      await Promise.allSettled([...this.loading, ...this.inFlight]);
    }
  }

  partitionFor(transactionalId: string): number {
    return this.stateManager.partitionFor(transactionalId);
  }

  // ------------------------------------------------------------------ InitProducerId

  async handleInitProducerId(
    transactionalId: string,
    transactionTimeoutMs: number,
    expected: { producerId: number; producerEpoch: number } | null,
  ): Promise<InitProducerIdResult> {
    const fail = (errorCode: number) => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (transactionalId === "") return fail(ErrorCode.INVALID_REQUEST);
    const notHere = this.stateManager.coordinatorError(transactionalId);
    if (notHere !== ErrorCode.NONE) return fail(notHere);
    if (!this.stateManager.validateTransactionTimeoutMs(transactionTimeoutMs)) {
      return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    }
    let md = this.stateManager.get(transactionalId);
    if (!md) {
      const producerId = await this.deps.nextProducerId();
      const moved = this.stateManager.coordinatorError(transactionalId);
      if (moved !== ErrorCode.NONE) return fail(moved);
      md = this.stateManager.putIfNotExists(
        TransactionMetadata.create(transactionalId, producerId, transactionTimeoutMs, this.now()),
      );
    }
    let spareProducerId: number | null = null;
    for (;;) {
      const r = this.prepareInitProducerIdTransit(
        md,
        transactionTimeoutMs,
        expected,
        spareProducerId,
      );
      if (typeof r === "number") return fail(r);
      if (r === "needProducerId") {
        spareProducerId = await this.deps.nextProducerId();
        const again = this.stateManager.get(transactionalId);
        if (!again) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
        md = again;
        continue;
      }
      if (r.txnState === TxnState.PrepareEpochFence) {
        // Abort the ongoing transaction under the bumped epoch; the client retries and then
        // gets a further bump (or a new producer id when this one exhausted the epochs).
        const e = await this.endTransaction(
          transactionalId,
          r.producerId,
          r.producerEpoch,
          false,
          false,
        );
        return fail(e === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : e);
      }
      const e = await this.stateManager.appendTransactionToLog(md, r);
      if (e !== ErrorCode.NONE) return fail(e);
      return {
        errorCode: ErrorCode.NONE,
        producerId: r.producerId,
        producerEpoch: r.producerEpoch,
      };
    }
  }

  private prepareInitProducerIdTransit(
    md: TransactionMetadata,
    timeoutMs: number,
    expected: { producerId: number; producerEpoch: number } | null,
    spareProducerId: number | null,
  ): TxnTransitMetadata | number | "needProducerId" {
    if (md.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (expected) {
      // Fence unless: the metadata was just created (epoch -1: recovery from
      // UNKNOWN_PRODUCER_ID), the id matches, or it is the previous id with an exhausted epoch
      // (a retry of a rotation whose response was lost).
      const valid = md.producerEpoch === -1 || expected.producerId === md.producerId ||
        (expected.producerId === md.lastProducerId && expected.producerEpoch >= 0x7fff - 1);
      if (!valid) return ErrorCode.PRODUCER_FENCED;
    }
    switch (md.state) {
      case TxnState.PrepareAbort:
      case TxnState.PrepareCommit:
        return ErrorCode.CONCURRENT_TRANSACTIONS;
      case TxnState.CompleteAbort:
      case TxnState.CompleteCommit:
      case TxnState.Empty: {
        if (
          md.isProducerEpochExhausted &&
          (!expected || expected.producerEpoch === md.producerEpoch)
        ) {
          if (spareProducerId === null) return "needProducerId";
          return md.prepareProducerIdRotation(spareProducerId, timeoutMs, this.now(), !!expected);
        }
        const t = md.prepareIncrementProducerEpoch(
          timeoutMs,
          expected ? expected.producerEpoch : null,
          this.now(),
        );
        return t === "PRODUCER_FENCED" ? ErrorCode.PRODUCER_FENCED : t;
      }
      case TxnState.Ongoing:
        return md.prepareFenceProducerEpoch();
      default:
        throw new IllegalTxnStateError(
          `${md.transactionalId} found in ${txnStateName(md.state)}, which is never stored`,
        );
    }
  }

  // ------------------------------------------------------------------ AddPartitions

  /** AddPartitionsToTxn (and AddOffsetsToTxn with the group's offsets partition). */
  async handleAddPartitionsToTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: TopicPartition[],
  ): Promise<number> {
    if (!transactionalId) return ErrorCode.INVALID_REQUEST;
    const notHere = this.stateManager.coordinatorError(transactionalId);
    if (notHere !== ErrorCode.NONE) return notHere;
    const md = this.stateManager.get(transactionalId);
    if (!md || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (md.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (md.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (md.state === TxnState.PrepareCommit || md.state === TxnState.PrepareAbort) {
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    }
    if (
      md.state === TxnState.Ongoing &&
      partitions.every((tp) => md.hasPartition(tp.topic, tp.partition))
    ) {
      return ErrorCode.NONE;
    }
    const transit = md.prepareAddPartitions(partitions, this.now());
    return await this.stateManager.appendTransactionToLog(md, transit);
  }

  /**
   * AddPartitionsToTxn v4 verify-only (KIP-890): whether each partition is part of the
   * producer's ongoing transaction. Returns one error for all partitions, or per partition
   * NONE / `notInTxnError`. Pending transitions are not checked, as in Kafka.
   */
  handleVerifyPartitionsInTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: TopicPartition[],
    notInTxnError: number = ErrorCode.INVALID_TXN_STATE,
  ): number | Map<string, number> {
    if (!transactionalId) return ErrorCode.INVALID_REQUEST;
    const notHere = this.stateManager.coordinatorError(transactionalId);
    if (notHere !== ErrorCode.NONE) return notHere;
    const md = this.stateManager.get(transactionalId);
    if (!md || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (md.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (md.state === TxnState.PrepareCommit || md.state === TxnState.PrepareAbort) {
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    }
    const out = new Map<string, number>();
    for (const tp of partitions) {
      out.set(
        tpKey(tp.topic, tp.partition),
        md.state === TxnState.Ongoing && md.hasPartition(tp.topic, tp.partition)
          ? ErrorCode.NONE
          : notInTxnError,
      );
    }
    return out;
  }

  /**
   * Produce-time verification of one transactional batch (Kafka 3.6+ transaction
   * verification): NONE when `topic`-`partition` is part of the producer's ongoing
   * transaction, else the coordinator's error (INVALID_TXN_STATE when it was not added).
   * Synchronous on purpose: the produce path calls it right before enqueueing the append, so a
   * marker for this transaction can only land after that append.
   */
  verifyTransactionalProduce(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): number {
    const r = this.handleVerifyPartitionsInTransaction(
      transactionalId,
      producerId,
      producerEpoch,
      [{ topic, partition }],
    );
    return typeof r === "number" ? r : r.get(tpKey(topic, partition))!;
  }

  // ------------------------------------------------------------------ EndTxn

  /** EndTxn from a client. */
  handleEndTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number> {
    return this.endTransaction(transactionalId, producerId, producerEpoch, commit, true);
  }

  /**
   * Kafka's endTransaction. Everything up to the log append runs synchronously (see the
   * file comment); `isFromClient` false is the coordinator's own abort (fence or timeout).
   */
  private async endTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    isFromClient: boolean,
  ): Promise<number> {
    if (!transactionalId) return ErrorCode.INVALID_REQUEST;
    const notHere = this.stateManager.coordinatorError(transactionalId);
    if (notHere !== ErrorCode.NONE) return notHere;
    const md = this.stateManager.get(transactionalId);
    if (!md || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    const pre = this.prepareEndTransaction(md, producerEpoch, commit, isFromClient);
    if (typeof pre === "number") {
      // A fence that cannot proceed must not stay pending forever.
      if (!isFromClient && md.pendingState === TxnState.PrepareEpochFence) md.pendingState = null;
      return pre;
    }
    const { transit, isEpochFence } = pre;
    const e = await this.stateManager.appendTransactionToLog(md, transit);
    if (e !== ErrorCode.NONE) {
      if (isEpochFence && this.stateManager.get(transactionalId) === md) {
        md.hasFailedEpochFence = true;
        log.warn(
          `epoch fence of ${transactionalId} failed to reach the log; epoch ${md.producerEpoch} ` +
            `was bumped but never returned to a client`,
        );
      }
      return e;
    }
    if (
      this.stateManager.get(transactionalId) !== md || md.producerId !== transit.producerId ||
      md.producerEpoch !== transit.producerEpoch || md.state !== transit.txnState
    ) {
      return ErrorCode.CONCURRENT_TRANSACTIONS; // cannot happen with one coordinator
    }
    const { done, failed } = this.sendMarkersAndComplete(md, commit);
    await Promise.race([done, failed]);
    return ErrorCode.NONE;
  }

  private prepareEndTransaction(
    md: TransactionMetadata,
    producerEpoch: number,
    commit: boolean,
    isFromClient: boolean,
  ): { transit: TxnTransitMetadata; isEpochFence: boolean } | number {
    // Clients must match the epoch exactly; the coordinator's own abort carries a bumped one.
    if (
      (isFromClient && producerEpoch !== md.producerEpoch) || producerEpoch < md.producerEpoch
    ) {
      return ErrorCode.PRODUCER_FENCED;
    }
    const fencePending = md.pendingState === TxnState.PrepareEpochFence;
    if (md.pendingTransitionInProgress && (!fencePending || isFromClient)) {
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    }
    const invalid = () => {
      log.debug(
        `${md.transactionalId}: ${commit ? "commit" : "abort"} in state ${
          txnStateName(md.state)
        } is invalid`,
      );
      return ErrorCode.INVALID_TXN_STATE;
    };
    switch (md.state) {
      case TxnState.Ongoing: {
        const now = this.now();
        if (!commit && fencePending) {
          return { transit: md.prepareAbortAfterFence(producerEpoch, now), isEpochFence: true };
        }
        if (fencePending) return ErrorCode.CONCURRENT_TRANSACTIONS;
        return {
          transit: md.prepareAbortOrCommit(
            commit ? TxnState.PrepareCommit : TxnState.PrepareAbort,
            now,
          ),
          isEpochFence: false,
        };
      }
      case TxnState.CompleteCommit:
        return commit ? ErrorCode.NONE : invalid();
      case TxnState.CompleteAbort:
        return commit ? invalid() : ErrorCode.NONE;
      case TxnState.PrepareCommit:
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : invalid();
      case TxnState.PrepareAbort:
        return commit ? invalid() : ErrorCode.CONCURRENT_TRANSACTIONS;
      case TxnState.Empty:
        return invalid();
      default:
        throw new IllegalTxnStateError(
          `${md.transactionalId} found in ${txnStateName(md.state)}, which is never stored`,
        );
    }
  }

  /**
   * Writes the markers of `md` (in PrepareCommit/PrepareAbort) to all its partitions, then
   * the Complete state. `failed` resolves at the first failed write (work continues in the
   * background, retrying until it succeeds or the coordinator closes); `done` when complete.
   */
  private sendMarkersAndComplete(
    md: TransactionMetadata,
    commit: boolean,
  ): { done: Promise<void>; failed: Promise<void> } {
    let signalFailure!: () => void;
    const failed = new Promise<void>((r) => (signalFailure = r));
    const partitions = md.partitions;
    const { producerId, producerEpoch } = md;
    const coordinatorEpoch = this.stateManager.coordinatorEpochFor(md.transactionalId);
    const retrying = async (what: string, attempt: () => Promise<boolean>): Promise<boolean> => {
      let backoff = this.retryBackoffMs;
      for (;;) {
        try {
          if (await attempt()) return true;
        } catch (e) {
          log.warn(`${md.transactionalId}: ${what} failed: ${(e as Error).message ?? e}`);
        }
        signalFailure();
        // Closing, or the partition moved to another coordinator, which completes it.
        if (this.closed || this.stateManager.get(md.transactionalId) !== md) return false;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    };
    const done = (async () => {
      const written = await Promise.all(
        partitions.map((tp) =>
          retrying(
            `${commit ? "commit" : "abort"} marker to ${tp.topic}-${tp.partition}`,
            () =>
              this.deps.markers.writeMarker(
                tp,
                producerId,
                producerEpoch,
                commit,
                coordinatorEpoch,
              )
                .then(() => true),
          )
        ),
      );
      if (written.some((w) => !w)) return; // closing: the restart completes it
      if (this.deps.onTransactionCompleted) {
        try {
          await this.deps.onTransactionCompleted(producerId, partitions, commit);
        } catch (e) {
          log.error(
            `${md.transactionalId}: completing offsets of producer ${producerId} failed: ${
              (e as Error).message ?? e
            }`,
          );
        }
      }
      await retrying(`writing ${commit ? "CompleteCommit" : "CompleteAbort"}`, async () => {
        if (this.stateManager.get(md.transactionalId) !== md) return true; // gone
        if (md.state !== TxnState.PrepareCommit && md.state !== TxnState.PrepareAbort) {
          return true; // completed by someone else: nothing left to do
        }
        if (md.pendingTransitionInProgress) return false; // retried after the backoff
        const t = md.prepareComplete(this.now());
        return (await this.stateManager.appendTransactionToLog(md, t)) === ErrorCode.NONE;
      });
    })();
    const tracked = done.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    // Callers may have stopped waiting (after `failed`): a late failure must still be seen.
    tracked.catch((e) =>
      log.error(`${md.transactionalId}: completing the transaction failed: ${e?.stack ?? e}`)
    );
    return { done: tracked, failed };
  }

  // ------------------------------------------------------------------ periodic tasks

  /** Aborts (with an epoch bump) every Ongoing transaction past its timeout. */
  abortTimedOutTransactions(): Promise<void> {
    const work: Promise<void>[] = [];
    for (const md of this.stateManager.timedOutTransactions(this.now())) {
      if (md.pendingTransitionInProgress) continue;
      let fence: TxnTransitMetadata;
      try {
        fence = md.prepareFenceProducerEpoch();
      } catch (e) {
        log.error(`cannot abort ${md.transactionalId} after its timeout: ${(e as Error).message}`);
        continue;
      }
      log.info(
        `aborting transaction ${md.transactionalId} (producer ${md.producerId}) after its ` +
          `timeout of ${md.txnTimeoutMs} ms; epoch bumped to ${fence.producerEpoch}`,
      );
      work.push(
        this.endTransaction(md.transactionalId, fence.producerId, fence.producerEpoch, false, false)
          .then((e) => {
            if (e !== ErrorCode.NONE) {
              log.warn(`timeout abort of ${md.transactionalId} failed with error ${e}`);
            }
          }),
      );
    }
    return Promise.all(work).then(() => {});
  }

  /** Removes transactional ids idle past transactional.id.expiration.ms (tombstones). */
  removeExpiredTransactionalIds(): Promise<void> {
    const expired = this.stateManager.expiredTransactionalIds(
      this.now(),
      this.deps.config.transactionalIdExpirationMs,
    );
    return Promise.all(expired.map(async (md) => {
      if (md.pendingTransitionInProgress) return;
      const t = md.prepareDead();
      const e = await this.stateManager.appendTransactionToLog(md, t);
      if (e === ErrorCode.NONE) log.info(`transactional id ${md.transactionalId} expired`);
    })).then(() => {});
  }

  // ------------------------------------------------------------------ admin

  describe(transactionalId: string): TransactionDescription | undefined {
    return describeTransaction(this.stateManager, transactionalId);
  }

  /** ListTransactions: filters as Kafka applies them; unknown state names are reported. */
  list(
    stateFilters: string[],
    producerIdFilters: number[],
    durationFilterMs = -1,
  ): { unknownStateFilters: string[]; transactions: TransactionDescription[] } {
    return listTransactions(
      this.stateManager,
      this.now(),
      stateFilters,
      producerIdFilters,
      durationFilterMs,
    );
  }
}
