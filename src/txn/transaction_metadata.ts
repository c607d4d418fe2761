/**
 * TransactionMetadata: the coordinator's view of one transactional id, after Kafka's class
 * of the same name (kafka.coordinator.transaction.TransactionMetadata). Every change is made
 * in two steps, as in Kafka: a `prepare*` method validates the transition, records it as the
 * pending state and returns the target (a TxnTransitMetadata); once the target has been
 * written to `__transaction_state`, `completeTransitionTo` applies it (or the write failed
 * and `pendingState` is cleared). While a transition is pending, other requests for the id
 * get CONCURRENT_TRANSACTIONS.
 *
 * States and their legal predecessors (Kafka's TransactionState.validPreviousStates):
 *   Empty             ← Empty, CompleteCommit, CompleteAbort
 *   Ongoing           ← Ongoing, Empty, CompleteCommit, CompleteAbort
 *   PrepareCommit     ← Ongoing
 *   PrepareAbort      ← Ongoing, PrepareEpochFence
 *   CompleteCommit    ← PrepareCommit
 *   CompleteAbort     ← PrepareAbort
 *   Dead              ← Empty, CompleteCommit, CompleteAbort
 *   PrepareEpochFence ← Ongoing   (in memory only: never written to the log)
 */

/** Kafka's TransactionState ids (the TransactionStatus byte of the log value). */
export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnState = (typeof TxnState)[keyof typeof TxnState];

const STATE_NAMES = [
  "Empty",
  "Ongoing",
  "PrepareCommit",
  "PrepareAbort",
  "CompleteCommit",
  "CompleteAbort",
  "Dead",
  "PrepareEpochFence",
] as const;

/** Kafka's state name (DescribeTransactions, ListTransactions, logs). */
export function txnStateName(s: TxnState): string {
  return STATE_NAMES[s];
}

/** The state with this name (ListTransactions filters), or undefined. */
export function txnStateFromName(name: string): TxnState | undefined {
  const i = STATE_NAMES.indexOf(name as (typeof STATE_NAMES)[number]);
  return i < 0 ? undefined : i as TxnState;
}

const VALID_PREVIOUS: Record<TxnState, readonly TxnState[]> = {
  [TxnState.Empty]: [TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.Ongoing]: [
    TxnState.Ongoing,
    TxnState.Empty,
    TxnState.CompleteCommit,
    TxnState.CompleteAbort,
  ],
  [TxnState.PrepareCommit]: [TxnState.Ongoing],
  [TxnState.PrepareAbort]: [TxnState.Ongoing, TxnState.PrepareEpochFence],
  [TxnState.CompleteCommit]: [TxnState.PrepareCommit],
  [TxnState.CompleteAbort]: [TxnState.PrepareAbort],
  [TxnState.Dead]: [TxnState.Empty, TxnState.CompleteAbort, TxnState.CompleteCommit],
  [TxnState.PrepareEpochFence]: [TxnState.Ongoing],
};

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
const SHORT_MAX = 0x7fff;

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Map key of a partition (':' cannot occur in a topic name). */
export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** The target of a transition: what is written to the log and applied once it is. */
export interface TxnTransitMetadata {
  producerId: number;
  lastProducerId: number;
  producerEpoch: number;
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  txnState: TxnState;
  topicPartitions: TopicPartition[];
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
}

/** A transition the current state does not allow: a coordinator bug, never a client error. */
export class IllegalTxnStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IllegalTxnStateError";
  }
}

export class TransactionMetadata {
  /** Partitions written in the ongoing transaction. */
  readonly topicPartitions: Map<string, TopicPartition> = new Map();
  pendingState: TxnState | null = null;
  /** An epoch fence whose log write failed: the next fence reuses the bumped epoch. */
  hasFailedEpochFence = false;

  constructor(
    readonly transactionalId: string,
    public producerId: number,
    public lastProducerId: number,
    public producerEpoch: number,
    public lastProducerEpoch: number,
    public txnTimeoutMs: number,
    public state: TxnState,
    partitions: Iterable<TopicPartition>,
    public txnStartTimestamp: number,
    public txnLastUpdateTimestamp: number,
  ) {
    for (const tp of partitions) this.topicPartitions.set(tpKey(tp.topic, tp.partition), tp);
  }

  /** A new transactional id: Empty, no epoch yet (the first InitProducerId bumps it to 0). */
  static create(
    transactionalId: string,
    producerId: number,
    txnTimeoutMs: number,
    now: number,
  ): TransactionMetadata {
    return new TransactionMetadata(
      transactionalId,
      producerId,
      NO_PRODUCER_ID,
      NO_PRODUCER_EPOCH,
      NO_PRODUCER_EPOCH,
      txnTimeoutMs,
      TxnState.Empty,
      [],
      -1,
      now,
    );
  }

  get pendingTransitionInProgress(): boolean {
    return this.pendingState !== null;
  }

  /** Kafka keeps the last two epochs for fencing and bumps; a new producer id is then needed. */
  get isProducerEpochExhausted(): boolean {
    return this.producerEpoch >= SHORT_MAX - 1;
  }

  get partitions(): TopicPartition[] {
    return [...this.topicPartitions.values()];
  }

  hasPartition(topic: string, partition: number): boolean {
    return this.topicPartitions.has(tpKey(topic, partition));
  }

  /** A copy of the current state as a transit target (for loading and tests). */
  snapshot(): TxnTransitMetadata {
    return {
      producerId: this.producerId,
      lastProducerId: this.lastProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      txnTimeoutMs: this.txnTimeoutMs,
      txnState: this.state,
      topicPartitions: this.partitions,
      txnStartTimestamp: this.txnStartTimestamp,
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
    };
  }

  private prepareTransitionTo(t: TxnTransitMetadata): TxnTransitMetadata {
    if (this.pendingState !== null) {
      throw new IllegalTxnStateError(
        `${this.transactionalId}: cannot prepare ${txnStateName(t.txnState)} while ` +
          `${txnStateName(this.pendingState)} is pending`,
      );
    }
    if (t.producerEpoch > SHORT_MAX || t.lastProducerEpoch > SHORT_MAX) {
      throw new IllegalTxnStateError(`${this.transactionalId}: producer epoch overflow`);
    }
    if (!VALID_PREVIOUS[t.txnState].includes(this.state)) {
      throw new IllegalTxnStateError(
        `${this.transactionalId}: ${txnStateName(this.state)} → ${
          txnStateName(t.txnState)
        } is not a valid transition`,
      );
    }
    this.pendingState = t.txnState;
    return t;
  }

  private target(over: Partial<TxnTransitMetadata>): TxnTransitMetadata {
    return { ...this.snapshot(), ...over };
  }

  /**
   * InitProducerId on an idle transactional id: bump the epoch (a new producer fences the
   * old one), or — KIP-360 — let a producer that passes its current epoch resume after an
   * abortable error. Returns "PRODUCER_FENCED" when the expected epoch is stale.
   */
  prepareIncrementProducerEpoch(
    newTxnTimeoutMs: number,
    expectedProducerEpoch: number | null,
    now: number,
  ): TxnTransitMetadata | "PRODUCER_FENCED" {
    if (this.isProducerEpochExhausted) {
      throw new IllegalTxnStateError(`${this.transactionalId}: producer epoch exhausted`);
    }
    const bumped = this.producerEpoch + 1;
    let next: number;
    let last: number;
    if (expectedProducerEpoch === null) {
      // A new producer instance: bump, and forget the last epoch so the old one cannot retry.
      next = bumped;
      last = NO_PRODUCER_EPOCH;
    } else if (
      this.producerEpoch === NO_PRODUCER_EPOCH || expectedProducerEpoch === this.producerEpoch
    ) {
      // The producer continues after an error and nobody else initialised since: bump.
      next = bumped;
      last = this.producerEpoch;
    } else if (expectedProducerEpoch === this.lastProducerEpoch) {
      // A retry of a bump whose response was lost: answer with the current epoch again.
      next = this.producerEpoch;
      last = this.lastProducerEpoch;
    } else {
      return "PRODUCER_FENCED";
    }
    return this.prepareTransitionTo(this.target({
      producerEpoch: next,
      lastProducerEpoch: last,
      txnTimeoutMs: newTxnTimeoutMs,
      txnState: TxnState.Empty,
      topicPartitions: [],
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    }));
  }

  /** The epoch ran out: continue under a new producer id at epoch 0. */
  prepareProducerIdRotation(
    newProducerId: number,
    newTxnTimeoutMs: number,
    now: number,
    recordLastEpoch: boolean,
  ): TxnTransitMetadata {
    return this.prepareTransitionTo(this.target({
      producerId: newProducerId,
      lastProducerId: this.producerId,
      producerEpoch: 0,
      lastProducerEpoch: recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      txnTimeoutMs: newTxnTimeoutMs,
      txnState: TxnState.Empty,
      topicPartitions: [],
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    }));
  }

  /**
   * Fences the current producer of an ongoing transaction (a new InitProducerId, or the
   * transaction timed out): the epoch is bumped and the transaction is then aborted under it,
   * so markers carry the new epoch and the old producer's writes are refused everywhere.
   */
  prepareFenceProducerEpoch(): TxnTransitMetadata {
    if (this.producerEpoch >= SHORT_MAX) {
      throw new IllegalTxnStateError(`${this.transactionalId}: cannot fence epoch ${SHORT_MAX}`);
    }
    const bumped = this.hasFailedEpochFence ? this.producerEpoch : this.producerEpoch + 1;
    return this.prepareTransitionTo(this.target({
      producerEpoch: bumped,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      txnState: TxnState.PrepareEpochFence,
    }));
  }

  prepareAddPartitions(added: Iterable<TopicPartition>, now: number): TxnTransitMetadata {
    const parts = new Map(this.topicPartitions);
    for (const tp of added) parts.set(tpKey(tp.topic, tp.partition), tp);
    const fresh = this.state === TxnState.Empty || this.state === TxnState.CompleteAbort ||
      this.state === TxnState.CompleteCommit;
    return this.prepareTransitionTo(this.target({
      txnState: TxnState.Ongoing,
      topicPartitions: [...parts.values()],
      txnStartTimestamp: fresh ? now : this.txnStartTimestamp,
      txnLastUpdateTimestamp: now,
    }));
  }

  prepareAbortOrCommit(
    newState: typeof TxnState.PrepareCommit | typeof TxnState.PrepareAbort,
    now: number,
  ): TxnTransitMetadata {
    return this.prepareTransitionTo(
      this.target({ txnState: newState, txnLastUpdateTimestamp: now }),
    );
  }

  /** After every marker is written: CompleteCommit or CompleteAbort, partitions cleared. */
  prepareComplete(now: number): TxnTransitMetadata {
    const newState = this.state === TxnState.PrepareCommit
      ? TxnState.CompleteCommit
      : TxnState.CompleteAbort;
    this.hasFailedEpochFence = false;
    return this.prepareTransitionTo(this.target({
      txnState: newState,
      topicPartitions: [],
      txnLastUpdateTimestamp: now,
    }));
  }

  /** Expiry of an idle transactional id (a tombstone is written). */
  prepareDead(): TxnTransitMetadata {
    return this.prepareTransitionTo(this.target({ txnState: TxnState.Dead, topicPartitions: [] }));
  }

  /**
   * Turns a pending PrepareEpochFence into the PrepareAbort that aborts the fenced
   * transaction (Kafka's endTransaction with isEpochFence): the bumped epoch becomes current.
   */
  prepareAbortAfterFence(fencedEpoch: number, now: number): TxnTransitMetadata {
    if (this.pendingState !== TxnState.PrepareEpochFence) {
      throw new IllegalTxnStateError(`${this.transactionalId}: no epoch fence pending`);
    }
    this.pendingState = null;
    this.producerEpoch = fencedEpoch;
    this.lastProducerEpoch = NO_PRODUCER_EPOCH;
    return this.prepareAbortOrCommit(TxnState.PrepareAbort, now);
  }

  /** Applies a transition once it is in the log. */
  completeTransitionTo(t: TxnTransitMetadata): void {
    if (this.pendingState !== t.txnState) {
      throw new IllegalTxnStateError(
        `${this.transactionalId}: completing ${txnStateName(t.txnState)} but ${
          this.pendingState === null ? "nothing" : txnStateName(this.pendingState)
        } is pending`,
      );
    }
    this.producerId = t.producerId;
    this.lastProducerId = t.lastProducerId;
    this.producerEpoch = t.producerEpoch;
    this.lastProducerEpoch = t.lastProducerEpoch;
    this.txnTimeoutMs = t.txnTimeoutMs;
    this.state = t.txnState;
    this.topicPartitions.clear();
    for (const tp of t.topicPartitions) {
      this.topicPartitions.set(tpKey(tp.topic, tp.partition), tp);
    }
    this.txnStartTimestamp = t.txnStartTimestamp;
    this.txnLastUpdateTimestamp = t.txnLastUpdateTimestamp;
    this.pendingState = null;
  }

  /** Loads a state read from the log (no pending transition). */
  static fromTransit(transactionalId: string, t: TxnTransitMetadata): TransactionMetadata {
    return new TransactionMetadata(
      transactionalId,
      t.producerId,
      t.lastProducerId,
      t.producerEpoch,
      t.lastProducerEpoch,
      t.txnTimeoutMs,
      t.txnState,
      t.topicPartitions,
      t.txnStartTimestamp,
      t.txnLastUpdateTimestamp,
    );
  }
}
