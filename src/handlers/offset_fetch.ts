/**
 * OffsetFetch (key 9), v0–9.
 * Behaviour: committed offsets from the coordinator's cache of `__consumer_offsets`. A
 * partition without a commit (or of an unknown group or topic) answers offset -1, leader
 * epoch -1, metadata "" and no error. A null topic list asks for every partition the group
 * has committed. Offsets committed inside a transaction (TxnOffsetCommit) are not returned
 * until the transaction commits; with `requireStable` (v7+) a partition that has such a
 * pending commit answers UNSTABLE_OFFSET_COMMIT (offset -1), which clients retry, as Kafka.
 * Authorization (with an authorizer, as Kafka): DESCRIBE on the group (else
 * GROUP_AUTHORIZATION_FAILED: per group v8+, top-level v2–7, per partition v0–1) and DESCRIBE
 * on each topic: topics asked for get TOPIC_AUTHORIZATION_FAILED, all-topics requests leave
 * out the topics the principal may not describe.
 * Version notes: v0 (ZooKeeper-era) reads the same store as every other version (Kafka's
 * ZooKeeper mode read ZooKeeper's); v0–1 topics are required and errors are per partition; v2+ null topics = all, and a top-level error code; v3+ throttle time; v5+
 * committed leader epoch; v6+ flexible; v7+ requireStable; v8+ several groups per request
 * (`groups`, each with its own topics and error); v9 member id/epoch for KIP-848 groups:
 * a consumer-protocol group checks them (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH as the
 * group's error) unless the member id is null and the epoch -1 (admin tools); classic groups
 * ignore them.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { OffsetFetchRequest, OffsetFetchResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { groupAllowed, partitionByTopic } from "./authorization.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";

export const offsetFetch = defineApi({
  apiKey: 9,
  name: "OffsetFetch",
  minVersion: 0,
  maxVersion: 9,
  request: OffsetFetchRequest,
  response: OffsetFetchResponse,
  handler: (req, ctx) => {
    const { services, apiVersion } = ctx;
    /** Kafka's OffsetFetch authorization around one group's fetch. */
    const fetch = (
      groupId: string,
      topics: { name: string; partitionIndexes: number[] }[] | null,
      member: { memberId: string | null; memberEpoch: number } | undefined,
      requireStable: boolean,
    ) => {
      if (!groupAllowed(ctx, AclOperation.DESCRIBE, groupId)) {
        return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
      }
      const authorizer = services.authorizer;
      if (topics === null) {
        const r = services.groups.fetchOffsets(groupId, null, member, requireStable);
        if (!authorizer.enabled) return r;
        const ok = authorizer.filterAuthorized(
          ctx,
          AclOperation.DESCRIBE,
          ResourceType.TOPIC,
          r.topics.map((t) => t.name),
          true,
        );
        return { ...r, topics: r.topics.filter((t) => ok.has(t.name)) };
      }
      const { allowed, denied } = partitionByTopic(
        ctx,
        AclOperation.DESCRIBE,
        topics,
        (t) => t.name,
      );
      const r = services.groups.fetchOffsets(groupId, allowed, member, requireStable);
      if (denied.length === 0) return r;
      return {
        ...r,
        topics: [
          ...r.topics,
          ...denied.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((p) => ({
              partitionIndex: p,
              committedOffset: -1,
              committedLeaderEpoch: -1,
              metadata: "",
              errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            })),
          })),
        ],
      };
    };
    if (apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((g) => {
          const member = apiVersion >= 9
            ? { memberId: g.memberId ?? null, memberEpoch: g.memberEpoch ?? -1 }
            : undefined;
          const r = fetch(
            g.groupId,
            g.topics ?? null,
            member,
            req.requireStable === true,
          );
          return { groupId: g.groupId, topics: r.topics, errorCode: r.errorCode };
        }),
      };
    }
    const r = fetch(
      req.groupId,
      req.topics ?? null,
      undefined,
      apiVersion >= 7 && req.requireStable === true,
    );
    if (apiVersion < 2 && r.errorCode !== ErrorCode.NONE) {
      // v0–1 have no top-level error: every requested partition carries it. (`topics` is
      // nullable only from v2, so it is a list here.)
      return {
        throttleTimeMs: 0,
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({
            partitionIndex: p,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: "",
            errorCode: r.errorCode,
          })),
        })),
      };
    }
    return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode };
  },
});
