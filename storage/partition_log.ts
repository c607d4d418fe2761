/**
 * PartitionLog: one partition's log, Kafka's UnifiedLog. It owns its segments through a
 * LocalLogStore (storage/local_log_store.ts): a LocalLog (storage/local_log.ts: segment files
 * in `<dataDir>/<topic>-<partition>`) or, with `engine: "memory"`, a MemoryLog
 * (storage/memory_log.ts); and the producer state, the TransactionIndex and the offsets the
 * broker reports (log start, log end, high watermark, last stable offset). Appends pass the LogValidator
 * (storage/log_validator.ts) first; retention counts with storage/log_retention.ts.
 *
 * Appends are serialised through a promise chain — one writer per partition, run at once when
 * nothing is ahead of them — and run their file I/O synchronously, so a fetch never observes a
 * half-applied append. Reads are synchronous positional reads of whole batches into one buffer.
 *
 * Recovery on open is the LogLoader's (storage/log_loader.ts): a compaction swap cut short
 * (`<base>.log.swap`) is completed; stale temp files (`.cleaned`, `.deleted`, `.tmp`) are
 * deleted; the segments are recovered (index rebuilds, closed segments' ends checked, the
 * active segment walked batch by batch, the log cut at the first torn or corrupt batch, every
 * action logged); producer state is loaded from the newest usable snapshot
 * (storage/producer_snapshot.ts) and rolled forward by replaying batch headers.
 *
 * The state and the read side (offsets, high watermark, leader epoch cache, reads bounded by
 * FetchIsolation) are PartitionLogBase's (storage/partition_log_base.ts); this class writes:
 * leader appends, follower appends (storage/follower_append.ts), truncation
 * (storage/log_truncation.ts), retention and shutdown.
 *
 * Offsets (Kafka's names): the log start offset is the first offset a consumer may read; with
 * tiered storage (KIP-405) it can lie in the cold tier, below the local log start offset (the
 * first local segment). Reads below the local log start go to the attached RemoteLogView,
 * asynchronously and outside the append chain. Retention (deleteOldSegments), DeleteRecords
 * and the cold tier's own retention move the log start forward; LogManager checkpoints it
 * (log-start-offset-checkpoint) through `onLogStartOffsetChange`.
 */
import {
  type BatchHeader,
  isControl,
  readControlRecordType,
  readMarkerCoordinatorEpoch,
} from "../protocol/record_batch.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { assignOffsets, stampBatches, validateAppend } from "./log_validator.ts";
import { deletePolicy, type LogConfig } from "./log_config.ts";
import type { RecoveryInfo } from "./log_loader.ts";
import type { ClosedSegment } from "./local_log_store.ts";
import type { RemoteLogView } from "./remote_log_view.ts";
import { retentionBreachedSegments } from "./log_retention.ts";
import { CLEAN_SHUTDOWN_FILE } from "./log_files.ts";
import type { AppendOptions, AppendResult } from "./log_append_info.ts";
import { storageFailure } from "./segment_damage.ts";
import { fsyncDir, writeFileAtomic } from "./file_io.ts";
import type { DuplicateBatch, ProducerAppendInfo } from "./producer_state.ts";
import type { AbortedTxn } from "./transaction_index.ts";
import { loadEpochCache } from "./leader_epoch_cache.ts";
import { prepareFollowerAppend } from "./follower_append.ts";
import { checkAboveColdTier } from "./log_truncation.ts";
import {
  callListeners,
  type FetchIsolation,
  PartitionLogBase,
  type PartitionLogOptions,
  type ReadOptions,
} from "./partition_log_base.ts";

/** Moved to their own files; re-exported so existing imports keep working. */
export { CLEAN_SHUTDOWN_FILE };
export type { AbortedTxn, AppendOptions, AppendResult, ClosedSegment, RecoveryInfo, RemoteLogView };

export type { FetchIsolation, PartitionLogOptions, ReadOptions };

/** Moved to storage/file_io.ts; re-exported so existing imports keep working. */
export { fsyncDir, writeFileAtomic };

export class PartitionLog extends PartitionLogBase {
  private chain: Promise<unknown> = Promise.resolve();
  /** Operations in the chain not yet settled: none, and the next one may run at once. */
  private queued = 0;
  private readonly settled = () => {
    this.queued--;
  };
  /** An operation is running at once, in its caller's turn (see enqueue). */
  private runningNow = false;
  /** Opens when that operation settles; set once something is enqueued behind it. */
  private gate: PromiseWithResolvers<void> | null = null;
  private unflushedMessages = 0;
  private lastFlushMs = Date.now();
  private readonly rollListeners = new Set<() => void>();
  /** The checkpointed log start offset given at open (never trusted above the log end). */
  private readonly checkpointedStart: number;
  private readonly onLogStartChange?: (log: PartitionLogBase) => void;

  private constructor(dir: string, config: LogConfig, opts?: PartitionLogOptions) {
    super(dir, config, opts);
    this.checkpointedStart = opts?.logStartOffset ?? -1;
    this.onLogStartChange = opts?.onLogStartOffsetChange;
    this.checkpointedHw = opts?.highWatermark ?? -1;
  }

  /** The checkpointed high watermark given at open, -1 when none. */
  private readonly checkpointedHw: number;

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
    loadEpochCache(this.leaderEpochCache, this.local, this.logStart, this.leo);
    if (this.checkpointedHw >= 0) {
      this.hwFollowsLogEnd = false;
      this.hw = Math.max(this.logStart, Math.min(this.checkpointedHw, this.leo));
    }
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

  /**
   * Runs `fn` after every operation enqueued before it. With none outstanding it runs at once,
   * in the caller's turn: a synchronous append (the usual one) then costs no microtask, and a
   * Produce request's thousand partition batches are written in the handler's own loop.
   */
  private enqueue<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.queued > 0) {
      // Enqueued from inside an operation running at once (a listener): after it, whatever
      // it turns out to return.
      if (this.runningNow && this.gate === null) {
        this.gate = Promise.withResolvers<void>();
        this.chain = this.gate.promise;
      }
      return this.track(this.chain.then(fn));
    }
    this.queued++;
    this.runningNow = true;
    let out: T | Promise<T>;
    try {
      out = fn();
    } catch (e) {
      out = Promise.reject(e);
    } finally {
      this.runningNow = false;
    }
    const gate = this.gate;
    this.gate = null;
    if (!(out instanceof Promise)) {
      this.queued--;
      gate?.resolve();
      return Promise.resolve(out);
    }
    if (gate) {
      const open = () => gate.resolve();
      out.then(open, open);
      out.then(this.settled, this.settled);
    } else {
      this.chain = out.then(this.settled, this.settled);
    }
    return out;
  }

  /** Makes later operations wait for `run`. */
  private track<T>(run: Promise<T>): Promise<T> {
    this.queued++;
    this.chain = run.then(this.settled, this.settled);
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

  /**
   * Synchronous unless a roll or a flush is due: an append to one of many partitions of a
   * request then costs no promise of its own beyond its place in the chain.
   */
  private doAppend(
    records: Uint8Array,
    opts: AppendOptions,
  ): AppendResult | Promise<AppendResult> {
    if (this.closed) throw this.closedError();
    const now = opts.now ?? Date.now();
    const cfg = this.cfg;
    const fromClient = (opts.origin ?? "client") === "client";
    const validated = validateAppend(records, cfg, fromClient, this.topicPartition, now);
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

    const leaderEpoch = opts.leaderEpoch ?? 0;
    const maxTimestamp = stampBatches(
      records,
      headers,
      positions,
      leaderEpoch,
      logAppend ? now : null,
    );
    const written = this.writeBatches(
      records,
      headers,
      info,
      next,
      recordCount,
      maxTimestamp,
      now,
      () => {
        this.leaderEpochCache.assign(leaderEpoch, headers[0].baseOffset);
      },
    );
    const result = (): AppendResult => ({
      baseOffset: headers[0].baseOffset,
      lastOffset: next - 1,
      logAppendTime: logAppend ? now : -1,
      logStartOffset: this.logStart,
      duplicate: false,
      recordCount,
    });
    return written ? written.then(result) : result();
  }

  /**
   * The leader's batches, appended byte for byte with their own offsets and leader epochs
   * (storage/follower_append.ts), through the same append chain as leader appends; producer
   * state, transactions and the leader epoch cache follow them. Throws OFFSET_OUT_OF_RANGE
   * (nothing appended) when they start below the log end offset, CORRUPT_MESSAGE when they
   * are damaged. Records nothing and returns an empty result when no batch is whole.
   */
  appendAsFollower(records: Uint8Array): Promise<AppendResult> {
    return this.enqueue(async () => {
      if (this.closed) throw this.closedError();
      const f = prepareFollowerAppend(records, this.leo, this.producerState, this.topicPartition);
      if (f === null) {
        return {
          baseOffset: this.leo,
          lastOffset: this.leo - 1,
          logAppendTime: -1,
          logStartOffset: this.logStart,
          duplicate: false,
          recordCount: 0,
        };
      }
      const now = Date.now();
      await this.writeBatches(
        f.records,
        f.headers,
        f.info,
        f.nextOffset,
        f.recordCount,
        f.maxTimestamp,
        now,
        () => {
          for (const h of f.headers) {
            this.leaderEpochCache.assign(h.partitionLeaderEpoch, h.baseOffset);
          }
        },
        f.firstOffset,
      );
      return {
        baseOffset: f.firstOffset,
        lastOffset: f.nextOffset - 1,
        logAppendTime: -1,
        logStartOffset: this.logStart,
        duplicate: false,
        recordCount: f.recordCount,
      };
    });
  }

  /**
   * Writes offset-assigned batches (rolling first when due, at `rollOffset`), commits their
   * staged producer state, flushes by policy and wakes the listeners. `assignEpochs` runs just
   * before the write, as Kafka assigns epoch start offsets before the segment append: the
   * checkpoint never lacks the epoch of a batch on disk, and an entry whose batches a crash
   * or a failed write lost lies at or past the log end, where it is trimmed (on open, or here).
   * Throws a storage failure; after a failed fsync the batches stay written.
   */
  private writeBatches(
    records: Uint8Array,
    headers: BatchHeader[],
    info: ProducerAppendInfo,
    next: number,
    recordCount: number,
    maxTimestamp: number,
    now: number,
    assignEpochs: () => void,
    rollOffset = this.leo,
  ): Promise<void> | undefined {
    if (this.local.shouldRoll(records.length, maxTimestamp, next - 1, now)) {
      return this.roll(now, rollOffset).then(
        () => this.writeRolled(records, headers, info, next, recordCount, now, assignEpochs),
        (e) => {
          // Nothing of this request is written yet; the next append tries to roll again.
          throw storageFailure(this.topicPartition, "rolling a new segment", e);
        },
      );
    }
    return this.writeRolled(records, headers, info, next, recordCount, now, assignEpochs);
  }

  /** writeBatches once any roll is done; a promise only when a flush is due. */
  private writeRolled(
    records: Uint8Array,
    headers: BatchHeader[],
    info: ProducerAppendInfo,
    next: number,
    recordCount: number,
    now: number,
    assignEpochs: () => void,
  ): Promise<void> | undefined {
    const cfg = this.cfg;
    assignEpochs();
    try {
      this.local.append(records, headers);
    } catch (e) {
      this.leaderEpochCache.truncateFromEnd(this.leo);
      throw storageFailure(this.topicPartition, "append", e);
    }
    this.leo = next;
    this.producerState.commit(info);
    for (const t of info.completedTxns) this.txnIndex.add(t);

    this.unflushedMessages += recordCount;
    if (
      this.unflushedMessages >= cfg.flushIntervalMessages ||
      now - this.lastFlushMs >= cfg.flushIntervalMs
    ) {
      return this.flushActive(now).then(
        () => this.notifyListeners(),
        (e) => {
          // Written but not durable: not acknowledged (a retry of an idempotent batch is
          // recognised as a duplicate).
          this.notifyListeners();
          throw storageFailure(this.topicPartition, "fsync", e);
        },
      );
    }
    this.notifyListeners();
  }

  /** Seals the active segment (fsync, final index entries) and starts a new one at the LEO. */
  private async roll(now: number, nextOffset = this.leo): Promise<void> {
    await this.local.roll(nextOffset, now);
    this.writeSnapshot(this.leo);
    this.unflushedMessages = 0;
    this.lastFlushMs = now;
    callListeners(this.rollListeners);
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

  // ---------------------------------------------------------------- truncation

  /**
   * Kafka's UnifiedLog.truncateTo (a follower dropping what its leader does not hold): every
   * batch ending at or after `offset` goes (a batch holding it goes whole), with its index
   * entries, producer snapshots above it and epoch cache entries; producer state and aborted
   * transactions are rebuilt by replay; HW = min(HW, new log end). At or past the log end only
   * the epoch cache is trimmed to it. Below the first local segment the log is emptied and
   * starts at `offset`. Throws KAFKA_STORAGE_ERROR (nothing changed) at or below the highest
   * offset in the cold tier, which holds those batches for good. See storage/log_truncation.ts.
   */
  truncateTo(offset: number): Promise<void> {
    return this.enqueue(() => {
      if (this.closed) throw this.closedError();
      if (offset < 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `truncate to ${offset}`);
      if (offset >= this.leo) {
        this.leaderEpochCache.truncateFromEnd(this.leo);
        return;
      }
      checkAboveColdTier(this, offset, "truncate");
      if (offset < this.local.baseOffset) return this.startAt(offset, offset);
      try {
        this.leo = this.local.truncateTo(offset);
      } catch (e) {
        throw this.truncationFailed(e);
      }
      this.afterTruncation(Math.min(this.logStart, this.leo));
    });
  }

  /**
   * Empties the log and starts it at `offset` (Kafka's truncateFullyAndStartAt: a follower
   * whose log end the leader no longer holds), with the log start at `logStartOffset`
   * (default `offset`; lower only when the cold tier holds the offsets between). Throws
   * KAFKA_STORAGE_ERROR (nothing changed) at or below the highest offset in the cold tier.
   */
  truncateFullyAndStartAt(offset: number, logStartOffset = offset): Promise<void> {
    return this.enqueue(() => {
      if (this.closed) throw this.closedError();
      if (offset < 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `start at ${offset}`);
      checkAboveColdTier(this, offset, "start over");
      this.startAt(offset, Math.max(0, Math.min(logStartOffset, offset)));
    });
  }

  private startAt(offset: number, logStart: number): void {
    try {
      this.local.truncateFullyAndStartAt(offset);
    } catch (e) {
      throw this.truncationFailed(e);
    }
    this.leaderEpochCache.clear();
    this.leo = offset;
    this.afterTruncation(logStart);
  }

  /**
   * A truncation the disk failed part way: what is in memory no longer matches the files, so
   * the log takes no more reads or writes (NOT_LEADER_OR_FOLLOWER, as a closed log) and is
   * left without its clean-shutdown mark: reopening it recovers from the files, which every
   * step leaves loadable (storage/log_truncation.ts), as Kafka takes such a log dir offline.
   */
  private truncationFailed(e: unknown): KafkaError {
    this.closed = true;
    try {
      this.local.releaseHandles();
    } catch {
      // the failure being reported is the truncation's
    }
    this.notifyListeners();
    this.listeners.clear();
    return storageFailure(`${this.topic}-${this.partition}`, "truncation", e);
  }

  /** Offsets, caches and producer state brought in line with the truncated segments. */
  private afterTruncation(logStart: number): void {
    this.leaderEpochCache.truncateFromEnd(this.leo);
    const startMoved = logStart !== this.logStart;
    this.logStart = logStart;
    this.local.reloadProducerState(
      this.logStart,
      this.leo,
      this.producerState,
      this.txnIndex,
    );
    this.txnIndex.prune(this.logStart);
    this.hw = Math.max(this.logStart, Math.min(this.hw, this.leo));
    this.unflushedMessages = 0;
    if (startMoved) {
      try {
        this.onLogStartChange?.(this);
      } catch {
        // the checkpoint is rewritten on the next change and on close
      }
    }
    this.notifyListeners();
  }

  // ---------------------------------------------------------------- retention

  /** Moves the log start offset forward (never back) and tells the checkpointer. */
  private raiseLogStart(offset: number): boolean {
    const target = Math.min(offset, this.leo);
    if (target <= this.logStart) return false;
    this.logStart = target;
    this.txnIndex.prune(this.logStart);
    this.leaderEpochCache.truncateFromStart(this.logStart);
    if (this.hw < this.logStart) this.hw = this.logStart;
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
      // Never what the ISR has not all replicated (Kafka deletes below the high watermark).
      const hw = this.highWatermark;
      const deletable = hw < this.leo ? Math.min(n, this.local.segmentsBelow(hw)) : n;
      if (deletable === 0) return deleted;
      if (deletable === this.local.segments.length) await this.roll(now); // the active goes too
      this.local.dropOldestSegments(deletable);
      deleted += deletable;
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
      this.local.close(() => {
        this.writeSnapshot(this.leo);
        this.leaderEpochCache.flushIfDirty();
      }, marker);
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
}
