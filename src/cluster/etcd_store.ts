/**
 * The metadata store on a real etcd (3.4+), spoken through its v3 JSON gateway with `fetch`.
 * Every key lives under `etcd.prefix`, so several clusters (or test runs) can share one etcd.
 * The gateway carries keys and values as base64 and int64 fields (revisions, lease ids) as
 * JSON strings; fields at their zero value are omitted (a failed txn has no `succeeded`, a put
 * event no `type`).
 */
import {
  casPutByTxn,
  type CasResult,
  type Compare,
  type KeepAliveHandle,
  type KeyValue,
  type Lease,
  type LeaseId,
  LeaseLost,
  type MetadataStore,
  MetadataStoreError,
  prefixEnd,
  type RangeResult,
  toBytes,
  type TxnOp,
  type TxnOpResult,
  type TxnRequest,
  type TxnResponse,
  type Value,
  type WatchCallbacks,
  WatchCompacted,
  type WatchEvent,
  type WatchHandle,
} from "./metadata_store.ts";
import { b64, EtcdHttp, EtcdServerError, type EtcdStream, unb64 } from "./etcd_http.ts";
import { ErrorCode } from "../../protocol/errors.ts";

export interface EtcdStoreOptions {
  /** `etcd.endpoints`: client URLs, tried in turn. */
  endpoints: string[];
  /** `etcd.prefix`: the namespace every key of this store lives under. */
  prefix?: string;
  /** Bound on each call; past it the call fails with MetadataStoreUnavailable. */
  requestTimeoutMs?: number;
}

const GRPC_NOT_FOUND = 5;

const COMPARE_TARGET = {
  version: "VERSION",
  createRevision: "CREATE",
  modRevision: "MOD",
  value: "VALUE",
  lease: "LEASE",
} as const;

const COMPARE_RESULT = {
  equal: "EQUAL",
  notEqual: "NOT_EQUAL",
  greater: "GREATER",
  less: "LESS",
} as const;

export class EtcdMetadataStore implements MetadataStore {
  private readonly http: EtcdHttp;
  private readonly prefix: Uint8Array;
  private readonly timeoutMs: number;
  private readonly stops = new Set<() => Promise<void>>();
  private closed = false;

  constructor(opts: EtcdStoreOptions) {
    this.timeoutMs = opts.requestTimeoutMs ?? 5000;
    this.http = new EtcdHttp({ endpoints: opts.endpoints, requestTimeoutMs: this.timeoutMs });
    this.prefix = new TextEncoder().encode(opts.prefix ?? "");
  }

  private fullKey(key: string): Uint8Array {
    const k = new TextEncoder().encode(key);
    const out = new Uint8Array(this.prefix.length + k.length);
    out.set(this.prefix);
    out.set(k, this.prefix.length);
    return out;
  }

  /** The gateway's key/range_end pair covering every key starting with `prefix`. */
  private rangeOf(prefix: string): { key: string; range_end: string } {
    const full = this.fullKey(prefix);
    // An empty key is not a valid range start; "\0" up to "\0" is the whole key space.
    const start = full.length === 0 ? new Uint8Array([0]) : full;
    return { key: b64(start), range_end: b64(prefixEnd(full)) };
  }

  private toKv(raw: any): KeyValue {
    const key = unb64(raw.key);
    return {
      key: new TextDecoder().decode(key.subarray(this.prefix.length)),
      value: unb64(raw.value),
      createRevision: Number(raw.create_revision ?? 0),
      modRevision: Number(raw.mod_revision ?? 0),
      version: Number(raw.version ?? 0),
      lease: String(raw.lease ?? "0"),
    };
  }

  private async call(path: string, body: unknown, idempotent: boolean, lease?: LeaseId) {
    if (this.closed) throw new MetadataStoreError(ErrorCode.UNKNOWN_SERVER_ERROR, "store closed");
    try {
      return await this.http.call(path, body, { idempotent });
    } catch (err) {
      if (
        lease && err instanceof EtcdServerError && err.grpcCode === GRPC_NOT_FOUND &&
        /lease not found/.test(err.etcdMessage)
      ) {
        throw new LeaseLost(lease, `lease ${lease} not found`);
      }
      throw err;
    }
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const r = await this.call("/v3/kv/range", { key: b64(this.fullKey(key)) }, true);
    return r.kvs?.[0] ? this.toKv(r.kvs[0]) : undefined;
  }

  async range(prefix: string): Promise<RangeResult> {
    const r = await this.call("/v3/kv/range", this.rangeOf(prefix), true);
    return {
      kvs: (r.kvs ?? []).map((kv: any) => this.toKv(kv)),
      revision: Number(r.header.revision),
    };
  }

  async put(key: string, value: Value, opts: { lease?: LeaseId } = {}) {
    const body = { key: b64(this.fullKey(key)), value: b64(toBytes(value)), lease: opts.lease };
    const r = await this.call("/v3/kv/put", body, false, opts.lease);
    return { revision: Number(r.header.revision) };
  }

  async delete(key: string) {
    const r = await this.call("/v3/kv/deleterange", { key: b64(this.fullKey(key)) }, false);
    return { deleted: Number(r.deleted ?? 0), revision: Number(r.header.revision) };
  }

  private compareOf(c: Compare): unknown {
    const out: Record<string, unknown> = {
      key: b64(this.fullKey(c.key)),
      target: COMPARE_TARGET[c.target],
      result: COMPARE_RESULT[c.result],
    };
    switch (c.target) {
      case "version":
        out.version = String(c.version);
        break;
      case "createRevision":
        out.create_revision = String(c.createRevision);
        break;
      case "modRevision":
        out.mod_revision = String(c.modRevision);
        break;
      case "value":
        out.value = b64(toBytes(c.value));
        break;
      case "lease":
        out.lease = c.lease;
        break;
    }
    return out;
  }

  private opOf(op: TxnOp): unknown {
    if ("put" in op) {
      return {
        request_put: {
          key: b64(this.fullKey(op.put.key)),
          value: b64(toBytes(op.put.value)),
          lease: op.put.lease,
        },
      };
    }
    if ("delete" in op) {
      const key = op.delete.prefix
        ? this.rangeOf(op.delete.key)
        : { key: b64(this.fullKey(op.delete.key)) };
      return { request_delete_range: key };
    }
    const key = op.get.prefix ? this.rangeOf(op.get.key) : { key: b64(this.fullKey(op.get.key)) };
    return { request_range: key };
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    const body = {
      compare: req.compare.map((c) => this.compareOf(c)),
      success: req.success.map((op) => this.opOf(op)),
      failure: (req.failure ?? []).map((op) => this.opOf(op)),
    };
    const lease = [...req.success, ...(req.failure ?? [])]
      .map((op) => "put" in op ? op.put.lease : undefined).find((l) => l && l !== "0");
    const r = await this.call("/v3/kv/txn", body, false, lease);
    const responses: TxnOpResult[] = (r.responses ?? []).map((x: any) => {
      if (x.response_range) {
        return { kvs: (x.response_range.kvs ?? []).map((kv: any) => this.toKv(kv)) };
      }
      if (x.response_delete_range) return { deleted: Number(x.response_delete_range.deleted ?? 0) };
      return {};
    });
    return { succeeded: r.succeeded === true, revision: Number(r.header.revision), responses };
  }

  createIfAbsent(key: string, value: Value, opts: { lease?: LeaseId } = {}): Promise<CasResult> {
    return this.casPut(key, value, 0, opts);
  }

  casPut(
    key: string,
    value: Value,
    expectedModRevision: number,
    opts: { lease?: LeaseId } = {},
  ): Promise<CasResult> {
    return casPutByTxn(this, key, value, expectedModRevision, opts);
  }

  /** etcd leases are in whole seconds; the TTL granted is what etcd answers. */
  async grantLease(ttlMs: number): Promise<Lease> {
    const r = await this.call("/v3/lease/grant", { TTL: String(Math.ceil(ttlMs / 1000)) }, false);
    if (r.error) throw new MetadataStoreError(ErrorCode.UNKNOWN_SERVER_ERROR, `etcd: ${r.error}`);
    return { id: String(r.ID), ttlMs: Number(r.TTL) * 1000 };
  }

  async revokeLease(id: LeaseId): Promise<void> {
    try {
      await this.call("/v3/lease/revoke", { ID: id }, true);
    } catch (err) {
      if (err instanceof EtcdServerError && err.grpcCode === GRPC_NOT_FOUND) return;
      throw err;
    }
  }

  /**
   * Renews through the gateway's keepalive stream, one renewal per short-lived stream: a
   * renewal answered with TTL 0 means etcd no longer has the lease; renewals failing for a
   * whole TTL mean it has expired there (or will before we could tell).
   */
  keepAlive(
    lease: Lease,
    onLost: (err: LeaseLost) => void,
    opts: { intervalMs?: number } = {},
  ): KeepAliveHandle {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastRenewed = Date.now();
    const interval = Math.max(
      100,
      Math.min(opts.intervalMs ?? Infinity, Math.floor(lease.ttlMs / 3)),
    );
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      this.stops.delete(stopAsync);
    };
    const stopAsync = () => (stop(), Promise.resolve());
    const lost = (why: string) => {
      if (stopped) return;
      stop();
      onLost(new LeaseLost(lease.id, `lease ${lease.id} lost: ${why}`));
    };
    const tick = async () => {
      if (stopped) return;
      try {
        // An attempt may not outlast the lease: past its TTL the lease is lost either way.
        const left = lastRenewed + lease.ttlMs - Date.now();
        const r = await this.renew(lease.id, Math.max(100, Math.min(this.timeoutMs, left)));
        if (stopped) return;
        if (Number(r.TTL ?? 0) <= 0) return lost("expired or revoked");
        lastRenewed = Date.now();
      } catch (err) {
        if (stopped) return;
        if (Date.now() - lastRenewed >= lease.ttlMs) {
          return lost(`not renewed within its ${lease.ttlMs} ms TTL: ${(err as Error).message}`);
        }
      }
      timer = setTimeout(tick, interval);
      Deno.unrefTimer(timer!);
    };
    this.stops.add(stopAsync);
    timer = setTimeout(tick, interval);
    Deno.unrefTimer(timer!);
    return { stop };
  }

  private async renew(id: LeaseId, timeoutMs: number): Promise<any> {
    const stream = await this.http.stream("/v3/lease/keepalive", { ID: id }, undefined, timeoutMs);
    const timer = setTimeout(() => stream.close(), timeoutMs);
    try {
      const first = await stream.messages.next();
      if (first.done) throw new Error("keepalive stream ended without an answer");
      if (first.value.error) throw new Error(`keepalive: ${first.value.error.message}`);
      return first.value.result ?? {};
    } finally {
      clearTimeout(timer);
      stream.close();
    }
  }

  /**
   * One watch stream at a time; when it breaks (etcd restarted, connection cut) a new one
   * starts at the revision after the last delivered, so nothing is lost or repeated.
   */
  watch(prefix: string, fromRevision: number, callbacks: WatchCallbacks): WatchHandle {
    let next = fromRevision;
    let cancelled = false;
    let current: EtcdStream | undefined;
    const abort = new AbortController();
    const range = this.rangeOf(prefix);
    const loop = async () => {
      let backoff = 50;
      while (!cancelled) {
        let stalled: ReturnType<typeof setTimeout> | undefined;
        try {
          current = await this.http.stream("/v3/watch", {
            create_request: { ...range, start_revision: next > 0 ? String(next) : undefined },
          }, abort.signal);
          if (cancelled) break;
          // etcd's gateway may accept a watch it cannot yet serve (just restarted, its gRPC
          // side not ready): without the "created" answer in time, the stream is retried.
          const stream = current;
          stalled = setTimeout(() => stream.close(), this.timeoutMs);
          for await (const msg of current.messages) {
            clearTimeout(stalled);
            if (cancelled) break;
            const r = msg.result;
            if (!r) break;
            if (Number(r.compact_revision ?? 0) > 0) {
              cancelled = true;
              callbacks.onError?.(new WatchCompacted(Number(r.compact_revision)));
              return;
            }
            if (r.canceled) break;
            if (r.created && next === 0) next = Number(r.header.revision) + 1;
            backoff = 50;
            const events: WatchEvent[] = (r.events ?? [])
              .map((e: any) => ({
                type: e.type === "DELETE" ? "delete" : "put",
                kv: this.toKv(e.kv),
              }))
              .filter((e: WatchEvent) => e.kv.modRevision >= next);
            if (events.length === 0) continue;
            next = events[events.length - 1].kv.modRevision + 1;
            callbacks.onEvents(events);
          }
        } catch {
          // A dropped or refused stream: retried below from `next`.
        } finally {
          clearTimeout(stalled);
          current?.close();
          current = undefined;
        }
        if (cancelled) break;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 1000);
      }
    };
    const done = loop();
    const cancel = async () => {
      cancelled = true;
      abort.abort();
      current?.close();
      this.stops.delete(cancel);
      await done;
    };
    this.stops.add(cancel);
    return {
      get lastRevision() {
        return next - 1;
      },
      cancel,
    };
  }

  async compact(revision: number): Promise<void> {
    await this.call("/v3/kv/compaction", { revision: String(revision), physical: true }, false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.stops].map((stop) => stop()));
    this.closed = true;
    this.http.close();
  }
}
