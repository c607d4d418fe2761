/**
 * PartitionLog: one partition's log, Kafka's UnifiedLog. It owns its segments through a
 * LocalLogStore (storage/local_log_store.ts): a LocalLog (storage/local_log.ts: segment files
 * in `<dataDir>/<topic>-<partition>`) or, with `engine: "memory"`, a MemoryLog
 * (storage/memory_log.ts); and the producer state, the TransactionIndex and the offsets the
 * broker reports (log start, log end, high watermark, last stable offset). Appends pass the LogValidator
 * (storage/log_validator.ts) first; retention counts with storage/log_retention.ts.
 *
 * Appends are serialised through a promise chain — one writer per partition — and run their
 * file I/O synchronously, so a fetch never observes a half-applied append. Reads are
 * synchronous positional reads of whole batches into one buffer.
 *
 * Recovery on open is the LogLoader's (storage/log_loader.ts): a compaction swap cut short
 * (`<base>.log.swap`) is completed; stale temp files (`.cleaned`, `.deleted`, `.tmp`) are
 * deleted; the segments are recovered (index rebuilds, closed segments' ends checked, the
 * active segment walked batch by batch, the log cut at the first torn or corrupt batch, every
 * action logged); producer state is loaded from the newest usable snapshot
 * (storage/producer_snapshot.ts) and rolled forward by replaying batch headers.
 *
 * Offsets (Kafka's names): the log start offset is the first offset a consumer may read; with
 * tiered storage (KIP-405) it can lie in the cold tier, below the local log start offset (the
 * first local segment). Reads below the local log start go to the attached RemoteLogView,
 * asynchronously and outside the append chain. Retention (deleteOldSegments), DeleteRecords
 * and the cold tier's own retention move the log start forward; LogManager checkpoints it
 * (log-start-offset-checkpoint) through `onLogStartOffsetChange`.
 */
import {
  isControl,
  readControlRecordType,
  readMarkerCoordinatorEpoch,
} from "../protocol/record_batch.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { SegmentTime } from "./legacy_offsets.ts";
import { assignOffsets, stampBatches, validateAppend } from "./log_validator.ts";
import { deletePolicy, type LogConfig } from "./log_config.ts";
import type { Decompressor } from "./log_segment.ts";
import { LocalLog } from "./local_log.ts";
import type { RecoveryInfo } from "./log_loader.ts";
import type { ClosedSegment, LocalLogStore, SegmentRef, StorageEngine } from "./local_log_store.ts";
import { MemoryLog } from "./memory_log.ts";
import type { RemoteLogView } from "./remote_log_view.ts";
import { retentionBreachedSegments } from "./log_retention.ts";
import { CLEAN_SHUTDOWN_FILE } from "./log_files.ts";
import type { AppendOptions, AppendResult } from "./log_append_info.ts";
import { storageFailure } from "./segment_damage.ts";
import { fsyncDir, writeFileAtomic } from "./file_io.ts";
import type { LogSegmentData } from "./remote_storage.ts";
import {
  type DuplicateBatch,
  type ProducerAppendInfo,
  ProducerStateManager,
} from "./producer_state.ts";
import { type AbortedTxn, TransactionIndex } from "./transaction_index.ts";

/**
 * The read of a caught-up consumer (at the bound), shared rather than allocated per partition
 * of every empty Fetch: it has no bytes to write, and it is never a fresh read to transfer.
 */
const CAUGHT_UP = new Uint8Array(0);
/** Moved to their own files; re-exported so existing imports keep working. */
export { CLEAN_SHUTDOWN_FILE };
export type { AbortedTxn, AppendOptions, AppendResult, ClosedSegment, RecoveryInfo, RemoteLogView };

export interface PartitionLogOptions {
  topic: string;
  partition: number;
  /** The topic's id (names the partition's objects in the cold tier). */
  topicId?: string;
  /** Lets timestamp lookups look inside compressed CreateTime batches. */
  decompress?: Decompressor;
  /** The log start offset checkpointed before (log-start-offset-checkpoint), if any. */
  logStartOffset?: number;
  /** Called (synchronously) whenever the log start offset moves forward. */
  onLogStartOffsetChange?: (log: PartitionLog) => void;
  /** Where the batches live (default "file": segment files under `dir`; "memory": no files). */
  engine?: StorageEngine;
  /**
   * The last close was clean by the LogManager's clean-shutdown record (one file for the whole
   * directory) even without the partition's own marker file.
   */
  cleanShutdown?: boolean;
}

/** Moved to storage/file_io.ts; re-exported so existing imports keep working. */
export { fsyncDir, writeFileAtomic };

export class PartitionLog {
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

  /** The segments (Kafka's LocalLog, or memory); this class is the UnifiedLog around them. */
  private readonly local: LocalLogStore;
  private leo = 0;
  private logStart = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<() => void>();
  private unflushedMessages = 0;
  private lastFlushMs = Date.now();
  private readonly txnIndex = new TransactionIndex();
  private closed = false;
  private readonly rollListeners = new Set<() => void>();
  private remote?: RemoteLogView;
  /** The checkpointed log start offset given at open (never trusted above the log end). */
  private readonly checkpointedStart: number;
  private readonly onLogStartChange?: (log: PartitionLog) => void;
  /** The topic's id, when known (names the cold tier's objects). */
  readonly topicId?: string;

  private constructor(readonly dir: string, config: LogConfig, opts?: PartitionLogOptions) {
    const base = dir.replace(/\/+$/, "").split("/").pop() ?? "";
    const dash = base.lastIndexOf("-");
    this.topic = opts?.topic ?? (dash > 0 ? base.slice(0, dash) : base);
    this.partition = opts?.partition ?? (dash > 0 ? Number(base.slice(dash + 1)) : 0);
    this.topicId = opts?.topicId;
    this.checkpointedStart = opts?.logStartOffset ?? -1;
    this.onLogStartChange = opts?.onLogStartOffsetChange;
    const name = `${this.topic}-${this.partition}`;
    this.local = opts?.engine === "memory"
      ? new MemoryLog(config, opts?.decompress)
      : new LocalLog(dir, config, name, opts?.decompress, opts?.cleanShutdown);
  }

  /**
   * Opens (creating if needed) and recovers the log in `dir`; with `engine: "memory"` the log
   * starts empty and `dir` only names it.
   */
  static open(dir: string, config: LogConfig, opts?: PartitionLogOptions): Promise<PartitionLog> {
    try {
      const log = new PartitionLog(dir, config, opts);
      log.load();
      return Promise.resolve(log);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  get config(): LogConfig {
    return this.local.config;
  }
  /** Runtime config change (AlterConfigs): applies to the next append and roll. */
  set config(c: LogConfig) {
    this.local.config = c;
  }
  private get cfg(): LogConfig {
    return this.local.config;
  }

  get logStartOffset(): number {
    return this.logStart;
  }
  get logEndOffset(): number {
    return this.leo;
  }
  /** Single replica: everything appended is replicated "everywhere", so HW == LEO. */
  get highWatermark(): number {
    return this.leo;
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

  // ---------------------------------------------------------------- recovery

  private load(): void {
    const loaded = this.local.load(
      (earliest, leo) => {
        this.leo = leo;
        return this.startFromCheckpoint(earliest);
      },
      this.producerState,
      this.txnIndex,
      this.recovery,
    );
    this.leo = loaded.logEndOffset;
    this.logStart = this.startFromCheckpoint(loaded.baseOffset);
  }

  /** The log start offset: `earliest` data held, raised to the checkpoint (at most the LEO). */
  private startFromCheckpoint(earliest: number): number {
    return Math.max(earliest, Math.min(this.checkpointedStart, this.leo));
  }

  /**
   * Attaches the cold tier (RemoteLogManager). Its segments may start below the first local
   * segment: the log start offset then lies in the cold tier.
   */
  attachRemote(view: RemoteLogView): void {
    this.remote = view;
    const remoteStart = view.earliestOffset();
    const earliest = remoteStart >= 0
      ? Math.min(remoteStart, this.local.baseOffset)
      : this.local.baseOffset;
    const start = this.startFromCheckpoint(earliest);
    if (start !== this.logStart) {
      this.logStart = start;
      this.txnIndex.prune(this.logStart);
    }
  }

  /** Kafka writes a producer snapshot at each roll and on close, so recovery replays little. */
  private writeSnapshot(offset: number): void {
    this.local.writeProducerSnapshot(
      offset,
      this.producerState.toSnapshot().producers,
      this.txnIndex.all,
    );
  }

  // ---------------------------------------------------------------- append

  /** What appends and reads get once the log is closed (the partition moved or went). */
  private closedError(): KafkaError {
    return new KafkaError(
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
      `${this.topic}-${this.partition} closed`,
    );
  }

  private enqueue<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * Validates (the LogValidator), checks producer state, assigns offsets by patching baseOffset
   * in place, applies LogAppendTime if configured, writes, updates indexes, rolls. Appends to one
   * partition are serialised. Throws KafkaError on invalid input; nothing from that request is
   * appended then. Note that `records` is modified in place.
   */
  append(records: Uint8Array, opts: AppendOptions = {}): Promise<AppendResult> {
    return this.enqueue(() => this.doAppend(records, opts));
  }

  private async doAppend(records: Uint8Array, opts: AppendOptions): Promise<AppendResult> {
    if (this.closed) throw this.closedError();
    const now = opts.now ?? Date.now();
    const cfg = this.cfg;
    const fromClient = (opts.origin ?? "client") === "client";
    const name = `${this.topic}-${this.partition}`;
    const validated = validateAppend(records, cfg, fromClient, name, now);
    records = validated.records;
    const headers = validated.headers;
    // Offsets, then producer checks against a staged copy: a failure leaves no trace.
    const { positions, nextOffset: next, recordCount } = assignOffsets(headers, this.leo);
    const info: ProducerAppendInfo = this.producerState.prepareAppend();
    const dups: DuplicateBatch[] = [];
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i];
      const control = isControl(h);
      const controlType = control ? readControlRecordType(records, positions[i], h) : -1;
      const epoch = control ? readMarkerCoordinatorEpoch(records, positions[i], h) : -1;
      const dup = info.append(h, fromClient, controlType, epoch, true);
      if (dup) dups.push(dup);
    }
    const logAppend = cfg.messageTimestampType === "LogAppendTime";
    if (dups.length > 0) {
      if (dups.length !== headers.length) {
        throw new KafkaError(
          ErrorCode.DUPLICATE_SEQUENCE_NUMBER,
          "request mixes new batches with retried ones",
        );
      }
      return {
        baseOffset: dups[0].firstOffset,
        lastOffset: dups[dups.length - 1].lastOffset,
        logAppendTime: logAppend ? dups[0].timestamp : -1,
        logStartOffset: this.logStart,
        duplicate: true,
        recordCount,
      };
    }

    const maxTimestamp = stampBatches(
      records,
      headers,
      positions,
      opts.leaderEpoch ?? 0,
      logAppend ? now : null,
    );
    const last = next - 1;

    if (this.local.shouldRoll(records.length, maxTimestamp, last, now)) {
      try {
        await this.roll(now);
      } catch (e) {
        // Nothing of this request is written yet; the next append tries to roll again.
        throw storageFailure(name, "rolling a new segment", e);
      }
    }
    try {
      this.local.append(records, headers);
    } catch (e) {
      throw storageFailure(name, "append", e);
    }
    this.leo = next;
    this.producerState.commit(info);
    for (const t of info.completedTxns) this.txnIndex.add(t);

    this.unflushedMessages += recordCount;
    let flushFailure: KafkaError | null = null;
    if (
      this.unflushedMessages >= cfg.flushIntervalMessages ||
      now - this.lastFlushMs >= cfg.flushIntervalMs
    ) {
      try {
        await this.flushActive(now);
      } catch (e) {
        // Written but not durable: not acknowledged (a retry of an idempotent batch is
        // recognised as a duplicate).
        flushFailure = storageFailure(name, "fsync", e);
      }
    }
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // a listener's failure is its own
      }
    }
    if (flushFailure) throw flushFailure;
    return {
      baseOffset: headers[0].baseOffset,
      lastOffset: last,
      logAppendTime: logAppend ? now : -1,
      logStartOffset: this.logStart,
      duplicate: false,
      recordCount,
    };
  }

  /** Seals the active segment (fsync, final index entries) and starts a new one at the LEO. */
  private async roll(now: number): Promise<void> {
    await this.local.roll(this.leo, now);
    this.writeSnapshot(this.leo);
    this.unflushedMessages = 0;
    this.lastFlushMs = now;
    for (const l of this.rollListeners) {
      try {
        l();
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Registers a callback fired after every roll (a closed segment is ready to tier). */
  onRoll(listener: () => void): () => void {
    this.rollListeners.add(listener);
    return () => this.rollListeners.delete(listener);
  }

  private async flushActive(now = Date.now()): Promise<void> {
    await this.local.flush();
    this.unflushedMessages = 0;
    this.lastFlushMs = now;
  }

  /** fsyncs everything appended so far. */
  flush(): Promise<void> {
    return this.enqueue(() => (this.closed ? undefined : this.flushActive()));
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
   * watermark or LSO). Reads from one segment, like Kafka. Throws OFFSET_OUT_OF_RANGE outside
   * [logStartOffset, logEndOffset]; at the log end returns an empty array.
   */
  read(
    offset: number,
    maxBytes: number,
    opts: { minOneBatch?: boolean; upperBound?: number } = {},
  ): Promise<Uint8Array> {
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
  private async readRemote(
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
  readLocal(
    offset: number,
    maxBytes: number,
    opts: { minOneBatch?: boolean; upperBound?: number },
  ): Uint8Array {
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

  // ---------------------------------------------------------------- retention

  /** Moves the log start offset forward (never back) and tells the checkpointer. */
  private raiseLogStart(offset: number): boolean {
    const target = Math.min(offset, this.leo);
    if (target <= this.logStart) return false;
    this.logStart = target;
    this.txnIndex.prune(this.logStart);
    try {
      this.onLogStartChange?.(this);
    } catch {
      // the checkpoint is rewritten on the next change and on close
    }
    return true;
  }

  /** Kafka's deleteLogStartOffsetBreachedSegments: segments wholly below the log start. */
  private deleteLogStartOffsetBreached(): number {
    const n = this.local.segmentsBelow(this.logStart);
    this.local.dropOldestSegments(n);
    return n;
  }

  /**
   * Kafka's UnifiedLog.deleteOldSegments, run by the LogManager every
   * `log.retention.check.interval.ms`: with a delete policy, segments past `retention.ms` or
   * beyond `retention.bytes` go, oldest first; segments wholly below the log start go whatever
   * the policy. For a tiered topic the local bounds are `local.retention.ms/bytes`, only
   * segments already copied to the cold tier (end offset <= highestOffsetInRemoteStorage) may
   * go, the active segment never does, and the log start stays (the data is still readable
   * from the cold tier, whose own retention the RemoteLogManager applies). Otherwise, when
   * every segment including a non-empty active one is past retention, the log rolls first and
   * the old active segment goes too, as in Kafka. Returns the number of segments deleted.
   */
  deleteOldSegments(now: number = Date.now()): Promise<number> {
    return this.enqueue(async () => {
      if (this.closed) return 0;
      let deleted = this.deleteLogStartOffsetBreached();
      const cfg = this.cfg;
      if (!deletePolicy(cfg)) return deleted;
      const tiered = cfg.remoteStorageEnable && this.remote !== undefined;
      const n = retentionBreachedSegments(
        this.local,
        cfg,
        tiered,
        this.remote?.highestOffset() ?? -1,
        now,
      );
      if (n === 0) return deleted;
      if (n === this.local.segments.length) await this.roll(now); // the active segment goes too
      this.local.dropOldestSegments(n);
      deleted += n;
      if (!tiered) this.raiseLogStart(this.local.baseOffset);
      return deleted;
    });
  }

  /**
   * DeleteRecords: moves the log start offset to `offset` (-1: the high watermark) and deletes
   * the segments wholly below it; returns the new log start (the "low watermark"). Throws
   * OFFSET_OUT_OF_RANGE beyond the high watermark and POLICY_VIOLATION unless the cleanup
   * policy includes delete (Kafka's rule).
   */
  deleteRecordsBefore(offset: number): Promise<number> {
    return this.enqueue(() => {
      if (this.closed) {
        throw this.closedError();
      }
      if (!deletePolicy(this.cfg)) {
        throw new KafkaError(
          ErrorCode.POLICY_VIOLATION,
          `records of ${this.topic}-${this.partition} cannot be deleted: cleanup.policy is ${this.cfg.cleanupPolicy}`,
        );
      }
      const target = offset === -1 ? this.highWatermark : offset;
      if (target < 0 || target > this.highWatermark) {
        throw new KafkaError(
          ErrorCode.OFFSET_OUT_OF_RANGE,
          `offset ${offset} is outside [0, ${this.highWatermark}] of ${this.topic}-${this.partition}`,
        );
      }
      if (this.raiseLogStart(target)) this.deleteLogStartOffsetBreached();
      return this.logStart;
    });
  }

  /**
   * Moves the log start offset forward to `offset` (the cold tier's retention deleted the
   * segments below it) and deletes local segments wholly below it.
   */
  advanceLogStartOffset(offset: number): Promise<number> {
    return this.enqueue(() => {
      if (!this.closed && this.raiseLogStart(offset)) this.deleteLogStartOffsetBreached();
      return this.logStart;
    });
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

  // ---------------------------------------------------------------- shutdown

  /**
   * Flushes, writes indexes and a producer snapshot, and marks the shutdown clean. Appends
   * queued before close finish first; later calls fail with NOT_LEADER_OR_FOLLOWER. `marker`
   * false leaves the partition's own clean-shutdown marker out (the LogManager records it).
   */
  close(marker = true): Promise<void> {
    return this.enqueue(() => {
      if (this.closed) return;
      this.closed = true;
      this.rollListeners.clear();
      this.local.close(() => this.writeSnapshot(this.leo), marker);
      this.listeners.clear();
    });
  }

  /** Closes without the shutdown bookkeeping (for deletion): files are about to go. */
  closeForDelete(): Promise<void> {
    return this.enqueue(() => {
      if (this.closed) return;
      this.closed = true;
      this.local.releaseHandles();
      this.listeners.clear();
    });
  }

  /** Approximate heap held by indexes (for memory accounting). */
  get indexMemoryBytes(): number {
    return this.local.indexMemoryBytes;
  }
}
