/**
 * ClassicGroup: the state of one group of the classic rebalance protocol (JoinGroup /
 * SyncGroup / Heartbeat / LeaveGroup), Kafka's GroupMetadata / ClassicGroup.
 *
 * States and the transitions Kafka allows:
 *
 *   Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
 *     ▲                  ▲   │ (no members left)                       │ leader's SyncGroup
 *     └──────────────────┼───┘                                         ▼
 *                        └──── join / leave / expiry ─────────────── Stable
 *   any ──▶ Dead (group deleted or expired)
 *
 * This class keeps the bookkeeping (members, static members, pending members, leader,
 * generation, protocol vote); the GroupCoordinator drives the transitions and timers.
 */
import { codecFor } from "../../protocol/schema.ts";
import { ConsumerProtocolSubscription } from "../../protocol/messages/mod.ts";
import { Reader } from "../../protocol/primitives.ts";
import {
  type ClassicGroupMember,
  joinError,
  type JoinGroupResult,
  type Protocol,
  syncError,
  type SyncGroupResult,
} from "./classic_group_member.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { StoredGroup } from "./coordinator_records.ts";

export type ClassicGroupState =
  | "Empty"
  | "PreparingRebalance"
  | "CompletingRebalance"
  | "Stable"
  | "Dead";

export const CLASSIC_GROUP_STATES: ClassicGroupState[] = [
  "Empty",
  "PreparingRebalance",
  "CompletingRebalance",
  "Stable",
  "Dead",
];

const VALID_PREVIOUS: Record<ClassicGroupState, ClassicGroupState[]> = {
  Empty: ["PreparingRebalance"],
  PreparingRebalance: ["Stable", "CompletingRebalance", "Empty"],
  CompletingRebalance: ["PreparingRebalance"],
  Stable: ["CompletingRebalance"],
  Dead: ["Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"],
};

/** The consumer protocol type: its member metadata is a ConsumerProtocolSubscription. */
export const CONSUMER_PROTOCOL_TYPE = "consumer";

export class ClassicGroup {
  state: ClassicGroupState = "Empty";
  previousState: ClassicGroupState = "Empty";
  /** When the group entered its current state (-1: unknown, e.g. loaded from an old record). */
  currentStateTimestamp: number;
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  leaderId: string | null = null;
  readonly members: Map<string, ClassicGroupMember> = new Map();
  /** group.instance.id → member id of the static member currently holding it. */
  readonly staticMembers: Map<string, string> = new Map();
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not rejoined yet (KIP-394). */
  readonly pendingMembers: Set<string> = new Set();
  /** Members of this generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers: Set<string> = new Set();
  /** Set when a member joins during the initial delayed join (extends the delay). */
  newMemberAdded = false;
  /** Topics the members subscribe to (consumer protocol only); null when unknown. */
  subscribedTopics: Set<string> | null = null;

  constructor(readonly groupId: string, now: number) {
    this.currentStateTimestamp = now;
  }

  is(state: ClassicGroupState): boolean {
    return this.state === state;
  }

  transitionTo(target: ClassicGroupState, now: number): void {
    if (!VALID_PREVIOUS[target].includes(this.state)) {
      throw new Error(`group ${this.groupId}: illegal transition ${this.state} → ${target}`);
    }
    this.previousState = this.state;
    this.state = target;
    this.currentStateTimestamp = now;
  }

  /** Whether a rebalance may start from this state. */
  canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): ClassicGroupMember | undefined {
    return this.members.get(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  add(member: ClassicGroupMember, onJoin?: (r: JoinGroupResult) => void): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.leaderId ??= member.memberId;
    if (member.groupInstanceId !== null) {
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (onJoin) member.awaitingJoin = onJoin;
    this.members.set(member.memberId, member);
  }

  remove(memberId: string): ClassicGroupMember | undefined {
    const m = this.members.get(memberId);
    if (!m) return undefined;
    this.members.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) {
      this.staticMembers.delete(m.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      this.leaderId = this.members.keys().next().value ?? null;
    }
    return m;
  }

  /**
   * Hands a static member's place to a new member id (KIP-345). Whoever still waits on the
   * old id's JoinGroup or SyncGroup is fenced with FENCED_INSTANCE_ID.
   */
  replaceStaticMember(
    groupInstanceId: string,
    oldMemberId: string,
    newMemberId: string,
  ): ClassicGroupMember {
    const m = this.members.get(oldMemberId);
    if (!m) throw new Error(`static member ${oldMemberId} of ${this.groupId} is missing`);
    this.members.delete(oldMemberId);
    this.completeJoin(m, joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    this.completeSync(m, syncError(ErrorCode.FENCED_INSTANCE_ID));
    m.memberId = newMemberId;
    this.members.set(newMemberId, m);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return m;
  }

  /** Completes a member's pending JoinGroup, if any. */
  completeJoin(member: ClassicGroupMember, r: JoinGroupResult): boolean {
    const cb = member.awaitingJoin;
    if (!cb) return false;
    member.awaitingJoin = undefined;
    cb(r);
    return true;
  }

  /** Completes a member's pending SyncGroup, if any. */
  completeSync(member: ClassicGroupMember, r: SyncGroupResult): boolean {
    const cb = member.awaitingSync;
    if (!cb) return false;
    member.awaitingSync = undefined;
    cb(r);
    return true;
  }

  get numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.awaitingJoin) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.numAwaitingJoin === this.members.size && this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): ClassicGroupMember[] {
    return [...this.members.values()].filter((m) => !m.awaitingJoin);
  }

  /** Largest rebalance timeout among members: how long a rebalance may wait for them. */
  get rebalanceTimeoutMs(): number {
    let t = 0;
    for (const m of this.members.values()) t = Math.max(t, m.rebalanceTimeoutMs);
    return t;
  }

  /**
   * Whether a member with this protocol type and protocols may join: an empty group takes
   * any non-empty set; otherwise the type must match and at least one protocol must be
   * supported by every current member.
   */
  supportsProtocols(protocolType: string, protocols: Protocol[]): boolean {
    if (this.is("Empty")) return protocolType !== "" && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    return protocols.some((p) => this.countSupporting(p.name) === this.members.size);
  }

  private countSupporting(protocol: string): number {
    let n = 0;
    for (const m of this.members.values()) if (m.supports(protocol)) n++;
    return n;
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    let common: Set<string> | undefined;
    for (const m of this.members.values()) {
      const mine = new Set(m.protocols.map((p) => p.name));
      common = common ? new Set([...common].filter((p) => mine.has(p))) : mine;
    }
    return common ?? new Set();
  }

  /**
   * Kafka's vote: each member votes for its most preferred protocol among those every member
   * supports; the protocol with most votes wins (ties: the earliest member's choice).
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      if (v !== undefined) votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best: string | undefined;
    let bestVotes = -1;
    for (const [p, n] of votes) {
      if (n > bestVotes) {
        best = p;
        bestVotes = n;
      }
    }
    if (best === undefined) throw new Error(`group ${this.groupId} has no common protocol`);
    return best;
  }

  /**
   * Keeps the leader if it rejoined, otherwise promotes a member that did; false when no
   * member rejoined (the rebalance cannot complete yet).
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.awaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.awaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** Starts the next generation: CompletingRebalance with a chosen protocol, or Empty. */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo("CompletingRebalance", now);
    } else {
      this.protocolName = null;
      this.subscribedTopics = null;
      this.transitionTo("Empty", now);
    }
  }

  /** Every member's metadata for the chosen protocol (the leader's JoinGroup response). */
  currentMemberMetadata(): JoinGroupResult["members"] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(this.protocolName),
    }));
  }

  /** Union of the members' subscribed topics, when every member's metadata parses. */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE || this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const s = decodeSubscription(m.metadata(this.protocolName));
      if (!s) return null;
      for (const t of s.topics as string[]) topics.add(t);
    }
    return topics;
  }

  /** Whether offsets of `topic` are in use (unknown subscriptions count as in use). */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null || this.subscribedTopics.has(topic);
  }
  /** The group's metadata record value (with `assignment`, else the members' current ones). */
  toStoredGroup(assignment?: Map<string, Uint8Array>): StoredGroup {
    return {
      protocolType: this.protocolType ?? "",
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: this.currentStateTimestamp,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(this.protocolName),
        assignment: assignment?.get(m.memberId) ?? m.assignment,
      })),
    };
  }
}

/**
 * Decodes a ConsumerProtocolSubscription (int16 version + body). Versions above the schema's
 * newest are read as the newest (later versions only append fields) and trailing bytes are
 * ignored, as Kafka's ConsumerProtocol does. Null when malformed.
 */
export function decodeSubscription(b: Uint8Array): ConsumerProtocolSubscription | null {
  try {
    const r = new Reader(b);
    const version = r.int16();
    if (version < 0) return null;
    return codecFor(ConsumerProtocolSubscription, Math.min(version, 3)).decode(r);
  } catch {
    return null;
  }
}
