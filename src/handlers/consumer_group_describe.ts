/**
 * ConsumerGroupDescribe (key 69), v0.
 * Behaviour: describes consumer-protocol (KIP-848) groups: state (Empty, Assigning,
 * Reconciling, Stable), group and assignment epochs, the assignor in use, and every member
 * with its epoch, client, subscription, current assignment and target assignment (topic ids
 * and names). Per group: GROUP_ID_NOT_FOUND (unknown id, or a classic group: describe those
 * with DescribeGroups), INVALID_GROUP_ID (empty id), NOT_COORDINATOR (shutting down).
 * Authorized operations, when asked for, are every group operation (there is no authorizer).
 * Version notes: only v0 exists (flexible).
 */
import {
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { OPERATIONS_NOT_REQUESTED } from "./util.ts";

/** READ (3), DELETE (6) and DESCRIBE (8): the operations Kafka defines on groups. */
const ALL_GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

export const consumerGroupDescribe = defineApi({
  apiKey: 69,
  name: "ConsumerGroupDescribe",
  minVersion: 0,
  maxVersion: 0,
  request: ConsumerGroupDescribeRequest,
  response: ConsumerGroupDescribeResponse,
  handler: (req, { services }) => ({
    throttleTimeMs: 0,
    groups: req.groupIds.map((id) => ({
      ...services.groups.consumer.describe(id),
      authorizedOperations: req.includeAuthorizedOperations
        ? ALL_GROUP_OPERATIONS
        : OPERATIONS_NOT_REQUESTED,
    })),
  }),
});
