/**
 * LocalLogStore: what a PartitionLog (Kafka's UnifiedLog) needs from the segments under it,
 * the seam between the log's rules and where its bytes live. Two engines implement it: the
 * file engine (storage/local_log.ts, Kafka's LocalLog: segment files, indexes, recovery) and
 * the memory engine (storage/memory_log.ts: batches held as Uint8Arrays, nothing on disk).
 * Validation, offsets, producer state, transactions, the high watermark and LSO, retention
 * decisions and DeleteRecords stay in PartitionLog, and compaction in the LogCleaner (which
 * reads and replaces closed segments through this seam), so both engines share them.
 */
import type { BatchHeader } from "../protocol/record_batch.ts";
import type { SegmentTime } from "./legacy_offsets.ts";
import type { LogConfig } from "./log_config.ts";
import type { RecoveryInfo } from "./log_loader.ts";
import type { ProducerStateEntry, ProducerStateManager } from "./producer_state.ts";
import type { LogSegmentData } from "./remote_storage.ts";
import type { TimestampOffset } from "./time_index.ts";
import type { AbortedTxn, TransactionIndex } from "./transaction_index.ts";
import type { LeaderEpochCheckpoint } from "./leader_epoch_cache.ts";

/** Which storage engine holds partition data: segment files, or memory only. */
export type StorageEngine = "file" | "memory";

/** A segment as the LogCleaner and the cold tier see it, whichever engine holds it. */
export interface SegmentRef {
  readonly baseOffset: number;
  readonly size: number;
  /** Largest timestamp in the segment, -1 when empty. */
  readonly largestTimestamp: number;
  /** The first batch's max timestamp (-1 when empty), the clock of segment.ms and max lag. */
  rollingBasedTimestamp(): number;
}

/** A closed (non-active) local segment, for the RemoteLogManager and the LogCleaner. */
export interface ClosedSegment {
  segment: SegmentRef;
  baseOffset: number;
  /** Last offset the segment covers: the next segment's base offset - 1. */
  endOffset: number;
  size: number;
}

/** The closed (non-active) segments of an engine's segment list, oldest first. */
export function closedSegmentsOf(segments: readonly SegmentRef[]): ClosedSegment[] {
  const out: ClosedSegment[] = [];
  for (let i = 0; i + 1 < segments.length; i++) {
    const s = segments[i];
    out.push({
      segment: s,
      baseOffset: s.baseOffset,
      endOffset: segments[i + 1].baseOffset - 1,
      size: s.size,
    });
  }
  return out;
}

/** Index of the segment whose range holds `offset` (largest base offset <= offset; 0 if none). */
export function segmentIndexOf(
  segments: readonly { baseOffset: number }[],
  offset: number,
): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Whether `seg` is still one of `segments`' closed ones (not deleted or replaced). */
export function holdsClosed(segments: readonly SegmentRef[], seg: SegmentRef): boolean {
  const i = segments.indexOf(seg);
  return i >= 0 && i < segments.length - 1;
}

/** A segment as retention sees it (shared by both engines: storage/log_retention.ts). */
export interface RetainedSegment {
  readonly baseOffset: number;
  readonly size: number;
}

/** What the store hands back from load(): where the log ends and where it may start. */
export interface LoadedLog {
  logEndOffset: number;
  /** The first offset the store holds (the log start offset before checkpoints). */
  baseOffset: number;
}

export interface LocalLogStore<S extends RetainedSegment = RetainedSegment> {
  /** Whether data survives a restart (the file engine) or not (memory). */
  readonly durable: boolean;
  config: LogConfig;
  /** Oldest first; never empty once loaded (the last one is the active segment). */
  readonly segments: readonly S[];
  /** Base offset of the first segment. */
  readonly baseOffset: number;
  readonly sizeInBytes: number;
  /** Approximate heap held by indexes (for memory accounting). */
  readonly indexMemoryBytes: number;

  /**
   * Opens the store: the file engine recovers its segments and rebuilds `producerState` and
   * `txnIndex`, from offset `start(baseOffset, logEnd)`, filling `recovery`.
   */
  load(
    start: (baseOffset: number, logEnd: number) => number,
    producerState: ProducerStateManager,
    txnIndex: TransactionIndex,
    recovery: RecoveryInfo,
  ): LoadedLog;

  segmentTimes(): SegmentTime[];
  segmentBaseOffsets(): number[];
  /** The age clock of a segment for retention.ms: its largest timestamp, else its creation. */
  segmentTime(seg: S): number;

  /** Whole batches from the segment holding `offset` (or the next non-empty one), below `upper`. */
  read(offset: number, maxBytes: number, upper: number, minOneBatch?: boolean): Uint8Array;
  /** The first record with timestamp >= `ts` at or after `logStart`, or null. */
  offsetForTimestamp(ts: number, logStart: number): TimestampOffset | null;
  /** The record with the largest timestamp (first on ties), or null. */
  maxTimestampAndOffset(): TimestampOffset | null;

  /** Kafka's LogSegment.shouldRoll for the active segment. */
  shouldRoll(bytes: number, maxTimestamp: number, last: number, now: number): boolean;
  /** Seals the active segment and starts one at `nextOffset`. */
  roll(nextOffset: number, now: number): Promise<void>;
  /**
   * Appends validated batches with their offsets assigned to the active segment; on failure
   * nothing of them stays. The store keeps no reference to `records` beyond the call.
   */
  append(records: Uint8Array, headers: BatchHeader[]): void;
  /** Makes everything appended durable (no-op in memory). */
  flush(): Promise<void>;
  /** Drops the oldest `n` segments (never the active one). */
  dropOldestSegments(n: number): void;
  /** How many of the oldest segments lie wholly below `offset` (never the active one). */
  segmentsBelow(offset: number): number;

  /** Producer state as of `offset`, so reopening replays little (no-op in memory). */
  writeProducerSnapshot(offset: number, producers: ProducerStateEntry[], txns: AbortedTxn[]): void;
  /** Closes cleanly: `beforeMark` runs after segments are sealed, before the clean mark. */
  close(beforeMark: () => void, marker?: boolean): void;
  /** Lets go of file handles (the log is about to be deleted). */
  releaseHandles(): void;

  /** The closed (non-active) segments, oldest first. */
  closedSegments(): ClosedSegment[];
  /** Whether `seg` is still one of the closed segments (not deleted or replaced). */
  holdsClosedSegment(seg: SegmentRef): boolean;
  /** A closed segment's batches (the LogCleaner's input); null when it went meanwhile. */
  readClosedSegment(seg: SegmentRef): Promise<Uint8Array | null>;
  /**
   * Replaces closed segment `seg` by `cleaned` (the same offsets, fewer records): made durable
   * first where the engine is, then swapped in synchronously, so no read or append sees half
   * a swap. False (nothing changed) when `seg` went meanwhile or `isClosed()` at the swap.
   */
  replaceClosedSegment(
    seg: SegmentRef,
    cleaned: Uint8Array,
    isClosed: () => boolean,
  ): Promise<boolean>;
  // Replication (a follower's log follows its leader's: storage/log_truncation.ts).
  /** Where the LeaderEpochFileCache persists (nowhere for memory). */
  readonly leaderEpochCheckpoint: LeaderEpochCheckpoint;
  /**
   * Whether opening found file `name` in the log's directory; null when not known (no
   * directory, or forgetListing() ran): the caller looks on disk.
   */
  listedAtOpen(name: string): boolean | null;
  /** Opening is over: listedAtOpen answers null from now on. */
  forgetListing(): void;
  /** A file was written into the directory from outside (soleEmptySegment is -1 from now). */
  noteDirectoryWrite(): void;
  /**
   * The one segment's base offset while it is empty and the directory is known to hold only
   * it and partition.metadata; -1 otherwise (always for memory).
   */
  soleEmptySegment(): number;
  /** Calls `fn` with the header of every batch ending at or after `from`, oldest first. */
  forEachBatchHeader(from: number, fn: (h: BatchHeader) => void): void;
  /**
   * Drops every batch ending at or after `offset` (>= baseOffset; a batch holding it goes
   * whole) and the producer snapshots above it; returns the new log end offset. A crash at any
   * point leaves a log that opens (contiguous, cut at some point at or after `offset`).
   */
  truncateTo(offset: number): number;
  /** Drops every segment and snapshot and starts empty at `offset`. */
  truncateFullyAndStartAt(offset: number): void;
  /**
   * Clears `producerState` and `txnIndex` and rebuilds them for [logStart, logEnd): from the
   * newest snapshot at or below `logEnd`, then by replaying the batches after it. Returns the
   * batches replayed.
   */
  reloadProducerState(
    logStart: number,
    logEnd: number,
    producerState: ProducerStateManager,
    txnIndex: TransactionIndex,
  ): number;

  /** The segment's files for the cold tier (the file engine only: memory logs are not tiered). */
  readSegmentFiles(seg: SegmentRef): Promise<LogSegmentData>;
}
