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

  constructor(
    private readonly store: TxnLogStore,
    readonly transactionMaxTimeoutMs: number,
  ) {}

  /** Kafka's validateTransactionTimeoutMs. */
  validateTransactionTimeoutMs(ms: number): boolean {
    return ms > 0 && ms <= this.transactionMaxTimeoutMs;
  }

  partitionFor(transactionalId: string): number {
    return partitionFor(transactionalId, this.store.partitionCount());
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
    try {
      await this.store.append(this.partitionFor(md.transactionalId), key, value);
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
    let records = 0;
    for await (const r of this.store.readAll()) {
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
    this.cache.clear();
    for (const [id, t] of latest) {
      if (t === null || t.txnState === TxnState.Dead) continue;
      this.cache.set(id, TransactionMetadata.fromTransit(id, t));
    }
    return { loaded: this.cache.size, records };
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
