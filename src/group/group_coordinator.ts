/**
 * GroupCoordinator: runs every consumer group of this broker (it is the coordinator of all of
 * them) — the classic rebalance protocol's state machine, committed offsets, and their
 * persistence in `__consumer_offsets`. Kafka's GroupCoordinator + GroupCoordinatorShard.
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
 * Offsets (commit, fetch, transactional commits, expiry) live in OffsetMetadataManager
 * (offset_metadata_manager.ts), the classic protocol's state machine in GroupMetadataManager
 * (group_metadata_manager.ts), loading of `__consumer_offsets` in coordinator_loader.ts; this
 * class is the façade the handlers call and owns what spans them (list, describe, delete).
 *
 * Groups of the consumer group protocol (KIP-848) live in `consumer`
 * (consumer_group_coordinator.ts); a group id is either classic or consumer, and the
 * requests of one protocol answer those of the other as Kafka does (see there). Offsets are
 * stored alike for both.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
} from "../../protocol/messages/mod.ts";
import { Writer } from "../../protocol/primitives.ts";
import { codecFor, type Encodable, type MessageSchema } from "../../protocol/schema.ts";
import type { Leadership } from "../cluster/leadership.ts";
import { partitionFor } from "../internal_topic.ts";
import { log } from "../log.ts";
import {
  CLASSIC_GROUP_STATES,
  type ClassicGroup,
  type ClassicGroupState,
  CONSUMER_PROTOCOL_TYPE,
} from "./classic_group.ts";
import {
  EMPTY_BYTES,
  type JoinGroupParams,
  type JoinGroupResult,
  type LeaveGroupResult,
  type MemberIdentity,
  type SyncGroupParams,
  type SyncGroupResult,
} from "./classic_group_member.ts";
import { type Clock, systemClock } from "./clock.ts";
import { appendErrorCode } from "./coordinator_errors.ts";
import { loadCoordinator } from "./coordinator_loader.ts";
import { groupMetadataKey, offsetCommitKey } from "./coordinator_records.ts";
import { CoordinatorTimer } from "./coordinator_timer.ts";
import {
  ConsumerGroupCoordinator,
  type ConsumerGroupHeartbeatParams,
  type ConsumerGroupHeartbeatResult,
  type TopicCatalog,
  type TopicInfo,
} from "./consumer_group_coordinator.ts";
import type { ConsumerGroup } from "./consumer_group.ts";
import { DEFAULT_GROUP_CONFIG, type GroupConfig } from "./group_config.ts";
import { type CoordinatorLog, GROUP_METADATA_TOPIC, type LogRecord } from "./group_metadata_log.ts";
import { GroupMetadataManager } from "./group_metadata_manager.ts";
import {
  type OffsetCommitParams,
  type OffsetFetchResult,
  OffsetMetadataManager,
  type TopicResult,
  type TxnOffsetCommitParams,
} from "./offset_metadata_manager.ts";
import { OffsetStore } from "./offset_store.ts";

export type { JoinGroupParams, LeaveGroupResult, MemberIdentity, SyncGroupParams };
export type {
  FetchedOffset,
  OffsetCommitParams,
  OffsetFetchResult,
  PartitionResult,
  TopicResult,
  TxnOffsetCommitParams,
} from "./offset_metadata_manager.ts";

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
  /**
   * Replaces verifyTransaction when given (several brokers: the transaction coordinator may
   * be another broker, asked before the append): resolves once the coordinator answered;
   * `check()` right before the append gives the error, `release()` after it.
   */
  transactionVerification?(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    offsetsPartition: number,
  ): Promise<{ check(): number; release(): void }>;
}

const NO_TOPICS: TopicCatalog = {
  byName: (): TopicInfo | undefined => undefined,
  byId: (): TopicInfo | undefined => undefined,
  all: () => [],
};

export class GroupCoordinator {
  readonly config: GroupConfig;
  readonly clock: Clock;
  readonly groups: Map<string, ClassicGroup>;
  readonly offsets: OffsetStore = new OffsetStore();
  private readonly timer: CoordinatorTimer;
  private readonly partitionExists: (topic: string, partition: number) => boolean;
  /** The classic groups' rebalance protocol. */
  readonly groupMetadataManager: GroupMetadataManager;
  /** Committed offsets of every group, transactional ones, expiry. */
  readonly offsetMetadataManager: OffsetMetadataManager;
  private closed = false;
  /**
   * The `__consumer_offsets` partitions this coordinator owns when it follows partition
   * leadership (cluster mode), true while one is loading; null: all of them (one broker).
   */
  private owned: Map<number, boolean> | null = null;
  /** Loads run one at a time (the consumer groups' loader state is shared). */
  private loads: Promise<void> = Promise.resolve();
  /** The consumer-protocol (KIP-848) groups. */
  readonly consumer: ConsumerGroupCoordinator;

  constructor(private readonly log: CoordinatorLog, opts: GroupCoordinatorOptions = {}) {
    this.config = { ...DEFAULT_GROUP_CONFIG, ...opts.config };
    this.clock = opts.clock ?? systemClock;
    this.timer = new CoordinatorTimer(this.clock);
    this.partitionExists = opts.partitionExists ?? (() => true);
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
    this.groupMetadataManager = new GroupMetadataManager(
      this.config,
      this.clock,
      this.timer,
      log,
      this.consumer,
      this.offsets,
    );
    this.groups = this.groupMetadataManager.groups;
    this.offsetMetadataManager = new OffsetMetadataManager(
      this.groupMetadataManager,
      this.consumer,
      this.offsets,
      this.timer,
      log,
      this.partitionExists,
      opts.verifyTransaction ?? (() => ErrorCode.NONE),
    );
    const verification = opts.transactionVerification;
    if (verification) {
      this.offsetMetadataManager.prepareVerification = async (tid, pid, epoch, groupId) => {
        const partition = this.partitionFor(groupId);
        return { partition, ...await verification(tid, pid, epoch, partition) };
      };
    }
    const groupError = (groupId: string) => this.coordinatorError(groupId);
    this.groupMetadataManager.groupError = groupError;
    this.consumer.groupError = groupError;
  }

  /** The group's `__consumer_offsets` partition. */
  partitionFor(groupId: string): number {
    return partitionFor(groupId, this.log.partitionCount?.() ?? 50);
  }

  /**
   * NONE when this coordinator answers for the group; NOT_COORDINATOR once closed or when
   * another broker leads its partition; COORDINATOR_LOAD_IN_PROGRESS while it loads.
   */
  coordinatorError(groupId: string): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    if (!this.owned) return ErrorCode.NONE;
    const loading = this.owned.get(this.partitionFor(groupId));
    if (loading === undefined) return ErrorCode.NOT_COORDINATOR;
    return loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
  }

  /**
   * Cluster mode: coordinate the groups whose `__consumer_offsets` partition this broker
   * leads, following that leadership: a partition gained is loaded from its log
   * (COORDINATOR_LOAD_IN_PROGRESS meanwhile), one lost is dropped from memory, writing
   * nothing (NOT_COORDINATOR). Replaces load(). Resolves once the partitions led now are
   * loaded; the returned function stops following.
   */
  async followLeadership(leadership: Leadership): Promise<() => void> {
    if (!this.log.loadPartition) throw new Error("this coordinator log cannot load a partition");
    this.owned ??= new Map();
    const apply = (partition: number, leaderId: number) => {
      if (leaderId === leadership.localNodeId) this.gainPartition(partition);
      else this.losePartition(partition);
    };
    const stop = leadership.onChange((c) => {
      if (c.topic === GROUP_METADATA_TOPIC) apply(c.partition, c.leader.leaderId);
    });
    const count = this.log.partitionCount?.() ?? 50;
    for (let p = 0; p < count; p++) {
      const l = leadership.leaderOf(GROUP_METADATA_TOPIC, p);
      if (l) apply(p, l.leaderId);
    }
    await this.loads;
    return stop;
  }

  private gainPartition(partition: number): void {
    const owned = this.owned!;
    if (owned.has(partition)) return;
    owned.set(partition, true);
    const only: CoordinatorLog = {
      append: (groupId, records, opts) => this.log.append(groupId, records, opts),
      load: (fn, onMarker) => this.log.loadPartition!(partition, fn, onMarker),
    };
    this.loads = this.loads.then(async () => {
      if (owned.get(partition) !== true || this.closed) return;
      try {
        await loadCoordinator(
          only,
          this.groupMetadataManager,
          this.offsetMetadataManager,
          this.offsets,
          this.consumer,
        );
        if (owned.get(partition) === true) owned.set(partition, false);
      } catch (e) {
        log.error(`loading __consumer_offsets-${partition} failed: ${(e as Error).stack ?? e}`);
        owned.delete(partition);
      }
    });
  }

  private losePartition(partition: number): void {
    const owned = this.owned!;
    if (!owned.has(partition)) return;
    owned.delete(partition);
    const ids = new Set([
      ...this.groups.keys(),
      ...this.consumer.groupIds(),
      ...this.offsets.groupIds(),
    ]);
    let dropped = 0;
    for (const groupId of ids) {
      if (this.partitionFor(groupId) !== partition) continue;
      this.timer.cancelGroup(groupId);
      this.groupMetadataManager.unloadGroup(groupId);
      this.consumer.unloadGroup(groupId);
      this.offsets.deleteGroup(groupId);
      this.offsetMetadataManager.dropPendingTxnOffsets(groupId);
      dropped++;
    }
    log.info(
      `__consumer_offsets-${partition} unloaded (${dropped} group(s)): no longer its coordinator`,
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
  load(): Promise<void> {
    return loadCoordinator(
      this.log,
      this.groupMetadataManager,
      this.offsetMetadataManager,
      this.offsets,
      this.consumer,
    );
  }

  /** Cancels every timer and answers every waiting JoinGroup/SyncGroup with NOT_COORDINATOR. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer.cancelAll();
    this.consumer.close();
    this.groupMetadataManager.close();
  }

  /** Timers outstanding (tests check close() leaves none). */
  get pendingTimers(): number {
    return this.timer.size + this.consumer.pendingTimers;
  }

  group(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  // ---- classic protocol: GroupMetadataManager --------------------------------------------

  joinGroup(p: JoinGroupParams): Promise<JoinGroupResult> {
    return this.groupMetadataManager.joinGroup(p);
  }

  syncGroup(p: SyncGroupParams): Promise<SyncGroupResult> {
    return this.groupMetadataManager.syncGroup(p);
  }

  heartbeat(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): number {
    return this.groupMetadataManager.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leaveGroup(groupId: string, members: MemberIdentity[]): LeaveGroupResult {
    return this.groupMetadataManager.leaveGroup(groupId, members);
  }

  // ---- offsets: OffsetMetadataManager ----------------------------------------------------

  commitOffsets(p: OffsetCommitParams): Promise<TopicResult[]> {
    return this.offsetMetadataManager.commitOffsets(p);
  }

  commitTransactionalOffsets(p: TxnOffsetCommitParams): Promise<TopicResult[]> {
    return this.offsetMetadataManager.commitTransactionalOffsets(p);
  }

  onTransactionCompleted(
    producerId: number,
    partitions: { topic: string; partition: number }[],
    commit: boolean,
  ): void {
    this.offsetMetadataManager.onTransactionCompleted(producerId, partitions, commit);
  }

  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    return this.offsetMetadataManager.hasPendingTxnOffset(groupId, topic, partition);
  }

  fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
    member?: { memberId: string | null; memberEpoch: number },
    requireStable = false,
  ): OffsetFetchResult {
    return this.offsetMetadataManager.fetchOffsets(groupId, topics, member, requireStable);
  }

  deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: number[] }[],
  ): Promise<{ errorCode: number; topics: TopicResult[] }> {
    return this.offsetMetadataManager.deleteOffsets(groupId, topics);
  }

  expireOffsets(): Promise<number> {
    return this.offsetMetadataManager.expireOffsets();
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
    const notHere = this.coordinatorError(groupId);
    const cg = this.consumer.group(groupId);
    if (cg && notHere === ErrorCode.NONE) return this.describeConsumerGroupAsClassic(cg);
    const g = notHere === ErrorCode.NONE ? this.groups.get(groupId) : undefined;
    if (!g || g.is("Dead")) {
      return {
        errorCode: notHere,
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
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return notHere;
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
      this.offsetMetadataManager.dropPendingTxnOffsets(groupId);
    }
    return ErrorCode.NONE;
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
      this.offsetMetadataManager.dropPendingTxnOffsets(groupId);
    }
    return ErrorCode.NONE;
  }
}

export const GROUP_STATES: readonly ClassicGroupState[] = CLASSIC_GROUP_STATES;

/** A ConsumerProtocolSubscription v0 / Assignment v0 (int16 version + body). */
function consumerProtocolBytes<T>(schema: MessageSchema<T>, body: Encodable<T>): Uint8Array {
  const w = new Writer(64);
  w.int16(0);
  codecFor(schema, 0).encode(w, body);
  return w.finishCopy();
}
