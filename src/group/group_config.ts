/**
 * The group coordinator's settings, read once from the broker config under Kafka's names
 * (group.*, offsets.*, offset.metadata.max.bytes; group.consumer.* for the consumer group
 * protocol of KIP-848).
 */
import { type BrokerConfig, ConfigError } from "../config.ts";
import { assignorName } from "./assignors.ts";

export interface GroupConfig {
  /** group.min.session.timeout.ms / group.max.session.timeout.ms: allowed session timeouts. */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.max.size: members per group. */
  maxSize: number;
  /** group.initial.rebalance.delay.ms: how long a new group waits for more members. */
  initialRebalanceDelayMs: number;
  /** offsets.retention.minutes in ms: how long offsets outlive an empty group. */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms: how often expired offsets are removed. */
  offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes: largest metadata string of a commit. */
  offsetMetadataMaxBytes: number;
  /** Kafka's fixed 5-minute limit for a new member's first JoinGroup to complete. */
  newMemberJoinTimeoutMs: number;
  /** group.consumer.session.timeout.ms: a consumer-protocol member silent this long is out. */
  consumerSessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms: the interval told to consumer-protocol members. */
  consumerHeartbeatIntervalMs: number;
  /** group.consumer.assignors: server assignors by name; the first is the default. */
  consumerAssignors: string[];
  /** group.consumer.max.size: members per consumer-protocol group. */
  consumerMaxSize: number;
}

export const DEFAULT_GROUP_CONFIG: Readonly<GroupConfig> = Object.freeze({
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1800000,
  maxSize: 2147483647,
  initialRebalanceDelayMs: 3000,
  offsetsRetentionMs: 10080 * 60000,
  offsetsRetentionCheckIntervalMs: 600000,
  offsetMetadataMaxBytes: 4096,
  newMemberJoinTimeoutMs: 5 * 60000,
  consumerSessionTimeoutMs: 45000,
  consumerHeartbeatIntervalMs: 5000,
  consumerAssignors: ["uniform", "range"],
  consumerMaxSize: 2147483647,
});

/** group.consumer.assignors as assignor names (Kafka's class names are accepted too). */
export function parseConsumerAssignors(entries: string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const name = assignorName(e);
    if (name === undefined) {
      throw new ConfigError(
        "group.consumer.assignors",
        `unknown assignor '${e}' (supported: uniform, range)`,
      );
    }
    if (!out.includes(name)) out.push(name);
  }
  if (out.length === 0) throw new ConfigError("group.consumer.assignors", "no assignor given");
  return out;
}

export function groupConfigFrom(c: BrokerConfig): GroupConfig {
  return {
    minSessionTimeoutMs: c.int("group.min.session.timeout.ms"),
    maxSessionTimeoutMs: c.int("group.max.session.timeout.ms"),
    maxSize: c.int("group.max.size"),
    initialRebalanceDelayMs: c.int("group.initial.rebalance.delay.ms"),
    offsetsRetentionMs: c.int("offsets.retention.minutes") * 60000,
    offsetsRetentionCheckIntervalMs: c.int("offsets.retention.check.interval.ms"),
    offsetMetadataMaxBytes: c.int("offset.metadata.max.bytes"),
    newMemberJoinTimeoutMs: DEFAULT_GROUP_CONFIG.newMemberJoinTimeoutMs,
    ...consumerGroupConfigFrom(c),
  };
}

function consumerGroupConfigFrom(c: BrokerConfig) {
  const session = c.int("group.consumer.session.timeout.ms");
  const heartbeat = c.int("group.consumer.heartbeat.interval.ms");
  if (heartbeat >= session) {
    throw new ConfigError(
      "group.consumer.heartbeat.interval.ms",
      `must be less than group.consumer.session.timeout.ms (${session})`,
    );
  }
  return {
    consumerSessionTimeoutMs: session,
    consumerHeartbeatIntervalMs: heartbeat,
    consumerAssignors: parseConsumerAssignors(c.str("group.consumer.assignors").split(",")),
    consumerMaxSize: c.int("group.consumer.max.size"),
  };
}
