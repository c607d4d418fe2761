/**
 * DeleteGroups (key 42), v0–2.
 * Behaviour: deletes Empty groups and their committed offsets (tombstones are appended to
 * `__consumer_offsets`, so the deletion survives restarts). Per group: GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP (members are still in it).
 * Authorization (with an authorizer, as Kafka): DELETE on each group, else that group gets
 * GROUP_AUTHORIZATION_FAILED.
 * Version notes: v1 is v0 (throttling order); v2+ flexible.
 */
import { DeleteGroupsRequest, DeleteGroupsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { groupAllowed } from "./authorization.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { ErrorCode } from "../../protocol/errors.ts";

export const deleteGroups = defineApi({
  apiKey: 42,
  name: "DeleteGroups",
  minVersion: 0,
  maxVersion: 2,
  request: DeleteGroupsRequest,
  response: DeleteGroupsResponse,
  handler: async (req, ctx) => {
    const allowed = req.groupsNames.filter((g) => groupAllowed(ctx, AclOperation.DELETE, g));
    const deleted = allowed.length ? await ctx.services.groups.deleteGroups(allowed) : [];
    const denied = req.groupsNames.filter((g) => !allowed.includes(g)).map((groupId) => ({
      groupId,
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
    }));
    return { throttleTimeMs: 0, results: [...deleted, ...denied] };
  },
});
