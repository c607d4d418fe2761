/**
 * ElectLeaders and partition reassignments as the broker serves them: in a cluster, by the
 * controller (src/cluster/controller_operations.ts, forwarded to it by the ClusterNode);
 * alone, as Kafka with one replica per partition: every leader is already the preferred one
 * (ELECTION_NOT_NEEDED), no reassignment is ever under way, and a reassignment can only
 * name this broker (others are not alive: INVALID_REPLICA_ASSIGNMENT).
 */
import { ErrorCode } from "../protocol/errors.ts";
import type { TopicMetadata } from "../storage/log_manager.ts";
import type { ClusterNode } from "./cluster/cluster_node.ts";
import {
  checkReassignmentTarget,
  listPartitionReassignments,
  type OngoingReassignment,
  type PartitionResult,
} from "./cluster/controller_operations.ts";
import type { ReplicaAdminApi } from "./services.ts";

const NO_PARTITION = "The partition does not exist.";

export class SingleBrokerReplicaAdmin implements ReplicaAdminApi {
  constructor(
    private readonly topic: (name: string) => TopicMetadata | undefined,
    private readonly nodeId: number,
  ) {}

  private exists(topic: string, p: number): boolean {
    const t = this.topic(topic);
    return t !== undefined && Number.isInteger(p) && p >= 0 && p < t.partitions;
  }

  electLeaders(
    _type: number,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<PartitionResult[]> {
    // Asked for all: only partitions that needed an election are answered; none do.
    if (partitions === null) return Promise.resolve([]);
    return Promise.resolve(
      partitions.map(({ topic, partition }) =>
        this.exists(topic, partition)
          ? {
            topic,
            partition,
            errorCode: ErrorCode.ELECTION_NOT_NEEDED,
            errorMessage: "Leader election not needed for topic partition.",
          }
          : {
            topic,
            partition,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: NO_PARTITION,
          }
      ),
    );
  }

  alterPartitionReassignments(
    requests: { topic: string; partition: number; replicas: number[] | null }[],
  ): Promise<PartitionResult[]> {
    const self = this.nodeId;
    return Promise.resolve(requests.map(({ topic, partition, replicas }): PartitionResult => {
      const out = { topic, partition, errorCode: 0, errorMessage: null as string | null };
      if (!this.exists(topic, partition)) {
        return {
          ...out,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: NO_PARTITION,
        };
      }
      if (replicas === null) {
        return {
          ...out,
          errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
          errorMessage: "No partition reassignment is in progress for this topic-partition.",
        };
      }
      const state = {
        leader: self,
        leaderEpoch: 0,
        replicas: [self],
        isr: [self],
        partitionEpoch: 0,
      };
      const bad = checkReassignmentTarget(replicas, state, [self]);
      // [self] is the assignment already: complete at once.
      return bad ? { ...out, errorCode: bad.code, errorMessage: bad.message } : out;
    }));
  }

  listPartitionReassignments(): OngoingReassignment[] {
    return [];
  }
}

export class ClusterReplicaAdmin implements ReplicaAdminApi {
  constructor(private readonly node: ClusterNode) {}

  electLeaders(
    type: number,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<PartitionResult[]> {
    return this.node.electLeaders(type, partitions);
  }

  alterPartitionReassignments(
    requests: { topic: string; partition: number; replicas: number[] | null }[],
  ): Promise<PartitionResult[]> {
    return this.node.alterPartitionReassignments(requests);
  }

  listPartitionReassignments(
    partitions: { topic: string; partition: number }[] | null,
  ): OngoingReassignment[] {
    return listPartitionReassignments(this.node.cache, partitions);
  }
}
