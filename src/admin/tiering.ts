/**
 * What the admin API reports about tiered storage (KIP-405), read from the PartitionLog's
 * cold-tier view and the LogManager's RemoteLogManager. Kept in one place so the API and
 * /metrics agree.
 */
import type { PartitionLog } from "../../storage/partition_log.ts";
import type { Broker } from "../broker.ts";

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

export function partitionTiers(broker: Broker, log: PartitionLog): PartitionTiers {
  const highest = log.highestOffsetInRemoteStorage;
  let uploadsPending = 0;
  if (log.config.remoteStorageEnable && broker.logs.remoteLogManager.rsm) {
    // The RemoteLogManager's own criterion for a copy candidate.
    const lso = log.lastStableOffset;
    for (const c of log.closedSegments()) {
      if (c.baseOffset > highest && c.endOffset >= log.logStartOffset && c.endOffset < lso) {
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

/** Broker-wide tiering counters since start. */
export function tieringStats(broker: Broker) {
  const s = broker.logs.remoteLogManager.stats;
  return {
    enabled: broker.logs.remoteLogManager.rsm !== null,
    segmentsCopied: s.copied,
    bytesCopied: s.copiedBytes,
    segmentsDeleted: s.deleted,
    uploadsFailed: s.failures,
  };
}
