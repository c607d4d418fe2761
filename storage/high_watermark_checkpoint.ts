/**
 * The high watermark checkpoint: Kafka's `replication-offset-checkpoint` (OffsetCheckpointFile
 * format: a version line "0", a count line, then "topic partition offset" lines), rewritten
 * atomically every `replica.high.watermark.checkpoint.interval.ms` (default 5000) and on a
 * clean close, in the data directory's `meta/` beside log-start-offset-checkpoint (one file
 * per Deno worker, like it).
 *
 * Only partitions whose high watermark the replication layer manages
 * (highWatermarkFollowsLogEnd false) are written: a single-replica partition's high watermark
 * is its log end offset and needs no checkpoint, and leaving it out keeps it so after a
 * restart. A partition found in the checkpoint opens managed, at min(checkpoint, log end
 * offset), until the replication layer decides again (as Kafka's follower starts from its
 * checkpointed high watermark, not from its log end, which may hold uncommitted batches).
 */
import type { LogDirectory } from "./log_directory.ts";

/** Kafka's file name (ReplicaManager.HighWatermarkFilename). */
export const HIGH_WATERMARK_CHECKPOINT_FILE = "replication-offset-checkpoint";
/** Kafka's replica.high.watermark.checkpoint.interval.ms default. */
export const DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = 5000;

/** What the checkpointer reads off each open partition. */
export interface HighWatermarkSource {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: number;
  readonly highWatermarkFollowsLogEnd: boolean;
}

/** Writes the checkpoint on a timer and on demand; skips writes that would change nothing. */
export class HighWatermarkCheckpointer {
  private timer?: ReturnType<typeof setTimeout>;
  private closed = false;
  /** What the file holds now (keyOf), "" while none is known to exist. */
  private written = "";

  constructor(
    private readonly dir: Pick<LogDirectory, "writeHighWatermarkCheckpoint">,
    private readonly partitions: () => Iterable<HighWatermarkSource>,
    private intervalMs: number,
    private readonly onError: (message: string) => void,
  ) {}

  /** The entries a checkpoint would hold now: the managed partitions' high watermarks. */
  entries(): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of this.partitions()) {
      if (!p.highWatermarkFollowsLogEnd) out.set(`${p.topic} ${p.partition}`, p.highWatermark);
    }
    return out;
  }

  /**
   * What the file found at open holds, so a checkpoint that would say the same is not written
   * and one that drops its entries is (a partition no longer managed must not open managed
   * again after the next restart).
   */
  noteExisting(entries: Map<string, number>): void {
    if (entries.size > 0) this.written = keyOf(entries);
  }

  /**
   * Writes the checkpoint if it would differ from the last one written (a first write only when
   * some partition is or was managed: a broker without replication never writes the file).
   */
  checkpoint(): void {
    const entries = this.entries();
    const key = keyOf(entries);
    if (key === this.written || (this.written === "" && entries.size === 0)) return;
    try {
      this.dir.writeHighWatermarkCheckpoint(entries);
      this.written = key;
    } catch (e) {
      this.onError(
        `writing ${HIGH_WATERMARK_CHECKPOINT_FILE}: ${e instanceof Error ? e.message : e}`,
      );
    }
  }

  start(): void {
    if (this.closed || this.timer !== undefined) return;
    this.schedule();
  }

  /** `replica.high.watermark.checkpoint.interval.ms`, changeable at runtime. */
  setInterval(ms: number): void {
    this.intervalMs = ms;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.checkpoint();
      this.schedule();
    }, Math.max(1, Math.min(this.intervalMs, 2 ** 31 - 1)));
  }

  /** Stops the timer and writes a last checkpoint (a clean close). */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.closed) this.checkpoint();
    this.closed = true;
  }
}

/** A checkpoint's entries in a comparable form; an empty one is "\n" ("" means none known). */
function keyOf(entries: Map<string, number>): string {
  if (entries.size === 0) return "\n";
  return [...entries].map(([k, v]) => `${k} ${v}`).sort().join("\n");
}
