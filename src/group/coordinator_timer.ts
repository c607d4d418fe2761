/**
 * Keyed one-shot timers (Kafka's CoordinatorTimer): scheduling a key replaces its previous
 * timer, so "reschedule the member's heartbeat expiry" is one call, and close() can cancel
 * every outstanding timeout at once.
 */
import type { Clock, TimerHandle } from "./clock.ts";

export class CoordinatorTimer {
  private readonly timers = new Map<string, TimerHandle>();

  constructor(private readonly clock: Clock) {}

  schedule(key: string, delayMs: number, fn: () => void): void {
    this.timers.get(key)?.cancel();
    const handle = this.clock.schedule(delayMs, () => {
      if (this.timers.get(key) !== handle) return;
      this.timers.delete(key);
      fn();
    });
    this.timers.set(key, handle);
  }

  cancel(key: string): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }

  isScheduled(key: string): boolean {
    return this.timers.has(key);
  }

  /** Cancels every timer of one group (keys are `<kind>\0<groupId>[\0<member>]`). */
  cancelGroup(groupId: string): void {
    for (const [key, t] of this.timers) {
      if (key.split("\u0000")[1] === groupId) {
        t.cancel();
        this.timers.delete(key);
      }
    }
  }

  cancelAll(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  get size(): number {
    return this.timers.size;
  }
}
