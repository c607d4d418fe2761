/**
 * Heartbeat (key 12), v0–4.
 * Behaviour: renews the member's session (its session timeout restarts). Errors:
 * UNKNOWN_MEMBER_ID (unknown group or member, or an Empty group), ILLEGAL_GENERATION,
 * REBALANCE_IN_PROGRESS (the group is preparing a rebalance: rejoin), FENCED_INSTANCE_ID.
 * Authorization (with an authorizer, as Kafka): READ on the group, else
 * GROUP_AUTHORIZATION_FAILED.
 * Version notes: v1+ throttle time; v3+ group.instance.id; v4+ flexible.
 */
import { HeartbeatRequest, HeartbeatResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { groupAllowed } from "./authorization.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { ErrorCode } from "../../protocol/errors.ts";

export const heartbeat = defineApi({
  apiKey: 12,
  name: "Heartbeat",
  minVersion: 0,
  maxVersion: 4,
  request: HeartbeatRequest,
  response: HeartbeatResponse,
  handler: (req, ctx) => ({
    throttleTimeMs: 0,
    errorCode: !groupAllowed(ctx, AclOperation.READ, req.groupId)
      ? ErrorCode.GROUP_AUTHORIZATION_FAILED
      : ctx.services.groups.heartbeat(
        req.groupId,
        req.memberId,
        req.groupInstanceId ?? null,
        req.generationId,
      ),
  }),
});
