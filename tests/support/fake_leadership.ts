/**
 * A Leadership a test drives by hand: every partition is led by `defaultLeader` unless moved
 * with `move()`, which also tells the listeners, as cluster mode's metadata watch would.
 * Several in-process brokers can share one table (each with its own `localNodeId`).
 */
import type {
  BrokerEndpoint,
  Leadership,
  LeadershipChange,
  PartitionLeader,
} from "../../src/cluster/leadership.ts";

/** The table shared by the brokers of one test. */
export class LeadershipTable {
  readonly endpoints = new Map<number, BrokerEndpoint>();
  private readonly leaders = new Map<string, PartitionLeader>();
  private readonly listeners = new Set<(c: LeadershipChange) => void>();

  /** Topics the metadata does not know (leaderOf answers undefined for them). */
  readonly unknownTopics = new Set<string>();

  constructor(public defaultLeader: number) {}

  /** Registers (or updates) a broker's endpoint. */
  register(nodeId: number, host: string, port: number): void {
    this.endpoints.set(nodeId, { nodeId, host, port, rack: null });
  }

  leaderOf(topic: string, partition: number): PartitionLeader | undefined {
    if (this.unknownTopics.has(topic)) return undefined;
    return this.leaders.get(`${topic}\u0000${partition}`) ??
      { leaderId: this.defaultLeader, leaderEpoch: 0 };
  }

  /** Moves a partition to `leaderId` (-1: no leader) with the next leader epoch. */
  move(topic: string, partition: number, leaderId: number): void {
    const epoch = (this.leaderOf(topic, partition)?.leaderEpoch ?? -1) + 1;
    const leader = { leaderId, leaderEpoch: epoch };
    this.leaders.set(`${topic}\u0000${partition}`, leader);
    for (const l of [...this.listeners]) l({ topic, partition, leader });
  }

  /** One broker's view of the table. */
  viewFor(localNodeId: number): Leadership {
    // deno-lint-ignore no-this-alias
    const table = this;
    return {
      localNodeId,
      leaderOf: (t, p) => table.leaderOf(t, p),
      broker: (id) => table.endpoints.get(id),
      brokers: () => [...table.endpoints.values()],
      onChange(listener) {
        table.listeners.add(listener);
        return () => table.listeners.delete(listener);
      },
    };
  }
}
