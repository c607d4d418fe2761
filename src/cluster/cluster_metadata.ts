/**
 * One broker's view of the cluster, learned by watching the metadata store: the live brokers,
 * the controller, every topic and every partition's state. It is the cluster-mode
 * `Leadership` (who leads what, at which epoch, and where the brokers are) and what Metadata,
 * DescribeCluster and the leader checks of Produce, Fetch, ListOffsets and
 * OffsetForLeaderEpoch answer from (Kafka's KRaftMetadataCache). Applying events is
 * synchronous; the broker's own follow-up (opening and dropping logs) is the node's business.
 */
import {
  type BrokerRegistration,
  BROKERS_PREFIX,
  CLUSTER_ID_KEY,
  CONTROLLER_KEY,
  type ControllerRecord,
  jsonOf,
  parsePartitionKey,
  type PartitionState,
  type TopicRecord,
  TOPICS_PREFIX,
} from "./cluster_records.ts";
import type {
  BrokerEndpoint,
  Leadership,
  LeadershipChange,
  PartitionLeader,
} from "./leadership.ts";
import type { KeyValue, WatchEvent } from "./metadata_store.ts";
import { valueText } from "./metadata_store.ts";
import { log } from "../log.ts";

/** A partition's state with the store revision it was written at (for CAS). */
export interface PartitionEntry {
  state: PartitionState;
  modRevision: number;
}

export class ClusterMetadataCache implements Leadership {
  readonly liveBrokers = new Map<number, BrokerRegistration>();
  /** The store revision at which each live broker's registration was created. */
  readonly registeredAt = new Map<number, number>();
  readonly topicRecords = new Map<string, TopicRecord & { modRevision: number }>();
  /** Per topic, per partition index. */
  readonly partitionStates = new Map<string, Map<number, PartitionEntry>>();
  controller: (ControllerRecord & { modRevision: number }) | null = null;
  clusterId: string | null = null;
  /** The store revision everything here reflects. */
  revision = 0;
  private readonly listeners = new Set<(change: LeadershipChange) => void>();
  /** Topics where this broker gained or lost a replica since takeHostedChanges(). */
  private readonly hostedChanges = new Set<string>();

  constructor(readonly localNodeId: number) {}

  /** Replaces everything with a range read of the whole prefix. */
  load(kvs: KeyValue[], revision: number): void {
    this.liveBrokers.clear();
    this.registeredAt.clear();
    this.topicRecords.clear();
    this.partitionStates.clear();
    this.controller = null;
    for (const kv of kvs) this.put(kv, false);
    this.revision = revision;
  }

  /** Applies watch events in order. */
  apply(events: WatchEvent[]): void {
    for (const ev of events) {
      if (ev.type === "put") this.put(ev.kv, true);
      else this.remove(ev.kv.key);
      if (ev.kv.modRevision > this.revision) this.revision = ev.kv.modRevision;
    }
  }

  private put(kv: KeyValue, notify: boolean): void {
    const key = kv.key;
    try {
      if (key === CLUSTER_ID_KEY) this.clusterId = valueText(kv);
      else if (key === CONTROLLER_KEY) {
        this.controller = { ...jsonOf<ControllerRecord>(kv), modRevision: kv.modRevision };
      } else if (key.startsWith(BROKERS_PREFIX)) {
        const b = jsonOf<BrokerRegistration>(kv);
        this.liveBrokers.set(b.nodeId, b);
        this.registeredAt.set(b.nodeId, kv.createRevision);
      } else if (key.startsWith(TOPICS_PREFIX)) {
        const t = jsonOf<TopicRecord>(kv);
        this.topicRecords.set(t.name, { ...t, modRevision: kv.modRevision });
      } else {
        const at = parsePartitionKey(key);
        if (!at) return;
        const state = jsonOf<PartitionState>(kv);
        let m = this.partitionStates.get(at.topic);
        if (!m) this.partitionStates.set(at.topic, m = new Map());
        const before = m.get(at.partition)?.state;
        m.set(at.partition, { state, modRevision: kv.modRevision });
        if (
          notify && before &&
          before.replicas.includes(this.localNodeId) !== state.replicas.includes(this.localNodeId)
        ) this.hostedChanges.add(at.topic);
        if (
          notify && (before?.leader !== state.leader || before?.leaderEpoch !== state.leaderEpoch)
        ) {
          this.emit({
            topic: at.topic,
            partition: at.partition,
            leader: { leaderId: state.leader, leaderEpoch: state.leaderEpoch },
          });
        }
      }
    } catch (e) {
      log.warn(`metadata store key ${key} holds no valid record, ignored: ${e}`);
    }
  }

  private remove(key: string): void {
    if (key === CONTROLLER_KEY) this.controller = null;
    else if (key.startsWith(BROKERS_PREFIX)) {
      const id = Number(key.slice(BROKERS_PREFIX.length));
      this.liveBrokers.delete(id);
      this.registeredAt.delete(id);
    } else if (key.startsWith(TOPICS_PREFIX)) {
      this.topicRecords.delete(key.slice(TOPICS_PREFIX.length));
    } else {
      const at = parsePartitionKey(key);
      if (!at) return;
      const m = this.partitionStates.get(at.topic);
      m?.delete(at.partition);
      if (m && m.size === 0) this.partitionStates.delete(at.topic);
    }
  }

  private emit(change: LeadershipChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (e) {
        log.warn(`leadership listener failed: ${e}`);
      }
    }
  }

  partition(topic: string, p: number): PartitionEntry | undefined {
    return this.partitionStates.get(topic)?.get(p);
  }

  /** The topics where this broker gained or lost a replica since the last call. */
  takeHostedChanges(): string[] {
    const out = [...this.hostedChanges];
    this.hostedChanges.clear();
    return out;
  }

  /** Whether this broker holds a replica of the partition (and so keeps its log). */
  hostsReplica(topic: string, p: number): boolean {
    return this.partition(topic, p)?.state.replicas.includes(this.localNodeId) ?? false;
  }

  get controllerId(): number {
    return this.controller?.nodeId ?? -1;
  }

  // ---- Leadership ---------------------------------------------------------------------

  leaderOf(topic: string, partition: number): PartitionLeader | undefined {
    const s = this.partition(topic, partition)?.state;
    return s ? { leaderId: s.leader, leaderEpoch: s.leaderEpoch } : undefined;
  }

  broker(nodeId: number): BrokerEndpoint | undefined {
    const b = this.liveBrokers.get(nodeId);
    return b ? { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack } : undefined;
  }

  brokers(): BrokerEndpoint[] {
    return [...this.liveBrokers.keys()].sort((a, b) => a - b).map((id) => this.broker(id)!);
  }

  onChange(listener: (change: LeadershipChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
