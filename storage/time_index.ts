/**
 * TimeIndex: Kafka's `.timeindex` for one segment. Each 12-byte entry is (timestamp int64,
 * relative offset int32): "the largest timestamp so far is T, first reached in the batch ending
 * at offset O". Entries are only added when T grows, so both columns are monotonic and a
 * timestamp lookup is a binary search followed by a short forward scan of the log.
 *
 * Like the OffsetIndex (storage/abstract_index.ts holds what they share), the entries live in
 * memory and the file is written on roll and close.
 */
import { closeSync, openSync } from "node:fs";
import { AbstractIndex } from "./abstract_index.ts";
import { readFully } from "./file_io.ts";

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

/**
 * The storage of an empty index, shared: nothing is ever written into a zero-length array
 * (growing allocates anew), and 100,000 empty partitions then allocate none at start-up.
 */
const NO_TIMESTAMPS = new Float64Array(0);
const NO_OFFSETS = new Int32Array(0);

export class TimeIndex extends AbstractIndex {
  static readonly ENTRY_SIZE = 12;

  private timestamps = NO_TIMESTAMPS;
  private offsets = NO_OFFSETS;

  protected get entrySize(): number {
    return TimeIndex.ENTRY_SIZE;
  }

  /**
   * Loads and sanity-checks the file: timestamps strictly increasing, offsets non-decreasing,
   * within [baseOffset, maxOffset]. Returns false (index left empty) when it cannot be trusted.
   */
  load(maxOffset = Number.MAX_SAFE_INTEGER): boolean {
    return this.loadChecked(maxOffset);
  }

  protected decodeEntries(view: DataView, n: number, maxOffset: number): boolean {
    const ts = new Float64Array(n);
    const offs = new Int32Array(n);
    let prevTs = -Infinity;
    let prevRel = 0;
    for (let i = 0; i < n; i++) {
      const t = Number(view.getBigInt64(i * 12));
      const rel = view.getInt32(i * 12 + 8);
      if (t <= prevTs || rel < prevRel || this.baseOffset + rel > maxOffset) return false;
      ts[i] = t;
      offs[i] = rel;
      prevTs = t;
      prevRel = rel;
    }
    this.timestamps = ts;
    this.offsets = offs;
    return true;
  }

  protected encodeEntry(view: DataView, at: number, i: number): void {
    view.setBigInt64(at, BigInt(this.timestamps[i]));
    view.setInt32(at + 8, this.offsets[i]);
  }

  protected keyAt(i: number): number {
    return this.timestamps[i];
  }

  protected relOffsetAt(i: number): number {
    return this.offsets[i];
  }

  protected clearEntries(): void {
    this.timestamps = NO_TIMESTAMPS;
    this.offsets = NO_OFFSETS;
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
    const found = this.largestAtOrBelow(timestamp);
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

  get memoryBytes(): number {
    return this.timestamps.byteLength + this.offsets.byteLength;
  }
}
