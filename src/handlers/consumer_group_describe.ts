/**
 * ConsumerGroupDescribe (key 69), v0.
 * Behaviour: describes consumer-protocol (KIP-848) groups: state (Empty, Assigning,
 * Reconciling, Stable), group and assignment epochs, the assignor in use, and every member
 * with its epoch, client, subscription, current assignment and target assignment (topic ids
 * and names). Per group: GROUP_ID_NOT_FOUND (unknown id, or a classic group: describe those
 * with DescribeGroups), INVALID_GROUP_ID (empty id), NOT_COORDINATOR (shutting down).
 * Authorized operations, when asked for, are every group operation (there is no authorizer).
 * Authorization (with an authorizer, as Kafka): DESCRIBE on each group, else that group gets
 * GROUP_AUTHORIZATION_FAILED; authorized operations come from the authorizer.
 * Version notes: only v0 exists (flexible).
 */
import {
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { GROUP_AUTHORIZATION_FAILED, groupAllowed } from "./authorization.ts";
import { OPERATIONS_NOT_REQUESTED } from "./util.ts";

export const consumerGroupDescribe = defineApi({
  apiKey: 69,
  name: "ConsumerGroupDescribe",
  minVersion: 0,
  maxVersion: 0,
  request: ConsumerGroupDescribeRequest,
  response: ConsumerGroupDescribeResponse,
  handler: (req, ctx) => ({
    throttleTimeMs: 0,
    groups: req.groupIds.map((id) =>
      !groupAllowed(ctx, AclOperation.DESCRIBE, id)
        ? {
          errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
          errorMessage: GROUP_AUTHORIZATION_FAILED,
          groupId: id,
          groupState: "",
          groupEpoch: -1,
          assignmentEpoch: -1,
          assignorName: "",
          members: [],
          authorizedOperations: OPERATIONS_NOT_REQUESTED,
        }
        : {
          ...ctx.services.groups.consumer.describe(id),
          authorizedOperations: req.includeAuthorizedOperations
            ? ctx.services.authorizer.authorizedOperations(ctx, ResourceType.GROUP, id)
            : OPERATIONS_NOT_REQUESTED,
        }
    ),
  }),
});
