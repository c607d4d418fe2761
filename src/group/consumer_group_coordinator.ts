/**
 * ConsumerGroupCoordinator: the consumer group protocol of KIP-848 (ConsumerGroupHeartbeat,
 * ConsumerGroupDescribe), as Kafka's GroupMetadataManager runs it. The GroupCoordinator owns
 * one and routes to it everything that concerns a group of this type (offset commits and
 * fetches, ListGroups, DescribeGroups, DeleteGroups, OffsetDelete, offset expiry).
 *
 * A heartbeat, in order (Kafka's consumerGroupHeartbeat):
 * 1. validation (INVALID_REQUEST for malformed requests, UNSUPPORTED_ASSIGNOR,
 *    INVALID_REGULAR_EXPRESSION), then the group: created by a join (epoch 0), taking over
 *    the id of an *empty* classic group; a classic group with members answers
 *    GROUP_ID_NOT_FOUND (no online upgrade: Kafka's group.consumer.migration.policy=disabled);
 *    GROUP_MAX_SIZE_REACHED; the member: UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH (an epoch
 *    ahead of the member's, or behind it unless it is the previous epoch and the member owns
 *    only partitions it still has: a lost response), static members (instanceId):
 *    UNRELEASED_INSTANCE_ID (the id is held by a member that has not left with epoch -2),
 *    FENCED_INSTANCE_ID (the id is held by another member id);
 * 2. the member's subscription, rack, assignor and rebalance timeout are updated (null /
 *    -1 fields mean "unchanged"); a changed subscription, a new member, or a change of the
 *    subscribed topics' metadata (created, deleted, more partitions) bumps the group epoch;
 * 3. a group epoch ahead of the assignment epoch recomputes the target assignment with the
 *    assignor most members name (`serverAssignor`), else the first of
 *    group.consumer.assignors;
 * 4. the member is reconciled towards its target (consumer_group.ts): it gives up partitions
 *    at its current epoch first; it gets partitions only once their previous owner no longer
 *    owns them; its epoch reaches the assignment epoch when it has nothing left to revoke;
 * 5. its session (group.consumer.session.timeout.ms) restarts. A member that does not
 *    finish revoking within its rebalance timeout is fenced (removed).
 * The response carries the assignment when the member joined, sent a full request (all of
 * rebalance timeout, subscription and owned partitions) or its assignment changed.
 *
 * Leaving: epoch -1 removes the member (its partitions become free at once, the group epoch
 * is bumped); epoch -2 (static members) keeps its place and partitions until its session
 * expires, so the same instance id can rejoin (with any member id) and get them back without
 * a rebalance.
 *
 * Persistence: every change is written to `__consumer_offsets` as Kafka's ConsumerGroup*
 * records (consumer_group_store.ts) before the response that reveals it is sent (the
 * GroupCoordinator's consumerGroupHeartbeat awaits `flush`); changes made by timers (session
 * and rebalance timeouts) are written in the background. On start the groups are rebuilt
 * from the log with the same epochs and assignments, and every member gets a fresh session
 * (and, if it was revoking, a fresh rebalance timeout), so members carry on heartbeating.
 * A member heartbeating with an epoch > 0 to a group this broker does not know is told
 * FENCED_MEMBER_EPOCH (so clients rejoin with epoch 0) where Kafka answers
 * GROUP_ID_NOT_FOUND, which clients treat as fatal.
 * Groups mixing classic and consumer-protocol members (online migration) are not supported:
 * a JoinGroup to a consumer group with members answers INCONSISTENT_GROUP_PROTOCOL, as
 * Kafka does with migration disabled. Rack-aware assignment is not done (racks are kept and
 * described).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { randomUuid } from "../../protocol/schema.ts";
import { log } from "../log.ts";
import type { ClassicGroup } from "./classic_group.ts";
import type { Clock } from "./clock.ts";
import {
  ConsumerGroup,
  ConsumerGroupMember,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  ownedSubsetOf,
  reconcile,
  samePartitions,
} from "./consumer_group.ts";
import { CoordinatorTimer } from "./coordinator_timer.ts";
import { ConsumerGroupStore } from "./consumer_group_store.ts";
import {
  type ConsumerGroupHeartbeatParams,
  type ConsumerGroupHeartbeatResult,
  failure,
  validateHeartbeatRequest,
} from "./consumer_group_heartbeat.ts";
import {
  describeConsumerGroup,
  type DescribedConsumerGroup,
  listConsumerGroups,
  memberView,
} from "./consumer_group_describe.ts";
import { TargetAssignmentBuilder, type TopicCatalog } from "./target_assignment_builder.ts";
import type { ConsumerGroupRecord } from "./consumer_group_records.ts";
import type { GroupConfig } from "./group_config.ts";
import type { CoordinatorLog, LogRecord } from "./group_metadata_log.ts";

/** Kafka's INVALID_REGULAR_EXPRESSION (ConsumerGroupHeartbeat v1+). */
export const INVALID_REGULAR_EXPRESSION = ErrorCode.INVALID_REGULAR_EXPRESSION;

export type { TopicCatalog, TopicInfo } from "./target_assignment_builder.ts";
export type {
  ConsumerGroupHeartbeatParams,
  ConsumerGroupHeartbeatResult,
} from "./consumer_group_heartbeat.ts";
export type {
  DescribedConsumerGroup,
  DescribedTopicPartitions,
} from "./consumer_group_describe.ts";

/** What the consumer group coordinator needs from the classic side. */
export interface ConsumerGroupHost {
  classicGroup(groupId: string): ClassicGroup | undefined;
  /** Removes an Empty classic group whose id a consumer group takes over. */
  dropClassicGroup(groupId: string): void;
}

const sessionKey = (g: string, m: string) => `cg-session\u0000${g}\u0000${m}`;
const rebalanceKey = (g: string, m: string) => `cg-rebalance\u0000${g}\u0000${m}`;

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class ConsumerGroupCoordinator {
  readonly groups: Map<string, ConsumerGroup> = new Map();
  private readonly timer: CoordinatorTimer;
  private readonly assignment: TargetAssignmentBuilder;
  private readonly store: ConsumerGroupStore;
  private closed = false;
  /** As GroupMetadataManager.groupError (set by the GroupCoordinator). */
  groupError: (groupId: string) => number = () =>
    this.closed ? ErrorCode.NOT_COORDINATOR : ErrorCode.NONE;

  constructor(
    private readonly config: GroupConfig,
    clock: Clock,
    private readonly topics: TopicCatalog,
    private readonly host: ConsumerGroupHost,
    log: CoordinatorLog,
  ) {
    this.timer = new CoordinatorTimer(clock);
    this.store = new ConsumerGroupStore(log);
    this.assignment = new TargetAssignmentBuilder(config, topics);
  }

  /** The default assignor: the first of group.consumer.assignors. */
  get defaultAssignor(): string {
    return this.assignment.defaultAssignor;
  }

  group(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  close(): void {
    this.closed = true;
    this.timer.cancelAll();
  }

  /** Drops a group from memory, writing nothing: its partition moved to another coordinator. */
  unloadGroup(groupId: string): void {
    this.timer.cancelGroup(groupId);
    this.groups.delete(groupId);
    this.store.forget(groupId);
  }

  /** The ids of the groups in memory. */
  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /** Timers outstanding (tests check close() leaves none). */
  get pendingTimers(): number {
    return this.timer.size;
  }

  // ---- persistence ----------------------------------------------------------------------------

  /**
   * Writes what changed in the group since its last successful write (tombstones if it is
   * gone). Rejects with the append's error; the changes are then written by the next flush.
   */
  flush(groupId: string): Promise<void> {
    return this.store.write(groupId, this.groups.get(groupId));
  }

  /** A flush nobody waits for (timeouts): a failure is logged, the next flush retries it. */
  private flushInBackground(groupId: string): void {
    this.flush(groupId).catch((e) =>
      log.warn(`consumer group ${groupId}: writing its state to the log failed: ${e}`)
    );
  }

  /** Applies one record read from `__consumer_offsets` on start (`seq`: its position). */
  replay(rec: ConsumerGroupRecord, seq: number): void {
    this.store.replay(rec, seq);
  }

  /** Position of the last loaded record of a group (-1: none). */
  loadedSeq(groupId: string): number {
    return this.store.loadedSeq(groupId);
  }

  /** Forgets a loaded group whose id a classic group written after it took. */
  dropLoaded(groupId: string): void {
    this.store.dropLoaded(groupId);
  }

  /**
   * The log is loaded: the groups it holds are installed and every member gets a fresh
   * session (and a revoking member a fresh rebalance timeout), as Kafka's onLoaded does.
   */
  onLoaded(): void {
    for (const g of this.store.finishLoad()) {
      this.groups.set(g.groupId, g);
      for (const m of g.members.values()) {
        this.scheduleSessionTimeout(g, m.memberId);
        if (m.state === "UNREVOKED_PARTITIONS") this.scheduleRebalanceTimeout(g, m);
      }
      log.info(`loaded consumer group ${g.groupId} with ${g.members.size} members`);
    }
  }

  // ---- ConsumerGroupHeartbeat ---------------------------------------------------------------

  heartbeat(p: ConsumerGroupHeartbeatParams): ConsumerGroupHeartbeatResult {
    const notHere = this.groupError(p.groupId);
    if (notHere !== ErrorCode.NONE) return failure(notHere);
    const invalid = validateHeartbeatRequest(p, this.assignment);
    if (invalid) return invalid;
    if (
      p.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH ||
      p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH
    ) {
      return this.leave(p);
    }
    // The group.
    let group = this.groups.get(p.groupId);
    let newGroup = false;
    if (!group) {
      const classic = this.host.classicGroup(p.groupId);
      // Kafka converts an Empty classic group (offsets only, or members all gone).
      const classicInUse = classic !== undefined && !(classic.is("Empty") && classic.size === 0);
      if (classicInUse) {
        return failure(
          ErrorCode.GROUP_ID_NOT_FOUND,
          p.memberEpoch === 0
            ? `Cannot upgrade classic group ${p.groupId} to consumer group because online ` +
              "upgrade is disabled."
            : `Group ${p.groupId} is not a consumer group.`,
        );
      }
      if (p.memberEpoch !== 0) {
        // Kafka says GROUP_ID_NOT_FOUND, which clients treat as fatal. Here the group may
        // have been lost in a restart (membership is not persisted): FENCED_MEMBER_EPOCH makes
        // every client (Java, librdkafka, @platformatic/kafka) rejoin with epoch 0.
        return failure(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `Consumer group ${p.groupId} not found (the coordinator may have restarted): ` +
            "the member must rejoin with epoch 0.",
        );
      }
      group = new ConsumerGroup(p.groupId);
      group.replacesClassicGroup = classic !== undefined;
      newGroup = true;
    }
    if (
      group.members.size >= this.config.consumerMaxSize &&
      (p.memberId === "" || !group.members.has(p.memberId))
    ) {
      return failure(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${this.config.consumerMaxSize} members.`,
      );
    }
    const memberId = p.memberId === "" ? randomUuid() : p.memberId;

    // The member.
    let member: ConsumerGroupMember;
    let created = false;
    let replaced: ConsumerGroupMember | undefined;
    if (p.instanceId === null) {
      const m = group.members.get(memberId);
      if (!m) {
        if (p.memberEpoch !== 0) {
          return failure(
            ErrorCode.UNKNOWN_MEMBER_ID,
            `Member ${memberId} is not a member of group ${p.groupId}.`,
          );
        }
        member = new ConsumerGroupMember(memberId);
        created = true;
      } else {
        const e = this.epochError(m, p);
        if (e) return e;
        member = m;
      }
    } else {
      const existing = group.staticMember(p.instanceId);
      if (p.memberEpoch === 0) {
        if (!existing) {
          const m = group.members.get(memberId);
          member = m ?? new ConsumerGroupMember(memberId);
          created = m === undefined;
        } else if (existing.memberId === memberId) {
          member = existing;
        } else if (existing.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          return failure(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${p.instanceId} cannot join the group ` +
              `because the instance id is owned by ${existing.memberId} member.`,
          );
        } else {
          // The instance id comes back under a new member id: it takes over the old member's
          // partitions and target assignment.
          member = new ConsumerGroupMember(memberId);
          member.copyFrom(existing);
          replaced = existing;
          created = true;
        }
      } else {
        if (!existing) {
          return failure(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${p.instanceId} is unknown.`);
        }
        if (existing.memberId !== memberId) {
          return failure(
            ErrorCode.FENCED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${p.instanceId} was fenced by member ` +
              `${existing.memberId}.`,
          );
        }
        const e = this.epochError(existing, p);
        if (e) return e;
        member = existing;
      }
    }

    // 1. Update the member; from here on nothing fails.
    const before = replaced ?? (created ? undefined : member);
    const oldNames = before?.subscribedTopicNames ?? [];
    const oldRegex = before?.subscribedTopicRegex ?? null;
    const oldAssigned = created && !replaced ? new Map() : member.assigned;
    if (p.instanceId !== null) member.instanceId = p.instanceId;
    if (p.rackId !== null) member.rackId = p.rackId;
    if (p.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    if (p.serverAssignor !== null) member.serverAssignor = p.serverAssignor;
    if (p.subscribedTopicNames !== null) {
      member.subscribedTopicNames = [...new Set(p.subscribedTopicNames)].sort();
    }
    if (p.subscribedTopicRegex !== null) {
      member.subscribedTopicRegex = p.subscribedTopicRegex === "" ? null : p.subscribedTopicRegex;
    }
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    const subscriptionChanged = before === undefined ||
      !sameNames(oldNames, member.subscribedTopicNames) ||
      oldRegex !== member.subscribedTopicRegex;

    if (newGroup) {
      this.host.dropClassicGroup(p.groupId);
      this.groups.set(p.groupId, group);
    }
    if (replaced) {
      const target = group.targetAssignment.get(replaced.memberId);
      this.removeMember(group, replaced);
      if (target) group.targetAssignment.set(memberId, target);
      log.info(
        `consumer group ${group.groupId}: static member ${p.instanceId} rejoined as ${memberId}` +
          ` (replacing ${replaced.memberId})`,
      );
    }
    group.putMember(member);
    if (created && !replaced) {
      log.debug(`consumer group ${group.groupId}: member ${memberId} joined`);
    }

    // 2. Bump the group epoch if the subscriptions or their topics changed.
    let bump = newGroup || group.groupEpoch === 0 || subscriptionChanged;
    const metadata = this.assignment.subscriptionMetadata(group);
    if (metadata !== group.subscriptionMetadata) {
      group.subscriptionMetadata = metadata;
      bump = true;
    }
    if (bump) group.groupEpoch++;

    // 3. The target assignment.
    if (group.groupEpoch > group.assignmentEpoch) this.assignment.computeTargetAssignment(group);

    // 4. Reconcile the member.
    const target = group.targetAssignment.get(memberId) ?? new Map<string, Set<number>>();
    const next = reconcile(
      member,
      group.assignmentEpoch,
      target,
      (t, q) => group!.currentOwner(t, q),
      p.topicPartitions,
    );
    if (next !== member) {
      group.putMember(next, member);
      if (next.state === "UNREVOKED_PARTITIONS") {
        this.scheduleRebalanceTimeout(group, next);
      } else {
        this.timer.cancel(rebalanceKey(group.groupId, memberId));
      }
      log.debug(
        `consumer group ${group.groupId}: member ${memberId} → epoch ${next.memberEpoch} ` +
          `${next.state}`,
      );
    }

    // 5. The session.
    this.scheduleSessionTimeout(group, memberId);

    const fullRequest = p.rebalanceTimeoutMs !== -1 &&
      (p.subscribedTopicNames !== null || p.subscribedTopicRegex !== null) &&
      p.topicPartitions !== null;
    const sendAssignment = p.memberEpoch === 0 || fullRequest ||
      !samePartitions(oldAssigned, next.assigned);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId,
      memberEpoch: next.memberEpoch,
      heartbeatIntervalMs: this.config.consumerHeartbeatIntervalMs,
      assignment: sendAssignment ? { topicPartitions: next.assignedList() } : null,
    };
  }

  /** Kafka's throwIfConsumerGroupMemberEpochIsInvalid. */
  private epochError(
    m: ConsumerGroupMember,
    p: ConsumerGroupHeartbeatParams,
  ): ConsumerGroupHeartbeatResult | null {
    // Epoch 0: the member (re)joins, e.g. after being fenced.
    if (p.memberEpoch === 0) return null;
    if (p.memberEpoch > m.memberEpoch) {
      return failure(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The consumer group member has a greater member epoch (${p.memberEpoch}) than the one ` +
          `known by the group coordinator (${m.memberEpoch}). The member must abandon all its ` +
          "partitions and rejoin.",
      );
    }
    if (p.memberEpoch < m.memberEpoch) {
      // The previous epoch with a subset of the current partitions: the response that bumped
      // the epoch was lost.
      if (
        p.memberEpoch !== m.previousMemberEpoch || !ownedSubsetOf(p.topicPartitions, m.assigned)
      ) {
        return failure(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has a smaller member epoch (${p.memberEpoch}) than the one ` +
            `known by the group coordinator (${m.memberEpoch}). The member must abandon all its ` +
            "partitions and rejoin.",
        );
      }
    }
    return null;
  }

  // ---- leaving, fencing, timeouts ----------------------------------------------------------

  private leave(p: ConsumerGroupHeartbeatParams): ConsumerGroupHeartbeatResult {
    const group = this.groups.get(p.groupId);
    if (!group) {
      return failure(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${p.groupId} not found.`);
    }
    const left = {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: p.memberId,
      memberEpoch: p.memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
    if (p.instanceId === null) {
      const m = group.members.get(p.memberId);
      if (!m) {
        return failure(
          ErrorCode.UNKNOWN_MEMBER_ID,
          `Member ${p.memberId} is not a member of group ${p.groupId}.`,
        );
      }
      this.fenceMember(group, m, "left the group");
      return left;
    }
    const m = group.staticMember(p.instanceId);
    if (!m) return failure(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${p.instanceId} is unknown.`);
    if (m.memberId !== p.memberId) {
      return failure(
        ErrorCode.FENCED_INSTANCE_ID,
        `Static member ${p.memberId} with instance id ${p.instanceId} was fenced by member ` +
          `${m.memberId}.`,
      );
    }
    if (p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // Away for now: keeps its partitions (not those it was revoking) until its session ends.
      const away = new ConsumerGroupMember(m.memberId);
      Object.assign(away, m);
      away.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      away.pendingRevocation = new Map();
      group.putMember(away, m);
      this.timer.cancel(rebalanceKey(group.groupId, m.memberId));
      log.info(
        `consumer group ${group.groupId}: static member ${p.instanceId} (${m.memberId}) ` +
          "temporarily left",
      );
      return left;
    }
    this.fenceMember(group, m, "left the group");
    return left;
  }

  /** Removes a member (leave, session or rebalance timeout) and bumps the group epoch. */
  private fenceMember(group: ConsumerGroup, m: ConsumerGroupMember, reason: string): void {
    this.removeMember(group, m);
    group.groupEpoch++;
    group.subscriptionMetadata = this.assignment.subscriptionMetadata(group);
    log.debug(`consumer group ${group.groupId}: member ${m.memberId} removed: ${reason}`);
  }

  private removeMember(group: ConsumerGroup, m: ConsumerGroupMember): void {
    group.removeMember(m.memberId);
    this.timer.cancel(sessionKey(group.groupId, m.memberId));
    this.timer.cancel(rebalanceKey(group.groupId, m.memberId));
  }

  private scheduleSessionTimeout(group: ConsumerGroup, memberId: string): void {
    this.timer.schedule(
      sessionKey(group.groupId, memberId),
      this.config.consumerSessionTimeoutMs,
      () => {
        const m = group.members.get(memberId);
        if (!m || this.groups.get(group.groupId) !== group) return;
        log.info(`consumer group ${group.groupId}: member ${memberId} session expired`);
        this.fenceMember(group, m, "session timeout expired");
        this.flushInBackground(group.groupId);
      },
    );
  }

  /** A member must finish revoking within its rebalance timeout, or it is fenced. */
  private scheduleRebalanceTimeout(group: ConsumerGroup, m: ConsumerGroupMember): void {
    const memberId = m.memberId;
    const epoch = m.memberEpoch;
    const timeout = m.rebalanceTimeoutMs >= 0
      ? m.rebalanceTimeoutMs
      : this.config.consumerSessionTimeoutMs;
    this.timer.schedule(rebalanceKey(group.groupId, memberId), timeout, () => {
      const cur = group.members.get(memberId);
      if (!cur || cur.memberEpoch !== epoch || this.groups.get(group.groupId) !== group) return;
      log.info(
        `consumer group ${group.groupId}: member ${memberId} fenced: it did not revoke its ` +
          `partitions (epoch ${epoch}) within ${timeout} ms`,
      );
      this.fenceMember(group, cur, "rebalance timeout expired");
      this.flushInBackground(group.groupId);
    });
  }

  // ---- subscriptions and the target assignment ------------------------------------------------

  // ---- offsets ------------------------------------------------------------------------------

  /**
   * Group-level checks of an OffsetCommit to a consumer group (Kafka's
   * ConsumerGroup.validateOffsetCommit): an epoch < 0 (admin tools, simple consumers) may
   * commit while the group is empty; otherwise the member must exist (UNKNOWN_MEMBER_ID) and
   * use OffsetCommit v9+ (UNSUPPORTED_VERSION), and an epoch ahead of its own is
   * STALE_MEMBER_EPOCH. An older epoch is checked per partition (commitPartitionError).
   * `transactional` (TxnOffsetCommit): any version, and no member needed when none is given.
   */
  validateOffsetCommit(
    group: ConsumerGroup,
    memberId: string,
    memberEpoch: number,
    apiVersion: number,
    transactional = false,
  ): number {
    const notHere = this.groupError(group.groupId);
    if (notHere !== ErrorCode.NONE) return notHere;
    if (memberEpoch < 0 && group.isEmpty) return ErrorCode.NONE;
    // TxnOffsetCommit need not name the member (Kafka validates only what is given).
    if (transactional && memberEpoch < 0 && memberId === "") return ErrorCode.NONE;
    const m = group.members.get(memberId);
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (apiVersion < 9 && !transactional) return ErrorCode.UNSUPPORTED_VERSION;
    if (memberEpoch > m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /**
   * Per-partition check of a commit made with an epoch older than the member's (newer
   * Kafka's assignment epochs): accepted for partitions the member still owns and was given
   * at or before that epoch (e.g. a commit racing the heartbeat that bumped its epoch),
   * STALE_MEMBER_EPOCH otherwise.
   */
  commitPartitionError(
    group: ConsumerGroup,
    memberId: string,
    memberEpoch: number,
    topic: string,
    partition: number,
  ): number {
    const m = group.members.get(memberId);
    if (!m || memberEpoch < 0 || memberEpoch === m.memberEpoch) return ErrorCode.NONE;
    const t = this.topics.byName(topic);
    const since = t === undefined ? undefined : m.assigned.get(t.topicId)?.get(partition) ??
      m.pendingRevocation.get(t.topicId)?.get(partition);
    return since !== undefined && since <= memberEpoch
      ? ErrorCode.NONE
      : ErrorCode.STALE_MEMBER_EPOCH;
  }

  /**
   * OffsetFetch v9 checks (Kafka's ConsumerGroup.validateOffsetFetch): without a member id and
   * with an epoch < 0 (admin tools) anything may be read; otherwise UNKNOWN_MEMBER_ID or
   * STALE_MEMBER_EPOCH (the epoch must be the member's).
   */
  validateOffsetFetch(group: ConsumerGroup, memberId: string | null, memberEpoch: number): number {
    if (memberId === null && memberEpoch < 0) return ErrorCode.NONE;
    const m = memberId === null ? undefined : group.members.get(memberId);
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    return memberEpoch === m.memberEpoch ? ErrorCode.NONE : ErrorCode.STALE_MEMBER_EPOCH;
  }

  /** Drops a group from memory (its tombstones are written by the next flush). */
  private dropGroup(groupId: string): void {
    const g = this.groups.get(groupId);
    if (!g) return;
    for (const m of [...g.members.values()]) this.removeMember(g, m);
    this.groups.delete(groupId);
  }

  /**
   * Deletes an empty group (DeleteGroups, or its offsets all expired): its tombstones are
   * appended after `before` (the offsets' tombstones) in one batch, and only then is it
   * dropped. Rejects with the append's error. A member that joined meanwhile keeps the group
   * (its records are written again by its heartbeat's flush).
   */
  async deleteGroup(groupId: string, before: LogRecord[] = []): Promise<void> {
    const g = this.groups.get(groupId);
    if (!g) return;
    await this.store.write(groupId, undefined, before);
    if (this.groups.get(groupId) === g && g.isEmpty) this.dropGroup(groupId);
  }

  /**
   * A classic JoinGroup for `groupId`: NONE when it may go on (an empty consumer group is
   * dropped so the id becomes classic, as Kafka converts it), else the error to answer.
   */
  classicJoinConflict(groupId: string): number {
    const g = this.groups.get(groupId);
    if (!g) return ErrorCode.NONE;
    if (!g.isEmpty) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    this.dropGroup(groupId);
    // Its tombstones come before the classic group's first record in the same partition.
    this.flushInBackground(groupId);
    return ErrorCode.NONE;
  }

  // ---- admin views (consumer_group_describe.ts) ---------------------------------------------

  /** ListGroups entries of type "consumer" matching the filters (lower-case state names). */
  listGroups(
    states: Set<string>,
    types: Set<string>,
  ): { groupId: string; protocolType: string; groupState: string; groupType: string }[] {
    return listConsumerGroups(this.groups, states, types);
  }

  /** ConsumerGroupDescribe of one group (GROUP_ID_NOT_FOUND for unknown and classic ids). */
  describe(groupId: string): DescribedConsumerGroup {
    const base = {
      groupId,
      groupState: "",
      groupEpoch: 0,
      assignmentEpoch: 0,
      assignorName: "",
      members: [],
    };
    const notHere = this.groupError(groupId);
    if (notHere !== ErrorCode.NONE) return { ...base, errorCode: notHere, errorMessage: null };
    if (groupId.trim() === "") {
      return { ...base, errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: null };
    }
    const g = this.groups.get(groupId);
    if (!g) {
      const classic = this.host.classicGroup(groupId);
      return {
        ...base,
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
        errorMessage: classic && !classic.is("Dead")
          ? `Group ${groupId} is not a consumer group.`
          : `Group ${groupId} not found.`,
      };
    }
    return describeConsumerGroup(g, this.defaultAssignor, this.topics);
  }

  /** A member's subscribed topic names (regex resolved) and assigned partitions by name. */
  memberView(m: ConsumerGroupMember): {
    topics: string[];
    assigned: { topic: string; partitions: number[] }[];
  } {
    return memberView(m, this.assignment, this.topics);
  }

  /** Whether any member subscribes to `topic` (its offsets may then not be deleted). */
  isSubscribedToTopic(group: ConsumerGroup, topic: string): boolean {
    return this.assignment.isSubscribedToTopic(group, topic);
  }
}
