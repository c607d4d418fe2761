/**
 * Kafka's DelayedProduce purgatory, for one partition: an acks=all append waits here until
 * the high watermark passes its last offset. Each check asks the partition (Kafka's
 * checkEnoughReplicasReachOffset): once the HW has reached the offset the answer is NONE, or
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR has meanwhile shrunk below
 * min.insync.replicas; at the request's timeout REQUEST_TIMED_OUT; on losing leadership
 * NOT_LEADER_OR_FOLLOWER (failAll).
 */
import { ErrorCode } from "../../protocol/errors.ts";

interface Waiter {
  requiredOffset: number;
  resolve(code: number): void;
  timer: ReturnType<typeof setTimeout>;
}

export class DelayedProducePurgatory {
  private readonly waiters = new Set<Waiter>();

  /**
   * `check(requiredOffset)`: null while not yet complete, else the error code (0: done).
   */
  constructor(private readonly check: (requiredOffset: number) => number | null) {}

  get size(): number {
    return this.waiters.size;
  }

  /** Resolves with the append's error code once complete, or on timeout. */
  wait(requiredOffset: number, timeoutMs: number): Promise<number> {
    const now = this.check(requiredOffset);
    if (now !== null) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w: Waiter = {
        requiredOffset,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(ErrorCode.REQUEST_TIMED_OUT);
        }, Math.max(0, timeoutMs)),
      };
      this.waiters.add(w);
    });
  }

  /** Completes every waiter whose check now has an answer (after an HW or ISR change). */
  tryCompleteAll(): void {
    for (const w of [...this.waiters]) {
      const code = this.check(w.requiredOffset);
      if (code === null) continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(code);
    }
  }

  /** Fails every waiter with `code` (leadership lost, partition gone). */
  failAll(code: number): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(code);
    }
    this.waiters.clear();
  }
}
