/**
 * DescribeGroups (key 15), v0–5.
 * Behaviour: state, protocol type and members (member id, group.instance.id, client id and
 * host) of each group. As in Kafka, the chosen protocol and the members' metadata and
 * assignments are filled in only while the group is Stable; an unknown group is described as
 * "Dead" with no error and no members. A consumer-protocol (KIP-848) group is described too
 * (Kafka answers those Dead and wants ConsumerGroupDescribe): protocol type "consumer", its
 * state, the assignor as protocol, and members with their subscription and assignment in
 * the embedded consumer protocol's format, so classic admin clients can inspect it.
 * Version notes: v1+ throttle time; v3+ authorized operations on request (all group
 * operations: there is no authorizer), otherwise Integer.MIN_VALUE; v4+ group.instance.id per
 * member; v5+ flexible.
 */
import { DescribeGroupsRequest, DescribeGroupsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { OPERATIONS_NOT_REQUESTED } from "./util.ts";

/** READ (3), DELETE (6) and DESCRIBE (8): the operations Kafka defines on groups. */
const ALL_GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

export const describeGroups = defineApi({
  apiKey: 15,
  name: "DescribeGroups",
  minVersion: 0,
  maxVersion: 5,
  request: DescribeGroupsRequest,
  response: DescribeGroupsResponse,
  handler: (req, { services }) => ({
    throttleTimeMs: 0,
    groups: req.groups.map((id) => ({
      ...services.groups.describeGroup(id),
      authorizedOperations: req.includeAuthorizedOperations
        ? ALL_GROUP_OPERATIONS
        : OPERATIONS_NOT_REQUESTED,
    })),
  }),
});
