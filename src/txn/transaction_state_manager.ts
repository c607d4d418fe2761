/**
 * TransactionStateManager: the cache of TransactionMetadata by transactional id and its
 * persistence in `__transaction_state` (Kafka's class of the same name). Every state change
 * is appended to the log before it is applied to the cache; on start the cache is rebuilt by
 * reading the log (last record per transactional id wins, a null value deletes it).
 *
 * The log is reached through TxnLogStore so the state machine can be tested without storage.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { log } from "../log.ts";
import { decodeTxnKey, decodeTxnValue, encodeTxnKey, encodeTxnValue } from "./transaction_log.ts";
import { partitionFor } from "../internal_topic.ts";
import {
  TransactionMetadata,
  TxnState,
  txnStateName,
  type TxnTransitMetadata,
} from "./transaction_metadata.ts";

/** Where the transaction log lives: `__transaction_state` in the broker, memory in tests. */
export interface TxnLogStore {
  /** Partitions of the state topic (an existing topic's count wins over the configured one). */
  partitionCount(): number;
  /** Appends one record; resolves once it is in the log. Throws KafkaError on failure. */
  append(partition: number, key: Uint8Array, value: Uint8Array | null): Promise<void>;
  /** Every record, partition by partition in offset order (for loading). */
  readAll(): AsyncIterable<{ partition: number; key: Uint8Array; value: Uint8Array | null }>;
  /** The records of one partition in offset order (loading a partition this broker gained). */
  readPartition?(
    partition: number,
  ): AsyncIterable<{ partition: number; key: Uint8Array; value: Uint8Array | null }>;
}

/** One partition of the log this coordinator owns (cluster mode). */
interface OwnedPartition {
  /** Until its records are read into the cache, requests get COORDINATOR_LOAD_IN_PROGRESS. */
  loading: boolean;
  /** The partition's leader epoch when it was gained: the coordinator epoch of its markers. */
  coordinatorEpoch: number;
}

/** Kafka's mapping of log-append errors to what the client is told. */
function appendErrorToClientError(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

export class TransactionStateManager {
  private readonly cache = new Map<string, TransactionMetadata>();
  /**
   * The partitions of the log this coordinator owns, when it follows partition leadership
   * (cluster mode); null: every partition (a single broker).
   */
  private owned: Map<number, OwnedPartition> | null = null;

  constructor(
    private readonly store: TxnLogStore,
    readonly transactionMaxTimeoutMs: number,
  ) {}

  /** Kafka's validateTransactionTimeoutMs. */
  validateTransactionTimeoutMs(ms: number): boolean {
    return ms > 0 && ms <= this.transactionMaxTimeoutMs;
  }

  partitionCount(): number {
    return this.store.partitionCount();
  }

  partitionFor(transactionalId: string): number {
    return partitionFor(transactionalId, this.store.partitionCount());
  }

  /** From now on own only the partitions given by gainPartition (cluster mode). */
  followOwnership(): void {
    this.owned ??= new Map();
  }

  /**
   * NONE when this coordinator owns the id's partition and has loaded it; else
   * NOT_COORDINATOR, or COORDINATOR_LOAD_IN_PROGRESS while it is being loaded (Kafka's
   * TransactionStateManager.getTransactionState errors).
   */
  coordinatorError(transactionalId: string): number {
    if (!this.owned) return ErrorCode.NONE;
    const o = this.owned.get(this.partitionFor(transactionalId));
    if (!o) return ErrorCode.NOT_COORDINATOR;
    return o.loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
  }

  /** The coordinator epoch written into the id's markers (0 on a single broker). */
  coordinatorEpochFor(transactionalId: string): number {
    return this.owned?.get(this.partitionFor(transactionalId))?.coordinatorEpoch ?? 0;
  }

  /** The partitions owned (every one on a single broker). */
  ownedPartitions(): number[] {
    if (this.owned) return [...this.owned.keys()].sort((a, b) => a - b);
    return Array.from({ length: this.store.partitionCount() }, (_, i) => i);
  }

  /**
   * Takes a partition over (cluster mode): reads its records into the cache, answering
   * COORDINATOR_LOAD_IN_PROGRESS for its ids meanwhile. Resolves to the ids loaded, or null
   * when the partition was lost again (or regained at a later epoch) before loading ended.
   */
  async gainPartition(
    partition: number,
    coordinatorEpoch: number,
  ): Promise<TransactionMetadata[] | null> {
    this.followOwnership();
    const owned = this.owned!;
    const existing = owned.get(partition);
    if (existing && existing.coordinatorEpoch >= coordinatorEpoch) return [];
    if (existing) this.dropPartition(partition);
    const entry: OwnedPartition = { loading: true, coordinatorEpoch };
    owned.set(partition, entry);
    const latest = new Map<string, TxnTransitMetadata | null>();
    try {
      await this.readRecords(this.recordsOf(partition), latest);
    } catch (e) {
      if (owned.get(partition) === entry) owned.delete(partition);
      throw e;
    }
    if (owned.get(partition) !== entry) return null;
    const loaded: TransactionMetadata[] = [];
    for (const [id, t] of latest) {
      if (t === null || t.txnState === TxnState.Dead) continue;
      if (this.partitionFor(id) !== partition) continue;
      const md = TransactionMetadata.fromTransit(id, t);
      this.cache.set(id, md);
      loaded.push(md);
    }
    entry.loading = false;
    (loaded.length > 0 ? log.info : log.debug)(
      `${loaded.length} transactional id(s) loaded from __transaction_state-${partition} ` +
        `(coordinator epoch ${coordinatorEpoch})`,
    );
    return loaded;
  }

  /** Gives a partition up (cluster mode): its ids leave the cache, requests get NOT_COORDINATOR. */
  losePartition(partition: number): void {
    this.followOwnership();
    if (!this.owned!.has(partition)) return;
    this.owned!.delete(partition);
    this.dropPartition(partition);
    log.info(`__transaction_state-${partition} unloaded: no longer its coordinator`);
  }

  private dropPartition(partition: number): void {
    for (const id of [...this.cache.keys()]) {
      if (this.partitionFor(id) === partition) this.cache.delete(id);
    }
  }

  private recordsOf(
    partition: number,
  ): AsyncIterable<{ partition: number; key: Uint8Array; value: Uint8Array | null }> {
    if (this.store.readPartition) return this.store.readPartition(partition);
    const all = this.store.readAll();
    return (async function* () {
      for await (const r of all) if (r.partition === partition) yield r;
    })();
  }

  get(transactionalId: string): TransactionMetadata | undefined {
    return this.cache.get(transactionalId);
  }

  /** Adds `md` unless the id is already cached; returns the cached one. */
  putIfNotExists(md: TransactionMetadata): TransactionMetadata {
    const existing = this.cache.get(md.transactionalId);
    if (existing) return existing;
    this.cache.set(md.transactionalId, md);
    return md;
  }

  all(): IterableIterator<TransactionMetadata> {
    return this.cache.values();
  }

  get size(): number {
    return this.cache.size;
  }

  /**
   * Writes `transit` (prepared on `md`, so `md.pendingState` is set) to the log, then applies
   * it. Returns the error code for the client: NONE, or the append failure mapped as Kafka
   * does, in which case the pending transition is dropped and `md` is unchanged.
   */
  async appendTransactionToLog(
    md: TransactionMetadata,
    transit: TxnTransitMetadata,
  ): Promise<number> {
    const key = encodeTxnKey(md.transactionalId);
    const value = transit.txnState === TxnState.Dead ? null : encodeTxnValue(transit);
    const partition = this.partitionFor(md.transactionalId);
    const owner = this.owned?.get(partition);
    try {
      await this.store.append(partition, key, value);
    } catch (e) {
      md.pendingState = null;
      const code = e instanceof KafkaError ? e.code : ErrorCode.UNKNOWN_SERVER_ERROR;
      log.warn(
        `transaction log append for ${md.transactionalId} (${
          txnStateName(transit.txnState)
        }) failed: ${e instanceof Error ? e.message : String(e)}`,
      );
      return appendErrorToClientError(code);
    }
    if (
      this.owned &&
      (this.owned.get(partition) !== owner || this.cache.get(md.transactionalId) !== md)
    ) {
      // The partition moved to another coordinator while the record was written.
      md.pendingState = null;
      return ErrorCode.NOT_COORDINATOR;
    }
    md.completeTransitionTo(transit);
    if (transit.txnState === TxnState.Dead && this.cache.get(md.transactionalId) === md) {
      this.cache.delete(md.transactionalId);
    }
    return ErrorCode.NONE;
  }

  /**
   * Rebuilds the cache from the log. Unreadable records are skipped with a warning (a
   * compacted-away or foreign record must not stop the broker).
   */
  async load(): Promise<{ loaded: number; records: number }> {
    const latest = new Map<string, TxnTransitMetadata | null>();
    const records = await this.readRecords(this.store.readAll(), latest);
    this.cache.clear();
    for (const [id, t] of latest) {
      if (t === null || t.txnState === TxnState.Dead) continue;
      this.cache.set(id, TransactionMetadata.fromTransit(id, t));
    }
    return { loaded: this.cache.size, records };
  }

  /** The last state per id of `source` into `latest` (null: deleted); returns the count read. */
  private async readRecords(
    source: AsyncIterable<{ key: Uint8Array; value: Uint8Array | null }>,
    latest: Map<string, TxnTransitMetadata | null>,
  ): Promise<number> {
    let records = 0;
    for await (const r of source) {
      records++;
      let id: string;
      try {
        id = decodeTxnKey(r.key);
      } catch (e) {
        log.warn(`skipping unreadable transaction log key: ${(e as Error).message}`);
        continue;
      }
      if (r.value === null) {
        latest.set(id, null);
        continue;
      }
      try {
        latest.set(id, decodeTxnValue(r.value));
      } catch (e) {
        log.warn(`skipping unreadable transaction log value of ${id}: ${(e as Error).message}`);
      }
    }
    return records;
  }

  /** Ongoing transactions past their timeout with nothing pending (Kafka's timedOutTransactions). */
  timedOutTransactions(now: number): TransactionMetadata[] {
    const out: TransactionMetadata[] = [];
    for (const md of this.cache.values()) {
      if (md.pendingTransitionInProgress || md.state !== TxnState.Ongoing) continue;
      if (md.txnStartTimestamp + md.txnTimeoutMs < now) out.push(md);
    }
    return out;
  }

  /** Idle ids older than `expirationMs` (Empty or completed, nothing pending). */
  expiredTransactionalIds(now: number, expirationMs: number): TransactionMetadata[] {
    const out: TransactionMetadata[] = [];
    for (const md of this.cache.values()) {
      if (md.pendingTransitionInProgress) continue;
      const idle = md.state === TxnState.Empty || md.state === TxnState.CompleteCommit ||
        md.state === TxnState.CompleteAbort;
      if (idle && md.txnLastUpdateTimestamp <= now - expirationMs) out.push(md);
    }
    return out;
  }
}
