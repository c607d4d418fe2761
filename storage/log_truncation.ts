/**
 * What truncating a partition's log may and may not do (PartitionLog.truncateTo and
 * truncateFullyAndStartAt; the segments' part is each LocalLogStore's).
 *
 * Order, so a kill -9 at any point leaves a log that opens: producer snapshots above the
 * point go first (a cache: losing one early costs a longer replay); then the segments after
 * it, newest first, so the log stays contiguous; then the last one is cut (file first, its
 * indexes after: it is the last segment then, which recovery after an unclean shutdown checks
 * batch by batch and re-indexes). The leader epoch checkpoint is trimmed after the segments;
 * if that write is lost, the next open trims it to the log end again. The high watermark
 * checkpoint may name an offset above the new log end; a checkpointed HW is clamped to it on
 * open. A crash part way thus leaves a log cut somewhere at or after the target, which the
 * follower truncates again (its leader epoch comparison sees the same divergence).
 *
 * The cold tier bound: batches copied to the cold tier (offsets up to
 * highestOffsetInRemoteStorage) are the partition's for good (only a leader copies, and only
 * below its high watermark), so no truncation may reach them: truncateTo an offset at or below
 * it, or truncateFullyAndStartAt one, throws KAFKA_STORAGE_ERROR and changes nothing.
 * truncateFullyAndStartAt above it, with a log start offset below the new start, keeps the
 * cold tier's segments readable between the two (reads below the first local segment go to
 * the cold tier, as for any tiered partition), as Kafka's follower does when it rebuilds its
 * state from tiered storage (KIP-405).
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";

/** The part of a partition's log the cold tier bound needs. */
export interface ColdTierBounded {
  readonly topic: string;
  readonly partition: number;
  /** The last offset in the cold tier, -1 when none. */
  readonly highestOffsetInRemoteStorage: number;
}

/** Throws KAFKA_STORAGE_ERROR when truncating to `offset` would cut into the cold tier. */
export function checkAboveColdTier(log: ColdTierBounded, offset: number, what: string): void {
  const tiered = log.highestOffsetInRemoteStorage;
  if (tiered >= 0 && offset <= tiered) {
    throw new KafkaError(
      ErrorCode.KAFKA_STORAGE_ERROR,
      `${log.topic}-${log.partition}: cannot ${what} at offset ${offset}: the cold tier holds offsets up to ${tiered}`,
    );
  }
}
