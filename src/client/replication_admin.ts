/**
 * Admin operations on replicas: ElectLeaders, AlterPartitionReassignments and
 * ListPartitionReassignments. A broker forwards the first two to the controller with these;
 * the per-partition results come back as they are (the caller maps them), a top-level error
 * as a KafkaError.
 */
import {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
} from "../../protocol/messages/mod.ts";
import type { KafkaClient } from "./client.ts";
import { throwIfError } from "./errors.ts";

const TIMEOUT_MS = 30_000;

export interface PartitionOutcome {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string | null;
}

function byTopic<T extends { topic: string; partition: number }>(list: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of list) {
    let l = m.get(x.topic);
    if (!l) m.set(x.topic, l = []);
    l.push(x);
  }
  return m;
}

/** ElectLeaders (v1+: election type 0 preferred, 1 unclean); null partitions: all. */
export async function electLeaders(
  client: KafkaClient,
  electionType: number,
  partitions: { topic: string; partition: number }[] | null,
): Promise<PartitionOutcome[]> {
  const conn = await client.any();
  const { response: r } = await conn.requestVersioned(
    ElectLeadersRequest,
    ElectLeadersResponse,
    () => ({
      electionType,
      topicPartitions: partitions === null ? null : [...byTopic(partitions)].map(([topic, l]) => ({
        topic,
        partitions: l.map((x) => x.partition),
      })),
      timeoutMs: TIMEOUT_MS,
    }),
    { extraTimeoutMs: TIMEOUT_MS },
  );
  throwIfError(r.errorCode, null, "ElectLeaders");
  return r.replicaElectionResults.flatMap((t) =>
    t.partitionResult.map((p) => ({
      topic: t.topic,
      partition: p.partitionId,
      errorCode: p.errorCode,
      errorMessage: p.errorMessage,
    }))
  );
}

/** AlterPartitionReassignments: target replicas per partition, null to cancel. */
export async function alterPartitionReassignments(
  client: KafkaClient,
  reassignments: { topic: string; partition: number; replicas: number[] | null }[],
): Promise<PartitionOutcome[]> {
  const conn = await client.any();
  const r = await conn.request(
    AlterPartitionReassignmentsRequest,
    AlterPartitionReassignmentsResponse,
    {
      timeoutMs: TIMEOUT_MS,
      topics: [...byTopic(reassignments)].map(([name, l]) => ({
        name,
        partitions: l.map((x) => ({ partitionIndex: x.partition, replicas: x.replicas })),
      })),
    },
    { extraTimeoutMs: TIMEOUT_MS },
  );
  throwIfError(r.errorCode, r.errorMessage, "AlterPartitionReassignments");
  return r.responses.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.name,
      partition: p.partitionIndex,
      errorCode: p.errorCode,
      errorMessage: p.errorMessage,
    }))
  );
}

export interface ListedReassignment {
  topic: string;
  partition: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

/** ListPartitionReassignments; null partitions: every reassignment under way. */
export async function listPartitionReassignments(
  client: KafkaClient,
  partitions: { topic: string; partition: number }[] | null = null,
): Promise<ListedReassignment[]> {
  const conn = await client.any();
  const r = await conn.request(
    ListPartitionReassignmentsRequest,
    ListPartitionReassignmentsResponse,
    {
      timeoutMs: TIMEOUT_MS,
      topics: partitions === null ? null : [...byTopic(partitions)].map(([name, l]) => ({
        name,
        partitionIndexes: l.map((x) => x.partition),
      })),
    },
  );
  throwIfError(r.errorCode, r.errorMessage, "ListPartitionReassignments");
  return r.topics.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.name,
      partition: p.partitionIndex,
      replicas: p.replicas,
      addingReplicas: p.addingReplicas,
      removingReplicas: p.removingReplicas,
    }))
  );
}
