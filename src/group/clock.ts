/**
 * Time for the group coordinator: a clock and one-shot timers behind an interface, so the
 * state machine can be driven by a ManualClock in unit tests (every timeout is then a
 * deterministic `advance(ms)`), and by the wall clock in the broker.
 */

/** A scheduled callback; cancel() is idempotent and safe after it fired. */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Runs `fn` once after `delayMs`. */
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

/** Date.now and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    // setTimeout's limit is 2^31-1 ms; longer delays (e.g. Long.MAX settings) never fire.
    if (delayMs >= 2 ** 31 - 1) return { cancel() {} };
    const id = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(id) };
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told: timers fire in due order inside advance(). */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const p: Pending = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.pending.push(p);
    return { cancel: () => (p.cancelled = true) };
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones they add). */
  advance(ms: number): void {
    const target = this.t + ms;
    while (true) {
      this.pending = this.pending.filter((p) => !p.cancelled);
      let next: Pending | undefined;
      for (const p of this.pending) {
        if (p.at <= target && (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq))) {
          next = p;
        }
      }
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.t = target;
  }

  /** Timers still waiting (for tests asserting that close() cancelled everything). */
  get scheduled(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }
}
