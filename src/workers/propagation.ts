/**
 * Catalogue and config changes made on the controller reach the other workers in the order
 * they were made: each broadcast waits for the one before. A handler that must answer only
 * once every worker sees its change awaits `propagated()`.
 */
import type { WorkerCluster } from "./worker_cluster.ts";

export class Propagation {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly cluster?: WorkerCluster) {}

  /** Tells the other workers to re-read the catalogue, broker configs, ACLs or client quotas, in order. */
  propagate(
    method:
      | "syncCatalogue"
      | "syncBrokerConfigs"
      | "syncAcls"
      | "syncClientQuotas"
      | "syncScramCredentials",
  ): void {
    const cluster = this.cluster;
    if (!cluster) return;
    this.chain = this.chain.then(() => cluster.broadcast(method));
  }

  /** Resolves once every change made so far has reached the other workers. */
  propagated(): Promise<void> {
    return this.chain;
  }
}
