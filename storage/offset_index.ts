/**
 * OffsetIndex: Kafka's sparse `.index` file for one segment. Each 8-byte entry maps a batch's
 * last offset (stored relative to the segment base, int32) to the file position of that batch
 * (int32), written every `index.interval.bytes` of log. A lookup finds the largest entry at or
 * below the target and the caller scans forward from there, so reads stay O(log n + interval).
 *
 * Entries live in a growable typed array. The file is only a cache of them: it is written on
 * roll and close (the active segment's index is rebuilt from the log after an unclean
 * shutdown), and an inactive segment's index is loaded lazily on first lookup.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";

export interface OffsetPosition {
  offset: number;
  position: number;
}

/** Size of the file at `path`, or -1 when it does not exist. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/** Writes `bytes` at `position`, looping over short writes. */
export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** Reads up to `length` bytes at `position` into `into`, looping over short reads; returns bytes read. */
export function readFully(
  fd: number,
  into: Uint8Array,
  offset: number,
  length: number,
  position: number,
): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, into, offset + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
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
): void {
  const fd = openSync(path, existsSync(path) ? "r+" : "w+");
  try {
    if (tail.length > 0) writeFully(fd, tail, from);
    ftruncateSync(fd, total);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole small file, or null if it does not exist. */
export function readWholeFile(path: string): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const size = statSync(path).size;
    const buf = new Uint8Array(size);
    const n = readFully(fd, buf, 0, size, 0);
    return n === size ? buf : buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export class OffsetIndex {
  static readonly ENTRY_SIZE = 8;

  /** Interleaved [relativeOffset, position] pairs; capacity grows by doubling. */
  private data = new Int32Array(0);
  private count = 0;
  /** Entries known to be in the file (a prefix of `data`). */
  private persisted = 0;
  private loaded: boolean;
  /** The file holds exactly the persisted entries (no write needed on close). */
  private fileInSync: boolean;

  /**
   * `fileEntries` is what the file holds (from its size); when it is not loaded yet the entries
   * are read on first use. Pass 0 and `loaded` true for a fresh or rebuilt index.
   */
  constructor(
    readonly path: string,
    readonly baseOffset: number,
    public maxEntries: number,
    fileEntries = 0,
    fileExists = fileEntries > 0,
  ) {
    this.fileInSync = fileExists;
    this.count = fileEntries;
    this.persisted = fileEntries;
    this.loaded = fileEntries === 0;
  }

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
   * Loads the file into memory and checks it the way Kafka's sanityCheck does: offsets strictly
   * increasing and not below the base, positions increasing and inside the log (`logSize`).
   * Returns false (leaving the index empty) when the file cannot be trusted; the caller rebuilds.
   */
  load(logSize: number): boolean {
    if (this.loaded) return true;
    const bytes = readWholeFile(this.path);
    this.loaded = true;
    if (bytes === null || bytes.length % OffsetIndex.ENTRY_SIZE !== 0) return this.fail();
    const n = bytes.length / OffsetIndex.ENTRY_SIZE;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const data = new Int32Array(n * 2);
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < n; i++) {
      const rel = view.getInt32(i * 8);
      const pos = view.getInt32(i * 8 + 4);
      if (rel <= prevRel || pos <= prevPos || pos >= logSize) return this.fail();
      data[i * 2] = rel;
      data[i * 2 + 1] = pos;
      prevRel = rel;
      prevPos = pos;
    }
    this.data = data;
    this.count = n;
    this.persisted = n;
    return true;
  }

  private fail(): boolean {
    this.reset();
    return false;
  }

  private ensureLoaded(): void {
    if (!this.loaded) {
      // Without the log size we can only check ordering; positions were checked at open.
      this.load(Number.MAX_SAFE_INTEGER);
    }
  }

  /** Adds an entry; `offset` must be above the last entry's and fit in the relative int32. */
  append(offset: number, position: number): void {
    this.ensureLoaded();
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff) throw new RangeError(`offset ${offset} not relative to base`);
    if (this.count > 0 && rel <= this.data[(this.count - 1) * 2]) {
      throw new RangeError(`offset ${offset} not above last index entry`);
    }
    if (this.count * 2 >= this.data.length) {
      const next = new Int32Array(Math.max(32, this.data.length * 2));
      next.set(this.data.subarray(0, this.count * 2));
      this.data = next;
    }
    this.data[this.count * 2] = rel;
    this.data[this.count * 2 + 1] = position;
    this.count++;
  }

  /** The largest entry with offset <= target, or (baseOffset, 0) when there is none. */
  lookup(target: number): OffsetPosition {
    this.ensureLoaded();
    const rel = target - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.data[mid * 2] <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.data[found * 2], position: this.data[found * 2 + 1] };
  }

  /** The last entry, or (baseOffset, 0) when empty. */
  lastEntry(): OffsetPosition {
    this.ensureLoaded();
    if (this.count === 0) return { offset: this.baseOffset, position: 0 };
    const i = (this.count - 1) * 2;
    return { offset: this.baseOffset + this.data[i], position: this.data[i + 1] };
  }

  /** Drops every entry whose offset is >= `offset` (after a log truncation). */
  truncateTo(offset: number): void {
    this.ensureLoaded();
    const rel = offset - this.baseOffset;
    let n = this.count;
    while (n > 0 && this.data[(n - 1) * 2] >= rel) n--;
    if (n !== this.count) this.fileInSync = false;
    this.count = n;
    if (this.persisted > n) this.persisted = n;
  }

  /** Forgets every entry; the file is rewritten on the next persist. */
  reset(): void {
    this.data = new Int32Array(0);
    this.count = 0;
    this.persisted = 0;
    this.loaded = true;
    this.fileInSync = false;
  }

  /** Writes entries not yet in the file and trims stale bytes; fsyncs when `sync`. */
  persist(sync = true): void {
    // Unloaded: the file already holds everything. In sync: nothing to write.
    if (!this.loaded || (this.fileInSync && this.persisted === this.count)) return;
    const from = this.persisted;
    const tail = new Uint8Array((this.count - from) * OffsetIndex.ENTRY_SIZE);
    const view = new DataView(tail.buffer);
    for (let i = from; i < this.count; i++) {
      view.setInt32((i - from) * 8, this.data[i * 2]);
      view.setInt32((i - from) * 8 + 4, this.data[i * 2 + 1]);
    }
    persistIndexFile(
      this.path,
      tail,
      from * OffsetIndex.ENTRY_SIZE,
      this.count * OffsetIndex.ENTRY_SIZE,
      sync,
    );
    this.persisted = this.count;
    this.fileInSync = true;
  }

  /** Releases the in-memory entries of an inactive, fully persisted index. */
  unload(): void {
    if (this.loaded && this.persisted === this.count && this.count > 0) {
      this.data = new Int32Array(0);
      this.loaded = false;
    }
  }

  /** Bytes of memory held by the entries. */
  get memoryBytes(): number {
    return this.data.byteLength;
  }

  deleteFile(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
