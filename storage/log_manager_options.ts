/** What a LogManager is opened with: its defaults, its share of the partitions, its engine. */
import type { LogCleanerConfig } from "./log_cleaner.ts";
import type { LogConfig } from "./log_config.ts";
import type { TopicConfigValue } from "./log_directory.ts";
import type { Decompressor } from "./log_segment.ts";
import type { StorageEngine } from "./local_log_store.ts";
import type { RemoteLogManagerConfig } from "./remote_log_manager.ts";
import type { RemoteStorageManager } from "./remote_storage.ts";

export interface LogManagerOptions {
  /** node.id to record on first start; must match meta.properties afterwards. */
  nodeId?: number;
  /** The cluster id to record on first start (a cluster member's, from the metadata store). */
  clusterId?: string;
  /** Broker-wide defaults that topic overrides are applied to. */
  defaultConfig?: Partial<LogConfig>;
  /**
   * Derives a topic's LogConfig from its overrides (the broker owns config parsing). Used for
   * topics created or updated after open; open() itself resolves configs from `defaultConfig`
   * plus logConfigFromProperties, and the broker re-applies with updateTopicConfig.
   */
  logConfigFor?: (overrides: Record<string, TopicConfigValue>) => LogConfig;
  decompress?: Decompressor;
  /** The cold tier (remote.log.storage.system.enable); without it nothing is tiered. */
  remoteStorage?: RemoteStorageManager | null;
  /** RemoteLogManager settings (defaults: Kafka's). */
  remoteLogManager?: Partial<RemoteLogManagerConfig>;
  /** LogCleaner settings; `enable: false` (log.cleaner.enable) turns compaction off. */
  cleaner?: Partial<LogCleanerConfig> & { enable?: boolean };
  /** `log.retention.check.interval.ms` (default 300000). */
  retentionCheckIntervalMs?: number;
  /** Where background tasks report failures (default: ignored). */
  onError?: (message: string) => void;
  /**
   * Which partitions this manager opens (default: all). With Deno workers each worker owns a
   * share of the partitions; every manager still knows every topic.
   */
  owns?: (topic: string, partition: number) => boolean;
  /**
   * Whether this broker holds a replica of a partition at all (default: all). At open the
   * catalogue writer removes the directories of partitions it no longer holds.
   */
  hosts?: (topic: string, partition: number) => boolean;
  /**
   * Whether this manager writes topics.json and removes stray directories (default true).
   * One manager per data directory writes; the others follow with syncCatalogue().
   */
  catalogueWriter?: boolean;
  /**
   * `replica.high.watermark.checkpoint.interval.ms` (default 5000): how often managed high
   * watermarks are written to replication-offset-checkpoint.
   */
  highWatermarkCheckpointIntervalMs?: number;
  /** Appended to this manager's checkpoint file names (".w1"): one file per worker. */
  checkpointSuffix?: string;
  /**
   * Names this manager's clean-shutdown record (storage/clean_shutdown_record.ts) by its share
   * of the directory: "" alone (the default without a checkpointSuffix), ".w1of4" for worker
   * 1 of 4. Without it a manager with a checkpointSuffix keeps none: each partition then
   * marks its own clean close.
   */
  cleanShutdownSuffix?: string;
  /**
   * "file" (default): partitions in segment files under the data directory. "memory": nothing
   * on disk, no data directory needed (the `dataDir` argument is ignored); no tiering; one
   * manager only (workers cannot share a catalogue that lives in one manager).
   */
  engine?: StorageEngine;
}
