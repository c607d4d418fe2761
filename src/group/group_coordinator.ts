/**
 * GroupCoordinator: runs every consumer group of this broker (it is the coordinator of all of
 * them) — the classic rebalance protocol's state machine, committed offsets, and their
 * persistence in `__consumer_offsets`. Kafka's GroupCoordinator + GroupMetadataManager.
 *
 * Classic protocol, as Kafka implements it:
 * - JoinGroup long-polls: a rebalance (PreparingRebalance) completes when every known member
 *   has rejoined, or when the rebalance timeout (largest member rebalance.timeout.ms) expires;
 *   dynamic members that did not rejoin are then removed. A new group first waits
 *   `group.initial.rebalance.delay.ms`, extended while members keep arriving, up to the
 *   rebalance timeout (Kafka's InitialDelayedJoin). With a delay of 0 the first rebalance
 *   completes as soon as everyone who joined has joined.
 * - v4+ first joins with an empty member id get MEMBER_ID_REQUIRED and the id to rejoin with
 *   (KIP-394); the id is pending until the rejoin or a session timeout.
 * - The leader gets every member's metadata; its SyncGroup assignment is written to the log
 *   and then delivered to every member's (waiting) SyncGroup; the group becomes Stable.
 * - Heartbeats keep a session; a member silent for its session timeout is removed and the
 *   group rebalances. Members that do not SyncGroup within the rebalance timeout are removed.
 * - Static members (group.instance.id, KIP-345) keep their place across restarts: a rejoin
 *   with an empty member id replaces the old member id (fencing the old one with
 *   FENCED_INSTANCE_ID) and, in a Stable group whose chosen protocol and the member's
 *   metadata are unchanged, returns the current generation without a rebalance. Static
 *   members are not removed for missing a rebalance, only on session expiry or LeaveGroup.
 *
 * Offsets: commits from members are checked against generation and member id; commits with
 * generation -1 and no member id (simple consumers, admin tools) are accepted while the group
 * is Empty. Records are appended before the cache changes and before the response.
 * Expiry (offsets.retention.minutes): offsets of an Empty group expire that long after the
 * group became empty; of a simple group, that long after their commit; of a Stable consumer
 * group, offsets of topics nobody subscribes to, that long after their commit. A group left
 * Empty with no offsets is removed.
 *
 * Groups of the consumer group protocol (KIP-848) live in `consumer`
 * (consumer_group_coordinator.ts); a group id is either classic or consumer, and the
 * requests of one protocol answer those of the other as Kafka does (see there). Offsets are
 * stored alike for both.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
} from "../../protocol/messages/mod.ts";
import { Writer } from "../../protocol/primitives.ts";
import { codecFor, type MessageSchema, type Msg } from "../../protocol/schema.ts";
import { log } from "../log.ts";
import {
  CLASSIC_GROUP_STATES,
  ClassicGroup,
  type ClassicGroupState,
  CONSUMER_PROTOCOL_TYPE,
} from "./classic_group.ts";
import {
  ClassicGroupMember,
  EMPTY_BYTES,
  joinError,
  type JoinGroupResult,
  type Protocol,
  syncError,
  type SyncGroupResult,
} from "./classic_group_member.ts";
import { type Clock, systemClock } from "./clock.ts";
import { CoordinatorTimer } from "./coordinator_timer.ts";
import {
  decodeRecord,
  groupMetadataKey,
  groupMetadataValue,
  type OffsetAndMetadata,
  offsetCommitKey,
  offsetCommitValue,
  type StoredGroup,
} from "./coordinator_records.ts";
import {
  ConsumerGroupCoordinator,
  type ConsumerGroupHeartbeatParams,
  type ConsumerGroupHeartbeatResult,
  type TopicCatalog,
  type TopicInfo,
} from "./consumer_group_coordinator.ts";
import { decodeConsumerGroupRecord } from "./consumer_group_records.ts";
import type { ConsumerGroup } from "./consumer_group.ts";
import { DEFAULT_GROUP_CONFIG, type GroupConfig } from "./group_config.ts";
import { type CoordinatorLog, GROUP_METADATA_TOPIC, type LogRecord } from "./group_metadata_log.ts";
import { type CommittedOffset, OffsetStore } from "./offset_store.ts";

export interface JoinGroupParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  /** JoinGroup v4+: a first join with an empty member id gets MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+ (KIP-814): a static leader rejoining a Stable group skips assignment. */
  supportSkippingAssignment: boolean;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  reason?: string | null;
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Uint8Array }[];
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: (MemberIdentity & { errorCode: number })[];
}

export interface OffsetCommitParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2–4 retention time; -1: the broker's offsets.retention.minutes. */
  retentionTimeMs: number;
  apiVersion: number;
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: number;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
      /** OffsetCommit v1's explicit commit time; absent or -1: now. */
      commitTimestamp?: number;
    }[];
  }[];
}

/** An offset that passed the per-partition checks, with the result slot to report on. */
interface AcceptedOffset {
  topic: string;
  partition: number;
  o: OffsetAndMetadata;
  r: PartitionResult;
}

/** The same error code for every partition of a commit request. */
function everyPartition(topics: OffsetCommitParams["topics"], errorCode: number): TopicResult[] {
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((x) => ({ partitionIndex: x.partitionIndex, errorCode })),
  }));
}

export interface PartitionResult {
  partitionIndex: number;
  errorCode: number;
}

export interface TopicResult {
  name: string;
  partitions: PartitionResult[];
}

export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Uint8Array;
    memberAssignment: Uint8Array;
  }[];
}

export interface GroupCoordinatorOptions {
  config?: Partial<GroupConfig>;
  clock?: Clock;
  /** Whether a topic partition exists (commits to unknown ones are refused). */
  partitionExists?: (topic: string, partition: number) => boolean;
  /** The broker's topics, for consumer-protocol (KIP-848) assignments; default: none. */
  topics?: TopicCatalog;
  /**
   * TxnOffsetCommit's transaction verification: NONE when `__consumer_offsets`-`partition`
   * is part of the producer's ongoing transaction (added by AddOffsetsToTxn), else the
   * transaction coordinator's error. Called synchronously right before the append. Default:
   * everything passes.
   */
  verifyTransaction?(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    offsetsPartition: number,
  ): number;
}

export interface TxnOffsetCommitParams {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  /** TxnOffsetCommit v3+; -1, "" and null before (nothing to validate then). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  apiVersion: number;
  topics: OffsetCommitParams["topics"];
}

/** An offset committed inside a transaction, waiting for the transaction's end. */
interface PendingTxnOffset {
  groupId: string;
  topic: string;
  partition: number;
  o: OffsetAndMetadata;
  /** Order of registration (a later non-transactional write of the key supersedes it). */
  seq: number;
}

function offsetKey(groupId: string, topic: string, partition: number): string {
  return `${groupId}\u0000${topic}\u0000${partition}`;
}

/**
 * Kafka's translation of transaction verification errors for TxnOffsetCommit (as for
 * Produce, see txn/produce_verification.ts; coordinator trouble then reads as
 * COORDINATOR_NOT_AVAILABLE, Kafka's normalisation of NOT_ENOUGH_REPLICAS for commits).
 */
function txnVerificationError(code: number, apiVersion: number): number {
  switch (code) {
    case ErrorCode.NONE:
      return ErrorCode.NONE;
    case ErrorCode.PRODUCER_FENCED:
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    case ErrorCode.INVALID_TXN_STATE:
    case ErrorCode.TRANSACTION_ABORTABLE:
      return apiVersion >= 4 ? ErrorCode.TRANSACTION_ABORTABLE : ErrorCode.INVALID_TXN_STATE;
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    default:
      return code;
  }
}

const NO_TOPICS: TopicCatalog = {
  byName: (): TopicInfo | undefined => undefined,
  byId: (): TopicInfo | undefined => undefined,
  all: () => [],
};

const encoder = new TextEncoder();

/** Kafka's mapping of append errors to what a group/commit request answers. */
function appendErrorCode(e: unknown, forCommit: boolean): number {
  if (!(e instanceof KafkaError)) {
    log.error(`group coordinator append failed: ${e instanceof Error ? e.stack : e}`);
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
  switch (e.code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
    case ErrorCode.BROKER_NOT_AVAILABLE:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return forCommit ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return e.code;
  }
}

export class GroupCoordinator {
  readonly config: GroupConfig;
  readonly clock: Clock;
  readonly groups = new Map<string, ClassicGroup>();
  readonly offsets = new OffsetStore();
  private readonly timer: CoordinatorTimer;
  private readonly partitionExists: (topic: string, partition: number) => boolean;
  private readonly verifyTransaction: NonNullable<GroupCoordinatorOptions["verifyTransaction"]>;
  /** Transactional offset commits by producer id, by group/topic/partition (offsetKey). */
  private readonly pendingTxnOffsets = new Map<number, Map<string, PendingTxnOffset>>();
  private pendingSeq = 0;
  private closed = false;
  private expiring = false;
  /** The consumer-protocol (KIP-848) groups. */
  readonly consumer: ConsumerGroupCoordinator;

  constructor(private readonly log: CoordinatorLog, opts: GroupCoordinatorOptions = {}) {
    this.config = { ...DEFAULT_GROUP_CONFIG, ...opts.config };
    this.clock = opts.clock ?? systemClock;
    this.timer = new CoordinatorTimer(this.clock);
    this.partitionExists = opts.partitionExists ?? (() => true);
    this.verifyTransaction = opts.verifyTransaction ?? (() => ErrorCode.NONE);
    this.consumer = new ConsumerGroupCoordinator(
      this.config,
      this.clock,
      opts.topics ?? NO_TOPICS,
      {
        classicGroup: (groupId) => this.groups.get(groupId),
        dropClassicGroup: (groupId) => {
          const g = this.groups.get(groupId);
          if (g && g.is("Empty") && g.size === 0) this.groups.delete(groupId);
        },
      },
      log,
    );
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /**
   * Rebuilds groups and offsets from the log (last record per key wins, null = deleted) and
   * starts the offset expiry task. Loaded groups with members are Stable with the stored
   * generation and assignment, and every member gets a fresh session: consumers that were
   * connected before a restart carry on heartbeating without a rebalance; silent ones expire.
   * Consumer-protocol groups are rebuilt likewise (ConsumerGroupCoordinator.onLoaded); of a
   * classic and a consumer group of the same id, the one written last wins.
   */
  async load(): Promise<void> {
    const stored = new Map<string, StoredGroup | null>();
    const storedSeq = new Map<string, number>();
    let seq = 0;
    await this.log.load((key, value, producerId) => {
      seq++;
      let rec;
      try {
        rec = decodeRecord(key, value);
        if (!rec) {
          const cg = decodeConsumerGroupRecord(key, value);
          if (cg) this.consumer.replay(cg, seq);
          return;
        }
      } catch (e) {
        log.warn(`skipping undecodable __consumer_offsets record: ${e}`);
        return;
      }
      const k = rec.key;
      if (k.type === "offset") {
        const v = rec.value as OffsetAndMetadata | null;
        if (producerId >= 0) {
          // A transactional commit: pending until the producer's marker (or still open).
          if (v !== null) this.addPendingTxnOffset(producerId, k.group, k.topic, k.partition, v);
          return;
        }
        this.supersedePendingTxnOffsets(k.group, [[k.topic, k.partition]], Infinity);
        if (v === null) this.offsets.delete(k.group, k.topic, k.partition);
        else this.offsets.put(k.group, k.topic, k.partition, v);
      } else {
        if (rec.value === null) this.dropPendingTxnOffsets(k.group);
        stored.set(k.group, rec.value as StoredGroup | null);
        storedSeq.set(k.group, seq);
      }
    }, (producerId, commit) => this.completeTxnOffsets(producerId, commit, true));
    const now = this.clock.now();
    for (const [groupId, g] of stored) {
      if (g === null) continue;
      if (this.consumer.loadedSeq(groupId) > storedSeq.get(groupId)!) continue;
      this.consumer.dropLoaded(groupId);
      const group = new ClassicGroup(groupId, g.currentStateTimestamp);
      group.protocolType = g.protocolType;
      group.protocolName = g.protocol;
      group.generationId = g.generation;
      for (const m of g.members) {
        const member = new ClassicGroupMember(
          m.memberId,
          m.groupInstanceId,
          m.clientId,
          m.clientHost,
          m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout,
          m.sessionTimeout,
          g.protocolType,
          [{ name: g.protocol ?? "", metadata: m.subscription }],
        );
        member.assignment = m.assignment;
        group.add(member);
      }
      group.leaderId = g.leader !== null && group.has(g.leader) ? g.leader : group.leaderId;
      if (group.size > 0) {
        group.state = "Stable";
        group.previousState = "Stable";
        group.subscribedTopics = group.computeSubscribedTopics();
        for (const m of group.members.values()) this.scheduleHeartbeat(group, m);
      } else if (group.currentStateTimestamp < 0) {
        group.currentStateTimestamp = now;
      }
      this.groups.set(groupId, group);
    }
    this.consumer.onLoaded();
    for (const groupId of this.offsets.groupIds()) {
      if (!this.groups.has(groupId) && !this.consumer.has(groupId)) {
        this.groups.set(groupId, new ClassicGroup(groupId, now));
      }
    }
    this.scheduleOffsetExpiry();
  }

  /** Cancels every timer and answers every waiting JoinGroup/SyncGroup with NOT_COORDINATOR. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer.cancelAll();
    this.consumer.close();
    for (const g of this.groups.values()) {
      for (const m of g.members.values()) {
        g.completeJoin(m, joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
        g.completeSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  /** Timers outstanding (tests check close() leaves none). */
  get pendingTimers(): number {
    return this.timer.size + this.consumer.pendingTimers;
  }

  group(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  // ---- JoinGroup ------------------------------------------------------------------------

  joinGroup(p: JoinGroupParams): Promise<JoinGroupResult> {
    if (this.closed) return Promise.resolve(joinError(ErrorCode.NOT_COORDINATOR, p.memberId));
    if (!p.groupId) return Promise.resolve(joinError(ErrorCode.INVALID_GROUP_ID, p.memberId));
    if (
      p.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      p.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    ) {
      return Promise.resolve(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, p.memberId));
    }
    // A consumer-protocol group with members keeps its id; an empty one gives it up.
    const conflict = this.consumer.classicJoinConflict(p.groupId);
    if (conflict !== ErrorCode.NONE) return Promise.resolve(joinError(conflict, p.memberId));
    const isUnknown = p.memberId === "";
    let group = this.groups.get(p.groupId);
    if (!group) {
      if (!isUnknown) return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, p.memberId));
      group = new ClassicGroup(p.groupId, this.clock.now());
      this.groups.set(p.groupId, group);
    }
    const g = group;
    return new Promise<JoinGroupResult>((resolve) => {
      if (!this.acceptJoiningMember(g, p.memberId)) {
        resolve(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, p.memberId));
      } else if (isUnknown) {
        this.joinNewMember(g, p, resolve);
      } else {
        this.joinExistingMember(g, p, resolve);
      }
      this.tryCompleteJoin(g);
      this.maybeForgetGroup(g);
    });
  }

  /** group.max.size: a full group takes no new members (known ones may rejoin). */
  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    switch (group.state) {
      case "Empty":
      case "Dead":
        return true;
      case "PreparingRebalance":
        return (group.has(memberId) && group.get(memberId)!.awaitingJoin !== undefined) ||
          group.numAwaitingJoin < this.config.maxSize;
      default:
        return group.has(memberId) || group.size < this.config.maxSize;
    }
  }

  private joinNewMember(
    group: ClassicGroup,
    p: JoinGroupParams,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    if (group.is("Dead")) return resolve(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols)) {
      return resolve(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = `${p.groupInstanceId ?? p.clientId}-${crypto.randomUUID()}`;
    if (p.groupInstanceId !== null) {
      const oldMemberId = group.staticMemberId(p.groupInstanceId);
      if (oldMemberId === undefined) {
        this.addMemberAndRebalance(group, p, newMemberId, resolve);
      } else {
        this.updateStaticMemberAndRebalance(group, p, oldMemberId, newMemberId, resolve);
      }
    } else if (p.requireKnownMemberId) {
      // KIP-394: hand out the id and wait for the rejoin; forget it after a session timeout.
      group.pendingMembers.add(newMemberId);
      this.timer.schedule(
        heartbeatKey(group.groupId, newMemberId),
        p.sessionTimeoutMs,
        () => this.onHeartbeatExpired(group, newMemberId),
      );
      resolve(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId));
    } else {
      this.addMemberAndRebalance(group, p, newMemberId, resolve);
    }
  }

  private joinExistingMember(
    group: ClassicGroup,
    p: JoinGroupParams,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    const memberId = p.memberId;
    if (group.is("Dead")) {
      return resolve(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
    }
    if (!group.supportsProtocols(p.protocolType, p.protocols)) {
      return resolve(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
    }
    if (group.pendingMembers.has(memberId)) {
      if (p.groupInstanceId !== null) {
        return resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
      }
      group.pendingMembers.delete(memberId);
      this.timer.cancel(heartbeatKey(group.groupId, memberId));
      return this.addMemberAndRebalance(group, p, memberId, resolve);
    }
    const err = this.validateMember(group, memberId, p.groupInstanceId);
    if (err !== ErrorCode.NONE) return resolve(joinError(err, memberId));
    const member = group.get(memberId)!;
    switch (group.state) {
      case "PreparingRebalance":
        return this.updateMemberAndRebalance(group, member, p, resolve);
      case "CompletingRebalance":
        // A rejoin with unchanged metadata is a retry of a lost JoinGroup response.
        if (member.matches(p.protocols)) return resolve(this.currentJoinResult(group, memberId));
        return this.updateMemberAndRebalance(group, member, p, resolve);
      case "Stable":
        // The leader rejoining asks for a new assignment (e.g. its metadata view changed).
        if (group.isLeader(memberId) || !member.matches(p.protocols)) {
          return this.updateMemberAndRebalance(group, member, p, resolve);
        }
        return resolve(this.currentJoinResult(group, memberId, false));
      default:
        return resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    }
  }

  /** The current generation, as a JoinGroup response (members only for the leader). */
  private currentJoinResult(group: ClassicGroup, memberId: string, leaderGetsMembers = true) {
    const isLeader = group.isLeader(memberId);
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? "",
      skipAssignment: false,
      memberId,
      members: isLeader && leaderGetsMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberAndRebalance(
    group: ClassicGroup,
    p: JoinGroupParams,
    memberId: string,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    const member = new ClassicGroupMember(
      memberId,
      p.groupInstanceId,
      p.clientId,
      p.clientHost,
      p.rebalanceTimeoutMs,
      p.sessionTimeoutMs,
      p.protocolType,
      p.protocols,
    );
    member.isNew = true;
    // A member arriving during the initial delayed join extends the delay.
    if (group.is("PreparingRebalance") && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, resolve);
    // New members cannot heartbeat before their JoinGroup completes; a disconnected one would
    // otherwise stay forever, so its join has Kafka's 5-minute limit.
    this.scheduleHeartbeat(group, member, this.config.newMemberJoinTimeoutMs);
    this.maybePrepareRebalance(group, `adding new member ${memberId}`);
  }

  private updateMemberAndRebalance(
    group: ClassicGroup,
    member: ClassicGroupMember,
    p: JoinGroupParams,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    member.protocols = p.protocols;
    member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.sessionTimeoutMs = p.sessionTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    // A retried join replaces the older one (whose connection is gone): send it away.
    group.completeJoin(member, joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    member.awaitingJoin = resolve;
    this.maybePrepareRebalance(group, `updating metadata of member ${member.memberId}`);
  }

  /** KIP-345: a known group.instance.id rejoining with an empty member id. */
  private updateStaticMemberAndRebalance(
    group: ClassicGroup,
    p: JoinGroupParams,
    oldMemberId: string,
    newMemberId: string,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    const instanceId = p.groupInstanceId!;
    const oldLeader = group.leaderId;
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    this.timer.cancel(heartbeatKey(group.groupId, oldMemberId));
    this.scheduleHeartbeat(group, member);
    const oldProtocols = member.protocols;
    const oldMetadata = member.metadata(group.protocolName);
    const old = {
      rebalance: member.rebalanceTimeoutMs,
      session: member.sessionTimeoutMs,
      clientId: member.clientId,
      clientHost: member.clientHost,
    };
    member.protocols = p.protocols;
    member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.sessionTimeoutMs = p.sessionTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    member.awaitingJoin = resolve;
    switch (group.state) {
      case "Stable": {
        const unchanged = group.protocolName === group.selectProtocol() &&
          sameBytes(oldMetadata, member.metadata(group.protocolName));
        if (!unchanged) {
          return this.maybePrepareRebalance(group, `static member ${instanceId} changed metadata`);
        }
        // Persist the new member id, then answer with the current generation. The leader id
        // returned is the old one so a rejoining static leader does not re-assign (unless it
        // can skip assignment, KIP-814, which it is told to do).
        const generation = group.generationId;
        this.storeGroup(group).then((err) => {
          if (err !== ErrorCode.NONE) {
            // Put the old member id back: the client will retry.
            if (group.get(newMemberId) === member) {
              group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
              member.protocols = oldProtocols;
              member.rebalanceTimeoutMs = old.rebalance;
              member.sessionTimeoutMs = old.session;
              member.clientId = old.clientId;
              member.clientHost = old.clientHost;
              this.timer.cancel(heartbeatKey(group.groupId, newMemberId));
              this.scheduleHeartbeat(group, member);
            }
            member.awaitingJoin = undefined;
            return resolve(joinError(err, ""));
          }
          if (group.generationId !== generation || group.get(newMemberId) !== member) return;
          const skip = p.supportSkippingAssignment && group.isLeader(newMemberId);
          group.completeJoin(member, {
            errorCode: ErrorCode.NONE,
            generationId: group.generationId,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            leader: skip
              ? newMemberId
              : (oldLeader === oldMemberId ? oldMemberId : oldLeader ?? ""),
            skipAssignment: skip,
            memberId: newMemberId,
            members: skip ? group.currentMemberMetadata() : [],
          });
        });
        return;
      }
      case "CompletingRebalance":
        group.completeJoin(member, this.currentJoinResult(group, newMemberId));
        return;
      default:
        // PreparingRebalance: the member waits for the rebalance like everyone else.
        return;
    }
  }

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    // Members waiting for an assignment must rejoin instead.
    if (group.is("CompletingRebalance")) {
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    }
    this.timer.cancel(syncKey(group.groupId));
    const initial = group.is("Empty") && this.config.initialRebalanceDelayMs > 0;
    group.transitionTo("PreparingRebalance", this.clock.now());
    log.debug(
      `group ${group.groupId}: preparing rebalance (generation ${group.generationId}): ${reason}`,
    );
    if (initial) {
      const delay = this.config.initialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs - delay, 0);
      this.scheduleInitialJoin(group, delay, remaining);
    } else {
      this.timer.schedule(
        joinKey(group.groupId),
        group.rebalanceTimeoutMs,
        () => this.completeJoin(group),
      );
      this.tryCompleteJoin(group);
    }
  }

  /** Kafka's InitialDelayedJoin: wait `delay`, again while members keep arriving. */
  private scheduleInitialJoin(group: ClassicGroup, delay: number, remaining: number): void {
    this.timer.schedule(joinKey(group.groupId), delay, () => {
      if (group.newMemberAdded && remaining !== 0) {
        group.newMemberAdded = false;
        const next = Math.min(this.config.initialRebalanceDelayMs, remaining);
        this.scheduleInitialJoin(group, next, Math.max(remaining - next, 0));
      } else {
        this.completeJoin(group);
      }
    });
  }

  /** Completes the join phase now if every member rejoined (not during an initial delay). */
  private tryCompleteJoin(group: ClassicGroup): void {
    if (!group.is("PreparingRebalance") || !group.hasAllMembersJoined()) return;
    const initialDelayRunning = group.previousState === "Empty" &&
      this.config.initialRebalanceDelayMs > 0 && this.timer.isScheduled(joinKey(group.groupId));
    if (!initialDelayRunning) this.completeJoin(group);
  }

  /** The end of PreparingRebalance: a new generation (or Empty) and the JoinGroup responses. */
  private completeJoin(group: ClassicGroup): void {
    if (!group.is("PreparingRebalance")) return;
    this.timer.cancel(joinKey(group.groupId));
    // Dynamic members that did not rejoin in time are out; static ones keep their place.
    for (const m of group.notYetRejoinedMembers()) {
      if (m.isStatic) continue;
      group.remove(m.memberId);
      this.timer.cancel(heartbeatKey(group.groupId, m.memberId));
      log.debug(`group ${group.groupId}: removed ${m.memberId}, which did not rejoin in time`);
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Nobody rejoined (only static members remain): wait for them or their session expiry.
      this.timer.schedule(
        joinKey(group.groupId),
        group.rebalanceTimeoutMs,
        () => this.completeJoin(group),
      );
      return;
    }
    group.initNextGeneration(this.clock.now());
    log.debug(
      `group ${group.groupId}: generation ${group.generationId} (${group.state}, ` +
        `${group.size} members, protocol ${group.protocolName})`,
    );
    if (group.is("Empty")) {
      this.storeGroup(group).then((err) => {
        if (err !== ErrorCode.NONE) {
          log.warn(`group ${group.groupId}: storing empty generation failed: ${err}`);
        }
      });
      this.maybeForgetGroup(group);
      return;
    }
    for (const m of group.members.values()) {
      if (!m.awaitingJoin) continue;
      group.completeJoin(m, this.currentJoinResult(group, m.memberId));
      m.isNew = false;
      this.scheduleHeartbeat(group, m);
    }
    this.schedulePendingSync(group);
  }

  /** Members must SyncGroup within the rebalance timeout or be removed. */
  private schedulePendingSync(group: ClassicGroup): void {
    group.pendingSyncMembers.clear();
    for (const id of group.members.keys()) group.pendingSyncMembers.add(id);
    const generation = group.generationId;
    this.timer.schedule(syncKey(group.groupId), group.rebalanceTimeoutMs, () => {
      if (group.generationId !== generation) return;
      if (!group.is("CompletingRebalance") && !group.is("Stable")) return;
      const missing = [...group.pendingSyncMembers];
      if (missing.length === 0) return;
      for (const id of missing) {
        const m = group.remove(id);
        this.timer.cancel(heartbeatKey(group.groupId, id));
        if (m) this.failPending(group, m);
      }
      this.prepareRebalance(group, `members ${missing.join(", ")} did not sync in time`);
    });
  }

  // ---- SyncGroup ------------------------------------------------------------------------

  syncGroup(p: SyncGroupParams): Promise<SyncGroupResult> {
    if (this.closed) return Promise.resolve(syncError(ErrorCode.NOT_COORDINATOR));
    const group = this.groups.get(p.groupId);
    if (!group) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is("Dead")) return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    const err = this.validateMember(group, p.memberId, p.groupInstanceId);
    if (err !== ErrorCode.NONE) return Promise.resolve(syncError(err));
    if (p.generationId !== group.generationId) {
      return Promise.resolve(syncError(ErrorCode.ILLEGAL_GENERATION));
    }
    if (
      (p.protocolType !== null && p.protocolType !== group.protocolType) ||
      (p.protocolName !== null && p.protocolName !== group.protocolName)
    ) {
      return Promise.resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const member = group.get(p.memberId)!;
    switch (group.state) {
      case "PreparingRebalance":
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case "Stable":
        group.pendingSyncMembers.delete(p.memberId);
        if (group.pendingSyncMembers.size === 0) this.timer.cancel(syncKey(group.groupId));
        this.scheduleHeartbeat(group, member);
        return Promise.resolve({
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
      case "CompletingRebalance":
        break;
      default:
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
    return new Promise<SyncGroupResult>((resolve) => {
      group.completeSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      member.awaitingSync = resolve;
      group.pendingSyncMembers.delete(p.memberId);
      if (group.pendingSyncMembers.size === 0) this.timer.cancel(syncKey(group.groupId));
      if (!group.isLeader(p.memberId)) return;
      // Members the leader left out get an empty assignment.
      const assignment = new Map<string, Uint8Array>();
      for (const a of p.assignments) {
        if (group.has(a.memberId)) assignment.set(a.memberId, a.assignment.slice());
      }
      for (const id of group.members.keys()) {
        if (!assignment.has(id)) assignment.set(id, EMPTY_BYTES);
      }
      const generation = group.generationId;
      this.storeGroup(group, assignment).then((storeErr) => {
        if (!group.is("CompletingRebalance") || group.generationId !== generation) return;
        if (storeErr !== ErrorCode.NONE) {
          this.resetAndPropagateAssignmentError(group, storeErr);
          this.maybePrepareRebalance(group, "storing the assignment failed");
          return;
        }
        this.setAndPropagateAssignment(group, assignment);
        group.transitionTo("Stable", this.clock.now());
      });
    });
  }

  private setAndPropagateAssignment(group: ClassicGroup, assignment: Map<string, Uint8Array>) {
    for (const m of group.members.values()) {
      m.assignment = assignment.get(m.memberId) ?? EMPTY_BYTES;
      if (
        group.completeSync(m, {
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: m.assignment,
        })
      ) {
        this.scheduleHeartbeat(group, m);
      }
    }
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) {
      m.assignment = EMPTY_BYTES;
      if (group.completeSync(m, syncError(errorCode))) this.scheduleHeartbeat(group, m);
    }
  }

  // ---- Heartbeat / LeaveGroup -----------------------------------------------------------

  heartbeat(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const err = this.validateMember(group, memberId, groupInstanceId);
    if (err !== ErrorCode.NONE) return err;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.get(memberId)!;
    switch (group.state) {
      case "PreparingRebalance":
        this.scheduleHeartbeat(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case "CompletingRebalance":
      case "Stable":
        this.scheduleHeartbeat(group, member);
        return ErrorCode.NONE;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  /**
   * Removes members (v3+ batches them). A member named only by group.instance.id (empty
   * member id) is looked up, as admin tools remove static members that way.
   */
  leaveGroup(groupId: string, members: MemberIdentity[]): LeaveGroupResult {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, members: [] };
    const group = this.groups.get(groupId);
    if (!group) {
      return {
        errorCode: ErrorCode.NONE,
        members: members.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    }
    if (group.is("Dead")) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const out: LeaveGroupResult["members"] = [];
    for (const m of members) out.push({ ...m, errorCode: this.leaveOne(group, m) });
    this.maybeForgetGroup(group);
    return { errorCode: ErrorCode.NONE, members: out };
  }

  private leaveOne(group: ClassicGroup, id: MemberIdentity): number {
    let memberId = id.memberId;
    if (memberId === "" && id.groupInstanceId !== null) {
      const found = group.staticMemberId(id.groupInstanceId);
      if (found === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      memberId = found;
    } else if (id.groupInstanceId !== null) {
      const err = this.validateMember(group, memberId, id.groupInstanceId);
      if (err !== ErrorCode.NONE) return err;
    }
    if (group.pendingMembers.delete(memberId)) {
      this.timer.cancel(heartbeatKey(group.groupId, memberId));
      this.tryCompleteJoin(group);
      return ErrorCode.NONE;
    }
    const member = group.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMemberAndUpdateGroup(group, member, "member left the group");
    return ErrorCode.NONE;
  }

  private removeMemberAndUpdateGroup(
    group: ClassicGroup,
    member: ClassicGroupMember,
    reason: string,
  ): void {
    this.failPending(group, member);
    group.remove(member.memberId);
    this.timer.cancel(heartbeatKey(group.groupId, member.memberId));
    log.debug(`group ${group.groupId}: removed member ${member.memberId}: ${reason}`);
    switch (group.state) {
      case "Stable":
      case "CompletingRebalance":
        this.maybePrepareRebalance(group, `removing member ${member.memberId}: ${reason}`);
        break;
      case "PreparingRebalance":
        this.tryCompleteJoin(group);
        break;
    }
  }

  /** A removed member's waiting requests learn it is gone. */
  private failPending(group: ClassicGroup, member: ClassicGroupMember): void {
    group.completeJoin(member, joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId));
    group.completeSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }

  private scheduleHeartbeat(
    group: ClassicGroup,
    member: ClassicGroupMember,
    timeoutMs = member.sessionTimeoutMs,
  ): void {
    const memberId = member.memberId;
    this.timer.schedule(
      heartbeatKey(group.groupId, memberId),
      timeoutMs,
      () => this.onHeartbeatExpired(group, memberId),
    );
  }

  private onHeartbeatExpired(group: ClassicGroup, memberId: string): void {
    if (group.is("Dead")) return;
    if (group.pendingMembers.delete(memberId)) {
      this.tryCompleteJoin(group);
      this.maybeForgetGroup(group);
      return;
    }
    const member = group.get(memberId);
    if (!member || member.hasSatisfiedHeartbeat()) return;
    this.removeMemberAndUpdateGroup(group, member, "session timeout expired");
  }

  /** Kafka's validateMember: FENCED_INSTANCE_ID / UNKNOWN_MEMBER_ID, else NONE. */
  private validateMember(
    group: ClassicGroup,
    memberId: string,
    groupInstanceId: string | null,
  ): number {
    if (groupInstanceId !== null) {
      const existing = group.staticMemberId(groupInstanceId);
      if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      return ErrorCode.NONE;
    }
    return group.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** Drops a group that holds nothing (no members, offsets or generation) from memory. */
  private maybeForgetGroup(group: ClassicGroup): void {
    if (
      group.is("Empty") && group.size === 0 && group.pendingMembers.size === 0 &&
      group.generationId === 0 && !this.offsets.hasOffsets(group.groupId)
    ) {
      if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
    }
  }

  // ---- persistence ------------------------------------------------------------------------

  /** Writes the group's metadata (with `assignment`, else the members' current ones). */
  private async storeGroup(
    group: ClassicGroup,
    assignment?: Map<string, Uint8Array>,
  ): Promise<number> {
    const value: StoredGroup = {
      protocolType: group.protocolType ?? "",
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      currentStateTimestamp: group.currentStateTimestamp,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(group.protocolName),
        assignment: assignment?.get(m.memberId) ?? m.assignment,
      })),
    };
    try {
      await this.log.append(group.groupId, [{
        key: groupMetadataKey(group.groupId),
        value: groupMetadataValue(value),
      }]);
      return ErrorCode.NONE;
    } catch (e) {
      return appendErrorCode(e, false);
    }
  }

  /**
   * The per-partition checks both commit paths share (unknown partition, metadata size, then
   * `partitionError`) and the `__consumer_offsets` records of what passed.
   */
  private offsetRecords(
    groupId: string,
    topics: OffsetCommitParams["topics"],
    now: number,
    expireTimestamp: number,
    partitionError: (topic: string, partition: number) => number,
  ): { results: TopicResult[]; records: LogRecord[]; accepted: AcceptedOffset[] } {
    const results: TopicResult[] = [];
    const records: LogRecord[] = [];
    const accepted: AcceptedOffset[] = [];
    for (const t of topics) {
      const out: PartitionResult[] = [];
      results.push({ name: t.name, partitions: out });
      for (const x of t.partitions) {
        const r: PartitionResult = { partitionIndex: x.partitionIndex, errorCode: ErrorCode.NONE };
        out.push(r);
        const metadata = x.committedMetadata ?? "";
        if (!this.partitionExists(t.name, x.partitionIndex)) {
          r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (encoder.encode(metadata).length > this.config.offsetMetadataMaxBytes) {
          r.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        } else {
          r.errorCode = partitionError(t.name, x.partitionIndex);
          if (r.errorCode !== ErrorCode.NONE) continue;
          const o: OffsetAndMetadata = {
            offset: x.committedOffset,
            leaderEpoch: x.committedLeaderEpoch ?? -1,
            metadata,
            commitTimestamp: x.commitTimestamp !== undefined && x.commitTimestamp !== -1
              ? x.commitTimestamp
              : now,
            expireTimestamp,
          };
          accepted.push({ topic: t.name, partition: x.partitionIndex, o, r });
          records.push({
            key: offsetCommitKey(groupId, t.name, x.partitionIndex),
            value: offsetCommitValue(o),
          });
        }
      }
    }
    return { results, records, accepted };
  }

  // ---- OffsetCommit ---------------------------------------------------------------------

  async commitOffsets(p: OffsetCommitParams): Promise<TopicResult[]> {
    const groupError = this.validateOffsetCommit(p);
    if (groupError !== ErrorCode.NONE) return everyPartition(p.topics, groupError);
    const now = this.clock.now();
    const expireTimestamp = p.retentionTimeMs >= 0 ? now + p.retentionTimeMs : -1;
    const { results, records, accepted } = this.offsetRecords(
      p.groupId,
      p.topics,
      now,
      expireTimestamp,
      (topic, partition) => this.consumerCommitPartitionError(p, topic, partition),
    );
    if (records.length === 0) return results;
    const before = this.pendingSeq;
    try {
      await this.log.append(p.groupId, records);
    } catch (e) {
      const code = appendErrorCode(e, true);
      for (const a of accepted) a.r.errorCode = code;
      return results;
    }
    if (!this.groups.has(p.groupId) && !this.consumer.has(p.groupId)) {
      this.groups.set(p.groupId, new ClassicGroup(p.groupId, now));
    }
    for (const a of accepted) this.offsets.put(p.groupId, a.topic, a.partition, a.o);
    this.supersedePendingTxnOffsets(p.groupId, accepted.map((a) => [a.topic, a.partition]), before);
    return results;
  }

  // ---- TxnOffsetCommit ------------------------------------------------------------------

  /**
   * TxnOffsetCommit: the group, member and generation are validated as Kafka does for
   * transactional commits (only what the request carries: v0–2 carry none of them), the
   * transaction is verified (the group's `__consumer_offsets` partition must have been added
   * with AddOffsetsToTxn), and the offsets are appended as one transactional batch of the
   * producer. They stay pending — invisible to OffsetFetch — until the transaction ends
   * (onTransactionCompleted).
   */
  async commitTransactionalOffsets(p: TxnOffsetCommitParams): Promise<TopicResult[]> {
    if (p.groupId === "") return everyPartition(p.topics, ErrorCode.INVALID_GROUP_ID);
    const groupError = this.validateTxnOffsetCommit(p);
    if (groupError !== ErrorCode.NONE) return everyPartition(p.topics, groupError);
    const cg = this.consumer.group(p.groupId);
    const { results, records, accepted } = this.offsetRecords(
      p.groupId,
      p.topics,
      this.clock.now(),
      -1,
      (topic, partition) =>
        cg &&
          this.consumer.commitPartitionError(cg, p.memberId, p.generationId, topic, partition) !==
            ErrorCode.NONE
          ? ErrorCode.ILLEGAL_GENERATION
          : ErrorCode.NONE,
    );
    if (records.length === 0) return results;
    let verifyError: number = ErrorCode.NONE;
    let registered: PendingTxnOffset[] = [];
    try {
      await this.log.append(p.groupId, records, {
        transactional: { producerId: p.producerId, producerEpoch: p.producerEpoch },
        beforeAppend: (partition) => {
          verifyError = txnVerificationError(
            this.verifyTransaction(p.transactionalId, p.producerId, p.producerEpoch, partition),
            p.apiVersion,
          );
          if (verifyError !== ErrorCode.NONE) return verifyError;
          // Pending from now: the transaction's marker can only land after this batch.
          registered = accepted.map((a) =>
            this.addPendingTxnOffset(p.producerId, p.groupId, a.topic, a.partition, a.o)
          );
          return ErrorCode.NONE;
        },
      });
    } catch (e) {
      const code = verifyError !== ErrorCode.NONE ? verifyError : appendErrorCode(e, true);
      for (const a of accepted) a.r.errorCode = code;
      const mine = this.pendingTxnOffsets.get(p.producerId);
      for (const entry of registered) {
        const key = offsetKey(entry.groupId, entry.topic, entry.partition);
        if (mine?.get(key) === entry) mine.delete(key);
      }
      if (mine?.size === 0) this.pendingTxnOffsets.delete(p.producerId);
      return results;
    }
    return results;
  }

  /**
   * Kafka's validation of a transactional commit: a classic group checks member and
   * generation only when the request carries any of them (no REBALANCE_IN_PROGRESS, no
   * "empty group only" rule); a consumer-protocol group likewise, a stale epoch reading as
   * ILLEGAL_GENERATION. An unknown group accepts a commit without generation.
   */
  private validateTxnOffsetCommit(p: TxnOffsetCommitParams): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    const cg = this.consumer.group(p.groupId);
    if (cg) {
      const e = this.consumer.validateOffsetCommit(
        cg,
        p.memberId,
        p.generationId,
        p.apiVersion,
        true,
      );
      return e === ErrorCode.STALE_MEMBER_EPOCH ? ErrorCode.ILLEGAL_GENERATION : e;
    }
    const group = this.groups.get(p.groupId);
    if (!group) return p.generationId < 0 ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (p.generationId < 0 && group.is("Empty")) return ErrorCode.NONE;
    if (p.generationId >= 0 || p.memberId !== "" || p.groupInstanceId !== null) {
      const err = this.validateMember(group, p.memberId, p.groupInstanceId);
      if (err !== ErrorCode.NONE) return err;
      if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    }
    return ErrorCode.NONE;
  }

  /**
   * The transaction coordinator's hook, once a transaction's markers are written: when one of
   * its partitions is a `__consumer_offsets` partition, the producer's pending offsets become
   * committed (commit) or are dropped (abort).
   */
  onTransactionCompleted(
    producerId: number,
    partitions: { topic: string; partition: number }[],
    commit: boolean,
  ): void {
    if (!partitions.some((tp) => tp.topic === GROUP_METADATA_TOPIC)) return;
    this.completeTxnOffsets(producerId, commit, false);
  }

  /** Whether a transactional commit of this partition is waiting for its transaction. */
  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    const key = offsetKey(groupId, topic, partition);
    for (const offsets of this.pendingTxnOffsets.values()) if (offsets.has(key)) return true;
    return false;
  }

  private addPendingTxnOffset(
    producerId: number,
    groupId: string,
    topic: string,
    partition: number,
    o: OffsetAndMetadata,
  ): PendingTxnOffset {
    let offsets = this.pendingTxnOffsets.get(producerId);
    if (!offsets) this.pendingTxnOffsets.set(producerId, offsets = new Map());
    const entry = { groupId, topic, partition, o, seq: ++this.pendingSeq };
    offsets.set(offsetKey(groupId, topic, partition), entry);
    return entry;
  }

  /**
   * A non-transactional write of these keys (commit or tombstone) that came after pending
   * transactional commits registered up to `upToSeq` wins over them (later in the log), as in
   * Kafka: those pending commits are dropped.
   */
  private supersedePendingTxnOffsets(
    groupId: string,
    keys: [string, number][],
    upToSeq: number,
  ): void {
    if (this.pendingTxnOffsets.size === 0) return;
    for (const [producerId, offsets] of this.pendingTxnOffsets) {
      for (const [topic, partition] of keys) {
        const key = offsetKey(groupId, topic, partition);
        const entry = offsets.get(key);
        if (entry && entry.seq <= upToSeq) offsets.delete(key);
      }
      if (offsets.size === 0) this.pendingTxnOffsets.delete(producerId);
    }
  }

  /** Drops every pending transactional commit of a group (the group was deleted). */
  private dropPendingTxnOffsets(groupId: string): void {
    for (const [producerId, offsets] of this.pendingTxnOffsets) {
      for (const [key, entry] of offsets) if (entry.groupId === groupId) offsets.delete(key);
      if (offsets.size === 0) this.pendingTxnOffsets.delete(producerId);
    }
  }

  private completeTxnOffsets(producerId: number, commit: boolean, loading: boolean): void {
    const offsets = this.pendingTxnOffsets.get(producerId);
    if (!offsets) return;
    this.pendingTxnOffsets.delete(producerId);
    if (!commit) return;
    const now = this.clock.now();
    for (const e of offsets.values()) {
      if (
        !loading && !this.groups.has(e.groupId) && !this.consumer.has(e.groupId)
      ) {
        this.groups.set(e.groupId, new ClassicGroup(e.groupId, now));
      }
      this.offsets.put(e.groupId, e.topic, e.partition, e.o);
    }
  }

  /** Group-level checks of a commit (Kafka's validateOffsetCommit); NONE when it may go on. */
  private validateOffsetCommit(p: OffsetCommitParams): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    const cg = this.consumer.group(p.groupId);
    if (cg) return this.consumer.validateOffsetCommit(cg, p.memberId, p.generationId, p.apiVersion);
    const group = this.groups.get(p.groupId);
    if (!group) {
      // Simple consumers and admin tools commit without a generation: the group appears.
      if (p.generationId < 0) return ErrorCode.NONE;
      return p.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
    }
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (p.generationId < 0 && group.is("Empty")) return ErrorCode.NONE;
    if (p.generationId >= 0 || p.memberId !== "" || p.groupInstanceId !== null) {
      const err = this.validateMember(group, p.memberId, p.groupInstanceId);
      if (err !== ErrorCode.NONE) return err;
      if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is("Empty")) {
      // No member id and no generation: only while nobody else is using the group.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (group.is("CompletingRebalance")) return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.get(p.memberId);
    if (member) this.scheduleHeartbeat(group, member);
    return ErrorCode.NONE;
  }

  // ---- OffsetFetch ------------------------------------------------------------------------

  /**
   * Committed offsets; `topics` null means every partition the group has committed. `member`
   * (OffsetFetch v9) is checked against consumer-protocol groups: UNKNOWN_MEMBER_ID,
   * STALE_MEMBER_EPOCH.
   */
  fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
    member?: { memberId: string | null; memberEpoch: number },
    requireStable = false,
  ): OffsetFetchResult {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    const cg = member ? this.consumer.group(groupId) : undefined;
    if (cg && member) {
      const err = this.consumer.validateOffsetFetch(cg, member.memberId, member.memberEpoch);
      if (err !== ErrorCode.NONE) return { errorCode: err, topics: [] };
    }
    const fetched = (
      o: OffsetAndMetadata | undefined,
      topic: string,
      partitionIndex: number,
    ): FetchedOffset =>
      requireStable && this.hasPendingTxnOffset(groupId, topic, partitionIndex)
        ? {
          partitionIndex,
          committedOffset: -1,
          committedLeaderEpoch: -1,
          metadata: "",
          errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
        }
        : o
        ? {
          partitionIndex,
          committedOffset: o.offset,
          committedLeaderEpoch: o.leaderEpoch,
          metadata: o.metadata,
          errorCode: ErrorCode.NONE,
        }
        : {
          partitionIndex,
          committedOffset: -1,
          committedLeaderEpoch: -1,
          metadata: "",
          errorCode: ErrorCode.NONE,
        };
    if (topics === null) {
      const byTopic = new Map<string, FetchedOffset[]>();
      for (const c of this.offsets.all(groupId)) {
        let list = byTopic.get(c.topic);
        if (!list) byTopic.set(c.topic, list = []);
        list.push(fetched(c, c.topic, c.partition));
      }
      return {
        errorCode: ErrorCode.NONE,
        topics: [...byTopic].map(([name, partitions]) => ({
          name,
          partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) =>
          fetched(this.offsets.get(groupId, t.name, p), t.name, p)
        ),
      })),
    };
  }

  // ---- admin: ListGroups / DescribeGroups / DeleteGroups / OffsetDelete ------------------

  listGroups(statesFilter: string[] = [], typesFilter: string[] = []): ListedGroup[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const out: ListedGroup[] = [];
    for (const g of this.groups.values()) {
      if (g.is("Dead")) continue;
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has("classic")) continue;
      out.push({
        groupId: g.groupId,
        protocolType: g.protocolType ?? "",
        groupState: g.state,
        groupType: "classic",
      });
    }
    out.push(...this.consumer.listGroups(states, types));
    return out;
  }

  /** Kafka's group summary: metadata and assignments only while Stable; unknown = Dead. */
  describeGroup(groupId: string): DescribedGroup {
    const cg = this.consumer.group(groupId);
    if (cg && !this.closed) return this.describeConsumerGroupAsClassic(cg);
    const g = this.groups.get(groupId);
    if (!g || g.is("Dead")) {
      return {
        errorCode: this.closed ? ErrorCode.NOT_COORDINATOR : ErrorCode.NONE,
        groupId,
        groupState: "Dead",
        protocolType: "",
        protocolData: "",
        members: [],
      };
    }
    const stable = g.is("Stable");
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType ?? "",
      protocolData: stable ? g.protocolName ?? "" : "",
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadata(g.protocolName) : EMPTY_BYTES,
        memberAssignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** Deletes empty groups with their offsets (tombstones in the log). */
  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const out = [];
    for (const groupId of groupIds) {
      out.push({ groupId, errorCode: await this.deleteGroup(groupId) });
    }
    return out;
  }

  private async deleteGroup(groupId: string): Promise<number> {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    if (this.consumer.has(groupId)) return await this.deleteConsumerGroup(groupId);
    const g = this.groups.get(groupId);
    if (!g || g.is("Dead")) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!g.is("Empty")) return ErrorCode.NON_EMPTY_GROUP;
    const records: LogRecord[] = this.offsets.all(groupId).map((c) => ({
      key: offsetCommitKey(groupId, c.topic, c.partition),
      value: null,
    }));
    records.push({ key: groupMetadataKey(groupId), value: null });
    try {
      await this.log.append(groupId, records);
    } catch (e) {
      return appendErrorCode(e, false);
    }
    // A join may have arrived while the tombstones were written; it keeps the group.
    if (g.is("Empty") && this.groups.get(groupId) === g) {
      g.transitionTo("Dead", this.clock.now());
      this.groups.delete(groupId);
      this.offsets.deleteGroup(groupId);
      this.dropPendingTxnOffsets(groupId);
    }
    return ErrorCode.NONE;
  }

  /**
   * OffsetDelete (KIP-496): removes a group's offsets of partitions whose topic no member is
   * subscribed to. Returns the top-level error and per-partition errors.
   */
  async deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: number[] }[],
  ): Promise<{ errorCode: number; topics: TopicResult[] }> {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    const cg = this.consumer.group(groupId);
    const g = cg ? undefined : this.groups.get(groupId);
    if (!cg && (!g || g.is("Dead"))) {
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    }
    const consumerGroup = cg !== undefined || g!.protocolType === CONSUMER_PROTOCOL_TYPE;
    const empty = cg ? cg.isEmpty : g!.is("Empty");
    const subscribed = (topic: string) =>
      cg ? this.consumer.isSubscribedToTopic(cg, topic) : g!.isSubscribedToTopic(topic);
    if (!empty && !consumerGroup) {
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    }
    const results: TopicResult[] = [];
    const records: LogRecord[] = [];
    const doomed: { topic: string; partition: number; r: PartitionResult }[] = [];
    for (const t of topics) {
      const out: PartitionResult[] = [];
      results.push({ name: t.name, partitions: out });
      for (const partitionIndex of t.partitions) {
        const r: PartitionResult = { partitionIndex, errorCode: ErrorCode.NONE };
        out.push(r);
        if (!this.partitionExists(t.name, partitionIndex)) {
          r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (!empty && subscribed(t.name)) {
          r.errorCode = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
        } else if (this.offsets.get(groupId, t.name, partitionIndex)) {
          doomed.push({ topic: t.name, partition: partitionIndex, r });
          records.push({ key: offsetCommitKey(groupId, t.name, partitionIndex), value: null });
        }
      }
    }
    if (records.length > 0) {
      const before = this.pendingSeq;
      try {
        await this.log.append(groupId, records);
        for (const d of doomed) this.offsets.delete(groupId, d.topic, d.partition);
        this.supersedePendingTxnOffsets(
          groupId,
          doomed.map((d) => [d.topic, d.partition]),
          before,
        );
      } catch (e) {
        return { errorCode: appendErrorCode(e, false), topics: [] };
      }
    }
    return { errorCode: ErrorCode.NONE, topics: results };
  }

  // ---- offset expiry ------------------------------------------------------------------------

  private scheduleOffsetExpiry(): void {
    if (this.closed) return;
    this.timer.schedule("offsets-expiry", this.config.offsetsRetentionCheckIntervalMs, () => {
      this.scheduleOffsetExpiry();
      if (this.expiring) return; // the previous pass is still writing its tombstones
      this.expiring = true;
      this.expireOffsets().catch((e) => log.warn(`offset expiry failed: ${e}`)).finally(() =>
        this.expiring = false
      );
    });
  }

  /** One pass of Kafka's cleanupGroupMetadata; returns how many offsets expired. */
  async expireOffsets(): Promise<number> {
    const now = this.clock.now();
    const retention = this.config.offsetsRetentionMs;
    let expiredCount = await this.expireConsumerGroupOffsets(now, retention);
    for (const g of [...this.groups.values()]) {
      const expired = this.expiredOffsets(g, now, retention);
      const records: LogRecord[] = expired.map((c) => ({
        key: offsetCommitKey(g.groupId, c.topic, c.partition),
        value: null,
      }));
      const remaining = this.offsets.all(g.groupId).length - expired.length;
      const dies = g.is("Empty") && remaining === 0 && g.size === 0;
      if (dies && g.generationId > 0) {
        records.push({ key: groupMetadataKey(g.groupId), value: null });
      }
      if (records.length === 0) {
        if (dies) this.groups.delete(g.groupId);
        continue;
      }
      try {
        await this.log.append(g.groupId, records);
      } catch (e) {
        log.warn(`group ${g.groupId}: writing expired offsets failed: ${e}`);
        continue;
      }
      for (const c of expired) this.offsets.delete(g.groupId, c.topic, c.partition);
      expiredCount += expired.length;
      if (dies && g.is("Empty") && g.size === 0 && !this.offsets.hasOffsets(g.groupId)) {
        g.transitionTo("Dead", now);
        this.groups.delete(g.groupId);
      }
    }
    return expiredCount;
  }

  private expiredOffsets(g: ClassicGroup, now: number, retention: number): CommittedOffset[] {
    const all = this.offsets.all(g.groupId);
    const isExpired = (c: CommittedOffset, base: number) =>
      c.expireTimestamp >= 0 ? now >= c.expireTimestamp : now - base >= retention;
    if (g.protocolType !== null && g.is("Empty")) {
      // Retention counts from when the group became empty.
      return all.filter((c) =>
        isExpired(c, g.currentStateTimestamp >= 0 ? g.currentStateTimestamp : c.commitTimestamp)
      );
    }
    if (g.protocolType === CONSUMER_PROTOCOL_TYPE && g.subscribedTopics && g.is("Stable")) {
      const subscribed = g.subscribedTopics;
      return all.filter((c) => !subscribed.has(c.topic) && isExpired(c, c.commitTimestamp));
    }
    if (g.protocolType === null) return all.filter((c) => isExpired(c, c.commitTimestamp));
    return [];
  }

  // ---- consumer-protocol (KIP-848) groups -------------------------------------------------

  /**
   * ConsumerGroupHeartbeat: the state machine's answer, sent only once the records of the
   * changes it reveals (and any earlier ones not yet written) are in the log, as a Kafka
   * coordinator acknowledges a write only once it is committed. A failed write answers the
   * append's error (COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, ...) and the member retries.
   */
  async consumerGroupHeartbeat(
    p: ConsumerGroupHeartbeatParams,
  ): Promise<ConsumerGroupHeartbeatResult> {
    const r = this.consumer.heartbeat(p);
    try {
      await this.consumer.flush(p.groupId);
    } catch (e) {
      if (r.errorCode !== ErrorCode.NONE) return r;
      log.warn(`consumer group ${p.groupId}: writing its state to the log failed: ${e}`);
      return {
        errorCode: appendErrorCode(e, false),
        errorMessage: null,
        memberId: null,
        memberEpoch: 0,
        heartbeatIntervalMs: 0,
        assignment: null,
      };
    }
    return r;
  }

  /** A commit to a consumer-protocol group with an older member epoch, per partition. */
  private consumerCommitPartitionError(
    p: OffsetCommitParams,
    topic: string,
    partition: number,
  ): number {
    const cg = this.consumer.group(p.groupId);
    if (!cg) return ErrorCode.NONE;
    return this.consumer.commitPartitionError(cg, p.memberId, p.generationId, topic, partition);
  }

  /**
   * DescribeGroups of a consumer-protocol group: its state, protocol type "consumer", the
   * assignor as protocol, and members with their subscription and current assignment in the
   * embedded consumer protocol's format (Kafka itself describes such groups only through
   * ConsumerGroupDescribe; this lets classic admin clients see them too).
   */
  private describeConsumerGroupAsClassic(cg: ConsumerGroup): DescribedGroup {
    return {
      errorCode: ErrorCode.NONE,
      groupId: cg.groupId,
      groupState: cg.state,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolData: cg.preferredAssignor(this.consumer.defaultAssignor),
      members: [...cg.members.values()].map((m) => {
        const v = this.consumer.memberView(m);
        return {
          memberId: m.memberId,
          groupInstanceId: m.instanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: consumerProtocolBytes(ConsumerProtocolSubscription, {
            topics: v.topics,
            userData: null,
          }),
          memberAssignment: consumerProtocolBytes(ConsumerProtocolAssignment, {
            assignedPartitions: v.assigned,
            userData: null,
          }),
        };
      }),
    };
  }

  /**
   * DeleteGroups of a consumer-protocol group: only when empty; tombstones its offsets and
   * its group records in one batch.
   */
  private async deleteConsumerGroup(groupId: string): Promise<number> {
    const cg = this.consumer.group(groupId)!;
    if (!cg.isEmpty) return ErrorCode.NON_EMPTY_GROUP;
    const records: LogRecord[] = this.offsets.all(groupId).map((c) => ({
      key: offsetCommitKey(groupId, c.topic, c.partition),
      value: null,
    }));
    records.push({ key: groupMetadataKey(groupId), value: null });
    try {
      await this.consumer.deleteGroup(groupId, records);
    } catch (e) {
      return appendErrorCode(e, false);
    }
    if (!this.consumer.has(groupId)) {
      this.offsets.deleteGroup(groupId);
      this.dropPendingTxnOffsets(groupId);
    }
    return ErrorCode.NONE;
  }

  /**
   * Offset expiry of consumer-protocol groups (Kafka's ConsumerGroup condition): offsets of
   * topics no member subscribes to expire `retention` after their commit (or at their explicit
   * expiry); an empty group left without offsets is dropped.
   */
  private async expireConsumerGroupOffsets(now: number, retention: number): Promise<number> {
    let count = 0;
    for (const cg of [...this.consumer.groups.values()]) {
      const expired = this.offsets.all(cg.groupId).filter((c) =>
        !this.consumer.isSubscribedToTopic(cg, c.topic) &&
        (c.expireTimestamp >= 0 ? now >= c.expireTimestamp : now - c.commitTimestamp >= retention)
      );
      if (expired.length > 0) {
        try {
          await this.log.append(
            cg.groupId,
            expired.map((c) => ({
              key: offsetCommitKey(cg.groupId, c.topic, c.partition),
              value: null,
            })),
          );
        } catch (e) {
          log.warn(`consumer group ${cg.groupId}: writing expired offsets failed: ${e}`);
          continue;
        }
        for (const c of expired) this.offsets.delete(cg.groupId, c.topic, c.partition);
        count += expired.length;
      }
      if (
        cg.isEmpty && !this.offsets.hasOffsets(cg.groupId) &&
        this.consumer.group(cg.groupId) === cg
      ) {
        await this.consumer.deleteGroup(cg.groupId).catch((e) =>
          log.warn(`consumer group ${cg.groupId}: writing its deletion failed: ${e}`)
        );
      }
    }
    return count;
  }
}

export const GROUP_STATES: readonly ClassicGroupState[] = CLASSIC_GROUP_STATES;

/** A ConsumerProtocolSubscription v0 / Assignment v0 (int16 version + body). */
function consumerProtocolBytes(schema: MessageSchema, body: Msg): Uint8Array {
  const w = new Writer(64);
  w.int16(0);
  codecFor(schema, 0).encode(w, body);
  return w.finishCopy();
}

function heartbeatKey(groupId: string, memberId: string): string {
  return `heartbeat\u0000${groupId}\u0000${memberId}`;
}

function joinKey(groupId: string): string {
  return `join\u0000${groupId}`;
}

function syncKey(groupId: string): string {
  return `sync\u0000${groupId}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
