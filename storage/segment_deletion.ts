/**
 * Deleting a segment's files as Kafka's asyncDeleteSegment does: at once they are renamed with
 * the `.deleted` suffix, so the segment is gone from the log and its base offset free, and
 * `file.delete.delay.ms` later they are removed. A read that already holds the files (a cold-tier
 * upload, a fetch) finishes undisturbed meanwhile. The timers do not keep the process alive: a
 * broker that stops first leaves the `.deleted` files, and the next open of the partition
 * removes them (the LogLoader's stale-file sweep), as in Kafka.
 */
import { renameSync, unlinkSync } from "node:fs";

export const DELETED_FILE_SUFFIX = ".deleted";

/** Removes `paths` now (delay 0) or renames them and removes them `delayMs` later. */
export function deleteSegmentFiles(paths: readonly string[], delayMs: number): void {
  if (delayMs <= 0) {
    for (const p of paths) unlinkQuietly(p);
    return;
  }
  const doomed: string[] = [];
  for (const p of paths) {
    try {
      renameSync(p, p + DELETED_FILE_SUFFIX);
      doomed.push(p + DELETED_FILE_SUFFIX);
    } catch {
      unlinkQuietly(p); // gone already, or not renamable: do not leave it under its live name
    }
  }
  if (doomed.length === 0) return;
  const timer = setTimeout(() => {
    for (const p of doomed) unlinkQuietly(p);
  }, delayMs);
  Deno.unrefTimer(timer);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
