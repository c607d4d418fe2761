/**
 * Replica placement for new topics and partitions, Kafka's AdminUtils.assignReplicasToBrokers:
 * round-robin over the brokers sorted by id from a random start, the further replicas shifted
 * so that the followers of one broker's partitions spread over the others; rack-aware when
 * every broker has a rack (the brokers alternated by rack, no two replicas on one rack while
 * another rack has none).
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";

export interface BrokerPlacement {
  nodeId: number;
  rack: string | null;
}

export interface AssignmentOptions {
  /** The first new partition's index (CreatePartitions continues a topic's numbering). */
  startPartition?: number;
  /** Picks the random start and shift: an integer in [0, n). */
  random?: (n: number) => number;
}

const defaultRandom = (n: number) => Math.floor(Math.random() * n);

function replicaIndex(first: number, shift: number, j: number, n: number): number {
  return (first + 1 + (shift + j) % (n - 1)) % n;
}

/** The brokers ordered rack by rack: one of each rack in turn (getRackAlternatedBrokerList). */
export function rackAlternated(brokers: BrokerPlacement[]): BrokerPlacement[] {
  const byRack = new Map<string, BrokerPlacement[]>();
  for (const b of [...brokers].sort((a, b) => a.nodeId - b.nodeId)) {
    const list = byRack.get(b.rack!) ?? [];
    list.push(b);
    byRack.set(b.rack!, list);
  }
  const racks = [...byRack.keys()].sort();
  const out: BrokerPlacement[] = [];
  for (let i = 0; out.length < brokers.length; i++) {
    for (const r of racks) {
      const b = byRack.get(r)![i];
      if (b) out.push(b);
    }
  }
  return out;
}

/** Replica lists (the first is the preferred leader) of `partitions` new partitions. */
export function assignReplicas(
  brokers: BrokerPlacement[],
  partitions: number,
  replicationFactor: number,
  opts: AssignmentOptions = {},
): number[][] {
  const n = brokers.length;
  if (replicationFactor < 1) {
    throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, "replication factor must be ≥ 1");
  }
  if (replicationFactor > n) {
    throw new KafkaError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Replication factor: ${replicationFactor} larger than available brokers: ${n}.`,
    );
  }
  const withRack = brokers.filter((b) => b.rack !== null).length;
  if (withRack !== 0 && withRack !== n) {
    throw new KafkaError(
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      "Not all brokers have rack information for replica rack aware assignment.",
    );
  }
  const random = opts.random ?? defaultRandom;
  const rackAware = withRack === n;
  const arranged = rackAware
    ? rackAlternated(brokers)
    : [...brokers].sort((a, b) => a.nodeId - b.nodeId);
  const numRacks = rackAware ? new Set(brokers.map((b) => b.rack)).size : 1;
  const startIndex = random(n);
  let shift = random(n);
  let current = Math.max(0, opts.startPartition ?? 0);
  const out: number[][] = [];
  for (let i = 0; i < partitions; i++, current++) {
    if (current > 0 && current % n === 0) shift++;
    const first = (current + startIndex) % n;
    const leader = arranged[first];
    const replicas = [leader.nodeId];
    if (!rackAware) {
      for (let j = 0; j < replicationFactor - 1; j++) {
        replicas.push(arranged[replicaIndex(first, shift, j, n)].nodeId);
      }
    } else {
      const racks = new Set([leader.rack]);
      const used = new Set([leader.nodeId]);
      let k = 0;
      for (let j = 0; j < replicationFactor - 1; j++) {
        for (;;) {
          const b = arranged[replicaIndex(first, shift * numRacks, k++, n)];
          const rackOk = !racks.has(b.rack) || racks.size === numRacks;
          const brokerOk = !used.has(b.nodeId) || used.size === n;
          if (rackOk && brokerOk) {
            replicas.push(b.nodeId);
            racks.add(b.rack);
            used.add(b.nodeId);
            break;
          }
        }
      }
    }
    out.push(replicas);
  }
  return out;
}
