/**
 * The seam between a partition's log and its cold tier: PartitionLog reads below its local
 * log start through this view, and the RemoteLogManager's RemotePartition implements it.
 * Neither side needs the other's class.
 */
import type { TimestampOffset } from "./time_index.ts";

/**
 * The cold tier of one partition as the log sees it (implemented by the RemoteLogManager):
 * only segments whose copy was verified (COPY_SEGMENT_FINISHED) are visible.
 */
export interface RemoteLogView {
  /** Start offset of the earliest tiered segment, -1 when nothing is tiered. */
  earliestOffset(): number;
  /** Kafka's highestOffsetInRemoteStorage: last offset of the newest tiered segment, or -1. */
  highestOffset(): number;
  sizeInBytes(): number;
  segmentCount(): number;
  /** Largest record timestamp of any tiered segment (-1 when none). */
  maxTimestampMs(): number;
  /**
   * Like PartitionLog.read, from the tiered segment holding `offset` (or the first one after
   * it); null when no tiered segment holds anything at or after `offset`.
   */
  read(
    offset: number,
    maxBytes: number,
    opts: { minOneBatch?: boolean; upperBound: number },
  ): Promise<Uint8Array | null>;
  /** First record with timestamp >= ts and offset >= startOffset in the cold tier, or null. */
  offsetForTimestamp(ts: number, startOffset: number): Promise<TimestampOffset | null>;
  /** The record with the largest timestamp in the cold tier, or null. */
  maxTimestampAndOffset(): Promise<TimestampOffset | null>;
}
