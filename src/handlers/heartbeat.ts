/**
 * Heartbeat (key 12), v0–4.
 * Behaviour: renews the member's session (its session timeout restarts). Errors:
 * UNKNOWN_MEMBER_ID (unknown group or member, or an Empty group), ILLEGAL_GENERATION,
 * REBALANCE_IN_PROGRESS (the group is preparing a rebalance: rejoin), FENCED_INSTANCE_ID.
 * Version notes: v1+ throttle time; v3+ group.instance.id; v4+ flexible.
 */
import { HeartbeatRequest, HeartbeatResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";

export const heartbeat = defineApi({
  apiKey: 12,
  name: "Heartbeat",
  minVersion: 0,
  maxVersion: 4,
  request: HeartbeatRequest,
  response: HeartbeatResponse,
  handler: (req, { services }) => ({
    throttleTimeMs: 0,
    errorCode: services.groups.heartbeat(
      req.groupId,
      req.memberId,
      req.groupInstanceId ?? null,
      req.generationId,
    ),
  }),
});
