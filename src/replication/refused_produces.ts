/**
 * Idempotent batches this broker refused for not leading their partition (yet), so that the
 * batches a producer pipelined behind them are refused the same way instead of failing with
 * OUT_OF_ORDER_SEQUENCE_NUMBER.
 *
 * Why: a client learns of a new leader from any broker's metadata, which may reflect the
 * etcd change a few milliseconds before the new leader's own view does (or before replication
 * has made it leader). Its retries arrive pipelined: batch N is refused with
 * NOT_LEADER_OR_FOLLOWER, the broker becomes leader, batch N+1 is checked against a producer
 * state that lacks N and fails OUT_OF_ORDER_SEQUENCE_NUMBER. librdkafka treats that as fatal
 * when N+1 is its head-of-line batch (N's earlier failure, e.g. a transport error on the dead
 * leader, counted as possibly persisted), the "sequence desynchronization" error. Kafka's
 * promise is that a new leader continues every producer's sequence, so here N+1 gets the same
 * retriable NOT_LEADER_OR_FOLLOWER as N, and the producer resends both in order.
 *
 * Precise, not timed: a batch is held back only when it is of the producer epoch of a refused
 * batch, starts after it, and the log's producer state has not reached the refused batch's
 * sequence (it was not written since, through another leader and replication) — exactly the
 * gap this broker's refusal made. The retry of the refused batch (its sequence or an earlier
 * one) clears the entry. Entries are few (one per producer and partition refused during a
 * leadership change) and bounded.
 */
import {
  MAGIC_OFFSET,
  MAGIC_V2,
  readBatchHeader,
  RECORD_BATCH_OVERHEAD,
} from "../../protocol/record_batch.ts";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { ProducerStateEntry, ProducerStateManager } from "../../storage/producer_state.ts";

/** The idempotence fields of a produce's first batch, or null (no producer id, not v2). */
export interface ProducedBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** Reads the first batch's producer fields; null for legacy message sets and plain producers. */
export function producedBatch(records: Uint8Array): ProducedBatch | null {
  if (records.length < RECORD_BATCH_OVERHEAD || records[MAGIC_OFFSET] !== MAGIC_V2) return null;
  try {
    const h = readBatchHeader(records, 0);
    if (h.producerId < 0 || h.baseSequence < 0) return null;
    return {
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
    };
  } catch {
    return null;
  }
}

/**
 * How long a refusal holds successors back: those already pipelined arrive within the
 * client's round trip; a longer bound only matters when the refused batch was acknowledged
 * elsewhere and lost (acks=1 on a leader that died), where the producer never resends it.
 */
export const REFUSAL_HOLD_MS = 5_000;

/** How many refusals are remembered (the oldest go first). */
const MAX_ENTRIES = 10_000;

const key = (topic: string, partition: number, producerId: number) =>
  `${topic}\u0000${partition}\u0000${producerId}`;

export class RefusedProduces {
  private readonly refused = new Map<
    string,
    { producerEpoch: number; baseSequence: number; at: number }
  >();

  /** Records that `records` for topic-partition was refused with NOT_LEADER_OR_FOLLOWER. */
  refuse(topic: string, partition: number, records: Uint8Array, now = Date.now()): void {
    const b = producedBatch(records);
    if (!b) return;
    const k = key(topic, partition, b.producerId);
    const had = this.refused.get(k);
    // The earliest refused sequence of the epoch is the gap's start.
    if (had && had.producerEpoch === b.producerEpoch && had.baseSequence <= b.baseSequence) {
      return;
    }
    this.refused.delete(k);
    this.refused.set(k, { producerEpoch: b.producerEpoch, baseSequence: b.baseSequence, at: now });
    if (this.refused.size > MAX_ENTRIES) {
      this.refused.delete(this.refused.keys().next().value!);
    }
  }

  /**
   * Whether `records` must be refused as its predecessor was: a later batch of the refused
   * batch's producer epoch, while the log (`producer`: its producer state entry) has not
   * reached the refused sequence, for REFUSAL_HOLD_MS. Anything else clears the entry.
   */
  holdsBack(
    topic: string,
    partition: number,
    records: Uint8Array,
    producer: ProducerStateEntry | undefined,
    now = Date.now(),
  ): boolean {
    if (this.refused.size === 0) return false;
    const b = producedBatch(records);
    if (!b) return false;
    const k = key(topic, partition, b.producerId);
    const r = this.refused.get(k);
    if (!r) return false;
    const last = producer && producer.producerEpoch === r.producerEpoch &&
        producer.batches.length > 0
      ? producer.batches[producer.batches.length - 1].lastSeq
      : -1;
    if (
      b.producerEpoch === r.producerEpoch && b.baseSequence > r.baseSequence &&
      last < r.baseSequence && now - r.at < REFUSAL_HOLD_MS
    ) {
      return true;
    }
    this.refused.delete(k);
    return false;
  }

  /** holdsBack for an append to `log`, read against its producer state. */
  holdsBackAppend(
    log: { topic: string; partition: number; producerState: ProducerStateManager },
    records: Uint8Array,
    now = Date.now(),
  ): boolean {
    if (this.refused.size === 0) return false;
    const b = producedBatch(records);
    if (!b) return false;
    const entry = log.producerState.get(b.producerId);
    return this.holdsBack(log.topic, log.partition, records, entry, now);
  }

  get size(): number {
    return this.refused.size;
  }
}

/** The refusal of an append to a partition this broker does not lead (yet). */
export function notLedYet(topic: string, partition: number): KafkaError {
  return new KafkaError(
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    `${topic}-${partition} is not led here (yet)`,
  );
}
