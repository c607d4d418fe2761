/**
 * OffsetIndex: Kafka's sparse `.index` file for one segment. Each 8-byte entry maps a batch's
 * last offset (stored relative to the segment base, int32) to the file position of that batch
 * (int32), written every `index.interval.bytes` of log. A lookup finds the largest entry at or
 * below the target and the caller scans forward from there, so reads stay O(log n + interval).
 *
 * Entries live in a growable typed array; the bookkeeping shared with the TimeIndex (lazy load,
 * incremental persist, truncation, search) is in storage/abstract_index.ts.
 */
import { unlinkSync } from "node:fs";
import { AbstractIndex } from "./abstract_index.ts";

export interface OffsetPosition {
  offset: number;
  position: number;
}

/** The storage of an empty index, shared (never written: growing allocates anew). */
const NO_ENTRIES = new Int32Array(0);

export class OffsetIndex extends AbstractIndex {
  static readonly ENTRY_SIZE = 8;

  /** Interleaved [relativeOffset, position] pairs; capacity grows by doubling. */
  private data = NO_ENTRIES;

  protected get entrySize(): number {
    return OffsetIndex.ENTRY_SIZE;
  }

  /**
   * Loads the file into memory and checks it the way Kafka's sanityCheck does: offsets strictly
   * increasing and not below the base, positions increasing and inside the log (`logSize`).
   * Returns false (leaving the index empty) when the file cannot be trusted; the caller rebuilds.
   */
  load(logSize: number): boolean {
    return this.loadChecked(logSize);
  }

  protected decodeEntries(view: DataView, n: number, logSize: number): boolean {
    const data = new Int32Array(n * 2);
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < n; i++) {
      const rel = view.getInt32(i * 8);
      const pos = view.getInt32(i * 8 + 4);
      if (rel <= prevRel || pos <= prevPos || pos >= logSize) return false;
      data[i * 2] = rel;
      data[i * 2 + 1] = pos;
      prevRel = rel;
      prevPos = pos;
    }
    this.data = data;
    return true;
  }

  protected encodeEntry(view: DataView, at: number, i: number): void {
    view.setInt32(at, this.data[i * 2]);
    view.setInt32(at + 4, this.data[i * 2 + 1]);
  }

  protected keyAt(i: number): number {
    return this.data[i * 2];
  }

  protected relOffsetAt(i: number): number {
    return this.data[i * 2];
  }

  protected clearEntries(): void {
    this.data = NO_ENTRIES;
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
    const found = this.largestAtOrBelow(target - this.baseOffset);
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
