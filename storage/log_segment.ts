/**
 * LogSegment: one slice of a partition's log, as Kafka lays it out on disk:
 * `<20-digit baseOffset>.log` (concatenated v2 batches exactly as served to consumers),
 * `.index` (OffsetIndex) and `.timeindex` (TimeIndex).
 *
 * All file I/O is synchronous and positional (pread/pwrite): page-cache hits take microseconds,
 * and a sync call cannot interleave with another fetch or append on the event loop, so readers
 * always see a consistent (size, indexes) pair without locks. The .log file descriptor is opened
 * lazily and can be released, so an idle segment costs a few hundred bytes of heap.
 */
import {
  closeSync,
  constants,
  fsync,
  fsyncSync,
  ftruncateSync,
  openSync,
  statSync,
  unlinkSync,
} from "node:fs";
import {
  type BatchHeader,
  lastOffset,
  NO_TIMESTAMP,
  readBatchHeader,
  RECORD_BATCH_OVERHEAD,
  timestampType,
  totalSize,
} from "../protocol/record_batch.ts";
import { log } from "./logger.ts";
import {
  describeDropped,
  type DroppedBatches,
  formatDropped,
  mergeDropped,
} from "./dropped_batches.ts";
import { type LogConfig, randomSegmentJitter } from "./log_config.ts";
import { corruptSegment, segmentCutShort, storedBatchDamage } from "./segment_damage.ts";
import { deleteSegmentFiles } from "./segment_deletion.ts";
import { fileSize, fsyncDir, readFully, writeFully } from "./file_io.ts";
import { OffsetIndex } from "./offset_index.ts";
import { TimeIndex, type TimestampOffset } from "./time_index.ts";
import { type Decompressor, findRecordInBatch, wholeBatchesLength } from "./batch_search.ts";
import { scanBatches, type ScanResult } from "./segment_scan.ts";
import {
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  segmentFileName,
  TIME_INDEX_FILE_SUFFIX,
} from "./log_files.ts";

export { INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX, segmentFileName, TIME_INDEX_FILE_SUFFIX };

export type { Decompressor };

/** Position and header of one batch in the .log file. */
export interface FileBatch {
  position: number;
  header: BatchHeader;
}

/** Result of scanning a segment during recovery. */
export interface RecoveryResult {
  /** Bytes of whole, valid batches; the file was truncated to this. */
  validBytes: number;
  /** Bytes cut off the end (torn write or corruption). */
  truncatedBytes: number;
  /** Offset after the last valid batch, or -1 if the segment holds none. */
  nextOffset: number;
  /** Why the scan stopped early, if it did. */
  reason?: string;
  /** What the truncation cut off, read from its batch headers before it went. */
  dropped?: DroppedBatches;
}

// One scratch buffer for header reads: synchronous reads cannot interleave.
const headerScratch = new Uint8Array(RECORD_BATCH_OVERHEAD);
/**
 * Where translateOffset reads the headers between an index entry and the wanted batch: one
 * read covers them when batches are small (an entry every `index.interval.bytes`, 4 KiB by
 * default, may be followed by dozens of small batches), instead of one read per header.
 */
const scanScratch = new Uint8Array(16 * 1024);

/** Where reads for consumers get their buffers (the broker plugs in its buffer pool). */
let allocateRead: (n: number) => Uint8Array = (n) => new Uint8Array(n);

/**
 * Sets the allocator of the buffers `read` returns. Those buffers belong to the caller, who
 * may hand them back to wherever the allocator took them from once done with them.
 */
export function setReadBufferAllocator(fn: (n: number) => Uint8Array): void {
  allocateRead = fn;
}

/** A buffer for a consumer read, from the allocator above (the memory engine's reads too). */
export function allocateReadBuffer(n: number): Uint8Array {
  return allocateRead(n);
}

export class LogSegment {
  readonly logPath: string;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** Bytes in the .log file. */
  size: number;

  private fd = -1;
  private dirty = false;
  private bytesSinceLastIndexEntry = 0;
  /** Largest batch maxTimestamp seen and the last offset of the batch that first reached it. */
  private maxTs: TimestampOffset | null = null;
  private rollingTs: number | null = null;
  /** Offset after the last batch, when known (always for the active segment). */
  private next = -1;
  /** Wall-clock creation time: the roll clock when batches carry no timestamps. */
  readonly created: number;
  /** Kafka's rollJitterMs: taken off segment.ms for this segment (segment.jitter.ms). */
  readonly rollJitterMs: number;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    public config: LogConfig,
    size: number,
    indexEntries: number,
    timeIndexEntries: number,
    now: number,
    indexExists = false,
    timeIndexExists = false,
  ) {
    this.logPath = `${dir}/${segmentFileName(baseOffset, LOG_FILE_SUFFIX)}`;
    this.offsetIndex = new OffsetIndex(
      `${dir}/${segmentFileName(baseOffset, INDEX_FILE_SUFFIX)}`,
      baseOffset,
      config.maxIndexEntries,
      indexEntries,
      indexExists,
    );
    this.timeIndex = new TimeIndex(
      `${dir}/${segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX)}`,
      baseOffset,
      config.maxIndexEntries,
      timeIndexEntries,
      timeIndexExists,
    );
    this.size = size;
    this.created = now;
    this.rollJitterMs = randomSegmentJitter(config);
  }

  /**
   * A new, empty segment; any stale files with the same base offset are replaced (`stale`
   * false: the caller knows there are no index files to remove). `lazy`: the caller knows
   * there is no .log either, and it is made by the first write (an empty log at 0 opens the
   * same with or without it), so a new partition costs one file fewer.
   */
  static create(
    dir: string,
    baseOffset: number,
    config: LogConfig,
    now: number = Date.now(),
    stale = true,
    lazy = false,
  ): LogSegment {
    const seg = new LogSegment(dir, baseOffset, config, 0, 0, 0, now);
    if (lazy) {
      seg.onDisk = false;
      seg.next = baseOffset;
      return seg;
    }
    seg.fd = openSync(seg.logPath, "w+");
    if (stale) {
      seg.offsetIndex.deleteFile();
      try {
        unlinkSync(seg.timeIndex.path);
      } catch {
        // none
      }
    }
    seg.next = baseOffset;
    return seg;
  }

  /**
   * An existing segment. Index files are not read here: `indexesLookSane` says whether their
   * sizes are plausible, and their entries load lazily (and are checked) on first use.
   * `listed`, the directory's names when the caller just read them, spares a stat of an index
   * file that is not there; `logSize`, the .log's size when the caller just read it.
   */
  static open(
    dir: string,
    baseOffset: number,
    config: LogConfig,
    now: number = Date.now(),
    listed?: ReadonlySet<string>,
    logSize?: number,
  ): LogSegment {
    const logPath = `${dir}/${segmentFileName(baseOffset, LOG_FILE_SUFFIX)}`;
    const size = Math.max(0, logSize ?? fileSize(logPath));
    const sizeOf = (name: string) => listed && !listed.has(name) ? -1 : fileSize(`${dir}/${name}`);
    const idx = sizeOf(segmentFileName(baseOffset, INDEX_FILE_SUFFIX));
    const tidx = sizeOf(segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX));
    const idxOk = idx >= 0 && idx % OffsetIndex.ENTRY_SIZE === 0;
    const tidxOk = tidx >= 0 && tidx % TimeIndex.ENTRY_SIZE === 0;
    const seg = new LogSegment(
      dir,
      baseOffset,
      config,
      size,
      idxOk ? idx / OffsetIndex.ENTRY_SIZE : 0,
      tidxOk ? tidx / TimeIndex.ENTRY_SIZE : 0,
      now,
      idxOk,
      tidxOk,
    );
    seg.indexFilesOk = size === 0 || (idxOk && tidxOk);
    return seg;
  }

  /** False when an index file was missing or had a torn size at open: rebuild before use. */
  indexFilesOk = true;

  /** Offset after the last batch, or -1 if not known (inactive segment not scanned). */
  get nextOffset(): number {
    return this.next;
  }

  /** False while a lazily created segment's .log does not exist yet. */
  private onDisk = true;

  private handle(): number {
    if (this.fd >= 0) return this.fd;
    if (this.onDisk) {
      this.fd = openSync(this.logPath, "r+");
    } else {
      // Made like a rolled segment's: durably in the directory before anything is written.
      this.fd = openSync(this.logPath, constants.O_RDWR | constants.O_CREAT);
      fsyncDir(this.dir);
      this.onDisk = true;
    }
    return this.fd;
  }

  /** The .log's modification time, or the creation time while it does not exist yet. */
  lastModified(): number {
    if (!this.onDisk) return this.created;
    return statSync(this.logPath).mtimeMs;
  }

  /** Closes the .log descriptor (reopened on demand); data already written stays in the page cache. */
  releaseHandles(): void {
    if (this.fd >= 0) {
      if (this.dirty) {
        fsyncSync(this.fd);
        this.dirty = false;
      }
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  /** Reads the header of the batch at `position`, or null past the end or on a torn header. */
  readHeaderAt(position: number): BatchHeader | null {
    if (position + RECORD_BATCH_OVERHEAD > this.size) return null;
    const n = readFully(this.handle(), headerScratch, 0, RECORD_BATCH_OVERHEAD, position);
    if (n < RECORD_BATCH_OVERHEAD) return null;
    return readBatchHeader(headerScratch, 0);
  }

  /** Reads `length` bytes at `position` into a new buffer. */
  readBytes(
    position: number,
    length: number,
    allocate: (n: number) => Uint8Array = (n) => new Uint8Array(n),
  ): Uint8Array {
    const buf = allocate(length);
    const n = readFully(this.handle(), buf, 0, length, position);
    return n === length ? buf : buf.subarray(0, n);
  }

  /** Loads the offset index for lookups, rebuilding it from the log if it fails its checks. */
  private ensureIndexes(): void {
    if (!this.indexFilesOk) {
      this.rebuildIndexes(false);
      return;
    }
    if (!this.offsetIndex.isLoaded && !this.offsetIndex.load(this.size)) {
      this.rebuildIndexes(false);
      return;
    }
    if (!this.timeIndex.isLoaded && !this.timeIndex.load()) this.rebuildIndexes(false);
  }

  /**
   * The batch containing `offset` (or the first batch after it), searching from the index entry
   * at or below it; null when the segment has no batch ending at or after `offset`.
   */
  translateOffset(offset: number, maxPosition = this.size): FileBatch | null {
    this.ensureIndexes();
    let position = this.offsetIndex.lookup(offset).position;
    // scanScratch holds the file's bytes [held, held + heldLength).
    let held = 0;
    let heldLength = 0;
    while (position < maxPosition) {
      if (position + RECORD_BATCH_OVERHEAD > this.size) {
        throw corruptSegment(this.logPath, `a torn batch header at position ${position}`);
      }
      if (position < held || position + RECORD_BATCH_OVERHEAD > held + heldLength) {
        const want = Math.min(scanScratch.length, this.size - position);
        heldLength = readFully(this.handle(), scanScratch, 0, want, position);
        held = position;
        if (heldLength < RECORD_BATCH_OVERHEAD) {
          throw segmentCutShort(this.logPath, this.size, position, want, heldLength);
        }
      }
      const header = readBatchHeader(scanScratch, position - held);
      const bad = storedBatchDamage(header, position, this.baseOffset, this.size);
      if (bad) throw corruptSegment(this.logPath, bad);
      if (lastOffset(header) >= offset) return { position, header };
      position += totalSize(header);
    }
    return null;
  }

  /**
   * Appends already validated, offset-assigned batches (`headers` describe `records` in order)
   * at the end of the file and updates both indexes every `indexIntervalBytes`.
   */
  append(records: Uint8Array, headers: BatchHeader[]): void {
    this.ensureIndexes();
    const start = this.size;
    if (start === 0 && headers.length > 0) this.rollingTs = headers[0].maxTimestamp;
    writeFully(this.handle(), records, start);
    this.dirty = true;
    let position = start;
    for (const h of headers) {
      this.indexBatch(h, position);
      position += totalSize(h);
    }
    this.size = start + records.length;
  }

  /** Kafka's per-batch index bookkeeping, shared by append and recovery. */
  private indexBatch(h: BatchHeader, position: number): void {
    const last = lastOffset(h);
    if (this.maxTs === null || h.maxTimestamp > this.maxTs.timestamp) {
      this.maxTs = { timestamp: h.maxTimestamp, offset: last };
    }
    if (this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
      this.offsetIndex.append(last, position);
      this.timeIndex.maybeAppend(this.maxTs.timestamp, this.maxTs.offset);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += totalSize(h);
    this.next = last + 1;
  }

  /** Undoes a failed append: cuts the file back to `size` bytes. */
  truncateToSize(size: number): void {
    ftruncateSync(this.handle(), size);
    this.size = size;
  }

  /**
   * Kafka's LogSegment.truncateTo: drops every batch ending at or after `offset` (a batch
   * holding it goes whole), cuts both indexes to match and rebuilds them from the batch
   * headers left (no CRC check: these bytes were checked when written). Returns the bytes
   * dropped. The file is cut first: a crash after it leaves indexes past the end, which the
   * next open rebuilds (this is the last segment then, recovered batch by batch).
   */
  truncateTo(offset: number): number {
    const first = offset <= this.baseOffset ? { position: 0 } : this.translateOffset(offset);
    if (first === null || first.position >= this.size) return 0;
    const dropped = this.size - first.position;
    ftruncateSync(this.handle(), first.position);
    this.size = first.position;
    this.dirty = true;
    this.recover(false);
    return dropped;
  }

  /**
   * Whole batches starting with the one that contains `startOffset`: at most `maxSize` bytes
   * unless `minOneBatch` and the first batch is bigger (KIP-74), and only batches whose last
   * offset is below `maxOffset`. One read into one buffer; the trailing partial batch is cut.
   * Returns null when the segment has nothing at or after `startOffset`.
   */
  read(
    startOffset: number,
    maxSize: number,
    opts: { maxOffset?: number; minOneBatch?: boolean } = {},
  ): Uint8Array | null {
    const first = this.translateOffset(startOffset);
    if (first === null) return null;
    const maxOffset = opts.maxOffset ?? Number.MAX_SAFE_INTEGER;
    if (lastOffset(first.header) >= maxOffset) return new Uint8Array(0);
    const available = this.size - first.position;
    const firstSize = totalSize(first.header);
    let length = Math.min(Math.max(0, maxSize), available);
    if (opts.minOneBatch && firstSize > length) length = Math.min(firstSize, available);
    if (length < firstSize) return new Uint8Array(0);
    const buf = this.readBytes(first.position, length, allocateRead);
    if (buf.length < length) {
      throw segmentCutShort(this.logPath, this.size, first.position, length, buf.length);
    }
    return buf.subarray(0, wholeBatchesLength(buf, maxOffset));
  }

  /**
   * Walks batch headers from `position` to the end of the file (storage/segment_scan.ts).
   * With `verifyCrc` every byte is read and checked; otherwise only headers are read. Stops
   * at the first batch that is torn, corrupt or out of order and returns where and why.
   */
  scan(
    position: number,
    verifyCrc: boolean,
    fn: (position: number, header: BatchHeader, buf: Uint8Array, bufPos: number) => void,
  ): ScanResult {
    return scanBatches(
      (into, offset, length, pos) => readFully(this.handle(), into, offset, length, pos),
      this.baseOffset,
      this.size,
      position,
      verifyCrc,
      fn,
    );
  }

  /**
   * Kafka's LogSegment.recover: scans from `fromPosition` (0 = rebuild everything), rebuilds the
   * indexes past it, and truncates the file at the first invalid batch. With `truncate` false
   * (an index rebuilt while serving) the file is left whole: reads meeting the damage report it.
   */
  recover(
    verifyCrc: boolean,
    onBatch?: (header: BatchHeader, buf: Uint8Array, bufPos: number) => void,
    fromPosition = 0,
    truncate = true,
  ): RecoveryResult {
    if (fromPosition === 0) {
      this.offsetIndex.reset();
      this.timeIndex.reset();
      this.maxTs = null;
    }
    // The batch at `fromPosition` (the last index entry's) is already indexed; with the byte
    // counter at zero, indexBatch re-derives exactly the state Kafka had after appending it.
    this.bytesSinceLastIndexEntry = 0;
    this.next = -1;
    this.indexFilesOk = true;
    const result = this.scan(fromPosition, verifyCrc, (pos, h, buf, bufPos) => {
      if (pos === 0) this.rollingTs = h.maxTimestamp;
      this.indexBatch(h, pos);
      onBatch?.(h, buf, bufPos);
    });
    if (!truncate && result.end < this.size) {
      log.warn(
        `Indexed ${this.logPath} up to position ${result.end} of ${this.size} (${result.reason}): reads past it answer CORRUPT_MESSAGE`,
      );
      return {
        validBytes: this.size,
        truncatedBytes: 0,
        nextOffset: this.next,
        reason: result.reason,
      };
    }
    const truncated = this.size - result.end;
    let dropped: DroppedBatches | undefined;
    if (truncated > 0) {
      const fd = this.handle();
      dropped = describeDropped(
        (into, pos) => readFully(fd, into, 0, into.length, pos),
        result.end,
        this.size,
      );
      ftruncateSync(fd, result.end);
      this.size = result.end;
      this.dirty = true;
      if (this.next >= 0) {
        this.offsetIndex.truncateTo(this.next);
        this.timeIndex.truncateTo(this.next);
      }
      log.warn(
        `Truncated ${this.logPath} at position ${result.end} (${result.reason}): dropped ${
          formatDropped(dropped)
        }; the segment now ends before offset ${this.next >= 0 ? this.next : this.baseOffset}`,
      );
    }
    if (this.size === 0) {
      this.next = this.baseOffset;
      this.rollingTs = null;
    }
    return {
      validBytes: this.size,
      truncatedBytes: truncated,
      nextOffset: this.next,
      reason: result.reason,
      dropped,
    };
  }

  /**
   * Rebuilds both indexes of an inactive segment from its batch headers (no CRC check). Only
   * recovery at open truncates; a rebuild on first use while serving (`truncate` false) never
   * cuts a closed segment, which would open a hole in the middle of the log.
   */
  rebuildIndexes(truncate = true): RecoveryResult {
    const r = this.recover(false, undefined, 0, truncate);
    this.finishIndexes();
    return r;
  }

  /**
   * Resumes an active segment after a clean shutdown: trusts the indexes written on close and
   * walks only the batches after the last offset index entry.
   */
  resumeAfterCleanShutdown(onBatch?: (h: BatchHeader, buf: Uint8Array, p: number) => void): {
    result: RecoveryResult;
    rebuilt: boolean;
    /** Why the indexes could not be trusted, when that was not merely their being empty. */
    distrusted?: string;
  } {
    const full = (distrusted?: string) => ({
      result: this.recover(true, onBatch),
      rebuilt: true,
      distrusted,
    });
    if (!this.indexFilesOk) return full("its index files are missing or torn");
    if (!this.offsetIndex.load(this.size)) return full("its offset index fails its checks");
    if (!this.timeIndex.load()) return full("its time index fails its checks");
    if (this.offsetIndex.entries === 0) return full(); // a short segment: nothing indexed
    this.maxTs = this.timeIndex.lastEntry();
    const last = this.offsetIndex.lastEntry();
    let h: BatchHeader | null = null;
    try {
      h = this.readHeaderAt(last.position);
    } catch {
      // not a batch boundary: handled below
    }
    if (h === null || lastOffset(h) !== last.offset) {
      return full(`its last index entry (offset ${last.offset}) does not match the log`);
    }
    const r = this.recover(false, onBatch, last.position);
    if (r.truncatedBytes > 0 || r.nextOffset < 0) {
      // The "clean" tail was not: distrust the indexes and check every byte. What the first
      // pass cut off lay after whatever this one cuts: report both as one truncation.
      const again = full(`its end is damaged (${r.reason})`);
      const f = again.result;
      if (r.truncatedBytes > 0) {
        f.reason = f.truncatedBytes > 0 ? f.reason : r.reason;
        f.dropped = f.dropped && r.dropped
          ? mergeDropped(f.dropped, r.dropped)
          : f.dropped ?? r.dropped;
        f.truncatedBytes += r.truncatedBytes;
      }
      return again;
    }
    return { result: r, rebuilt: false };
  }

  /** Kafka's onBecomeInactiveSegment + index flush: final time index entry, files written. */
  finishIndexes(sync = true): void {
    if (this.maxTs !== null && this.size > 0) {
      this.timeIndex.maybeAppend(this.maxTs.timestamp, this.maxTs.offset, true);
    }
    // An empty segment needs no index files (LogSegment.open counts missing ones as empty
    // then): a new partition costs two files fewer.
    this.offsetIndex.persist(sync, this.size > 0);
    this.timeIndex.persist(sync, this.size > 0);
  }

  /** fsyncs the .log if anything was written since the last flush. */
  flush(): void {
    if (this.dirty && this.fd >= 0) {
      fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  /** Same as flush, but the fsync runs off the event loop. */
  flushAsync(): Promise<void> {
    if (!this.dirty || this.fd < 0) return Promise.resolve();
    this.dirty = false;
    const fd = this.fd;
    return new Promise((resolve, reject) =>
      fsync(fd, (err) => {
        if (err) {
          this.dirty = true; // still to be made durable
          reject(err);
        } else resolve();
      })
    );
  }

  /**
   * Writes the indexes, fsyncs the log and releases the descriptor. Index files are fsynced
   * only when `syncIndexes`: after a clean shutdown they are sanity-checked and their last
   * entry verified against the log before being trusted, so a lost write costs a rebuild.
   */
  close(syncIndexes = false): void {
    this.finishIndexes(syncIndexes);
    this.releaseHandles();
  }

  /**
   * Deletes the segment's files (the segment must not be used afterwards): renamed `.deleted`
   * now, removed `delayMs` (`file.delete.delay.ms`) later (storage/segment_deletion.ts).
   */
  deleteFiles(delayMs: number = this.config.fileDeleteDelayMs): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    deleteSegmentFiles([this.logPath, this.offsetIndex.path, this.timeIndex.path], delayMs);
  }

  /**
   * Timestamp of the first batch: Kafka rolls on `segment.ms` measured from it (falling back to
   * the creation time when batches carry no timestamps).
   */
  rollingBasedTimestamp(): number {
    if (this.rollingTs === null) {
      const h = this.size > 0 ? this.readHeaderAt(0) : null;
      this.rollingTs = h === null ? NO_TIMESTAMP : h.maxTimestamp;
    }
    return this.rollingTs;
  }

  /** Kafka's timeWaitedForRoll: age of the segment as seen by an incoming batch. */
  timeWaitedForRoll(now: number, messageTimestamp: number): number {
    const ts = this.size > 0 ? this.rollingBasedTimestamp() : NO_TIMESTAMP;
    return ts >= 0 ? messageTimestamp - ts : now - this.created;
  }

  /** Largest timestamp in the segment and the last offset of the batch that holds it. */
  maxTimestampSoFar(): TimestampOffset | null {
    if (this.maxTs === null && this.size > 0) {
      if (this.indexFilesOk) this.maxTs = this.timeIndex.lastEntry();
      if (this.maxTs === null) this.rebuildIndexes(false);
    }
    return this.maxTs;
  }

  /** Largest timestamp in the segment, -1 when empty. */
  get largestTimestamp(): number {
    return this.maxTimestampSoFar()?.timestamp ?? NO_TIMESTAMP;
  }

  /**
   * Kafka's findOffsetByTimestamp: the first record with timestamp >= `ts` and offset >=
   * `startOffset`, located through the time index, the offset index and a forward scan.
   */
  findOffsetByTimestamp(
    ts: number,
    startOffset: number,
    decompress?: Decompressor,
  ): TimestampOffset | null {
    this.ensureIndexes();
    const entry = this.timeIndex.lookup(ts);
    let position = this.offsetIndex.lookup(Math.max(entry.offset, startOffset)).position;
    while (position < this.size) {
      const h = this.readHeaderAt(position);
      if (h === null) return null;
      if (h.maxTimestamp >= ts && lastOffset(h) >= startOffset) {
        const found = this.findRecord(position, h, ts, startOffset, decompress);
        if (found) return found;
      }
      position += totalSize(h);
    }
    return null;
  }

  /**
   * The first record of the batch at `position` with timestamp >= `minTimestamp` and offset >=
   * `minOffset`. LogAppendTime batches stamp every record with maxTimestamp, so no record is
   * read for them. Compressed CreateTime batches need `decompress`; without it the answer is
   * approximated by the batch (first eligible offset, maxTimestamp).
   */
  findRecord(
    position: number,
    h: BatchHeader,
    minTimestamp: number,
    minOffset: number,
    decompress?: Decompressor,
  ): TimestampOffset | null {
    if (h.maxTimestamp < minTimestamp || lastOffset(h) < minOffset) return null;
    if (timestampType(h) === "LogAppendTime") {
      return { offset: Math.max(h.baseOffset, minOffset), timestamp: h.maxTimestamp };
    }
    const batch = this.readBytes(position, totalSize(h));
    return findRecordInBatch(batch, h, minTimestamp, minOffset, decompress);
  }

  /** Releases memory held by the indexes of an inactive segment. */
  unloadIndexes(): void {
    this.offsetIndex.unload();
    this.timeIndex.unload();
  }
}
