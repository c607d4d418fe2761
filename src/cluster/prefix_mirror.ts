/**
 * A local copy of every key under one prefix of the metadata store, kept current by a watch,
 * with compare-and-swap updates: what the cluster-wide security state (SCRAM credentials,
 * ACLs, client quotas) is read from and written through. Reads are synchronous (a SASL
 * handshake or an ACL check never waits on etcd); writes are etcd transactions that hold only
 * if every key they change is still at the revision the change was computed from, so any
 * broker may write without a coordinator, as ZooKeeper-era Kafka wrote /config and /kafka-acl
 * with versioned updates (AclAuthorizer's updateResourceAcls), retrying after a conflict.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { errText, log } from "../log.ts";
import type {
  Compare,
  KeyValue,
  MetadataStore,
  TxnOp,
  WatchEvent,
  WatchHandle,
} from "./metadata_store.ts";

/** How a mirror turns its values into stored bytes and back. */
export interface MirrorCodec<V> {
  encode(value: V): string;
  /** undefined for a value that does not parse: it is skipped with a warning. */
  decode(kv: KeyValue): V | undefined;
}

interface Entry<V> {
  value: V;
  modRevision: number;
}

/** Conflicting writers retry this often before the change fails (clients then retry it). */
const MAX_ATTEMPTS = 25;

/**
 * Keys per transaction: etcd refuses more than `--max-txn-ops` (128 by default) operations in
 * one. A larger change is written in several transactions, each all or nothing (as ZooKeeper-
 * era Kafka wrote each resource's ACLs on its own); after a conflict in a later one, the
 * change is recomputed from the state the earlier ones left.
 */
const MAX_TXN_KEYS = 100;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class PrefixMirror<V> {
  private entries = new Map<string, Entry<V>>();
  /** The store revision this copy reflects. */
  private revision = 0;
  private watchHandle?: WatchHandle;
  private closed = false;
  private readonly listeners: (() => void)[] = [];
  private readonly malformed = new Set<string>();

  constructor(
    private readonly store: MetadataStore,
    readonly prefix: string,
    private readonly codec: MirrorCodec<V>,
  ) {}

  /** Reads the prefix and follows it from there on. */
  async start(): Promise<void> {
    const rev = await this.refresh();
    this.follow(rev);
  }

  private follow(fromRevision: number): void {
    if (this.closed) return;
    this.watchHandle = this.store.watch(this.prefix, fromRevision + 1, {
      onEvents: (events) => this.apply(events),
      onError: (e) => {
        if (this.closed) return;
        log.warn(`metadata watch of ${this.prefix} ended: ${errText(e)}; reloading`);
        void this.rewatch();
      },
    });
  }

  private async rewatch(): Promise<void> {
    for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 5000)) {
      try {
        const rev = await this.refresh();
        this.notify();
        this.follow(rev);
        return;
      } catch (e) {
        log.warn(`metadata reload of ${this.prefix} failed: ${errText(e)}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Called after a change another writer made arrived through the watch. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private notify(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (e) {
        log.error(`applying ${this.prefix} changes failed: ${errText(e)}`);
      }
    }
  }

  private apply(events: WatchEvent[]): void {
    let changed = false;
    // Events of a revision a range read already covered are skipped (one transaction's
    // events share their revision, and a batch holds whole revisions).
    const seen = this.revision;
    for (const ev of events) {
      if (ev.kv.modRevision <= seen) continue;
      this.revision = Math.max(this.revision, ev.kv.modRevision);
      const key = ev.kv.key.slice(this.prefix.length);
      changed = true;
      if (ev.type === "delete") this.entries.delete(key);
      else this.put(key, ev.kv);
    }
    if (changed) this.notify();
  }

  private put(key: string, kv: KeyValue): void {
    const value = this.codec.decode(kv);
    if (value === undefined) {
      // Once per version of the key, not on every re-read.
      const seen = `${kv.key}@${kv.modRevision}`;
      if (!this.malformed.has(seen)) {
        this.malformed.add(seen);
        log.warn(`metadata key ${kv.key}: malformed value skipped`);
      }
      this.entries.delete(key);
    } else this.entries.set(key, { value, modRevision: kv.modRevision });
  }

  /**
   * Re-reads the whole prefix (newer than what the watch delivered so far): how a change is
   * seen at once, by the writer and by the other workers told of it. Returns the revision.
   */
  async refresh(): Promise<number> {
    const r = await this.store.range(this.prefix);
    if (r.revision >= this.revision) {
      this.entries = new Map();
      for (const kv of r.kvs) this.put(kv.key.slice(this.prefix.length), kv);
      this.revision = r.revision;
    }
    return r.revision;
  }

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Every key (relative to the prefix) and value, in key order. */
  values(): Map<string, V> {
    return new Map(
      [...this.entries].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
        .map(([k, e]) => [k, e.value]),
    );
  }

  /**
   * Computes a change from the current values and writes it in one transaction that holds
   * only if none of the keys it touches changed meanwhile; on a conflict, re-reads and
   * computes it again. Resolves once the change is durable and reflected here.
   */
  async update<R>(
    change: (current: Map<string, V>) => { set: Map<string, V | null>; result: R },
  ): Promise<R> {
    for (let attempt = 1;; attempt++) {
      const base = new Map(this.entries);
      const { set, result } = change(this.values());
      if (set.size === 0) return result;
      let succeeded = true;
      for (const keys of chunks([...set.keys()], MAX_TXN_KEYS)) {
        const compare: Compare[] = [];
        const success: TxnOp[] = [];
        for (const k of keys) {
          const key = this.prefix + k;
          const v = set.get(k)!;
          compare.push({
            key,
            target: "modRevision",
            result: "equal",
            modRevision: base.get(k)?.modRevision ?? 0,
          });
          success.push(
            v === null ? { delete: { key } } : { put: { key, value: this.codec.encode(v) } },
          );
        }
        if (!(await this.store.txn({ compare, success })).succeeded) {
          succeeded = false;
          break;
        }
      }
      await this.refresh();
      if (succeeded) return result;
      if (attempt >= MAX_ATTEMPTS) {
        throw new KafkaError(
          ErrorCode.REQUEST_TIMED_OUT,
          `${this.prefix}: concurrent changes kept conflicting; try again`,
        );
      }
    }
  }

  /** Stops following. */
  async close(): Promise<void> {
    this.closed = true;
    await this.watchHandle?.cancel().catch(() => {});
  }
}
