/**
 * The leadership facts request handlers need (src/services.ts): who leads a partition, where
 * the brokers are, who the controller is, and whether a partition request may be served here.
 * Alone, this broker leads everything at leader epoch 0 and is its own controller; in a
 * cluster, the ClusterNode's metadata answers.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import type { ClusterNode } from "./cluster_node.ts";
import type {
  BrokerEndpoint,
  Leadership,
  LeadershipChange,
  PartitionLeader,
} from "./leadership.ts";
import { LocalLeadership } from "./leadership.ts";

export interface PartitionLeadership extends Leadership {
  /** Whether this broker is a member of a multi-broker cluster. */
  readonly clustered: boolean;
  /** The controller's node id, -1 while none is elected. */
  readonly controllerId: number;
  /** Replicas of a partition, and those of them offline. */
  replicasOf(topic: string, partition: number): { replicas: number[]; isr: number[] };
  /**
   * 0 when this broker leads the partition at `currentLeaderEpoch` (-1: any), else the error:
   * NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH.
   */
  leaderError(topic: string, partition: number, currentLeaderEpoch: number): number;
}

/** The single broker: every partition is led here at epoch 0. */
export class SingleBrokerLeadership implements PartitionLeadership {
  readonly clustered = false;
  constructor(private readonly self: () => BrokerEndpoint) {}

  private get local(): LocalLeadership {
    return new LocalLeadership(this.self());
  }

  get localNodeId(): number {
    return this.self().nodeId;
  }

  get controllerId(): number {
    return this.self().nodeId;
  }

  leaderOf(topic: string, partition: number): PartitionLeader {
    return this.local.leaderOf(topic, partition);
  }

  broker(nodeId: number): BrokerEndpoint | undefined {
    return this.local.broker(nodeId);
  }

  brokers(): BrokerEndpoint[] {
    return this.local.brokers();
  }

  onChange(_listener: (change: LeadershipChange) => void): () => void {
    return () => {};
  }

  replicasOf(): { replicas: number[]; isr: number[] } {
    const id = this.self().nodeId;
    return { replicas: [id], isr: [id] };
  }

  leaderError(_topic: string, _partition: number, currentLeaderEpoch: number): number {
    return currentLeaderEpoch > 0 ? ErrorCode.UNKNOWN_LEADER_EPOCH : 0;
  }
}

/** A cluster member: the metadata learned from the store. */
export class ClusterLeadership implements PartitionLeadership {
  readonly clustered = true;
  constructor(private readonly node: ClusterNode) {}

  get localNodeId(): number {
    return this.node.nodeId;
  }

  get controllerId(): number {
    return this.node.cache.controllerId;
  }

  leaderOf(topic: string, partition: number): PartitionLeader | undefined {
    return this.node.cache.leaderOf(topic, partition);
  }

  broker(nodeId: number): BrokerEndpoint | undefined {
    return this.node.cache.broker(nodeId);
  }

  brokers(): BrokerEndpoint[] {
    return this.node.cache.brokers();
  }

  onChange(listener: (change: LeadershipChange) => void): () => void {
    return this.node.cache.onChange(listener);
  }

  replicasOf(topic: string, partition: number): { replicas: number[]; isr: number[] } {
    const s = this.node.cache.partition(topic, partition)?.state;
    return s ? { replicas: s.replicas, isr: s.isr } : { replicas: [], isr: [] };
  }

  leaderError(topic: string, partition: number, currentLeaderEpoch: number): number {
    return this.node.leaderError(topic, partition, currentLeaderEpoch);
  }
}

/**
 * A leadership view given from outside (tests, embedders): partitions it names are led where
 * it says; partitions it does not know are this broker's, at epoch 0.
 */
export class GivenLeadership implements PartitionLeadership {
  readonly clustered = false;
  constructor(private readonly view: Leadership) {}

  get localNodeId(): number {
    return this.view.localNodeId;
  }

  get controllerId(): number {
    return this.view.localNodeId;
  }

  leaderOf(topic: string, partition: number): PartitionLeader | undefined {
    return this.view.leaderOf(topic, partition);
  }

  broker(nodeId: number): BrokerEndpoint | undefined {
    return this.view.broker(nodeId);
  }

  brokers(): BrokerEndpoint[] {
    return this.view.brokers();
  }

  onChange(listener: (change: LeadershipChange) => void): () => void {
    return this.view.onChange(listener);
  }

  replicasOf(topic: string, partition: number): { replicas: number[]; isr: number[] } {
    const id = this.view.leaderOf(topic, partition)?.leaderId ?? this.view.localNodeId;
    return id < 0 ? { replicas: [], isr: [] } : { replicas: [id], isr: [id] };
  }

  leaderError(topic: string, partition: number, currentLeaderEpoch: number): number {
    const l = this.view.leaderOf(topic, partition);
    if (!l) return currentLeaderEpoch > 0 ? ErrorCode.UNKNOWN_LEADER_EPOCH : 0;
    if (l.leaderId < 0) return ErrorCode.LEADER_NOT_AVAILABLE;
    if (l.leaderId !== this.view.localNodeId) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < l.leaderEpoch) {
      return ErrorCode.FENCED_LEADER_EPOCH;
    }
    if (currentLeaderEpoch > l.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
    return 0;
  }
}
