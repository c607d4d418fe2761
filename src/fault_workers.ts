/**
 * Fault injection with Deno workers: faults live on worker 0 (the controller worker, where the
 * admin API runs); the other workers are told whether any is set and, while one is, ask worker
 * 0 about each request, so "the next N" counts across workers and a hang holds them all.
 */
import { errText, log } from "./log.ts";
import type { FaultInjector } from "./faults.ts";
import { CONTROLLER_WORKER } from "./workers/ownership.ts";
import type { WorkerCluster } from "./workers/worker_cluster.ts";

export function serveFaults(faults: FaultInjector, cluster: WorkerCluster): void {
  if (!cluster.isController) {
    cluster.serve("faultsActive", (a) => faults.setActive(a.active));
    cluster.serve("faultDropConnections", () => faults.dropLocalConnections());
    // With worker 0 gone there are no faults to take: requests are handled as usual.
    const unreachable = (e: unknown) => {
      log.warn(`fault injection: worker ${CONTROLLER_WORKER} unreachable: ${errText(e)}`);
      return null;
    };
    faults.follow({
      take: async (apiKey, named) =>
        (await cluster.call(CONTROLLER_WORKER, "faultTake", { apiKey, named })
          .catch(unreachable)) ?? undefined,
      dropAccepted: async () =>
        (await cluster.call(CONTROLLER_WORKER, "faultDropAccepted", null).catch(unreachable)) ??
          false,
    });
    return;
  }
  cluster.serve("faultTake", async (a) => (await faults.take(a.apiKey, () => a.named)) ?? null);
  cluster.serve("faultDropAccepted", () => faults.dropAccepted());
  cluster.serve("faultsSet", () => faults.active);
  const others = () =>
    Array.from({ length: cluster.count }, (_, i) => i).filter((i) => i !== cluster.index);
  /** A worker that is down is skipped: it starts with no fault and is told of the next. */
  const skipDown = <T>(p: Promise<T>, dflt: T) => p.catch(() => dflt);
  faults.lead({
    setActive: async (active) => {
      await Promise.all(
        others().map((i) => skipDown(cluster.call(i, "faultsActive", { active }), undefined)),
      );
    },
    dropConnections: async () => {
      const counts = await Promise.all(
        others().map((i) => skipDown(cluster.call(i, "faultDropConnections", null), 0)),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
  });
}
