/**
 * What the coordinators' internal topics (`__consumer_offsets`, `__transaction_state`) share:
 * how they are created (their own partition count and configs, whoever triggers the
 * creation: a coordinator, a Metadata request or a client's CreateTopics), the check of an
 * existing one when the broker starts, the slice of the broker the coordinators need to reach
 * their partitions, and Kafka's rule for which partition a group or transactional id lives on.
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { LogManager, TopicMetadata } from "../storage/log_manager.ts";
import type { PartitionLog } from "../storage/partition_log.ts";
import { type BrokerConfig, ConfigError, parseTopicConfigs } from "./config.ts";

/** How an internal topic must be created: Kafka's `groupMetadataTopicConfigs` and
 * `TransactionLog` topic configs, with the partition count from the broker setting named. */
export interface InternalTopicSpec {
  partitions: number;
  /** The broker setting that gives the partition count. */
  partitionsKey: string;
  configs: Record<string, string>;
}

/** The internal topics' names (Kafka's Topic.isInternal). */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set([
  "__consumer_offsets",
  "__transaction_state",
]);

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}

/** The spec of internal topic `name` under `config`; undefined for every other name. */
export function internalTopicSpec(
  config: BrokerConfig,
  name: string,
): InternalTopicSpec | undefined {
  if (name === "__consumer_offsets") {
    return {
      partitions: config.int("offsets.topic.num.partitions"),
      partitionsKey: "offsets.topic.num.partitions",
      configs: {
        "cleanup.policy": "compact",
        "segment.bytes": String(config.int("offsets.topic.segment.bytes")),
        "compression.type": "producer",
      },
    };
  }
  if (name === "__transaction_state") {
    return {
      partitions: config.int("transaction.state.log.num.partitions"),
      partitionsKey: "transaction.state.log.num.partitions",
      configs: {
        "cleanup.policy": "compact",
        "segment.bytes": String(config.int("transaction.state.log.segment.bytes")),
        "compression.type": "uncompressed",
        "unclean.leader.election.enable": "false",
      },
    };
  }
  return undefined;
}

function isCompactOnly(policy: unknown): boolean {
  return typeof policy === "string" &&
    policy.split(",").every((p) => p.trim() === "compact");
}

/**
 * The partition count and configs an internal topic is created with, from what the creator
 * asked: -1 or the spec's count, and configs over the spec's, where cleanup.policy can only
 * be compact (a deleting policy would throw committed offsets or transaction state away).
 * Throws INVALID_PARTITIONS or INVALID_CONFIG.
 */
export function internalTopicCreation(
  spec: InternalTopicSpec,
  name: string,
  numPartitions: number,
  configs: Iterable<[string, string | null]>,
): { partitions: number; configs: [string, string | null][] } {
  if (numPartitions !== -1 && numPartitions !== spec.partitions) {
    throw new KafkaError(
      ErrorCode.INVALID_PARTITIONS,
      `${name} is an internal topic with ${spec.partitionsKey}=${spec.partitions} partitions, ` +
        `not ${numPartitions}`,
    );
  }
  const given = new Map(configs);
  const policy = given.get("cleanup.policy");
  if (policy != null && !isCompactOnly(policy)) {
    throw new KafkaError(
      ErrorCode.INVALID_CONFIG,
      `cleanup.policy: ${name} is an internal topic and must be compacted, not '${policy}'`,
    );
  }
  const merged = new Map<string, string | null>(Object.entries(spec.configs));
  for (const [k, v] of given) if (v !== null) merged.set(k, v);
  return { partitions: spec.partitions, configs: [...merged] };
}

/**
 * On start, before the coordinators load: an internal topic whose cleanup policy would delete
 * its records (created as an ordinary topic by an older version) is repaired to compact, with
 * a warning. One with another partition count than configured is recreated when it holds no
 * record at all, and otherwise refused: changing the count would move groups and
 * transactional ids to other partitions, away from their committed state.
 */
export async function checkInternalTopics(
  logs: LogManager,
  config: BrokerConfig,
  warn: (message: string) => void,
): Promise<void> {
  for (const name of INTERNAL_TOPICS) {
    const t = logs.getTopic(name);
    const spec = internalTopicSpec(config, name);
    if (!t || !spec) continue;
    const required = Object.fromEntries(parseTopicConfigs(Object.entries(spec.configs)));
    if (t.partitions !== spec.partitions) {
      let empty = true;
      for (let p = 0; p < t.partitions; p++) {
        const log = logs.getPartition(name, p);
        if (!log || log.logEndOffset > 0) empty = false;
      }
      if (!empty) {
        throw new ConfigError(
          spec.partitionsKey,
          `internal topic ${name} in ${logs.dataDir} has ${t.partitions} partition(s) but ` +
            `${spec.partitionsKey}=${spec.partitions}; changing the count would move groups and ` +
            `transactional ids away from their records: start with ` +
            `${spec.partitionsKey}=${t.partitions}`,
        );
      }
      warn(
        `internal topic ${name} has ${t.partitions} partition(s) and no records; recreating ` +
          `it with ${spec.partitionsKey}=${spec.partitions} and ${JSON.stringify(spec.configs)}`,
      );
      await logs.deleteTopic(name);
      await logs.createTopic(name, spec.partitions, required);
      continue;
    }
    const policy = logs.topicConfig(name)?.cleanupPolicy;
    if (policy !== "compact") {
      warn(
        `internal topic ${name} has cleanup.policy=${policy}, which would delete committed ` +
          `state; repairing it to compact`,
      );
      logs.updateTopicConfig(name, { ...required, ...t.configs, "cleanup.policy": "compact" });
    }
  }
}

/** What an internal-topic log needs from the broker (a subset of Broker). */
export interface InternalTopicHost {
  topic(name: string): TopicMetadata | undefined;
  partition(topic: string, partition: number): PartitionLog | undefined;
  createTopic(
    name: string,
    numPartitions: number,
    configs: Iterable<[string, string | null]>,
  ): Promise<TopicMetadata | null>;
  /**
   * Resolves once the ISR holds the partition's log up to `requiredOffset` (a coordinator's
   * write is acknowledged like acks=all); throws the coordinator's error otherwise.
   */
  awaitReplication?(topic: string, partition: number, requiredOffset: number): Promise<void>;
}

/** Java's String.hashCode over UTF-16 code units, with int32 wrap-around. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's partitionFor: Utils.abs(key.hashCode) % partitions (abs(MIN_VALUE) is 0). */
export function partitionFor(key: string, partitions: number): number {
  const h = javaStringHashCode(key);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}
