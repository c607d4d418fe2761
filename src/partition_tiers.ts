/**
 * A partition's local and cold-tier sizes (KIP-405), read from its open PartitionLog: it runs
 * on the partition's owning worker (the "status" partition op). The admin API and /metrics
 * report these figures.
 */
import type { PartitionLog } from "../storage/partition_log.ts";

export interface PartitionTiers {
  /** Bytes of the local segments (Kafka's partition Size). */
  localBytes: number;
  /** Bytes of the tiered segments (a segment is in both tiers until local retention drops it). */
  remoteBytes: number;
  remoteSegments: number;
  /** First offset still on local disk (Kafka's localLogStartOffset). */
  localLogStartOffset: number;
  /** Last offset copied to the cold tier, -1 when none. */
  highestOffsetInRemoteStorage: number;
  /** Closed local segments of a remote.storage.enable topic not yet copied. */
  uploadsPending: number;
}

export function partitionTiers(log: PartitionLog, remoteStorage: boolean): PartitionTiers {
  const highest = log.highestOffsetInRemoteStorage;
  let uploadsPending = 0;
  if (log.config.remoteStorageEnable && remoteStorage) {
    // The RemoteLogManager's own criterion for a copy candidate.
    const lso = log.lastStableOffset;
    for (const c of log.closedSegments()) {
      if (c.endOffset > highest && c.endOffset >= log.logStartOffset && c.endOffset < lso) {
        uploadsPending++;
      }
    }
  }
  return {
    localBytes: log.localBytes,
    remoteBytes: log.remoteBytes,
    remoteSegments: log.remoteSegmentCount,
    localLogStartOffset: log.localLogStartOffset,
    highestOffsetInRemoteStorage: highest,
    uploadsPending,
  };
}
