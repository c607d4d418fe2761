/**
 * Opens the broker's LogManager with its settings: which partitions this broker (and, with
 * Deno workers, this worker) holds, the cleaner, retention, tiering and checkpoint
 * intervals, and each worker's share of the data directory's checkpoint files.
 */
import { decompress } from "../protocol/compression.ts";
import type { StorageEngine } from "../storage/local_log_store.ts";
import { LogManager } from "../storage/log_manager.ts";
import type { RemoteStorageManager } from "../storage/remote_storage.ts";
import type { ClusterNode } from "./cluster/cluster_node.ts";
import type { BrokerConfig } from "./config.ts";
import { log } from "./log.ts";
import { logConfigFor } from "./topic_admin.ts";
import { remoteLogManagerSettings } from "./dynamic_config.ts";
import type { WorkerCluster } from "./workers/worker_cluster.ts";

export function openBrokerLogs(
  config: BrokerConfig,
  dataDir: string,
  engine: StorageEngine,
  ctx: {
    clusterId?: string;
    remoteStorage: RemoteStorageManager | null;
    /** The broker's membership of an etcd cluster, if any. */
    node?: ClusterNode;
    /** The Deno workers this broker runs, if any. */
    cluster?: WorkerCluster;
    /** Worker 0 (or the only one): it writes the catalogue. */
    controller: boolean;
  },
): Promise<LogManager> {
  const { clusterId, remoteStorage, node, cluster, controller } = ctx;
  const owns = node
    ? (t: string, p: number) => node.cache.hostsReplica(t, p) && (!cluster || cluster.owns(t, p))
    : cluster
    ? (t: string, p: number) => cluster.owns(t, p)
    : undefined;
  return LogManager.open(dataDir, {
    nodeId: config.nodeId,
    clusterId,
    logConfigFor: (overrides) => logConfigFor(config, overrides),
    decompress: (codec, data) => decompress(codec, data),
    remoteStorage,
    remoteLogManager: remoteLogManagerSettings(config),
    cleaner: {
      enable: config.bool("log.cleaner.enable"),
      backoffMs: config.int("log.cleaner.backoff.ms"),
      dedupeBufferBytes: config.int("log.cleaner.dedupe.buffer.size"),
    },
    retentionCheckIntervalMs: config.int("log.retention.check.interval.ms"),
    highWatermarkCheckpointIntervalMs: config.int(
      "replica.high.watermark.checkpoint.interval.ms",
    ),
    onError: (m) => log.warn(m),
    owns,
    // A partition whose record names other replicas only: its local copy is left over.
    hosts: node
      ? (t: string, p: number) =>
        node.cache.partition(t, p)?.state.replicas.includes(config.nodeId) ?? true
      : undefined,
    catalogueWriter: controller,
    checkpointSuffix: controller ? "" : `.w${cluster!.index}`,
    cleanShutdownSuffix: cluster ? `.w${cluster.index}of${cluster.count}` : "",
    engine,
  });
}
