/**
 * RemotePartition: one partition's cold tier as the RemoteLogManager tracks it (metadata,
 * task state) and as its log reads it (the RemoteLogView): reads, timestamp lookups and the
 * maximum timestamp, served from remote segments through the read cache. The offset index
 * and time index of a remote segment are searched as uploaded, without loading them into
 * an OffsetIndex.
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import {
  type BatchHeader,
  lastOffset,
  readBatchHeader,
  RECORD_BATCH_OVERHEAD,
  totalSize,
} from "../protocol/record_batch.ts";
import { findRecordInBatch, wholeBatchesLength } from "./batch_search.ts";
import type { Decompressor } from "./log_segment.ts";
import type { PartitionLog } from "./partition_log.ts";
import type { RemoteLogView } from "./remote_log_view.ts";
import { REMOTE_LOG_METADATA_FILE, RemoteLogMetadataManager } from "./remote_log_metadata.ts";
import type { RemoteReadCache } from "./remote_read_cache.ts";
import {
  type RemoteLogSegmentMetadata,
  RemoteResourceNotFoundException,
  type RemoteStorageManager,
  type TopicIdPartition,
} from "./remote_storage.ts";
import type { TimestampOffset } from "./time_index.ts";

/** What a RemotePartition needs of its manager (the RemoteLogManager provides it). */
export interface RemoteReadContext {
  readonly rsm: RemoteStorageManager | null;
  readonly cache: RemoteReadCache;
  readonly chunkBytes: number;
  readonly decompress?: Decompressor;
  /** A segment was rolled: run the partition's task soon. */
  wake(): void;
}

/** Largest offset-index entry at or below `target`: the position to scan from. */
function indexLookup(index: Uint8Array, baseOffset: number, target: number): number {
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  let lo = 0;
  let hi = Math.floor(index.length / 8) - 1;
  let pos = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (baseOffset + view.getInt32(mid * 8) <= target) {
      pos = view.getInt32(mid * 8 + 4);
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return pos;
}

/** Largest time-index entry with timestamp <= `ts`: its offset, or `baseOffset`. */
function timeIndexLookup(index: Uint8Array, baseOffset: number, ts: number): number {
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  let lo = 0;
  let hi = Math.floor(index.length / 12) - 1;
  let off = baseOffset;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (Number(view.getBigInt64(mid * 12)) <= ts) {
      off = baseOffset + view.getInt32(mid * 12 + 8);
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return off;
}

function storageError(what: string, e: unknown): KafkaError {
  if (e instanceof KafkaError) return e;
  return new KafkaError(
    ErrorCode.KAFKA_STORAGE_ERROR,
    `${what}: ${e instanceof Error ? e.message : String(e)}`,
  );
}

/** One partition's cold tier: metadata, task state and the RemoteLogView the log reads. */
export class RemotePartition implements RemoteLogView {
  readonly metadata: RemoteLogMetadataManager;
  readonly tp: TopicIdPartition;
  /** Consecutive failures, and when the next attempt may run. */
  failures = 0;
  nextAttemptAt = 0;
  lastRunAt = 0;
  /** A segment was rolled: run soon even if the interval has not passed. */
  pending = true;
  /** STARTED/DELETE_STARTED entries and orphans still to clean up. */
  needsRecovery = true;
  lastError: string | null = null;
  /**
   * The leader epoch this broker last ran the partition's task at as its leader; undefined
   * while it follows (see RemoteLogManager.leaderEpochOf).
   */
  ledAt: number | undefined = undefined;
  /** The previous leader's published metadata is still to be merged (a new leadership). */
  needsAdoption = false;
  /** The view this broker last published (remote_metadata_publication.ts viewDigest). */
  published: string | null = null;
  private readonly unsubscribe: () => void;

  constructor(readonly log: PartitionLog, private readonly rlm: RemoteReadContext) {
    this.metadata = new RemoteLogMetadataManager(
      log.dir,
      log.listedAtOpen(REMOTE_LOG_METADATA_FILE),
      () => log.noteDirectoryWrite(),
    );
    this.tp = { topic: log.topic, topicId: log.topicId ?? "unknown", partition: log.partition };
    this.unsubscribe = log.onRoll(() => {
      this.pending = true;
      rlm.wake();
    });
  }

  detach(): void {
    this.unsubscribe();
  }

  // ---- RemoteLogView

  earliestOffset(): number {
    const f = this.metadata.finished();
    return f.length > 0 ? f[0].startOffset : -1;
  }
  highestOffset(): number {
    const f = this.metadata.finished();
    let h = -1;
    for (const m of f) if (m.endOffset > h) h = m.endOffset;
    return h;
  }
  sizeInBytes(): number {
    let n = 0;
    for (const m of this.metadata.finished()) n += m.segmentSizeInBytes;
    return n;
  }
  segmentCount(): number {
    return this.metadata.finished().length;
  }
  maxTimestampMs(): number {
    let t = -1;
    for (const m of this.metadata.finished()) if (m.maxTimestampMs > t) t = m.maxTimestampMs;
    return t;
  }

  private rsm(): RemoteStorageManager {
    const rsm = this.rlm.rsm;
    if (!rsm) {
      throw new KafkaError(
        ErrorCode.KAFKA_STORAGE_ERROR,
        `${this.tp.topic}-${this.tp.partition} has tiered data but remote.log.storage.system.enable is off`,
      );
    }
    return rsm;
  }

  private offsetIndex(m: RemoteLogSegmentMetadata): Promise<Uint8Array> {
    return this.rlm.cache.getOrLoad(
      `${m.segmentId}:index`,
      () => this.rsm().fetchIndex(m, "index"),
    );
  }

  private timeIndex(m: RemoteLogSegmentMetadata): Promise<Uint8Array> {
    return this.rlm.cache.getOrLoad(
      `${m.segmentId}:timeindex`,
      () => this.rsm().fetchIndex(m, "timeindex"),
    );
  }

  private chunk(m: RemoteLogSegmentMetadata, n: number): Promise<Uint8Array> {
    const size = this.rlm.chunkBytes;
    return this.rlm.cache.getOrLoad(
      `${m.segmentId}:${n}`,
      () =>
        this.rsm().fetchLogSegment(
          m,
          n * size,
          Math.min(m.segmentSizeInBytes, (n + 1) * size),
        ),
    );
  }

  /** Bytes [start, end) of a remote segment's log, through the chunk cache. */
  private async bytes(
    m: RemoteLogSegmentMetadata,
    start: number,
    end: number,
  ): Promise<Uint8Array> {
    end = Math.min(end, m.segmentSizeInBytes);
    if (end <= start) return new Uint8Array(0);
    const size = this.rlm.chunkBytes;
    const first = Math.floor(start / size);
    const last = Math.floor((end - 1) / size);
    const chunks = await Promise.all(
      Array.from({ length: last - first + 1 }, (_, i) => this.chunk(m, first + i)),
    );
    // Read ahead: a consumer going through the segment will want the next chunk.
    if ((last + 1) * size < m.segmentSizeInBytes) this.chunk(m, last + 1).catch(() => {});
    if (chunks.length === 1) {
      const c = chunks[0];
      return c.subarray(start - first * size, end - first * size);
    }
    const out = new Uint8Array(end - start);
    let o = 0;
    for (let i = 0; i < chunks.length; i++) {
      const cStart = (first + i) * size;
      const from = Math.max(start, cStart) - cStart;
      const to = Math.min(end, cStart + chunks[i].length) - cStart;
      out.set(chunks[i].subarray(from, to), o);
      o += to - from;
    }
    return o === out.length ? out : out.subarray(0, o);
  }

  private async header(m: RemoteLogSegmentMetadata, pos: number): Promise<BatchHeader | null> {
    if (pos + RECORD_BATCH_OVERHEAD > m.segmentSizeInBytes) return null;
    const b = await this.bytes(m, pos, pos + RECORD_BATCH_OVERHEAD);
    if (b.length < RECORD_BATCH_OVERHEAD) return null;
    const h = readBatchHeader(b, 0);
    if (h.batchLength < RECORD_BATCH_OVERHEAD - 12) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `bad batch at ${pos} of ${m.segmentId}`);
    }
    return h;
  }

  /** The batch of `m` containing `offset` or the first after it: position and header. */
  private async locate(
    m: RemoteLogSegmentMetadata,
    offset: number,
  ): Promise<{ pos: number; h: BatchHeader } | null> {
    let pos = indexLookup(await this.offsetIndex(m), m.startOffset, offset);
    for (;;) {
      const h = await this.header(m, pos);
      if (h === null) return null;
      if (lastOffset(h) >= offset) return { pos, h };
      pos += totalSize(h);
    }
  }

  /** The segment holding `offset`, else the first one after it. */
  private segmentFor(offset: number): number {
    const f = this.metadata.finished();
    for (let i = 0; i < f.length; i++) if (f[i].endOffset >= offset) return i;
    return -1;
  }

  async read(
    offset: number,
    maxBytes: number,
    opts: { minOneBatch?: boolean; upperBound: number },
  ): Promise<Uint8Array | null> {
    const what = `remote read ${this.tp.topic}-${this.tp.partition}@${offset}`;
    try {
      const f = this.metadata.finished();
      for (let i = this.segmentFor(offset); i >= 0 && i < f.length; i++) {
        const m = f[i];
        if (m.startOffset >= opts.upperBound) break;
        const found = await this.locate(m, offset);
        if (found === null) continue; // nothing at or after `offset` here (a compaction gap)
        const { pos, h } = found;
        if (lastOffset(h) >= opts.upperBound) return new Uint8Array(0);
        const available = m.segmentSizeInBytes - pos;
        const firstSize = totalSize(h);
        let length = Math.min(Math.max(0, maxBytes), available);
        if (opts.minOneBatch && firstSize > length) length = Math.min(firstSize, available);
        if (length < firstSize) return new Uint8Array(0);
        const buf = await this.bytes(m, pos, pos + length);
        return buf.subarray(0, wholeBatchesLength(buf, opts.upperBound));
      }
      return null;
    } catch (e) {
      if (e instanceof RemoteResourceNotFoundException && offset < this.log.logStartOffset) {
        throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `${what}: deleted by retention`);
      }
      throw storageError(what, e);
    }
  }

  async offsetForTimestamp(ts: number, startOffset: number): Promise<TimestampOffset | null> {
    try {
      for (const m of this.metadata.finished()) {
        if (m.maxTimestampMs < ts || m.endOffset < startOffset) continue;
        const from = Math.max(
          timeIndexLookup(await this.timeIndex(m), m.startOffset, ts),
          startOffset,
        );
        let pos = indexLookup(await this.offsetIndex(m), m.startOffset, from);
        for (;;) {
          const h = await this.header(m, pos);
          if (h === null) break;
          if (h.maxTimestamp >= ts && lastOffset(h) >= startOffset) {
            const batch = await this.bytes(m, pos, pos + totalSize(h));
            const found = findRecordInBatch(batch, h, ts, startOffset, this.rlm.decompress);
            if (found) return found;
          }
          pos += totalSize(h);
        }
      }
      return null;
    } catch (e) {
      throw storageError(`remote timestamp lookup ${this.tp.topic}-${this.tp.partition}`, e);
    }
  }

  async maxTimestampAndOffset(): Promise<TimestampOffset | null> {
    let best: RemoteLogSegmentMetadata | null = null;
    for (const m of this.metadata.finished()) {
      if (best === null || m.maxTimestampMs > best.maxTimestampMs) best = m;
    }
    if (best === null || best.maxTimestampMs < 0) return null;
    try {
      // The batch holding the maximum: the time index's last entry names its last offset.
      const tidx = await this.timeIndex(best);
      let target = best.startOffset;
      if (tidx.length >= 12) {
        target = best.startOffset +
          new DataView(tidx.buffer, tidx.byteOffset, tidx.byteLength).getInt32(tidx.length - 4);
      }
      let pos = indexLookup(await this.offsetIndex(best), best.startOffset, target);
      for (;;) {
        const h = await this.header(best, pos);
        if (h === null) return null;
        if (h.maxTimestamp === best.maxTimestampMs) {
          const batch = await this.bytes(best, pos, pos + totalSize(h));
          return findRecordInBatch(batch, h, h.maxTimestamp, 0, this.rlm.decompress) ??
            { offset: h.baseOffset, timestamp: h.maxTimestamp };
        }
        pos += totalSize(h);
      }
    } catch (e) {
      throw storageError(`remote max timestamp ${this.tp.topic}-${this.tp.partition}`, e);
    }
  }
}
