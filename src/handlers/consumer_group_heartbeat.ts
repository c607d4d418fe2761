/**
 * ConsumerGroupHeartbeat (key 68), v0–1.
 * Behaviour: the consumer group protocol of KIP-848, run by the group coordinator
 * (src/group/consumer_group_coordinator.ts): members join with epoch 0 (and an empty owned
 * partition list, a rebalance timeout and a subscription), heartbeat with their member epoch
 * and the partitions they own, and leave with epoch -1 (static members: -2 to keep their
 * place until their session expires). The broker computes the target assignment with a
 * server assignor (`serverAssignor`: `uniform` or `range`, default the first of
 * group.consumer.assignors) and hands each member its partitions as their previous owners
 * release them. Errors: INVALID_REQUEST (malformed request, with a message naming the
 * field), UNSUPPORTED_ASSIGNOR, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH,
 * UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED (group.consumer.max.size),
 * GROUP_ID_NOT_FOUND (the id belongs to a classic group with members; a leave from an unknown
 * group), INVALID_REGULAR_EXPRESSION (v1), NOT_COORDINATOR (shutting down), and the append's
 * error (e.g. COORDINATOR_NOT_AVAILABLE) when the group's records could not be written. The
 * response is sent once the records of the changes it reveals are in `__consumer_offsets`,
 * so membership, epochs and assignments survive a restart. A heartbeat with an epoch > 0 to
 * a group this broker does not know answers FENCED_MEMBER_EPOCH so that the member rejoins.
 * The response carries the heartbeat interval (group.consumer.heartbeat.interval.ms);
 * sessions last group.consumer.session.timeout.ms.
 * Authorization (with an authorizer, as Kafka 3.9): READ on the group, else
 * GROUP_AUTHORIZATION_FAILED.
 * Version notes: v0 and v1 are flexible; in v0 a joining member may send an empty member id
 * and is given one; v1 (KIP-848 final, KIP-1082) requires the client to choose its member id
 * and adds `subscribedTopicRegex` (matched against whole topic names, internal topics
 * excluded).
 */
import {
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { GROUP_AUTHORIZATION_FAILED, groupAllowed } from "./authorization.ts";

export const consumerGroupHeartbeat = defineApi({
  apiKey: 68,
  name: "ConsumerGroupHeartbeat",
  minVersion: 0,
  maxVersion: 1,
  request: ConsumerGroupHeartbeatRequest,
  response: ConsumerGroupHeartbeatResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion, header, clientHost } = ctx;
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        errorMessage: GROUP_AUTHORIZATION_FAILED,
        memberId: null,
        memberEpoch: -1,
        heartbeatIntervalMs: 0,
        assignment: null,
      };
    }
    const r = await services.groups.consumerGroupHeartbeat({
      apiVersion,
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      instanceId: req.instanceId ?? null,
      rackId: req.rackId ?? null,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      subscribedTopicNames: req.subscribedTopicNames ?? null,
      subscribedTopicRegex: apiVersion >= 1 ? req.subscribedTopicRegex ?? null : null,
      serverAssignor: req.serverAssignor ?? null,
      topicPartitions: req.topicPartitions === null || req.topicPartitions === undefined
        ? null
        : req.topicPartitions.map((t) => ({
          topicId: t.topicId,
          partitions: [...t.partitions],
        })),
      clientId: header.clientId ?? "",
      clientHost: `/${clientHost}`,
    });
    return { throttleTimeMs: 0, ...r };
  },
});
