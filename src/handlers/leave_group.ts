/**
 * LeaveGroup (key 13), v0–5.
 * Behaviour: removes members at once (no wait for their session to expire) and rebalances
 * the rest. A member given by group.instance.id with an empty member id is the static member
 * holding that id (how admin tools remove static members). An unknown group answers
 * UNKNOWN_MEMBER_ID for each member.
 * Authorization (with an authorizer, as Kafka): READ on the group, else the top-level error
 * GROUP_AUTHORIZATION_FAILED.
 * Version notes: v0–2 leave one member (`memberId`) and report its error at the top level;
 * v3+ batch `members` (member id + group.instance.id) with an error per member; v4+
 * flexible; v5+ a reason per member (logged at debug).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { LeaveGroupRequest, LeaveGroupResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { groupAllowed } from "./authorization.ts";
import { AclOperation } from "../security/acl_binding.ts";

export const leaveGroup = defineApi({
  apiKey: 13,
  name: "LeaveGroup",
  minVersion: 0,
  maxVersion: 5,
  request: LeaveGroupRequest,
  response: LeaveGroupResponse,
  handler: (req, ctx) => {
    const { services, apiVersion } = ctx;
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    }
    const members = apiVersion >= 3
      ? req.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId ?? null,
      }))
      : [{ memberId: req.memberId, groupInstanceId: null }];
    const r = services.groups.leaveGroup(req.groupId, members);
    if (apiVersion < 3) {
      const memberError = r.members[0]?.errorCode ?? ErrorCode.NONE;
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode !== ErrorCode.NONE ? r.errorCode : memberError,
        members: [],
      };
    }
    return { throttleTimeMs: 0, errorCode: r.errorCode, members: r.members };
  },
});
