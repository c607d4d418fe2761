/**
 * OffsetMetadataManager: committed offsets of every group — OffsetCommit, TxnOffsetCommit
 * (pending until the transaction ends), OffsetFetch, OffsetDelete and offset expiry — and the
 * offset records in `__consumer_offsets`. Kafka's OffsetMetadataManager.
 *
 * Commits from members are checked against generation and member id; commits with
 * generation -1 and no member id (simple consumers, admin tools) are accepted while the group
 * is Empty. Records are appended before the cache changes and before the response.
 * Expiry (offsets.retention.minutes): offsets of an Empty group expire that long after the
 * group became empty; of a simple group, that long after their commit; of a Stable consumer
 * group, offsets of topics nobody subscribes to, that long after their commit. A group left
 * Empty with no offsets is removed.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { log } from "../log.ts";
import { ClassicGroup, CONSUMER_PROTOCOL_TYPE } from "./classic_group.ts";
import type { Clock } from "./clock.ts";
import { appendErrorCode, txnVerificationError } from "./coordinator_errors.ts";
import {
  groupMetadataKey,
  type OffsetAndMetadata,
  offsetCommitKey,
  offsetCommitValue,
} from "./coordinator_records.ts";
import type { CoordinatorTimer } from "./coordinator_timer.ts";
import type { ConsumerGroupCoordinator } from "./consumer_group_coordinator.ts";
import type { GroupConfig } from "./group_config.ts";
import type { GroupMetadataManager } from "./group_metadata_manager.ts";
import { type CoordinatorLog, GROUP_METADATA_TOPIC, type LogRecord } from "./group_metadata_log.ts";
import type { CommittedOffset, OffsetStore } from "./offset_store.ts";

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

const encoder = new TextEncoder();

export class OffsetMetadataManager {
  /** Transactional offset commits by producer id, by group/topic/partition (offsetKey). */
  private readonly pendingTxnOffsets = new Map<number, Map<string, PendingTxnOffset>>();
  private pendingSeq = 0;
  private expiring = false;
  private readonly config: GroupConfig;
  private readonly clock: Clock;

  constructor(
    private readonly groupManager: GroupMetadataManager,
    private readonly consumer: ConsumerGroupCoordinator,
    private readonly offsets: OffsetStore,
    private readonly timer: CoordinatorTimer,
    private readonly log: CoordinatorLog,
    private readonly partitionExists: (topic: string, partition: number) => boolean,
    private readonly verifyTransaction: (
      transactionalId: string,
      producerId: number,
      producerEpoch: number,
      offsetsPartition: number,
    ) => number,
  ) {
    this.config = groupManager.config;
    this.clock = groupManager.clock;
  }

  /**
   * When set, TxnOffsetCommit's verification is asked before the append (the transaction
   * coordinator may be another broker) and only checked right before it.
   */
  prepareVerification?: (
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
  ) => Promise<{ partition: number; check(): number; release(): void }>;

  private get closed(): boolean {
    return this.groupManager.closed;
  }

  private get groups(): Map<string, ClassicGroup> {
    return this.groupManager.groups;
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
    const pre = this.prepareVerification
      ? await this.prepareVerification(p.transactionalId, p.producerId, p.producerEpoch, p.groupId)
      : null;
    const verify = (partition: number) => {
      if (!pre) {
        return this.verifyTransaction(p.transactionalId, p.producerId, p.producerEpoch, partition);
      }
      // The offsets topic changed under the question: ask again (the client retries).
      return partition === pre.partition ? pre.check() : ErrorCode.NOT_COORDINATOR;
    };
    try {
      await this.log.append(p.groupId, records, {
        transactional: { producerId: p.producerId, producerEpoch: p.producerEpoch },
        beforeAppend: (partition) => {
          verifyError = txnVerificationError(verify(partition), p.apiVersion);
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
    } finally {
      pre?.release();
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
    const notHere = this.groupManager.groupError(p.groupId);
    if (notHere !== ErrorCode.NONE) return notHere;
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
      const err = this.groupManager.validateMember(group, p.memberId, p.groupInstanceId);
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

  addPendingTxnOffset(
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
  supersedePendingTxnOffsets(
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
  dropPendingTxnOffsets(groupId: string): void {
    for (const [producerId, offsets] of this.pendingTxnOffsets) {
      for (const [key, entry] of offsets) if (entry.groupId === groupId) offsets.delete(key);
      if (offsets.size === 0) this.pendingTxnOffsets.delete(producerId);
    }
  }

  completeTxnOffsets(producerId: number, commit: boolean, loading: boolean): void {
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
    const notHere = this.groupManager.groupError(p.groupId);
    if (notHere !== ErrorCode.NONE) return notHere;
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
      const err = this.groupManager.validateMember(group, p.memberId, p.groupInstanceId);
      if (err !== ErrorCode.NONE) return err;
      if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is("Empty")) {
      // No member id and no generation: only while nobody else is using the group.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (group.is("CompletingRebalance")) return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.get(p.memberId);
    if (member) this.groupManager.scheduleHeartbeat(group, member);
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
    const notHere = this.groupManager.groupError(groupId);
    if (notHere !== ErrorCode.NONE) return { errorCode: notHere, topics: [] };
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

  /**
   * OffsetDelete (KIP-496): removes a group's offsets of partitions whose topic no member is
   * subscribed to. Returns the top-level error and per-partition errors.
   */
  async deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: number[] }[],
  ): Promise<{ errorCode: number; topics: TopicResult[] }> {
    const notHere = this.groupManager.groupError(groupId);
    if (notHere !== ErrorCode.NONE) return { errorCode: notHere, topics: [] };
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

  scheduleOffsetExpiry(): void {
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
