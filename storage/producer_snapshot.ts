/**
 * Producer-state snapshot files (`<offset>.snapshot`), after Kafka's ProducerStateManager
 * snapshots: the producers' state and the aborted transactions as of an offset, written at
 * each roll and on close so recovery replays only the batches after the newest snapshot.
 * A snapshot is a cache of what replaying the log yields: it is not fsynced, and a torn or
 * unreadable one is skipped in favour of an older one or a full replay.
 */
import { readdirSync, unlinkSync } from "node:fs";
import { readWholeFile, writeFileAtomic } from "./file_io.ts";
import { segmentFileName, SNAPSHOT_FILE_SUFFIX } from "./log_files.ts";
import type { ProducerStateEntry } from "./producer_state.ts";
import type { AbortedTxn } from "./transaction_index.ts";

const SNAPSHOTS_TO_KEEP = 2;

export interface SnapshotFile {
  version: 1;
  offset: number;
  producers: ProducerStateEntry[];
  abortedTxns: AbortedTxn[];
}

export function snapshotPath(dir: string, offset: number): string {
  return `${dir}/${segmentFileName(offset, SNAPSHOT_FILE_SUFFIX)}`;
}

/** The snapshot at `path`, or null when it is missing, torn or of an unknown version. */
export function readSnapshot(path: string): SnapshotFile | null {
  try {
    const bytes = readWholeFile(path);
    if (bytes === null) return null;
    const s = JSON.parse(new TextDecoder().decode(bytes)) as SnapshotFile;
    if (s.version !== 1 || !Array.isArray(s.producers) || !Array.isArray(s.abortedTxns)) {
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

/** Writes the snapshot at `offset` and deletes all but the newest SNAPSHOTS_TO_KEEP. */
export function writeSnapshot(
  dir: string,
  offset: number,
  producers: ProducerStateEntry[],
  abortedTxns: AbortedTxn[],
): void {
  const snap: SnapshotFile = { version: 1, offset, producers, abortedTxns };
  writeFileAtomic(snapshotPath(dir, offset), JSON.stringify(snap), false);
  const old = readdirSync(dir)
    .filter((n) => n.endsWith(SNAPSHOT_FILE_SUFFIX))
    .map((n) => Number(n.slice(0, 20)))
    .filter((o) => o !== offset)
    .sort((a, b) => b - a);
  for (const o of old.slice(SNAPSHOTS_TO_KEEP - 1)) {
    try {
      unlinkSync(snapshotPath(dir, o));
    } catch {
      // gone
    }
  }
}

/** Base offsets of the snapshots in `dir`, any order. */
export function listSnapshots(dir: string): number[] {
  return readdirSync(dir)
    .filter((n) => /^\d{20}\.snapshot$/.test(n))
    .map((n) => Number(n.slice(0, 20)));
}

/**
 * Deletes the snapshots above `offset` (all with -1): after a truncation they describe
 * batches no longer in the log (Kafka's truncateAndReload).
 */
export function deleteSnapshotsAbove(dir: string, offset: number): void {
  for (const o of listSnapshots(dir)) {
    if (o <= offset) continue;
    try {
      unlinkSync(snapshotPath(dir, o));
    } catch {
      // gone
    }
  }
}
