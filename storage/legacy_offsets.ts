/**
 * ListOffsets v0's answer (Kafka's UnifiedLog.legacyFetchOffsetsBefore): offsets at segment
 * granularity. Each local segment stands for its base offset (at least the log start) at its
 * file's last-modified time, and a non-empty active segment adds the log end offset at `now`.
 * Latest (-1) starts from the last of those, earliest (-2) from the first, a timestamp from the
 * last one modified at or before it; up to `maxNumOffsets` offsets are returned from there
 * backwards, in descending order. A consumer (replica id -1) never sees offsets above the
 * high watermark: they are replaced by it.
 */

export interface SegmentTime {
  baseOffset: number;
  size: number;
  lastModified: number;
}

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export function legacyOffsetsBefore(
  segments: SegmentTime[],
  log: { logStartOffset: number; logEndOffset: number; highWatermark: number },
  timestamp: number,
  maxNumOffsets: number,
  now: number,
  fromConsumer: boolean,
): number[] {
  const points = segments.map((s) => ({
    offset: Math.max(s.baseOffset, log.logStartOffset),
    time: s.lastModified,
  }));
  if (segments.length > 0 && segments[segments.length - 1].size > 0) {
    points.push({ offset: log.logEndOffset, time: now });
  }
  let start: number;
  if (timestamp === LATEST_TIMESTAMP) {
    start = points.length - 1;
  } else if (timestamp === EARLIEST_TIMESTAMP) {
    start = 0;
  } else {
    start = points.length - 1;
    while (start >= 0 && points[start].time > timestamp) start--;
  }
  const offsets: number[] = [];
  for (let i = start; i >= 0 && offsets.length < maxNumOffsets; i--) offsets.push(points[i].offset);
  offsets.sort((a, b) => b - a);
  if (!fromConsumer || !offsets.some((o) => o > log.highWatermark)) return offsets;
  return [log.highWatermark, ...offsets.filter((o) => o <= log.highWatermark)];
}
