/**
 * The leader's side of one replicated partition, as Kafka's `Partition` keeps it while this
 * broker leads: each follower's replica state (its log end offset as its last fetch said,
 * when it last fetched, when it was last caught up), the ISR (the one written in the metadata
 * store, plus an ISR change in flight), and the rules that follow from them: the high
 * watermark is the smallest log end offset over the ISR (leader included), a follower out of
 * the ISR rejoins once it reaches the high watermark and this leader epoch's start offset,
 * and a follower in it leaves once it has not been caught up for `replica.lag.time.max.ms`.
 * Pure state and arithmetic: the caller reads the log and writes the ISR.
 */

/** Kafka's ReplicaState, for one follower. */
export interface FollowerState {
  readonly replicaId: number;
  /** Its log end offset, as its last fetch offset said; -1 while unknown. */
  logEndOffset: number;
  lastFetchTimeMs: number;
  /** The leader's log end offset at that last fetch (Kafka's lastFetchLeaderLogEndOffset). */
  lastFetchLeaderLogEndOffset: number;
  /** The last time it had everything the leader had (-1: never, since becoming leader). */
  lastCaughtUpTimeMs: number;
}

/** An ISR change being written (Kafka's PendingExpandIsr / PendingShrinkIsr). */
export interface PendingIsr {
  isr: number[];
}

export class LeaderPartition {
  readonly followers = new Map<number, FollowerState>();
  /** The ISR as the metadata store holds it. */
  isr: number[];
  pending: PendingIsr | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly localId: number,
    readonly leaderEpoch: number,
    public replicas: number[],
    isr: number[],
    /** The log end offset when this epoch began (Kafka's leaderEpochStartOffsetOpt). */
    readonly leaderEpochStartOffset: number,
    now: number,
  ) {
    this.isr = [...isr];
    this.resetFollowers(now);
  }

  /**
   * On becoming leader every follower's offset is unknown; those in the ISR count as caught
   * up now, so they get `replica.lag.time.max.ms` to fetch before they are dropped.
   */
  private resetFollowers(now: number): void {
    for (const id of this.replicas) {
      if (id === this.localId) continue;
      this.followers.set(id, {
        replicaId: id,
        logEndOffset: -1,
        lastFetchTimeMs: -1,
        lastFetchLeaderLogEndOffset: -1,
        lastCaughtUpTimeMs: this.isr.includes(id) ? now : -1,
      });
    }
  }

  /** Replicas changed (reassignment): new ones start unknown, removed ones are forgotten. */
  setReplicas(replicas: number[], now: number): void {
    this.replicas = [...replicas];
    for (const id of [...this.followers.keys()]) {
      if (!replicas.includes(id)) this.followers.delete(id);
    }
    for (const id of replicas) {
      if (id === this.localId || this.followers.has(id)) continue;
      this.followers.set(id, {
        replicaId: id,
        logEndOffset: -1,
        lastFetchTimeMs: -1,
        lastFetchLeaderLogEndOffset: -1,
        lastCaughtUpTimeMs: -1,
      });
    }
    void now;
  }

  /** The ISR to count for the high watermark: the written one and any being added. */
  get maximalIsr(): number[] {
    if (!this.pending) return this.isr;
    return [...new Set([...this.isr, ...this.pending.isr])];
  }

  /**
   * Kafka's Replica.updateFetchStateOrThrow: a fetch at `fetchOffset` means the follower holds
   * everything before it. Caught up when it reached the leader's log end offset now, or the
   * one of its previous fetch (it fetched everything there was then).
   */
  updateFollowerFetchState(
    replicaId: number,
    fetchOffset: number,
    leaderLogEndOffset: number,
    now: number,
  ): boolean {
    const f = this.followers.get(replicaId);
    if (!f) return false;
    if (fetchOffset >= leaderLogEndOffset) {
      f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, now);
    } else if (fetchOffset >= f.lastFetchLeaderLogEndOffset && f.lastFetchLeaderLogEndOffset >= 0) {
      f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs);
    }
    f.logEndOffset = fetchOffset;
    f.lastFetchLeaderLogEndOffset = leaderLogEndOffset;
    f.lastFetchTimeMs = now;
    return true;
  }

  /**
   * Kafka's maybeIncrementLeaderHW: the smallest log end offset over the maximal ISR, the
   * leader's included; never below the current HW (the caller's log clamps).
   */
  highWatermarkCandidate(leaderLogEndOffset: number): number {
    let hw = leaderLogEndOffset;
    for (const id of this.maximalIsr) {
      if (id === this.localId) continue;
      const f = this.followers.get(id);
      const leo = f ? f.logEndOffset : -1;
      if (leo < hw) hw = leo;
    }
    return hw;
  }

  /**
   * Kafka's isFollowerInSync for an expansion: a replica not in the ISR whose log end offset
   * reached the high watermark and the start of this leader epoch. The new ISR, or null.
   */
  expandedIsr(replicaId: number, highWatermark: number): number[] | null {
    if (this.pending) return null;
    if (this.isr.includes(replicaId) || !this.replicas.includes(replicaId)) return null;
    const f = this.followers.get(replicaId);
    if (!f || f.logEndOffset < 0) return null;
    if (f.logEndOffset < highWatermark || f.logEndOffset < this.leaderEpochStartOffset) return null;
    return [...this.isr, replicaId];
  }

  /**
   * Kafka's getOutOfSyncReplicas: followers in the ISR not caught up within `lagMs`, given the
   * leader's log end offset (a follower with nothing to fetch is never out of sync). The new
   * ISR without them, or null when every member is in sync.
   */
  shrunkIsr(now: number, lagMs: number, leaderLogEndOffset: number): number[] | null {
    if (this.pending) return null;
    const out = this.isr.filter((id) => {
      if (id === this.localId) return false;
      const f = this.followers.get(id);
      if (!f) return true;
      if (f.logEndOffset >= 0 && f.logEndOffset >= leaderLogEndOffset) return false;
      return now - f.lastCaughtUpTimeMs > lagMs;
    });
    if (out.length === 0) return null;
    const next = this.isr.filter((id) => !out.includes(id));
    // The ISR is never empty: the leader stays in it.
    if (!next.includes(this.localId)) next.push(this.localId);
    return next;
  }
}
