/**
 * TimeIndex: Kafka's `.timeindex` for one segment. Each 12-byte entry is (timestamp int64,
 * relative offset int32): "the largest timestamp so far is T, first reached in the batch ending
 * at offset O". Entries are only added when T grows, so both columns are monotonic and a
 * timestamp lookup is a binary search followed by a short forward scan of the log.
 *
 * Like the OffsetIndex, the entries live in memory and the file is written on roll and close.
 */
import { closeSync, openSync } from "node:fs";
import { persistIndexFile, readFully, readWholeFile } from "./offset_index.ts";

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex {
  static readonly ENTRY_SIZE = 12;

  private timestamps = new Float64Array(0);
  private offsets = new Int32Array(0);
  private count: number;
  private persisted: number;
  private loaded: boolean;
  /** The file holds exactly the persisted entries (no write needed on close). */
  private fileInSync: boolean;

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
   * Loads and sanity-checks the file: timestamps strictly increasing, offsets non-decreasing,
   * within [baseOffset, maxOffset]. Returns false (index left empty) when it cannot be trusted.
   */
  load(maxOffset = Number.MAX_SAFE_INTEGER): boolean {
    if (this.loaded) return true;
    const bytes = readWholeFile(this.path);
    this.loaded = true;
    if (bytes === null || bytes.length % TimeIndex.ENTRY_SIZE !== 0) return this.fail();
    const n = bytes.length / TimeIndex.ENTRY_SIZE;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ts = new Float64Array(n);
    const offs = new Int32Array(n);
    let prevTs = -Infinity;
    let prevRel = 0;
    for (let i = 0; i < n; i++) {
      const t = Number(view.getBigInt64(i * 12));
      const rel = view.getInt32(i * 12 + 8);
      if (t <= prevTs || rel < prevRel || this.baseOffset + rel > maxOffset) return this.fail();
      ts[i] = t;
      offs[i] = rel;
      prevTs = t;
      prevRel = rel;
    }
    this.timestamps = ts;
    this.offsets = offs;
    this.count = n;
    this.persisted = n;
    return true;
  }

  private fail(): boolean {
    this.reset();
    return false;
  }

  private ensureLoaded(): void {
    if (!this.loaded) this.load();
  }

  /**
   * Appends (timestamp, offset) if `timestamp` is above the last entry's; otherwise a no-op.
   * `skipFullCheck` lets the final entry on roll/close go in even when the index is full.
   */
  maybeAppend(timestamp: number, offset: number, skipFullCheck = false): void {
    this.ensureLoaded();
    if (!skipFullCheck && this.isFull()) return;
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff) throw new RangeError(`offset ${offset} not relative to base`);
    if (this.count > 0) {
      if (timestamp <= this.timestamps[this.count - 1]) return;
      if (rel < this.offsets[this.count - 1]) {
        throw new RangeError(`time index offset ${offset} below last entry`);
      }
    }
    if (this.count >= this.offsets.length) {
      const cap = Math.max(16, this.offsets.length * 2);
      const ts = new Float64Array(cap);
      ts.set(this.timestamps.subarray(0, this.count));
      const offs = new Int32Array(cap);
      offs.set(this.offsets.subarray(0, this.count));
      this.timestamps = ts;
      this.offsets = offs;
    }
    this.timestamps[this.count] = timestamp;
    this.offsets[this.count] = rel;
    this.count++;
  }

  /** The entry with the largest timestamp <= `timestamp`, or (-1, baseOffset) when none. */
  lookup(timestamp: number): TimestampOffset {
    this.ensureLoaded();
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestamps[mid] <= timestamp) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return { timestamp: -1, offset: this.baseOffset };
    return { timestamp: this.timestamps[found], offset: this.baseOffset + this.offsets[found] };
  }

  /**
   * The last entry, or null when empty. An unloaded index reads only its last 12 bytes, so
   * asking every segment for its largest timestamp does not load every index.
   */
  lastEntry(): TimestampOffset | null {
    if (this.count === 0) return null;
    if (!this.loaded) {
      const buf = new Uint8Array(TimeIndex.ENTRY_SIZE);
      let fd: number;
      try {
        fd = openSync(this.path, "r");
      } catch {
        return null;
      }
      try {
        const n = readFully(fd, buf, 0, buf.length, (this.count - 1) * TimeIndex.ENTRY_SIZE);
        if (n !== buf.length) return null;
      } finally {
        closeSync(fd);
      }
      const view = new DataView(buf.buffer);
      return {
        timestamp: Number(view.getBigInt64(0)),
        offset: this.baseOffset + view.getInt32(8),
      };
    }
    return {
      timestamp: this.timestamps[this.count - 1],
      offset: this.baseOffset + this.offsets[this.count - 1],
    };
  }

  /** Drops entries whose offset is >= `offset`. */
  truncateTo(offset: number): void {
    this.ensureLoaded();
    const rel = offset - this.baseOffset;
    let n = this.count;
    while (n > 0 && this.offsets[n - 1] >= rel) n--;
    if (n !== this.count) this.fileInSync = false;
    this.count = n;
    if (this.persisted > n) this.persisted = n;
  }

  reset(): void {
    this.timestamps = new Float64Array(0);
    this.offsets = new Int32Array(0);
    this.count = 0;
    this.persisted = 0;
    this.loaded = true;
    this.fileInSync = false;
  }

  persist(sync = true): void {
    if (!this.loaded || (this.fileInSync && this.persisted === this.count)) return;
    const from = this.persisted;
    const tail = new Uint8Array((this.count - from) * TimeIndex.ENTRY_SIZE);
    const view = new DataView(tail.buffer);
    for (let i = from; i < this.count; i++) {
      view.setBigInt64((i - from) * 12, BigInt(this.timestamps[i]));
      view.setInt32((i - from) * 12 + 8, this.offsets[i]);
    }
    persistIndexFile(
      this.path,
      tail,
      from * TimeIndex.ENTRY_SIZE,
      this.count * TimeIndex.ENTRY_SIZE,
      sync,
    );
    this.persisted = this.count;
    this.fileInSync = true;
  }

  unload(): void {
    if (this.loaded && this.persisted === this.count && this.count > 0) {
      this.timestamps = new Float64Array(0);
      this.offsets = new Int32Array(0);
      this.loaded = false;
    }
  }

  get memoryBytes(): number {
    return this.timestamps.byteLength + this.offsets.byteLength;
  }
}
