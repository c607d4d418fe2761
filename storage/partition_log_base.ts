/**
 * PartitionLogBase: the state of one partition's log and its read side, which PartitionLog
 * (storage/partition_log.ts, Kafka's UnifiedLog) extends with everything that writes: appends
 * (leader and follower), truncation, retention, shutdown. Here: the segments' store, the
 * offsets the broker reports (log start, log end, high watermark, last stable offset), the
 * leader epoch cache, the listeners those offsets wake, and reads from the local segments or
 * the cold tier, bounded by Kafka's FetchIsolation.
 *
 * The high watermark (Kafka's UnifiedLog.highWatermark) is state: with a single replica
 * (`highWatermarkFollowsLogEnd`, the default) it is the log end offset; otherwise the
 * replication layer moves it with updateHighWatermark, and it wakes the fetch long-polls the
 * way an append does. The last stable offset never exceeds it.
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { SegmentTime } from "./legacy_offsets.ts";
import type { LogConfig } from "./log_config.ts";
import type { Decompressor } from "./log_segment.ts";
import { LocalLog } from "./local_log.ts";
import type { RecoveryInfo } from "./log_loader.ts";
import type { ClosedSegment, LocalLogStore, SegmentRef, StorageEngine } from "./local_log_store.ts";
import { MemoryLog } from "./memory_log.ts";
import type { RemoteLogView } from "./remote_log_view.ts";
import type { LogSegmentData } from "./remote_storage.ts";
import { ProducerStateManager } from "./producer_state.ts";
import { type AbortedTxn, TransactionIndex } from "./transaction_index.ts";
import { type EpochEndOffset, LeaderEpochFileCache } from "./leader_epoch_cache.ts";

/**
 * The read of a caught-up consumer (at the bound), shared rather than allocated per partition
 * of every empty Fetch: it has no bytes to write, and it is never a fresh read to transfer.
 */
const CAUGHT_UP = new Uint8Array(0);

export interface PartitionLogOptions {
  topic: string;
  partition: number;
  /** The topic's id (names the partition's objects in the cold tier). */
  topicId?: string;
  /** Lets timestamp lookups look inside compressed CreateTime batches. */
  decompress?: Decompressor;
  /** The log start offset checkpointed before (log-start-offset-checkpoint), if any. */
  logStartOffset?: number;
  /**
   * Called (synchronously) whenever the log start offset changes: forward by retention,
   * DeleteRecords or the cold tier, either way by a truncation that starts the log over.
   */
  onLogStartOffsetChange?: (log: PartitionLogBase) => void;
  /** Where the batches live (default "file": segment files under `dir`; "memory": no files). */
  engine?: StorageEngine;
  /**
   * The high watermark checkpointed before (replication-offset-checkpoint), if any: the log
   * then opens with a managed high watermark (highWatermarkFollowsLogEnd false) starting at
   * min(checkpoint, log end offset).
   */
  highWatermark?: number;
  /**
   * The last close was clean by the LogManager's clean-shutdown record (one file for the whole
   * directory) even without the partition's own marker file.
   */
  cleanShutdown?: boolean;
  /**
   * The directory was made a moment ago and holds only partition.metadata (a new topic or
   * partition): nothing on disk to list, recover or read.
   */
  fresh?: boolean;
  /**
   * With `cleanShutdown`: the record says the directory held only partition.metadata and one
   * empty segment at this base offset (-1: not known), so it is not listed.
   */
  emptyAt?: number;
}

/**
 * Kafka's FetchIsolation: how far a read may go. A follower's replica fetch reads to the log
 * end, a read_uncommitted consumer to the high watermark, a read_committed one to the LSO.
 */
export type FetchIsolation = "logEnd" | "highWatermark" | "txnCommitted";

/** How much a read returns (PartitionLog.read). */
export interface ReadOptions {
  /** Return the first batch even when it is larger than `maxBytes` (KIP-74). */
  minOneBatch?: boolean;
  /** No batch at or past this offset (clamped to the log end). */
  upperBound?: number;
  /** The bound, when `upperBound` is not given: Kafka's FetchIsolation (default "logEnd"). */
  isolation?: FetchIsolation;
}

/** A partition log's state and reads; PartitionLog adds the writes. */
export abstract class PartitionLogBase {
  readonly topic: string;
  readonly partition: number;
  readonly producerState: ProducerStateManager = new ProducerStateManager();
  /** Set by open(); what recovery did. */
  recovery: RecoveryInfo = {
    cleanShutdown: false,
    truncatedBytes: 0,
    rebuiltIndexes: 0,
    replayedBatches: 0,
    deletedSegments: 0,
  };
  /** Which leader epoch wrote which offsets (leader-epoch-checkpoint). */
  readonly leaderEpochCache: LeaderEpochFileCache;
  /** The topic's id, when known (names the cold tier's objects). */
  readonly topicId?: string;
  /** "topic-partition", as Kafka's TopicPartition prints: built once, not on every append. */
  protected readonly topicPartition: string;

  /** The segments (Kafka's LocalLog, or memory); this class is the UnifiedLog around them. */
  protected readonly local: LocalLogStore;
  protected leo = 0;
  protected logStart = 0;
  /** The managed high watermark (used when `hwFollowsLogEnd` is false). */
  protected hw = 0;
  protected hwFollowsLogEnd = true;
  protected readonly listeners = new Set<() => void>();
  protected readonly txnIndex = new TransactionIndex();
  protected closed = false;
  protected remote?: RemoteLogView;

  protected constructor(readonly dir: string, config: LogConfig, opts?: PartitionLogOptions) {
    const base = dir.replace(/\/+$/, "").split("/").pop() ?? "";
    const dash = base.lastIndexOf("-");
    this.topic = opts?.topic ?? (dash > 0 ? base.slice(0, dash) : base);
    this.partition = opts?.partition ?? (dash > 0 ? Number(base.slice(dash + 1)) : 0);
    this.topicId = opts?.topicId;
    this.topicPartition = `${this.topic}-${this.partition}`;
    this.local = opts?.engine === "memory" ? new MemoryLog(config, opts?.decompress) : new LocalLog(
      dir,
      config,
      this.topicPartition,
      opts?.decompress,
      opts?.cleanShutdown,
      opts?.fresh,
      opts?.emptyAt,
    );
    this.leaderEpochCache = new LeaderEpochFileCache(this.local.leaderEpochCheckpoint);
  }

  /** Whether opening found file `name` in the directory; null: not known, look on disk. */
  listedAtOpen(name: string): boolean | null {
    return this.local.listedAtOpen(name);
  }
  /** Opening (with whatever attaches to the log) is over; see listedAtOpen. */
  forgetListing(): void {
    this.local.forgetListing();
  }
  /** Something outside the log wrote a file into its directory (the cold tier's metadata). */
  noteDirectoryWrite(): void {
    this.local.noteDirectoryWrite();
  }
  /**
   * The base offset of the log's one segment when it is empty and the directory is known to
   * hold nothing else but partition.metadata (for the clean-shutdown record); else -1.
   */
  soleEmptySegment(): number {
    return this.local.soleEmptySegment();
  }

  get config(): LogConfig {
    return this.local.config;
  }
  /** Runtime config change (AlterConfigs): applies to the next append and roll. */
  set config(c: LogConfig) {
    this.local.config = c;
  }
  protected get cfg(): LogConfig {
    return this.local.config;
  }

  get logStartOffset(): number {
    return this.logStart;
  }
  get logEndOffset(): number {
    return this.leo;
  }
  /**
   * The offset below which every replica in the ISR holds the log (what consumers may read).
   * With a single replica (highWatermarkFollowsLogEnd, the default) it is the log end offset.
   */
  get highWatermark(): number {
    return this.hwFollowsLogEnd ? this.leo : this.hw;
  }

  /**
   * True (the default): every append moves the high watermark to the log end offset (a single
   * replica). False: only updateHighWatermark moves it (the replication layer owns it);
   * switching to false keeps the current value.
   */
  get highWatermarkFollowsLogEnd(): boolean {
    return this.hwFollowsLogEnd;
  }
  set highWatermarkFollowsLogEnd(follows: boolean) {
    if (follows === this.hwFollowsLogEnd) return;
    const before = this.highWatermark;
    if (!follows) this.hw = this.leo;
    this.hwFollowsLogEnd = follows;
    if (this.highWatermark !== before) this.notifyListeners();
  }

  /**
   * Sets a managed high watermark, clamped to [logStartOffset, logEndOffset]; returns whether
   * it changed (and woke the fetch long-polls). No effect while it follows the log end.
   */
  updateHighWatermark(offset: number): boolean {
    if (this.hwFollowsLogEnd) return false;
    const hw = Math.max(this.logStart, Math.min(offset, this.leo));
    if (hw === this.hw) return false;
    this.hw = hw;
    this.notifyListeners();
    return true;
  }

  /** The upper bound of a read under `isolation` (Kafka's FetchIsolation). */
  fetchUpperBound(isolation: FetchIsolation): number {
    return isolation === "logEnd"
      ? this.leo
      : isolation === "highWatermark"
      ? this.highWatermark
      : this.lastStableOffset;
  }

  /** OffsetForLeaderEpoch: where `epoch` ended in this log (the epoch cache's endOffsetFor). */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.leaderEpochCache.endOffsetFor(epoch, this.leo);
  }
  /** The first offset of the earliest open transaction, bounded by the high watermark. */
  get lastStableOffset(): number {
    const fu = this.producerState.firstUnstableOffset();
    return fu === null ? this.highWatermark : Math.min(fu, this.highWatermark);
  }
  get sizeInBytes(): number {
    return this.local.sizeInBytes;
  }
  get segmentCount(): number {
    return this.local.segments.length;
  }
  /** Whether the data survives a restart (false for the memory engine). */
  get durable(): boolean {
    return this.local.durable;
  }
  /** Kafka's localLogStartOffset: the first offset held on local disk. */
  get localLogStartOffset(): number {
    return Math.max(this.logStart, this.local.baseOffset);
  }
  /** Bytes of the local segments (same as sizeInBytes). */
  get localBytes(): number {
    return this.sizeInBytes;
  }
  /** Bytes of the segments in the cold tier (verified copies only). */
  get remoteBytes(): number {
    return this.remote?.sizeInBytes() ?? 0;
  }
  get localSegmentCount(): number {
    return this.local.segments.length;
  }
  get remoteSegmentCount(): number {
    return this.remote?.segmentCount() ?? 0;
  }
  /** Kafka's highestOffsetInRemoteStorage: the last offset tiered, -1 when none. */
  get highestOffsetInRemoteStorage(): number {
    return this.remote?.highestOffset() ?? -1;
  }
  /** Whether the cold tier is attached (the partition has, or may get, tiered segments). */
  get hasRemoteLog(): boolean {
    return this.remote !== undefined;
  }
  /** Local segments' base offsets, sizes and file modification times (ListOffsets v0). */
  segmentTimes(): SegmentTime[] {
    return this.local.segmentTimes();
  }
  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.local.segmentBaseOffsets();
  }

  /** What appends and reads get once the log is closed (the partition moved or went). */
  protected closedError(): KafkaError {
    return new KafkaError(
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
      `${this.topic}-${this.partition} closed`,
    );
  }

  /** Wakes the fetch long-polls (after an append or a high watermark move). */
  protected notifyListeners(): void {
    // Most partitions have no long-poll waiting: no Set iterator per append for them.
    if (this.listeners.size > 0) callListeners(this.listeners);
  }

  /** Registers a callback fired after every append (fetch long-polls wait on it). */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- reads

  /**
   * Whole batches from the one containing `offset`, at most `maxBytes` unless `minOneBatch` and
   * the first batch is larger (KIP-74), and none at or past `upperBound` (e.g. the high
   * watermark or LSO), or the bound of `isolation` when no `upperBound` is given (default: the
   * log end, what a replica fetch reads). Reads from one segment, like Kafka. Throws
   * OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset]; at the log end returns an
   * empty array.
   */
  read(offset: number, maxBytes: number, opts: ReadOptions = {}): Promise<Uint8Array> {
    if (opts.isolation !== undefined && opts.upperBound === undefined) {
      opts = { ...opts, upperBound: this.fetchUpperBound(opts.isolation) };
    }
    try {
      if (this.remote && offset < this.local.baseOffset && offset >= this.logStart) {
        return this.readRemote(offset, maxBytes, opts);
      }
      return Promise.resolve(this.readLocal(offset, maxBytes, opts));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Whether a read at `offset` would be served from the cold tier. */
  isRemoteOffset(offset: number): boolean {
    return this.remote !== undefined && offset >= this.logStart &&
      offset < this.local.baseOffset;
  }

  /**
   * A read below the local log start, served by the cold tier. Nothing here holds the append
   * chain: appends and local reads go on while the cold tier answers.
   */
  protected async readRemote(
    offset: number,
    maxBytes: number,
    opts: { minOneBatch?: boolean; upperBound?: number },
  ): Promise<Uint8Array> {
    const upper = Math.min(opts.upperBound ?? this.leo, this.leo);
    if (offset >= upper) return new Uint8Array(0);
    const buf = await this.remote!.read(offset, maxBytes, {
      minOneBatch: opts.minOneBatch,
      upperBound: upper,
    });
    if (buf !== null) return buf; // possibly empty: the first batch did not fit
    // Nothing tiered at or after `offset`: the next data is the local log's.
    return this.readLocal(Math.max(this.local.baseOffset, this.logStart), maxBytes, opts);
  }

  /**
   * `read` of the local segments, synchronously: for offsets `isRemoteOffset` says are not
   * the cold tier's. Throws (rather than rejects) OFFSET_OUT_OF_RANGE.
   */
  readLocal(offset: number, maxBytes: number, opts: ReadOptions): Uint8Array {
    if (opts.isolation !== undefined && opts.upperBound === undefined) {
      opts = { ...opts, upperBound: this.fetchUpperBound(opts.isolation) };
    }
    if (this.closed) {
      throw this.closedError();
    }
    if (offset < this.logStart || offset > this.leo) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${offset} outside [${this.logStart}, ${this.leo}] of ${this.topic}-${this.partition}`,
      );
    }
    const upper = Math.min(opts.upperBound ?? this.leo, this.leo);
    if (offset >= upper) return CAUGHT_UP;
    return this.local.read(offset, maxBytes, upper, opts.minOneBatch);
  }

  /**
   * ListOffsets by timestamp: the first record with timestamp >= `ts` (through the first segment
   * whose largest timestamp reaches `ts`), or null when every record is older.
   */
  async offsetForTimestamp(ts: number): Promise<{ offset: number; timestamp: number } | null> {
    if (
      this.remote && this.remote.maxTimestampMs() >= ts &&
      this.logStart < this.local.baseOffset
    ) {
      const found = await this.remote.offsetForTimestamp(ts, this.logStart);
      if (found) return found;
    }
    return this.local.offsetForTimestamp(ts, this.logStart);
  }

  /** ListOffsets MAX_TIMESTAMP (-3): the record with the largest timestamp (first on ties). */
  async maxTimestampAndOffset(): Promise<{ offset: number; timestamp: number } | null> {
    const local = this.local.maxTimestampAndOffset();
    if (
      this.remote && this.remote.maxTimestampMs() >= 0 &&
      (local === null || this.remote.maxTimestampMs() >= local.timestamp)
    ) {
      const r = await this.remote.maxTimestampAndOffset();
      if (r && r.offset >= this.logStart && (local === null || r.timestamp >= local.timestamp)) {
        return r;
      }
    }
    return local;
  }

  /** Aborted transactions overlapping [startOffset, upperBound) for read_committed fetches. */
  abortedTransactions(startOffset: number, upperBound: number): AbortedTxn[] {
    return this.txnIndex.overlapping(startOffset, upperBound);
  }

  // ---------------------------------------------------------------- tiering and compaction

  /** The closed (non-active) local segments, oldest first. */
  closedSegments(): ClosedSegment[] {
    return this.local.closedSegments();
  }

  /** Whether `seg` is still one of this log's closed segments (not deleted or replaced). */
  holdsClosedSegment(seg: SegmentRef): boolean {
    return this.local.holdsClosedSegment(seg);
  }

  /** Reads a closed segment's .log, .index and .timeindex for upload (asynchronously). */
  readSegmentFiles(seg: SegmentRef): Promise<LogSegmentData> {
    return this.local.readSegmentFiles(seg);
  }

  /** LogCleaner: a closed segment's batches, or null when it was deleted meanwhile. */
  readClosedSegment(seg: SegmentRef): Promise<Uint8Array | null> {
    return this.local.readClosedSegment(seg);
  }

  /**
   * LogCleaner: replaces closed segment `seg` by its cleaned batches, made durable first and
   * swapped in synchronously, so no read or append sees a half-swapped segment (the swap
   * protocol is the store's: LocalLog's `.cleaned` → `.log.swap` → `.log`). False when `seg`
   * was deleted or replaced meanwhile, or the log is closed.
   */
  replaceClosedSegment(seg: SegmentRef, cleaned: Uint8Array): Promise<boolean> {
    return this.local.replaceClosedSegment(seg, cleaned, () => this.closed);
  }

  /** Aborted transactions overlapping [startOffset, endOffset] (the LogCleaner drops them). */
  abortedTxnsIn(startOffset: number, endOffset: number): AbortedTxn[] {
    return this.txnIndex.within(startOffset, endOffset);
  }

  /** Approximate heap held by indexes (for memory accounting). */
  get indexMemoryBytes(): number {
    return this.local.indexMemoryBytes;
  }
}

/** Calls every listener; one that throws does not keep the others from being called. */
export function callListeners(listeners: Iterable<() => void>): void {
  for (const l of listeners) {
    try {
      l();
    } catch {
      // a listener's failure is its own
    }
  }
}
