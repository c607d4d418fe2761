/**
 * DeleteGroups (key 42), v0–2.
 * Behaviour: deletes Empty groups and their committed offsets (tombstones are appended to
 * `__consumer_offsets`, so the deletion survives restarts). Per group: GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP (members are still in it).
 * Version notes: v1 is v0 (throttling order); v2+ flexible.
 */
import { DeleteGroupsRequest, DeleteGroupsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";

export const deleteGroups = defineApi({
  apiKey: 42,
  name: "DeleteGroups",
  minVersion: 0,
  maxVersion: 2,
  request: DeleteGroupsRequest,
  response: DeleteGroupsResponse,
  handler: async (req, { services }) => ({
    throttleTimeMs: 0,
    results: await services.groups.deleteGroups(req.groupsNames),
  }),
});
