/**
 * ListGroups (key 16), v0–5.
 * Behaviour: every group this broker coordinates (all of them), except Dead ones, including
 * "simple" groups that only commit offsets (protocol type ""). Groups of the classic protocol
 * are of type "classic", those of the consumer group protocol (KIP-848) of type "consumer"
 * (protocol type "consumer", states Empty, Assigning, Reconciling, Stable).
 * Authorization (with an authorizer, as Kafka): DESCRIBE on the cluster lists every group;
 * otherwise only the groups the principal may DESCRIBE are listed.
 * Version notes: v1+ throttle time; v3+ flexible; v4+ `statesFilter` (KIP-518: case-
 * insensitive state names; empty = all) and the state of each group; v5+ `typesFilter`
 * ("classic"/"consumer", case-insensitive; empty = all) and each group's type.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { ListGroupsRequest, ListGroupsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";

export const listGroups = defineApi({
  apiKey: 16,
  name: "ListGroups",
  minVersion: 0,
  maxVersion: 5,
  request: ListGroupsRequest,
  response: ListGroupsResponse,
  handler: (req, ctx) => {
    const authorizer = ctx.services.authorizer;
    const groups = ctx.services.groups.listGroups(req.statesFilter ?? [], req.typesFilter ?? []);
    const all = authorizer.authorize(
      ctx,
      AclOperation.DESCRIBE,
      ResourceType.CLUSTER,
      CLUSTER_NAME,
      true,
    );
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      groups: all
        ? groups
        : groups.filter((g) =>
          authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId, true)
        ),
    };
  },
});
