/**
 * A rate over sampled windows, as Kafka's metrics `Rate` over a `SampledStat` measures a
 * client's quota: `quota.window.num` samples of `quota.window.size.seconds` each. The rate is
 * the samples' total over the time they span, and that span is never counted as less than
 * `num - 1` whole windows, so a client's first burst is averaged over ~10 s, not over the
 * few milliseconds it took (which would throttle every new client at once).
 */

/** Quota sampling: how many windows and how long each is. */
export interface RateConfig {
  /** `quota.window.num`. */
  readonly samples: number;
  /** `quota.window.size.seconds`, in milliseconds. */
  readonly windowMs: number;
}

interface Sample {
  /** When the sample's window started. */
  start: number;
  value: number;
}

export class SampledRate {
  /** Oldest first; at most `samples` of them. */
  private readonly windows: Sample[] = [];

  constructor(private readonly config: RateConfig) {}

  record(value: number, now: number): void {
    this.purge(now);
    const last = this.windows[this.windows.length - 1];
    if (last && now - last.start < this.config.windowMs) {
      last.value += value;
      return;
    }
    this.windows.push({ start: now, value });
    if (this.windows.length > this.config.samples) this.windows.shift();
  }

  /** Takes back a value recorded just before (Kafka's unrecord for a discarded response). */
  unrecord(value: number, now: number): void {
    this.record(-value, now);
  }

  /** Units per second. */
  measure(now: number): number {
    this.purge(now);
    let total = 0;
    for (const w of this.windows) total += w.value;
    return total / (this.span(now) / 1000);
  }

  /**
   * The time the samples span, in ms, at least `samples - 1` whole windows (Kafka's
   * Rate.windowSize): the denominator of the rate and the scale of a throttle time.
   */
  span(now: number): number {
    this.purge(now);
    const { samples, windowMs } = this.config;
    const oldest = this.windows[0];
    let elapsed = oldest ? now - oldest.start : 0;
    const full = Math.floor(elapsed / windowMs);
    if (full < samples - 1) elapsed += (samples - 1 - full) * windowMs;
    return elapsed;
  }

  /** Whether nothing is left in any window (the sensor may be dropped). */
  idle(now: number): boolean {
    this.purge(now);
    return this.windows.length === 0;
  }

  /** Drops windows that ended a whole sample period ago, as Kafka's purgeObsoleteSamples. */
  private purge(now: number): void {
    const horizon = this.config.samples * this.config.windowMs;
    while (this.windows.length > 0 && now - this.windows[0].start >= horizon) {
      this.windows.shift();
    }
  }
}

/**
 * How long a client over `bound` waits (Kafka's QuotaUtils.throttleTime): the overshoot as a
 * fraction of the bound, times the span measured, so that once the wait is over the average
 * rate is back at the bound. Zero at or under the bound.
 */
export function throttleTimeMs(rate: SampledRate, bound: number, now: number): number {
  const observed = rate.measure(now);
  if (observed <= bound) return 0;
  return Math.round(((observed - bound) / bound) * rate.span(now));
}
