/**
 * AbstractIndex: what Kafka's OffsetIndex and TimeIndex share. Both are sparse, fixed-size-entry
 * files whose keys grow monotonically; the entries live in memory (no mmap here) and the file
 * is only a cache of them, written on roll and close and loaded lazily on first lookup. This
 * base keeps the bookkeeping (loaded / persisted / in-sync), the load with its sanity check,
 * the binary search, truncation, the incremental persist and unloading; a subclass says how
 * an entry is laid out and stored.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync } from "node:fs";
import { readWholeFile, writeFully } from "./file_io.ts";

export abstract class AbstractIndex {
  protected count: number;
  /** Entries known to be in the file (a prefix of the in-memory entries). */
  protected persisted: number;
  protected loaded: boolean;
  /** The file holds exactly the persisted entries (no write needed on close). */
  protected fileInSync: boolean;

  /**
   * `fileEntries` is what the file holds (from its size); when it is not loaded yet the entries
   * are read on first use. Pass 0 and `loaded` true for a fresh or rebuilt index.
   */
  constructor(
    readonly path: string,
    readonly baseOffset: number,
    public maxEntries: number,
    fileEntries: number = 0,
    fileExists: boolean = fileEntries > 0,
  ) {
    this.fileInSync = fileExists;
    this.count = fileEntries;
    this.persisted = fileEntries;
    this.loaded = fileEntries === 0;
  }

  /** Bytes per entry in the file. */
  protected abstract get entrySize(): number;
  /**
   * Decodes `n` entries from `view` into fresh storage, applying the sanity check; returns
   * false (storage untouched) when the file cannot be trusted.
   */
  protected abstract decodeEntries(view: DataView, n: number, bound: number): boolean;
  /** Encodes entry `i` at byte `at` of `view`. */
  protected abstract encodeEntry(view: DataView, at: number, i: number): void;
  /** The search key of entry `i` (relative offset or timestamp). */
  protected abstract keyAt(i: number): number;
  /** The relative offset of entry `i` (truncation is by offset for both indexes). */
  protected abstract relOffsetAt(i: number): number;
  /** Drops the in-memory storage. */
  protected abstract clearEntries(): void;
  /** Bytes of memory held by the entries. */
  abstract get memoryBytes(): number;

  get entries(): number {
    return this.count;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /**
   * Loads the file into memory and sanity-checks it (Kafka's sanityCheck) against `bound`;
   * returns false (leaving the index empty) when it cannot be trusted: the caller rebuilds.
   */
  protected loadChecked(bound: number): boolean {
    if (this.loaded) return true;
    const bytes = readWholeFile(this.path);
    this.loaded = true;
    if (bytes === null || bytes.length % this.entrySize !== 0) return this.fail();
    const n = bytes.length / this.entrySize;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (!this.decodeEntries(view, n, bound)) return this.fail();
    this.count = n;
    this.persisted = n;
    return true;
  }

  private fail(): boolean {
    this.reset();
    return false;
  }

  protected ensureLoaded(): void {
    // Without the log size we can only check ordering; positions were checked at open.
    if (!this.loaded) this.loadChecked(Number.MAX_SAFE_INTEGER);
  }

  /** Index of the last entry whose key is <= `key`, or -1 when there is none. */
  protected largestAtOrBelow(key: number): number {
    this.ensureLoaded();
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keyAt(mid) <= key) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Drops every entry whose offset is >= `offset` (after a log truncation). */
  truncateTo(offset: number): void {
    this.ensureLoaded();
    const rel = offset - this.baseOffset;
    let n = this.count;
    while (n > 0 && this.relOffsetAt(n - 1) >= rel) n--;
    if (n !== this.count) this.fileInSync = false;
    this.count = n;
    if (this.persisted > n) this.persisted = n;
  }

  /** Forgets every entry; the file is rewritten on the next persist. */
  reset(): void {
    // A file that held no entries still matches: recovering an empty segment rewrites nothing.
    this.fileInSync = this.fileInSync && this.persisted === 0;
    this.clearEntries();
    this.count = 0;
    this.persisted = 0;
    this.loaded = true;
  }

  /**
   * Writes entries not yet in the file and trims stale bytes; fsyncs when `sync`.
   * `createEmpty` false leaves a missing file missing when there are no entries.
   */
  persist(sync = true, createEmpty = true): void {
    // Unloaded: the file already holds everything. In sync: nothing to write.
    if (!this.loaded || (this.fileInSync && this.persisted === this.count)) return;
    const size = this.entrySize;
    const from = this.persisted;
    const tail = new Uint8Array((this.count - from) * size);
    const view = new DataView(tail.buffer);
    for (let i = from; i < this.count; i++) this.encodeEntry(view, (i - from) * size, i);
    persistIndexFile(this.path, tail, from * size, this.count * size, sync, createEmpty);
    this.persisted = this.count;
    this.fileInSync = true;
  }

  /** Releases the in-memory entries of an inactive, fully persisted index. */
  unload(): void {
    if (this.loaded && this.persisted === this.count && this.count > 0) {
      this.clearEntries();
      this.loaded = false;
    }
  }
}

/**
 * Rewrites an index file so it holds exactly `total` bytes, of which `[from, total)` come from
 * `tail`; bytes before `from` are already on disk. fsyncs when asked.
 */
export function persistIndexFile(
  path: string,
  tail: Uint8Array,
  from: number,
  total: number,
  sync: boolean,
  createEmpty = true,
): void {
  const exists = existsSync(path);
  if (!exists && total === 0 && !createEmpty) return;
  const fd = openSync(path, exists ? "r+" : "w+");
  try {
    if (tail.length > 0) writeFully(fd, tail, from);
    ftruncateSync(fd, total);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
