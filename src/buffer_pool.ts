/**
 * Reusable ArrayBuffers for the large buffers of the data path: connection read buffers
 * holding whole requests, the copies handed to another worker, and the segment bytes read for
 * a Fetch (back in the pool once the response is written; see partition_ops.ts FRESH_READS). Fresh memory is slow on the
 * machines we measure on (a new 1 MiB buffer costs about five times a reused one: page faults,
 * zeroing, cgroup accounting, and the collector unmapping it again), and reuse keeps RSS flat
 * under load.
 *
 * Buffers come in power-of-two classes from 256 KiB to 16 MiB; smaller and larger requests
 * get fresh memory (small ones are cheap and may stay untouched, e.g. an idle connection's
 * read buffer). The pool keeps at most `maxBytes`. A buffer may be given back once only while
 * nothing refers to its bytes any more: the callers below decide that, and the pool refuses a
 * buffer it already holds.
 */
const MIN_CLASS = 256 * 1024;
const MAX_CLASS = 16 * 1024 * 1024;

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly held = new WeakSet<ArrayBuffer>();
  private bytes = 0;
  /** Counters for the benchmark: takes served from the pool, and fresh allocations. */
  readonly stats = { reused: 0, fresh: 0 };

  constructor(readonly maxBytes = 64 * 1024 * 1024) {}

  /** The class for `size` bytes, or 0 when such buffers are not pooled. */
  static classOf(size: number): number {
    if (size > MAX_CLASS) return 0;
    let c = MIN_CLASS;
    while (c < size) c *= 2;
    return c;
  }

  /** A view of exactly `size` bytes, on a pooled buffer when the size is pooled. */
  take(size: number): Uint8Array {
    if (size < MIN_CLASS / 2) return new Uint8Array(size);
    const c = BufferPool.classOf(size);
    if (c === 0) return new Uint8Array(size);
    const b = this.free.get(c)?.pop();
    if (b) {
      this.held.delete(b);
      this.bytes -= c;
      this.stats.reused++;
      return new Uint8Array(b, 0, size);
    }
    this.stats.fresh++;
    return new Uint8Array(new ArrayBuffer(c), 0, size);
  }

  /** Gives a buffer back; ignored unless it is of a pooled class and the pool has room. */
  give(buf: ArrayBufferLike): void {
    if (!(buf instanceof ArrayBuffer) || buf.detached || this.held.has(buf)) return;
    const c = buf.byteLength;
    if (c < MIN_CLASS || c > MAX_CLASS || (c & (c - 1)) !== 0) return;
    if (this.bytes + c > this.maxBytes) return;
    let list = this.free.get(c);
    if (!list) this.free.set(c, list = []);
    list.push(buf);
    this.held.add(buf);
    this.bytes += c;
  }

  /** Bytes held for reuse. */
  get size(): number {
    return this.bytes;
  }
}

/** This thread's pool (each Deno worker has its own). */
export const bufferPool = new BufferPool();
