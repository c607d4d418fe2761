/**
 * The ConsumerGroupHeartbeat request and response as the coordinator sees them, and the
 * request's validation before any group state is looked at.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  type OwnedTopicPartitions,
} from "./consumer_group.ts";
import type { TargetAssignmentBuilder } from "./target_assignment_builder.ts";

export interface ConsumerGroupHeartbeatParams {
  apiVersion: number;
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: OwnedTopicPartitions[] | null;
  clientId: string;
  clientHost: string;
}

export interface ConsumerGroupHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null;
}

export function failure(errorCode: number, errorMessage: string | null = null) {
  return {
    errorCode,
    errorMessage,
    memberId: null,
    memberEpoch: 0,
    heartbeatIntervalMs: 0,
    assignment: null,
  };
}

/** Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid. */
export function validateHeartbeatRequest(
  p: ConsumerGroupHeartbeatParams,
  assignment: TargetAssignmentBuilder,
): ConsumerGroupHeartbeatResult | null {
  const invalid = (m: string) => failure(ErrorCode.INVALID_REQUEST, m);
  const blank = (s: string | null) => s !== null && s.trim() === "";
  if (
    (p.apiVersion >= 1 || p.memberEpoch > 0 || p.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) &&
    p.memberId.trim() === ""
  ) {
    return invalid("MemberId can't be empty.");
  }
  if (p.groupId.trim() === "") return invalid("GroupId can't be empty.");
  if (blank(p.instanceId)) return invalid("InstanceId can't be empty.");
  if (blank(p.rackId)) return invalid("RackId can't be empty.");
  if (p.memberEpoch === 0) {
    if (p.rebalanceTimeoutMs === -1) {
      return invalid("RebalanceTimeoutMs must be provided in first request.");
    }
    if (p.topicPartitions === null || p.topicPartitions.length > 0) {
      return invalid("TopicPartitions must be empty when (re-)joining.");
    }
    if (p.subscribedTopicNames === null && p.subscribedTopicRegex === null) {
      return invalid(
        "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.",
      );
    }
  } else if (p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    if (p.instanceId === null) return invalid("InstanceId can't be null.");
  } else if (p.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    return invalid("MemberEpoch is invalid.");
  }
  if (p.subscribedTopicRegex !== null && p.subscribedTopicRegex !== "") {
    if (assignment.regex(p.subscribedTopicRegex) === null) {
      return failure(
        ErrorCode.INVALID_REGULAR_EXPRESSION,
        `SubscribedTopicRegex \`${p.subscribedTopicRegex}\` is not a valid regular expression.`,
      );
    }
  }
  if (p.serverAssignor !== null && !assignment.hasAssignor(p.serverAssignor)) {
    return failure(
      ErrorCode.UNSUPPORTED_ASSIGNOR,
      `ServerAssignor ${p.serverAssignor} is not supported. Supported assignors: ` +
        `${assignment.assignorNames().join(", ")}.`,
    );
  }
  return null;
}
