/**
 * Kafka's ClientQuotaManager for the three client quotas this broker enforces: produce bytes
 * (`producer_byte_rate`, the request's size), fetch bytes (`consumer_byte_rate`, the response's
 * size) and request time (`request_percentage`). Kafka measures the last as the share of one
 * I/O thread's time a client's requests take (100 = one whole thread); with no thread pool
 * here it is approximated by the time from a request's decode to its response (handler time,
 * awaits included), as a percentage of each second.
 *
 * A client's usage is a SampledRate per sensor: the user and client id its quota is counted
 * under (a `<default>` entity limits each user or client id on its own). A client over its
 * quota gets a throttle time in its response and its connection is muted for that long
 * (KIP-219); the time is capped at the whole sampled span (`quota.window.num` ×
 * `quota.window.size.seconds`). With Deno workers the rates are kept by worker 0's manager
 * for the whole broker (the others ask it, `QuotaAccounting`); every worker keeps the table,
 * to know whether any quota is set.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import type { Metrics } from "../metrics.ts";
import {
  ClientQuotas,
  type QuotaEntity,
  type QuotaEntry,
  QuotaError,
  type QuotaFilterComponent,
  type QuotaOp,
  type QuotaType,
  validateEntity,
  validateOp,
} from "./client_quotas.ts";
import type { ClientQuotaStore } from "./quota_store.ts";
import { type RateConfig, SampledRate, throttleTimeMs } from "./sampled_rate.ts";

/** One entity's alteration as AlterClientQuotas carries it. */
export interface QuotaAlteration {
  entity: QuotaEntity;
  ops: QuotaOp[];
}

/** Per alteration: null when it succeeded (or would), else why not. */
export type AlterationResult = QuotaError | null;

/** The throttle a request has earned, and the quota that gave the most of it. */
export interface QuotaCharge {
  throttleMs: number;
  type: QuotaType;
  /**
   * For a Fetch (`BeforeRequest.fetch`): the most bytes its `consumer_byte_rate` allows in one
   * quota window (Kafka's getMaxValueInQuotaWindow), which caps the fetch's max_bytes; absent
   * without such a quota.
   */
  fetchWindowBytes?: number;
}

/**
 * The accounting side of the manager, as the request path uses it: on the worker that keeps
 * the rates (this manager) or, with workers, a call to it (see Broker).
 */
export interface QuotaAccounting {
  /** Before handling: the request quota's throttle so far, and Produce's bytes recorded. */
  beforeRequest(a: BeforeRequest): QuotaCharge | Promise<QuotaCharge>;
  /** After handling: the request's time and a Fetch response's bytes recorded. */
  afterRequest(a: AfterRequest): QuotaCharge | Promise<QuotaCharge>;
}

export interface BeforeRequest {
  user: string;
  clientId: string;
  /** A Produce request's size, else 0. */
  produceBytes: number;
  /** A consumer's Fetch: the charge says how many bytes its quota window allows. */
  fetch?: boolean;
}

export interface AfterRequest {
  user: string;
  clientId: string;
  /** Handling time to count against `request_percentage`, or null. */
  requestMs: number | null;
  /** A Fetch response's size, or null. */
  fetchBytes: number | null;
  /**
   * The response is replaced by an empty one when throttled (Kafka's throttled Fetch): its
   * bytes are then taken back, as Kafka's unrecordQuotaSensor. `alreadyThrottledMs` is the
   * throttle it had before (the request quota's): above 0 the bytes are taken back too.
   */
  dropIfThrottled?: { alreadyThrottledMs: number };
}

/** Request time is recorded in percent-seconds: 1 ms of handling is 0.1 % of one second. */
const PERCENT_PER_MS = 0.1;

export class ClientQuotaManager implements QuotaAccounting {
  private table: ClientQuotas;
  private readonly sensors = new Map<QuotaType, Map<string, SampledRate>>();
  /** Which quota types any entity sets: nothing is measured for the others. */
  private readonly enabled = new Set<QuotaType>();
  /** The longest throttle: the whole sampled span. */
  readonly maxThrottleMs: number;

  constructor(
    private readonly store: ClientQuotaStore,
    private readonly rate: RateConfig,
    private readonly metrics?: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    this.table = new ClientQuotas(store.load());
    this.maxThrottleMs = rate.samples * rate.windowMs;
    this.refreshEnabled();
  }

  /** Whether any quota is set (the request path skips all accounting otherwise). */
  get active(): boolean {
    return this.enabled.size > 0;
  }

  /** Re-reads the table from the store (another worker or broker changed it). */
  async reload(): Promise<void> {
    await this.store.refresh?.();
    this.table = new ClientQuotas(this.store.load());
    this.refreshEnabled();
  }

  describe(components: QuotaFilterComponent[], strict: boolean): QuotaEntry[] {
    return this.table.describe(components, strict);
  }

  /**
   * Validates every alteration and applies the valid ones at once (unless `validateOnly`), in
   * one durable write. Kafka validates each entity on its own: one bad entry fails alone.
   */
  async alter(alterations: QuotaAlteration[], validateOnly: boolean): Promise<AlterationResult[]> {
    const results = alterations.map((a): AlterationResult => {
      try {
        validateEntity(a.entity);
        const keys = new Set<string>();
        for (const op of a.ops) {
          validateOp(a.entity, op);
          if (keys.has(op.key)) {
            throw new QuotaError(
              ErrorCode.INVALID_REQUEST,
              `Duplicate quota key ${op.key} not updating quota.`,
            );
          }
          keys.add(op.key);
        }
        return null;
      } catch (e) {
        if (e instanceof QuotaError) return e;
        throw e;
      }
    });
    if (validateOnly || results.every((r) => r !== null)) return results;
    // Applied to the table as saved now: another broker may have changed it meanwhile.
    const saved = await this.store.update((current) => {
      const next = new ClientQuotas(current);
      alterations.forEach((a, i) => {
        if (results[i] === null) next.apply(a.entity, a.ops);
      });
      return next.all();
    });
    this.table = new ClientQuotas(saved);
    this.refreshEnabled();
    return results;
  }

  /**
   * Records `value` against the quota of `type` for this user and client id and returns the
   * throttle time it earns (Kafka's maybeRecordAndGetThrottleTimeMs); 0 with no quota.
   */
  recordAndGetThrottleTimeMs(type: QuotaType, user: string, clientId: string, value: number) {
    if (!this.enabled.has(type)) return 0;
    const q = this.table.resolve(type, user, clientId);
    if (!q) return 0;
    const now = this.now();
    const rate = this.sensor(type, q.sensor);
    rate.record(value, now);
    return this.throttle(rate, q.bound, now);
  }

  beforeRequest(a: BeforeRequest): QuotaCharge {
    let charge: QuotaCharge = {
      throttleMs: this.throttleTimeMs("request_percentage", a.user, a.clientId),
      type: "request_percentage",
    };
    if (a.produceBytes > 0) {
      const t = this.recordAndGetThrottleTimeMs(
        "producer_byte_rate",
        a.user,
        a.clientId,
        a.produceBytes,
      );
      if (t > charge.throttleMs) charge = { throttleMs: t, type: "producer_byte_rate" };
    }
    if (a.fetch) {
      const bytes = this.maxValueInQuotaWindow("consumer_byte_rate", a.user, a.clientId);
      if (bytes !== null) charge.fetchWindowBytes = bytes;
    }
    return charge;
  }

  /**
   * The most a quota lets a client use in the windows a rate is measured over (Kafka's
   * getMaxValueInQuotaWindow: the bound × (samples − 1) × window); null without a quota.
   */
  maxValueInQuotaWindow(type: QuotaType, user: string, clientId: string): number | null {
    if (!this.enabled.has(type)) return null;
    const q = this.table.resolve(type, user, clientId);
    if (!q) return null;
    return q.bound * (this.rate.samples - 1) * (this.rate.windowMs / 1000);
  }

  afterRequest(a: AfterRequest): QuotaCharge {
    if (a.requestMs !== null) this.recordRequestTime(a.user, a.clientId, a.requestMs);
    const t = a.fetchBytes === null
      ? 0
      : this.recordAndGetThrottleTimeMs("consumer_byte_rate", a.user, a.clientId, a.fetchBytes);
    const drop = a.dropIfThrottled;
    if (a.fetchBytes !== null && drop && Math.max(t, drop.alreadyThrottledMs) > 0) {
      this.unrecord("consumer_byte_rate", a.user, a.clientId, a.fetchBytes);
    }
    return { throttleMs: t, type: "consumer_byte_rate" };
  }

  /** Takes back a value just recorded for a response that is not sent. */
  private unrecord(type: QuotaType, user: string, clientId: string, value: number): void {
    if (!this.enabled.has(type)) return;
    const q = this.table.resolve(type, user, clientId);
    if (q) this.sensor(type, q.sensor).unrecord(value, this.now());
  }

  /** The throttle time a client has earned so far (nothing recorded). */
  throttleTimeMs(type: QuotaType, user: string, clientId: string): number {
    if (!this.enabled.has(type)) return 0;
    const q = this.table.resolve(type, user, clientId);
    if (!q) return 0;
    const rate = this.sensors.get(type)?.get(q.sensor);
    return rate ? this.throttle(rate, q.bound, this.now()) : 0;
  }

  /** Records a request's handling time (ms) against the request quota. */
  recordRequestTime(user: string, clientId: string, ms: number): void {
    if (!this.enabled.has("request_percentage")) return;
    const q = this.table.resolve("request_percentage", user, clientId);
    if (!q) return;
    this.sensor("request_percentage", q.sensor).record(ms * PERCENT_PER_MS, this.now());
  }

  private throttle(rate: SampledRate, bound: number, now: number): number {
    return Math.min(throttleTimeMs(rate, bound, now), this.maxThrottleMs);
  }

  /** Counts a throttle given in a response (for /metrics). */
  throttled(type: QuotaType, ms: number): void {
    if (ms > 0) this.metrics?.throttled(type, ms);
  }

  private sensor(type: QuotaType, key: string): SampledRate {
    let byKey = this.sensors.get(type);
    if (!byKey) this.sensors.set(type, byKey = new Map());
    let rate = byKey.get(key);
    if (!rate) {
      // Sensors of clients gone quiet are dropped as new ones come, so the map stays bounded
      // by the clients active within one sampled span.
      const now = this.now();
      for (const [k, r] of byKey) if (r.idle(now)) byKey.delete(k);
      byKey.set(key, rate = new SampledRate(this.rate));
    }
    return rate;
  }

  private refreshEnabled(): void {
    this.enabled.clear();
    for (const t of ["producer_byte_rate", "consumer_byte_rate", "request_percentage"] as const) {
      if (this.table.has(t)) this.enabled.add(t);
    }
  }
}
