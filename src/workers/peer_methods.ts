/**
 * Every method one worker may call on another, with its argument and result types: the one
 * table `WorkerCluster.call` and `serve` are checked against, so a misspelt method or a
 * wrong argument fails the type check instead of a worker at run time. Arguments and results
 * are structured-cloned between threads (buffers named in a Transfer are handed over).
 */
import type { AfterRequest, BeforeRequest, QuotaCharge } from "../quota/client_quota_manager.ts";
import type { RequestHeader } from "../../protocol/headers.ts";
import type { MetricsSnapshot } from "../metrics.ts";
import type { FetchSessionView } from "../fetch_session.ts";
import type { NamedPartition, RequestFault } from "../faults.ts";
import type {
  AppendOutcome,
  PartitionOpArgs,
  PartitionOpName,
  PartitionOpResult,
} from "../partition_ops.ts";
import type { Session } from "../security/session.ts";
import type { WatchedPartition } from "../services.ts";
import type { FetchReadsWire, FetchResultsWire } from "./fetch_run_wire.ts";
import type { RemoteLogManager } from "../../storage/remote_log_manager.ts";

/** One partition operation for the partition's owner. */
export type PartitionOpCall = {
  [K in PartitionOpName]: { topic: string; partition: number; name: K; args: PartitionOpArgs<K> };
}[PartitionOpName];

/** A partition operation's answer; `returned`: the sender's transferred copy, to pool again. */
export interface PartitionOpReply {
  result: PartitionOpResult<PartitionOpName>;
  returned?: Uint8Array;
}

/**
 * A decoded request of any API, as the generic plumbing routes it: only its handler knows
 * (and types) its fields.
 */
export type RequestBody = object;

/** A request already decoded by the worker that forwards it. */
export interface DecodedRequest {
  header: RequestHeader;
  body: RequestBody;
}

/** A request frame forwarded whole to another worker. */
export interface ForwardedRequest {
  frame: Uint8Array;
  /** The connection's session, as of the request (the handler there sees the same principal). */
  session: Readonly<Session>;
  clientHost: string;
  connectionId: number;
  /** The fetch session's snapshot, kept by the worker holding the connection. */
  fetchSession?: FetchSessionView;
  /** The request as the sender decoded it; its byte fields view `frame`. */
  decoded?: DecodedRequest;
  /** The throttle time the sender's client quotas gave the request (for its response). */
  throttleTimeMs?: number;
}

/** The forwarded request's encoded response, or why the connection must close. */
export interface ForwardedAnswer {
  response?: Uint8Array[] | null;
  /** Indexes of the response chunks that are fresh segment reads (poolable once written). */
  fresh?: number[];
  close?: string;
  closeLevel?: "warn" | "info";
  /** The sender's frame copy, when nothing decoded from it is kept. */
  returned?: Uint8Array;
  fetchSession?: FetchSessionView["result"];
}

/** A transactional batch for the controller to verify and append. */
export interface TxnAppendCall {
  transactionalId: string;
  topic: string;
  partition: number;
  records: Uint8Array;
  apiVersion: number;
}

/** One worker's counters, as sent to the worker serving the admin API. */
export interface WorkerStats {
  metrics: MetricsSnapshot;
  remote: RemoteLogManager["stats"];
}

export interface PeerMethods {
  /** Runs a partition operation on the partition's owner. */
  op: { args: PartitionOpCall; result: PartitionOpReply };
  /** Reads a Fetch's partitions owned by the callee, in order, under the response's budget. */
  fetchRun: {
    args: { reads: FetchReadsWire; maxBytes: number; committed: boolean; remoteWaitMs: number };
    result: FetchResultsWire;
  };
  /** Resolves on the first append to one of `parts` here, after `ms`, or on unwatch. */
  watch: { args: { key: string; parts: WatchedPartition[]; ms: number }; result: void };
  unwatch: { args: { key: string }; result: void };
  /** Re-read topics.json. */
  syncCatalogue: { args: null; result: void };
  /** Re-read the dynamic broker configs. */
  syncBrokerConfigs: { args: null; result: void };
  /** Re-read the ACLs. */
  syncAcls: { args: null; result: void };
  /** Re-read the client quota table (src/quota/quota_store.ts). */
  syncClientQuotas: { args: null; result: void };
  /** Re-read the cluster's SCRAM credentials (src/security/metadata_security_store.ts). */
  syncScramCredentials: { args: null; result: void };
  /** Controller only: a request's client quota charge before it is handled. */
  quotaBefore: { args: BeforeRequest; result: QuotaCharge };
  /** Controller only: a request's client quota charge once handled. */
  quotaAfter: { args: AfterRequest; result: QuotaCharge };
  /** Close a deleted topic's partitions. */
  dropTopic: { args: { name: string }; result: void };
  stats: { args: null; result: WorkerStats };
  /** Handle a forwarded request frame. */
  request: { args: ForwardedRequest; result: ForwardedAnswer };
  /** Controller only: auto-create a topic; true if it exists afterwards. */
  createTopic: { args: { name: string }; result: boolean };
  /** Controller only: the injected fault a request takes, if any (src/faults.ts). */
  faultTake: { args: { apiKey: number; named: NamedPartition[] }; result: RequestFault | null };
  /** Controller only: whether any fault is set (asked by a worker as it starts). */
  faultsSet: { args: null; result: boolean };
  /** Controller only: whether a connection just accepted is to be dropped. */
  faultDropAccepted: { args: null; result: boolean };
  /** From the controller: whether any fault is set. */
  faultsActive: { args: { active: boolean }; result: void };
  /** From the controller: drop every client connection; how many. */
  faultDropConnections: { args: null; result: number };
  /** The owner's acks=all wait (src/replication/workers_replication.ts): its error code. */
  replAwait: {
    args: { topic: string; partition: number; requiredOffset: number; timeoutMs: number };
    result: number;
  };
  /** Controller only: the incarnation this broker is registered under, or null. */
  registration: { args: null; result: string | null };
  /** From the controller: the incarnation this broker is registered under now, or null. */
  syncRegistration: { args: { incarnation: string | null }; result: void };
  /** Controller only: verify and append a transactional batch. */
  txnAppend: { args: TxnAppendCall; result: { result: AppendOutcome; returned: Uint8Array } };
}

export type PeerMethodName = keyof PeerMethods;
export type PeerArgs<M extends PeerMethodName> = PeerMethods[M]["args"];
export type PeerResult<M extends PeerMethodName> = PeerMethods[M]["result"];
