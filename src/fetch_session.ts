/**
 * Incremental fetch sessions (KIP-227), as Kafka's FetchSession / FetchSessionCache /
 * FetchManager keep them.
 *
 * A Fetch with session epoch 0 (INITIAL) is a full request: the broker answers every partition
 * and, if the cache has room, remembers them under a new session id with epoch 1. The client
 * then sends incremental requests (that id, the expected epoch): only partitions it adds or
 * changes (fetch offset, max bytes) and those it forgets; the broker fetches every partition of
 * the session and answers only those with something new — records, a changed high watermark,
 * last stable offset or log start offset, or an error (an errored partition is answered until
 * the error goes away: its cached high watermark becomes -1). Epoch -1 (FINAL) with a session
 * id closes that session and fetches sessionless; any full request closes the session it
 * names. Unknown ids get FETCH_SESSION_ID_NOT_FOUND, a wrong epoch INVALID_FETCH_SESSION_EPOCH,
 * and a request whose version disagrees with the session on topic ids (v13+ name topics by
 * id) FETCH_SESSION_TOPIC_ID_ERROR. Partitions of a deleted topic stay in the session and are
 * answered with UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID by id) until the client forgets
 * them, as in Kafka. Partitions that returned records move to the end of the session's order,
 * so a response's byte limits reach the others next time.
 *
 * The cache holds `max.incremental.fetch.session.cache.slots` sessions; a new session may
 * evict one that has been unused for MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS, else the least
 * valuable one (unprivileged before privileged — follower sessions are privileged — then
 * fewer partitions, then lower id) if the new one is worth more and the old one is not
 * recently created (Kafka's tryEvict).
 *
 * With Deno workers each worker keeps the sessions of the connections it serves (its share of
 * the slots; the worker index is encoded in the session id, like Kafka's cache shards). The
 * worker holding the connection expands an incremental request into the session's full
 * partition list before routing it, so the worker that reads (this one, or the sole owner of
 * every partition) needs no session state beyond the snapshot in FetchSessionView; its answer
 * (which partitions it kept, their offsets) comes back to update the session here. A client
 * reconnecting to another worker gets FETCH_SESSION_ID_NOT_FOUND and starts a new session, as
 * after a Kafka broker restart.
 */
import { ErrorCode } from "../protocol/errors.ts";
import type {
  FetchableTopicResponse,
  FetchRequest,
  FetchResponse,
  FetchTopic,
} from "../protocol/messages/mod.ts";
import type { Encodable } from "../protocol/schema.ts";
import type { BrokerConfig } from "./config.ts";

export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;
/** Kafka's fixed minimum age before a session may be evicted by a bigger or privileged one. */
export const MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS = 120_000;
/** Sessions exist from Fetch v7. */
const FIRST_SESSION_VERSION = 7;
/** Fetch v13+ name topics by id. */
const TOPIC_ID_VERSION = 13;
const INT32_MAX = 0x7fffffff;

/** The epoch after `epoch` (FetchMetadata.nextEpoch): FINAL stays, the maximum wraps to 1. */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  if (epoch === INT32_MAX) return 1;
  return epoch + 1;
}

/** One partition of a session: what the client last asked and what it was last told. */
export interface CachedPartition {
  /** Topic name (sessions by name) or "" (by id). */
  topic: string;
  /** Topic id (sessions by id) or "" (by name). */
  topicId: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  /** The fetcher's log start offset (followers), passed on as the client sent it. */
  logStartOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  /** This broker's log start offset, as last answered. */
  localLogStartOffset: number;
}

export class FetchSession {
  /** Partitions in fetch order, by topic (name or id) and partition. */
  readonly partitions = new Map<string, CachedPartition>();
  lastUsedMs: number;
  /** The size this cache last saw (-1: not in the cache); eviction weighs it. */
  cachedSize = -1;
  /** Set at each touch, like Kafka's evictable trees. */
  evictableByAll = false;
  evictableByPrivileged = false;

  constructor(
    readonly id: number,
    readonly privileged: boolean,
    readonly usesTopicIds: boolean,
    readonly creationMs: number,
    public epoch: number,
  ) {
    this.lastUsedMs = creationMs;
  }

  get size(): number {
    return this.partitions.size;
  }
}

/**
 * What the worker reading a session's fetch needs: the session id to answer with and, for an
 * incremental fetch, the offsets last sent for each partition of the (expanded) request, in
 * request order. Plain data: it crosses to another worker with the request. The reader fills
 * `result`.
 */
export interface FetchSessionView {
  sessionId: number;
  incremental: boolean;
  /** Incremental: [highWatermark, lastStableOffset, logStartOffset] per partition. */
  cached?: Float64Array;
  result?: FetchSessionResult;
}

/** Per partition of the request, in order: the offsets answered and what the answer held. */
export interface FetchSessionResult {
  /** [highWatermark, lastStableOffset, logStartOffset] per partition. */
  offsets: Float64Array;
  /** RECORDS | ERROR | INCLUDED per partition. */
  flags: Uint8Array;
}

const RECORDS = 1;
const ERROR = 2;
const INCLUDED = 4;

/** How one Fetch request is served with respect to sessions (Kafka's FetchContext). */
export type FetchContext =
  /** A session error: answered with this code and no partitions. */
  | { kind: "error"; errorCode: number }
  /** No session: the request is served as it is, answered with session id 0. */
  | { kind: "sessionless" }
  /**
   * A full fetch that created a session, or an incremental one: `request` lists every
   * partition to read (with `view` attached); `complete` takes the reader's result and
   * returns an error response body when the session moved on meanwhile.
   */
  | {
    kind: "full" | "incremental";
    request: SessionFetchRequest;
    view: FetchSessionView;
    complete(result: FetchSessionResult | undefined, now?: number): Encodable<FetchResponse> | null;
    /**
     * The answer when client quotas throttle the request instead (Kafka's
     * getThrottledResponse): no partitions, the session not updated with what was read.
     */
    throttled(throttleTimeMs: number): Encodable<FetchResponse>;
  };

/** A Fetch request being served in a session: the session's view travels with it. */
export type SessionFetchRequest = FetchRequest & { fetchSession?: FetchSessionView };

function keyOf(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

function sessionKey(s: { usesTopicIds: boolean }, p: CachedPartition): string {
  return keyOf(s.usesTopicIds ? p.topicId : p.topic, p.partition);
}

/** Whether the request comes from a follower (replica id >= 0): its sessions are privileged. */
export function isFollower(req: FetchRequest, apiVersion: number): boolean {
  const id = apiVersion >= 15 ? req.replicaState?.replicaId : req.replicaId;
  return typeof id === "number" && id >= 0;
}

/** The request's partitions as cached partitions (nothing answered yet), in request order. */
function requestedPartitions(req: FetchRequest, byId: boolean): CachedPartition[] {
  const out: CachedPartition[] = [];
  for (const t of req.topics ?? []) {
    for (const p of t.partitions ?? []) {
      out.push({
        topic: byId ? "" : t.topic,
        topicId: byId ? t.topicId : "",
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        maxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
        lastFetchedEpoch: p.lastFetchedEpoch ?? -1,
        logStartOffset: p.logStartOffset ?? -1,
        highWatermark: -1,
        lastStableOffset: -1,
        localLogStartOffset: -1,
      });
    }
  }
  return out;
}

/** The request again, listing `parts` (consecutive partitions of a topic grouped) instead. */
function expandedRequest(
  req: FetchRequest,
  parts: CachedPartition[],
  byId: boolean,
): FetchRequest {
  const topics: Encodable<FetchTopic>[] = [];
  let last: Encodable<FetchTopic> | undefined;
  let lastKey = "";
  for (const p of parts) {
    const key = byId ? p.topicId : p.topic;
    if (!last || key !== lastKey) {
      last = byId ? { topicId: p.topicId, partitions: [] } : { topic: p.topic, partitions: [] };
      topics.push(last);
      lastKey = key;
    }
    last.partitions!.push({
      partition: p.partition,
      currentLeaderEpoch: p.currentLeaderEpoch,
      fetchOffset: p.fetchOffset,
      lastFetchedEpoch: p.lastFetchedEpoch,
      logStartOffset: p.logStartOffset,
      partitionMaxBytes: p.maxBytes,
    });
  }
  return {
    ...req,
    sessionId: INVALID_SESSION_ID,
    sessionEpoch: FINAL_EPOCH,
    // The fields the Fetch handler reads; the others take their defaults if re-encoded.
    topics: topics as FetchTopic[],
    forgottenTopicsData: [],
  };
}

export interface FetchSessionCacheOptions {
  /** Sessions kept (max.incremental.fetch.session.cache.slots, or this worker's share). */
  maxEntries: number;
  /** Minimum unused time before a session is stale. */
  evictionMs?: number;
  /** The clock (milliseconds). */
  now?: () => number;
  /** Session ids are in [idBase + 1, idBase + idRange - 1] (a worker's range). */
  idBase?: number;
  idRange?: number;
  random?: () => number;
}

/** The sessions of one broker (or one worker), with Kafka's eviction rules. */
export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private numPartitions = 0;
  /** Sessions evicted so far (Kafka's IncrementalFetchSessionEvictionsPerSec meter counts). */
  evictions = 0;
  readonly maxEntries: number;
  private readonly evictionMs: number;
  private readonly now: () => number;
  private readonly idBase: number;
  private readonly idRange: number;
  private readonly random: () => number;

  constructor(opts: FetchSessionCacheOptions) {
    this.maxEntries = Math.max(0, opts.maxEntries);
    this.evictionMs = opts.evictionMs ?? MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS;
    this.now = opts.now ?? Date.now;
    this.idBase = opts.idBase ?? 0;
    this.idRange = opts.idRange ?? INT32_MAX;
    this.random = opts.random ?? Math.random;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Partitions cached over all sessions (Kafka's NumIncrementalFetchPartitionsCached). */
  get totalPartitions(): number {
    return this.numPartitions;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  /** Every session kept. */
  all(): IterableIterator<FetchSession> {
    return this.sessions.values();
  }

  /** A new positive id in this cache's range, not in use. */
  private newSessionId(): number {
    while (true) {
      const id = this.idBase + 1 + Math.floor(this.random() * (this.idRange - 1));
      if (id !== INVALID_SESSION_ID && id > 0 && !this.sessions.has(id)) return id;
    }
  }

  /**
   * Creates a session when there is room or one can be evicted (see tryEvict); returns it,
   * or undefined (the fetch is then answered without a session).
   */
  maybeCreateSession(
    privileged: boolean,
    partitions: CachedPartition[],
    usesTopicIds: boolean,
  ): FetchSession | undefined {
    if (this.maxEntries === 0) return undefined;
    const now = this.now();
    const keys = partitions.map((p) => keyOf(usesTopicIds ? p.topicId : p.topic, p.partition));
    const size = new Set(keys).size;
    if (this.sessions.size >= this.maxEntries && !this.tryEvict(privileged, size, now)) {
      return undefined;
    }
    const s = new FetchSession(
      this.newSessionId(),
      privileged,
      usesTopicIds,
      now,
      nextEpoch(INITIAL_EPOCH),
    );
    for (const p of partitions) {
      const k = sessionKey(s, p);
      if (!s.partitions.has(k)) s.partitions.set(k, { ...p });
    }
    this.sessions.set(s.id, s);
    this.touch(s, now);
    return s;
  }

  /**
   * Evicts one session to make room for a new one of `size` partitions: a stale one (unused
   * for more than evictionMs, least recently used first), else the least valuable evictable
   * one if it is worth less than the new one. Returns whether one was evicted.
   */
  tryEvict(privileged: boolean, size: number, now: number): boolean {
    let lru: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      if (
        !lru || s.lastUsedMs < lru.lastUsedMs || (s.lastUsedMs === lru.lastUsedMs && s.id < lru.id)
      ) lru = s;
    }
    if (!lru) return false;
    if (now - lru.lastUsedMs > this.evictionMs) {
      this.remove(lru.id);
      this.evictions++;
      return true;
    }
    let least: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      if (!(privileged ? s.evictableByPrivileged : s.evictableByAll)) continue;
      if (!least || compareEvictable(s, least) < 0) least = s;
    }
    if (!least) return false;
    // The new entry's key has id 0: it must be strictly more valuable than the evicted one.
    if (compareEvictable({ privileged, cachedSize: size, id: 0 }, least) < 0) return false;
    this.remove(least.id);
    this.evictions++;
    return true;
  }

  remove(id: number): FetchSession | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    this.sessions.delete(id);
    this.numPartitions -= s.cachedSize;
    s.cachedSize = -1;
    return s;
  }

  /** Marks a session used now and re-weighs it for eviction. */
  touch(s: FetchSession, now: number): void {
    s.lastUsedMs = now;
    if (s.cachedSize !== -1) this.numPartitions -= s.cachedSize;
    s.cachedSize = s.size;
    this.numPartitions += s.cachedSize;
    const old = now - s.creationMs > this.evictionMs;
    s.evictableByPrivileged = !s.privileged || old;
    s.evictableByAll = old;
  }

  /**
   * Decides how a decoded Fetch request is served (Kafka's FetchManager.newContext), updating
   * the session it names: closed by a full request, its partitions updated and forgotten ones
   * removed by an incremental one, whose epoch then advances.
   */
  newContext(req: FetchRequest, apiVersion: number): FetchContext {
    if (apiVersion < FIRST_SESSION_VERSION) return { kind: "sessionless" };
    const sessionId = req.sessionId;
    const epoch = req.sessionEpoch;
    const byId = apiVersion >= TOPIC_ID_VERSION;
    if (epoch === INITIAL_EPOCH || epoch === FINAL_EPOCH) {
      if (sessionId !== INVALID_SESSION_ID) this.remove(sessionId);
      if (epoch === FINAL_EPOCH) return { kind: "sessionless" };
      const parts = requestedPartitions(req, byId);
      const s = this.maybeCreateSession(isFollower(req, apiVersion), parts, byId);
      if (!s) return { kind: "sessionless" };
      // The reader answers every partition; their offsets fill the new session.
      const order = parts.map((p) => s.partitions.get(sessionKey(s, p))!);
      const view: FetchSessionView = { sessionId: s.id, incremental: false };
      return {
        kind: "full",
        request: { ...expandedRequest(req, order, byId), fetchSession: view },
        view,
        complete: (result) => {
          if (result && this.sessions.get(s.id) === s) applyResult(s, order, result, false);
          return null;
        },
        // Kafka creates a full fetch's session only with a real answer: a throttled one
        // creates none, and the client's next fetch is full again.
        throttled: (throttleTimeMs) => {
          if (this.sessions.get(s.id) === s) this.remove(s.id);
          return { ...sessionErrorResponse(ErrorCode.NONE), throttleTimeMs };
        },
      };
    }
    const s = this.sessions.get(sessionId);
    if (!s) return { kind: "error", errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (s.epoch !== epoch) {
      return { kind: "error", errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
    }
    if (s.usesTopicIds !== byId) {
      return { kind: "error", errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
    }
    for (const p of requestedPartitions(req, byId)) {
      const k = sessionKey(s, p);
      const cached = s.partitions.get(k);
      if (!cached) s.partitions.set(k, p);
      else {
        cached.fetchOffset = p.fetchOffset;
        cached.maxBytes = p.maxBytes;
        cached.currentLeaderEpoch = p.currentLeaderEpoch;
        cached.lastFetchedEpoch = p.lastFetchedEpoch;
        cached.logStartOffset = p.logStartOffset;
      }
    }
    for (const t of req.forgottenTopicsData ?? []) {
      const topic = byId ? t.topicId : t.topic;
      for (const p of t.partitions ?? []) s.partitions.delete(keyOf(topic, p));
    }
    if (s.size === 0) {
      // Nothing left to fetch: the session closes and the request is answered sessionless.
      this.remove(s.id);
      return { kind: "sessionless" };
    }
    this.touch(s, this.now());
    s.epoch = nextEpoch(s.epoch);
    const expected = s.epoch;
    const order = [...s.partitions.values()];
    const cached = new Float64Array(order.length * 3);
    order.forEach((p, i) => {
      cached[i * 3] = p.highWatermark;
      cached[i * 3 + 1] = p.lastStableOffset;
      cached[i * 3 + 2] = p.localLogStartOffset;
    });
    const view: FetchSessionView = { sessionId: s.id, incremental: true, cached };
    return {
      kind: "incremental",
      request: { ...expandedRequest(req, order, byId), fetchSession: view },
      view,
      complete: (result) => {
        // Another request on this session (a duplicate on another connection) got in first.
        // (A session evicted meanwhile still answers, as in Kafka; its id is unknown next time.)
        if (s.epoch !== expected) {
          return {
            throttleTimeMs: 0,
            errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH,
            sessionId: s.id,
            responses: [],
          };
        }
        if (result) applyResult(s, order, result, true);
        return null;
      },
      // The epoch has advanced (the client expects it to); nothing read is recorded.
      throttled: (throttleTimeMs) => ({
        throttleTimeMs,
        errorCode: s.epoch === expected ? ErrorCode.NONE : ErrorCode.INVALID_FETCH_SESSION_EPOCH,
        sessionId: s.id,
        responses: [],
      }),
    };
  }
}

/** Kafka's EvictableKey order: (privileged, size, id), unprivileged first. */
function compareEvictable(
  a: { privileged: boolean; cachedSize: number; id: number },
  b: { privileged: boolean; cachedSize: number; id: number },
): number {
  if (a.privileged !== b.privileged) return a.privileged ? 1 : -1;
  if (a.cachedSize !== b.cachedSize) return a.cachedSize - b.cachedSize;
  return a.id - b.id;
}

/** Records what was answered for each partition of `order` in the session. */
function applyResult(
  s: FetchSession,
  order: CachedPartition[],
  result: FetchSessionResult,
  incremental: boolean,
): void {
  const n = Math.min(order.length, result.flags.length);
  const moved: CachedPartition[] = [];
  for (let i = 0; i < n; i++) {
    const f = result.flags[i];
    if (!(f & INCLUDED)) continue;
    const p = order[i];
    p.highWatermark = f & ERROR ? -1 : result.offsets[i * 3];
    p.lastStableOffset = result.offsets[i * 3 + 1];
    p.localLogStartOffset = result.offsets[i * 3 + 2];
    if (incremental && f & RECORDS) moved.push(p);
  }
  // Partitions that returned records go last, so the next response's limits reach the rest.
  for (const p of moved) {
    const k = sessionKey(s, p);
    if (s.partitions.get(k) !== p) continue;
    s.partitions.delete(k);
    s.partitions.set(k, p);
  }
}

/**
 * Called by the Fetch handler with its response's topics, in request order: trims an
 * incremental response to the partitions that changed (Kafka's
 * CachedPartition.maybeUpdateResponseData), records the result in the view and returns the
 * session id to answer with (0 without a session).
 */
export function finishFetchSession(req: FetchRequest, responses: FetchableTopicResponse[]): number {
  const view = (req as SessionFetchRequest).fetchSession;
  if (!view) return INVALID_SESSION_ID;
  let n = 0;
  for (const t of responses) n += t.partitions.length;
  const offsets = new Float64Array(n * 3);
  const flags = new Uint8Array(n);
  const cached = view.cached;
  let i = 0;
  for (const t of responses) {
    const kept: FetchableTopicResponse["partitions"] = [];
    for (const p of t.partitions) {
      const hw = p.highWatermark;
      const lso = p.lastStableOffset;
      const logStart = p.logStartOffset;
      const records = p.records;
      let f = 0;
      if (records && records.length > 0) f |= RECORDS;
      if (p.errorCode !== 0) f |= ERROR;
      const changed = !cached || f !== 0 || hw !== cached[i * 3] ||
        lso !== cached[i * 3 + 1] || logStart !== cached[i * 3 + 2] ||
        p.preferredReadReplica >= 0;
      if (changed) {
        f |= INCLUDED;
        kept.push(p);
      }
      offsets[i * 3] = hw;
      offsets[i * 3 + 1] = lso;
      offsets[i * 3 + 2] = logStart;
      flags[i] = f;
      i++;
    }
    t.partitions = kept;
  }
  if (view.incremental) {
    let w = 0;
    for (const t of responses) if (t.partitions.length > 0) responses[w++] = t;
    responses.length = w;
  }
  view.result = { offsets, flags };
  return view.sessionId;
}

/** Whose sessions: one broker, or one worker (its share of the slots and of the id space). */
export interface FetchSessionHost {
  readonly config: BrokerConfig;
  readonly cluster?: { readonly count: number; readonly index: number };
}

const caches = new WeakMap<FetchSessionHost, FetchSessionCache>();

/**
 * The session cache of this broker, or of this worker: with N workers each keeps
 * max(1, slots / N) of the `max.incremental.fetch.session.cache.slots` (none when it is 0),
 * with ids in its own range.
 */
export function fetchSessionsOf(broker: FetchSessionHost): FetchSessionCache {
  let c = caches.get(broker);
  if (!c) {
    const slots = broker.config.int("max.incremental.fetch.session.cache.slots");
    const workers = broker.cluster?.count ?? 1;
    const index = broker.cluster?.index ?? 0;
    const idRange = Math.floor(INT32_MAX / workers);
    c = new FetchSessionCache({
      maxEntries: slots === 0 ? 0 : Math.max(1, Math.floor(slots / workers)),
      idBase: index * idRange,
      idRange,
    });
    caches.set(broker, c);
  }
  return c;
}

/**
 * The answer to a Fetch that client quotas throttle (Kafka's FetchContext.getThrottledResponse):
 * no partitions at all, error NONE outside a session (a session error too, as Kafka's
 * SessionErrorContext keeps the default), the session's own answer in one.
 */
export function throttledFetchResponse(
  context: FetchContext | undefined,
  throttleTimeMs: number,
): Encodable<FetchResponse> {
  if (context?.kind === "full" || context?.kind === "incremental") {
    return context.throttled(throttleTimeMs);
  }
  return { ...sessionErrorResponse(ErrorCode.NONE), throttleTimeMs };
}

/** The response to a request with a session error. */
export function sessionErrorResponse(errorCode: number): Encodable<FetchResponse> {
  return { throttleTimeMs: 0, errorCode, sessionId: INVALID_SESSION_ID, responses: [] };
}
