/**
 * Cluster routes of the admin API:
 *
 *   GET /v1/cluster   cluster id, controller, brokers (DescribeCluster's view)
 *   GET /v1/stats     cumulative traffic counters for the console's live throughput
 */
import type { AdminHost } from "./admin_host.ts";
import { Hono } from "./http.ts";
import { tieringStats } from "./tiering.ts";

export function clusterJson(broker: AdminHost) {
  return {
    clusterId: broker.clusterId,
    controllerId: broker.services.leadership.controllerId,
    brokers: broker.services.leadership.brokers().map((b) => ({
      brokerId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack,
    })),
    startedAt: new Date(broker.startedAt).toISOString(),
    uptimeMs: Date.now() - broker.startedAt,
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
