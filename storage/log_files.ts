/**
 * The names of the files in a partition directory, after Kafka's LogFileUtils: segment files
 * are named by their base offset (20 digits, zero padded) plus a suffix; a few suffixes mark
 * files in the middle of being replaced, which the LogLoader finishes or deletes on open.
 */

export const LOG_FILE_SUFFIX = ".log";
export const INDEX_FILE_SUFFIX = ".index";
export const TIME_INDEX_FILE_SUFFIX = ".timeindex";
/** Producer-state snapshots (storage/producer_snapshot.ts). */
export const SNAPSHOT_FILE_SUFFIX = ".snapshot";
/** Suffix of a compacted segment being written, and of one ready to replace the original. */
export const CLEANED_FILE_SUFFIX = ".cleaned";
export const SWAP_FILE_SUFFIX = ".swap";
/** Temporary files an interrupted operation may leave; deleted on open. */
export const STALE_FILE_SUFFIXES = [".deleted", CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX, ".tmp"];
/** Written on clean close; its presence lets the next open trust the active segment's indexes. */
export const CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown";

/** Kafka's file name for a segment starting at `baseOffset`: 20 digits, zero padded. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, "0") + suffix;
}
