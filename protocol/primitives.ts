/**
 * Kafka wire primitives: a bounds-checked Reader and a growable Writer.
 *
 * Every length read from the wire is checked against the bytes that remain before anything
 * is allocated, so a lying length field costs a ProtocolError, never memory.
 * int64 values are JS numbers (offsets and timestamps stay well inside 2^53); values outside
 * that range are clamped when written.
 */
import { ProtocolError } from "./errors.ts";

const textDecoder = new TextDecoder("utf-8", { fatal: false });
const textEncoder = new TextEncoder();

export class Reader {
  readonly view: DataView;
  pos: number;
  readonly end: number;

  constructor(readonly buf: Uint8Array, start = 0, end = buf.length) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Fails unless `n` more bytes are available. */
  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtocolError(`truncated: need ${n} bytes at ${this.pos}, have ${this.remaining}`);
    }
  }

  int8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }
  uint8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  int16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  uint16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  uint32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  int64(): number {
    this.need(8);
    const hi = this.view.getInt32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }
  float64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned LEB128, at most 5 bytes (32 bits). */
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.uint8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new ProtocolError("uvarint overflows 32 bits");
        return result;
      }
      shift += 7;
    }
    throw new ProtocolError("uvarint longer than 5 bytes");
  }
  /** Zigzag varint (32-bit). */
  varint(): number {
    const u = this.uvarint();
    return (u % 2 === 0) ? u / 2 : -(u + 1) / 2;
  }
  /** Zigzag varlong (64-bit), as a JS number. */
  varlong(): number {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.uint8();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        const v = (result >> 1n) ^ -(result & 1n);
        return Number(v);
      }
      shift += 7n;
    }
    throw new ProtocolError("varlong longer than 10 bytes");
  }

  uuid(): Uint8Array {
    this.need(16);
    const v = this.buf.subarray(this.pos, this.pos + 16);
    this.pos += 16;
    return v;
  }

  /** A view of the next `n` bytes (no copy). */
  raw(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Text of `n` bytes; the length was already checked by the caller's `need`. */
  text(n: number): string {
    return textDecoder.decode(this.raw(n));
  }

  string(): string {
    const n = this.int16();
    if (n < 0) throw new ProtocolError("non-nullable string is null");
    return this.text(n);
  }
  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    return this.text(n);
  }
  compactString(): string {
    const n = this.uvarint() - 1;
    if (n < 0) throw new ProtocolError("non-nullable compact string is null");
    return this.text(n);
  }
  compactNullableString(): string | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    return this.text(n);
  }
  bytes(): Uint8Array {
    const n = this.int32();
    if (n < 0) throw new ProtocolError("non-nullable bytes is null");
    return this.raw(n);
  }
  nullableBytes(): Uint8Array | null {
    const n = this.int32();
    if (n < 0) return null;
    return this.raw(n);
  }
  compactBytes(): Uint8Array {
    const n = this.uvarint() - 1;
    if (n < 0) throw new ProtocolError("non-nullable compact bytes is null");
    return this.raw(n);
  }
  compactNullableBytes(): Uint8Array | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    return this.raw(n);
  }

  /**
   * An array length, checked against what remains: each element takes at least
   * `minElementSize` bytes, so a count larger than the rest of the frame is a lie.
   */
  arrayLength(compact: boolean, minElementSize = 1): number {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < 0) return -1;
    if (n * minElementSize > this.remaining) {
      throw new ProtocolError(`array length ${n} exceeds the ${this.remaining} bytes left`);
    }
    return n;
  }
}

/** A growable big-endian writer. `finish()` returns a view of what was written. */
export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Referenced large buffers interleaved with written bytes (see rawRef). */
  private chunks: Uint8Array[] | null = null;
  private segStart = 0;

  /** Total bytes written, referenced buffers included. */
  get length(): number {
    return this.pos - this.segStart + this.committed;
  }
  private committed = 0;

  /** Everything written, as one buffer (copies only when large buffers were referenced). */
  finish(): Uint8Array {
    if (!this.chunks) return this.buf.subarray(0, this.pos);
    const parts = this.toChunks();
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Like finish, but never a view of the writer's internal buffer. */
  finishCopy(): Uint8Array {
    return this.chunks ? this.finish() : this.buf.slice(0, this.pos);
  }

  /**
   * Appends `b` by reference when it is large, so record data read from a segment reaches
   * the socket without being copied into the response buffer.
   */
  rawRef(b: Uint8Array): void {
    if (b.length < 4096) return this.raw(b);
    (this.chunks ??= []).push(this.buf.subarray(this.segStart, this.pos), b);
    this.committed += this.pos - this.segStart + b.length;
    this.segStart = this.pos;
  }

  /** The written bytes as a list of buffers, in order. */
  toChunks(): Uint8Array[] {
    const tail = this.buf.subarray(this.segStart, this.pos);
    if (!this.chunks) return [tail];
    return tail.length ? [...this.chunks, tail] : [...this.chunks];
  }

  /** Overwrites an int32 written earlier at absolute offset 0 (a frame's size prefix). */
  patchInt32AtStart(v: number): void {
    const first = this.chunks ? this.chunks[0] : this.buf;
    new DataView(first.buffer, first.byteOffset, 4).setInt32(0, v);
  }

  int8(v: number): void {
    this.ensure(1);
    this.view.setInt8(this.pos++, v);
  }
  uint8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  bool(v: boolean): void {
    this.int8(v ? 1 : 0);
  }
  int16(v: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
  }
  uint16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  int32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }
  uint32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  int64(v: number): void {
    this.ensure(8);
    writeInt64(this.view, this.pos, v);
    this.pos += 8;
  }
  float64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }
  uvarint(v: number): void {
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  varlong(v: number): void {
    this.ensure(10);
    let z = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
    while (z >= 0x80n) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
  }
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  uuid(b: Uint8Array): void {
    if (b.length !== 16) throw new Error("uuid must be 16 bytes");
    this.raw(b);
  }

  string(s: string): void {
    const b = textEncoder.encode(s);
    this.int16(b.length);
    this.raw(b);
  }
  nullableString(s: string | null | undefined): void {
    if (s == null) this.int16(-1);
    else this.string(s);
  }
  compactString(s: string): void {
    const b = textEncoder.encode(s);
    this.uvarint(b.length + 1);
    this.raw(b);
  }
  compactNullableString(s: string | null | undefined): void {
    if (s == null) this.uvarint(0);
    else this.compactString(s);
  }
  bytes(b: Uint8Array): void {
    this.int32(b.length);
    this.raw(b);
  }
  nullableBytes(b: Uint8Array | null | undefined): void {
    if (b == null) this.int32(-1);
    else this.bytes(b);
  }
  compactBytes(b: Uint8Array): void {
    this.uvarint(b.length + 1);
    this.raw(b);
  }
  compactNullableBytes(b: Uint8Array | null | undefined): void {
    if (b == null) this.uvarint(0);
    else this.compactBytes(b);
  }
}

/** Writes a JS number as a big-endian int64, clamped to the int64 range. */
export function writeInt64(view: DataView, pos: number, v: number): void {
  if (Number.isSafeInteger(v)) {
    const hi = Math.floor(v / 4294967296);
    view.setInt32(pos, hi);
    view.setUint32(pos + 4, v - hi * 4294967296);
  } else {
    const max = 9223372036854775807n;
    let b = BigInt(Math.trunc(v));
    if (b > max) b = max;
    if (b < -max - 1n) b = -max - 1n;
    view.setBigInt64(pos, b);
  }
}

/** Reads a big-endian int64 at `pos` as a JS number. */
export function readInt64(view: DataView, pos: number): number {
  return view.getInt32(pos) * 4294967296 + view.getUint32(pos + 4);
}

/** Size in bytes of `v` as an unsigned varint. */
export function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
