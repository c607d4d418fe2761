/**
 * The controller's answers to ElectLeaders and AlterPartitionReassignments (Kafka's
 * KafkaController.onReplicaElection / onPartitionReassignment, ZooKeeper era, with KIP-455's
 * adding/removing replicas), and ListPartitionReassignments from the partition states. Each
 * partition's change is one compare-and-swap through ClusterController.updatePartition; the
 * results carry Kafka's error codes and messages per partition.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { ClusterMetadataCache } from "./cluster_metadata.ts";
import type { PartitionState } from "./cluster_records.ts";
import type { PartitionChange } from "./controller.ts";
import {
  endReassignment,
  offlineLeader,
  originReplicas,
  preferredLeader,
  reassignmentInProgress,
  startReassignment,
  withLeader,
} from "./partition_election.ts";

/** ElectLeaders' election types. */
export const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

export interface PartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string | null;
}

/** The slice of the controller these operations use. */
export interface PartitionStateWriter {
  readonly cache: ClusterMetadataCache;
  updatePartition(
    topic: string,
    p: number,
    change: PartitionChange,
  ): Promise<{ state: PartitionState; revision: number } | null>;
}

const NOT_NEEDED = "Leader election not needed for topic partition.";

function strategyName(type: number): string {
  return type === ElectionType.PREFERRED
    ? "PreferredReplicaPartitionLeaderElectionStrategy"
    : "OfflinePartitionLeaderElectionStrategy(true)";
}

/**
 * Elects leaders of `partitions` (null: every partition; then only the partitions where an
 * election was needed are answered, as Kafka's controller does). PREFERRED moves leadership
 * to the first assigned replica when it is live and in the ISR (ELECTION_NOT_NEEDED when it
 * leads, else PREFERRED_LEADER_NOT_AVAILABLE); UNCLEAN elects a leader for a partition that
 * has none, from the live ISR first, else any live replica (ELECTION_NOT_NEEDED when it has
 * one, ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live).
 */
export async function electLeaders(
  w: PartitionStateWriter,
  type: number,
  partitions: { topic: string; partition: number }[] | null,
): Promise<{ results: PartitionResult[]; revision: number }> {
  const all = partitions === null;
  const targets = partitions ??
    [...w.cache.partitionStates].flatMap(([topic, parts]) =>
      w.cache.topicRecords.has(topic)
        ? [...parts.keys()].map((partition) => ({ topic, partition }))
        : []
    );
  const live = (id: number) => w.cache.liveBrokers.has(id);
  const results: PartitionResult[] = [];
  let revision = 0;
  for (const { topic, partition } of targets) {
    const out: PartitionResult = { topic, partition, errorCode: 0, errorMessage: null };
    const failed = (code: number, message: string) => {
      out.errorCode = code;
      out.errorMessage = message;
    };
    const notNeeded = () => failed(ErrorCode.ELECTION_NOT_NEEDED, NOT_NEEDED);
    const cannot = () =>
      failed(
        type === ElectionType.PREFERRED
          ? ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE
          : ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
        `Failed to elect leader for partition ${topic}-${partition} under strategy ${
          strategyName(type)
        }`,
      );
    if (!w.cache.topicRecords.has(topic) || !w.cache.partition(topic, partition)) {
      failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.");
      results.push(out);
      continue;
    }
    let outcome = "done" as "done" | "not-needed" | "cannot";
    const change: PartitionChange = (s) => {
      if (type === ElectionType.PREFERRED) {
        if (s.leader === s.replicas[0]) return (outcome = "not-needed", null);
        const leader = preferredLeader(s.replicas, s.isr, live);
        if (leader === null) return (outcome = "cannot", null);
        outcome = "done";
        return withLeader(s, leader);
      }
      if (s.leader !== -1 && live(s.leader)) return (outcome = "not-needed", null);
      const elected = offlineLeader(s.replicas, s.isr, live, true);
      if (!elected) return (outcome = "cannot", null);
      outcome = "done";
      return withLeader(s, elected.leader, elected.unclean ? [elected.leader] : s.isr);
    };
    // Asked for all, partitions with nothing to do by this broker's view are skipped without
    // a store round trip; those named are decided on the store's current state.
    const cached = w.cache.partition(topic, partition)!;
    if (all && change(cached.state, cached.modRevision) === null) {
      if (outcome === "cannot") {
        cannot();
        results.push(out);
      }
      continue;
    }
    try {
      const r = await w.updatePartition(topic, partition, change);
      if (r) revision = Math.max(revision, r.revision);
      if (outcome === "not-needed") {
        if (all) continue;
        notNeeded();
      } else if (outcome === "cannot") cannot();
    } catch (e) {
      if (e instanceof KafkaError && e.code === ErrorCode.NOT_CONTROLLER) throw e;
      failed(
        e instanceof KafkaError ? e.code : ErrorCode.UNKNOWN_SERVER_ERROR,
        e instanceof Error ? e.message : String(e),
      );
    }
    results.push(out);
  }
  return { results, revision };
}

/** Kafka's validateReplicas for a reassignment target: null when acceptable. */
export function checkReassignmentTarget(
  replicas: number[],
  current: PartitionState,
  liveIds: number[],
): KafkaError | null {
  const invalid = (m: string) => new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, m);
  if (replicas.length === 0) {
    return invalid("Empty replica list specified in partition reassignment.");
  }
  if (new Set(replicas).size !== replicas.length) {
    return invalid(
      `Duplicate replica ids in partition reassignment replica list: ${listText(replicas)}`,
    );
  }
  if (replicas.some((id) => id < 0)) {
    return invalid(`Invalid broker id in replica list: ${listText(replicas)}`);
  }
  const origin = originReplicas(current);
  const adding = replicas.filter((id) => !origin.includes(id));
  if (!adding.every((id) => liveIds.includes(id))) {
    return invalid(
      `Replica assignment has brokers that are not alive. Replica list: ${listText(adding)}, ` +
        `live broker list: Set(${liveIds.join(", ")})`,
    );
  }
  return null;
}

function listText(ids: number[]): string {
  return `List(${ids.join(", ")})`;
}

/**
 * Starts (replicas given) or cancels (null) the reassignment of each partition. A start
 * writes replicas = target ∪ original with the adding and removing replicas; the data path
 * makes the new replicas fetch, their leader adds them to the ISR, and the controller
 * completes the reassignment on that change (controller.ts). A target equal to the current
 * assignment completes at once. A cancellation reverts to the original replicas
 * (NO_REASSIGNMENT_IN_PROGRESS when none is under way).
 */
export async function alterPartitionReassignments(
  w: PartitionStateWriter,
  requests: { topic: string; partition: number; replicas: number[] | null }[],
): Promise<{ results: PartitionResult[]; revision: number }> {
  const liveIds = () => [...w.cache.liveBrokers.keys()].sort((a, b) => a - b);
  const live = (id: number) => w.cache.liveBrokers.has(id);
  const results: PartitionResult[] = [];
  let revision = 0;
  for (const { topic, partition, replicas } of requests) {
    const out: PartitionResult = { topic, partition, errorCode: 0, errorMessage: null };
    results.push(out);
    let refusal = null as KafkaError | null;
    const change: PartitionChange = (s) => {
      refusal = null;
      if (replicas === null) {
        if (!reassignmentInProgress(s)) {
          refusal = new KafkaError(
            ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
            "No partition reassignment is in progress for this topic-partition.",
          );
          return null;
        }
        const next = endReassignment(s, originReplicas(s), live);
        if (!next) {
          refusal = new KafkaError(
            ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
            `no live in-sync replica of ${topic}-${partition} among its original replicas`,
          );
        }
        return next;
      }
      refusal = checkReassignmentTarget(replicas, s, liveIds());
      if (refusal) return null;
      const started = startReassignment(s, replicas);
      // Nothing to add (the same replicas, reordered, or only removals): complete at once
      // when the target is in sync, as Kafka's controller finds it complete.
      if (started.addingReplicas!.length === 0 && replicas.every((id) => s.isr.includes(id))) {
        return endReassignment(started, replicas, live) ?? started;
      }
      return started;
    };
    try {
      if (!w.cache.topicRecords.has(topic) || !w.cache.partition(topic, partition)) {
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.");
      }
      const r = await w.updatePartition(topic, partition, change);
      if (r) revision = Math.max(revision, r.revision);
      if (refusal) throw refusal;
    } catch (e) {
      if (e instanceof KafkaError && e.code === ErrorCode.NOT_CONTROLLER) throw e;
      out.errorCode = e instanceof KafkaError ? e.code : ErrorCode.UNKNOWN_SERVER_ERROR;
      out.errorMessage = e instanceof KafkaError ? e.message || null : String(e);
    }
  }
  return { results, revision };
}

export interface OngoingReassignment {
  topic: string;
  partition: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

/** The reassignments under way (of `partitions`, or of every partition when null). */
export function listPartitionReassignments(
  cache: ClusterMetadataCache,
  partitions: { topic: string; partition: number }[] | null,
): OngoingReassignment[] {
  const targets = partitions ??
    [...cache.partitionStates].flatMap(([topic, parts]) =>
      [...parts.keys()].sort((a, b) => a - b).map((partition) => ({ topic, partition }))
    );
  const out: OngoingReassignment[] = [];
  for (const { topic, partition } of targets) {
    const s = cache.partition(topic, partition)?.state;
    if (!s || !reassignmentInProgress(s)) continue;
    out.push({
      topic,
      partition,
      replicas: [...s.replicas],
      addingReplicas: [...(s.addingReplicas ?? [])],
      removingReplicas: [...(s.removingReplicas ?? [])],
    });
  }
  return out;
}
