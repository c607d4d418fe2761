/**
 * The memory budget for request bytes, as Kafka's `queued.max.request.bytes` (its network
 * layer's MemoryPool): every frame takes its size from the budget when its size prefix is
 * read, before its bytes are buffered, and gives it back once it is handled. A connection
 * that cannot get its frame's size stops reading — its peer's sends back up in TCP — and is
 * woken, in arrival order, when handled frames give bytes back. Nothing is closed for it.
 *
 * Without a bound, a few peers sending 100 MB frames slowly make the broker hold gigabytes of
 * half-read requests. With Kafka's -1 (no bound) the JVM's heap limit is the backstop; a Deno
 * process has none, so the default is a bound (see config.ts).
 *
 * A frame larger than the whole budget still goes through when nothing else holds any
 * (Kafka's pool likewise admits one allocation beyond what is left): the bytes in use never
 * exceed max(budget, the largest single frame ≤ socket.request.max.bytes).
 */
export class RequestBudget {
  private inUse = 0;
  private highWater = 0;
  /** Connections waiting for bytes, oldest first. */
  private readonly waiters: { bytes: number; wake: () => void }[] = [];

  /** `limit` < 0: no bound (Kafka's -1), only counting. */
  constructor(readonly limit: number) {}

  /** Bytes held by frames being read or handled now. */
  get used(): number {
    return this.inUse;
  }

  /** The most bytes held at once since start. */
  get peak(): number {
    return this.highWater;
  }

  /** Connections waiting for budget now. */
  get waiting(): number {
    return this.waiters.length;
  }

  private fits(bytes: number): boolean {
    return this.limit < 0 || this.inUse === 0 || this.inUse + bytes <= this.limit;
  }

  private take(bytes: number): void {
    this.inUse += bytes;
    if (this.inUse > this.highWater) this.highWater = this.inUse;
  }

  /**
   * Takes `bytes` at once when they fit and nobody waits before us (null), or queues for them:
   * `granted` settles once they are taken, or once `withdraw` gave up the place (or gave the
   * bytes back, if they had been granted meanwhile).
   */
  acquire(bytes: number): { granted: Promise<void>; withdraw(): void } | null {
    if (this.waiters.length === 0 && this.fits(bytes)) {
      this.take(bytes);
      return null;
    }
    let done = false;
    let wake!: () => void;
    const granted = new Promise<void>((resolve) => {
      wake = () => {
        done = true;
        resolve();
      };
    });
    const waiter = { bytes, wake };
    this.waiters.push(waiter);
    return {
      granted,
      withdraw: () => {
        if (done) {
          this.release(bytes);
          return;
        }
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        wake();
        // Those behind it may fit now.
        this.release(0);
      },
    };
  }

  /** Gives bytes back and wakes the waiters that now fit, in order. */
  release(bytes: number): void {
    this.inUse -= bytes;
    while (this.waiters.length > 0 && this.fits(this.waiters[0].bytes)) {
      const w = this.waiters.shift()!;
      this.take(w.bytes);
      w.wake();
    }
  }
}
