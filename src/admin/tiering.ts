/**
 * What the admin API reports about tiered storage (KIP-405), read from the PartitionLog's
 * cold-tier view and the LogManager's RemoteLogManager. Kept in one place so the API and
 * /metrics agree.
 *
 * partitionTiers needs the open PartitionLog, so it runs on the partition's owning worker
 * (the "status" partition op); the admin routes read partitions through partitionStatus.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { AdminHost } from "./admin_host.ts";
import type { PartitionStatus } from "../partition_ops.ts";
export { type PartitionTiers, partitionTiers } from "../partition_tiers.ts";

/** Broker-wide tiering counters since start (`s`: Broker.stats(), summed over workers). */
export function tieringStats(
  broker: AdminHost,
  s: { copied: number; copiedBytes: number; deleted: number; failures: number },
) {
  return {
    enabled: broker.logs.remoteLogManager.rsm !== null,
    segmentsCopied: s.copied,
    bytesCopied: s.copiedBytes,
    segmentsDeleted: s.deleted,
    uploadsFailed: s.failures,
  };
}

/** Status lookups shared by one admin request (one "status" op per partition). */
export type StatusCache = Map<string, Promise<PartitionStatus | null>>;

/**
 * The partition's offsets, sizes and tiers from its owning worker; null when the partition
 * does not exist (or was deleted meanwhile). Other failures reject (e.g. NOT_LEADER_OR_FOLLOWER
 * while the owning worker restarts: 503).
 */
export function partitionStatus(
  broker: AdminHost,
  topic: string,
  partition: number,
  cache?: StatusCache,
): Promise<PartitionStatus | null> {
  const key = `${topic}\u0000${partition}`;
  const cached = cache?.get(key);
  if (cached) return cached;
  const status = broker.replicaManager.hasPartition(topic, partition)
    ? broker.replicaManager.partitionOp(topic, partition, "status", {}).catch((e) => {
      if (e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return null;
      throw e;
    })
    : Promise.resolve(null);
  cache?.set(key, status);
  return status;
}
