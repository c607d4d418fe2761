/**
 * Topic administration, Kafka's ZkAdminManager/ControllerApis side of CreateTopics,
 * DeleteTopics, CreatePartitions and topic AlterConfigs: validation (names, partition counts,
 * Kafka's cross-key LogConfig rules) and the catalogue changes, which the controller makes
 * and then propagates to the other workers.
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { LogConfig } from "../storage/log_config.ts";
import type { LogManager, TopicMetadata } from "../storage/log_manager.ts";
import {
  type BrokerConfig,
  type ConfigValue,
  parseTopicConfigs,
  topicConfigValue,
} from "./config.ts";
import { internalTopicCreation, internalTopicSpec, isInternalTopic } from "./internal_topic.ts";
import { errText, log } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { MAX_PARTITIONS_PER_REQUEST, tooManyPartitions } from "./partition_limits.ts";
import type { TopicAdminApi } from "./services.ts";
import { checkTopicAssignments, type TopicPlacement } from "./cluster/topic_placement.ts";
import { CONTROLLER_WORKER } from "./workers/ownership.ts";
import type { Propagation } from "./workers/propagation.ts";
import type { WorkerCluster } from "./workers/worker_cluster.ts";

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". */
export function validateTopicName(name: string): void {
  if (!name || name.length > 249 || name === "." || name === ".." || !TOPIC_NAME.test(name)) {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `invalid topic name '${name}'`);
  }
}

/** "delete,compact" and "compact,delete" are the same policy. */
function normalizePolicy(p: string): LogConfig["cleanupPolicy"] {
  const parts = new Set(p.split(","));
  if (parts.has("compact") && parts.has("delete")) return "compact,delete";
  return parts.has("compact") ? "compact" : "delete";
}

/** The LogConfig of a topic with these overrides, from the broker's defaults. */
export function logConfigFor(
  config: BrokerConfig,
  overrides: Record<string, ConfigValue>,
): LogConfig {
  const v = (k: string) => topicConfigValue(config, overrides, k);
  return {
    segmentBytes: v("segment.bytes") as number,
    segmentMs: v("segment.ms") as number,
    segmentJitterMs: v("segment.jitter.ms") as number,
    fileDeleteDelayMs: v("file.delete.delay.ms") as number,
    indexIntervalBytes: v("index.interval.bytes") as number,
    maxIndexEntries: Math.max(1, Math.floor((v("segment.index.bytes") as number) / 8)),
    flushIntervalMessages: v("flush.messages") as number,
    flushIntervalMs: v("flush.ms") as number,
    messageTimestampType: v("message.timestamp.type") as "CreateTime" | "LogAppendTime",
    maxMessageBytes: v("max.message.bytes") as number,
    compressionType: v("compression.type") as LogConfig["compressionType"],
    compressionGzipLevel: v("compression.gzip.level") as number,
    compressionZstdLevel: v("compression.zstd.level") as number,
    timestampBeforeMaxMs: v("message.timestamp.before.max.ms") as number,
    timestampAfterMaxMs: v("message.timestamp.after.max.ms") as number,
    retentionMs: v("retention.ms") as number,
    retentionBytes: v("retention.bytes") as number,
    cleanupPolicy: normalizePolicy(v("cleanup.policy") as string),
    remoteStorageEnable: v("remote.storage.enable") as boolean,
    localRetentionMs: v("local.retention.ms") as number,
    localRetentionBytes: v("local.retention.bytes") as number,
    deleteRetentionMs: v("delete.retention.ms") as number,
    minCompactionLagMs: v("min.compaction.lag.ms") as number,
    maxCompactionLagMs: v("max.compaction.lag.ms") as number,
    minCleanableDirtyRatio: v("min.cleanable.dirty.ratio") as number,
  };
}

/**
 * In a multi-broker cluster, where topic changes go instead of the local catalogue: to the
 * controller (src/cluster/cluster_node.ts), each resolving once the change is visible here.
 */
export interface ClusterCatalogue {
  createTopic(
    name: string,
    partitions: number,
    overrides: Record<string, ConfigValue>,
    raw: [string, string | null][],
    placement?: TopicPlacement,
  ): Promise<TopicMetadata>;
  deleteTopic(name: string): Promise<void>;
  createPartitions(
    name: string,
    total: number,
    assignments?: number[][] | null,
  ): Promise<TopicMetadata>;
  alterTopicConfigs(
    name: string,
    overrides: Record<string, ConfigValue>,
    raw: [string, string | null][],
  ): Promise<void>;
}

export class TopicAdmin implements TopicAdminApi {
  /** Cluster-mode topic config changes not yet applied everywhere (awaited by propagated()). */
  private pendingClusterChanges: Promise<void>[] = [];

  constructor(
    private readonly config: BrokerConfig,
    private readonly logs: LogManager,
    private readonly metrics: Metrics,
    private readonly propagation: Propagation,
    private readonly cluster?: WorkerCluster,
    private readonly clusterCatalogue?: ClusterCatalogue,
  ) {}

  /**
   * Creates a topic after validating its name, partition count (at most `maxPartitions`: what
   * is left of the request's MAX_PARTITIONS_PER_REQUEST) and configs.
   */
  async createTopic(
    name: string,
    numPartitions: number,
    configs: Iterable<[string, string | null]> = [],
    validateOnly = false,
    maxPartitions = MAX_PARTITIONS_PER_REQUEST,
    requested: TopicPlacement = { replicationFactor: -1 },
  ): Promise<TopicMetadata | null> {
    validateTopicName(name);
    const placement = this.placementFor(name, requested);
    if (this.logs.getTopic(name)) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${name}' already exists`);
    }
    const internal = internalTopicSpec(this.config, name);
    if (internal) {
      // Whoever asks (a coordinator, Metadata's auto-creation, CreateTopics), an internal
      // topic gets its own partition count and a compacted log.
      ({ partitions: numPartitions, configs } = internalTopicCreation(
        internal,
        name,
        numPartitions,
        configs,
      ));
    }
    if (numPartitions === -1) numPartitions = this.config.int("num.partitions");
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `invalid partition count ${numPartitions}`,
      );
    }
    if (numPartitions > maxPartitions) throw tooManyPartitions(numPartitions);
    let overrides: Map<string, ConfigValue>;
    const configList = [...configs];
    try {
      overrides = parseTopicConfigs(configList);
    } catch (e) {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, errText(e));
    }
    this.validateTopicConfigs(Object.fromEntries(overrides));
    if (!this.clusterCatalogue) this.checkSingleBrokerPlacement(placement);
    if (validateOnly) return null;
    if (this.clusterCatalogue) {
      const created = await this.clusterCatalogue.createTopic(
        name,
        numPartitions,
        Object.fromEntries(overrides),
        configList,
        placement,
      );
      // Logged by the controller that made it (src/cluster/controller.ts).
      return created;
    }
    const t = await this.logs.createTopic(name, numPartitions, Object.fromEntries(overrides));
    await this.cluster?.broadcast("syncCatalogue");
    log.info(`created topic ${name} with ${numPartitions} partition(s)`);
    return t;
  }

  /**
   * The placement a topic is created with: -1 is `default.replication.factor`; an internal
   * topic takes `offsets.topic.replication.factor` / `transaction.state.log.replication.factor`,
   * capped to the live brokers (at first creation: the cluster's first broker can then host
   * the coordinators; Kafka would refuse until enough brokers are up).
   */
  private placementFor(name: string, requested: TopicPlacement): TopicPlacement {
    if (name === "__consumer_offsets" || name === "__transaction_state") {
      const key = name === "__consumer_offsets"
        ? "offsets.topic.replication.factor"
        : "transaction.state.log.replication.factor";
      return { replicationFactor: this.config.int(key), capToLiveBrokers: true };
    }
    if (requested.assignments?.length) return requested;
    const rf = requested.replicationFactor === -1
      ? this.config.int("default.replication.factor")
      : requested.replicationFactor;
    return { ...requested, replicationFactor: rf };
  }

  /** Alone, every replica is this broker's: a factor of 1, assignments naming only it. */
  private checkSingleBrokerPlacement(placement: TopicPlacement): void {
    if (placement.assignments?.length) {
      checkTopicAssignments(placement.assignments, new Set([this.logs.nodeId]));
      return;
    }
    if (placement.capToLiveBrokers) return;
    const rf = placement.replicationFactor;
    if (!Number.isInteger(rf) || rf < 1) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        "Replication factor must be larger than 0, or -1 to use the default value.",
      );
    }
    if (rf > 1) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Replication factor: ${rf} larger than available brokers: 1.`,
      );
    }
  }

  /** Creates `name` with broker defaults if auto-creation is on; undefined otherwise. */
  async autoCreateTopic(name: string): Promise<TopicMetadata | undefined> {
    const existing = this.logs.getTopic(name);
    if (existing) return existing;
    if (!this.config.bool("auto.create.topics.enable")) return undefined;
    if (this.cluster && !this.cluster.isController) {
      // The controller creates it; its broadcast has reached this worker when it answers.
      validateTopicName(name);
      await this.cluster!.call(CONTROLLER_WORKER, "createTopic", { name });
      return this.logs.getTopic(name);
    }
    try {
      return (await this.createTopic(name, -1)) ?? undefined;
    } catch (e) {
      if (e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS) {
        return this.logs.getTopic(name);
      }
      throw e;
    }
  }

  async deleteTopic(name: string): Promise<void> {
    if (!this.config.bool("delete.topic.enable")) {
      throw new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED);
    }
    if (!this.logs.getTopic(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (isInternalTopic(name)) {
      // Deleting it would drop every group's committed offsets or every transaction's state.
      throw new KafkaError(
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        `topic ${name} is an internal topic and is not allowed to be deleted`,
      );
    }
    if (this.clusterCatalogue) {
      await this.clusterCatalogue.deleteTopic(name);
      this.metrics.topicDeleted(name);
      log.info(`deleted topic ${name} in the cluster`);
      return;
    }
    // The catalogue is rewritten first; only then do the other workers close their partitions
    // and the directories go (a failed write leaves the topic as it was).
    await this.logs.deleteTopic(name, () => this.cluster?.broadcast("dropTopic", { name }));
    this.metrics.topicDeleted(name);
    log.info(`deleted topic ${name}`);
  }

  /**
   * Cross-key rules for a topic's overrides (Kafka's LogConfig.validate); throws
   * INVALID_CONFIG naming the key. `previous` are the topic's current overrides, if any.
   */
  validateTopicConfigs(
    overrides: Record<string, ConfigValue>,
    previous?: Record<string, ConfigValue>,
  ): void {
    const bad = (key: string, why: string): never => {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, `${key}: ${why}`);
    };
    const c = logConfigFor(this.config, overrides);
    if (c.minCompactionLagMs > c.maxCompactionLagMs) {
      throw new KafkaError(
        ErrorCode.INVALID_CONFIG,
        `conflict topic config setting min.compaction.lag.ms (${c.minCompactionLagMs}) > ` +
          `max.compaction.lag.ms (${c.maxCompactionLagMs})`,
      );
    }
    if ("message.format.version" in overrides) {
      // Kafka 3.x keeps the deprecated setting but ignores it from inter-broker protocol 3.0.
      log.warn(
        `topic configuration message.format.version with value ` +
          `\`${overrides["message.format.version"]}\` is ignored: records are always stored ` +
          "in message format v2 (the inter-broker protocol version is 3.0 or later)",
      );
    }
    if (c.remoteStorageEnable) {
      if (!this.config.bool("remote.log.storage.system.enable")) {
        bad(
          "remote.storage.enable",
          "tiered storage is disabled on this broker (remote.log.storage.system.enable=false)",
        );
      }
      if (c.cleanupPolicy !== "delete") {
        bad("remote.storage.enable", "tiered storage is not supported for compacted topics");
      }
    }
    if (
      previous && logConfigFor(this.config, previous).remoteStorageEnable && !c.remoteStorageEnable
    ) {
      bad("remote.storage.enable", "tiered storage cannot be disabled once enabled on a topic");
    }
    if (c.localRetentionMs !== -2 && c.retentionMs !== -1) {
      if (c.localRetentionMs === -1 || c.localRetentionMs > c.retentionMs) {
        bad(
          "local.retention.ms",
          `${c.localRetentionMs} must not be more than retention.ms (${c.retentionMs})`,
        );
      }
    }
    if (c.localRetentionBytes !== -2 && c.retentionBytes !== -1) {
      if (c.localRetentionBytes === -1 || c.localRetentionBytes > c.retentionBytes) {
        bad(
          "local.retention.bytes",
          `${c.localRetentionBytes} must not be more than retention.bytes (${c.retentionBytes})`,
        );
      }
    }
  }

  /**
   * Replaces a topic's overrides (AlterConfigs semantics: keys not given return to their
   * defaults), validated, persisted in topics.json and applied to the open partitions at once.
   */
  alterTopicConfigs(
    name: string,
    entries: Iterable<[string, string | null]>,
    validateOnly = false,
  ): TopicMetadata | null {
    const t = this.logs.getTopic(name);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    let overrides: Map<string, ConfigValue>;
    const entryList = [...entries];
    try {
      overrides = parseTopicConfigs(entryList);
    } catch (e) {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, errText(e));
    }
    const next = Object.fromEntries(overrides);
    this.validateTopicConfigs(next, t.configs);
    if (validateOnly) return null;
    if (this.clusterCatalogue) {
      // Applied through the controller; the request is answered once propagated() resolves.
      const change = this.clusterCatalogue.alterTopicConfigs(name, next, entryList);
      this.pendingClusterChanges.push(change);
      change.catch((e) => log.warn(`topic ${name} configs not changed: ${errText(e)}`));
      return { ...t, configs: { ...next } };
    }
    const updated = this.logs.updateTopicConfig(name, next);
    this.propagation.propagate("syncCatalogue");
    log.info(`topic ${name} configs: ${JSON.stringify(next)}`);
    return updated;
  }

  /** Grows a topic (CreatePartitions); the owners of the new partitions open them. */
  async createPartitions(
    name: string,
    count: number,
    maxPartitions = MAX_PARTITIONS_PER_REQUEST,
    assignments: number[][] | null = null,
  ): Promise<TopicMetadata> {
    const internal = internalTopicSpec(this.config, name);
    if (internal) {
      // A group's or transactional id's partition depends on the count: growing the topic
      // would move them away from their committed state.
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `${name} is an internal topic; its partition count is ${internal.partitionsKey}`,
      );
    }
    const now = this.logs.getTopic(name)?.partitions ?? 0;
    if (count - now > maxPartitions) throw tooManyPartitions(count - now);
    if (this.clusterCatalogue) {
      return await this.clusterCatalogue.createPartitions(name, count, assignments);
    }
    const t = await this.logs.createPartitions(name, count);
    await this.cluster?.broadcast("syncCatalogue");
    return t;
  }

  /** Resolves once every change made so far has reached the other workers. */
  async propagated(): Promise<void> {
    const pending = this.pendingClusterChanges.splice(0);
    await Promise.all(pending);
    return this.propagation.propagated();
  }
}
