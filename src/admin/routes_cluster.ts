/**
 * Cluster routes of the admin API:
 *
 *   GET /v1/cluster   cluster id, controller, brokers (DescribeCluster's view)
 *   GET /v1/stats     cumulative traffic counters for the console's live throughput
 */
import type { AdminHost } from "./admin_host.ts";
import { Hono } from "./http.ts";
import { tieringStats } from "./tiering.ts";
import { replicationSummary } from "./replication.ts";

/**
 * The cluster as this broker sees it: the live brokers (and assigned ones that are down,
 * `live: false`), each with the partitions it leads and holds, and the replication state of
 * every partition summed.
 */
export function clusterJson(broker: AdminHost) {
  const leadership = broker.services.leadership;
  const repl = replicationSummary(broker);
  const counts = new Map(repl.brokers.map((b) => [b.brokerId, b]));
  const live = leadership.brokers();
  const down = repl.brokers.filter((b) => !b.live).map((b) => b.brokerId);
  const brokers = [
    ...live.map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    ...down.map((id) => ({ brokerId: id, host: null, port: -1, rack: null })),
  ].sort((a, b) => a.brokerId - b.brokerId).map((b) => ({
    ...b,
    live: b.host !== null,
    controller: b.brokerId === leadership.controllerId,
    leaderCount: counts.get(b.brokerId)?.leaderCount ?? 0,
    replicaCount: counts.get(b.brokerId)?.replicaCount ?? 0,
  }));
  return {
    clusterId: broker.clusterId,
    controllerId: leadership.controllerId,
    brokers,
    startedAt: new Date(broker.startedAt).toISOString(),
    uptimeMs: Date.now() - broker.startedAt,
    replication: {
      partitions: repl.partitions,
      underReplicatedPartitions: repl.underReplicatedPartitions,
      underMinIsrPartitions: repl.underMinIsrPartitions,
      offlinePartitions: repl.offlinePartitions,
    },
  };
}

/** Counters since start; a client derives rates from two samples and their `timestamp`s. */
export async function statsJson(broker: AdminHost) {
  const stats = await broker.stats();
  const m = stats.metrics;
  let requests = 0;
  let failed = 0;
  for (const r of m.requests.values()) {
    requests += r.count;
    failed += r.errors;
  }
  const names = new Set([
    ...m.topicBytesIn.keys(),
    ...m.topicRecordsIn.keys(),
    ...m.topicBytesOut.keys(),
  ]);
  const topics = [...names].sort().map((topic) => ({
    topic,
    bytesIn: m.topicBytesIn.get(topic) ?? 0,
    recordsIn: m.topicRecordsIn.get(topic) ?? 0,
    bytesOut: m.topicBytesOut.get(topic) ?? 0,
  }));
  const sum = (k: "bytesIn" | "recordsIn" | "bytesOut") => topics.reduce((n, t) => n + t[k], 0);
  return {
    timestamp: Date.now(),
    uptimeMs: Date.now() - broker.startedAt,
    connections: { open: m.connectionsOpen, accepted: m.connectionsTotal },
    requests: { total: requests, failed },
    bytesIn: sum("bytesIn"),
    recordsIn: sum("recordsIn"),
    bytesOut: sum("bytesOut"),
    tiering: tieringStats(broker, stats.remote),
    topics,
  };
}

export function clusterRoutes(broker: AdminHost): Hono {
  const app = new Hono();
  app.get("/cluster", (c) => c.json(clusterJson(broker)));
  app.get("/stats", async (c) => c.json(await statsJson(broker)));
  return app;
}
