/**
 * Leader elections and the partition state changes the controller makes, as pure functions
 * over a PartitionState (Kafka's Election.scala, PartitionLeaderElectionAlgorithms and the
 * ZooKeeper-era ReplicaStateMachine's "remove replica from ISR"): the controller
 * (controller.ts) decides with these and writes the result by compare-and-swap.
 *
 * Every leader change bumps the leader epoch; every change at all bumps the partition epoch.
 */
import type { PartitionState } from "./cluster_records.ts";

/** Kafka's offlinePartitionLeaderElection: the first assigned replica live and in ISR; else,
 * if unclean election is allowed, the first live assigned replica (`unclean` set). */
export function offlineLeader(
  replicas: readonly number[],
  isr: readonly number[],
  live: (id: number) => boolean,
  uncleanAllowed: boolean,
): { leader: number; unclean: boolean } | null {
  const clean = replicas.find((id) => live(id) && isr.includes(id));
  if (clean !== undefined) return { leader: clean, unclean: false };
  if (!uncleanAllowed) return null;
  const any = replicas.find((id) => live(id));
  return any === undefined ? null : { leader: any, unclean: true };
}

/** Kafka's preferredReplicaPartitionLeaderElection: the first assigned replica, if live and
 * in ISR. */
export function preferredLeader(
  replicas: readonly number[],
  isr: readonly number[],
  live: (id: number) => boolean,
): number | null {
  const preferred = replicas[0];
  return preferred !== undefined && live(preferred) && isr.includes(preferred) ? preferred : null;
}

/** The state with a new leader (and ISR, if given): a new leader epoch. */
export function withLeader(s: PartitionState, leader: number, isr = s.isr): PartitionState {
  return {
    ...s,
    leader,
    isr: [...isr],
    leaderEpoch: s.leaderEpoch + 1,
    partitionEpoch: s.partitionEpoch + 1,
  };
}

/**
 * What broker liveness asks of a partition (the controller's onBrokerFailure / onBrokerStartup
 * for one partition): dead replicas leave the ISR (its last member stays, as Kafka keeps it);
 * a leader that is gone or left the ISR is replaced by offline partition leader election; an
 * offline partition whose ISR member is back gets it as leader. Null when nothing changes.
 */
export function reconcileLiveness(
  s: PartitionState,
  live: (id: number) => boolean,
  uncleanAllowed: boolean,
): PartitionState | null {
  let isr = s.isr.filter((id) => live(id));
  if (isr.length === 0) {
    // The ISR is never emptied: the last leader (or the last member) stays, so that it is the
    // one a clean election waits for.
    const keep = s.isr.includes(s.leader) ? s.leader : s.isr[s.isr.length - 1];
    isr = keep === undefined ? [] : [keep];
  }
  const leaderOk = s.leader !== -1 && live(s.leader) && isr.includes(s.leader);
  if (leaderOk) {
    if (sameMembers(isr, s.isr)) return null;
    return { ...s, isr, partitionEpoch: s.partitionEpoch + 1 };
  }
  const elected = offlineLeader(s.replicas, isr, live, uncleanAllowed);
  if (!elected) {
    if (s.leader === -1 && sameMembers(isr, s.isr)) return null;
    return withLeader(s, -1, isr);
  }
  return withLeader(s, elected.leader, elected.unclean ? [elected.leader] : isr);
}

/**
 * The start of a reassignment to `target` (Kafka's ReplicaAssignment.reassignTo, KIP-455):
 * replicas = target ∪ original (target order first), adding = target − original, removing =
 * original − target. The original replicas are those of the record without a reassignment
 * in progress (a new reassignment replaces one under way). Bumps the leader epoch, as the
 * ZooKeeper-era controller did, so the leader learns of its new followers.
 */
export function startReassignment(s: PartitionState, target: readonly number[]): PartitionState {
  const origin = originReplicas(s);
  const full = [...new Set([...target, ...origin])];
  return {
    ...s,
    replicas: full,
    addingReplicas: full.filter((id) => !origin.includes(id)),
    removingReplicas: full.filter((id) => !target.includes(id)),
    leaderEpoch: s.leaderEpoch + 1,
    partitionEpoch: s.partitionEpoch + 1,
  };
}

/** The replicas of the record before any reassignment in progress (Kafka's originReplicas). */
export function originReplicas(s: PartitionState): number[] {
  const adding = s.addingReplicas ?? [];
  return s.replicas.filter((id) => !adding.includes(id));
}

/** The target replicas of a reassignment in progress (replicas − removing). */
export function targetReplicas(s: PartitionState): number[] {
  const removing = s.removingReplicas ?? [];
  return s.replicas.filter((id) => !removing.includes(id));
}

export function reassignmentInProgress(s: PartitionState): boolean {
  return (s.addingReplicas?.length ?? 0) > 0 || (s.removingReplicas?.length ?? 0) > 0;
}

/**
 * Ends a reassignment with `replicas` as the assignment (the target on completion, the
 * original on cancellation): ISR ∩ replicas (never empty), the adding/removing lists cleared,
 * and a leader not among them (or not live) replaced by the first live in-sync replica of the
 * new assignment (Kafka's reassignPartitionLeaderElection). Always a new leader epoch, as the
 * ZooKeeper-era controller bumped it to tell the replicas. Null when no leader can be elected
 * (the reassignment then stays as it is).
 */
export function endReassignment(
  s: PartitionState,
  replicas: readonly number[],
  live: (id: number) => boolean,
): PartitionState | null {
  let isr = s.isr.filter((id) => replicas.includes(id));
  let leader = s.leader;
  if (leader === -1 || !replicas.includes(leader) || !live(leader)) {
    const elected = replicas.find((id) => live(id) && isr.includes(id));
    if (elected === undefined) return null;
    leader = elected;
  }
  if (isr.length === 0) isr = [leader];
  const { addingReplicas: _a, removingReplicas: _r, ...rest } = s;
  return {
    ...rest,
    replicas: [...replicas],
    isr,
    leader,
    leaderEpoch: s.leaderEpoch + 1,
    partitionEpoch: s.partitionEpoch + 1,
  };
}

/** Whether a reassignment in progress can complete: every target replica is in the ISR. */
export function reassignmentComplete(s: PartitionState): boolean {
  return reassignmentInProgress(s) && targetReplicas(s).every((id) => s.isr.includes(id));
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
