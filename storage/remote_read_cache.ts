/**
 * The cold tier's read cache: remote segments' indexes and log chunks, bounded in bytes
 * (least recently used goes first), with concurrent loads of one key sharing one request.
 */

/** A byte-bounded LRU with shared in-flight loads. */
export class RemoteReadCache {
  private readonly entries = new Map<string, Uint8Array>();
  private readonly loading = new Map<string, Promise<Uint8Array>>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  get(key: string): Uint8Array | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  private put(key: string, v: Uint8Array): void {
    if (v.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.used -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, v);
    this.used += v.length;
    for (const [k, e] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(k);
      this.used -= e.length;
    }
  }

  /** The cached value, or the result of `load` (one load per key at a time). */
  getOrLoad(key: string, load: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const v = this.get(key);
    if (v !== undefined) {
      this.hits++;
      return Promise.resolve(v);
    }
    let p = this.loading.get(key);
    if (!p) {
      this.misses++;
      p = load().then(
        (bytes) => {
          this.loading.delete(key);
          this.put(key, bytes);
          return bytes;
        },
        (e) => {
          this.loading.delete(key);
          throw e;
        },
      );
      this.loading.set(key, p);
    }
    return p;
  }

  /** Forgets every entry whose key starts with `prefix`. */
  invalidate(prefix: string): void {
    for (const [k, e] of this.entries) {
      if (k.startsWith(prefix)) {
        this.entries.delete(k);
        this.used -= e.length;
      }
    }
  }
}
