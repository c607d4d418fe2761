/**
 * Counts ISR shrinks and expands of the partitions this broker leads (Kafka's
 * IsrShrinksPerSec / IsrExpandsPerSec), from the partition state writes the metadata watch
 * delivers: a write that keeps the leader and leader epoch and leaves this broker the leader
 * is an ISR change made for its partition (by itself, as Kafka's leader does, or by the
 * controller removing a dead broker). A leader change is an election, not an ISR change.
 * Only the cluster member counts (with Deno workers, worker 0), so a broker counts each
 * change once.
 */
import type { ClusterMetadataCache } from "./cluster_metadata.ts";
import type { PartitionState } from "./cluster_records.ts";

export interface IsrChangeSink {
  isrShrinks: number;
  isrExpands: number;
}

/** Classifies one partition state write as seen by broker `self`. */
export function isrChange(
  self: number,
  before: PartitionState | undefined,
  after: PartitionState,
): "shrink" | "expand" | null {
  if (!before || after.leader !== self || before.leader !== self) return null;
  if (before.leaderEpoch !== after.leaderEpoch) return null;
  const was = new Set(before.isr);
  const now = new Set(after.isr);
  if (before.isr.some((r) => !now.has(r))) return "shrink";
  if (after.isr.some((r) => !was.has(r))) return "expand";
  return null;
}

/** Starts counting into `sink`; returns the function that stops it. */
export function countIsrChanges(cache: ClusterMetadataCache, sink: IsrChangeSink): () => void {
  return cache.onPartitionState((_t, _p, before, after) => {
    const c = isrChange(cache.localNodeId, before, after);
    if (c === "shrink") sink.isrShrinks++;
    else if (c === "expand") sink.isrExpands++;
  });
}
