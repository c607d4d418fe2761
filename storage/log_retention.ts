/**
 * Which of the oldest segments retention deletes, after Kafka's UnifiedLog
 * deleteRetentionSizeBreachedSegments and deleteRetentionMsBreachedSegments. PartitionLog
 * decides the bounds' effect on offsets (and rolls when the active segment must go too);
 * this only counts.
 */
import type { LocalLogStore, RetainedSegment } from "./local_log_store.ts";
import {
  effectiveLocalRetentionBytes,
  effectiveLocalRetentionMs,
  type LogConfig,
} from "./log_config.ts";

/**
 * How many of the oldest segments are past `retention.bytes` or `retention.ms` (for a tiered
 * topic, `local.retention.*`, and only segments already copied — end offset <=
 * `highestTiered` — count; the active segment never does). A non-empty active segment of an
 * untiered log counts, so the result may be every segment.
 */
export function retentionBreachedSegments<S extends RetainedSegment>(
  local: LocalLogStore<S>,
  cfg: LogConfig,
  tiered: boolean,
  highestTiered: number,
  now: number,
): number {
  const segments = local.segments;
  const retentionMs = tiered ? effectiveLocalRetentionMs(cfg) : cfg.retentionMs;
  const retentionBytes = tiered ? effectiveLocalRetentionBytes(cfg) : cfg.retentionBytes;
  const eligible = (i: number): boolean => {
    const next = segments[i + 1];
    if (next === undefined) return !tiered && segments[i].size > 0;
    return !tiered || next.baseOffset - 1 <= highestTiered;
  };
  const count = (pred: (seg: S, i: number) => boolean): number => {
    let n = 0;
    while (n < segments.length && eligible(n) && pred(segments[n], n)) n++;
    return n;
  };
  let n = 0;
  if (retentionBytes >= 0) {
    let diff = local.sizeInBytes - retentionBytes;
    n = count((seg) => {
      if (diff - seg.size < 0) return false;
      diff -= seg.size;
      return true;
    });
  }
  if (retentionMs >= 0) {
    n = Math.max(n, count((seg) => now - local.segmentTime(seg) > retentionMs));
  }
  return n;
}
