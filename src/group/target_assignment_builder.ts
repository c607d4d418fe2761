/**
 * TargetAssignmentBuilder: resolves members' subscriptions (topic names and regexes) against
 * the broker's topics and computes a consumer group's target assignment with the configured
 * assignors (Kafka's TargetAssignmentBuilder, with the subscription resolution its
 * GroupMetadataManager does).
 */
import { log } from "../log.ts";
import {
  type AssignorMember,
  ASSIGNORS,
  type AssignorTopic,
  type PartitionAssignor,
} from "./assignors.ts";
import type { ConsumerGroup, ConsumerGroupMember } from "./consumer_group.ts";
import { subscriptionMetadataSignature } from "./consumer_group_store.ts";
import type { GroupConfig } from "./group_config.ts";

/** A topic as the coordinator needs to know it. */
export interface TopicInfo {
  name: string;
  topicId: string;
  partitions: number;
}

/** The broker's topics (the metadata image the assignors work from). */
export interface TopicCatalog {
  byName(name: string): TopicInfo | undefined;
  byId(topicId: string): TopicInfo | undefined;
  all(): TopicInfo[];
}

/** Kafka's regex subscriptions match whole topic names (Pattern.matcher(topic).matches()). */
function compileRegex(re: string): RegExp | null {
  try {
    return new RegExp(`^(?:${re})$`, "u");
  } catch {
    return null;
  }
}

export class TargetAssignmentBuilder {
  private readonly assignors = new Map<string, PartitionAssignor>();
  private readonly regexCache = new Map<string, RegExp | null>();

  constructor(config: GroupConfig, private readonly topics: TopicCatalog) {
    for (const name of config.consumerAssignors) {
      const make = ASSIGNORS[name];
      if (make) this.assignors.set(name, make());
    }
    if (this.assignors.size === 0) this.assignors.set("uniform", ASSIGNORS.uniform());
  }

  /** The default assignor: the first of group.consumer.assignors. */
  get defaultAssignor(): string {
    return this.assignors.keys().next().value!;
  }

  hasAssignor(name: string): boolean {
    return this.assignors.has(name);
  }

  assignorNames(): string[] {
    return [...this.assignors.keys()];
  }

  regex(re: string): RegExp | null {
    if (!this.regexCache.has(re)) {
      if (this.regexCache.size > 1000) this.regexCache.clear();
      this.regexCache.set(re, compileRegex(re));
    }
    return this.regexCache.get(re)!;
  }

  /** The existing topics a member subscribes to (names, and regex matches of user topics). */
  subscribedTopics(m: ConsumerGroupMember): TopicInfo[] {
    const out = new Map<string, TopicInfo>();
    for (const name of m.subscribedTopicNames) {
      const t = this.topics.byName(name);
      if (t) out.set(t.name, t);
    }
    if (m.subscribedTopicRegex !== null) {
      const re = this.regex(m.subscribedTopicRegex);
      if (re) {
        for (const t of this.topics.all()) {
          if (!t.name.startsWith("__") && re.test(t.name)) out.set(t.name, t);
        }
      }
    }
    return [...out.values()];
  }

  /** Every subscribed topic's name, id and partition count: a change means reassigning. */
  subscriptionMetadata(group: ConsumerGroup): string {
    const seen = new Map<string, TopicInfo>();
    for (const m of group.members.values()) {
      for (const t of this.subscribedTopics(m)) seen.set(t.name, t);
    }
    return subscriptionMetadataSignature(
      [...seen.values()].map((t) => ({
        topicName: t.name,
        topicId: t.topicId,
        numPartitions: t.partitions,
      })),
    );
  }

  computeTargetAssignment(group: ConsumerGroup): void {
    const name = group.preferredAssignor(this.defaultAssignor);
    const assignor = this.assignors.get(name) ?? this.assignors.get(this.defaultAssignor)!;
    const topics = new Map<string, AssignorTopic>();
    const members: AssignorMember[] = [];
    for (const m of group.members.values()) {
      const ids = new Set<string>();
      for (const t of this.subscribedTopics(m)) {
        ids.add(t.topicId);
        topics.set(t.topicId, { name: t.name, partitions: t.partitions });
      }
      members.push({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        subscribedTopicIds: ids,
        current: group.targetAssignment.get(m.memberId) ?? new Map(),
      });
    }
    const result = assignor.assign({ members, topics });
    for (const id of group.targetAssignment.keys()) group.markChanged(id);
    group.targetAssignment.clear();
    for (const [id, a] of result) {
      group.targetAssignment.set(id, a);
      group.markChanged(id);
    }
    group.assignmentEpoch = group.groupEpoch;
    log.debug(
      `consumer group ${group.groupId}: target assignment for epoch ${group.groupEpoch} ` +
        `(${assignor.name}, ${members.length} members)`,
    );
  }

  /** Whether any member subscribes to `topic` (its offsets may then not be deleted). */
  isSubscribedToTopic(group: ConsumerGroup, topic: string): boolean {
    for (const m of group.members.values()) {
      if (m.subscribedTopicNames.includes(topic)) return true;
      if (m.subscribedTopicRegex !== null && this.regex(m.subscribedTopicRegex)?.test(topic)) {
        return true;
      }
    }
    return false;
  }
}
