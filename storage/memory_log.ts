/**
 * The memory engine's partition store: a LocalLogStore whose segments hold their batches as
 * Uint8Arrays, for test suites that want speed over durability (`storage: "memory"`).
 * Nothing is written to disk and nothing survives a restart. Segments still roll by
 * `segment.bytes` / `segment.ms`, so retention by size and time and DeleteRecords drop whole
 * segments exactly as the file engine does, and reads return the same bytes: whole batches as
 * appended, from one segment, cut to `maxBytes` by the same rule (KIP-74's first batch aside).
 *
 * The LogCleaner compacts memory logs as it does files (it reads a closed segment's batches
 * and hands back the cleaned ones, swapped in at once). Not here: tiering, which uploads
 * segment files (memory logs are never attached to the RemoteLogManager).
 */
import {
  type BatchHeader,
  isControl,
  lastOffset,
  readBatchHeader,
  readControlRecordType,
  timestampType,
  totalSize,
} from "../protocol/record_batch.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { type Decompressor, findRecordInBatch } from "./batch_search.ts";
import type { SegmentTime } from "./legacy_offsets.ts";
import { type LogConfig, randomSegmentJitter } from "./log_config.ts";
import type { RecoveryInfo } from "./log_loader.ts";
import { allocateReadBuffer } from "./log_segment.ts";
import {
  type ClosedSegment,
  closedSegmentsOf,
  holdsClosed,
  type LoadedLog,
  type LocalLogStore,
  segmentIndexOf,
  type SegmentRef,
} from "./local_log_store.ts";
import type { ProducerStateEntry, ProducerStateManager } from "./producer_state.ts";
import { type LeaderEpochCheckpoint, NO_EPOCH_CHECKPOINT } from "./leader_epoch_cache.ts";
import type { LogSegmentData } from "./remote_storage.ts";
import type { TimestampOffset } from "./time_index.ts";
import type { AbortedTxn, TransactionIndex } from "./transaction_index.ts";

/** One stored batch: its bytes (a view of the append's copy) and its header. */
interface MemoryBatch {
  bytes: Uint8Array;
  header: BatchHeader;
  lastOffset: number;
}

/** One in-memory segment: batches in offset order. */
export class MemorySegment implements SegmentRef {
  readonly batches: MemoryBatch[] = [];
  size = 0;
  /** Largest timestamp so far and the batch holding it (first on ties); -1 when empty. */
  largestTimestamp = -1;
  private largestAt = -1;
  readonly rollJitterMs: number;

  constructor(readonly baseOffset: number, config: LogConfig, readonly created: number) {
    this.rollJitterMs = randomSegmentJitter(config);
  }

  add(bytes: Uint8Array, header: BatchHeader): void {
    this.batches.push({ bytes, header, lastOffset: lastOffset(header) });
    this.size += bytes.length;
    if (header.maxTimestamp > this.largestTimestamp) {
      this.largestTimestamp = header.maxTimestamp;
      this.largestAt = this.batches.length - 1;
    }
  }

  /** Drops the batches from index `first` on and recomputes the segment's size and times. */
  truncateAt(first: number): void {
    if (first >= this.batches.length) return;
    this.batches.length = Math.max(0, first);
    this.size = 0;
    this.largestTimestamp = -1;
    this.largestAt = -1;
    for (let i = 0; i < this.batches.length; i++) {
      const b = this.batches[i];
      this.size += b.bytes.length;
      if (b.header.maxTimestamp > this.largestTimestamp) {
        this.largestTimestamp = b.header.maxTimestamp;
        this.largestAt = i;
      }
    }
  }

  /** Offset after the last batch, or the base offset when empty. */
  get nextOffset(): number {
    const b = this.batches[this.batches.length - 1];
    return b ? b.lastOffset + 1 : this.baseOffset;
  }

  /** Index of the first batch ending at or after `offset`, or -1. */
  batchIndexFor(offset: number): number {
    const b = this.batches;
    let lo = 0;
    let hi = b.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid].lastOffset >= offset) {
        found = mid;
        hi = mid - 1;
      } else {
        lo = mid + 1;
      }
    }
    return found;
  }

  /** The batch holding the largest timestamp, or undefined when empty. */
  get largestBatch(): MemoryBatch | undefined {
    return this.batches[this.largestAt];
  }

  /** The first batch's max timestamp, -1 when empty (Kafka's rollingBasedTimestamp). */
  rollingBasedTimestamp(): number {
    return this.batches.length > 0 ? this.batches[0].header.maxTimestamp : -1;
  }

  /** Kafka's timeWaitedForRoll: age as seen by an incoming batch. */
  timeWaitedForRoll(now: number, messageTimestamp: number): number {
    const ts = this.rollingBasedTimestamp();
    return ts >= 0 ? messageTimestamp - ts : now - this.created;
  }

  /** All batches in one buffer (a copy). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let p = 0;
    for (const b of this.batches) {
      out.set(b.bytes, p);
      p += b.bytes.length;
    }
    return out;
  }
}

/** The first record of `b` with timestamp >= `ts` and offset >= `minOffset` (as LogSegment). */
function findRecord(
  b: MemoryBatch,
  ts: number,
  minOffset: number,
  decompress?: Decompressor,
): TimestampOffset | null {
  const h = b.header;
  if (h.maxTimestamp < ts || b.lastOffset < minOffset) return null;
  if (timestampType(h) === "LogAppendTime") {
    return { offset: Math.max(h.baseOffset, minOffset), timestamp: h.maxTimestamp };
  }
  return findRecordInBatch(b.bytes, h, ts, minOffset, decompress);
}

export class MemoryLog implements LocalLogStore<MemorySegment> {
  readonly durable = false;
  readonly segments: MemorySegment[] = [];
  private cfg: LogConfig;
  /** Producer snapshots by offset (what the file engine writes as `.snapshot` files). */
  private readonly snapshots = new Map<
    number,
    { producers: ProducerStateEntry[]; txns: AbortedTxn[] }
  >();
  readonly leaderEpochCheckpoint: LeaderEpochCheckpoint = NO_EPOCH_CHECKPOINT;

  constructor(config: LogConfig, private readonly decompress?: Decompressor) {
    this.cfg = config;
  }

  listedAtOpen(): boolean | null {
    return null;
  }
  forgetListing(): void {}
  noteDirectoryWrite(): void {}
  soleEmptySegment(): number {
    return -1;
  }

  get config(): LogConfig {
    return this.cfg;
  }
  set config(c: LogConfig) {
    this.cfg = c;
  }
  get active(): MemorySegment {
    return this.segments[this.segments.length - 1];
  }
  get baseOffset(): number {
    return this.segments[0].baseOffset;
  }
  get sizeInBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }
  get indexMemoryBytes(): number {
    return 0;
  }

  /** A memory log always opens empty, at offset 0. */
  load(
    _start: (baseOffset: number, logEnd: number) => number,
    _producerState: ProducerStateManager,
    _txnIndex: TransactionIndex,
    recovery: RecoveryInfo,
  ): LoadedLog {
    recovery.cleanShutdown = true;
    this.segments.push(new MemorySegment(0, this.cfg, Date.now()));
    return { logEndOffset: 0, baseOffset: 0 };
  }

  segmentTimes(): SegmentTime[] {
    return this.segments.map((s) => ({
      baseOffset: s.baseOffset,
      size: s.size,
      lastModified: s.largestTimestamp >= 0 ? s.largestTimestamp : s.created,
    }));
  }
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }
  segmentTime(seg: MemorySegment): number {
    return seg.largestTimestamp >= 0 ? seg.largestTimestamp : seg.created;
  }

  private segmentIndexFor(offset: number): number {
    return segmentIndexOf(this.segments, offset);
  }

  read(offset: number, maxBytes: number, upper: number, minOneBatch?: boolean): Uint8Array {
    for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
      const seg = this.segments[i];
      if (seg.baseOffset >= upper) break;
      const first = seg.batchIndexFor(offset);
      if (first < 0) continue;
      return readBatches(seg, first, maxBytes, upper, minOneBatch);
    }
    return new Uint8Array(0);
  }

  offsetForTimestamp(ts: number, logStart: number): TimestampOffset | null {
    for (const seg of this.segments) {
      if (seg.size === 0 || seg.largestTimestamp < ts) continue;
      for (let i = Math.max(0, seg.batchIndexFor(logStart)); i < seg.batches.length; i++) {
        const found = findRecord(seg.batches[i], ts, logStart, this.decompress);
        if (found) return found;
      }
    }
    return null;
  }

  maxTimestampAndOffset(): TimestampOffset | null {
    let best: MemoryBatch | undefined;
    for (const seg of this.segments) {
      const b = seg.largestBatch;
      if (b && (best === undefined || b.header.maxTimestamp > best.header.maxTimestamp)) best = b;
    }
    if (best === undefined) return null;
    const h = best.header;
    return findRecord(best, h.maxTimestamp, 0, this.decompress) ??
      { offset: h.baseOffset, timestamp: h.maxTimestamp };
  }

  shouldRoll(bytes: number, maxTimestamp: number, last: number, now: number): boolean {
    const seg = this.active;
    if (seg.size === 0) return false;
    return seg.size > this.cfg.segmentBytes - bytes ||
      seg.timeWaitedForRoll(now, maxTimestamp) > this.cfg.segmentMs - seg.rollJitterMs ||
      last - seg.baseOffset > 0x7fffffff;
  }

  roll(nextOffset: number, now: number): Promise<void> {
    this.segments.push(new MemorySegment(nextOffset, this.cfg, now));
    return Promise.resolve();
  }

  /** Copies `records` once (it may be a view of a pooled request buffer) and keeps views. */
  append(records: Uint8Array, headers: BatchHeader[]): void {
    const copy = records.slice();
    const seg = this.active;
    let p = 0;
    for (const h of headers) {
      const size = totalSize(h);
      if (p + size > copy.length) {
        throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, "batch headers overrun the records");
      }
      seg.add(copy.subarray(p, p + size), h);
      p += size;
    }
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  dropOldestSegments(n: number): void {
    n = Math.min(n, this.segments.length - 1);
    if (n > 0) this.segments.splice(0, n);
  }

  segmentsBelow(offset: number): number {
    let n = 0;
    while (n + 1 < this.segments.length && this.segments[n + 1].baseOffset <= offset) n++;
    return n;
  }

  /** Kept in memory (the newest two, as the file engine keeps) for reloads after truncation. */
  writeProducerSnapshot(offset: number, producers: ProducerStateEntry[], txns: AbortedTxn[]): void {
    this.snapshots.set(offset, {
      producers: structuredClone(producers),
      txns: txns.map((t) => ({ ...t })),
    });
    const old = [...this.snapshots.keys()].filter((o) => o !== offset).sort((a, b) => b - a);
    for (const o of old.slice(1)) this.snapshots.delete(o);
  }

  // ---------------------------------------------------------------- replication

  forEachBatchHeader(from: number, fn: (h: BatchHeader) => void): void {
    for (let i = this.segmentIndexFor(from); i < this.segments.length; i++) {
      for (const b of this.segments[i].batches) if (b.lastOffset >= from) fn(b.header);
    }
  }

  truncateTo(offset: number): number {
    for (const o of [...this.snapshots.keys()]) if (o > offset) this.snapshots.delete(o);
    while (this.segments.length > 1 && this.active.baseOffset > offset) this.segments.pop();
    const last = this.active;
    const first = last.batchIndexFor(offset);
    if (first >= 0) last.truncateAt(first);
    return last.nextOffset;
  }

  truncateFullyAndStartAt(offset: number): void {
    this.snapshots.clear();
    this.segments.length = 0;
    this.segments.push(new MemorySegment(offset, this.cfg, Date.now()));
  }

  reloadProducerState(
    logStart: number,
    logEnd: number,
    producerState: ProducerStateManager,
    txnIndex: TransactionIndex,
  ): number {
    producerState.clear();
    txnIndex.clear();
    let from = logStart;
    const usable = [...this.snapshots.keys()].filter((o) => o <= logEnd).sort((a, b) => b - a);
    if (usable.length > 0) {
      const snap = this.snapshots.get(usable[0])!;
      producerState.loadSnapshot({ producers: snap.producers });
      txnIndex.load(snap.txns.map((t) => ({ ...t })));
      from = usable[0];
    }
    let replayed = 0;
    for (let i = this.segmentIndexFor(from); i < this.segments.length; i++) {
      for (const b of this.segments[i].batches) {
        if (b.lastOffset < from) continue;
        replayed++;
        if (b.header.producerId < 0) continue;
        const controlType = isControl(b.header) ? readControlRecordType(b.bytes, 0, b.header) : -1;
        for (const t of producerState.replay(b.header, controlType)) txnIndex.add(t);
      }
    }
    return replayed;
  }
  /** The batches go with the log object; a closed log only refuses reads and appends. */
  close(beforeMark: () => void): void {
    beforeMark();
  }
  releaseHandles(): void {
    // No handles.
  }

  closedSegments(): ClosedSegment[] {
    return closedSegmentsOf(this.segments);
  }

  holdsClosedSegment(seg: SegmentRef): boolean {
    return holdsClosed(this.segments, seg);
  }

  readClosedSegment(seg: SegmentRef): Promise<Uint8Array | null> {
    return Promise.resolve(this.holdsClosedSegment(seg) ? (seg as MemorySegment).bytes() : null);
  }

  /** Swaps in a segment holding `cleaned`'s batches (the cleaner made the buffer: kept as is). */
  replaceClosedSegment(
    seg: SegmentRef,
    cleaned: Uint8Array,
    isClosed: () => boolean,
  ): Promise<boolean> {
    const i = this.segments.indexOf(seg as MemorySegment);
    if (isClosed() || i < 0 || i >= this.segments.length - 1) return Promise.resolve(false);
    const old = this.segments[i];
    const fresh = new MemorySegment(old.baseOffset, this.cfg, old.created);
    let p = 0;
    while (p < cleaned.length) {
      const h = readBatchHeader(cleaned, p);
      const size = totalSize(h);
      fresh.add(cleaned.subarray(p, p + size), h);
      p += size;
    }
    this.segments[i] = fresh;
    return Promise.resolve(true);
  }

  readSegmentFiles(seg: SegmentRef): Promise<LogSegmentData> {
    return Promise.reject(
      new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `segment ${seg.baseOffset} is not a file`),
    );
  }
}

/**
 * Whole batches from `seg.batches[first]` on, as LogSegment.read cuts them: the first must fit
 * `maxBytes` unless `minOneBatch`; none at or past `upper`; one buffer.
 */
function readBatches(
  seg: MemorySegment,
  first: number,
  maxBytes: number,
  upper: number,
  minOneBatch?: boolean,
): Uint8Array {
  const b = seg.batches;
  if (b[first].lastOffset >= upper) return new Uint8Array(0);
  const firstSize = b[first].bytes.length;
  let limit = Math.max(0, maxBytes);
  if (minOneBatch && firstSize > limit) limit = firstSize;
  if (limit < firstSize) return new Uint8Array(0);
  let end = first;
  let length = 0;
  while (end < b.length && length + b[end].bytes.length <= limit) {
    if (end > first && b[end].lastOffset >= upper) break;
    length += b[end].bytes.length;
    end++;
  }
  // A fresh buffer the caller owns (the broker hands it back to its pool once written).
  const out = allocateReadBuffer(length);
  let p = 0;
  for (let i = first; i < end; i++) {
    out.set(b[i].bytes, p);
    p += b[i].bytes.length;
  }
  return out;
}
