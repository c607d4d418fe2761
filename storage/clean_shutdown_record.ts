/**
 * The clean-shutdown record of a data directory: Kafka's `.kafka_cleanshutdown`, written once
 * per log directory after every log in it is closed (not once per partition: a file created
 * per partition at shutdown and removed per partition at start-up was most of both with
 * 100,000 partitions). It names the partitions its LogManager closed cleanly, so that only
 * they skip the full check of their active segment on the next open.
 *
 *   <dataDir>/meta/clean-shutdown<suffix>
 *     0                         version
 *     2                         number of entries
 *     orders 0 <topicId>        topic, partition, topic id
 *     orders 1 <topicId>
 *
 * Each LogManager of a directory has its own record, named by its share of the partitions
 * (`suffix`: "" alone, ".w1of4" for worker 1 of 4). Safety rests on two rules:
 * - a manager takes (reads and durably removes) its record before opening any partition, so
 *   a crash from then on is recovered as a crash;
 * - the catalogue writer removes, at open, every record of another layout (a start with
 *   another worker count), so a record never outlives a start that may have written to the
 *   partitions it names: it is used by the very next start of the same layout, or by none.
 * A torn or unreadable record counts as none: every partition is then checked in full.
 *
 * An entry may end with a base offset (`orders 2 <topicId> 0`): the partition's directory held
 * nothing but partition.metadata and that one empty segment's .log, so its next open does not
 * list the directory (one stat of the .log instead, which must still be empty).
 */
import { readdirSync, readFileSync, unlinkSync } from "node:fs";
import { fsyncDir, writeFileAtomic } from "./file_io.ts";

export const CLEAN_SHUTDOWN_RECORD = "clean-shutdown";
/** A worker's suffix: its index and the worker count. */
const LAYOUT = /^\.w(\d+)of(\d+)$/;

/** Key of a partition in the record. */
export function cleanShutdownKey(topic: string, partition: number, topicId: string): string {
  return `${topic} ${partition} ${topicId}`;
}

/** The record's line for partition key `key`; `emptyAt` >= 0: its sole, empty segment's base. */
export function cleanShutdownEntry(key: string, emptyAt: number): string {
  return emptyAt >= 0 ? `${key} ${emptyAt}` : key;
}

/** The topic ids of the partitions `keys` name, by partition directory name ("orders-0"). */
export function recordedTopicIds(keys: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of keys) {
    const [topic, partition, topicId] = key.split(" ");
    out.set(`${topic}-${partition}`, topicId);
  }
  return out;
}

/**
 * Reads the record `suffix` in `metaDir` and removes it durably; the keys of the partitions it
 * names (none when there is none or it cannot be parsed), each with the base offset of its
 * sole empty segment, or -1.
 */
export function takeCleanShutdownRecord(metaDir: string, suffix: string): Map<string, number> {
  const path = `${metaDir}/${CLEAN_SHUTDOWN_RECORD}${suffix}`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return new Map();
  }
  unlinkSync(path);
  fsyncDir(metaDir);
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const count = Number(lines[1]);
  if (lines[0] !== "0" || !Number.isInteger(count) || lines.length !== count + 2) {
    return new Map();
  }
  const out = new Map<string, number>();
  for (let i = 2; i < lines.length; i++) {
    const f = lines[i].split(" ");
    const at = f.length === 4 ? Number(f[3]) : -1;
    out.set(f.slice(0, 3).join(" "), Number.isSafeInteger(at) && at >= 0 ? at : -1);
  }
  return out;
}

/**
 * Writes the record `suffix` of `entries` (cleanShutdownEntry), durably (temp, fsync, rename,
 * directory fsync).
 */
export function writeCleanShutdownRecord(
  metaDir: string,
  suffix: string,
  entries: string[],
): void {
  const body = ["0", String(entries.length), ...entries].join("\n") + "\n";
  writeFileAtomic(`${metaDir}/${CLEAN_SHUTDOWN_RECORD}${suffix}`, body);
  fsyncDir(metaDir);
}

/**
 * Removes (durably) every record in `metaDir` of a layout other than that of `suffix`: with
 * "" (one manager) every other; with ".wIofN" those not of N workers.
 */
export function removeOtherLayouts(metaDir: string, suffix: string): void {
  const workers = LAYOUT.exec(suffix)?.[2];
  let removed = false;
  for (const name of readdirSync(metaDir)) {
    if (!name.startsWith(CLEAN_SHUTDOWN_RECORD)) continue;
    const rest = name.slice(CLEAN_SHUTDOWN_RECORD.length);
    const sameLayout = workers === undefined ? rest === "" : LAYOUT.exec(rest)?.[2] === workers;
    if (sameLayout) continue;
    unlinkSync(`${metaDir}/${name}`);
    removed = true;
  }
  if (removed) fsyncDir(metaDir);
}
