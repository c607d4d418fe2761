/**
 * GroupMetadataManager: the classic rebalance protocol's state machine for every classic
 * group of this broker (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and the group metadata
 * records it writes to `__consumer_offsets`. Kafka's GroupMetadataManager (classic part); the
 * protocol rules are described on GroupCoordinator.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { log } from "../log.ts";
import { ClassicGroup } from "./classic_group.ts";
import {
  ClassicGroupMember,
  EMPTY_BYTES,
  joinError,
  type JoinGroupParams,
  type JoinGroupResult,
  type LeaveGroupResult,
  type MemberIdentity,
  syncError,
  type SyncGroupParams,
  type SyncGroupResult,
} from "./classic_group_member.ts";
import type { Clock } from "./clock.ts";
import { appendErrorCode } from "./coordinator_errors.ts";
import { groupMetadataKey, groupMetadataValue } from "./coordinator_records.ts";
import type { CoordinatorTimer } from "./coordinator_timer.ts";
import type { ConsumerGroupCoordinator } from "./consumer_group_coordinator.ts";
import type { GroupConfig } from "./group_config.ts";
import type { CoordinatorLog } from "./group_metadata_log.ts";
import type { OffsetStore } from "./offset_store.ts";

export class GroupMetadataManager {
  readonly groups: Map<string, ClassicGroup> = new Map();
  /** Set once the coordinator closes: every request then answers NOT_COORDINATOR. */
  closed = false;
  /**
   * NONE when this coordinator may answer for the group; else why not: NOT_COORDINATOR once
   * closed or when another broker leads the group's partition, COORDINATOR_LOAD_IN_PROGRESS
   * while it is loading (set by the GroupCoordinator).
   */
  groupError: (groupId: string) => number = () =>
    this.closed ? ErrorCode.NOT_COORDINATOR : ErrorCode.NONE;

  constructor(
    readonly config: GroupConfig,
    readonly clock: Clock,
    private readonly timer: CoordinatorTimer,
    private readonly log: CoordinatorLog,
    private readonly consumer: ConsumerGroupCoordinator,
    private readonly offsets: OffsetStore,
  ) {}

  /** Answers every waiting JoinGroup/SyncGroup with NOT_COORDINATOR. */
  close(): void {
    this.closed = true;
    for (const g of this.groups.values()) {
      for (const m of g.members.values()) {
        g.completeJoin(m, joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
        g.completeSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  /**
   * Drops a group from memory, writing nothing (its partition moved to another coordinator):
   * waiting JoinGroup/SyncGroup calls get NOT_COORDINATOR. The caller cancels its timers.
   */
  unloadGroup(groupId: string): void {
    const g = this.groups.get(groupId);
    if (!g) return;
    for (const m of g.members.values()) {
      g.completeJoin(m, joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
      g.completeSync(m, syncError(ErrorCode.NOT_COORDINATOR));
    }
    this.groups.delete(groupId);
  }

  // ---- JoinGroup ------------------------------------------------------------------------

  joinGroup(p: JoinGroupParams): Promise<JoinGroupResult> {
    const notHere = this.groupError(p.groupId);
    if (notHere !== ErrorCode.NONE) return Promise.resolve(joinError(notHere, p.memberId));
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
    const notHere = this.groupError(p.groupId);
    if (notHere !== ErrorCode.NONE) return Promise.resolve(syncError(notHere));
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
    const notHere = this.groupError(groupId);
    if (notHere !== ErrorCode.NONE) return notHere;
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
    const notHere = this.groupError(groupId);
    if (notHere !== ErrorCode.NONE) return { errorCode: notHere, members: [] };
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

  scheduleHeartbeat(
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
  validateMember(
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
  maybeForgetGroup(group: ClassicGroup): void {
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
    const value = group.toStoredGroup(assignment);
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
