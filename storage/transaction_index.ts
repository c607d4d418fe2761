/**
 * TransactionIndex: the aborted transactions of one partition, oldest first, as Kafka keeps
 * them in `.txnindex` files. read_committed fetches ask which aborted transactions overlap the
 * range they return; the LogCleaner asks which ones a segment holds. Here the list lives in
 * memory and is persisted inside the producer-state snapshot (storage/producer_snapshot.ts),
 * then rolled forward by replaying batches after it.
 */
import type { CompletedTxn } from "./producer_state.ts";

/** An aborted transaction, for read_committed fetches (Kafka's .txnindex entries). */
export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

export class TransactionIndex {
  private readonly txns: AbortedTxn[] = [];

  /** Every entry, oldest first (what a snapshot stores). */
  get all(): AbortedTxn[] {
    return this.txns;
  }

  /** Adds the entries a snapshot held. */
  load(txns: AbortedTxn[]): void {
    this.txns.push(...txns);
  }

  /** Forgets every entry (before a rebuild after truncation). */
  clear(): void {
    this.txns.length = 0;
  }

  /** Records a transaction a marker completed; only aborted ones are indexed. */
  add(t: CompletedTxn): void {
    if (t.isAborted) {
      this.txns.push({
        producerId: t.producerId,
        firstOffset: t.firstOffset,
        lastOffset: t.lastOffset,
      });
    }
  }

  /** Drops the entries wholly below the log start offset. */
  prune(logStartOffset: number): void {
    let n = 0;
    while (n < this.txns.length && this.txns[n].lastOffset < logStartOffset) n++;
    if (n > 0) this.txns.splice(0, n);
  }

  /** Entries overlapping [startOffset, upperBound) (a fetch's range). */
  overlapping(startOffset: number, upperBound: number): AbortedTxn[] {
    return this.txns.filter((t) => t.lastOffset >= startOffset && t.firstOffset < upperBound);
  }

  /** Entries overlapping [startOffset, endOffset] (a segment's range). */
  within(startOffset: number, endOffset: number): AbortedTxn[] {
    return this.txns.filter((t) => t.lastOffset >= startOffset && t.firstOffset <= endOffset);
  }
}
