/**
 * DescribeGroups (key 15), v0–5.
 * Behaviour: state, protocol type and members (member id, group.instance.id, client id and
 * host) of each group. As in Kafka, the chosen protocol and the members' metadata and
 * assignments are filled in only while the group is Stable; an unknown group is described as
 * "Dead" with no error and no members. A consumer-protocol (KIP-848) group is described too
 * (Kafka answers those Dead and wants ConsumerGroupDescribe): protocol type "consumer", its
 * state, the assignor as protocol, and members with their subscription and assignment in
 * the embedded consumer protocol's format, so classic admin clients can inspect it.
 * Authorization (with an authorizer, as Kafka): DESCRIBE on each group, else that group gets
 * GROUP_AUTHORIZATION_FAILED and nothing of it; authorized operations (v3+, when asked for)
 * come from the authorizer.
 * Version notes: v1+ throttle time; v3+ authorized operations on request (all group
 * operations: there is no authorizer), otherwise Integer.MIN_VALUE; v4+ group.instance.id per
 * member; v5+ flexible.
 */
import { DescribeGroupsRequest, DescribeGroupsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { groupAllowed } from "./authorization.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { OPERATIONS_NOT_REQUESTED } from "./util.ts";

export const describeGroups = defineApi({
  apiKey: 15,
  name: "DescribeGroups",
  minVersion: 0,
  maxVersion: 5,
  request: DescribeGroupsRequest,
  response: DescribeGroupsResponse,
  handler: (req, ctx) => ({
    throttleTimeMs: 0,
    groups: req.groups.map((id) =>
      !groupAllowed(ctx, AclOperation.DESCRIBE, id)
        ? {
          errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
          groupId: id,
          groupState: "",
          protocolType: "",
          protocolData: "",
          members: [],
          authorizedOperations: OPERATIONS_NOT_REQUESTED,
        }
        : {
          ...ctx.services.groups.describeGroup(id),
          authorizedOperations: req.includeAuthorizedOperations
            ? ctx.services.authorizer.authorizedOperations(ctx, ResourceType.GROUP, id)
            : OPERATIONS_NOT_REQUESTED,
        }
    ),
  }),
});
