/**
 * LeaderEpochFileCache: which leader epoch wrote which offsets of a partition, after Kafka's
 * class of the same name (KIP-101/KIP-279). Each entry (epoch, startOffset) says that epoch's
 * leader appended its first batch at startOffset; the entries are ordered by both. A follower
 * asks the leader where its last epoch ended (OffsetForLeaderEpoch, Fetch v12+ diverging
 * epoch) and truncates what the leader does not hold, instead of trusting the high watermark.
 *
 * Persisted as Kafka's `leader-epoch-checkpoint` in the partition directory (a version line
 * "0", a count line, then one "epoch startOffset" line per entry), rewritten atomically on
 * every change through a LeaderEpochCheckpoint; the memory engine keeps none. A cache is only
 * a summary of the batches' partition leader epochs: when the file is missing or unreadable
 * the PartitionLog rebuilds it from them, and it is trimmed to the log end on load.
 */
import { readWholeFile, writeFileAtomic } from "./file_io.ts";
import { log } from "./logger.ts";

/** Kafka's LeaderEpochCheckpointFile name, in the partition directory. */
export const LEADER_EPOCH_CHECKPOINT_FILE = "leader-epoch-checkpoint";
/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET (OffsetForLeaderEpoch). */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

/** OffsetForLeaderEpoch's answer: the epoch found and the offset it ended at. */
export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

/** Where a cache's entries are kept between runs. */
export interface LeaderEpochCheckpoint {
  /** The entries stored, or null when there are none to trust (missing or unreadable). */
  read(): EpochEntry[] | null;
  write(entries: readonly EpochEntry[]): void;
}

/** No persistence (the memory engine: nothing survives a restart anyway). */
export const NO_EPOCH_CHECKPOINT: LeaderEpochCheckpoint = {
  read: () => null,
  write: () => {},
};

/** Kafka's checkpoint text: "0", the count, then "epoch startOffset" lines. */
export function formatEpochCheckpoint(entries: readonly EpochEntry[]): string {
  const lines = ["0", String(entries.length)];
  for (const e of entries) lines.push(`${e.epoch} ${e.startOffset}`);
  return lines.join("\n") + "\n";
}

/**
 * Parses checkpoint text; null when it is not a version 0 file whose count matches its lines
 * of two non-negative integers, in increasing epoch and offset order (a torn or foreign file).
 */
export function parseEpochCheckpoint(text: string): EpochEntry[] | null {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length < 2 || lines[0].trim() !== "0") return null;
  const count = Number(lines[1].trim());
  if (!Number.isSafeInteger(count) || count < 0 || lines.length !== count + 2) return null;
  const out: EpochEntry[] = [];
  for (let i = 2; i < lines.length; i++) {
    const parts = lines[i].trim().split(/\s+/);
    if (parts.length !== 2) return null;
    const epoch = Number(parts[0]);
    const startOffset = Number(parts[1]);
    if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(startOffset)) return null;
    if (epoch < 0 || startOffset < 0) return null;
    const prev = out[out.length - 1];
    if (prev && (epoch <= prev.epoch || startOffset < prev.startOffset)) return null;
    out.push({ epoch, startOffset });
  }
  return out;
}

/** The file `<dir>/leader-epoch-checkpoint`, written atomically (temp, fsync, rename). */
export function fileEpochCheckpoint(dir: string): LeaderEpochCheckpoint {
  const path = `${dir}/${LEADER_EPOCH_CHECKPOINT_FILE}`;
  return {
    read(): EpochEntry[] | null {
      let bytes: Uint8Array | null;
      try {
        bytes = readWholeFile(path);
      } catch {
        return null;
      }
      return bytes === null ? null : parseEpochCheckpoint(new TextDecoder().decode(bytes));
    },
    write(entries: readonly EpochEntry[]): void {
      writeFileAtomic(path, formatEpochCheckpoint(entries));
    },
  };
}

export class LeaderEpochFileCache {
  /** Oldest first; epochs and start offsets strictly increase (start offsets never fall). */
  private entries: EpochEntry[] = [];
  private dirty = false;

  constructor(private readonly checkpoint: LeaderEpochCheckpoint = NO_EPOCH_CHECKPOINT) {}

  /** Loads the checkpointed entries; false when there were none to trust (rebuild then). */
  load(): boolean {
    const read = this.checkpoint.read();
    this.entries = read ?? [];
    return read !== null;
  }

  /** A copy of the entries, oldest first. */
  epochEntries(): EpochEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** The latest epoch, -1 when none is recorded. */
  get latestEpoch(): number {
    return this.entries.length === 0
      ? UNDEFINED_EPOCH
      : this.entries[this.entries.length - 1].epoch;
  }

  /** The latest entry, or undefined. */
  latestEntry(): EpochEntry | undefined {
    const e = this.entries[this.entries.length - 1];
    return e ? { ...e } : undefined;
  }

  /** The earliest entry, or undefined. */
  earliestEntry(): EpochEntry | undefined {
    const e = this.entries[0];
    return e ? { ...e } : undefined;
  }

  /** The epoch before `epoch` that has an entry, -1 when none (Kafka's previousEpoch). */
  previousEpoch(epoch: number): number {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].epoch < epoch) return this.entries[i].epoch;
    }
    return UNDEFINED_EPOCH;
  }

  /**
   * Records that `epoch` starts at `startOffset`. An epoch below the latest is ignored (a
   * leader's epochs only grow: a batch of an older epoch appended later does not move them
   * back); the latest epoch again is only taken when it starts earlier (Kafka's
   * isUpdateNeeded). A newer epoch first drops the entries starting at or after
   * `startOffset`, which it overwrites. Returns whether anything changed (and was persisted).
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0 || startOffset < 0) return false;
    const latest = this.entries[this.entries.length - 1];
    if (latest) {
      if (epoch < latest.epoch) return false;
      if (epoch === latest.epoch && startOffset >= latest.startOffset) return false;
    }
    while (this.entries.length > 0) {
      const last = this.entries[this.entries.length - 1];
      if (last.epoch >= epoch || last.startOffset >= startOffset) this.entries.pop();
      else break;
    }
    this.entries.push({ epoch, startOffset });
    this.flush();
    return true;
  }

  /**
   * Kafka's endOffsetFor: for the latest epoch, (epoch, logEndOffset); otherwise the largest
   * epoch at or below `requested` and the start offset of the first epoch above it (or, when
   * `requested` lies below every entry, `requested` and the first entry's start). Undefined
   * (-1, -1) for -1, an empty cache, or an epoch above the latest.
   */
  endOffsetFor(requested: number, logEndOffset: number): EpochEndOffset {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requested === UNDEFINED_EPOCH || this.entries.length === 0) return undefinedAnswer;
    const latest = this.entries[this.entries.length - 1];
    if (requested === latest.epoch) return { epoch: requested, endOffset: logEndOffset };
    let higher = -1;
    for (let i = 0; i < this.entries.length; i++) {
      if (this.entries[i].epoch > requested) {
        higher = i;
        break;
      }
    }
    if (higher < 0) return undefinedAnswer;
    const endOffset = this.entries[higher].startOffset;
    if (higher === 0) return { epoch: requested, endOffset };
    return { epoch: this.entries[higher - 1].epoch, endOffset };
  }

  /** Drops the entries starting at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: number): boolean {
    if (endOffset < 0) return false;
    let n = this.entries.length;
    while (n > 0 && this.entries[n - 1].startOffset >= endOffset) n--;
    if (n === this.entries.length) return false;
    this.entries.length = n;
    this.flush();
    return true;
  }

  /**
   * The log now starts at `startOffset`: the entries starting at or before it collapse into
   * the last of them, moved up to `startOffset` (Kafka's truncateFromStart).
   */
  truncateFromStart(startOffset: number): boolean {
    if (startOffset < 0) return false;
    let n = 0;
    while (n < this.entries.length && this.entries[n].startOffset <= startOffset) n++;
    if (n === 0) return false;
    const kept = this.entries[n - 1];
    if (n === 1 && kept.startOffset === startOffset) return false;
    this.entries.splice(0, n, { epoch: kept.epoch, startOffset });
    this.flush();
    return true;
  }

  /** Forgets every entry (the log was emptied). */
  clear(): void {
    if (this.entries.length === 0) return;
    this.entries = [];
    this.flush();
  }

  /** Replaces the entries with `entries` (a rebuild from the batches) and persists them. */
  reset(entries: readonly EpochEntry[]): void {
    this.entries = entries.map((e) => ({ ...e }));
    this.flush();
  }

  /**
   * Rewrites the checkpoint. A failed write is logged and retried on the next change and on
   * close: the entries in memory stay right, and a lost file is rebuilt from the batches.
   */
  private flush(): void {
    try {
      this.checkpoint.write(this.entries);
      this.dirty = false;
    } catch (e) {
      this.dirty = true;
      log.warn(`writing the leader epoch checkpoint failed (kept in memory): ${e}`);
    }
  }

  /** Writes the checkpoint if an earlier write failed (on close). */
  flushIfDirty(): void {
    if (this.dirty) this.flush();
  }
}

/** Where a cache can rebuild its entries from: the batches' partition leader epochs. */
export interface EpochSource {
  forEachBatchHeader(
    from: number,
    fn: (h: { baseOffset: number; partitionLeaderEpoch: number }) => void,
  ): void;
}

/**
 * Opens `cache` for a log holding [logStart, logEnd): the checkpoint when there is one, else
 * the entries rebuilt from the batches (written only when there are any, so an empty log
 * writes no file); then trimmed to the log end (a checkpoint may run ahead of batches a crash
 * lost) and to the log start.
 */
export function loadEpochCache(
  cache: LeaderEpochFileCache,
  source: EpochSource,
  logStart: number,
  logEnd: number,
): void {
  if (!cache.load()) {
    const rebuilt = new LeaderEpochFileCache();
    source.forEachBatchHeader(logStart, (h) => {
      rebuilt.assign(h.partitionLeaderEpoch, h.baseOffset);
    });
    if (!rebuilt.isEmpty) cache.reset(rebuilt.epochEntries());
  }
  cache.truncateFromEnd(logEnd);
  cache.truncateFromStart(logStart);
}
