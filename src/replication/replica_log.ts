/**
 * What replication needs of a partition's log (storage/partition_log.ts): the managed high
 * watermark, follower appends byte for byte, truncation, and the leader epoch cache. Named
 * here as one narrow interface so the data path depends on these primitives only.
 */
import type { AppendResult, PartitionLog } from "../../storage/partition_log.ts";

export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

export interface ReplicaLog {
  readonly topic: string;
  readonly partition: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  /** True alone (every append moves the HW); false once the HW follows the ISR. */
  highWatermarkFollowsLogEnd: boolean;
  /** Moves the managed HW (clamped to the log); whether it changed. */
  updateHighWatermark(offset: number): boolean;
  /** The leader's batches as they are, with their own offsets and leader epochs. */
  appendAsFollower(records: Uint8Array): Promise<AppendResult> | AppendResult;
  truncateTo(offset: number): Promise<unknown> | unknown;
  truncateFullyAndStartAt(offset: number): Promise<unknown> | unknown;
  advanceLogStartOffset(offset: number): Promise<number>;
  /** The largest epoch at most `epoch` and where it ends; `{-1, -1}` when none. */
  endOffsetForEpoch(epoch: number): EpochEndOffset;
  readonly leaderEpochCache: {
    readonly latestEpoch: number;
    assign(epoch: number, startOffset: number): unknown;
    truncateFromEnd(endOffset: number): unknown;
  };
  onAppend(listener: () => void): () => void;
  readLocal(
    offset: number,
    maxBytes: number,
    opts: { minOneBatch?: boolean; upperBound?: number },
  ): Uint8Array;
  read(
    offset: number,
    maxBytes: number,
    opts: { minOneBatch?: boolean; upperBound?: number },
  ): Promise<Uint8Array>;
  isRemoteOffset(offset: number): boolean;
}

/** The replication view of an open partition log. */
export function replicaLog(log: PartitionLog): ReplicaLog {
  return log;
}

/**
 * The leader epoch a coordinator's own append to `log` carries: the epoch cache's latest
 * (assigned when this broker became leader), undefined (epoch 0) when it knows none.
 */
export function currentLeaderEpoch(log: PartitionLog): number | undefined {
  const e = replicaLog(log).leaderEpochCache?.latestEpoch ?? -1;
  return e >= 0 ? e : undefined;
}
