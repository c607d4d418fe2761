/**
 * The group coordinator's settings, read once from the broker config under Kafka's names
 * (group.*, offsets.*, offset.metadata.max.bytes).
 */
import type { BrokerConfig } from "../config.ts";

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
});

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
  };
}
