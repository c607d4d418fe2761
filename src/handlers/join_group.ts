/**
 * JoinGroup (key 11), v0–9.
 * Behaviour: classic group membership through the GroupCoordinator (src/group/): the request
 * long-polls until the rebalance completes (every known member rejoined, or the rebalance
 * timeout removed those who did not); the leader's response lists every member's metadata for
 * the protocol chosen by Kafka's vote. Errors: INVALID_GROUP_ID (empty id),
 * INVALID_SESSION_TIMEOUT (outside group.min/max.session.timeout.ms), UNKNOWN_MEMBER_ID,
 * INCONSISTENT_GROUP_PROTOCOL (type mismatch or no protocol every member supports),
 * FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, MEMBER_ID_REQUIRED.
 * Authorization (with an authorizer, as Kafka): READ on the group, else
 * GROUP_AUTHORIZATION_FAILED.
 * Version notes: v0 has no rebalance timeout (the session timeout serves as one); v4+ a first
 * join with an empty member id is answered MEMBER_ID_REQUIRED with the id to rejoin with
 * (KIP-394); v5+ group.instance.id (static membership, KIP-345); v6+ flexible; v7+ the
 * response carries the protocol type and a nullable protocol name; v8+ a reason (logged at
 * debug); v9+ skipAssignment for a static leader rejoining a Stable group (KIP-814).
 */
import { JoinGroupRequest, JoinGroupResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { groupAllowed } from "./authorization.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { ErrorCode } from "../../protocol/errors.ts";

export const joinGroup = defineApi({
  apiKey: 11,
  name: "JoinGroup",
  minVersion: 0,
  maxVersion: 9,
  request: JoinGroupRequest,
  response: JoinGroupResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion, header, clientHost } = ctx;
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        generationId: -1,
        protocolType: null,
        protocolName: apiVersion >= 7 ? null : "",
        leader: "",
        skipAssignment: false,
        memberId: req.memberId,
        members: [],
      };
    }
    const r = await services.groups.joinGroup({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId ?? null,
      requireKnownMemberId: apiVersion >= 4,
      supportSkippingAssignment: apiVersion >= 9,
      clientId: header.clientId ?? "",
      clientHost: `/${clientHost}`,
      rebalanceTimeoutMs: apiVersion >= 1 && req.rebalanceTimeoutMs >= 0
        ? req.rebalanceTimeoutMs
        : req.sessionTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      // Copied: members' metadata outlives the request frame.
      protocols: req.protocols.map((p) => ({
        name: p.name,
        metadata: p.metadata.slice(),
      })),
      reason: req.reason,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: r.protocolType,
      protocolName: apiVersion >= 7 ? r.protocolName : r.protocolName ?? "",
      leader: r.leader,
      skipAssignment: r.skipAssignment,
      memberId: r.memberId,
      members: r.members,
    };
  },
});
