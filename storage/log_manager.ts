/**
 * LogManager: owns the data directory, the topic catalogue and every PartitionLog.
 *
 * Where the catalogue, checkpoints and partition places live is a LogDirectory's
 * (storage/log_directory.ts): the data directory on disk, or nothing at all for the memory
 * engine (`engine: "memory"`, whose partitions keep their batches in memory).
 *
 * Background work, started by startBackgroundTasks(): the retention pass every
 * `retentionCheckIntervalMs` (PartitionLog.deleteOldSegments on every partition), the
 * LogCleaner for compacted topics, and the RemoteLogManager for tiered ones. The log start
 * checkpoint is rewritten (atomically, fsynced) whenever a log start offset moves, so
 * DeleteRecords and retention survive a restart.
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { LogCleaner } from "./log_cleaner.ts";
import { type LogConfig, logConfig, logConfigFromProperties } from "./log_config.ts";
import type { Decompressor } from "./log_segment.ts";
import {
  FileLogDirectory,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  type LogDirectory,
  type TopicConfigValue,
  type TopicMetadata,
} from "./log_directory.ts";
import { MemoryLogDirectory } from "./memory_log_directory.ts";
import type { StorageEngine } from "./local_log_store.ts";
import { randomUuid } from "./topic_id.ts";
import { validateTopicName } from "./topic_name.ts";
import { PartitionLog } from "./partition_log.ts";
import { RemoteLogManager } from "./remote_log_manager.ts";
import { WorkSlices } from "./work_slices.ts";
import {
  DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS,
  HighWatermarkCheckpointer,
} from "./high_watermark_checkpoint.ts";
import { cleanShutdownEntry, cleanShutdownKey, recordedTopicIds } from "./clean_shutdown_record.ts";
import type { LogManagerOptions } from "./log_manager_options.ts";

/** Moved to their own files; re-exported so existing imports keep working. */
export { randomUuid, uuidFromString, uuidToString } from "./topic_id.ts";
export { validateTopicName };

export { LOG_START_OFFSET_CHECKPOINT_FILE };
export type { LogManagerOptions, TopicConfigValue, TopicMetadata };

interface TopicState {
  meta: TopicMetadata;
  config: LogConfig;
  /** Indexed by partition; undefined where another worker owns the partition. */
  logs: (PartitionLog | undefined)[];
}

export class LogManager {
  readonly clusterId: string;
  readonly nodeId: number;
  private defaults: LogConfig;
  private readonly topics = new Map<string, TopicState>();
  private adminChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Log start offsets read from the checkpoint at open. */
  private checkpointedStarts = new Map<string, number>();
  /** Managed high watermarks read from replication-offset-checkpoint at open. */
  private checkpointedHws = new Map<string, number>();
  /** Writes replication-offset-checkpoint (storage/high_watermark_checkpoint.ts). */
  readonly highWatermarkCheckpointer: HighWatermarkCheckpointer;
  /**
   * Partitions the clean-shutdown record names (cleanShutdownKey), during open only, with the
   * base offset of a sole empty segment (-1: not known to be one).
   */
  private closedCleanly = new Map<string, number>();
  private retentionTimer?: ReturnType<typeof setTimeout>;
  private retentionRunning: Promise<void> | null = null;
  private retentionIntervalMs: number;
  private readonly onError: (message: string) => void;
  /** Tiering: always present; without a RemoteStorageManager it only serves what is recorded. */
  readonly remoteLogManager: RemoteLogManager;
  /** Compaction; null when log.cleaner.enable is false. */
  readonly cleaner: LogCleaner | null;
  private readonly owns: (topic: string, partition: number) => boolean;
  private readonly catalogueWriter: boolean;

  private constructor(
    private readonly dir: LogDirectory,
    clusterId: string,
    nodeId: number,
    defaults: LogConfig,
    private readonly decompress?: Decompressor,
    private readonly logConfigFor?: (overrides: Record<string, TopicConfigValue>) => LogConfig,
    opts: LogManagerOptions = {},
  ) {
    this.clusterId = clusterId;
    this.nodeId = nodeId;
    this.defaults = defaults;
    this.onError = opts.onError ?? (() => {});
    this.owns = opts.owns ?? (() => true);
    this.catalogueWriter = opts.catalogueWriter ?? true;
    this.retentionIntervalMs = opts.retentionCheckIntervalMs ?? 300_000;
    this.highWatermarkCheckpointer = new HighWatermarkCheckpointer(
      dir,
      () => this.allPartitions(),
      opts.highWatermarkCheckpointIntervalMs ?? DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS,
      this.onError,
    );
    this.remoteLogManager = new RemoteLogManager(opts.remoteStorage ?? null, {
      brokerId: nodeId,
      taskIntervalMs: 30_000,
      retryBackoffMs: 500,
      retryBackoffMaxMs: 30_000,
      cacheBytes: 64 << 20,
      decompress,
      onError: this.onError,
      ...opts.remoteLogManager,
    });
    this.cleaner = opts.cleaner?.enable === false ? null : new LogCleaner({
      backoffMs: 15_000,
      dedupeBufferBytes: 128 << 20,
      checkpointDir: dir.cleanerCheckpointDir,
      checkpointSuffix: opts.checkpointSuffix ?? "",
      onError: this.onError,
      ...opts.cleaner,
    }, () => this.allPartitions());
  }

  /**
   * Opens `dataDir` (creating it on first start) and recovers every partition; with
   * `engine: "memory"` starts empty and touches no directory.
   */
  static async open(dataDir: string, opts: LogManagerOptions = {}): Promise<LogManager> {
    const dir = opts.engine === "memory"
      ? new MemoryLogDirectory()
      : new FileLogDirectory(dataDir, opts.checkpointSuffix, opts.cleanShutdownSuffix);
    const { clusterId, nodeId } = dir.identity(opts.nodeId, opts.clusterId);
    const lm = new LogManager(
      dir,
      clusterId,
      nodeId,
      logConfig(opts.defaultConfig ?? {}),
      opts.decompress,
      opts.logConfigFor,
      opts,
    );
    lm.checkpointedStarts = dir.readLogStartCheckpoint();
    lm.checkpointedHws = dir.readHighWatermarkCheckpoint();
    lm.highWatermarkCheckpointer.noteExisting(lm.checkpointedHws);
    // Taken before any partition opens: a crash from here on is recovered as a crash.
    if (lm.catalogueWriter) dir.removeOtherCleanShutdowns();
    lm.closedCleanly = dir.takeCleanShutdown();
    const catalogue = dir.readCatalogue();
    if (lm.catalogueWriter) {
      dir.removeStrays(
        catalogue,
        lm.onError,
        opts.hosts,
        recordedTopicIds(lm.closedCleanly.keys()),
      );
    }
    for (const meta of catalogue) {
      const state: TopicState = { meta, config: lm.resolveConfig(meta.configs), logs: [] };
      await lm.openNewPartitions(state);
      lm.topics.set(meta.name, state);
    }
    dir.opened();
    lm.closedCleanly = new Map(); // partitions opened later were not in the last close
    return lm;
  }

  /** Opens the owned partitions of `t.meta` beyond those `t.logs` already holds. */
  private async openNewPartitions(t: TopicState): Promise<void> {
    const slices = new WorkSlices();
    for (let p = t.logs.length; p < t.meta.partitions; p++) {
      t.logs.push(await this.openOwned(t.meta, p, t.config));
      await slices.next();
    }
  }

  /**
   * Follows a change of which partitions of `name` this manager owns (a replica moved here or
   * away, e.g. by a reassignment): opens the owned ones not open, and closes and deletes the
   * local copy of those open but no longer owned (their cold-tier copies stay: other replicas
   * share them). True if anything changed.
   */
  syncOwnedPartitions(name: string): Promise<boolean> {
    return this.admin(async () => {
      const t = this.topics.get(name);
      return t ? await this.syncOwned(t) : false;
    });
  }

  private async syncOwned(t: TopicState): Promise<boolean> {
    let changed = false;
    for (let p = 0; p < t.logs.length; p++) {
      const open = t.logs[p];
      const owned = this.owns(t.meta.name, p);
      if (owned && !open) {
        t.logs[p] = await this.openPartition(t.meta, p, t.config);
        changed = true;
      } else if (!owned && open) {
        await open.closeForDelete();
        this.remoteLogManager.detach(open, false);
        this.cleaner?.forget(open);
        t.logs[p] = undefined;
        this.dir.removePartition(t.meta.name, p);
        changed = true;
      }
    }
    if (changed) this.checkpointLogStartOffsets();
    return changed;
  }

  /** Opens partition `p` if this manager owns it. */
  private openOwned(
    meta: TopicMetadata,
    p: number,
    config: LogConfig,
  ): Promise<PartitionLog | undefined> {
    return this.owns(meta.name, p)
      ? this.openPartition(meta, p, config)
      : Promise.resolve(undefined);
  }

  /**
   * Follows topics.json as another manager of the same directory rewrote it: opens owned
   * partitions of new topics and of grown ones, applies config overrides, and closes the
   * partitions of topics that are gone. For managers that are not the catalogue writer.
   */
  syncCatalogue(): Promise<void> {
    return this.admin(async () => {
      const catalogue = this.dir.readCatalogue();
      for (const [name, t] of this.topics) {
        // Gone, or deleted and created again under the same name.
        const now = catalogue.find((m) => m.name === name);
        if (now?.topicId !== t.meta.topicId) await this.forgetTopic(name);
      }
      for (const meta of catalogue) {
        const config = this.resolveConfig(meta.configs);
        let t = this.topics.get(meta.name);
        if (!t) this.topics.set(meta.name, t = { meta, config, logs: [] });
        t.meta = meta;
        t.config = config;
        for (const log of t.logs) if (log) log.config = config;
        await this.syncOwned(t);
        await this.openNewPartitions(t);
      }
    });
  }

  /**
   * Closes this manager's partitions of a topic about to be deleted by the catalogue writer,
   * deleting their cold-tier copies, and forgets the topic.
   */
  dropTopic(name: string): Promise<void> {
    return this.admin(() => this.forgetTopic(name));
  }

  private async forgetTopic(name: string): Promise<void> {
    const t = this.topics.get(name);
    if (!t) return;
    this.topics.delete(name);
    await this.closeForDelete(t);
    this.checkpointLogStartOffsets();
  }

  /** Closes a deleted topic's open partitions, dropping their cold-tier copies. */
  private async closeForDelete(t: TopicState): Promise<void> {
    for (const log of t.logs) {
      if (!log) continue;
      await log.closeForDelete();
      this.remoteLogManager.detach(log, true);
      this.cleaner?.forget(log);
    }
  }

  /** Whether this manager opens (owns) partition `p` of `topic`. */
  ownsPartition(topic: string, p: number): boolean {
    return this.owns(topic, p);
  }

  /** The data directory ("(memory)" for the memory engine). */
  get dataDir(): string {
    return this.dir.path;
  }
  /** Which engine holds the partitions. */
  get engine(): StorageEngine {
    return this.dir.engine;
  }

  /** Rewrites log-start-offset-checkpoint with every open partition's log start offset. */
  checkpointLogStartOffsets(): void {
    const entries = new Map<string, number>();
    for (const log of this.allPartitions()) {
      entries.set(`${log.topic} ${log.partition}`, log.logStartOffset);
    }
    try {
      this.dir.writeLogStartCheckpoint(entries);
    } catch (e) {
      this.onError(String(e instanceof Error ? e.message : e));
    }
  }

  /**
   * Writes `topics` (default: the live catalogue) to topics.json, durably. A change is written
   * before it is made visible, so a failed write (KAFKA_STORAGE_ERROR) leaves it undone.
   */
  private writeCatalogue(topics = [...this.topics.values()].map((t) => t.meta)): void {
    if (!this.catalogueWriter) throw new Error("this log manager does not write topics.json");
    this.dir.writeCatalogue(topics);
  }

  /** The catalogue with `name` replaced by `meta` (added when new, removed when null). */
  private catalogueWith(name: string, meta: TopicMetadata | null): TopicMetadata[] {
    const out: TopicMetadata[] = [];
    for (const t of this.topics.values()) {
      if (t.meta.name !== name) out.push(t.meta);
      else if (meta) out.push(meta);
    }
    if (meta && !this.topics.has(name)) out.push(meta);
    return out;
  }

  /**
   * Undoes a change that failed before its catalogue write: closes the partitions it opened
   * (`logs`, numbered from `first`; the change was to add up to `end`) and removes their
   * directories, and that of the partition whose opening failed, if any.
   */
  private async discardPartitions(
    name: string,
    first: number,
    end: number,
    logs: (PartitionLog | undefined)[],
  ): Promise<void> {
    for (const log of logs) {
      if (!log) continue;
      await log.closeForDelete();
      this.remoteLogManager.detach(log, true);
    }
    for (let p = first; p < Math.min(end, first + logs.length + 1); p++) {
      if (this.owns(name, p)) this.dir.removePartition(name, p);
    }
  }

  private async openPartition(
    meta: TopicMetadata,
    p: number,
    config: LogConfig,
  ): Promise<PartitionLog> {
    const place = this.dir.preparePartition(meta, p, this.onError);
    const recorded = place.sameTopic
      ? this.closedCleanly.get(cleanShutdownKey(meta.name, p, meta.topicId))
      : undefined;
    const log = await PartitionLog.open(place.dir, config, {
      topic: meta.name,
      partition: p,
      topicId: meta.topicId,
      decompress: this.decompress,
      logStartOffset: place.sameTopic
        ? this.checkpointedStarts.get(`${meta.name} ${p}`)
        : undefined,
      highWatermark: place.sameTopic ? this.checkpointedHws.get(`${meta.name} ${p}`) : undefined,
      onLogStartOffsetChange: () => this.checkpointLogStartOffsets(),
      engine: this.dir.engine,
      cleanShutdown: recorded !== undefined,
      emptyAt: recorded,
      fresh: place.fresh,
    });
    if (log.durable) this.remoteLogManager.attach(log); // the cold tier copies segment files
    log.forgetListing();
    return log;
  }

  private admin<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.adminChain.then(() => {
      if (this.closed) throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, "log manager closed");
      return fn();
    });
    this.adminChain = run.catch(() => {});
    return run;
  }

  /** Broker-wide defaults that topic overrides apply to. */
  get defaultConfig(): LogConfig {
    return this.defaults;
  }

  /**
   * Creates a topic and its partition directories. Throws TOPIC_ALREADY_EXISTS,
   * INVALID_TOPIC_EXCEPTION (bad or colliding name), INVALID_PARTITIONS, INVALID_CONFIG.
   */
  createTopic(
    name: string,
    partitions: number,
    configs: Record<string, TopicConfigValue> = {},
    opts: { topicId?: string } = {},
  ): Promise<TopicMetadata> {
    return this.admin(async () => {
      validateTopicName(name);
      if (this.topics.has(name)) {
        throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${name} already exists`);
      }
      const folded = name.replaceAll(".", "_");
      for (const other of this.topics.keys()) {
        if (other.replaceAll(".", "_") === folded) {
          throw new KafkaError(
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            `topic ${name} collides with existing topic ${other}`,
          );
        }
      }
      if (!Number.isInteger(partitions) || partitions < 1) {
        throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `invalid partition count ${partitions}`);
      }
      const config = this.resolveConfig(configs);
      const meta: TopicMetadata = {
        name,
        topicId: opts.topicId ?? randomUuid(),
        partitions,
        configs: { ...configs },
      };
      const logs: (PartitionLog | undefined)[] = [];
      const slices = new WorkSlices();
      try {
        for (let p = 0; p < partitions; p++) {
          this.dir.clearPartition(name, p, this.owns(name, p));
          logs.push(await this.openOwned(meta, p, config));
          await slices.next();
        }
        this.dir.sync();
        this.writeCatalogue(this.catalogueWith(name, meta));
      } catch (e) {
        await this.discardPartitions(name, 0, partitions, logs);
        throw e;
      }
      this.topics.set(name, { meta, config, logs });
      return { ...meta, configs: { ...meta.configs } };
    });
  }

  /**
   * Removes a topic from the catalogue (durably, first: a failed write throws
   * KAFKA_STORAGE_ERROR and leaves the topic as it was), calls `committed` (the other workers
   * close their partitions), then closes and removes its partitions. Throws
   * UNKNOWN_TOPIC_OR_PARTITION.
   */
  deleteTopic(name: string, committed?: () => Promise<unknown> | undefined): Promise<void> {
    return this.admin(async () => {
      const t = this.topics.get(name);
      if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
      this.writeCatalogue(this.catalogueWith(name, null));
      this.topics.delete(name);
      try {
        await committed?.();
      } catch (e) {
        this.onError(`deleting topic ${name}: ${e}`);
      }
      await this.closeForDelete(t);
      this.checkpointLogStartOffsets();
      const slices = new WorkSlices();
      for (let p = 0; p < t.logs.length; p++) {
        await slices.next();
        this.dir.deletePartition(name, p, t.meta.topicId);
      }
    });
  }

  /** Grows a topic to `newTotal` partitions. Throws INVALID_PARTITIONS unless it grows. */
  createPartitions(name: string, newTotal: number): Promise<TopicMetadata> {
    return this.admin(async () => {
      const t = this.topics.get(name);
      if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
      if (!Number.isInteger(newTotal) || newTotal <= t.meta.partitions) {
        throw new KafkaError(
          ErrorCode.INVALID_PARTITIONS,
          `topic ${name} has ${t.meta.partitions} partitions; ${newTotal} does not grow it`,
        );
      }
      const meta = { ...t.meta, partitions: newTotal };
      const added: (PartitionLog | undefined)[] = [];
      const slices = new WorkSlices();
      try {
        for (let p = t.meta.partitions; p < newTotal; p++) {
          this.dir.clearPartition(name, p, this.owns(name, p));
          added.push(await this.openOwned(meta, p, t.config));
          await slices.next();
        }
        this.dir.sync();
        this.writeCatalogue(this.catalogueWith(name, meta));
      } catch (e) {
        await this.discardPartitions(name, t.meta.partitions, newTotal, added);
        throw e;
      }
      t.logs.push(...added);
      t.meta = meta;
      return { ...t.meta, configs: { ...t.meta.configs } };
    });
  }

  private resolveConfig(configs: Record<string, TopicConfigValue>): LogConfig {
    return this.logConfigFor
      ? this.logConfigFor(configs)
      : logConfigFromProperties(configs, this.defaults);
  }

  /**
   * Replaces a topic's config overrides and applies them to its partitions at once
   * (synchronous: runtime config changes take effect on the next append). The catalogue is
   * rewritten only when the overrides changed. Throws UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG.
   */
  updateTopicConfig(name: string, configs: Record<string, TopicConfigValue>): TopicMetadata {
    const t = this.topics.get(name);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    const config = this.resolveConfig(configs);
    const changed = JSON.stringify(t.meta.configs) !== JSON.stringify(configs);
    const meta = { ...t.meta, configs: { ...configs } };
    if (changed) this.writeCatalogue(this.catalogueWith(name, meta));
    t.meta = meta;
    t.config = config;
    for (const log of t.logs) if (log) log.config = config;
    return { ...t.meta, configs: { ...t.meta.configs } };
  }

  getPartition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.logs[partition];
  }

  /**
   * How many partitions a topic has, or undefined when there is no such topic: what a check
   * per partition of a request needs, without getTopic's copy of the metadata.
   */
  partitionCount(name: string): number | undefined {
    return this.topics.get(name)?.meta.partitions;
  }

  getTopic(name: string): TopicMetadata | undefined {
    const t = this.topics.get(name);
    return t ? { ...t.meta, configs: { ...t.meta.configs } } : undefined;
  }

  getTopicById(topicId: string): TopicMetadata | undefined {
    for (const t of this.topics.values()) {
      if (t.meta.topicId === topicId) return this.getTopic(t.meta.name);
    }
    return undefined;
  }

  /** The effective LogConfig of a topic (defaults + overrides). */
  topicConfig(name: string): LogConfig | undefined {
    return this.topics.get(name)?.config;
  }

  listTopics(): TopicMetadata[] {
    return [...this.topics.values()].map((t) => ({ ...t.meta, configs: { ...t.meta.configs } }));
  }

  /** Every open partition log. */
  *allPartitions(): IterableIterator<PartitionLog> {
    for (const t of this.topics.values()) {
      for (const log of t.logs) if (log) yield log;
    }
  }

  /** Bytes of the local segments of every open partition. */
  localBytes(): number {
    let n = 0;
    for (const log of this.allPartitions()) n += log.localBytes;
    return n;
  }

  async flushAll(): Promise<void> {
    for (const log of this.allPartitions()) await log.flush();
  }

  /** Starts retention, compaction and tiering in the background. */
  startBackgroundTasks(): void {
    if (this.closed) return;
    this.scheduleRetention();
    this.highWatermarkCheckpointer.start();
    this.cleaner?.start();
    this.remoteLogManager.start();
  }

  /** `log.retention.check.interval.ms`, changeable at runtime. */
  set retentionCheckIntervalMs(ms: number) {
    this.retentionIntervalMs = ms;
    if (this.retentionTimer !== undefined) {
      clearTimeout(this.retentionTimer);
      this.retentionTimer = undefined;
      this.scheduleRetention();
    }
  }
  get retentionCheckIntervalMs(): number {
    return this.retentionIntervalMs;
  }

  private scheduleRetention(): void {
    if (this.closed) return;
    this.retentionTimer = setTimeout(() => {
      this.retentionTimer = undefined;
      this.runRetention().finally(() => this.scheduleRetention());
    }, Math.max(1, Math.min(this.retentionIntervalMs, 2 ** 31 - 1)));
  }

  /** One retention pass over every partition (Kafka's cleanupLogs); returns segments deleted. */
  async runRetention(now: number = Date.now()): Promise<number> {
    while (this.retentionRunning) await this.retentionRunning;
    let deleted = 0;
    const pass = (async () => {
      for (const log of [...this.allPartitions()]) {
        if (this.closed) return;
        try {
          deleted += await log.deleteOldSegments(now);
        } catch (e) {
          if (!(e instanceof KafkaError && e.code === ErrorCode.NOT_LEADER_OR_FOLLOWER)) {
            this.onError(`retention of ${log.topic}-${log.partition} failed: ${e}`);
          }
        }
      }
    })();
    this.retentionRunning = pass;
    try {
      await pass;
    } finally {
      this.retentionRunning = null;
    }
    return deleted;
  }

  /** Closes every partition cleanly; the manager cannot be used afterwards. */
  close(): Promise<void> {
    return this.admin(async () => {
      this.closed = true;
      if (this.retentionTimer !== undefined) clearTimeout(this.retentionTimer);
      await this.retentionRunning?.catch(() => {});
      await this.cleaner?.close();
      await this.remoteLogManager.close();
      this.checkpointLogStartOffsets();
      this.highWatermarkCheckpointer.close();
      // One record for the directory instead of a marker file per partition (Kafka's
      // .kafka_cleanshutdown), written once every partition is closed and durable.
      const record = this.dir.recordsCleanShutdown;
      const closed: string[] = [];
      for (const log of this.allPartitions()) {
        await log.close(!record);
        if (!record) continue;
        const key = cleanShutdownKey(log.topic, log.partition, log.topicId ?? "");
        closed.push(cleanShutdownEntry(key, log.soleEmptySegment()));
      }
      this.topics.clear();
      if (record && this.dir.engine === "file") {
        try {
          this.dir.writeCleanShutdown(closed);
        } catch (e) {
          this.onError(`cannot record the clean shutdown (the next start checks every log): ${e}`);
        }
      }
    });
  }
}
