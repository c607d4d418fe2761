/**
 * The shared cluster metadata store: what ZooKeeper was to Kafka, expressed in etcd's terms
 * (a revisioned key space, compare-and-swap transactions, leases, watches from a revision).
 * Two implementations share this interface and one conformance suite: the etcd one
 * (etcd_store.ts, over etcd's v3 JSON gateway) and an in-memory twin (memory_store.ts) for
 * in-process clusters and deterministic tests with a manual clock.
 *
 * Keys are strings relative to the store's prefix (`etcd.prefix`); values are bytes, given
 * as bytes or as UTF-8 strings (JSON on top is the caller's business).
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";

/** A lease id; etcd's is an int64, carried as its decimal string. "0" means no lease. */
export type LeaseId = string;

/** A value as given by callers: raw bytes or a UTF-8 string. */
export type Value = Uint8Array | string;

/** One key as stored, with etcd's revision bookkeeping. */
export interface KeyValue {
  key: string;
  value: Uint8Array;
  /** The store revision at which the key was (last) created. */
  createRevision: number;
  /** The store revision of the key's last modification. */
  modRevision: number;
  /** Number of puts since the key was created (1 after creation). */
  version: number;
  /** The lease the key is attached to, "0" for none. */
  lease: LeaseId;
}

/** Decodes a key's value as UTF-8. */
export function valueText(kv: KeyValue): string {
  return new TextDecoder().decode(kv.value);
}

export function toBytes(v: Value): Uint8Array {
  return typeof v === "string" ? new TextEncoder().encode(v) : v;
}

/** How a compare relates the key's current field to the operand (etcd's Compare.result). */
export type CompareResult = "equal" | "notEqual" | "greater" | "less";

/**
 * One condition of a transaction, as etcd's Compare. A missing key has version,
 * createRevision and modRevision 0 and lease "0"; a value compare on a missing key fails.
 */
export type Compare =
  & { key: string; result: CompareResult }
  & (
    | { target: "version"; version: number }
    | { target: "createRevision"; createRevision: number }
    | { target: "modRevision"; modRevision: number }
    | { target: "value"; value: Value }
    | { target: "lease"; lease: LeaseId }
  );

/** One operation of a transaction branch (etcd's RequestOp). */
export type TxnOp =
  | { put: { key: string; value: Value; lease?: LeaseId } }
  | { delete: { key: string; prefix?: boolean } }
  | { get: { key: string; prefix?: boolean } };

/** The result of one TxnOp, in the same position: `kvs` for a get, `deleted` for a delete. */
export interface TxnOpResult {
  kvs?: KeyValue[];
  deleted?: number;
}

export interface TxnRequest {
  compare: Compare[];
  success: TxnOp[];
  failure?: TxnOp[];
}

export interface TxnResponse {
  /** Whether every compare held (the success branch ran) or not (the failure branch ran). */
  succeeded: boolean;
  /** The store revision after the transaction. */
  revision: number;
  responses: TxnOpResult[];
}

export interface RangeResult {
  kvs: KeyValue[];
  /** The store revision the range was read at: watch from revision + 1 to miss nothing. */
  revision: number;
}

/** The outcome of a conditional put: on failure `current` is the key as it stands. */
export interface CasResult {
  succeeded: boolean;
  revision: number;
  current?: KeyValue;
}

export interface Lease {
  id: LeaseId;
  /** The TTL the store granted (etcd rounds up to whole seconds and to its minimum). */
  ttlMs: number;
}

export interface KeepAliveHandle {
  /** Stops renewing (the lease then expires after its TTL unless revoked). */
  stop(): void;
}

export interface WatchEvent {
  type: "put" | "delete";
  /** For a delete: the key and the deletion's modRevision; value empty, version 0. */
  kv: KeyValue;
}

export interface WatchHandle {
  /** The revision of the last event delivered (or the revision the watch started after). */
  readonly lastRevision: number;
  /** Stops the watch; no callback runs after this resolves. */
  cancel(): Promise<void>;
}

export interface WatchCallbacks {
  /** Events of one or more revisions, in revision order, never repeated, never skipped. */
  onEvents(events: WatchEvent[]): void;
  /**
   * A fatal watch error, after which the watch is over: `WatchCompacted` when the revision to
   * resume from was compacted away (re-read with range() and watch again from its revision).
   */
  onError?(err: MetadataStoreError): void;
}

export interface MetadataStore {
  get(key: string): Promise<KeyValue | undefined>;
  /** Every key starting with `prefix`, in key order. */
  range(prefix: string): Promise<RangeResult>;
  /** Puts a key; with a lease the key is deleted when the lease expires or is revoked. */
  put(key: string, value: Value, opts?: { lease?: LeaseId }): Promise<{ revision: number }>;
  delete(key: string): Promise<{ deleted: number; revision: number }>;
  /** An etcd transaction: if every compare holds, the success ops run, otherwise failure. */
  txn(req: TxnRequest): Promise<TxnResponse>;
  /** Puts the key only if it does not exist (createRevision = 0). */
  createIfAbsent(key: string, value: Value, opts?: { lease?: LeaseId }): Promise<CasResult>;
  /**
   * Puts the key only if its modRevision is `expectedModRevision` (0: only if absent), the
   * compare-and-swap for state written by one owner at a time (e.g. partition state).
   */
  casPut(
    key: string,
    value: Value,
    expectedModRevision: number,
    opts?: { lease?: LeaseId },
  ): Promise<CasResult>;
  grantLease(ttlMs: number): Promise<Lease>;
  /**
   * Renews the lease in the background, every `intervalMs` but at least every third of its
   * TTL. `onLost` runs once if the lease is gone (expired or revoked) or could not be
   * renewed within its TTL.
   */
  keepAlive(
    lease: Lease,
    onLost: (err: LeaseLost) => void,
    opts?: { intervalMs?: number },
  ): KeepAliveHandle;
  /** Revokes the lease, deleting its keys. Revoking an unknown lease is not an error. */
  revokeLease(id: LeaseId): Promise<void>;
  /**
   * Watches every key starting with `prefix` from `fromRevision` on (0: from now). Survives
   * dropped streams by resuming after the last delivered revision.
   */
  watch(prefix: string, fromRevision: number, callbacks: WatchCallbacks): WatchHandle;
  /** Discards history before `revision` (watches cannot start below it afterwards). */
  compact(revision: number): Promise<void>;
  /** Stops every watch and keepalive of this client. Leases are left to expire. */
  close(): Promise<void>;
}

/**
 * Base of the store's errors. They carry a Kafka code so a handler refusing a metadata change
 * can answer with it directly.
 */
/**
 * casPut as one transaction: put if the key's modRevision is `expectedModRevision` (0: only
 * if absent), else read it back. Both stores express it through their own txn.
 */
export async function casPutByTxn(
  store: Pick<MetadataStore, "txn">,
  key: string,
  value: Value,
  expectedModRevision: number,
  opts: { lease?: LeaseId } = {},
): Promise<CasResult> {
  const r = await store.txn({
    compare: [{ key, target: "modRevision", result: "equal", modRevision: expectedModRevision }],
    success: [{ put: { key, value, lease: opts.lease } }],
    failure: [{ get: { key } }],
  });
  return { succeeded: r.succeeded, revision: r.revision, current: r.responses[0]?.kvs?.[0] };
}

export class MetadataStoreError extends KafkaError {
  constructor(code: number, message: string) {
    super(code, message);
    this.name = "MetadataStoreError";
  }
}

/**
 * The store could not be reached within the configured time. For a write that may have been
 * sent, its outcome is unknown. Kafka answered admin requests with REQUEST_TIMED_OUT when
 * ZooKeeper was unreachable; clients retry it.
 */
export class MetadataStoreUnavailable extends MetadataStoreError {
  constructor(message: string) {
    super(ErrorCode.REQUEST_TIMED_OUT, message);
    this.name = "MetadataStoreUnavailable";
  }
}

/** The lease expired, was revoked, or could not be renewed before its TTL ran out. */
export class LeaseLost extends MetadataStoreError {
  constructor(readonly leaseId: LeaseId, message: string) {
    super(ErrorCode.UNKNOWN_SERVER_ERROR, message);
    this.name = "LeaseLost";
  }
}

/** A watch asked for history that was compacted away: re-read, then watch from there. */
export class WatchCompacted extends MetadataStoreError {
  constructor(readonly compactRevision: number) {
    super(
      ErrorCode.UNKNOWN_SERVER_ERROR,
      `metadata store history compacted up to revision ${compactRevision}`,
    );
    this.name = "WatchCompacted";
  }
}

/** The exclusive end of the key range covering every key that starts with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  // Only 0xff bytes (or empty): etcd's "\0" range end means "to the end of the key space".
  return new Uint8Array([0]);
}
