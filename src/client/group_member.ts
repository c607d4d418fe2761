/**
 * Membership of a classic consumer group (protocol type "consumer"): JoinGroup (with the
 * member-id round trip of KIP-394), the range assignor when this member leads, SyncGroup,
 * Heartbeat in the background, OffsetCommit in the current generation and LeaveGroup.
 * The coordinator connection is this member's own, so a long JoinGroup never queues behind
 * fetches (and the reverse).
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import {
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  type JoinGroupResponseMember,
  LeaveGroupRequest,
  LeaveGroupResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from "../../protocol/messages/mod.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { codecFor, type Encodable, type MessageSchema } from "../../protocol/schema.ts";
import { type KafkaClient, sleep } from "./client.ts";
import type { BrokerConnection } from "./connection.ts";
import { commitOffsets, type TopicPartition } from "./offsets.ts";

const SUBSCRIPTION_VERSION = 0;
const ASSIGNMENT_VERSION = 0;

/** A ConsumerProtocol payload: int16 version, then the body at that version. */
function encodeVersioned<T>(schema: MessageSchema<T>, version: number, m: Encodable<T>) {
  const w = new Writer(64);
  w.int16(version);
  codecFor(schema, version).encode(w, m);
  return w.finishCopy();
}

/** Reads a ConsumerProtocol payload; newer versions are read as our newest (they only add fields). */
function decodeVersioned<T>(schema: MessageSchema<T>, data: Uint8Array): T {
  const r = new Reader(data);
  const version = Math.min(r.int16(), 3);
  return codecFor(schema, Math.max(version, 0)).decode(r);
}

/** Kafka's RangeAssignor: each topic's partitions split in ranges over its sorted subscribers. */
export function rangeAssign(
  subscriptions: Map<string, string[]>,
  partitionCounts: Map<string, number>,
): Map<string, TopicPartition[]> {
  const out = new Map<string, TopicPartition[]>();
  for (const m of subscriptions.keys()) out.set(m, []);
  const topics = new Set([...subscriptions.values()].flat());
  for (const topic of [...topics].sort()) {
    const n = partitionCounts.get(topic) ?? 0;
    const members = [...subscriptions].filter(([, ts]) => ts.includes(topic)).map(([m]) => m)
      .sort();
    const per = Math.floor(n / members.length);
    const extra = n % members.length;
    members.forEach((m, i) => {
      const start = per * i + Math.min(i, extra);
      const len = per + (i < extra ? 1 : 0);
      for (let p = start; p < start + len; p++) out.get(m)!.push({ topic, partition: p });
    });
  }
  return out;
}

export interface GroupMemberOptions {
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export class GroupMember {
  memberId = "";
  generationId = -1;
  assignment: TopicPartition[] = [];
  /** Set when a heartbeat learns the group is rebalancing or this member was fenced. */
  needsRejoin = true;
  private conn?: BrokerConnection;
  private heartbeat?: ReturnType<typeof setInterval>;
  private heartbeatError?: Error;

  constructor(
    private readonly client: KafkaClient,
    readonly groupId: string,
    readonly topics: string[],
    private readonly opts: GroupMemberOptions,
  ) {}

  private async coordinator(): Promise<BrokerConnection> {
    if (this.conn && !this.conn.isClosed) return this.conn;
    this.conn = await this.client.dedicated(await this.client.coordinator(this.groupId));
    return this.conn;
  }

  /** Joins (or rejoins) and syncs until this member holds an assignment in a generation. */
  async join(): Promise<TopicPartition[]> {
    this.stopHeartbeat();
    for (let attempt = 0;; attempt++) {
      if (attempt > 50) throw new KafkaError(ErrorCode.REBALANCE_IN_PROGRESS, "could not join");
      const conn = await this.coordinator();
      const metadata = encodeVersioned(ConsumerProtocolSubscription, SUBSCRIPTION_VERSION, {
        topics: this.topics,
        userData: null,
      });
      const j = await conn.request(JoinGroupRequest, JoinGroupResponse, {
        groupId: this.groupId,
        sessionTimeoutMs: this.opts.sessionTimeoutMs,
        rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata }],
        reason: null,
      }, { extraTimeoutMs: this.opts.rebalanceTimeoutMs });
      if (j.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = j.memberId;
        continue;
      }
      if (
        j.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || j.errorCode === ErrorCode.ILLEGAL_GENERATION
      ) {
        this.memberId = "";
        continue;
      }
      if (j.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (
        j.errorCode === ErrorCode.NOT_COORDINATOR ||
        j.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
        j.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
      ) {
        this.conn?.close();
        await sleep(100);
        continue;
      }
      if (j.errorCode !== 0) {
        throw new KafkaError(
          j.errorCode,
          `${errorName(j.errorCode)} (JoinGroup '${this.groupId}')`,
        );
      }
      this.memberId = j.memberId;
      this.generationId = j.generationId;
      let assignments: { memberId: string; assignment: Uint8Array }[] = [];
      if (j.leader === j.memberId) assignments = await this.assign(j.members);
      const s = await conn.request(SyncGroupRequest, SyncGroupResponse, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: "consumer",
        protocolName: j.protocolName,
        assignments,
      }, { extraTimeoutMs: this.opts.rebalanceTimeoutMs });
      if (
        s.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
        s.errorCode === ErrorCode.ILLEGAL_GENERATION ||
        s.errorCode === ErrorCode.UNKNOWN_MEMBER_ID
      ) {
        if (s.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = "";
        continue;
      }
      if (s.errorCode !== 0) {
        throw new KafkaError(
          s.errorCode,
          `${errorName(s.errorCode)} (SyncGroup '${this.groupId}')`,
        );
      }
      const a = s.assignment?.length
        ? decodeVersioned(ConsumerProtocolAssignment, s.assignment)
        : { assignedPartitions: [] };
      this.assignment = a.assignedPartitions.flatMap((tp) =>
        tp.partitions.map((partition) => ({ topic: tp.topic, partition }))
      );
      this.needsRejoin = false;
      this.startHeartbeat();
      return this.assignment;
    }
  }

  private async assign(
    members: JoinGroupResponseMember[],
  ): Promise<{ memberId: string; assignment: Uint8Array }[]> {
    const subs = new Map<string, string[]>();
    for (const m of members) {
      subs.set(m.memberId, decodeVersioned(ConsumerProtocolSubscription, m.metadata).topics);
    }
    const topics = [...new Set([...subs.values()].flat())];
    const md = await this.client.metadata(topics);
    const counts = new Map(
      md.topics.filter((t) => t.errorCode === 0).map((t) => [
        t.name,
        t.partitions.length,
      ]),
    );
    const plan = rangeAssign(subs, counts);
    return [...plan].map(([memberId, tps]) => {
      const byTopic = new Map<string, number[]>();
      for (const tp of tps) {
        let ps = byTopic.get(tp.topic);
        if (!ps) byTopic.set(tp.topic, ps = []);
        ps.push(tp.partition);
      }
      return {
        memberId,
        assignment: encodeVersioned(ConsumerProtocolAssignment, ASSIGNMENT_VERSION, {
          assignedPartitions: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
          userData: null,
        }),
      };
    });
  }

  private startHeartbeat(): void {
    this.heartbeat = setInterval(async () => {
      try {
        const conn = await this.coordinator();
        const h = await conn.request(HeartbeatRequest, HeartbeatResponse, {
          groupId: this.groupId,
          generationId: this.generationId,
          memberId: this.memberId,
          groupInstanceId: null,
        });
        if (
          h.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
          h.errorCode === ErrorCode.ILLEGAL_GENERATION ||
          h.errorCode === ErrorCode.UNKNOWN_MEMBER_ID ||
          h.errorCode === ErrorCode.FENCED_INSTANCE_ID
        ) {
          if (h.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = "";
          this.needsRejoin = true;
        } else if (h.errorCode !== 0) {
          this.heartbeatError = new KafkaError(
            h.errorCode,
            `${errorName(h.errorCode)} (Heartbeat '${this.groupId}')`,
          );
        }
      } catch (e) {
        this.heartbeatError = e as Error;
      }
    }, this.opts.heartbeatIntervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Throws what the background heartbeat ran into, if anything. */
  check(): void {
    if (this.heartbeatError) throw this.heartbeatError;
  }

  /** Commits in this member's generation; a fenced commit asks for a rejoin instead of failing. */
  async commit(offsets: { topic: string; partition: number; offset: number }[]): Promise<boolean> {
    try {
      await commitOffsets(this.client, this.groupId, offsets, {
        generationId: this.generationId,
        memberId: this.memberId,
      });
      return true;
    } catch (e) {
      if (
        e instanceof KafkaError &&
        (e.code === ErrorCode.REBALANCE_IN_PROGRESS || e.code === ErrorCode.ILLEGAL_GENERATION ||
          e.code === ErrorCode.UNKNOWN_MEMBER_ID)
      ) {
        this.needsRejoin = true;
        return false;
      }
      throw e;
    }
  }

  /** Leaves the group so the others rebalance at once instead of after the session timeout. */
  async leave(): Promise<void> {
    this.stopHeartbeat();
    if (!this.memberId) return;
    try {
      const conn = await this.coordinator();
      await conn.requestVersioned(
        LeaveGroupRequest,
        LeaveGroupResponse,
        (v) =>
          v >= 3
            ? {
              groupId: this.groupId,
              members: [{ memberId: this.memberId, groupInstanceId: null, reason: "tool exit" }],
            }
            : { groupId: this.groupId, memberId: this.memberId },
      );
    } finally {
      this.conn?.close();
    }
  }

  close(): void {
    this.stopHeartbeat();
    this.conn?.close();
  }
}
