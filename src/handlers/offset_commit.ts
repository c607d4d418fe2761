/**
 * OffsetCommit (key 8), v0–9.
 * Behaviour: commits are appended to `__consumer_offsets` (OffsetCommitValue records) and
 * acknowledged only after the append; then OffsetFetch sees them, and they survive restarts.
 * Members are checked: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID,
 * REBALANCE_IN_PROGRESS (group completing a rebalance). Generation -1 with an empty member id
 * (simple consumers, admin resetOffsets) is accepted while the group is Empty or unknown.
 * Per partition: UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE (metadata above
 * offset.metadata.max.bytes). A null metadata string is stored as "".
 * Consumer-protocol (KIP-848) groups: `generationIdOrMemberEpoch` is the member epoch;
 * UNKNOWN_MEMBER_ID, UNSUPPORTED_VERSION (their members must use v9+), STALE_MEMBER_EPOCH
 * for an epoch ahead of the member's, and per partition for an older epoch unless the member
 * still owns the partition since that epoch; epoch -1 commits (admin tools) only while the
 * group is empty.
 * Authorization (with an authorizer, as Kafka): READ on the group (else every partition gets
 * GROUP_AUTHORIZATION_FAILED) and READ on each topic (TOPIC_AUTHORIZATION_FAILED).
 * Version notes: v0 (ZooKeeper-era) has no generation or member: it commits as a simple
 * consumer (generation -1, no member id) to the same store as every other version, where
 * Kafka's ZooKeeper mode kept v0 commits in ZooKeeper. v1 adds generation and member, and a
 * per-partition commit timestamp (-1: now) that the offset's expiry counts from. v2–4 carry a retention time (-1: offsets.retention.minutes; otherwise the
 * offset expires that long after the commit); v5+ drop it. v6+ the leader epoch of the
 * committed offset; v7+ group.instance.id; v8+ flexible; v9 (KIP-848 ready) answers
 * GROUP_ID_NOT_FOUND instead of ILLEGAL_GENERATION for a member commit to an unknown group.
 */
import { OffsetCommitRequest, OffsetCommitResponse } from "../../protocol/messages/mod.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { defineApi } from "../registry.ts";
import { groupAllowed, partitionByTopic } from "./authorization.ts";
import { AclOperation } from "../security/acl_binding.ts";

export const offsetCommit = defineApi({
  apiKey: 8,
  name: "OffsetCommit",
  minVersion: 0,
  maxVersion: 9,
  request: OffsetCommitRequest,
  response: OffsetCommitResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    const failed = (
      t: { name: string; partitions: { partitionIndex: number }[] },
      code: number,
    ) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })),
    });
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => failed(t, ErrorCode.GROUP_AUTHORIZATION_FAILED)),
      };
    }
    const { allowed, denied } = partitionByTopic(ctx, AclOperation.READ, req.topics, (t) => t.name);
    const topics = allowed.length === 0 ? [] : await services.groups.commitOffsets({
      groupId: req.groupId,
      generationId: req.generationIdOrMemberEpoch,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId ?? null,
      retentionTimeMs: apiVersion <= 4 ? req.retentionTimeMs : -1,
      apiVersion,
      topics: allowed.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: p.committedLeaderEpoch,
          committedMetadata: p.committedMetadata,
          commitTimestamp: apiVersion === 1 ? p.commitTimestamp : -1,
        })),
      })),
    });
    return {
      throttleTimeMs: 0,
      topics: [
        ...topics,
        ...denied.map((t) => failed(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED)),
      ],
    };
  },
});
