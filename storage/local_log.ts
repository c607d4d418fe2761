/**
 * LocalLog: the on-disk half of a partition's log, after Kafka's LocalLog. It holds the
 * ordered segments of one directory and does what only needs them: find the segment of an
 * offset, read whole batches from one segment, roll, delete the oldest segments, swap in a
 * compacted segment, and hand closed segments to the cold tier and the cleaner. Offsets
 * (log start, log end), producer state and the cold tier are PartitionLog's (Kafka's
 * UnifiedLog), which calls this from inside its append chain.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { fsyncDir } from "./file_io.ts";
import type { SegmentTime } from "./legacy_offsets.ts";
import type { LogConfig } from "./log_config.ts";
import {
  CLEANED_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  segmentFileName,
  SWAP_FILE_SUFFIX,
} from "./log_files.ts";
import { PARTITION_METADATA } from "./partition_metadata.ts";
import { type Decompressor, LogSegment } from "./log_segment.ts";
import type { LogSegmentData } from "./remote_storage.ts";
import { ReadFailures } from "./segment_damage.ts";
import type { TimestampOffset } from "./time_index.ts";
import {
  type ClosedSegment,
  closedSegmentsOf,
  holdsClosed,
  type LoadedLog,
  type LocalLogStore,
  segmentIndexOf,
  type SegmentRef,
} from "./local_log_store.ts";
import {
  loadSegmentFiles,
  rebuildProducerState,
  recoverSegments,
  type RecoveryInfo,
} from "./log_loader.ts";
import type { ProducerStateEntry, ProducerStateManager } from "./producer_state.ts";
import { deleteSnapshotsAbove, listSnapshots, writeSnapshot } from "./producer_snapshot.ts";
import {
  fileEpochCheckpoint,
  LEADER_EPOCH_CHECKPOINT_FILE,
  type LeaderEpochCheckpoint,
} from "./leader_epoch_cache.ts";
import type { AbortedTxn, TransactionIndex } from "./transaction_index.ts";
import { type BatchHeader, lastOffset } from "../protocol/record_batch.ts";
import { CLEAN_SHUTDOWN_FILE } from "./log_files.ts";

export type { ClosedSegment };

export class LocalLog implements LocalLogStore<LogSegment> {
  readonly durable = true;
  /** Oldest first; never empty once loaded (the last one is the active segment). */
  readonly segments: LogSegment[] = [];
  private cfg: LogConfig;
  private readonly readFailures: ReadFailures;
  /**
   * The log end offset at which the files on disk already yield the producer state without a
   * replay (a snapshot there, or nothing to replay): a snapshot there is not written again, so
   * a clean shutdown of a partition nothing was appended to writes no snapshot (as Kafka's
   * takeSnapshot skips an offset it has a snapshot for). Null once anything is appended.
   */
  private producerStateOnDisk: number | null = null;

  constructor(
    readonly dir: string,
    config: LogConfig,
    /** "topic-partition", for log lines and errors. */
    readonly name: string,
    private readonly decompress?: Decompressor,
    /** The LogManager's clean-shutdown record names this partition. */
    private readonly closedCleanly = false,
    /** The directory was made a moment ago, holding only partition.metadata. */
    private readonly fresh = false,
    /** The clean-shutdown record: only partition.metadata and an empty segment here (or -1). */
    private readonly emptyAt = -1,
  ) {
    this.cfg = config;
    this.readFailures = new ReadFailures(name);
    const file = fileEpochCheckpoint(dir);
    // A checkpoint the open's listing did not find is not looked for: on a directory of
    // empty partitions that failed open was most of the start-up.
    this.leaderEpochCheckpoint = {
      read: () => this.listedAtOpen(LEADER_EPOCH_CHECKPOINT_FILE) === false ? null : file.read(),
      write: (entries) => {
        this.listing = null;
        this.bare = -1;
        file.write(entries);
      },
    };
  }

  /** `leader-epoch-checkpoint` in the partition directory. */
  readonly leaderEpochCheckpoint: LeaderEpochCheckpoint;

  /** The directory's names as load() listed them, until forgetListing(). */
  private listing: ReadonlySet<string> | null = null;

  /** Whether load()'s listing held file `name`; null when not known (ask the disk). */
  listedAtOpen(name: string): boolean | null {
    return this.listing === null ? null : this.listing.has(name);
  }

  /** Drops the listing once opening is over: files are made and removed from now on. */
  forgetListing(): void {
    this.listing = null;
  }

  /**
   * The base offset of the one segment while the directory is known to hold nothing but its
   * .log and partition.metadata (as listed or recorded at open, nothing written since); -1.
   * Every method that writes a file here sets it to -1.
   */
  private bare = -1;

  noteDirectoryWrite(): void {
    this.bare = -1;
  }

  soleEmptySegment(): number {
    const s = this.segments;
    return this.bare >= 0 && s.length === 1 && s[0].baseOffset === this.bare && s[0].size === 0
      ? this.bare
      : -1;
  }

  get config(): LogConfig {
    return this.cfg;
  }
  set config(c: LogConfig) {
    this.cfg = c;
    for (const s of this.segments) {
      s.config = c;
      s.offsetIndex.maxEntries = c.maxIndexEntries;
      s.timeIndex.maxEntries = c.maxIndexEntries;
    }
  }

  get active(): LogSegment {
    return this.segments[this.segments.length - 1];
  }
  /** Base offset of the first local segment. */
  get baseOffset(): number {
    return this.segments[0].baseOffset;
  }
  get sizeInBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }
  /** Local segments' base offsets, sizes and file modification times (ListOffsets v0). */
  segmentTimes(): SegmentTime[] {
    return this.segments.map((s) => ({
      baseOffset: s.baseOffset,
      size: s.size,
      lastModified: s.lastModified(),
    }));
  }
  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  /** Index of the segment whose range holds `offset` (largest base offset <= offset). */
  segmentIndexFor(offset: number): number {
    return segmentIndexOf(this.segments, offset);
  }

  // ---------------------------------------------------------------- open and close

  /**
   * Recovery (the LogLoader's): segment files found, damage truncated, indexes rebuilt, then
   * producer state rolled forward from the newest usable snapshot.
   */
  load(
    start: (baseOffset: number, logEnd: number) => number,
    producerState: ProducerStateManager,
    txnIndex: TransactionIndex,
    recovery: RecoveryInfo,
  ): LoadedLog {
    const files = loadSegmentFiles(
      this.dir,
      this.cfg,
      this.name,
      this.closedCleanly,
      this.fresh,
      this.emptyAt,
    );
    this.listing = files.names;
    const only = files.segments.length === 1 ? files.segments[0] : null;
    const logName = only && segmentFileName(only.baseOffset, LOG_FILE_SUFFIX);
    let bare = only !== null && only.size === 0;
    for (const n of files.names) if (n !== logName && n !== PARTITION_METADATA) bare = false;
    this.bare = bare ? only!.baseOffset : -1;
    recovery.cleanShutdown = files.cleanShutdown;
    this.segments.push(...files.segments);
    const r = recoverSegments(this.segments, files.cleanShutdown, this.name, () => {
      fsyncDir(this.dir);
    });
    recovery.truncatedBytes = r.truncatedBytes;
    recovery.reason = r.reason;
    recovery.rebuiltIndexes = r.rebuiltIndexes;
    recovery.deletedSegments = r.deletedSegments;
    recovery.dropped = r.dropped;
    const active = this.active;
    const leo = active.nextOffset >= 0 ? active.nextOffset : active.baseOffset;
    const replayed = rebuildProducerState(
      this,
      files.snapshots,
      start(this.baseOffset, leo),
      leo,
      producerState,
      txnIndex,
    );
    recovery.replayedBatches += replayed;
    // Nothing replayed: the next open finds the same snapshot (or none) and replays nothing.
    this.producerStateOnDisk = replayed === 0 ? leo : null;
    for (const s of this.segments) s.releaseHandles();
    return { logEndOffset: leo, baseOffset: this.baseOffset };
  }

  writeProducerSnapshot(offset: number, producers: ProducerStateEntry[], txns: AbortedTxn[]): void {
    if (offset === this.producerStateOnDisk) return;
    this.bare = -1;
    writeSnapshot(this.dir, offset, producers, txns);
    this.producerStateOnDisk = offset;
  }

  /**
   * Seals every segment, runs `beforeMark` (the producer snapshot), marks the shutdown clean
   * (unless `marker` is false: the LogManager's record covers it).
   */
  close(beforeMark: () => void, marker = true): void {
    for (const s of this.segments) s.close();
    beforeMark();
    // Written after everything above is durable; if it is lost, the next open is merely slower.
    if (marker) writeFileSync(`${this.dir}/${CLEAN_SHUTDOWN_FILE}`, "");
  }

  releaseHandles(): void {
    for (const s of this.segments) s.releaseHandles();
  }

  // ---------------------------------------------------------------- append

  /** Writes to the active segment; a failed write is cut back so nothing of it stays. */
  append(records: Uint8Array, headers: BatchHeader[]): void {
    const seg = this.active;
    const before = seg.size;
    this.producerStateOnDisk = null;
    this.bare = -1;
    try {
      seg.append(records, headers);
    } catch (e) {
      try {
        seg.truncateToSize(before);
      } catch {
        // the append's error is what matters
      }
      throw e;
    }
  }

  /** fsyncs the active segment. */
  flush(): Promise<void> {
    return this.active.flushAsync();
  }

  // ---------------------------------------------------------------- reads

  /**
   * Whole batches from the segment holding `offset` (or the next non-empty one), none at or
   * past `upper`; empty when there are none. The caller checked the offset's range.
   */
  read(offset: number, maxBytes: number, upper: number, minOneBatch?: boolean): Uint8Array {
    for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
      const seg = this.segments[i];
      if (seg.baseOffset >= upper) break;
      let buf: Uint8Array | null;
      try {
        buf = seg.read(offset, maxBytes, { maxOffset: upper, minOneBatch });
      } catch (e) {
        throw this.readFailures.failure(offset, e);
      }
      if (buf !== null) return buf;
    }
    return new Uint8Array(0);
  }

  /** The first local record with timestamp >= `ts` at or after `logStart`, or null. */
  offsetForTimestamp(ts: number, logStart: number): TimestampOffset | null {
    for (const seg of this.segments) {
      if (seg.size === 0 || seg.largestTimestamp < ts) continue;
      const found = seg.findOffsetByTimestamp(ts, logStart, this.decompress);
      if (found) return found;
    }
    return null;
  }

  /** The local record with the largest timestamp (first on ties), or null. */
  maxTimestampAndOffset(): TimestampOffset | null {
    let best: LogSegment | null = null;
    let bestTs: { timestamp: number; offset: number } | null = null;
    for (const seg of this.segments) {
      if (seg.size === 0) continue;
      const t = seg.maxTimestampSoFar();
      if (t && (bestTs === null || t.timestamp > bestTs.timestamp)) {
        best = seg;
        bestTs = t;
      }
    }
    if (best === null || bestTs === null) return null;
    const batch = best.translateOffset(bestTs.offset);
    if (batch === null) return null;
    const h = batch.header;
    const found = best.findRecord(batch.position, h, h.maxTimestamp, 0, this.decompress);
    return found ?? { offset: h.baseOffset, timestamp: h.maxTimestamp };
  }

  // ---------------------------------------------------------------- roll and delete

  /** Kafka's LogSegment.shouldRoll. */
  shouldRoll(bytes: number, maxTimestamp: number, last: number, now: number): boolean {
    const seg = this.active;
    if (seg.size === 0) return false;
    return seg.size > this.cfg.segmentBytes - bytes ||
      seg.timeWaitedForRoll(now, maxTimestamp) > this.cfg.segmentMs - seg.rollJitterMs ||
      seg.offsetIndex.isFull() || seg.timeIndex.isFull() ||
      last - seg.baseOffset > 0x7fffffff;
  }

  /** Seals the active segment (fsync, final index entries) and starts one at `nextOffset`. */
  async roll(nextOffset: number, now: number): Promise<void> {
    this.bare = -1;
    const old = this.active;
    await old.flushAsync();
    old.finishIndexes(true);
    old.releaseHandles();
    old.unloadIndexes();
    this.segments.push(LogSegment.create(this.dir, nextOffset, this.cfg, now));
    fsyncDir(this.dir);
  }

  /** Deletes the oldest `n` segments' files (never the active one) and drops them. */
  dropOldestSegments(n: number): void {
    this.bare = -1;
    n = Math.min(n, this.segments.length - 1);
    if (n <= 0) return;
    const doomed = this.segments.splice(0, n);
    for (const seg of doomed) seg.deleteFiles();
    fsyncDir(this.dir);
  }

  /** How many of the oldest segments lie wholly below `offset` (never the active one). */
  segmentsBelow(offset: number): number {
    let n = 0;
    while (n + 1 < this.segments.length && this.segments[n + 1].baseOffset <= offset) n++;
    return n;
  }

  /** The age clock of a segment: its largest timestamp, else the file's modification time. */
  segmentTime(seg: LogSegment): number {
    const ts = seg.largestTimestamp;
    if (ts >= 0) return ts;
    try {
      return Deno.statSync(seg.logPath).mtime?.getTime() ?? seg.created;
    } catch {
      return seg.created;
    }
  }

  // ---------------------------------------------------------------- replication

  /** Calls `fn` with the header of every batch ending at or after `from`, oldest first. */
  forEachBatchHeader(from: number, fn: (h: BatchHeader) => void): void {
    const start = this.segmentIndexFor(from);
    for (let i = start; i < this.segments.length; i++) {
      const seg = this.segments[i];
      const position = i === start && from > seg.baseOffset
        ? seg.translateOffset(from)?.position ?? seg.size
        : 0;
      seg.scan(position, false, (_pos, h) => {
        if (lastOffset(h) >= from) fn(h);
      });
      if (i < this.segments.length - 1) seg.releaseHandles();
    }
  }

  /**
   * Drops everything at and after `offset` (>= the first segment's base): producer snapshots
   * above it first (a cache: losing one early costs a longer replay), then the segments
   * starting after it, newest first, so a crash at any point leaves a contiguous log; then
   * the last one left is cut. Returns the new log end offset.
   */
  truncateTo(offset: number): number {
    // The contents change: a clean close must write the snapshot at the new end.
    this.producerStateOnDisk = null;
    this.bare = -1;
    deleteSnapshotsAbove(this.dir, offset);
    let removed = 0;
    while (this.segments.length > 1 && this.active.baseOffset > offset) {
      this.segments.pop()!.deleteFiles();
      removed++;
    }
    if (removed > 0) fsyncDir(this.dir);
    const last = this.active;
    last.truncateTo(offset);
    last.flush();
    return last.nextOffset >= 0 ? last.nextOffset : last.baseOffset;
  }

  /**
   * Deletes every segment and snapshot (newest first) and starts an empty one at `offset`.
   * A crash before the new segment exists leaves an empty directory, which opens as an empty
   * log at offset 0 (the follower then starts over from the leader).
   */
  truncateFullyAndStartAt(offset: number): void {
    this.producerStateOnDisk = null;
    this.bare = -1;
    deleteSnapshotsAbove(this.dir, -1);
    while (this.segments.length > 0) this.segments.pop()!.deleteFiles();
    fsyncDir(this.dir);
    this.segments.push(LogSegment.create(this.dir, offset, this.cfg));
    fsyncDir(this.dir);
  }

  /** Producer state and aborted transactions rebuilt from the newest snapshot <= `logEnd`. */
  reloadProducerState(
    logStart: number,
    logEnd: number,
    producerState: ProducerStateManager,
    txnIndex: TransactionIndex,
  ): number {
    producerState.clear();
    txnIndex.clear();
    const replayed = rebuildProducerState(
      this,
      listSnapshots(this.dir),
      logStart,
      logEnd,
      producerState,
      txnIndex,
    );
    // The replay opened closed segments: one descriptor stays, the active segment's.
    for (let i = 0; i + 1 < this.segments.length; i++) this.segments[i].releaseHandles();
    return replayed;
  }

  // ---------------------------------------------------------------- tiering and compaction

  /** The closed (non-active) local segments, oldest first. */
  closedSegments(): ClosedSegment[] {
    return closedSegmentsOf(this.segments);
  }

  /** Whether `seg` is still one of this log's closed segments (not deleted or replaced). */
  holdsClosedSegment(seg: SegmentRef): boolean {
    return holdsClosed(this.segments, seg);
  }

  /** A closed segment's .log bytes; null when retention deleted it meanwhile. */
  async readClosedSegment(ref: SegmentRef): Promise<Uint8Array | null> {
    if (!this.holdsClosedSegment(ref)) return null;
    const seg = ref as LogSegment;
    try {
      const b = await Deno.readFile(seg.logPath);
      return b.length > seg.size ? b.subarray(0, seg.size) : b;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null; // deleted by retention meanwhile
      throw e;
    }
  }

  /** Writes `cleaned` to `<base>.log.cleaned`, fsyncs it, then swaps it in (replaceWithCleaned). */
  async replaceClosedSegment(
    ref: SegmentRef,
    cleaned: Uint8Array,
    isClosed: () => boolean,
  ): Promise<boolean> {
    if (!this.holdsClosedSegment(ref)) return false;
    const seg = ref as LogSegment;
    const path = this.cleanedPathFor(seg);
    this.bare = -1;
    await Deno.writeFile(path, cleaned);
    const f = await Deno.open(path, { read: true, write: true });
    try {
      await f.sync();
    } finally {
      f.close();
    }
    return this.replaceWithCleaned(seg, isClosed());
  }

  /** Reads a closed segment's .log, .index and .timeindex for upload (asynchronously). */
  async readSegmentFiles(ref: SegmentRef): Promise<LogSegmentData> {
    if (!this.holdsClosedSegment(ref)) {
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `segment ${ref.baseOffset} is gone`);
    }
    const seg = ref as LogSegment;
    // Make sure the index files are on disk and match the log (rebuilt if they were not).
    seg.maxTimestampSoFar();
    const read = async (path: string, required: boolean): Promise<Uint8Array> => {
      try {
        return await Deno.readFile(path);
      } catch (e) {
        if (!required && e instanceof Deno.errors.NotFound) return new Uint8Array(0);
        throw e;
      }
    };
    const log = await read(seg.logPath, true);
    // A missing index uploads empty: remote lookups then scan from the segment's start.
    const offsetIndex = await read(seg.offsetIndex.path, false);
    const timeIndex = await read(seg.timeIndex.path, false);
    return {
      log: log.length === seg.size ? log : log.subarray(0, seg.size),
      offsetIndex,
      timeIndex,
    };
  }

  /** Path the LogCleaner writes a cleaned copy of `seg` to. */
  cleanedPathFor(seg: LogSegment): string {
    return `${seg.logPath}${CLEANED_FILE_SUFFIX}`;
  }

  /**
   * Replaces closed segment `seg` by the cleaned log at cleanedPathFor(seg), synchronously:
   * `.cleaned` → `.log.swap` (the commit point; the LogLoader completes a swap from here),
   * old indexes deleted, `.log.swap` → `.log` (atomic replace), indexes rebuilt. Returns false
   * (and drops the cleaned file) when `seg` is no longer a closed segment of this log.
   */
  replaceWithCleaned(seg: LogSegment, closed: boolean): boolean {
    this.bare = -1;
    const cleaned = this.cleanedPathFor(seg);
    const i = this.segments.indexOf(seg);
    if (closed || i < 0 || i >= this.segments.length - 1) {
      rmSync(cleaned, { force: true });
      return false;
    }
    const swap = `${seg.logPath}${SWAP_FILE_SUFFIX}`;
    renameSync(cleaned, swap);
    fsyncDir(this.dir);
    seg.releaseHandles();
    rmSync(seg.offsetIndex.path, { force: true });
    rmSync(seg.timeIndex.path, { force: true });
    renameSync(swap, seg.logPath);
    fsyncDir(this.dir);
    const fresh = LogSegment.open(this.dir, seg.baseOffset, this.cfg);
    fresh.rebuildIndexes();
    fresh.unloadIndexes();
    fresh.releaseHandles();
    this.segments[i] = fresh;
    return true;
  }

  /** Approximate heap held by indexes (for memory accounting). */
  get indexMemoryBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.offsetIndex.memoryBytes + s.timeIndex.memoryBytes;
    return n;
  }
}
