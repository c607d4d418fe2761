/**
 * LogCleaner: log compaction for `cleanup.policy=compact` (and `compact,delete`) partitions,
 * after Kafka's LogCleaner.
 *
 * A pass over one log:
 *   1. The dirty section runs from the cleaner checkpoint (first dirty offset, kept in
 *      `<dataDir>/meta/cleaner-offset-checkpoint`, Kafka's format) to the first uncleanable
 *      segment: the active segment (never touched), a segment holding records younger than
 *      `min.compaction.lag.ms`, or one reaching the last stable offset.
 *   2. Build the offset map: key → offset of its latest record in the dirty section (aborted
 *      transactional records do not count), bounded by `log.cleaner.dedupe.buffer.size`.
 *   3. Rewrite every closed segment below the end of the map, batch by batch: a record stays
 *      if it has a key and no later record with the same key is in the map; a tombstone (null
 *      value) stays until its batch's delete horizon has passed (KIP-534: the first pass that
 *      keeps a tombstone stamps its batch with horizon = now + `delete.retention.ms`, a later
 *      pass removes it). Offsets never change: a rewritten batch keeps its base offset, last
 *      offset delta, producer fields and codec, so gaps appear but nothing moves. Batches
 *      with nothing removed are copied byte for byte; batches of aborted transactions go;
 *      control batches (transaction markers) stay.
 *   4. Each rewritten segment is handed to PartitionLog.replaceClosedSegment: the file engine
 *      writes it to `<base>.log.cleaned`, fsyncs it and swaps it in (`.cleaned` → `.log.swap`
 *      → `.log`, synchronously, so no fetch or append ever sees half a swap; open() finishes
 *      a swap a crash cut short); the memory engine swaps its batches.
 *
 * The work runs on the event loop in slices of a few milliseconds with yields in between, and
 * never holds a partition's append chain, so produce and fetch go on meanwhile. Segments are
 * cleaned one for one (Kafka also merges small neighbours; this cleaner does not).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readBatchHeader, totalSize } from "../protocol/record_batch.ts";
import { decodeRecords, encodeRecordBatch } from "../protocol/records.ts";
import { compactPolicy } from "./log_config.ts";
import { fsyncDir, writeFileAtomic } from "./file_io.ts";
import type { PartitionLog } from "./partition_log.ts";

export const CLEANER_CHECKPOINT_FILE = "cleaner-offset-checkpoint";

export interface LogCleanerConfig {
  /** `log.cleaner.backoff.ms`: sleep between checks for cleanable logs. */
  backoffMs: number;
  /** `log.cleaner.dedupe.buffer.size`: soft bound of the offset map's memory. */
  dedupeBufferBytes: number;
  /** Directory for the cleaner-offset-checkpoint file; null (the memory engine): none. */
  checkpointDir: string | null;
  /** Appended to the checkpoint's file name: each Deno worker keeps its own (".w1"). */
  checkpointSuffix?: string;
  onError?: (message: string) => void;
}

export interface CleanResult {
  /** End of the offset map: the next pass's first dirty offset. */
  firstDirtyOffset: number;
  segmentsRewritten: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  bytesBefore: number;
  bytesAfter: number;
}

const DELETE_HORIZON_FLAG = 0x40;
const CONTROL_FLAG = 0x20;
const TRANSACTIONAL_FLAG = 0x10;
const SLICE_MS = 4;

function keyString(k: Uint8Array): string {
  let s = "";
  for (let i = 0; i < k.length; i += 8192) {
    s += String.fromCharCode(...k.subarray(i, Math.min(k.length, i + 8192)));
  }
  return s;
}

function tpKey(log: PartitionLog): string {
  return `${log.topic} ${log.partition}`;
}

/** Reads Kafka's OffsetCheckpointFile format: version, count, then "topic partition offset". */
export function readOffsetCheckpoint(path: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(path)) return out;
  try {
    const lines = readFileSync(path, "utf8").split("\n").map((l) => l.trim()).filter((l) => l);
    if (lines[0] !== "0") return out;
    const n = Number(lines[1]);
    for (let i = 2; i < 2 + n && i < lines.length; i++) {
      const parts = lines[i].split(" ");
      if (parts.length !== 3) continue;
      const offset = Number(parts[2]);
      if (Number.isSafeInteger(offset)) out.set(`${parts[0]} ${parts[1]}`, offset);
    }
  } catch {
    // a damaged checkpoint only costs work (or, for log starts, a wider readable range)
  }
  return out;
}

/**
 * Reads `<dir>/<name>` and every `<dir>/<name>.<owner>` beside it (one per Deno worker that
 * owned partitions in some run), keeping the highest offset per partition: the offsets kept
 * there only grow, and which worker owns a partition may change between runs.
 */
export function readOffsetCheckpoints(dir: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const f of names) {
    if (f !== name && !(f.startsWith(`${name}.`) && !f.endsWith(".tmp"))) continue;
    for (const [k, v] of readOffsetCheckpoint(`${dir}/${f}`)) {
      if (v > (out.get(k) ?? -1)) out.set(k, v);
    }
  }
  return out;
}

/** Writes Kafka's OffsetCheckpointFile format atomically (temp, fsync, rename). */
export function writeOffsetCheckpoint(path: string, entries: Map<string, number>): void {
  const lines = ["0", String(entries.size)];
  for (const [k, v] of entries) lines.push(`${k} ${v}`);
  writeFileAtomic(path, lines.join("\n") + "\n");
  fsyncDir(path.slice(0, path.lastIndexOf("/")) || ".");
}

class CleanerStopped extends Error {
  constructor() {
    super("log cleaner stopped");
  }
}

export class LogCleaner {
  private readonly firstDirty: Map<string, number>;
  /** Earliest delete horizon of a tombstone still kept, per partition. */
  private readonly horizons = new Map<string, number>();
  private readonly busy = new Set<PartitionLog>();
  private timer?: ReturnType<typeof setTimeout>;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly checkpointPath: string | null;
  /** Totals since start (tests, benchmark). */
  readonly stats = { passes: 0, segmentsRewritten: 0, recordsRemoved: 0 };

  constructor(
    readonly config: LogCleanerConfig,
    private readonly logs: () => Iterable<PartitionLog>,
  ) {
    const dir = config.checkpointDir;
    this.checkpointPath = dir === null
      ? null
      : `${dir}/${CLEANER_CHECKPOINT_FILE}${config.checkpointSuffix ?? ""}`;
    this.firstDirty = dir === null
      ? new Map()
      : readOffsetCheckpoints(dir, CLEANER_CHECKPOINT_FILE);
  }

  start(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.cleanAll().finally(() => {
        this.running = null;
        this.start();
      });
    }, Math.max(1, this.config.backoffMs));
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  /** Forgets a deleted partition. */
  forget(log: PartitionLog): void {
    if (this.firstDirty.delete(tpKey(log))) this.saveCheckpoint();
    this.horizons.delete(tpKey(log));
  }

  private saveCheckpoint(): void {
    if (this.checkpointPath === null) return;
    try {
      writeOffsetCheckpoint(this.checkpointPath, this.firstDirty);
    } catch (e) {
      this.config.onError?.(`writing ${this.checkpointPath}: ${e}`);
    }
  }

  /** One check of every compacted log; cleans those that are due. */
  async cleanAll(now?: number): Promise<void> {
    for (const log of [...this.logs()]) {
      if (this.stopped) return;
      if (!compactPolicy(log.config)) continue;
      try {
        if (this.isDue(log, now ?? Date.now())) await this.cleanLog(log, now);
      } catch (e) {
        if (e instanceof CleanerStopped) return;
        this.config.onError?.(
          `cleaning ${log.topic}-${log.partition}: ${e instanceof Error ? e.message : e}`,
        );
      }
    }
  }

  private firstDirtyOffset(log: PartitionLog): number {
    const cp = this.firstDirty.get(tpKey(log));
    if (cp === undefined || cp < log.logStartOffset || cp > log.logEndOffset) {
      return log.logStartOffset;
    }
    return cp;
  }

  /**
   * The closed segments the cleaner may work on (below the first uncleanable one) and where
   * the dirty ones start among them.
   */
  private cleanable(log: PartitionLog, now: number) {
    const cfg = log.config;
    const lso = log.lastStableOffset;
    const closed = log.closedSegments();
    let end = 0;
    while (end < closed.length) {
      const c = closed[end];
      if (c.endOffset >= lso) break;
      if (cfg.minCompactionLagMs > 0 && now - c.segment.largestTimestamp < cfg.minCompactionLagMs) {
        break;
      }
      end++;
    }
    const segs = closed.slice(0, end);
    const firstDirty = this.firstDirtyOffset(log);
    const dirtyFrom = segs.findIndex((c) => c.endOffset >= firstDirty);
    return { segs, dirtyFrom: dirtyFrom < 0 ? segs.length : dirtyFrom };
  }

  /** Whether the dirty ratio, the max lag, or a tombstone horizon calls for a pass. */
  isDue(log: PartitionLog, now: number = Date.now()): boolean {
    if (!compactPolicy(log.config) || this.busy.has(log)) return false;
    const h = this.horizons.get(tpKey(log));
    if (h !== undefined && h <= now) return true;
    const { segs, dirtyFrom } = this.cleanable(log, now);
    let clean = 0;
    let dirty = 0;
    for (let i = 0; i < segs.length; i++) {
      if (i < dirtyFrom) clean += segs[i].size;
      else dirty += segs[i].size;
    }
    if (dirty === 0) return false;
    if (dirty / (clean + dirty) >= log.config.minCleanableDirtyRatio) return true;
    const maxLag = log.config.maxCompactionLagMs;
    if (maxLag < Number.MAX_SAFE_INTEGER) {
      for (let i = dirtyFrom; i < segs.length; i++) {
        const s = segs[i].segment;
        if (s.size > 0 && now - s.rollingBasedTimestamp() > maxLag) return true;
      }
    }
    return false;
  }

  /** Cleans one log now (whatever its dirty ratio); null if it is not compacted or busy. */
  async cleanLog(log: PartitionLog, now: number = Date.now()): Promise<CleanResult | null> {
    if (!compactPolicy(log.config) || this.busy.has(log)) return null;
    this.busy.add(log);
    try {
      return await this.doClean(log, now);
    } finally {
      this.busy.delete(log);
    }
  }

  private async doClean(log: PartitionLog, now: number): Promise<CleanResult | null> {
    const cfg = log.config;
    const { segs, dirtyFrom } = this.cleanable(log, now);
    const result: CleanResult = {
      firstDirtyOffset: this.firstDirtyOffset(log),
      segmentsRewritten: 0,
      recordsRemoved: 0,
      tombstonesRemoved: 0,
      bytesBefore: 0,
      bytesAfter: 0,
    };
    let sliceStart = performance.now();
    const maybeYield = async () => {
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise((r) => setTimeout(r, 0));
        sliceStart = performance.now();
        // Shutting down: abandon the pass (a .cleaned file left behind is deleted on open).
        if (this.stopped) throw new CleanerStopped();
      }
    };
    const isAborted = (h: { producerId: number; baseOffset: number; attributes: number }) => {
      if ((h.attributes & TRANSACTIONAL_FLAG) === 0 || h.producerId < 0) return false;
      return log.abortedTxnsIn(h.baseOffset, h.baseOffset).some((t) =>
        t.producerId === h.producerId && t.firstOffset <= h.baseOffset &&
        h.baseOffset <= t.lastOffset
      );
    };

    // 2. The offset map over the dirty section.
    const map = new Map<string, number>();
    let mapBytes = 0;
    let mapEnd = dirtyFrom; // segments [0, mapEnd) get cleaned
    for (let i = dirtyFrom; i < segs.length; i++) {
      if (i > dirtyFrom && mapBytes >= this.config.dedupeBufferBytes) break;
      const seg = segs[i].segment;
      const bytes = await log.readClosedSegment(seg);
      if (bytes === null) return null;
      let pos = 0;
      while (pos < bytes.length) {
        const h = readBatchHeader(bytes, pos);
        const size = totalSize(h);
        if ((h.attributes & CONTROL_FLAG) === 0 && !isAborted(h)) {
          const { records } = decodeRecords(bytes.subarray(pos, pos + size));
          for (const r of records) {
            if (r.key === null) continue;
            const k = keyString(r.key);
            if (!map.has(k)) mapBytes += k.length + 48;
            map.set(k, h.baseOffset + r.offsetDelta);
          }
        }
        pos += size;
        await maybeYield();
      }
      mapEnd = i + 1;
    }
    const endOffset = Math.max(
      result.firstDirtyOffset,
      mapEnd > 0 ? segs[mapEnd - 1].endOffset + 1 : 0,
    );

    // 3–4. Rewrite the segments below the end of the map.
    let minHorizon = Infinity;
    for (let i = 0; i < mapEnd; i++) {
      const seg = segs[i].segment;
      const bytes = await log.readClosedSegment(seg);
      if (bytes === null) return null;
      const out: Uint8Array[] = [];
      let outBytes = 0;
      let changed = false;
      let pos = 0;
      while (pos < bytes.length) {
        const h = readBatchHeader(bytes, pos);
        const size = totalSize(h);
        const batch = bytes.subarray(pos, pos + size);
        pos += size;
        await maybeYield();
        if ((h.attributes & CONTROL_FLAG) !== 0) {
          out.push(batch);
          outBytes += size;
          continue;
        }
        if (isAborted(h)) {
          changed = true;
          result.recordsRemoved += h.recordCount;
          continue;
        }
        const decoded = decodeRecords(batch);
        const hasHorizon = (h.attributes & DELETE_HORIZON_FLAG) !== 0;
        const horizon = hasHorizon ? h.baseTimestamp : null;
        let needsHorizon = false;
        let keptTombstone = false;
        const kept = decoded.records.filter((r) => {
          if (r.key === null) return false;
          const latest = map.get(keyString(r.key));
          if (latest !== undefined && h.baseOffset + r.offsetDelta < latest) return false;
          if (r.value === null) {
            if (horizon !== null && horizon <= now) {
              result.tombstonesRemoved++;
              return false;
            }
            keptTombstone = true;
            if (horizon === null) needsHorizon = true;
          }
          return true;
        });
        result.recordsRemoved += decoded.records.length - kept.length;
        if (kept.length === decoded.records.length && !needsHorizon) {
          out.push(batch);
          outBytes += size;
          if (keptTombstone && horizon !== null) minHorizon = Math.min(minHorizon, horizon);
          continue;
        }
        changed = true;
        if (kept.length === 0) continue;
        const newHorizon = keptTombstone ? (horizon ?? now + cfg.deleteRetentionMs) : null;
        if (newHorizon !== null) minHorizon = Math.min(minHorizon, newHorizon);
        const hd = decoded.header;
        const origBase = hd.baseTimestamp;
        const stamps = kept.map((r) => origBase + r.timestampDelta);
        const rewritten = encodeRecordBatch({
          baseOffset: h.baseOffset,
          partitionLeaderEpoch: hd.partitionLeaderEpoch,
          compression: hd.compression,
          timestampType: hd.timestampType,
          isTransactional: hd.isTransactional,
          producerId: hd.producerId,
          producerEpoch: hd.producerEpoch,
          baseSequence: hd.baseSequence,
          lastOffsetDelta: hd.lastOffsetDelta,
          hasDeleteHorizon: newHorizon !== null,
          baseTimestamp: newHorizon ?? origBase,
          maxTimestamp: hd.timestampType === 1
            ? hd.maxTimestamp
            : stamps.reduce((a, b) => (b > a ? b : a), -1),
          records: kept.map((r, j) => ({
            key: r.key,
            value: r.value,
            headers: r.headers,
            timestamp: stamps[j],
            offsetDelta: r.offsetDelta,
          })),
        });
        out.push(rewritten);
        outBytes += rewritten.length;
      }
      result.bytesBefore += bytes.length;
      result.bytesAfter += outBytes;
      if (!changed) continue;
      const cleaned = new Uint8Array(outBytes);
      let o = 0;
      for (const b of out) {
        cleaned.set(b, o);
        o += b.length;
      }
      if (!(await log.replaceClosedSegment(seg, cleaned))) return null;
      result.segmentsRewritten++;
    }

    const key = tpKey(log);
    this.firstDirty.set(key, endOffset);
    this.saveCheckpoint();
    if (minHorizon < Infinity) this.horizons.set(key, minHorizon);
    else this.horizons.delete(key);
    result.firstDirtyOffset = endOffset;
    this.stats.passes++;
    this.stats.segmentsRewritten += result.segmentsRewritten;
    this.stats.recordsRemoved += result.recordsRemoved;
    return result;
  }
}
