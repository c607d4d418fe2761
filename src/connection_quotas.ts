/**
 * Connection limits of the accept loop, as Kafka's ConnectionQuotas and Acceptor:
 * `max.connections` makes the loop wait for a free slot before accepting more (the kernel's
 * backlog holds the rest), `max.connections.per.ip` closes a new connection from an address
 * already at its limit, and failed accepts (EMFILE at the descriptor limit, for one) back off
 * and are logged once per interval with a count, not once each.
 */
import { log } from "./log.ts";

/** Accept failures are summarised at most this often. */
const FAILURE_LOG_INTERVAL_MS = 10_000;
const BACKOFF_MIN_MS = 20;
const BACKOFF_MAX_MS = 1000;

export class ConnectionQuotas {
  private readonly perIp = new Map<string, number>();
  private open = 0;
  private slotFreed: (() => void) | null = null;
  private failures = 0;
  private failuresLogged = 0;
  private lastFailureLog = -Infinity;
  private backoffMs = 0;
  private rejectedLogged = -Infinity;
  private rejected = 0;

  constructor(readonly maxConnections: number, readonly maxPerIp: number) {}

  /** Resolves once fewer than max.connections are open. */
  async slot(): Promise<void> {
    while (this.open >= this.maxConnections) {
      await new Promise<void>((r) => this.slotFreed = r);
    }
  }

  /** Counts an accepted connection from `ip`; false when that address is at its limit. */
  add(ip: string): boolean {
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) {
      this.rejected++;
      const now = performance.now();
      if (now - this.rejectedLogged >= FAILURE_LOG_INTERVAL_MS) {
        log.info(
          `rejected ${this.rejected} connection(s) from ${ip}: the address already has the ` +
            `configured maximum of ${this.maxPerIp} connections (max.connections.per.ip)`,
        );
        this.rejected = 0;
        this.rejectedLogged = now;
      }
      return false;
    }
    this.perIp.set(ip, n + 1);
    this.open++;
    this.backoffMs = 0;
    return true;
  }

  remove(ip: string): void {
    const n = this.perIp.get(ip);
    if (n === undefined) return;
    if (n <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, n - 1);
    this.open--;
    const wake = this.slotFreed;
    this.slotFreed = null;
    wake?.();
  }

  /**
   * An accept failed: logs it (the first of an interval at once, the rest as a count at the
   * next interval) and returns how long to wait before accepting again (doubling up to 1 s).
   */
  acceptFailed(reason: string): number {
    this.failures++;
    const now = performance.now();
    if (now - this.lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
      const more = this.failures - this.failuresLogged - 1;
      log.error(
        `accept failed: ${reason}` +
          (more > 0 ? ` (and ${more} more failure(s) in the last interval)` : "") +
          `; backing off`,
      );
      this.failuresLogged = this.failures;
      this.lastFailureLog = now;
    }
    this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
    return this.backoffMs;
  }

  /** Accept failures since start (logged or not). */
  get acceptFailures(): number {
    return this.failures;
  }
}
