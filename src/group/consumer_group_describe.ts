/**
 * The admin views of consumer-protocol groups: ListGroups entries, ConsumerGroupDescribe, and
 * the per-member view DescribeGroups shows classic admin clients.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import type { TopicPartitionSet } from "./assignors.ts";
import {
  type AssignedPartitions,
  type ConsumerGroup,
  type ConsumerGroupMember,
  toList,
} from "./consumer_group.ts";
import type { TargetAssignmentBuilder, TopicCatalog } from "./target_assignment_builder.ts";

export interface DescribedTopicPartitions {
  topicId: string;
  topicName: string;
  partitions: number[];
}

export interface DescribedConsumerGroup {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: { topicPartitions: DescribedTopicPartitions[] };
    targetAssignment: { topicPartitions: DescribedTopicPartitions[] };
  }[];
}

/** ListGroups entries of type "consumer" matching the filters (lower-case state names). */
export function listConsumerGroups(
  groups: Map<string, ConsumerGroup>,
  states: Set<string>,
  types: Set<string>,
): { groupId: string; protocolType: string; groupState: string; groupType: string }[] {
  if (types.size > 0 && !types.has("consumer")) return [];
  const out = [];
  for (const g of groups.values()) {
    const state = g.state;
    if (states.size > 0 && !states.has(state.toLowerCase())) continue;
    out.push({
      groupId: g.groupId,
      protocolType: "consumer",
      groupState: state,
      groupType: "consumer",
    });
  }
  return out;
}

function describedPartitions(
  topics: TopicCatalog,
  a: AssignedPartitions | TopicPartitionSet,
): DescribedTopicPartitions[] {
  const out: DescribedTopicPartitions[] = [];
  for (const { topicId, partitions } of toList(a)) {
    const t = topics.byId(topicId);
    if (t) out.push({ topicId, topicName: t.name, partitions });
  }
  return out;
}

/** ConsumerGroupDescribe of a known group. */
export function describeConsumerGroup(
  g: ConsumerGroup,
  defaultAssignor: string,
  topics: TopicCatalog,
): DescribedConsumerGroup {
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    groupId: g.groupId,
    groupState: g.state,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    assignorName: g.preferredAssignor(defaultAssignor),
    members: [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      rackId: m.rackId,
      memberEpoch: m.memberEpoch,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: m.subscribedTopicNames,
      subscribedTopicRegex: m.subscribedTopicRegex,
      assignment: { topicPartitions: describedPartitions(topics, m.assigned) },
      targetAssignment: {
        topicPartitions: describedPartitions(
          topics,
          g.targetAssignment.get(m.memberId) ?? new Map(),
        ),
      },
    })),
  };
}

/** A member's subscribed topic names (regex resolved) and assigned partitions by name. */
export function memberView(
  m: ConsumerGroupMember,
  assignment: TargetAssignmentBuilder,
  topics: TopicCatalog,
): {
  topics: string[];
  assigned: { topic: string; partitions: number[] }[];
} {
  const names = new Set(m.subscribedTopicNames);
  for (const t of assignment.subscribedTopics(m)) names.add(t.name);
  return {
    topics: [...names].sort(),
    assigned: describedPartitions(topics, m.assigned).map((t) => ({
      topic: t.topicName,
      partitions: t.partitions,
    })),
  };
}
