/**
 * `connections.max.idle.ms`, as Kafka's Selector IdleExpiryManager: connections in order of
 * their last read or write (a Map kept in that order by moving a connection to the end on
 * activity), and one timer set for when the least recently active one expires. Activity costs
 * a map delete and set; the timer only ever looks at the front.
 */
import { log } from "./log.ts";

export interface Expirable {
  readonly id: number;
  readonly remote: string;
  close(): void;
}

export class IdleExpiryManager {
  /** Last activity (performance.now()) by connection, least recent first. */
  private readonly lastActive = new Map<Expirable, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  /** `maxIdleMs` < 0: connections never expire (nothing is tracked). */
  constructor(readonly maxIdleMs: number) {}

  private get enabled(): boolean {
    return this.maxIdleMs >= 0 && !this.stopped;
  }

  /** A read or write on `c` (or its accept). */
  touch(c: Expirable): void {
    if (!this.enabled) return;
    this.lastActive.delete(c);
    this.lastActive.set(c, performance.now());
    if (this.timer === undefined) this.schedule(this.maxIdleMs);
  }

  remove(c: Expirable): void {
    this.lastActive.delete(c);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastActive.clear();
  }

  private schedule(ms: number): void {
    const t = setTimeout(() => this.expire(), Math.max(1, Math.ceil(ms)));
    Deno.unrefTimer(t as unknown as number);
    this.timer = t;
  }

  private expire(): void {
    this.timer = undefined;
    if (!this.enabled) return;
    const now = performance.now();
    for (const [c, at] of this.lastActive) {
      const left = at + this.maxIdleMs - now;
      if (left > 0) {
        this.schedule(left);
        return;
      }
      this.lastActive.delete(c);
      log.debug(
        `closing connection ${c.id} from ${c.remote}: idle for ${this.maxIdleMs} ms ` +
          `(connections.max.idle.ms)`,
      );
      c.close();
    }
  }
}
