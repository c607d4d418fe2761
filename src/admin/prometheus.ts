/**
 * `/metrics`: the broker's counters in the Prometheus text exposition format (version 0.0.4).
 *
 * Metric names follow Prometheus conventions (`_total` counters, `_seconds` and `_bytes`
 * units); labels carry Kafka's names (`api` is the API name, `error` the error code name).
 */
import { errorName } from "../../protocol/errors.ts";
import type { AdminHost } from "./admin_host.ts";
import { LATENCY_BUCKETS_SECONDS } from "../metrics.ts";
import type { PartitionStatus } from "../partition_ops.ts";
import { partitionStatus, tieringStats } from "./tiering.ts";
import { operationName, resourceTypeName } from "../security/acl_binding.ts";
import { partitionReplication, replicationSummary } from "./replication.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Consumer lag of one group on one partition (high watermark - committed offset). */
export interface GroupLagSample {
  group: string;
  topic: string;
  partition: number;
  committedOffset: number;
  lag: number;
}

function escapeLabel(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function labels(l: Record<string, string | number>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

class Writer {
  private readonly lines: string[] = [];

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.lines.push(`# HELP ${name} ${help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`);
    this.lines.push(`# TYPE ${name} ${type}`);
  }

  sample(name: string, l: Record<string, string | number>, v: number): void {
    this.lines.push(`${name}${labels(l)} ${num(v)}`);
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}

/**
 * Renders every metric of `broker`, with group lag when `groupLag` gives any. Partition
 * gauges are read on the partitions' owning workers ("status" partition ops, concurrently).
 */
export async function renderPrometheus(
  broker: AdminHost,
  groupLag: GroupLagSample[] = [],
): Promise<string> {
  const stats = await broker.stats();
  const m = stats.metrics;
  const w = new Writer();
  const apiName = (key: number) => broker.registry.get(key)?.name ?? `Unknown${key}`;

  w.family("tributary_broker_info", "gauge", "Broker identity; the value is always 1.");
  w.sample("tributary_broker_info", {
    cluster_id: broker.clusterId,
    node_id: broker.nodeId,
  }, 1);
  w.family("tributary_uptime_seconds", "gauge", "Seconds since the broker started.");
  w.sample("tributary_uptime_seconds", {}, (Date.now() - broker.startedAt) / 1000);

  // ---- requests ----------------------------------------------------------------------
  const reqs = [...m.requests.entries()].map(([k, v]) => {
    const [key, version] = k.split(":").map(Number);
    return { key, version, ...v };
  }).sort((a, b) => a.key - b.key || a.version - b.version);
  w.family("tributary_requests_total", "counter", "Requests handled, by API key and version.");
  for (const r of reqs) {
    w.sample(
      "tributary_requests_total",
      { api: apiName(r.key), api_key: r.key, version: r.version },
      r.count,
    );
  }
  w.family(
    "tributary_requests_failed_total",
    "counter",
    "Requests whose response carried at least one error code other than the protocol's " +
      "routine answers (MEMBER_ID_REQUIRED, REBALANCE_IN_PROGRESS, NOT_COORDINATOR, ...), " +
      "by API key and version.",
  );
  for (const r of reqs) {
    w.sample(
      "tributary_requests_failed_total",
      { api: apiName(r.key), api_key: r.key, version: r.version },
      r.errors,
    );
  }
  w.family(
    "tributary_request_errors_total",
    "counter",
    "Error codes returned, by API key, version and error (one per topic/partition/group " +
      "entry that carried it, like Kafka's ErrorsPerSec).",
  );
  const errs = [...m.errors.entries()].map(([k, count]) => {
    const [key, version, code] = k.split(":").map(Number);
    return { key, version, code, count };
  }).sort((a, b) => a.key - b.key || a.version - b.version || a.code - b.code);
  for (const e of errs) {
    w.sample("tributary_request_errors_total", {
      api: apiName(e.key),
      api_key: e.key,
      version: e.version,
      error: errorName(e.code),
      error_code: e.code,
    }, e.count);
  }
  w.family(
    "tributary_request_duration_seconds",
    "histogram",
    "Time spent handling a request (decode to response built), by API key.",
  );
  for (const [key, h] of [...m.latency.entries()].sort((a, b) => a[0] - b[0])) {
    const l = { api: apiName(key), api_key: key };
    const cum = h.cumulative();
    LATENCY_BUCKETS_SECONDS.forEach((le, i) => {
      w.sample("tributary_request_duration_seconds_bucket", { ...l, le: String(le) }, cum[i]);
    });
    w.sample("tributary_request_duration_seconds_bucket", { ...l, le: "+Inf" }, h.count);
    w.sample("tributary_request_duration_seconds_sum", l, h.sumSeconds);
    w.sample("tributary_request_duration_seconds_count", l, h.count);
  }

  w.family(
    "tributary_authorization_denials_total",
    "counter",
    "Actions the ACL authorizer denied, by resource type and operation (Kafka's names).",
  );
  const denials = [...m.authorizationDenials.entries()].map(([k, count]) => {
    const [type, op] = k.split(":").map(Number);
    return { type, op, count };
  }).sort((a, b) => a.type - b.type || a.op - b.op);
  for (const d of denials) {
    w.sample("tributary_authorization_denials_total", {
      resource_type: resourceTypeName(d.type),
      operation: operationName(d.op),
    }, d.count);
  }

  // ---- connections --------------------------------------------------------------------
  w.family("tributary_connections", "gauge", "Open client connections.");
  w.sample("tributary_connections", {}, m.connectionsOpen);
  w.family("tributary_connections_accepted_total", "counter", "Client connections accepted.");
  w.sample("tributary_connections_accepted_total", {}, m.connectionsTotal);
  // ---- SASL -------------------------------------------------------------------------
  w.family(
    "tributary_authentications_total",
    "counter",
    "SASL logins by mechanism and result (success, failure), re-authentications (KIP-368) " +
      'marked reauth="true".',
  );
  for (const [k, v] of [...m.authentications].sort((a, b) => a[0].localeCompare(b[0]))) {
    const [mechanism, result, reauth] = k.split(":");
    w.sample("tributary_authentications_total", {
      mechanism,
      result,
      reauth: reauth === "1" ? "true" : "false",
    }, v);
  }
  w.family(
    "tributary_queued_request_bytes",
    "gauge",
    "Request bytes buffered for requests being read or handled (queued.max.request.bytes).",
  );
  w.sample("tributary_queued_request_bytes", {}, m.queuedRequestBytes);
  w.family(
    "tributary_quota_throttle_time_ms_total",
    "counter",
    "Milliseconds of throttle time given by client quotas, by quota type.",
  );
  for (const [type, ms] of [...m.throttleTimeMs].sort()) {
    w.sample("tributary_quota_throttle_time_ms_total", { quota_type: type }, ms);
  }
  w.family(
    "tributary_quota_throttled_responses_total",
    "counter",
    "Responses throttled by client quotas, by quota type.",
  );
  for (const [type, n] of [...m.throttledResponses].sort()) {
    w.sample("tributary_quota_throttled_responses_total", { quota_type: type }, n);
  }

  // ---- per topic traffic --------------------------------------------------------------
  const sorted = (map: Map<string, number>) =>
    [...map.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  w.family(
    "tributary_topic_bytes_in_total",
    "counter",
    "Record batch bytes appended by producers, by topic (retries that were duplicates excluded).",
  );
  for (const [t, v] of sorted(m.topicBytesIn)) {
    w.sample("tributary_topic_bytes_in_total", { topic: t }, v);
  }
  w.family("tributary_topic_records_in_total", "counter", "Records appended, by topic.");
  for (const [t, v] of sorted(m.topicRecordsIn)) {
    w.sample("tributary_topic_records_in_total", { topic: t }, v);
  }
  w.family(
    "tributary_topic_bytes_out_total",
    "counter",
    "Record batch bytes returned to fetchers, by topic.",
  );
  for (const [t, v] of sorted(m.topicBytesOut)) {
    w.sample("tributary_topic_bytes_out_total", { topic: t }, v);
  }

  // ---- partitions --------------------------------------------------------------------
  const topics = broker.topics().sort((a, b) => a.name.localeCompare(b.name));
  const wanted = topics.flatMap((t) =>
    Array.from({ length: t.partitions }, (_, p) => ({ topic: t.name, partition: p }))
  );
  const statuses = await Promise.all(
    wanted.map((x) => partitionStatus(broker, x.topic, x.partition)),
  );
  w.family("tributary_topics", "gauge", "Topics.");
  w.sample("tributary_topics", {}, topics.length);
  const parts: {
    topic: string;
    partition: number;
    tiers: PartitionStatus;
    start: number;
    hw: number;
  }[] = [];
  for (const [i, x] of wanted.entries()) {
    const s = statuses[i];
    if (!s) continue;
    parts.push({ ...x, tiers: s, start: s.logStartOffset, hw: s.highWatermark });
  }
  w.family("tributary_partitions", "gauge", "Partitions whose replica this broker holds.");
  w.sample("tributary_partitions", {}, parts.length);
  w.family(
    "tributary_partition_size_bytes",
    "gauge",
    "Log size of a partition by storage tier (a tiered segment counts in both tiers until " +
      "local retention deletes its local copy).",
  );
  for (const p of parts) {
    const l = { topic: p.topic, partition: p.partition };
    w.sample("tributary_partition_size_bytes", { ...l, tier: "local" }, p.tiers.localBytes);
    w.sample("tributary_partition_size_bytes", { ...l, tier: "remote" }, p.tiers.remoteBytes);
  }
  w.family("tributary_partition_log_start_offset", "gauge", "First offset of a partition.");
  for (const p of parts) {
    w.sample(
      "tributary_partition_log_start_offset",
      { topic: p.topic, partition: p.partition },
      p.start,
    );
  }
  w.family("tributary_partition_high_watermark", "gauge", "High watermark of a partition.");
  for (const p of parts) {
    w.sample(
      "tributary_partition_high_watermark",
      { topic: p.topic, partition: p.partition },
      p.hw,
    );
  }

  // ---- replication ---------------------------------------------------------------------
  const repl = replicationSummary(broker).local;
  const gauge = (name: string, help: string, v: number) => {
    w.family(name, "gauge", help);
    w.sample(name, {}, v);
  };
  gauge(
    "tributary_leader_partitions",
    "Partitions this broker leads (Kafka's LeaderCount).",
    repl.leaderCount,
  );
  gauge(
    "tributary_under_replicated_partitions",
    "Partitions this broker leads with fewer in-sync replicas than assigned replicas " +
      "(Kafka's UnderReplicatedPartitions).",
    repl.underReplicatedPartitions,
  );
  gauge(
    "tributary_under_min_isr_partitions",
    "Partitions this broker leads with fewer in-sync replicas than min.insync.replicas " +
      "(Kafka's UnderMinIsrPartitionCount).",
    repl.underMinIsrPartitionCount,
  );
  gauge(
    "tributary_at_min_isr_partitions",
    "Partitions this broker leads with exactly min.insync.replicas in-sync replicas " +
      "(Kafka's AtMinIsrPartitionCount).",
    repl.atMinIsrPartitionCount,
  );
  gauge(
    "tributary_offline_partitions",
    "Partitions without a live leader, reported by the active controller (0 on other " +
      "brokers; Kafka's OfflinePartitionsCount).",
    repl.offlinePartitionsCount,
  );
  gauge(
    "tributary_active_controller",
    "1 on the active controller, else 0 (Kafka's ActiveControllerCount).",
    repl.activeControllerCount,
  );
  w.family(
    "tributary_isr_shrinks_total",
    "counter",
    "ISR shrinks of partitions this broker leads (Kafka's IsrShrinksPerSec, as a total).",
  );
  w.sample("tributary_isr_shrinks_total", {}, m.isrShrinks);
  w.family(
    "tributary_isr_expands_total",
    "counter",
    "ISR expands of partitions this broker leads (Kafka's IsrExpandsPerSec, as a total).",
  );
  w.sample("tributary_isr_expands_total", {}, m.isrExpands);
  w.family(
    "tributary_partition_in_sync_replicas",
    "gauge",
    "In-sync replicas of a partition this broker leads.",
  );
  w.family(
    "tributary_partition_leader_epoch",
    "gauge",
    "Leader epoch of a partition this broker leads.",
  );
  const byName = new Map(topics.map((t) => [t.name, t]));
  const ledHere = parts.map((p) => ({
    ...p,
    r: partitionReplication(broker, byName.get(p.topic)!, p.partition),
  })).filter((p) => p.r.leader === broker.nodeId);
  for (const p of ledHere) {
    const l = { topic: p.topic, partition: p.partition };
    w.sample("tributary_partition_in_sync_replicas", l, p.r.isr.length);
  }
  for (const p of ledHere) {
    const l = { topic: p.topic, partition: p.partition };
    w.sample("tributary_partition_leader_epoch", l, p.r.leaderEpoch);
  }
  w.family(
    "tributary_replica_lag_messages",
    "gauge",
    "Offsets a follower is behind the leader's log end (leader side, partitions led here).",
  );
  const lag = [...m.followerLag()].sort((a, b) =>
    a.topic.localeCompare(b.topic) || a.partition - b.partition || a.replica - b.replica
  );
  for (const s of lag) {
    w.sample(
      "tributary_replica_lag_messages",
      { topic: s.topic, partition: s.partition, replica: s.replica },
      s.lag,
    );
  }

  // ---- tiered storage ------------------------------------------------------------------
  const tiering = tieringStats(broker, stats.remote);
  w.family(
    "tributary_remote_uploads_pending",
    "gauge",
    "Closed segments of remote.storage.enable topics waiting to be copied to the cold tier.",
  );
  w.sample(
    "tributary_remote_uploads_pending",
    {},
    parts.reduce((n, p) => n + p.tiers.uploadsPending, 0),
  );
  w.family(
    "tributary_remote_uploads_failed_total",
    "counter",
    "Tiering task attempts that failed (each is retried with backoff).",
  );
  w.sample("tributary_remote_uploads_failed_total", {}, tiering.uploadsFailed);
  w.family(
    "tributary_remote_segments_copied_total",
    "counter",
    "Segments copied to the cold tier.",
  );
  w.sample("tributary_remote_segments_copied_total", {}, tiering.segmentsCopied);
  w.family("tributary_remote_bytes_copied_total", "counter", "Bytes copied to the cold tier.");
  w.sample("tributary_remote_bytes_copied_total", {}, tiering.bytesCopied);
  w.family(
    "tributary_remote_segments_deleted_total",
    "counter",
    "Segments deleted from the cold tier by retention or topic deletion.",
  );
  w.sample("tributary_remote_segments_deleted_total", {}, tiering.segmentsDeleted);

  // ---- consumer groups -----------------------------------------------------------------
  if (groupLag.length > 0) {
    const lag = [...groupLag].sort((a, b) =>
      a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) ||
      a.partition - b.partition
    );
    w.family(
      "tributary_group_committed_offset",
      "gauge",
      "Committed offset of a consumer group on a partition.",
    );
    for (const s of lag) {
      w.sample(
        "tributary_group_committed_offset",
        { group: s.group, topic: s.topic, partition: s.partition },
        s.committedOffset,
      );
    }
    w.family(
      "tributary_group_lag",
      "gauge",
      "Consumer lag: high watermark minus the group's committed offset.",
    );
    for (const s of lag) {
      w.sample(
        "tributary_group_lag",
        { group: s.group, topic: s.topic, partition: s.partition },
        s.lag,
      );
    }
  }

  // ---- process -----------------------------------------------------------------------
  try {
    const mem = Deno.memoryUsage();
    w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    w.sample("process_resident_memory_bytes", {}, mem.rss);
    w.family("tributary_heap_used_bytes", "gauge", "V8 heap in use, in bytes.");
    w.sample("tributary_heap_used_bytes", {}, mem.heapUsed);
  } catch {
    // memoryUsage unavailable: skip
  }
  return w.text();
}
