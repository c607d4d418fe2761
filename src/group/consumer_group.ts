/**
 * ConsumerGroup: one group of the consumer group protocol (KIP-848), Kafka's ConsumerGroup
 * and ConsumerGroupMember, with the member reconciliation engine (Kafka's
 * CurrentAssignmentBuilder).
 *
 * Epochs: the group epoch is bumped whenever the group's composition or subscriptions (or the
 * metadata of the subscribed topics) change; the target assignment is recomputed when the
 * group epoch is ahead of the assignment epoch; each member converges to its part of the
 * target assignment through heartbeats, and its member epoch reaches the assignment epoch
 * once it is reconciled.
 *
 * Member states (Kafka's MemberState):
 * - STABLE: the member owns exactly what it was given for its epoch.
 * - UNREVOKED_PARTITIONS: the member must first give up `pendingRevocation` (it keeps its
 *   epoch; the partitions are gone once a heartbeat's `topicPartitions` no longer lists them).
 * - UNRELEASED_PARTITIONS: the member is at the target epoch but some of its target
 *   partitions are still owned (assigned or pending revocation) by other members; they are
 *   added as soon as their owners release them.
 *
 * Group states: Empty (no members), Assigning (group epoch ahead of the assignment epoch),
 * Reconciling (some member not yet STABLE at the assignment epoch), Stable.
 *
 * A partition is never handed to a new owner while another member still owns it: ownership
 * (`owners`) counts both assigned partitions and those pending revocation.
 */
import type { TopicPartitionSet } from "./assignors.ts";

export type MemberState = "STABLE" | "UNREVOKED_PARTITIONS" | "UNRELEASED_PARTITIONS";
export type ConsumerGroupState = "Empty" | "Assigning" | "Reconciling" | "Stable" | "Dead";

export const CONSUMER_GROUP_STATES: ConsumerGroupState[] = [
  "Empty",
  "Assigning",
  "Reconciling",
  "Stable",
  "Dead",
];

/** Member epoch of a heartbeat that leaves the group. */
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
/** Member epoch of a static member's heartbeat that leaves for now (it will rejoin). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/** Topic id → partition → the member epoch at which the member was given the partition. */
export type AssignedPartitions = Map<string, Map<number, number>>;

/** Owned partitions as a heartbeat reports them (topic id + partitions). */
export interface OwnedTopicPartitions {
  topicId: string;
  partitions: number[];
}

export class ConsumerGroupMember {
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = "";
  clientHost = "";
  rebalanceTimeoutMs = -1;
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  serverAssignor: string | null = null;
  memberEpoch = 0;
  previousMemberEpoch = -1;
  state: MemberState = "STABLE";
  assigned: AssignedPartitions = new Map();
  pendingRevocation: AssignedPartitions = new Map();

  constructor(public memberId: string) {}

  isReconciledTo(epoch: number): boolean {
    return this.state === "STABLE" && this.memberEpoch === epoch;
  }

  /** The assigned partitions as topic id → sorted partitions. */
  assignedList(): { topicId: string; partitions: number[] }[] {
    return toList(this.assigned);
  }

  /** Copies everything but the member id (static member replacement). */
  copyFrom(o: ConsumerGroupMember): void {
    this.instanceId = o.instanceId;
    this.rackId = o.rackId;
    this.clientId = o.clientId;
    this.clientHost = o.clientHost;
    this.rebalanceTimeoutMs = o.rebalanceTimeoutMs;
    this.subscribedTopicNames = [...o.subscribedTopicNames];
    this.subscribedTopicRegex = o.subscribedTopicRegex;
    this.serverAssignor = o.serverAssignor;
    this.assigned = cloneAssigned(o.assigned);
  }
}

export function cloneAssigned(a: AssignedPartitions): AssignedPartitions {
  return new Map([...a].map(([t, ps]) => [t, new Map(ps)]));
}

export function toList(a: AssignedPartitions | TopicPartitionSet) {
  return [...a].map(([topicId, ps]) => ({
    topicId,
    partitions: [...ps.keys()].sort((x, y) => x - y),
  })).sort((x, y) => (x.topicId < y.topicId ? -1 : x.topicId > y.topicId ? 1 : 0));
}

/** Same topics and partitions (epochs ignored). */
export function samePartitions(a: AssignedPartitions, b: AssignedPartitions): boolean {
  if (a.size !== b.size) return false;
  for (const [t, ps] of a) {
    const qs = b.get(t);
    if (!qs || qs.size !== ps.size) return false;
    for (const p of ps.keys()) if (!qs.has(p)) return false;
  }
  return true;
}

/** Whether `owned` lists any partition of `a`; an unknown owned set (null) counts as yes. */
export function ownsAnyOf(
  owned: OwnedTopicPartitions[] | null,
  a: AssignedPartitions,
): boolean {
  if (owned === null) return true;
  for (const tp of owned) {
    const ps = a.get(tp.topicId);
    if (!ps) continue;
    for (const p of tp.partitions) if (ps.has(p)) return true;
  }
  return false;
}

/** Whether every partition of `owned` is in `a` (Kafka's isSubset). */
export function ownedSubsetOf(
  owned: OwnedTopicPartitions[] | null,
  a: AssignedPartitions,
): boolean {
  if (owned === null) return false;
  for (const tp of owned) {
    const ps = a.get(tp.topicId);
    if (!ps) {
      if (tp.partitions.length > 0) return false;
      continue;
    }
    for (const p of tp.partitions) if (!ps.has(p)) return false;
  }
  return true;
}

const ownerKey = (topicId: string, partition: number) => `${topicId}:${partition}`;

export class ConsumerGroup {
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members: Map<string, ConsumerGroupMember> = new Map();
  /** instance id → member id of the static member holding it. */
  readonly staticMembers: Map<string, string> = new Map();
  /** member id → its target assignment (topic id → partitions). */
  readonly targetAssignment: Map<string, TopicPartitionSet> = new Map();
  /** "topicId:partition" → member id of the member that owns it (assigned or revoking). */
  private readonly owners = new Map<string, string>();
  /**
   * Signature of the subscribed topics' metadata: `name:topicId:partitions` per topic, by
   * name, comma-separated (consumer_group_store.ts writes and reads it as a record).
   */
  subscriptionMetadata = "";
  /**
   * Member id → change counter of members whose records may differ from what the log holds
   * (added, changed, removed); the store clears them when it writes their records (a failed
   * write marks them again).
   */
  readonly changedMembers: Map<string, number> = new Map();
  private changeSeq = 0;
  /** The id was taken over from an empty classic group: its record is to be tombstoned. */
  replacesClassicGroup = false;
  constructor(readonly groupId: string) {}

  /** Records that the member's persisted records (metadata, target, current) are stale. */
  markChanged(memberId: string): void {
    this.changedMembers.set(memberId, ++this.changeSeq);
  }

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return "Empty";
    if (this.groupEpoch > this.assignmentEpoch) return "Assigning";
    for (const m of this.members.values()) {
      if (!m.isReconciledTo(this.assignmentEpoch)) return "Reconciling";
    }
    return "Stable";
  }

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  /** The member that owns a partition, if any (assigned to it or pending its revocation). */
  currentOwner(topicId: string, partition: number): string | undefined {
    return this.owners.get(ownerKey(topicId, partition));
  }

  staticMember(instanceId: string): ConsumerGroupMember | undefined {
    const id = this.staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  /** Adds a member or records changes to its assignment (keeps `owners` in step). */
  putMember(m: ConsumerGroupMember, previous?: ConsumerGroupMember): void {
    if (previous) this.releaseOwnership(previous);
    this.members.set(m.memberId, m);
    this.markChanged(m.memberId);
    if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
    for (const a of [m.assigned, m.pendingRevocation]) {
      for (const [t, ps] of a) {
        for (const p of ps.keys()) this.owners.set(ownerKey(t, p), m.memberId);
      }
    }
  }

  /** Removes a member with its target assignment and ownership. */
  removeMember(memberId: string): ConsumerGroupMember | undefined {
    const m = this.members.get(memberId);
    if (!m) return undefined;
    this.releaseOwnership(m);
    this.members.delete(memberId);
    this.markChanged(memberId);
    this.targetAssignment.delete(memberId);
    if (m.instanceId !== null && this.staticMembers.get(m.instanceId) === memberId) {
      this.staticMembers.delete(m.instanceId);
    }
    return m;
  }

  private releaseOwnership(m: ConsumerGroupMember): void {
    for (const a of [m.assigned, m.pendingRevocation]) {
      for (const [t, ps] of a) {
        for (const p of ps.keys()) {
          const k = ownerKey(t, p);
          if (this.owners.get(k) === m.memberId) this.owners.delete(k);
        }
      }
    }
  }

  /** The assignor most members ask for (ties: the name first in alphabetical order). */
  preferredAssignor(defaultName: string): string {
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [name, n] of [...votes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (best === undefined || n > votes.get(best)!) best = name;
    }
    return best ?? defaultName;
  }
}

/**
 * One reconciliation step (Kafka's CurrentAssignmentBuilder): the member's next state given
 * the target assignment and what it reports to own. Returns a new member object (the input is
 * not changed), or the input itself when nothing changes.
 */
export function reconcile(
  member: ConsumerGroupMember,
  targetEpoch: number,
  target: TopicPartitionSet,
  currentOwner: (topicId: string, partition: number) => string | undefined,
  owned: OwnedTopicPartitions[] | null,
): ConsumerGroupMember {
  if (member.state === "STABLE" && member.memberEpoch === targetEpoch) return member;
  // Nothing moves until the member stops reporting the partitions it must give up.
  if (member.state === "UNREVOKED_PARTITIONS" && ownsAnyOf(owned, member.pendingRevocation)) {
    return member;
  }
  const next = computeNext(member, targetEpoch, target, currentOwner, owned);
  const unchanged = next.state === member.state && next.memberEpoch === member.memberEpoch &&
    samePartitions(next.assigned, member.assigned) &&
    samePartitions(next.pendingRevocation, member.pendingRevocation);
  return unchanged ? member : next;
}

function computeNext(
  member: ConsumerGroupMember,
  targetEpoch: number,
  target: TopicPartitionSet,
  currentOwner: (topicId: string, partition: number) => string | undefined,
  owned: OwnedTopicPartitions[] | null,
): ConsumerGroupMember {
  const assigned: AssignedPartitions = new Map();
  const revoking: AssignedPartitions = new Map();
  const toAssign: AssignedPartitions = new Map();
  let unreleased = false;
  const topics = new Set([...target.keys(), ...member.assigned.keys()]);
  for (const t of topics) {
    const want = target.get(t) ?? new Set<number>();
    const have = member.assigned.get(t) ?? new Map<number, number>();
    for (const [p, epoch] of have) {
      const into = want.has(p) ? assigned : revoking;
      let m = into.get(t);
      if (!m) into.set(t, m = new Map());
      m.set(p, epoch);
    }
    for (const p of want) {
      if (have.has(p)) continue;
      const owner = currentOwner(t, p);
      if (owner !== undefined && owner !== member.memberId) {
        unreleased = true;
        continue;
      }
      let m = toAssign.get(t);
      if (!m) toAssign.set(t, m = new Map());
      m.set(p, targetEpoch);
    }
  }
  const next = new ConsumerGroupMember(member.memberId);
  Object.assign(next, member);
  next.previousMemberEpoch = member.memberEpoch;
  if (revoking.size > 0 && ownsAnyOf(owned, revoking)) {
    // Give up first, at the current epoch; the new partitions come after the revocation.
    next.state = "UNREVOKED_PARTITIONS";
    next.assigned = assigned;
    next.pendingRevocation = revoking;
    return next;
  }
  for (const [t, ps] of toAssign) {
    let m = assigned.get(t);
    if (!m) assigned.set(t, m = new Map());
    for (const [p, e] of ps) m.set(p, e);
  }
  next.state = unreleased ? "UNRELEASED_PARTITIONS" : "STABLE";
  next.memberEpoch = targetEpoch;
  next.assigned = assigned;
  next.pendingRevocation = new Map();
  return next;
}
