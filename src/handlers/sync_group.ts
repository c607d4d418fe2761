/**
 * SyncGroup (key 14), v0–5.
 * Behaviour: the leader's SyncGroup carries the assignment of every member; it is written to
 * `__consumer_offsets` (group metadata) and then delivered to every member — followers'
 * SyncGroup waits for it. Members the leader left out get an empty assignment. In a Stable
 * group SyncGroup returns the member's current assignment. Errors: UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS (a new rebalance started: rejoin),
 * FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL (v5 type/name differ from the group's).
 * Authorization (with an authorizer, as Kafka): READ on the group, else
 * GROUP_AUTHORIZATION_FAILED.
 * Version notes: v1+ throttle time; v3+ group.instance.id; v4+ flexible; v5+ the request and
 * response carry protocol type and name (KIP-559).
 */
import { SyncGroupRequest, SyncGroupResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { groupAllowed } from "./authorization.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { ErrorCode } from "../../protocol/errors.ts";

export const syncGroup = defineApi({
  apiKey: 14,
  name: "SyncGroup",
  minVersion: 0,
  maxVersion: 5,
  request: SyncGroupRequest,
  response: SyncGroupResponse,
  handler: async (req, ctx) => {
    const { services } = ctx;
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        protocolType: null,
        protocolName: null,
        assignment: new Uint8Array(0),
      };
    }
    const r = await services.groups.syncGroup({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId ?? null,
      protocolType: req.protocolType ?? null,
      protocolName: req.protocolName ?? null,
      assignments: req.assignments.map((a) => ({
        memberId: a.memberId,
        assignment: a.assignment,
      })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      protocolType: r.protocolType,
      protocolName: r.protocolName,
      assignment: r.assignment,
    };
  },
});
