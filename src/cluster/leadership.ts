/**
 * Partition leadership as request handling sees it: which broker leads a partition, at which
 * leader epoch, and the brokers' addresses. A single broker leads everything it holds (the
 * `LocalLeadership` here); in cluster mode the metadata learned from the store answers. The
 * coordinators use it to find the broker that owns a `__consumer_offsets` or
 * `__transaction_state` partition, and to load and unload what this broker gains and loses.
 */
import type { ListenerEndpoint } from "./listener_endpoints.ts";

export interface BrokerEndpoint {
  nodeId: number;
  /** Its first listener's address. */
  host: string;
  port: number;
  rack: string | null;
  /** Every listener's endpoint, where the cluster registration lists them. */
  listeners?: readonly ListenerEndpoint[];
}

export interface PartitionLeader {
  /** The leader's node id, or -1 while no live broker leads (LEADER_NOT_AVAILABLE). */
  leaderId: number;
  leaderEpoch: number;
}

/** A change of leadership of one partition, as seen by this broker. */
export interface LeadershipChange {
  topic: string;
  partition: number;
  leader: PartitionLeader;
}

export interface Leadership {
  /** This broker's node id. */
  readonly localNodeId: number;
  /** The leader of a partition, or undefined for a partition the metadata does not know. */
  leaderOf(topic: string, partition: number): PartitionLeader | undefined;
  /** A live broker's endpoint, or undefined. */
  broker(nodeId: number): BrokerEndpoint | undefined;
  /** Every live broker. */
  brokers(): BrokerEndpoint[];
  /** Calls `listener` on each change of leadership; returns a function that stops it. */
  onChange(listener: (change: LeadershipChange) => void): () => void;
}

/** One broker leading every partition it has, at leader epoch 0. */
export class LocalLeadership implements Leadership {
  constructor(private readonly self: BrokerEndpoint) {}

  get localNodeId(): number {
    return this.self.nodeId;
  }

  leaderOf(_topic: string, _partition: number): PartitionLeader {
    return { leaderId: this.self.nodeId, leaderEpoch: 0 };
  }

  broker(nodeId: number): BrokerEndpoint | undefined {
    return nodeId === this.self.nodeId ? this.self : undefined;
  }

  brokers(): BrokerEndpoint[] {
    return [this.self];
  }

  onChange(_listener: (change: LeadershipChange) => void): () => void {
    return () => {};
  }
}
