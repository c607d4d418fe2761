/**
 * OffsetDelete (key 47), v0.
 * Behaviour (KIP-496): deletes a group's committed offsets for the given partitions
 * (tombstones in `__consumer_offsets`). An Empty group may lose any offset; a consumer group
 * with members only offsets of topics no member subscribes to (others answer
 * GROUP_SUBSCRIBED_TO_TOPIC). Top-level errors: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (active
 * group of another protocol type). Unknown partitions: UNKNOWN_TOPIC_OR_PARTITION.
 * Authorization (with an authorizer, as Kafka): DELETE on the group (else the top-level
 * GROUP_AUTHORIZATION_FAILED) and READ on each topic (TOPIC_AUTHORIZATION_FAILED).
 * Version notes: only v0 exists (not flexible).
 */
import { OffsetDeleteRequest, OffsetDeleteResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { groupAllowed, partitionByTopic } from "./authorization.ts";

export const offsetDelete = defineApi({
  apiKey: 47,
  name: "OffsetDelete",
  minVersion: 0,
  maxVersion: 0,
  request: OffsetDeleteRequest,
  response: OffsetDeleteResponse,
  handler: async (req, ctx) => {
    const { services } = ctx;
    if (!groupAllowed(ctx, AclOperation.DELETE, req.groupId)) {
      return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    }
    const { allowed, denied } = partitionByTopic(ctx, AclOperation.READ, req.topics, (t) => t.name);
    const r = await services.groups.deleteOffsets(
      req.groupId,
      allowed.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => p.partitionIndex),
      })),
    );
    const refused = denied.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      })),
    }));
    return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [...r.topics, ...refused] };
  },
});
