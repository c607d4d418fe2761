/**
 * Where a new topic's or new partitions' replicas go: the replication factor or the manual
 * assignments a client asked for, checked against the live brokers with Kafka's errors and
 * messages (INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT), and the placement
 * itself (replica_assignment.ts). Used by the controller, and by the handlers and TopicAdmin
 * to refuse early (validateOnly, and a single broker).
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { assignReplicas, type BrokerPlacement } from "./replica_assignment.ts";

/** How a topic's replicas are to be placed. */
export interface TopicPlacement {
  /** Replicas per partition; -1 for `default.replication.factor` (resolved by TopicAdmin). */
  replicationFactor: number;
  /** Manual assignments, one replica list per partition in partition order; wins over rf. */
  assignments?: number[][] | null;
  /**
   * The internal topics at first creation: a replication factor above the live brokers is
   * lowered to their number (so a cluster's first broker can host the coordinators).
   */
  capToLiveBrokers?: boolean;
}

/** Kafka's check of a replication factor given with CreateTopics. */
export function checkReplicationFactor(rf: number, liveBrokers: number): void {
  if (!Number.isInteger(rf) || rf < 1) {
    throw new KafkaError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      "Replication factor must be larger than 0, or -1 to use the default value.",
    );
  }
  if (rf > liveBrokers) {
    throw new KafkaError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Replication factor: ${rf} larger than available brokers: ${liveBrokers}.`,
    );
  }
}

/** Kafka's checks of CreateTopics' manual assignments (one list per partition, in order). */
export function checkTopicAssignments(assignments: number[][], live: ReadonlySet<number>): void {
  const invalid = (m: string) => new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, m);
  for (const replicas of assignments) {
    if (replicas.length === 0) {
      throw invalid(`The manual partition assignment includes an empty replica list.`);
    }
    if (new Set(replicas).size !== replicas.length) {
      throw invalid(
        `The manual partition assignment includes the broker ${
          replicas.find((id, i) => replicas.indexOf(id) !== i)
        } more than once.`,
      );
    }
    for (const id of replicas) {
      if (!live.has(id)) {
        throw invalid(
          `The manual partition assignment includes broker ${id}, but no such broker is registered.`,
        );
      }
    }
    if (replicas.length !== assignments[0].length) {
      throw invalid(
        `The manual partition assignment includes a partition with ${replicas.length} ` +
          `replica(s), but this is not consistent with previous partitions, which have ` +
          `${assignments[0].length} replica(s).`,
      );
    }
  }
}

/**
 * Kafka's checks of CreatePartitions' assignments (AdminZkClient.validateReplicaAssignment):
 * one per new partition, the topic's replication factor, no duplicates, live brokers only.
 */
export function checkNewPartitionAssignments(
  assignments: number[][],
  adding: number,
  existingRf: number,
  live: ReadonlySet<number>,
): void {
  const invalid = (m: string) => new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, m);
  if (assignments.length !== adding) {
    throw invalid(
      `Increasing the number of partitions by ${adding} but ${assignments.length} assignments provided.`,
    );
  }
  const badRf = assignments.filter((r) => r.length !== existingRf);
  if (existingRf > 0 && badRf.length > 0) {
    throw invalid(
      `Inconsistent replication factor between partitions, partition 0 has ${existingRf} ` +
        `while partitions [${
          assignments.flatMap((r, i) => r.length !== existingRf ? [i] : []).join(", ")
        }] have replication factors [${badRf.map((r) => r.length).join(", ")}], respectively.`,
    );
  }
  for (const replicas of assignments) {
    if (new Set(replicas).size !== replicas.length) {
      throw invalid(`Duplicate brokers not allowed in replica assignment: ${replicas.join(", ")}.`);
    }
  }
  const unknown = [...new Set(assignments.flat().filter((id) => !live.has(id)))];
  if (unknown.length > 0) {
    throw invalid(`Unknown broker(s) in replica assignment: ${unknown.join(", ")}.`);
  }
}

/** The replica lists of a new topic's partitions under `placement`, over the live brokers. */
export function placeTopic(
  live: BrokerPlacement[],
  partitions: number,
  placement: TopicPlacement,
): number[][] {
  if (placement.assignments && placement.assignments.length > 0) {
    checkTopicAssignments(placement.assignments, new Set(live.map((b) => b.nodeId)));
    return placement.assignments.map((r) => [...r]);
  }
  let rf = placement.replicationFactor;
  if (placement.capToLiveBrokers) rf = Math.max(1, Math.min(rf, live.length));
  checkReplicationFactor(rf, live.length);
  return assignReplicas(live, partitions, rf);
}
