/**
 * Request handling, Kafka's KafkaApis and RequestChannel: a request frame is decoded, checked
 * against the registry's version ranges, routed (to the controller worker, or whole to the
 * worker owning every partition it names), dispatched to its handler and the response
 * encoded. Socket framing is src/connection.ts; this file never touches a socket.
 */
import {
  API_VERSIONS_KEY,
  readHeaderTaggedFields,
  readRequestHeaderV1,
  writeResponseHeader,
} from "../protocol/headers.ts";
import type { RequestHeader } from "../protocol/headers.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { Reader, Writer } from "../protocol/primitives.ts";
import { codecFor, isFlexible } from "../protocol/schema.ts";
import { ApiVersionsResponse, type FetchRequest } from "../protocol/messages/mod.ts";
import { bufferPool } from "./buffer_pool.ts";
import { CloseConnection } from "./close_connection.ts";
import type { BrokerConfig } from "./config.ts";
import {
  type FetchContext,
  fetchSessionsOf,
  type FetchSessionView,
  isFollower,
  sessionErrorResponse,
  type SessionFetchRequest,
  throttledFetchResponse,
} from "./fetch_session.ts";
import { faultResponse } from "./fault_response.ts";
import { type FaultInjector, namedPartitions, type RequestFault } from "./faults.ts";
import { errText, log } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { responseErrorCodes } from "./response_error_codes.ts";
import { isFreshRead, markFreshRead, releaseFreshRead } from "./partition_ops.ts";
import type { HandlerRegistry } from "./registry.ts";
import type { Session } from "./security/session.ts";
import { applyClientQuotas, type FetchQuotaGate } from "./quota/request_throttle.ts";
import type { ClientQuotaManager, QuotaAccounting } from "./quota/client_quota_manager.ts";
import type { BrokerServices } from "./services.ts";
import { CONTROLLER_WORKER } from "./workers/ownership.ts";
import { Transfer } from "./workers/peer_link.ts";
import type { DecodedRequest, ForwardedAnswer, RequestBody } from "./workers/peer_methods.ts";
import type { WorkerCluster } from "./workers/worker_cluster.ts";

/** Where a request came from: the client's address, its connection, its session. */
interface Requester {
  clientHost: string;
  connectionId: number;
  session: Readonly<Session>;
}

/** What request handling needs of the broker. */
export interface KafkaApisHost {
  readonly registry: HandlerRegistry;
  readonly metrics: Metrics;
  readonly services: BrokerServices;
  readonly config: BrokerConfig;
  readonly cluster?: WorkerCluster;
  /** Injected faults (src/faults.ts); `active` is false unless one is set. */
  readonly faults: FaultInjector;
  /** Client quotas; `active` is false unless one is set. */
  readonly clientQuotas?: ClientQuotaManager;
  /** Where the quota rates are kept: the manager itself, or worker 0's with workers. */
  readonly quotaAccounting?: QuotaAccounting;
}

/** A request's encoded response (null: none is owed) and how long to mute the connection. */
export interface HandledRequest {
  response: Uint8Array[] | null;
  throttleMs: number;
}

export class KafkaApis {
  constructor(private readonly host: KafkaApisHost) {}

  /**
   * Decodes, dispatches and encodes one request frame (without its size prefix); null means
   * no response is owed. `forward`: the frame came from a client here, and may be sent on to
   * another worker. Throws CloseConnection for frames that must close the connection.
   */
  handle(
    frame: Uint8Array,
    session: Readonly<Session>,
    clientHost: string,
    connectionId: number,
    forward: boolean,
    fetchSession?: FetchSessionView,
  ): Promise<Uint8Array[] | null> {
    return handleRequestFrame(
      this.host,
      frame,
      { clientHost, connectionId, session },
      forward,
      fetchSession,
    );
  }

  /**
   * Handles a client's request frame under its client quotas (src/quota/): the response
   * carries the throttle time the request earned, and the connection is to be muted for it.
   * Quotas count the session's principal.
   */
  async handleClient(
    frame: Uint8Array,
    clientHost: string,
    connectionId: number,
    session: Readonly<Session>,
  ): Promise<HandledRequest> {
    const from = { clientHost, connectionId, session };
    const quotas = this.host.clientQuotas;
    if (!quotas?.active) {
      return { response: await handleRequestFrame(this.host, frame, from, true), throttleMs: 0 };
    }
    return applyClientQuotas(
      quotas,
      this.host.quotaAccounting ?? quotas,
      frame,
      session.principal,
      (throttleTimeMs, fetchGate) =>
        handleRequestFrame(
          this.host,
          frame,
          from,
          true,
          undefined,
          undefined,
          throttleTimeMs,
          fetchGate,
        ),
    );
  }

  /** Whether a frame of `apiKey` may be reused once handled (nothing decoded keeps a view). */
  frameReusable(apiKey: number): boolean {
    return this.host.registry.frameReusable(apiKey) || forwardsToController(this.host, apiKey);
  }

  /** Answers the requests other workers forward to this one. */
  serve(cluster: WorkerCluster): void {
    cluster.serve(
      "request",
      async (a) => {
        let chunks: Uint8Array[] | null;
        try {
          chunks = await handleRequestFrame(
            this.host,
            a.frame,
            { clientHost: a.clientHost, connectionId: a.connectionId, session: a.session },
            false,
            a.fetchSession,
            a.decoded,
            a.throttleTimeMs,
          );
        } catch (e) {
          if (e instanceof CloseConnection) return { close: e.message, closeLevel: e.level };
          throw e;
        }
        // Requests that keep no view of their bytes give the copy back to the sender's pool.
        const apiKey = a.decoded?.header.apiKey ?? ((a.frame[0] << 8) | a.frame[1]);
        const reusable = this.host.registry.frameReusable(apiKey);
        const returned = reusable ? { returned: a.frame } : {};
        const back: ArrayBuffer[] = reusable ? [a.frame.buffer as ArrayBuffer] : [];
        // A fetch session's answer goes back to the worker keeping the session.
        const session = a.fetchSession ? { fetchSession: a.fetchSession.result } : {};
        if (!chunks) return new Transfer({ response: null, ...returned, ...session }, back);
        // Fetched segment bytes change hands; the rest (headers, cold-tier cache views) is
        // copied, byte for byte of each view.
        const response: Uint8Array[] = [];
        const transfer = new Set<ArrayBuffer>();
        /** Which chunks are fresh reads: the receiver may pool them once written. */
        const fresh: number[] = [];
        for (const c of chunks) {
          if (isFreshRead(c.buffer)) {
            fresh.push(response.length);
            response.push(c);
            transfer.add(c.buffer as ArrayBuffer);
          } else response.push(c.slice());
        }
        return new Transfer({ response, fresh, ...returned, ...session }, [
          ...transfer,
          ...back,
        ]);
      },
    );
  }
}

/**
 * Decodes, dispatches and encodes one request frame (without its size prefix); null means no
 * response is owed. On a worker other than the controller, requests other than the
 * partition-data and metadata APIs are forwarded whole to the controller (`forward`), which
 * runs this same function. Throws CloseConnection for frames that must close the connection.
 */
async function handleRequestFrame(
  host: KafkaApisHost,
  frame: Uint8Array,
  from: Requester,
  forward: boolean,
  /** A fetch session's snapshot, sent along with a request another worker forwarded. */
  fetchSession?: FetchSessionView,
  /** The request as the forwarding worker decoded it (it is not decoded again). */
  decoded?: DecodedRequest,
  /** The throttle time client quotas gave the request, put in its response. */
  throttleTimeMs = 0,
  /** A Fetch's client quotas, where its connection is (src/quota/request_throttle.ts). */
  fetchGate?: FetchQuotaGate,
): Promise<Uint8Array[] | null> {
  const r = new Reader(frame);
  let header: RequestHeader;
  try {
    header = decoded?.header ?? readRequestHeaderV1(r);
  } catch (e) {
    throw new CloseConnection(`malformed request header: ${errText(e)}`);
  }
  const reg = host.registry.get(header.apiKey);
  if (!reg || header.apiVersion < reg.minVersion || header.apiVersion > reg.maxVersion) {
    if (header.apiKey === API_VERSIONS_KEY) {
      // KIP-511: answer an unknown ApiVersions version with v0 so the client can retry.
      // Counted under one version past the newest, whatever the client sent: metric keys
      // stay bounded by what the broker serves, not by what clients may invent.
      const counted = (reg?.maxVersion ?? 0) + 1;
      host.metrics.request(header.apiKey, counted, ErrorCode.UNSUPPORTED_VERSION);
      return encodeResponse(header.correlationId, false, ApiVersionsResponse, 0, {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        apiKeys: host.registry.apiVersions(),
        throttleTimeMs: 0,
      });
    }
    throw new CloseConnection(
      reg
        ? `unsupported version ${header.apiVersion} of ${reg.name} (supported ${reg.minVersion}-${reg.maxVersion})`
        : `unknown api key ${header.apiKey} (version ${header.apiVersion})`,
    );
  }
  const cluster = host.cluster;
  if (forward && forwardsToController(host, header.apiKey)) {
    return forwardRequest(
      host,
      CONTROLLER_WORKER,
      frame,
      from,
      undefined,
      undefined,
      throttleTimeMs,
    );
  }
  const flexible = isFlexible(reg.request, header.apiVersion);
  let body: RequestBody;
  if (decoded) body = decoded.body;
  else {
    try {
      if (flexible) readHeaderTaggedFields(r, header);
      const codec = codecFor(reg.request, header.apiVersion);
      body = codec.decode(r);
    } catch (e) {
      throw new CloseConnection(
        `malformed ${reg.name} v${header.apiVersion} request: ${errText(e)}`,
      );
    }
  }
  if (!decoded && r.remaining !== 0) {
    // Kafka parses a request's fields and ignores what follows them: librdkafka 2.3+ sends
    // its all-topics Metadata v9+ with a 4-byte zero placeholder for the topic array (a
    // compact null and 3 bytes more), so refusing trailing bytes would lock it out.
    log.debug(
      `connection ${from.connectionId}: ${reg.name} v${header.apiVersion} request has ` +
        `${r.remaining} trailing bytes, ignored`,
    );
  }
  // Once per client request: where it is first decoded (a request forwarded decoded was
  // already offered to the faults by the worker holding the connection).
  if (host.faults.active && !decoded) {
    const fault = await host.faults.take(
      header.apiKey,
      () =>
        namedPartitions(
          body as Record<string, unknown>,
          (id) => host.services.metadataCache.topicById(id)?.name,
        ),
    );
    if (fault && fault.errorCode !== 0) return faultAnswer(host, header, flexible, body, fault);
  }
  // Fetch sessions are kept by the worker holding the connection: a session's request is
  // expanded to all its partitions before routing, and its answer recorded once read.
  const session = forward && header.apiKey === FETCH_KEY
    ? fetchSessionsOf(host).newContext(body as FetchRequest, header.apiVersion)
    : fetchSession === undefined
    ? undefined
    : { kind: "forwarded" as const };
  if (session?.kind === "full" || session?.kind === "incremental") body = session.request;
  else if (session?.kind === "forwarded") {
    (body as SessionFetchRequest).fetchSession = fetchSession;
  }
  // A consumer's Fetch under consumer_byte_rate / request_percentage, as Kafka's KafkaApis:
  // already throttled, it is answered at once without data; else it may read no more than
  // its quota window allows, and its answer is charged before it is sent (finishFetch).
  const gate = fetchGate && header.apiKey === FETCH_KEY &&
      !isFollower(body as FetchRequest, header.apiVersion)
    ? fetchGate
    : undefined;
  if (gate && gate.throttleMs > 0) {
    host.metrics.request(header.apiKey, header.apiVersion, 0);
    return throttledFetch(host, header, flexible, session, gate.throttleMs);
  }
  if (gate && gate.windowBytes !== null) {
    const req = body as FetchRequest;
    req.maxBytes = Math.min(req.maxBytes, Math.floor(gate.windowBytes));
    req.minBytes = Math.min(req.minBytes, req.maxBytes);
  }
  if (
    forward && cluster && session?.kind !== "error" &&
    reg.placement === "partitionOwner"
  ) {
    // All its partitions on one other worker: that worker takes the whole request, which
    // saves a message per partition and, for a long poll, the wake-up and re-read hops.
    const owner = soleOwner(host, header.apiKey, header.apiVersion, body);
    if (owner !== null && owner !== cluster.index) {
      if (session?.kind !== "full" && session?.kind !== "incremental") {
        const chunks = await forwardRequest(host, owner, frame, from, undefined, {
          header,
          body,
        }, throttleTimeMs);
        return gate ? finishFetch(host, header, flexible, session, gate, chunks) : chunks;
      }
      return forwardSessionFetch(host, owner, header, body, session, from, throttleTimeMs, gate);
    }
  }
  const started = performance.now();
  let response;
  try {
    response = session?.kind === "error"
      ? sessionErrorResponse(session.errorCode)
      : await reg.handler(body, {
        services: host.services,
        header,
        apiVersion: header.apiVersion,
        clientHost: from.clientHost,
        connectionId: from.connectionId,
        session: from.session,
      });
    if (!gate && (session?.kind === "full" || session?.kind === "incremental")) {
      response = session.complete(session.view.result) ?? response;
    }
  } catch (e) {
    const ms = performance.now() - started;
    const codes = e instanceof CloseConnection && e.errorCodes
      ? e.errorCodes
      : ErrorCode.UNKNOWN_SERVER_ERROR;
    host.metrics.request(header.apiKey, header.apiVersion, codes, ms);
    throw e;
  }
  host.metrics.request(
    header.apiKey,
    header.apiVersion,
    response ? responseErrorCodes(reg.response, response) : 0,
    performance.now() - started,
  );
  if (!response) return null;
  if (throttleTimeMs > 0 && hasThrottleTime(reg.response)) {
    const r = response as { throttleTimeMs?: number };
    r.throttleTimeMs = Math.max(r.throttleTimeMs ?? 0, throttleTimeMs);
  }
  const headerV1 = flexible && header.apiKey !== API_VERSIONS_KEY;
  const chunks = encodeResponse(
    header.correlationId,
    headerV1,
    reg.response,
    header.apiVersion,
    response,
  );
  return gate ? finishFetch(host, header, flexible, session, gate, chunks) : chunks;
}

/** The answer to a Fetch that client quotas throttle: no partitions (Kafka's). */
function throttledFetch(
  host: KafkaApisHost,
  header: RequestHeader,
  flexible: boolean,
  session: FetchContext | { kind: "forwarded" } | undefined,
  throttleMs: number,
): Uint8Array[] {
  const reg = host.registry.get(FETCH_KEY)!;
  const context = session?.kind === "forwarded" ? undefined : session;
  return encodeResponse(
    header.correlationId,
    flexible,
    reg.response,
    header.apiVersion,
    throttledFetchResponse(context, throttleMs),
  );
}

/**
 * A Fetch's answer, read: charged to its client's `consumer_byte_rate` (with a gate), replaced
 * by the throttled answer when that throttles it (its session then keeps nothing of what was
 * read), else recorded in its session.
 */
async function finishFetch(
  host: KafkaApisHost,
  header: RequestHeader,
  flexible: boolean,
  session: FetchContext | { kind: "forwarded" } | undefined,
  gate: FetchQuotaGate | undefined,
  chunks: Uint8Array[] | null,
): Promise<Uint8Array[] | null> {
  if (gate && chunks) {
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    const t = await gate.charge(bytes);
    if (t > 0) {
      for (const c of chunks) releaseFreshRead(c.buffer);
      return throttledFetch(host, header, flexible, session, t);
    }
  }
  if (session?.kind !== "full" && session?.kind !== "incremental") return chunks;
  const error = session.complete(session.view.result);
  if (!error) return chunks;
  for (const c of chunks ?? []) releaseFreshRead(c.buffer);
  const reg = host.registry.get(FETCH_KEY)!;
  return encodeResponse(header.correlationId, flexible, reg.response, header.apiVersion, error);
}

/** Whether a response schema has Kafka's top-level `throttle_time_ms`. */
function hasThrottleTime(schema: { fields: { name: string }[] }): boolean {
  return schema.fields.some((f) => f.name === "throttleTimeMs");
}

/** The answer of a request an injected fault fails (it is not handled). */
function faultAnswer(
  host: KafkaApisHost,
  header: RequestHeader,
  flexible: boolean,
  body: RequestBody,
  fault: RequestFault,
): Uint8Array[] | null {
  const reg = host.registry.get(header.apiKey)!;
  host.metrics.request(header.apiKey, header.apiVersion, fault.errorCode);
  // An acks=0 Produce is owed no response: the records are silently lost, as on a broker
  // that failed them.
  if (header.apiKey === PRODUCE_KEY && (body as { acks: number }).acks === 0) return null;
  const response = faultResponse(
    reg.request,
    reg.response,
    header.apiVersion,
    body as Record<string, unknown>,
    fault.errorCode,
    `injected fault ${fault.id} (${fault.error})`,
  );
  if (!response) {
    throw new CloseConnection(
      `injected fault ${fault.id}: ${reg.name} v${header.apiVersion} has no error field ` +
        `for this request, closing the connection instead`,
      { level: "info", errorCodes: [fault.errorCode] },
    );
  }
  const headerV1 = flexible && header.apiKey !== API_VERSIONS_KEY;
  return encodeResponse(header.correlationId, headerV1, reg.response, header.apiVersion, response);
}

function encodeResponse(
  correlationId: number,
  headerV1: boolean,
  schema: typeof ApiVersionsResponse,
  version: number,
  body: Record<string, unknown>,
): Uint8Array[] {
  const w = new Writer(512);
  w.int32(0);
  writeResponseHeader(w, correlationId, headerV1);
  codecFor(schema, version).encode(w, body);
  w.patchInt32AtStart(w.length - 4);
  return w.toChunks();
}

/** Re-points the byte fields of `body` that view `from` at the same bytes of `to`. */
function rebase(body: RequestBody, from: Uint8Array, to: Uint8Array): RequestBody {
  const start = from.byteOffset;
  const end = start + from.length;
  const walk = (v: unknown): unknown => {
    if (v instanceof Uint8Array) {
      if (v.buffer !== from.buffer || v.byteOffset < start || v.byteOffset + v.length > end) {
        return v;
      }
      return new Uint8Array(to.buffer, to.byteOffset + v.byteOffset - start, v.length);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(body) as RequestBody;
}

/** Whether this worker sends requests of `apiKey` whole (a copy) to the controller. */
function forwardsToController(host: KafkaApisHost, apiKey: number): boolean {
  const c = host.cluster;
  return c !== undefined && !c.isController && host.registry.placement(apiKey) === "coordinator";
}

const PRODUCE_KEY = 0;
const FETCH_KEY = 1;

/**
 * The worker owning every partition a Produce or Fetch request names, or null when they are
 * spread over several workers (or the request names none, or a topic this worker does not
 * know: the handler here answers those).
 */
function soleOwner(
  host: KafkaApisHost,
  apiKey: number,
  apiVersion: number,
  body: RequestBody,
): number | null {
  const cluster = host.cluster!;
  const layout = host.registry.partitionLayout(apiKey, apiVersion);
  if (!layout) return null;
  const catalogue = host.services.metadataCache;
  let owner: number | null = null;
  // The layout names the fields (derived from the schema), so they are walked by name.
  type Fields = Record<string, unknown>;
  for (const t of (body as Fields)[layout.topics] as Fields[]) {
    const name = layout.topicName !== undefined
      ? t[layout.topicName] as string
      : catalogue.topicById(t[layout.topicId!] as string)?.name;
    if (name === undefined || !catalogue.topic(name)) return null;
    for (const p of t[layout.partitions] as Fields[]) {
      const o = cluster.ownerOf(name, p[layout.index] as number);
      if (owner === null) owner = o;
      else if (o !== owner) return null;
    }
  }
  return owner;
}

/** Sends a whole request frame to worker `peer` and returns its encoded response. */
async function forwardRequest(
  host: KafkaApisHost,
  peer: number,
  frame: Uint8Array,
  from: Requester,
  fetchSession?: FetchSessionView,
  decoded?: DecodedRequest,
  throttleTimeMs = 0,
): Promise<Uint8Array[] | null> {
  const copy = bufferPool.take(frame.length);
  copy.set(frame);
  // The decoded body goes along, its byte fields re-pointed into the copy handed over.
  const sent = decoded && { header: decoded.header, body: rebase(decoded.body, frame, copy) };
  let answer: ForwardedAnswer;
  try {
    answer = await host.cluster!.call(
      peer,
      "request",
      {
        frame: copy,
        clientHost: from.clientHost,
        connectionId: from.connectionId,
        session: { ...from.session },
        fetchSession,
        decoded: sent,
        throttleTimeMs,
      },
      [copy.buffer as ArrayBuffer],
    );
  } catch (e) {
    throw new CloseConnection(`forwarding to worker ${peer} failed: ${errText(e)}`);
  }
  if (answer.returned) bufferPool.give(answer.returned.buffer);
  for (const i of answer.fresh ?? []) markFreshRead(answer.response![i].buffer);
  if (answer.close !== undefined) {
    throw new CloseConnection(answer.close, { level: answer.closeLevel });
  }
  if (fetchSession) fetchSession.result = answer.fetchSession;
  return answer.response ?? null;
}

/**
 * Forwards a fetch session's expanded request (re-encoded, sessionless on the wire) with the
 * session's snapshot to worker `peer`, then records the answer in the session.
 */
async function forwardSessionFetch(
  host: KafkaApisHost,
  peer: number,
  header: RequestHeader,
  body: RequestBody,
  session: Extract<FetchContext, { kind: "full" | "incremental" }>,
  from: Requester,
  throttleTimeMs: number,
  gate?: FetchQuotaGate,
): Promise<Uint8Array[] | null> {
  const reg = host.registry.get(FETCH_KEY)!;
  const flexible = isFlexible(reg.request, header.apiVersion);
  // The expanded request goes as decoded (a Fetch request holds no bytes to carry along).
  const chunks = await forwardRequest(
    host,
    peer,
    new Uint8Array(0),
    from,
    session.view,
    { header, body },
    throttleTimeMs,
  );
  return finishFetch(host, header, flexible, session, gate, chunks);
}
