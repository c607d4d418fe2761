/**
 * Bounds the Produce bytes this isolate (the broker, or one worker) starts handling per turn
 * of its event loop, so flooding producers cannot monopolise it.
 *
 * Every connection's completed reads are handled in one batch per turn of the event loop, and
 * an append on this thread writes synchronously: eight producers each completing a 1 MB
 * request in a turn made that turn last as long as eight appends, and a Fetch, which needs a
 * few turns (its read, its response write, the client's next request), waited that long at
 * each step. Consumers then read a few percent of what was produced. Kafka gets fairness from
 * a muted channel per in-flight request and a bounded request queue served by several I/O
 * threads; here the same effect comes from handling at most `bytesPerTurn` of Produce frames
 * per turn (always at least one frame), the others waiting, in arrival order, for the next
 * turn. A turn ends in a `setImmediate` callback: after the I/O already completed is handled,
 * without the 4 ms clamp of chained zero timeouts, and without the MessageChannel (two ports
 * created, entangled and closed per turn) that cost several µs of every Produce request.
 *
 * While frames wait (saturation), a turn ends on a zero timeout instead. Deno's runtime (a
 * current-thread tokio scheduler) reads a socket that still has bytes buffered without asking
 * the OS, but learns that a quiet socket became readable only when it polls its I/O driver:
 * when no task is ready, or once every 61 tasks. Chained turns always leave a task ready, so
 * flooding producers (their sockets never drained) were read every turn while a consumer's
 * next Fetch sat 300-600 ms in the kernel before the broker saw it (1 worker,
 * bench/latency.ts fairness: consumers read ~50% of what was produced). A timer fires only
 * through the driver, so waiting for one lets the runtime see every socket between turns.
 */
import { setImmediate } from "node:timers";

/** A Produce frame waiting for a later turn. */
interface Waiter {
  bytes: number;
  resolve: () => void;
}

export class ProduceTurns {
  private used = 0;
  /** A turn boundary is scheduled (something was admitted in this turn). */
  private pending = false;
  private readonly waiters: Waiter[] = [];
  /** Until when (performance.now()) the isolate counts as saturated with Produce. */
  private saturatedUntil = -Infinity;
  /** When (performance.now()) the last turn that let the runtime poll its sockets began. */
  private lastPoll = -Infinity;

  /**
   * Appends run on other workers, asynchronously (set in worker isolates): a connection's
   * pipelined produce requests then queue work there ahead of everyone else's, so under
   * saturation a connection gets one in processing. On the main thread alone an append runs
   * within its request's turn, and pipelining takes no one's share (bench/latency.ts: 49.8%
   * consumed with five, 49.0% with one).
   */
  appendsElsewhere = false;

  /**
   * `pollEveryMs`: under saturation, a turn ends on a timer (letting the runtime poll every
   * socket) when the last such turn began at least this long ago; the others end in a
   * `setImmediate` callback.
   */
  constructor(
    readonly bytesPerTurn: number,
    readonly saturationMs = 100,
    readonly pollEveryMs = 0,
  ) {}

  /** Produce requests a connection may have in processing now, out of `max`. */
  pipelineLimit(max: number): number {
    return this.appendsElsewhere && this.saturated ? 1 : max;
  }

  /**
   * Whether Produce frames had to wait for a turn within the last `saturationMs`: producers
   * then get one request in processing per connection, as with Kafka (see Connection.serve).
   */
  get saturated(): boolean {
    return this.waiters.length > 0 || performance.now() < this.saturatedUntil;
  }

  /**
   * Null when a Produce frame of `bytes` may be handled in this turn; else a promise resolved
   * in a later turn, when it may (waiters go in arrival order).
   */
  admit(bytes: number): Promise<void> | null {
    if (this.waiters.length === 0 && this.fits(bytes)) {
      this.take(bytes);
      return null;
    }
    this.saturatedUntil = performance.now() + this.saturationMs;
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  /** Frames waiting for a later turn (for tests and metrics). */
  get waiting(): number {
    return this.waiters.length;
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.bytesPerTurn;
  }

  private take(bytes: number): void {
    this.used += bytes;
    if (this.pending) return;
    this.pending = true;
    if (this.saturated && performance.now() - this.lastPoll >= this.pollEveryMs) {
      setTimeout(() => {
        this.lastPoll = performance.now();
        this.turn();
      }, 0);
    } else setImmediate(() => this.turn());
  }

  private turn(): void {
    this.pending = false;
    this.used = 0;
    while (this.waiters.length > 0 && this.fits(this.waiters[0].bytes)) {
      const w = this.waiters.shift()!;
      this.take(w.bytes);
      w.resolve();
    }
  }
}

/** 1 MiB: one of librdkafka's largest batches (batch.size), or many small requests. */
export const PRODUCE_BYTES_PER_TURN = 1024 * 1024;

/**
 * How often a saturated isolate lets the runtime poll every socket: a consumer's request is
 * seen within about this long plus one turn. On every saturated turn (0) a produce-only flood
 * of 8 kcat producers wrote ~15% fewer records (the timer's idle wait; medians of 3, noisy);
 * every 20 ms showed no loss and the same fairness (bench/latency.ts, 1 worker: ~97%).
 */
export const PRODUCE_POLL_EVERY_MS = 20;

/** This isolate's budget: the connections it serves share it. */
export const produceTurns = new ProduceTurns(PRODUCE_BYTES_PER_TURN, 100, PRODUCE_POLL_EVERY_MS);
