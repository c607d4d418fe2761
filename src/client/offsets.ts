/**
 * Offset lookups and commits: ListOffsets against partition leaders (earliest, latest, by
 * timestamp) and a group's committed offsets through its coordinator (OffsetFetch,
 * OffsetCommit), in whichever request layout the negotiated version uses.
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import {
  ListOffsetsRequest,
  ListOffsetsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  type OffsetFetchResponseGroup,
} from "../../protocol/messages/mod.ts";
import { type KafkaClient, sleep } from "./client.ts";
import { RETRIABLE_CODES, throwIfError } from "./errors.ts";

/** ListOffsets timestamps with special meaning. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export const tpKey = (tp: TopicPartition) => `${tp.topic}:${tp.partition}`;

/**
 * The offset for `timestamp` (LATEST_TIMESTAMP, EARLIEST_TIMESTAMP or a time in ms) of each
 * partition: -1 where no record is at or after a given time.
 */
export async function listOffsets(
  client: KafkaClient,
  tps: TopicPartition[],
  timestamp: number,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let todo = tps;
  for (let attempt = 0; todo.length > 0; attempt++) {
    const byLeader = new Map<number, TopicPartition[]>();
    for (const tp of todo) {
      const l = await client.leaderOf(tp.topic, tp.partition);
      let list = byLeader.get(l);
      if (!list) byLeader.set(l, list = []);
      list.push(tp);
    }
    const retry: TopicPartition[] = [];
    for (const [leader, list] of byLeader) {
      const conn = await client.broker(leader);
      const topics = new Map<string, number[]>();
      for (const tp of list) {
        let ps = topics.get(tp.topic);
        if (!ps) topics.set(tp.topic, ps = []);
        ps.push(tp.partition);
      }
      const r = await conn.request(ListOffsetsRequest, ListOffsetsResponse, {
        replicaId: -1,
        isolationLevel: 0,
        timeoutMs: 30_000,
        topics: [...topics].map(([name, ps]) => ({
          name,
          partitions: ps.map((p) => ({ partitionIndex: p, timestamp, maxNumOffsets: 1 })),
        })),
      });
      for (const t of r.topics) {
        for (const p of t.partitions) {
          if (RETRIABLE_CODES.has(p.errorCode) && attempt < 10) {
            retry.push({ topic: t.name, partition: p.partitionIndex });
            continue;
          }
          throwIfError(p.errorCode, null, `ListOffsets ${t.name}-${p.partitionIndex}`);
          const offset = p.oldStyleOffsets?.length ? p.oldStyleOffsets[0] : p.offset;
          out.set(`${t.name}:${p.partitionIndex}`, offset);
        }
      }
    }
    if (retry.length > 0) {
      client.invalidateLeaders();
      await sleep(100);
    }
    todo = retry;
  }
  return out;
}

/** Committed offsets of `group` (null topics: every partition it has an offset for). */
export async function fetchCommitted(
  client: KafkaClient,
  group: string,
  topics: Map<string, number[]> | null,
): Promise<Map<string, { topic: string; partition: number; offset: number; metadata: string }>> {
  for (let attempt = 0;; attempt++) {
    const list = topics === null
      ? null
      : [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    const { version, response: r } = await client.toCoordinator(
      group,
      OffsetFetchRequest,
      OffsetFetchResponse,
      (v) =>
        v >= 8
          ? { groups: [{ groupId: group, memberId: null, memberEpoch: -1, topics: list }] }
          : { groupId: group, topics: list },
      (resp, v) => v >= 8 ? resp.groups[0].errorCode : resp.errorCode,
    );
    const g: OffsetFetchResponse | OffsetFetchResponseGroup = version >= 8 ? r.groups[0] : r;
    if (g.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && attempt < 20) {
      await sleep(100);
      continue;
    }
    throwIfError(g.errorCode, null, `OffsetFetch group '${group}'`);
    const out = new Map<
      string,
      { topic: string; partition: number; offset: number; metadata: string }
    >();
    for (const t of g.topics) {
      for (const p of t.partitions) {
        throwIfError(p.errorCode, null, `OffsetFetch ${t.name}-${p.partitionIndex}`);
        if (p.committedOffset < 0) continue;
        out.set(`${t.name}:${p.partitionIndex}`, {
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          metadata: p.metadata ?? "",
        });
      }
    }
    return out;
  }
}

/**
 * Commits `offsets` for `group`. Outside a generation (generation -1, member "") this is the
 * admin-style commit kafka-consumer-groups uses, which a group with members refuses.
 */
export async function commitOffsets(
  client: KafkaClient,
  group: string,
  offsets: { topic: string; partition: number; offset: number }[],
  member: { generationId: number; memberId: string; groupInstanceId?: string | null } = {
    generationId: -1,
    memberId: "",
  },
): Promise<void> {
  if (offsets.length === 0) return;
  const topics = new Map<string, { partitionIndex: number; committedOffset: number }[]>();
  for (const o of offsets) {
    let ps = topics.get(o.topic);
    if (!ps) topics.set(o.topic, ps = []);
    ps.push({ partitionIndex: o.partition, committedOffset: o.offset });
  }
  const { response: r } = await client.toCoordinator(
    group,
    OffsetCommitRequest,
    OffsetCommitResponse,
    () => ({
      groupId: group,
      generationIdOrMemberEpoch: member.generationId,
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId ?? null,
      topics: [...topics].map(([name, partitions]) => ({
        name,
        partitions: partitions.map((p) => ({
          ...p,
          committedLeaderEpoch: -1,
          committedMetadata: "",
        })),
      })),
    }),
    (resp) => resp.topics[0]?.partitions?.[0]?.errorCode ?? 0,
  );
  for (const t of r.topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== 0) {
        throw new KafkaError(
          p.errorCode,
          `${
            errorName(p.errorCode)
          } (OffsetCommit ${t.name}-${p.partitionIndex} for group '${group}')`,
        );
      }
    }
  }
}
