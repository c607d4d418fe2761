/**
 * The replication view of the admin API, the console and /metrics, read from the broker's
 * partition leadership (the cluster metadata in etcd, or the single broker's own): per
 * partition its leader, leader epoch, replicas, ISR, offline replicas and whether it is
 * under-replicated, under or at min.insync.replicas, or offline; per broker the partitions it
 * leads and holds. The Prometheus gauges follow Kafka's ReplicaManager and controller
 * metrics: UnderReplicatedPartitions, UnderMinIsrPartitionCount and AtMinIsrPartitionCount
 * count the partitions this broker leads; OfflinePartitionsCount is reported by the active
 * controller only (0 elsewhere), ActiveControllerCount is 1 on the controller.
 */
import type { TopicMetadata } from "../../storage/log_manager.ts";
import type { AdminHost } from "./admin_host.ts";

export interface PartitionReplication {
  /** -1 while no live replica leads. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  /** Assigned replicas whose broker is not live (Metadata's offline_replicas). */
  offlineReplicas: number[];
  /** The effective min.insync.replicas of the topic. */
  minInsyncReplicas: number;
  /** Fewer in-sync replicas than assigned ones. */
  underReplicated: boolean;
  /** Fewer in-sync replicas than min.insync.replicas (acks=all produce fails). */
  underMinIsr: boolean;
  /** Exactly min.insync.replicas in sync (one more loss stops acks=all produce). */
  atMinIsr: boolean;
  /** No live leader. */
  offline: boolean;
}

/** The topic's min.insync.replicas: its override, else the broker's. */
export function minInsyncReplicas(host: AdminHost, t: TopicMetadata): number {
  const own = t.configs["min.insync.replicas"];
  if (own !== undefined && own !== null && Number.isInteger(Number(own))) return Number(own);
  return host.services.config.int("min.insync.replicas");
}

export function partitionReplication(
  host: AdminHost,
  t: TopicMetadata,
  partition: number,
  live: ReadonlySet<number> = liveBrokers(host),
): PartitionReplication {
  const leadership = host.services.leadership;
  const { replicas, isr } = leadership.replicasOf(t.name, partition);
  const l = leadership.leaderOf(t.name, partition);
  const leader = l?.leaderId ?? -1;
  const minIsr = minInsyncReplicas(host, t);
  return {
    leader,
    leaderEpoch: l?.leaderEpoch ?? -1,
    replicas,
    isr,
    offlineReplicas: replicas.filter((r) => !live.has(r)),
    minInsyncReplicas: minIsr,
    underReplicated: isr.length < replicas.length,
    underMinIsr: isr.length < minIsr,
    atMinIsr: isr.length === minIsr,
    offline: leader < 0 || !live.has(leader),
  };
}

export function liveBrokers(host: AdminHost): Set<number> {
  return new Set(host.services.leadership.brokers().map((b) => b.nodeId));
}

export interface ReplicationSummary {
  /** Partitions of the whole cluster, and those under-replicated, under min ISR, offline. */
  partitions: number;
  underReplicatedPartitions: number;
  underMinIsrPartitions: number;
  offlinePartitions: number;
  /** Per live or assigned broker: partitions it leads and replicas it is assigned. */
  brokers: { brokerId: number; live: boolean; leaderCount: number; replicaCount: number }[];
  /** Kafka's per-broker gauges, for the partitions this broker leads. */
  local: {
    leaderCount: number;
    underReplicatedPartitions: number;
    underMinIsrPartitionCount: number;
    atMinIsrPartitionCount: number;
    /** Reported by the active controller only (Kafka's OfflinePartitionsCount). */
    offlinePartitionsCount: number;
    activeControllerCount: number;
  };
}

/** Every partition's replication state, summed cluster-wide and for this broker. */
export function replicationSummary(host: AdminHost): ReplicationSummary {
  const leadership = host.services.leadership;
  const self = leadership.localNodeId;
  const live = liveBrokers(host);
  const perBroker = new Map<number, { leaderCount: number; replicaCount: number }>();
  for (const id of live) perBroker.set(id, { leaderCount: 0, replicaCount: 0 });
  const entry = (id: number) => {
    let e = perBroker.get(id);
    if (!e) perBroker.set(id, e = { leaderCount: 0, replicaCount: 0 });
    return e;
  };
  let partitions = 0, under = 0, underMin = 0, offline = 0;
  const local = {
    leaderCount: 0,
    underReplicatedPartitions: 0,
    underMinIsrPartitionCount: 0,
    atMinIsrPartitionCount: 0,
    offlinePartitionsCount: 0,
    activeControllerCount: leadership.controllerId === self ? 1 : 0,
  };
  for (const t of host.topics()) {
    for (let p = 0; p < t.partitions; p++) {
      const r = partitionReplication(host, t, p, live);
      partitions++;
      if (r.underReplicated) under++;
      if (r.underMinIsr) underMin++;
      if (r.offline) offline++;
      for (const id of r.replicas) entry(id).replicaCount++;
      if (r.leader >= 0 && !r.offline) entry(r.leader).leaderCount++;
      if (r.leader === self && !r.offline) {
        local.leaderCount++;
        if (r.underReplicated) local.underReplicatedPartitions++;
        if (r.underMinIsr) local.underMinIsrPartitionCount++;
        if (r.atMinIsr) local.atMinIsrPartitionCount++;
      }
    }
  }
  if (local.activeControllerCount === 1) local.offlinePartitionsCount = offline;
  return {
    partitions,
    underReplicatedPartitions: under,
    underMinIsrPartitions: underMin,
    offlinePartitions: offline,
    brokers: [...perBroker].sort((a, b) => a[0] - b[0]).map(([brokerId, e]) => ({
      brokerId,
      live: live.has(brokerId),
      ...e,
    })),
    local,
  };
}
