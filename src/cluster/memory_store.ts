/**
 * The in-memory twin of the etcd metadata store: the same revisions, transactions, leases and
 * watches, so an in-process cluster (several brokers in one process) and deterministic unit
 * tests run without an etcd. A `MemoryMetadataBackend` plays the etcd server; each broker
 * opens its own `MemoryMetadataStore` client on it. Lease expiry runs on an injectable clock
 * (a `ManualClock` makes it step-by-step), and the backend can be made unreachable or have its
 * streams cut, to exercise the same failure paths as a real etcd.
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
  MetadataStoreUnavailable,
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
import { ErrorCode } from "../../protocol/errors.ts";

/** Time and timers, injectable so lease expiry can be driven by a test. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
}

/** Wall-clock time; timers are unref'd so a forgotten lease never keeps a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const id = setTimeout(fn, Math.max(0, ms)) as unknown as number;
    Deno.unrefTimer(id);
    return id;
  },
  clearTimeout: (id) => clearTimeout(id),
};

/** A clock that moves only when told to, firing due timers in time order. */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers = new Map<number, { due: number; fn: () => void }>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { due: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(id: number): void {
    this.timers.delete(id);
  }

  /** Moves time forward by `ms`, running each timer at its due time and letting the promise
   * work it starts settle before the next one fires. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      let nextId = -1;
      let next: { due: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.due <= target && (!next || t.due < next.due)) [nextId, next] = [id, t];
      }
      if (!next) break;
      this.timers.delete(nextId);
      this.time = next.due;
      next.fn();
      await settle();
    }
    this.time = target;
    await settle();
  }
}

/** Lets queued microtasks and zero-delay timers run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

interface LeaseState {
  ttlMs: number;
  deadline: number;
  keys: Set<string>;
  timer: number;
}

/** A watch stream's server side: receives events of its prefix from `nextRevision` on. */
interface Subscription {
  prefix: string;
  deliver(events: WatchEvent[]): void;
  /** The stream broke (cut or store unreachable): the client resumes on its own. */
  dropped(): void;
}

/** The shared state one or more `MemoryMetadataStore` clients talk to, as etcd's server. */
export class MemoryMetadataBackend {
  readonly clock: Clock;
  private revision = 1;
  private compactRevision = 0;
  private kvs = new Map<string, KeyValue>();
  /** Every write since the last compaction, by revision, for watches starting in the past. */
  private history: { revision: number; events: WatchEvent[] }[] = [];
  private leases = new Map<LeaseId, LeaseState>();
  private nextLease = 1;
  private subscriptions = new Set<Subscription>();
  private reachableWaiters: (() => void)[] = [];
  private isReachable = true;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  get reachable(): boolean {
    return this.isReachable;
  }

  /** Simulates etcd going away (false) and coming back (true): clients' calls fail with
   * MetadataStoreUnavailable, their watch streams drop, keepalives cannot renew. */
  setReachable(reachable: boolean): void {
    this.isReachable = reachable;
    if (!reachable) this.cutStreams();
    else for (const w of this.reachableWaiters.splice(0)) w();
  }

  /** Breaks every open watch stream, as a network blip would; clients resubscribe. */
  cutStreams(): void {
    const subs = [...this.subscriptions];
    this.subscriptions.clear();
    for (const s of subs) s.dropped();
  }

  /** Resolves when the backend is reachable. */
  whenReachable(): Promise<void> {
    if (this.isReachable) return Promise.resolve();
    return new Promise((resolve) => this.reachableWaiters.push(resolve));
  }

  currentRevision(): number {
    return this.revision;
  }

  range(key: string, prefix: boolean): KeyValue[] {
    if (!prefix) {
      const kv = this.kvs.get(key);
      return kv ? [kv] : [];
    }
    return [...this.kvs.values()].filter((kv) => kv.key.startsWith(key))
      .sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  }

  /** Runs a transaction atomically: all its writes share one new revision. */
  txn(req: TxnRequest): TxnResponse {
    const succeeded = req.compare.every((c) => this.holds(c));
    const ops = succeeded ? req.success : (req.failure ?? []);
    for (const op of ops) {
      if ("put" in op && op.put.lease && op.put.lease !== "0" && !this.leases.has(op.put.lease)) {
        throw new LeaseLost(op.put.lease, `lease ${op.put.lease} not found`);
      }
    }
    const writes = ops.some((op) => !("get" in op));
    const rev = writes ? this.revision + 1 : this.revision;
    const events: WatchEvent[] = [];
    const responses: TxnOpResult[] = ops.map((op) => this.apply(op, rev, events));
    if (events.length > 0) this.commit(rev, events);
    return { succeeded, revision: this.revision, responses };
  }

  private holds(c: Compare): boolean {
    const kv = this.kvs.get(c.key);
    let cmp: number;
    switch (c.target) {
      case "value": {
        if (!kv) return false;
        cmp = compareBytes(kv.value, toBytes(c.value));
        break;
      }
      case "version":
        cmp = (kv?.version ?? 0) - c.version;
        break;
      case "createRevision":
        cmp = (kv?.createRevision ?? 0) - c.createRevision;
        break;
      case "modRevision":
        cmp = (kv?.modRevision ?? 0) - c.modRevision;
        break;
      case "lease": {
        const a = BigInt(kv?.lease ?? "0"), b = BigInt(c.lease);
        cmp = a < b ? -1 : a > b ? 1 : 0;
        break;
      }
    }
    switch (c.result) {
      case "equal":
        return cmp === 0;
      case "notEqual":
        return cmp !== 0;
      case "greater":
        return cmp > 0;
      case "less":
        return cmp < 0;
    }
  }

  private apply(op: TxnOp, rev: number, events: WatchEvent[]): TxnOpResult {
    if ("get" in op) return { kvs: this.range(op.get.key, op.get.prefix ?? false) };
    if ("delete" in op) {
      const victims = this.range(op.delete.key, op.delete.prefix ?? false);
      for (const kv of victims) this.remove(kv, rev, events);
      return { deleted: victims.length };
    }
    const { key, value, lease = "0" } = op.put;
    const old = this.kvs.get(key);
    if (old && old.lease !== "0") this.leases.get(old.lease)?.keys.delete(key);
    const kv: KeyValue = {
      key,
      value: toBytes(value).slice(),
      createRevision: old?.createRevision ?? rev,
      modRevision: rev,
      version: (old?.version ?? 0) + 1,
      lease,
    };
    this.kvs.set(key, kv);
    if (lease !== "0") this.leases.get(lease)!.keys.add(key);
    events.push({ type: "put", kv });
    return {};
  }

  private remove(kv: KeyValue, rev: number, events: WatchEvent[]): void {
    this.kvs.delete(kv.key);
    if (kv.lease !== "0") this.leases.get(kv.lease)?.keys.delete(kv.key);
    events.push({
      type: "delete",
      kv: {
        key: kv.key,
        value: new Uint8Array(),
        createRevision: 0,
        modRevision: rev,
        version: 0,
        lease: "0",
      },
    });
  }

  private commit(rev: number, events: WatchEvent[]): void {
    this.revision = rev;
    this.history.push({ revision: rev, events });
    for (const s of this.subscriptions) s.deliver(events);
  }

  /** Opens a watch stream from `fromRevision`, replaying history first; throws
   * WatchCompacted when that history is gone. */
  subscribe(sub: Subscription, fromRevision: number): void {
    if (fromRevision > 0 && fromRevision < this.compactRevision) {
      throw new WatchCompacted(this.compactRevision);
    }
    for (const h of this.history) {
      if (h.revision >= fromRevision) sub.deliver(h.events);
    }
    this.subscriptions.add(sub);
  }

  unsubscribe(sub: Subscription): void {
    this.subscriptions.delete(sub);
  }

  compact(revision: number): void {
    if (revision <= this.compactRevision) {
      throw new MetadataStoreError(
        ErrorCode.INVALID_REQUEST,
        `revision ${revision} has already been compacted`,
      );
    }
    if (revision > this.revision) {
      throw new MetadataStoreError(
        ErrorCode.INVALID_REQUEST,
        `revision ${revision} is a future revision`,
      );
    }
    this.compactRevision = revision;
    this.history = this.history.filter((h) => h.revision >= revision);
  }

  grantLease(ttlMs: number): Lease {
    const id = String(this.nextLease++);
    const state: LeaseState = {
      ttlMs,
      deadline: this.clock.now() + ttlMs,
      keys: new Set(),
      timer: 0,
    };
    this.leases.set(id, state);
    this.scheduleExpiry(id, state);
    return { id, ttlMs };
  }

  private scheduleExpiry(id: LeaseId, state: LeaseState): void {
    state.timer = this.clock.setTimeout(() => {
      if (this.leases.get(id) !== state) return;
      if (this.clock.now() >= state.deadline) this.revokeLease(id);
      else this.scheduleExpiry(id, state);
    }, state.deadline - this.clock.now());
  }

  /** Renews a lease for another TTL; false when it no longer exists. */
  renewLease(id: LeaseId): boolean {
    const state = this.leases.get(id);
    if (!state) return false;
    state.deadline = this.clock.now() + state.ttlMs;
    return true;
  }

  /** Deletes the lease and, at one revision, every key attached to it. */
  revokeLease(id: LeaseId): void {
    const state = this.leases.get(id);
    if (!state) return;
    this.leases.delete(id);
    this.clock.clearTimeout(state.timer);
    if (state.keys.size === 0) return;
    const rev = this.revision + 1;
    const events: WatchEvent[] = [];
    for (const key of [...state.keys].sort()) {
      const kv = this.kvs.get(key);
      if (kv) this.remove(kv, rev, events);
    }
    this.commit(rev, events);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** One client of a `MemoryMetadataBackend`, namespaced by `prefix` like the etcd store. */
export class MemoryMetadataStore implements MetadataStore {
  private readonly prefix: string;
  private closed = false;
  private stops = new Set<() => void>();
  private partitioned = false;
  private healWaiters: (() => void)[] = [];
  private subs = new Set<Subscription>();

  constructor(readonly backend: MemoryMetadataBackend, opts: { prefix?: string } = {}) {
    this.prefix = opts.prefix ?? "";
  }

  /** Simulates this client alone losing its connection to the store (true) and getting it
   * back (false), as one broker partitioned from etcd while the others are not. */
  setPartitioned(partitioned: boolean): void {
    this.partitioned = partitioned;
    if (partitioned) this.cutStreams();
    else for (const w of this.healWaiters.splice(0)) w();
  }

  /** Breaks this client's watch streams, as a dropped connection would; they resume. */
  cutStreams(): void {
    for (const s of [...this.subs]) {
      this.backend.unsubscribe(s);
      s.dropped();
    }
  }

  private reachable(): boolean {
    return this.backend.reachable && !this.partitioned;
  }

  private async whenReachable(): Promise<void> {
    while (!this.reachable()) {
      await Promise.race([
        this.backend.whenReachable(),
        new Promise<void>((resolve) => this.healWaiters.push(resolve)),
      ]);
    }
  }

  /** Every call goes through here: a closed client or an unreachable backend refuses. */
  private async call<T>(fn: () => T): Promise<T> {
    await Promise.resolve();
    if (this.closed) throw new MetadataStoreError(ErrorCode.UNKNOWN_SERVER_ERROR, "store closed");
    if (!this.reachable()) {
      throw new MetadataStoreUnavailable("in-memory metadata store is unreachable");
    }
    return fn();
  }

  private strip(kv: KeyValue): KeyValue {
    return { ...kv, key: kv.key.slice(this.prefix.length) };
  }

  private scoped(op: TxnOp): TxnOp {
    if ("put" in op) return { put: { ...op.put, key: this.prefix + op.put.key } };
    if ("delete" in op) return { delete: { ...op.delete, key: this.prefix + op.delete.key } };
    return { get: { ...op.get, key: this.prefix + op.get.key } };
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.call(() => {
      const kv = this.backend.range(this.prefix + key, false)[0];
      return kv && this.strip(kv);
    });
  }

  range(prefix: string): Promise<RangeResult> {
    return this.call(() => ({
      kvs: this.backend.range(this.prefix + prefix, true).map((kv) => this.strip(kv)),
      revision: this.backend.currentRevision(),
    }));
  }

  async put(key: string, value: Value, opts: { lease?: LeaseId } = {}) {
    const r = await this.txn({
      compare: [],
      success: [{ put: { key, value, lease: opts.lease } }],
    });
    return { revision: r.revision };
  }

  async delete(key: string) {
    const r = await this.txn({ compare: [], success: [{ delete: { key } }] });
    return { deleted: r.responses[0].deleted ?? 0, revision: r.revision };
  }

  txn(req: TxnRequest): Promise<TxnResponse> {
    return this.call(() => {
      const r = this.backend.txn({
        compare: req.compare.map((c) => ({ ...c, key: this.prefix + c.key })),
        success: req.success.map((op) => this.scoped(op)),
        failure: req.failure?.map((op) => this.scoped(op)),
      });
      return {
        ...r,
        responses: r.responses.map((x) => x.kvs ? { kvs: x.kvs.map((kv) => this.strip(kv)) } : x),
      };
    });
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

  grantLease(ttlMs: number): Promise<Lease> {
    return this.call(() => this.backend.grantLease(ttlMs));
  }

  revokeLease(id: LeaseId): Promise<void> {
    return this.call(() => this.backend.revokeLease(id));
  }

  keepAlive(
    lease: Lease,
    onLost: (err: LeaseLost) => void,
    opts: { intervalMs?: number } = {},
  ): KeepAliveHandle {
    const clock = this.backend.clock;
    const every = Math.max(1, Math.min(opts.intervalMs ?? Infinity, Math.floor(lease.ttlMs / 3)));
    let lastRenewed = clock.now();
    let timer = 0;
    let stopped = false;
    const stop = () => {
      stopped = true;
      clock.clearTimeout(timer);
      this.stops.delete(stop);
    };
    const lost = (why: string) => {
      stop();
      onLost(new LeaseLost(lease.id, `lease ${lease.id} lost: ${why}`));
    };
    const tick = () => {
      if (stopped) return;
      if (this.reachable()) {
        if (!this.backend.renewLease(lease.id)) return lost("expired or revoked");
        lastRenewed = clock.now();
      } else if (clock.now() - lastRenewed >= lease.ttlMs) {
        return lost(`not renewed within its ${lease.ttlMs} ms TTL`);
      }
      timer = clock.setTimeout(tick, every);
    };
    this.stops.add(stop);
    timer = clock.setTimeout(tick, every);
    return { stop };
  }

  watch(prefix: string, fromRevision: number, callbacks: WatchCallbacks): WatchHandle {
    const full = this.prefix + prefix;
    let next = fromRevision;
    let cancelled = false;
    let sub: Subscription | undefined;
    const strip = (kv: KeyValue) => this.strip(kv);
    const backend = this.backend;
    const open = () => {
      if (cancelled) return;
      if (!this.reachable()) {
        this.whenReachable().then(open);
        return;
      }
      if (next === 0) next = backend.currentRevision() + 1;
      const s: Subscription = {
        prefix: full,
        // Delivery is asynchronous like a network stream, and keeps revision order.
        // The revision moves on only when delivered, so a drop loses nothing.
        deliver(events) {
          queueMicrotask(() => {
            const rev = events[0].kv.modRevision;
            if (cancelled || sub !== s || rev < next) return;
            next = rev + 1;
            const mine = events.filter((e) => e.kv.key.startsWith(full));
            if (mine.length > 0) {
              callbacks.onEvents(mine.map((e) => ({ type: e.type, kv: strip(e.kv) })));
            }
          });
        },
        dropped: () => {
          this.subs.delete(s);
          if (sub === s) sub = undefined;
          setTimeout(open, 0);
        },
      };
      sub = s;
      this.subs.add(s);
      try {
        backend.subscribe(s, next);
      } catch (err) {
        sub = undefined;
        this.subs.delete(s);
        cancelled = true;
        this.stops.delete(stop);
        queueMicrotask(() => callbacks.onError?.(err as MetadataStoreError));
      }
    };
    const stop = () => {
      cancelled = true;
      if (sub) {
        backend.unsubscribe(sub);
        this.subs.delete(sub);
      }
      sub = undefined;
      this.stops.delete(stop);
    };
    this.stops.add(stop);
    open();
    return {
      get lastRevision() {
        return next - 1;
      },
      cancel: () => {
        stop();
        return Promise.resolve();
      },
    };
  }

  compact(revision: number): Promise<void> {
    return this.call(() => this.backend.compact(revision));
  }

  close(): Promise<void> {
    for (const stop of [...this.stops]) stop();
    this.closed = true;
    return Promise.resolve();
  }
}
