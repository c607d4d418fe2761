/**
 * Broker counters: requests by API key and version, errors by API key, version and error
 * code, request latency histograms by API key, bytes and records in and bytes out per topic,
 * connections. The admin API renders these as Prometheus text (src/admin/prometheus.ts) and
 * as JSON for the console.
 *
 * Everything here is a plain in-memory counter updated on the request path, so each update
 * is a map lookup and an increment; rendering does the rest.
 */
import { ErrorCode } from "../protocol/errors.ts";

/** Histogram bucket upper bounds for request latency, in seconds (Prometheus convention). */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
] as const;

/** Metrics as plain data (see Metrics.snapshot). */
export interface MetricsSnapshot {
  requests: [string, RequestCounters][];
  errors: [string, number][];
  latency: [number, { counts: number[]; count: number; sumSeconds: number }][];
  topicBytesIn: [string, number][];
  topicRecordsIn: [string, number][];
  topicBytesOut: [string, number][];
  connectionsOpen: number;
  connectionsTotal: number;
  /** SASL logins by `${mechanism}:${outcome}:${reauth}` (see Metrics.authentication). */
  authentications: [string, number][];
  /** Request bytes buffered now, and the most at once (see RequestBudget). */
  queuedRequestBytes: number;
  queuedRequestBytesPeak: number;
  /** Authorization denials by `${resourceType}:${operation}` (Kafka's codes). */
  authorizationDenials?: [string, number][];
  /** Client quota throttling by quota type: time and responses throttled. */
  throttleTimeMs?: [string, number][];
  throttledResponses?: [string, number][];
  /** ISR shrinks and expands of partitions led here (see Metrics.isrShrinks). */
  isrShrinks?: number;
  isrExpands?: number;
  /** Follower lag the leader knows, per partition and replica. */
  followerLag?: FollowerLagSample[];
}

/** How far one follower is behind the leader of a partition (leader LEO - follower LEO). */
export interface FollowerLagSample {
  topic: string;
  partition: number;
  replica: number;
  lag: number;
}

/**
 * Error codes that are routine answers of the protocol, not failures: a client gets them in
 * normal operation and takes the step Kafka's protocol prescribes (they are still counted by
 * code in `errors`). MEMBER_ID_REQUIRED is the first JoinGroup of every classic member (v4+,
 * KIP-394); REBALANCE_IN_PROGRESS tells members to rejoin; NOT_COORDINATOR,
 * COORDINATOR_NOT_AVAILABLE and COORDINATOR_LOAD_IN_PROGRESS send the client back to
 * FindCoordinator while the coordinator loads; LEADER_NOT_AVAILABLE answers Metadata for a topic
 * being auto-created; FETCH_SESSION_ID_NOT_FOUND makes the client open a new fetch session
 * (KIP-227: sessions are evicted and do not survive a restart); UNSTABLE_OFFSET_COMMIT and
 * CONCURRENT_TRANSACTIONS ask for a retry while a transaction completes.
 */
export const ROUTINE_ERROR_CODES: ReadonlySet<number> = new Set([
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.REBALANCE_IN_PROGRESS,
  ErrorCode.CONCURRENT_TRANSACTIONS,
  ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  ErrorCode.MEMBER_ID_REQUIRED,
  ErrorCode.UNSTABLE_OFFSET_COMMIT,
]);

/** Counts of one API key and version. */
export interface RequestCounters {
  count: number;
  /**
   * Failed requests: responses carrying at least one error code that is not routine
   * (ROUTINE_ERROR_CODES).
   */
  errors: number;
  /** Sum of handler latencies in milliseconds. */
  latencyMs: number;
}

/** A latency histogram: cumulative-ready bucket counts plus sum and count. */
export class Histogram {
  /** counts[i] = observations <= LATENCY_BUCKETS_SECONDS[i] and > the previous bound. */
  readonly counts: number[] = new Array<number>(LATENCY_BUCKETS_SECONDS.length).fill(0);
  count = 0;
  sumSeconds = 0;

  observe(seconds: number): void {
    this.count++;
    this.sumSeconds += seconds;
    for (let i = 0; i < LATENCY_BUCKETS_SECONDS.length; i++) {
      if (seconds <= LATENCY_BUCKETS_SECONDS[i]) {
        this.counts[i]++;
        return;
      }
    }
    // above the largest bound: only the +Inf bucket (== count) holds it
  }

  /** Cumulative counts per bound, as Prometheus `_bucket{le=...}` wants them. */
  cumulative(): number[] {
    let acc = 0;
    return this.counts.map((c) => acc += c);
  }
}

export class Metrics {
  /** By `${apiKey}:${version}`. */
  readonly requests: Map<string, RequestCounters> = new Map();
  /** Error occurrences by `${apiKey}:${version}:${errorCode}` (one per error in a response). */
  readonly errors: Map<string, number> = new Map();
  /** Handler latency by API key. */
  readonly latency: Map<number, Histogram> = new Map();
  readonly topicBytesIn: Map<string, number> = new Map();
  readonly topicRecordsIn: Map<string, number> = new Map();
  readonly topicBytesOut: Map<string, number> = new Map();
  /** Authorization denials by `${resourceType}:${operation}` (Kafka's ACL codes). */
  readonly authorizationDenials: Map<string, number> = new Map();
  connectionsOpen = 0;
  connectionsTotal = 0;
  /** Throttle time given by client quotas, by quota type (`producer_byte_rate`, ...). */
  readonly throttleTimeMs = new Map<string, number>();
  /** Responses throttled by client quotas, by quota type. */
  readonly throttledResponses = new Map<string, number>();
  /**
   * SASL logins by `${mechanism}:${outcome}:${reauth}`, outcome "success" or "failure",
   * reauth "1" for a KIP-368 re-authentication: Kafka's successful-authentication-total,
   * failed-authentication-total and their re-authentication twins, per mechanism.
   */
  readonly authentications = new Map<string, number>();
  /**
   * ISR changes of partitions this broker leads (Kafka's IsrShrinksPerSec and
   * IsrExpandsPerSec, as totals: Prometheus derives the rate), counted where the new ISR is
   * seen (src/cluster/isr_change_counter.ts).
   */
  isrShrinks = 0;
  isrExpands = 0;
  /**
   * The follower lag this broker's partitions know as leader (set by the replication data
   * path; nothing when it is not set).
   */
  followerLagSource?: () => FollowerLagSample[];
  private readonly addedFollowerLag: FollowerLagSample[] = [];
  /** The request budget whose use is exported (set by the broker). */
  requestBudget?: { used: number; peak: number };
  /** Other workers' request budget use, summed by add(). */
  private readonly addedQueued = { used: 0, peak: 0 };

  /** Request bytes buffered now for requests being read or handled (queued.max.request.bytes). */
  get queuedRequestBytes(): number {
    return (this.requestBudget?.used ?? 0) + this.addedQueued.used;
  }

  /** The most request bytes buffered at once (per worker, summed). */
  get queuedRequestBytesPeak(): number {
    return (this.requestBudget?.peak ?? 0) + this.addedQueued.peak;
  }

  /**
   * Records one request. `errorCodes` is the response's error code, or every error code it
   * carried (per topic, partition, ...; zeros are ignored) — as Kafka's errorCounts() does.
   */
  request(
    apiKey: number,
    version: number,
    errorCodes: number | readonly number[] = 0,
    latencyMs = 0,
  ): void {
    const k = `${apiKey}:${version}`;
    let e = this.requests.get(k);
    if (!e) this.requests.set(k, e = { count: 0, errors: 0, latencyMs: 0 });
    e.count++;
    e.latencyMs += latencyMs;
    let any = false;
    for (const code of typeof errorCodes === "number" ? [errorCodes] : errorCodes) {
      if (code === 0) continue;
      if (!ROUTINE_ERROR_CODES.has(code)) any = true;
      const ek = `${k}:${code}`;
      this.errors.set(ek, (this.errors.get(ek) ?? 0) + 1);
    }
    if (any) e.errors++;
    let h = this.latency.get(apiKey);
    if (!h) this.latency.set(apiKey, h = new Histogram());
    h.observe(Math.max(0, latencyMs) / 1000);
  }

  /** Follower lag samples of this worker and those added from the others. */
  followerLag(): FollowerLagSample[] {
    return [...(this.followerLagSource?.() ?? []), ...this.addedFollowerLag];
  }

  /** Counts one SASL login's outcome (src/security/sasl_authenticator.ts). */
  authentication(mechanism: string, outcome: "success" | "failure", reauth: boolean): void {
    const k = `${mechanism}:${outcome}:${reauth ? 1 : 0}`;
    this.authentications.set(k, (this.authentications.get(k) ?? 0) + 1);
  }

  produced(topic: string, bytes: number, records: number): void {
    this.topicBytesIn.set(topic, (this.topicBytesIn.get(topic) ?? 0) + bytes);
    this.topicRecordsIn.set(topic, (this.topicRecordsIn.get(topic) ?? 0) + records);
  }

  /** Counts one request action the authorizer denied. */
  authorizationDenied(resourceType: number, operation: number): void {
    const k = `${resourceType}:${operation}`;
    this.authorizationDenials.set(k, (this.authorizationDenials.get(k) ?? 0) + 1);
  }

  /** A response throttled `ms` by the client quota of `quotaType`. */
  throttled(quotaType: string, ms: number): void {
    this.throttleTimeMs.set(quotaType, (this.throttleTimeMs.get(quotaType) ?? 0) + ms);
    this.throttledResponses.set(quotaType, (this.throttledResponses.get(quotaType) ?? 0) + 1);
  }

  fetched(topic: string, bytes: number): void {
    this.topicBytesOut.set(topic, (this.topicBytesOut.get(topic) ?? 0) + bytes);
  }

  /** The counters as plain data (sent from a Deno worker to the one serving the admin API). */
  snapshot(): MetricsSnapshot {
    return {
      requests: [...this.requests],
      errors: [...this.errors],
      latency: [...this.latency].map(([k, h]) => [k, {
        counts: h.counts,
        count: h.count,
        sumSeconds: h.sumSeconds,
      }]),
      topicBytesIn: [...this.topicBytesIn],
      topicRecordsIn: [...this.topicRecordsIn],
      topicBytesOut: [...this.topicBytesOut],
      connectionsOpen: this.connectionsOpen,
      connectionsTotal: this.connectionsTotal,
      authentications: [...this.authentications],
      queuedRequestBytes: this.queuedRequestBytes,
      queuedRequestBytesPeak: this.queuedRequestBytesPeak,
      authorizationDenials: [...this.authorizationDenials],
      throttleTimeMs: [...this.throttleTimeMs],
      throttledResponses: [...this.throttledResponses],
      isrShrinks: this.isrShrinks,
      isrExpands: this.isrExpands,
      followerLag: this.followerLag(),
    };
  }

  /** Adds another worker's counters to these. */
  add(s: MetricsSnapshot): void {
    for (const [k, r] of s.requests) {
      const e = this.requests.get(k);
      if (!e) this.requests.set(k, { ...r });
      else {
        e.count += r.count;
        e.errors += r.errors;
        e.latencyMs += r.latencyMs;
      }
    }
    const sum = (m: Map<string, number>, entries: [string, number][]) => {
      for (const [k, v] of entries) m.set(k, (m.get(k) ?? 0) + v);
    };
    sum(this.errors, s.errors);
    sum(this.topicBytesIn, s.topicBytesIn);
    sum(this.topicRecordsIn, s.topicRecordsIn);
    sum(this.topicBytesOut, s.topicBytesOut);
    sum(this.authorizationDenials, s.authorizationDenials ?? []);
    sum(this.throttleTimeMs, s.throttleTimeMs ?? []);
    sum(this.throttledResponses, s.throttledResponses ?? []);
    sum(this.authentications, s.authentications ?? []);
    for (const [k, h] of s.latency) {
      let mine = this.latency.get(k);
      if (!mine) this.latency.set(k, mine = new Histogram());
      for (let i = 0; i < mine.counts.length; i++) mine.counts[i] += h.counts[i] ?? 0;
      mine.count += h.count;
      mine.sumSeconds += h.sumSeconds;
    }
    this.connectionsOpen += s.connectionsOpen;
    this.connectionsTotal += s.connectionsTotal;
    this.isrShrinks += s.isrShrinks ?? 0;
    this.isrExpands += s.isrExpands ?? 0;
    this.addedFollowerLag.push(...(s.followerLag ?? []));
    this.addedQueued.used += s.queuedRequestBytes ?? 0;
    this.addedQueued.peak += s.queuedRequestBytesPeak ?? 0;
  }

  /** Forgets a deleted topic's per-topic counters so they stop being exported. */
  topicDeleted(topic: string): void {
    this.topicBytesIn.delete(topic);
    this.topicRecordsIn.delete(topic);
    this.topicBytesOut.delete(topic);
  }
}
