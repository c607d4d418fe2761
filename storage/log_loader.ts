/**
 * LogLoader: what a partition's segments go through when its log is opened, after Kafka's
 * LogLoader.recoverLog, with every action logged (WARN when anything is dropped).
 *
 * Which segments are scanned: Kafka recovers the segments above the recovery point (the
 * offset up to which the log was flushed, `recovery-point-offset-checkpoint`). Here a segment
 * is fsynced before the next one is created (roll) and a compacted segment before it replaces
 * the original, so every closed segment is below the recovery point and only the active
 * segment can hold unflushed bytes: after an unclean shutdown it is CRC-checked batch by
 * batch, after a clean one only what follows its last index entry is walked. No checkpoint
 * file is needed to know this.
 *
 * Closed segments are not trusted blindly either: each one's last index entry must point at a
 * batch, and the batch headers from there must end exactly at the end of the file (a few
 * header reads). A closed segment that fails this (cut short or overwritten on disk) is
 * CRC-checked in full and truncated at its first bad batch; one cut at a batch boundary, whose
 * whole batches end before the offset its index (written at roll) named, lost its end just the
 * same.
 *
 * A truncation anywhere is handled as Kafka handles corruption found during recovery: the log
 * ends there. Every later segment is deleted, so offsets stay contiguous and the log end
 * offset (and with it the high watermark) is the end of the last valid batch; consumers past
 * it get OFFSET_OUT_OF_RANGE and reset, producers continue from it.
 */
import { isControl, lastOffset, readControlRecordType } from "../protocol/record_batch.ts";
import { log } from "./logger.ts";
import {
  describeDropped,
  type DroppedBatches,
  formatDropped,
  mergeDropped,
} from "./dropped_batches.ts";
import type { LogConfig } from "./log_config.ts";
import { LogSegment, type RecoveryResult } from "./log_segment.ts";
import {
  CLEAN_SHUTDOWN_FILE,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  segmentFileName,
  STALE_FILE_SUFFIXES,
  TIME_INDEX_FILE_SUFFIX,
} from "./log_files.ts";
import { fileSize, fsyncDir, readFully } from "./file_io.ts";
import { PARTITION_METADATA } from "./partition_metadata.ts";
import { OffsetIndex } from "./offset_index.ts";
import type { LocalLog } from "./local_log.ts";
import type { ProducerStateManager } from "./producer_state.ts";
import { readSnapshot, snapshotPath } from "./producer_snapshot.ts";
import type { TransactionIndex } from "./transaction_index.ts";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
} from "node:fs";

/**
 * The names in `dir` (made, empty, when missing). Deno's own listing: node:fs's sorts and
 * converts every entry, a noticeable share of start-up with 100,000 partitions.
 */
function listDir(dir: string): string[] {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    mkdirSync(dir, { recursive: true });
  }
  return names;
}

/** A partition directory's files after the temp-file sweep, before recovery. */
export interface SegmentFiles {
  /** Opened (not yet recovered) segments, oldest first; one empty segment in a new log. */
  segments: LogSegment[];
  /** Base offsets of the producer-state snapshots found. */
  snapshots: number[];
  /** Whether the last close was clean (its marker is consumed). */
  cleanShutdown: boolean;
  /**
   * The directory's names as listed (after swaps and sweeps), so the checkpoints a new or
   * empty log lacks are not looked for one failed open at a time.
   */
  names: ReadonlySet<string>;
}

/**
 * Kafka's LogLoader.removeTempFilesAndCollectSwapFiles + loadSegmentFiles: consumes the
 * clean-shutdown marker, completes a compaction swap cut short (`<base>.log.swap` is the
 * complete cleaned log that replaces `<base>.log`), deletes stale temp files and indexes
 * without a log, and opens the segments. `recordedClean`: the LogManager's clean-shutdown
 * record (storage/clean_shutdown_record.ts) names this partition. `fresh`: the directory was
 * made a moment ago with nothing but partition.metadata in it, so it is not listed. `emptyAt`
 * (>= 0, from the clean-shutdown record): the directory held only partition.metadata and that
 * segment's empty .log, so it is not listed either if that .log is still there and empty.
 */
export function loadSegmentFiles(
  dir: string,
  cfg: LogConfig,
  name: string,
  recordedClean = false,
  fresh = false,
  emptyAt = -1,
): SegmentFiles {
  if (emptyAt >= 0 && recordedClean) {
    const logName = segmentFileName(emptyAt, LOG_FILE_SUFFIX);
    // existsSync answers without an exception (a failed stat throws one, a noticeable cost
    // per never-written partition at start-up).
    const path = `${dir}/${logName}`;
    const size = existsSync(path) ? fileSize(path) : -1;
    if (size === 0) {
      const names = new Set([PARTITION_METADATA, logName]);
      const seg = LogSegment.open(dir, emptyAt, cfg, Date.now(), names, 0);
      return { segments: [seg], snapshots: [], cleanShutdown: true, names };
    }
    if (size < 0 && emptyAt === 0) {
      // Never written: its .log is made by the first write, as for a new partition.
      const seg = LogSegment.create(dir, 0, cfg, Date.now(), false, true);
      return {
        segments: [seg],
        snapshots: [],
        cleanShutdown: true,
        names: new Set([PARTITION_METADATA]),
      };
    }
  }
  // One directory read per partition at start-up, and no more system calls than the files
  // found need: the marker's presence comes from the listing, the directory is made only
  // when the listing finds none.
  const names = fresh ? [] : listDir(dir);
  const marked = names.includes(CLEAN_SHUTDOWN_FILE);
  if (marked) unlinkSync(`${dir}/${CLEAN_SHUTDOWN_FILE}`);
  const clean = marked || recordedClean;

  // Finish a cut-short swap; the old indexes go and are rebuilt by recovery.
  let swapped = false;
  for (const file of names) {
    const m = /^(\d{20})\.log\.swap$/.exec(file);
    if (!m) continue;
    const base = Number(m[1]);
    for (const suffix of [INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX]) {
      rmSync(`${dir}/${segmentFileName(base, suffix)}`, { force: true });
    }
    renameSync(`${dir}/${file}`, `${dir}/${segmentFileName(base, LOG_FILE_SUFFIX)}`);
    fsyncDir(dir);
    log.info(`${name}: completed the compaction swap of ${file}`);
    swapped = true;
  }
  const logBases: number[] = [];
  const snapshots: number[] = [];
  // Listed again only if a swap renamed files: one directory read per partition at start-up.
  const afterSwaps = swapped ? listDir(dir) : names;
  const fileNames = new Set(afterSwaps);
  for (const file of afterSwaps) {
    if (STALE_FILE_SUFFIXES.some((s) => file.endsWith(s))) {
      rmSync(`${dir}/${file}`, { recursive: true, force: true });
      fileNames.delete(file);
      log.info(`${name}: deleted the leftover ${file}`);
      continue;
    }
    const m = /^(\d{20})\.(log|index|timeindex|snapshot)$/.exec(file);
    if (!m) continue;
    const base = Number(m[1]);
    if (m[2] === "log") logBases.push(base);
    else if (m[2] === "snapshot") snapshots.push(base);
    else if (!fileNames.has(segmentFileName(base, LOG_FILE_SUFFIX))) {
      unlinkSync(`${dir}/${file}`); // index without its log
      fileNames.delete(file);
    }
  }
  logBases.sort((a, b) => a - b);
  // Without a .log no index file is left (indexes without their log were deleted above);
  // the empty log at 0 gets its .log on its first write.
  const segments = logBases.length === 0
    ? [LogSegment.create(dir, 0, cfg, Date.now(), false, true)]
    : logBases.map((base) => LogSegment.open(dir, base, cfg, Date.now(), fileNames));
  if (marked) fileNames.delete(CLEAN_SHUTDOWN_FILE);
  return { segments, snapshots, cleanShutdown: clean, names: fileNames };
}

/** What recovery did (storage/log_loader.ts logs each action). */
export interface RecoveryInfo {
  cleanShutdown: boolean;
  truncatedBytes: number;
  reason?: string;
  rebuiltIndexes: number;
  replayedBatches: number;
  /** Segments deleted after an earlier one was truncated. */
  deletedSegments: number;
  /** What the truncation and the deletions dropped, by batch headers. */
  dropped?: DroppedBatches;
}

/** What loading the segments did. */
export interface SegmentsRecovery {
  /** Bytes cut off the segment that was truncated (0 when none was). */
  truncatedBytes: number;
  /** Why that segment was truncated. */
  reason?: string;
  rebuiltIndexes: number;
  /** Segments deleted because an earlier one was truncated. */
  deletedSegments: number;
  /** Everything dropped (the truncated tail and the deleted segments), by batch headers. */
  dropped?: DroppedBatches;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function fileName(s: LogSegment): string {
  return s.logPath.slice(s.logPath.lastIndexOf("/") + 1);
}

/** The last entry of a closed segment's .index file, read alone (8 bytes at its end). */
function lastIndexEntry(s: LogSegment): { offset: number; position: number } | null {
  const entries = s.offsetIndex.entries;
  const buf = new Uint8Array(OffsetIndex.ENTRY_SIZE);
  let fd: number;
  try {
    fd = openSync(s.offsetIndex.path, "r");
  } catch {
    return null;
  }
  try {
    const n = readFully(fd, buf, 0, buf.length, (entries - 1) * OffsetIndex.ENTRY_SIZE);
    if (n < buf.length) return null;
  } finally {
    closeSync(fd);
  }
  const v = new DataView(buf.buffer);
  return { offset: s.baseOffset + v.getInt32(0), position: v.getInt32(4) };
}

/** Why a closed segment's end is not as written, and the offset its index vouches for. */
export interface ClosedSegmentDamage {
  why: string;
  /** The last index entry's offset (written at roll: the log held it), -1 if unreadable. */
  indexedOffset: number;
}

/**
 * Why closed segment `s` cannot be as it was written (null when its end is intact): its last
 * index entry must name the batch at that position, and the headers from there must end
 * exactly at the end of the file.
 */
export function closedSegmentDamage(s: LogSegment): ClosedSegmentDamage | null {
  let from = 0;
  let indexedOffset = -1;
  if (s.offsetIndex.entries > 0) {
    const e = lastIndexEntry(s);
    if (e === null) return { why: "its index file cannot be read", indexedOffset };
    indexedOffset = e.offset;
    if (e.position < 0 || e.position >= s.size) {
      return {
        why:
          `its last index entry (offset ${e.offset}, position ${e.position}) lies past the end of the log (${s.size} bytes)`,
        indexedOffset,
      };
    }
    const h = s.readHeaderAt(e.position);
    if (h === null || lastOffset(h) !== e.offset) {
      return {
        why:
          `its last index entry (offset ${e.offset}) does not match the batch at position ${e.position}`,
        indexedOffset,
      };
    }
    from = e.position;
  }
  const r = s.scan(from, false, () => {});
  if (r.end !== s.size) {
    return { why: r.reason ?? `its batches end at position ${r.end} of ${s.size}`, indexedOffset };
  }
  return null;
}

/** Describes a whole segment about to be deleted. */
function describeSegment(s: LogSegment): DroppedBatches {
  return describeDropped(
    (into, pos) => {
      const b = s.readBytes(pos, into.length);
      into.set(b);
      return b.length;
    },
    0,
    s.size,
  );
}

/**
 * Recovers `segments` (oldest first, the last one active) in place: rebuilds missing index
 * files, checks closed segments' ends, recovers the active segment (`clean`: the last
 * shutdown was clean) and, after a truncation, deletes every later segment. `name` labels log
 * lines ("orders-0"); `syncDir` makes the deletions durable.
 */
export function recoverSegments(
  segments: LogSegment[],
  clean: boolean,
  name: string,
  syncDir: () => void,
): SegmentsRecovery {
  const out: SegmentsRecovery = { truncatedBytes: 0, rebuiltIndexes: 0, deletedSegments: 0 };
  let truncated: { index: number; result: RecoveryResult } | null = null;
  let lostEnd = false;
  for (let i = 0; i < segments.length - 1 && truncated === null; i++) {
    const s = segments[i];
    let r: RecoveryResult | null = null;
    if (!s.indexFilesOk) {
      log.warn(`${name}: index files of ${fileName(s)} are missing or torn: rebuilding them`);
      r = s.rebuildIndexes();
    } else {
      const damage = closedSegmentDamage(s);
      if (damage !== null) {
        log.warn(`${name}: closed segment ${fileName(s)} is damaged (${damage.why}): checking it`);
        r = s.recover(true);
        s.finishIndexes();
        // Cut at a batch boundary, the file holds only whole batches, but fewer than its index
        // (written when it was rolled) saw: the rest of the log cannot follow it either.
        const end = s.nextOffset >= 0 ? s.nextOffset : s.baseOffset;
        if (r.truncatedBytes === 0 && damage.indexedOffset >= end) {
          lostEnd = true;
          log.warn(
            `${name}: ${
              fileName(s)
            } ends before offset ${end} but its index named offset ${damage.indexedOffset}: the end of the segment was lost`,
          );
        }
      }
    }
    if (r !== null) {
      out.rebuiltIndexes++;
      s.unloadIndexes();
      if (r.truncatedBytes > 0 || lostEnd) truncated = { index: i, result: r };
    }
    s.releaseHandles(); // one descriptor at a time, however many segments
  }

  if (truncated === null) {
    const active = segments[segments.length - 1];
    let r: RecoveryResult;
    if (clean) {
      const resumed = active.resumeAfterCleanShutdown();
      r = resumed.result;
      if (resumed.rebuilt) out.rebuiltIndexes++;
      if (resumed.distrusted !== undefined) {
        log.warn(
          `${name}: after a clean shutdown ${
            fileName(active)
          } was checked batch by batch: ${resumed.distrusted}`,
        );
      }
    } else {
      if (active.size > 0) {
        log.info(`${name}: unclean shutdown: checking every batch of ${fileName(active)}`);
      }
      r = active.recover(true);
      out.rebuiltIndexes++;
    }
    if (r.truncatedBytes > 0) truncated = { index: segments.length - 1, result: r };
  }
  if (truncated === null) return out;

  const r = truncated.result;
  out.truncatedBytes = r.truncatedBytes;
  out.reason = r.reason;
  let dropped = r.dropped;
  const cut = segments[truncated.index];
  const doomed = segments.splice(truncated.index + 1);
  for (const d of doomed) {
    const what = describeSegment(d);
    log.warn(
      `${name}: deleting ${fileName(d)} (${formatDropped(what)}): the log ends in the truncated ${
        fileName(cut)
      }, and offsets stay contiguous`,
    );
    d.deleteFiles(0); // nothing can be reading a segment recovery drops: no delay
    dropped = dropped ? mergeDropped(dropped, what) : what;
  }
  if (doomed.length > 0) syncDir();
  out.deletedSegments = doomed.length;
  out.dropped = dropped;
  const leo = cut.nextOffset >= 0 ? cut.nextOffset : cut.baseOffset;
  log.warn(
    `${name}: recovery dropped ${dropped ? formatDropped(dropped) : `${r.truncatedBytes} bytes`}${
      doomed.length > 0
        ? ` in ${plural(doomed.length + (r.truncatedBytes > 0 ? 1 : 0), "segment")}`
        : ""
    }; log end offset now ${leo}`,
  );
  return out;
}

/**
 * Kafka's rebuildProducerState: loads the newest usable snapshot at or below the log end
 * (deleting those recovery made stale and unreadable ones), then replays the headers of every
 * batch after it into the producer state and the transaction index. Returns the number of
 * batches replayed.
 */
export function rebuildProducerState(
  local: LocalLog,
  snapshotOffsets: number[],
  logStart: number,
  logEnd: number,
  producerState: ProducerStateManager,
  txnIndex: TransactionIndex,
): number {
  snapshotOffsets.sort((a, b) => b - a);
  let from = logStart;
  for (const offset of snapshotOffsets) {
    const path = snapshotPath(local.dir, offset);
    if (offset > logEnd) {
      unlinkSync(path); // describes data that recovery cut off
      continue;
    }
    const snap = readSnapshot(path);
    if (snap === null || snap.offset !== offset) {
      unlinkSync(path);
      continue;
    }
    producerState.loadSnapshot({ producers: snap.producers });
    txnIndex.load(snap.abortedTxns);
    from = offset;
    break;
  }
  let replayed = 0;
  if (from >= logEnd) return replayed;
  const segments = local.segments;
  let i = local.segmentIndexFor(from);
  let position = 0;
  try {
    const first = segments[i].translateOffset(from);
    if (first) position = first.position;
  } catch {
    // damage before `from`: the scan below starts at the segment's start and reports it
  }
  for (; i < segments.length; i++) {
    const seg = segments[i];
    const r = seg.scan(position, false, (_pos, h, buf, bufPos) => {
      if (lastOffset(h) < from) return;
      if (h.producerId >= 0) {
        const controlType = isControl(h) ? readControlRecordType(buf, bufPos, h) : -1;
        for (const t of producerState.replay(h, controlType)) txnIndex.add(t);
      }
      replayed++;
    });
    if (r.reason !== undefined) {
      log.warn(
        `${local.name}: producer state replay skips the rest of ${seg.logPath} (${r.reason})`,
      );
    }
    position = 0;
  }
  return replayed;
}
