/**
 * ProducerStateManager: per-partition idempotence and transaction bookkeeping, after Kafka's
 * class of the same name. For every producer id it keeps the epoch, the last five batches'
 * sequence/offset ranges (enough to recognise any retry of the producer's five in-flight
 * requests) and the first offset of its ongoing transaction, which bounds the last stable offset.
 *
 * An append is checked against a staged copy (ProducerAppendInfo) so a request that fails
 * half-way changes nothing; the partition log commits the staged entries after the write.
 * The state is rebuilt on recovery by replaying batch headers, starting from a snapshot.
 */
import {
  type BatchHeader,
  ControlRecordType,
  isControl,
  isTransactional,
  lastOffset,
  lastSequence,
} from "../protocol/record_batch.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN. */
export const NUM_BATCHES_TO_RETAIN = 5;
const INT32_MAX = 0x7fffffff;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerStateEntry {
  producerId: number;
  producerEpoch: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
  /** First offset of the ongoing transaction, -1 when none. */
  currentTxnFirstOffset: number;
  coordinatorEpoch: number;
  lastTimestamp: number;
}

/** A transaction ended by a marker in this append. */
export interface CompletedTxn {
  producerId: number;
  firstOffset: number;
  /** Offset of the marker. */
  lastOffset: number;
  isAborted: boolean;
}

/** A retried batch already in the log: ack it with its original offsets. */
export interface DuplicateBatch {
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

/** Kafka's inSequence: the next batch must start right after the last, wrapping at int32 max. */
export function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

function copyEntry(e: ProducerStateEntry): ProducerStateEntry {
  return { ...e, batches: e.batches.slice() };
}

function emptyEntry(producerId: number): ProducerStateEntry {
  return {
    producerId,
    producerEpoch: -1,
    batches: [],
    currentTxnFirstOffset: -1,
    coordinatorEpoch: -1,
    lastTimestamp: -1,
  };
}

/** Staged producer updates for one append; nothing is visible until committed. */
export class ProducerAppendInfo {
  readonly updated: Map<number, ProducerStateEntry> = new Map();
  readonly completedTxns: CompletedTxn[] = [];

  constructor(private readonly manager: ProducerStateManager) {}

  private entryFor(producerId: number): ProducerStateEntry {
    let e = this.updated.get(producerId);
    if (!e) {
      const current = this.manager.get(producerId);
      e = current ? copyEntry(current) : emptyEntry(producerId);
      this.updated.set(producerId, e);
    }
    return e;
  }

  /**
   * Checks (when `validate`) and stages one offset-assigned batch. Returns the original batch
   * when it is an exact retry of one of the producer's last five, else null. `controlType` is
   * the marker type for control batches (ControlRecordType), -1 if unknown; `coordinatorEpoch`
   * a marker's coordinator epoch (-1 if unknown), refused with TRANSACTION_COORDINATOR_FENCED
   * when `fenceCoordinator` and the producer already has a marker of a newer coordinator (a
   * stale coordinator's late marker, as Kafka's ProducerAppendInfo checks).
   * Throws INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER or INVALID_TXN_STATE.
   */
  append(
    h: BatchHeader,
    validate: boolean,
    controlType = -1,
    coordinatorEpoch = -1,
    fenceCoordinator = false,
  ): DuplicateBatch | null {
    if (h.producerId < 0) return null;
    if (validate && !isControl(h)) {
      const dup = this.manager.findDuplicate(h);
      if (dup) return dup;
    }
    const e = this.entryFor(h.producerId);
    if (validate && h.producerEpoch < e.producerEpoch) {
      throw new KafkaError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `producer ${h.producerId} epoch ${h.producerEpoch} is older than ${e.producerEpoch}`,
      );
    }
    if (isControl(h)) {
      if (coordinatorEpoch >= 0) {
        if (fenceCoordinator && e.coordinatorEpoch > coordinatorEpoch) {
          throw new KafkaError(
            ErrorCode.TRANSACTION_COORDINATOR_FENCED,
            `marker of coordinator epoch ${coordinatorEpoch} for producer ${h.producerId}, ` +
              `which has one of epoch ${e.coordinatorEpoch}`,
          );
        }
        e.coordinatorEpoch = coordinatorEpoch;
      }
      const firstOffset = e.currentTxnFirstOffset >= 0 ? e.currentTxnFirstOffset : h.baseOffset;
      this.completedTxns.push({
        producerId: h.producerId,
        firstOffset,
        lastOffset: lastOffset(h),
        isAborted: controlType === ControlRecordType.ABORT,
      });
      if (e.producerEpoch !== h.producerEpoch) {
        e.producerEpoch = h.producerEpoch;
        e.batches = [];
      }
      e.currentTxnFirstOffset = -1;
      e.lastTimestamp = h.maxTimestamp;
      return null;
    }
    if (validate) this.checkSequence(e, h);
    if (isTransactional(h)) {
      if (e.currentTxnFirstOffset < 0) e.currentTxnFirstOffset = h.baseOffset;
    } else if (validate && e.currentTxnFirstOffset >= 0) {
      throw new KafkaError(
        ErrorCode.INVALID_TXN_STATE,
        `producer ${h.producerId} sent a non-transactional batch inside a transaction`,
      );
    }
    if (e.producerEpoch !== h.producerEpoch) {
      e.producerEpoch = h.producerEpoch;
      e.batches = [];
    }
    e.batches.push({
      firstSeq: h.baseSequence,
      lastSeq: lastSequence(h),
      firstOffset: h.baseOffset,
      lastOffset: lastOffset(h),
      timestamp: h.maxTimestamp,
    });
    if (e.batches.length > NUM_BATCHES_TO_RETAIN) e.batches.shift();
    e.lastTimestamp = h.maxTimestamp;
    return null;
  }

  private checkSequence(e: ProducerStateEntry, h: BatchHeader): void {
    if (h.producerEpoch !== e.producerEpoch) {
      // A new epoch must start at sequence 0. A producer this partition has no state for
      // (never seen, or its batches removed by retention) may start anywhere, as in Kafka
      // 2.5+: a long-lived producer must survive its old records expiring.
      if (h.baseSequence !== 0 && e.producerEpoch !== -1) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `producer ${h.producerId} epoch ${h.producerEpoch} must start at sequence 0, got ${h.baseSequence}`,
        );
      }
      return;
    }
    const lastSeq = e.batches.length > 0 ? e.batches[e.batches.length - 1].lastSeq : -1;
    if (!inSequence(lastSeq, h.baseSequence)) {
      throw new KafkaError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${h.producerId}: sequence ${h.baseSequence} does not follow ${lastSeq}`,
      );
    }
  }
}

/** Serialisable form of the manager, written into producer snapshots. */
export interface ProducerStateSnapshot {
  producers: ProducerStateEntry[];
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerStateEntry>();
  /** producerId -> first offset of its ongoing transaction. */
  private readonly ongoing = new Map<number, number>();
  private firstUnstable: number | null | undefined = null;

  get(producerId: number): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  get size(): number {
    return this.producers.size;
  }

  /** Every producer with state in this partition (for DescribeProducers). */
  activeProducers(): ProducerStateEntry[] {
    return [...this.producers.values()];
  }

  /** The batch `h` repeats exactly (same epoch and sequence range), if any. */
  findDuplicate(h: BatchHeader): DuplicateBatch | null {
    const e = this.producers.get(h.producerId);
    if (!e || e.producerEpoch !== h.producerEpoch) return null;
    const last = lastSequence(h);
    for (const b of e.batches) {
      if (b.firstSeq === h.baseSequence && b.lastSeq === last) {
        return { firstOffset: b.firstOffset, lastOffset: b.lastOffset, timestamp: b.timestamp };
      }
    }
    return null;
  }

  prepareAppend(): ProducerAppendInfo {
    return new ProducerAppendInfo(this);
  }

  /** Makes a staged append visible (after its batches were written). */
  commit(info: ProducerAppendInfo): void {
    for (const [pid, e] of info.updated) {
      this.producers.set(pid, e);
      const had = this.ongoing.get(pid);
      if (e.currentTxnFirstOffset >= 0) {
        if (had !== e.currentTxnFirstOffset) {
          this.ongoing.set(pid, e.currentTxnFirstOffset);
          this.firstUnstable = undefined;
        }
      } else if (had !== undefined) {
        this.ongoing.delete(pid);
        this.firstUnstable = undefined;
      }
    }
  }

  /** Replays one batch from the log without validation (recovery). */
  replay(h: BatchHeader, controlType = -1): CompletedTxn[] {
    if (h.producerId < 0) return [];
    const info = this.prepareAppend();
    info.append(h, false, controlType);
    this.commit(info);
    return info.completedTxns;
  }

  /** The first offset of the earliest ongoing transaction, or null (bounds the LSO). */
  firstUnstableOffset(): number | null {
    if (this.firstUnstable === undefined) {
      let min: number | null = null;
      for (const o of this.ongoing.values()) if (min === null || o < min) min = o;
      this.firstUnstable = min;
    }
    return this.firstUnstable;
  }

  /** Ongoing transactions as (producerId, firstOffset). */
  ongoingTransactions(): { producerId: number; firstOffset: number }[] {
    return [...this.ongoing].map(([producerId, firstOffset]) => ({ producerId, firstOffset }));
  }

  /**
   * Forgets producers idle for longer than `maxAgeMs` (Kafka's producer.id.expiration.ms),
   * except those in a transaction. Not scheduled yet; here for the retention task.
   */
  removeExpiredProducers(now: number, maxAgeMs: number): number {
    let removed = 0;
    for (const [pid, e] of this.producers) {
      if (e.currentTxnFirstOffset < 0 && now - e.lastTimestamp > maxAgeMs) {
        this.producers.delete(pid);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.producers.clear();
    this.ongoing.clear();
    this.firstUnstable = null;
  }

  toSnapshot(): ProducerStateSnapshot {
    return { producers: this.activeProducers().map(copyEntry) };
  }

  loadSnapshot(s: ProducerStateSnapshot): void {
    this.clear();
    for (const e of s.producers) {
      const entry = copyEntry(e);
      this.producers.set(entry.producerId, entry);
      if (entry.currentTxnFirstOffset >= 0) {
        this.ongoing.set(entry.producerId, entry.currentTxnFirstOffset);
      }
    }
    this.firstUnstable = undefined;
  }
}
