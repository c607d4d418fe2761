/**
 * Record search for the admin API: a bounded scan of a topic's partitions (or one) from an
 * offset or a timestamp, keeping the records whose key and value contain the given
 * substrings. A scan never runs unbounded: it stops at `maxRecords` records scanned,
 * `maxBytes` bytes of keys, values and headers scanned, `timeoutMs`, or `limit` matches,
 * whichever comes first, and says which (`stoppedBy`) and where each partition would go on
 * (`next`). Partitions are read round-robin, a chunk at a time, through the "peek" partition
 * op, so each read runs on the partition's owning worker.
 */
import type { AdminHost } from "./admin_host.ts";
import type { PeekedRecord } from "../record_peek.ts";

export const SEARCH_DEFAULTS = {
  limit: 100,
  maxRecords: 10_000,
  maxBytes: 16 * 1024 * 1024,
  timeoutMs: 2_000,
};
export const SEARCH_LIMITS = {
  limit: 1000,
  maxRecords: 1_000_000,
  maxBytes: 256 * 1024 * 1024,
  timeoutMs: 30_000,
};
/** Records read from one partition per round. */
const CHUNK_RECORDS = 500;
const CHUNK_BYTES = 1024 * 1024;

export interface SearchSpec {
  topic: string;
  /** The partitions to scan (the route passes every partition when none is named). */
  partitions: number[];
  /** Start offset in each partition (clamped to the log); null: the log start. */
  offset: number | null;
  /** Start at each partition's first record at or after this time; overrides `offset`. */
  timestamp: number | null;
  /** Substrings the key / value must contain (UTF-8 text; base64 ones never match). */
  key: string | null;
  value: string | null;
  limit: number;
  maxRecords: number;
  maxBytes: number;
  timeoutMs: number;
}

export type StopReason = "end" | "limit" | "maxRecords" | "maxBytes" | "timeoutMs";

export interface SearchResult {
  topic: string;
  records: (PeekedRecord & { partition: number })[];
  scannedRecords: number;
  scannedBytes: number;
  /** What ended the scan: "end" means every partition was read to its high watermark. */
  stoppedBy: StopReason;
  /** Per partition: where a continued search would start, and its high watermark. */
  next: { partition: number; offset: number; highWatermark: number }[];
}

const textEncoder = new TextEncoder();

function textBytes(s: string | null, enc: string | null): number {
  if (s === null) return 0;
  return enc === "base64" ? Math.floor(s.length * 3 / 4) : textEncoder.encode(s).length;
}

/** Bytes of keys, values and header values, as the peek's byte budget counts them. */
function recordBytes(r: PeekedRecord): number {
  let n = textBytes(r.key, r.keyEncoding) + textBytes(r.value, r.valueEncoding);
  for (const h of r.headers) {
    n += textEncoder.encode(h.key).length + textBytes(h.value, h.valueEncoding);
  }
  return n;
}

function contains(s: string | null, enc: string | null, needle: string | null): boolean {
  if (needle === null) return true;
  return s !== null && enc === "utf8" && s.includes(needle);
}

/** Runs the bounded search `spec` describes. */
export async function searchRecords(broker: AdminHost, spec: SearchSpec): Promise<SearchResult> {
  const deadline = Date.now() + spec.timeoutMs;
  const cursors = await Promise.all(spec.partitions.map(async (p) => {
    const s = await broker.replicaManager.partitionOp(spec.topic, p, "status", {});
    let offset = spec.offset ?? s.logStartOffset;
    if (spec.timestamp !== null) {
      const found = await broker.replicaManager.partitionOp(spec.topic, p, "listOffset", {
        timestamp: spec.timestamp,
        committed: false,
      });
      offset = found.errorCode === 0 && found.offset >= 0 ? found.offset : s.highWatermark;
    }
    offset = Math.min(Math.max(offset, s.logStartOffset), s.highWatermark);
    return { partition: p, offset, highWatermark: s.highWatermark, done: false };
  }));
  const records: SearchResult["records"] = [];
  let scannedRecords = 0;
  let scannedBytes = 0;
  let stoppedBy: StopReason = "end";
  scan: for (;;) {
    const open = cursors.filter((c) => !c.done && c.offset < c.highWatermark);
    if (open.length === 0) break;
    for (const c of open) {
      if (records.length >= spec.limit) {
        stoppedBy = "limit";
        break scan;
      }
      if (scannedRecords >= spec.maxRecords) {
        stoppedBy = "maxRecords";
        break scan;
      }
      if (scannedBytes >= spec.maxBytes) {
        stoppedBy = "maxBytes";
        break scan;
      }
      if (Date.now() >= deadline) {
        stoppedBy = "timeoutMs";
        break scan;
      }
      const res = await broker.replicaManager.partitionOp(spec.topic, c.partition, "peek", {
        offset: c.offset,
        limit: Math.min(CHUNK_RECORDS, spec.maxRecords - scannedRecords),
        maxBytes: Math.max(1, Math.min(CHUNK_BYTES, spec.maxBytes - scannedBytes)),
      });
      c.highWatermark = Math.min(c.highWatermark, res.highWatermark);
      if (res.records.length === 0) {
        // Only control batches or a compaction gap up to nextOffset; or nothing readable.
        if (res.nextOffset > c.offset) c.offset = res.nextOffset;
        else c.done = true;
        continue;
      }
      for (const r of res.records) {
        // The budgets and the match limit end the scan record by record, so `next` is exact.
        if (records.length >= spec.limit) break;
        const size = recordBytes(r);
        if (scannedRecords > 0 && scannedBytes + size > spec.maxBytes) {
          stoppedBy = "maxBytes";
          break scan;
        }
        scannedRecords++;
        scannedBytes += size;
        c.offset = r.offset + 1;
        if (
          contains(r.key, r.keyEncoding, spec.key) && contains(r.value, r.valueEncoding, spec.value)
        ) {
          records.push({ partition: c.partition, ...r });
        }
        if (scannedRecords >= spec.maxRecords) break;
      }
      const last = res.records[res.records.length - 1];
      if (c.offset > last.offset) c.offset = Math.max(c.offset, res.nextOffset);
    }
  }
  if (stoppedBy === "end" && records.length >= spec.limit) {
    const more = cursors.some((c) => !c.done && c.offset < c.highWatermark);
    if (more) stoppedBy = "limit";
  }
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  return {
    topic: spec.topic,
    records,
    scannedRecords,
    scannedBytes,
    stoppedBy,
    next: cursors.map((c) => ({
      partition: c.partition,
      offset: c.offset,
      highWatermark: c.highWatermark,
    })),
  };
}
