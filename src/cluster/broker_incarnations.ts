/**
 * Bounced brokers, as Kafka's ZooKeeper-era controller finds them (its BrokerChange handling
 * compares broker epochs): a broker killed and restarted registers again as soon as its old
 * session expires, so the controller may see it gone and back in one batch of changes, or not
 * see it gone at all. Its registration's incarnation id tells: a live broker whose incarnation
 * differs from the one the controller last saw has restarted, lost whatever it held in memory,
 * and must be treated as failed (out of the ISR, leaderships moved to other in-sync replicas)
 * and then as a new broker (a follower that rejoins the ISR once caught up).
 */
import type { BrokerRegistration } from "./cluster_records.ts";

export class BrokerIncarnations {
  private readonly seen = new Map<number, string>();

  /**
   * The live brokers whose incarnation changed since the last call, which then remembers the
   * current ones (a broker seen gone in between is simply new, not bounced).
   */
  bounced(live: ReadonlyMap<number, BrokerRegistration>): Set<number> {
    const out = new Set<number>();
    for (const [id, b] of live) {
      const before = this.seen.get(id);
      if (before !== undefined && before !== b.incarnationId) out.add(id);
    }
    this.seen.clear();
    for (const [id, b] of live) this.seen.set(id, b.incarnationId);
    return out;
  }
}
