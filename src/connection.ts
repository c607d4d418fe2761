/**
 * One client connection: frames in, responses out, in order.
 *
 * Like Kafka's network layer, a connection has one request in processing at a time
 * (pipelined requests wait in the socket and our read buffer), so responses leave in
 * request order and appends from one connection keep their order. A frame's size prefix is
 * checked against `socket.request.max.bytes` before anything is buffered for it; a
 * malformed frame (a body too short or inconsistent for its fields), an unknown API key or
 * an unsupported version closes only this connection, with a logged reason. Bytes after a
 * request's last field are ignored, as Kafka does.
 */
import {
  API_VERSIONS_KEY,
  readHeaderTaggedFields,
  readRequestHeaderV1,
  writeRequestHeader,
  writeResponseHeader,
} from "../protocol/headers.ts";
import type { RequestHeader } from "../protocol/headers.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { Reader, Writer } from "../protocol/primitives.ts";
import { codecFor, isFlexible, type Msg } from "../protocol/schema.ts";
import { ApiVersionsResponse } from "../protocol/messages/mod.ts";
import type { Broker } from "./broker.ts";
import { bufferPool, POOL_SAFE_APIS } from "./buffer_pool.ts";
import { markFreshRead, releaseFreshRead } from "./partition_ops.ts";
import { log } from "./log.ts";
import { CONTROLLER_WORKER } from "./workers/ownership.ts";
import { responseErrorCodes } from "./metrics.ts";
import {
  type FetchContext,
  fetchSessionsOf,
  type FetchSessionView,
  sessionErrorResponse,
} from "./fetch_session.ts";
import { CloseConnection } from "./close_connection.ts";

const MIN_READ = 64 * 1024;
/** Frames up to this size get their whole buffer at once (typical produce requests). */
const TRUSTED_FRAME = 1024 * 1024;

let nextConnectionId = 1;

/**
 * A read buffer and the frames cut from it that are still being handled. It goes back to the
 * pool when the connection has moved to another buffer (`retired`), no frame is in flight,
 * and no frame was of a request that may keep views of its bytes (`keep`).
 */
interface Slab {
  bytes: Uint8Array;
  frames: number;
  retired: boolean;
  keep: boolean;
}

/** Produce requests of one connection handled at once (see Connection.serve). */
const MAX_PIPELINED_PRODUCE = 5;

export { CloseConnection };

export class Connection {
  readonly id = nextConnectionId++;
  readonly remote: string;
  private closed = false;
  /**
   * Append-only read buffer: frames are views into it, so it is replaced, never rewritten
   * while a frame in it is being handled. Large ones come from the buffer pool and go back
   * once the connection has moved on and every frame in them is done (see Slab).
   */
  private slab: Slab = { bytes: new Uint8Array(MIN_READ), frames: 0, retired: false, keep: false };
  private get acc(): Uint8Array {
    return this.slab.bytes;
  }
  private start = 0;
  private end = 0;
  /** Bytes of the request budget taken for the frame being read (see RequestBudget). */
  private budgetHeld = 0;
  /** Gives up a wait for budget when the connection closes meanwhile. */
  private budgetWait: (() => void) | null = null;

  constructor(private readonly conn: Deno.TcpConn, private readonly broker: Broker) {
    const a = conn.remoteAddr as Deno.NetAddr;
    this.remote = a.hostname ?? "unknown";
    try {
      conn.setNoDelay(true);
    } catch {
      // the socket may already be gone; serve() will notice
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.budgetWait?.();
    try {
      this.conn.close();
    } catch {
      // already closed by the peer
    }
  }

  /**
   * Serves requests until the peer closes or a request is rejected. Responses leave in request
   * order. Consecutive Produce requests are handled without waiting for the previous one's
   * response (up to MAX_PIPELINED_PRODUCE): each enqueues its appends, in order, before the
   * next starts, so the log order is the request order while the waits (an append on another
   * worker, a flush) overlap. Any other request waits until everything before it is answered,
   * so its effects follow theirs, as with Kafka's one request at a time.
   */
  async serve(): Promise<void> {
    const maxFrame = this.broker.config.int("socket.request.max.bytes");
    /** Settles when every response so far has been written (or the connection failed). */
    let written: Promise<void> = Promise.resolve();
    let producesInFlight = 0;
    let othersInFlight = 0;
    let failure: unknown = null;
    try {
      while (!this.closed && failure === null) {
        const frame = await this.nextFrame(maxFrame);
        if (!frame || failure !== null) {
          if (frame) this.frameDone(this.slab, false, frame.length);
          break;
        }
        const slab = this.slab;
        const apiKey = frame.length >= 2 ? (frame[0] << 8) | frame[1] : -1;
        const produce = apiKey === PRODUCE_KEY;
        if (!produce || othersInFlight > 0 || producesInFlight >= MAX_PIPELINED_PRODUCE) {
          await written;
          if (failure !== null) break;
        }
        if (produce) producesInFlight++;
        else othersInFlight++;
        const handled = this.handle(frame);
        // The frame's bytes are free once it is handled (forwarded ones were copied first).
        handled.then(
          () =>
            this.frameDone(
              slab,
              POOL_SAFE_APIS.has(apiKey) || forwardsToController(this.broker, apiKey),
              frame.length,
            ),
          () => this.frameDone(slab, false, frame.length),
        );
        // A rejected request stops the loop before the next frame is handled.
        handled.catch((e) => failure ??= e);
        const before = written;
        written = (async () => {
          try {
            const response = await handled;
            await before;
            if (response && !this.closed) {
              await this.writeAll(response);
              // Fetched segment bytes are written: their buffers may serve again.
              for (const c of response) releaseFreshRead(c.buffer);
            }
          } catch (e) {
            failure ??= e;
            // Answer what came before, then close: that also ends a read waiting for more.
            await before;
            this.close();
          } finally {
            if (produce) producesInFlight--;
            else othersInFlight--;
          }
        })();
      }
      await written;
      this.retire(this.slab);
      if (failure !== null) throw failure;
    } catch (e) {
      if (e instanceof CloseConnection) {
        // While the broker shuts down, requests cut short are expected, not a client's fault.
        (this.broker.isClosing ? log.debug : e.level === "info" ? log.info : log.warn)(
          `closing connection ${this.id} from ${this.remote}: ${e.message}`,
        );
      } else if (!this.closed && !isDisconnect(e)) {
        log.error(`connection ${this.id} from ${this.remote} failed: ${errText(e)}`);
      }
    } finally {
      this.close();
      if (this.budgetHeld > 0) this.broker.requestBudget.release(this.budgetHeld);
      this.budgetHeld = 0;
      this.broker.connectionClosed(this);
    }
  }

  /** Reads the next whole frame (without its size prefix), or null at a clean EOF. */
  private async nextFrame(maxFrame: number): Promise<Uint8Array | null> {
    let size = -1;
    while (true) {
      const have = this.end - this.start;
      if (size < 0 && have >= 4) {
        const a = this.acc;
        size = (a[this.start] << 24) | (a[this.start + 1] << 16) | (a[this.start + 2] << 8) |
          a[this.start + 3];
        if (size < 0 || size > maxFrame) {
          throw new CloseConnection(
            `frame size ${size} outside 0..${maxFrame} (socket.request.max.bytes)`,
          );
        }
        // The frame's bytes come out of the broker-wide budget before they are buffered:
        // without it, stop reading (the peer's sends back up) until handled frames free some.
        if (!(await this.takeBudget(size))) return null;
      }
      if (size >= 0 && have >= 4 + size) {
        const frame = this.acc.subarray(this.start + 4, this.start + 4 + size);
        this.start += 4 + size;
        this.slab.frames++;
        this.budgetHeld = 0; // the frame holds it now, until frameDone
        return frame;
      }
      if (have === 0 && this.acc.length > TRUSTED_FRAME) {
        // A large frame's buffer is not kept for what comes next (an idle connection would
        // hold it for good): it goes back once its frames are done.
        const old = this.slab;
        this.slab = { bytes: new Uint8Array(MIN_READ), frames: 0, retired: false, keep: false };
        this.retire(old);
        this.start = this.end = 0;
      }
      // Need more bytes: make room without overwriting bytes frames may still reference.
      if (this.acc.length - this.end < 4096) {
        // Out of room: grow with what has arrived, not with what the size prefix claims, so
        // a peer announcing a large frame and sending little costs little memory.
        const need = size >= 0 ? 4 + size : 4;
        const next = bufferPool.take(
          Math.max(
            MIN_READ,
            Math.min(need + MIN_READ / 2, Math.max(TRUSTED_FRAME, have * 2 + MIN_READ)),
          ),
        );
        next.set(this.acc.subarray(this.start, this.end));
        const old = this.slab;
        this.slab = { bytes: next, frames: 0, retired: false, keep: false };
        this.retire(old);
        this.end -= this.start;
        this.start = 0;
      }
      let n: number | null;
      try {
        n = await this.conn.read(this.acc.subarray(this.end));
      } catch (e) {
        if (isDisconnect(e) || this.closed) return null;
        throw e;
      }
      if (n === null) {
        if (this.end > this.start) {
          log.debug(
            `connection ${this.id}: peer closed mid-frame (${this.end - this.start} bytes)`,
          );
        }
        return null;
      }
      this.end += n;
      this.broker.idleConnections.touch(this);
    }
  }

  /**
   * Takes `bytes` of the request budget for the frame being read, waiting for them if need be;
   * false if the connection closed meanwhile.
   */
  private async takeBudget(bytes: number): Promise<boolean> {
    const budget = this.broker.requestBudget;
    const wait = budget.acquire(bytes);
    if (wait) {
      this.budgetWait = wait.withdraw;
      if (this.closed) wait.withdraw();
      await wait.granted;
      this.budgetWait = null;
      if (this.closed) return false; // withdraw gave the bytes back
    }
    this.budgetHeld = bytes;
    return true;
  }

  /**
   * A frame of `slab` (of `bytes` bytes) is handled; `reusable`: nothing it was decoded into
   * outlives that. Its bytes go back to the request budget.
   */
  private frameDone(slab: Slab, reusable: boolean, bytes: number): void {
    this.broker.requestBudget.release(bytes);
    slab.frames--;
    if (!reusable) slab.keep = true;
    this.recycle(slab);
  }

  /** The connection reads into another buffer now (or is done reading). */
  private retire(slab: Slab): void {
    slab.retired = true;
    this.recycle(slab);
  }

  private recycle(slab: Slab): void {
    if (slab.retired && slab.frames === 0 && !slab.keep) {
      slab.keep = true; // once
      bufferPool.give(slab.bytes.buffer);
    }
  }

  /** Decodes, dispatches and encodes one request; null means no response is owed. */
  private handle(frame: Uint8Array): Promise<Uint8Array[] | null> {
    return handleRequestFrame(this.broker, frame, this.remote, this.id, true);
  }

  private async writeAll(chunks: Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.length) {
        off += await this.conn.write(chunk.subarray(off));
      }
    }
    this.broker.idleConnections.touch(this);
  }
}

/**
 * Decodes, dispatches and encodes one request frame (without its size prefix); null means no
 * response is owed. On a worker other than the controller, requests other than the
 * partition-data and metadata APIs are forwarded whole to the controller (`forward`), which
 * runs this same function. Throws CloseConnection for frames that must close the connection.
 */
export async function handleRequestFrame(
  broker: Broker,
  frame: Uint8Array,
  clientHost: string,
  connectionId: number,
  forward: boolean,
  /** A fetch session's snapshot, sent along with a request another worker forwarded. */
  fetchSession?: FetchSessionView,
): Promise<Uint8Array[] | null> {
  const r = new Reader(frame);
  let header: RequestHeader;
  try {
    header = readRequestHeaderV1(r);
  } catch (e) {
    throw new CloseConnection(`malformed request header: ${errText(e)}`);
  }
  const reg = broker.registry.get(header.apiKey);
  if (!reg || header.apiVersion < reg.minVersion || header.apiVersion > reg.maxVersion) {
    if (header.apiKey === API_VERSIONS_KEY) {
      // KIP-511: answer an unknown ApiVersions version with v0 so the client can retry.
      // Counted under one version past the newest, whatever the client sent: metric keys
      // stay bounded by what the broker serves, not by what clients may invent.
      const counted = (reg?.maxVersion ?? 0) + 1;
      broker.metrics.request(header.apiKey, counted, ErrorCode.UNSUPPORTED_VERSION);
      return encodeResponse(header.correlationId, false, ApiVersionsResponse, 0, {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        apiKeys: broker.registry.apiVersions(),
        throttleTimeMs: 0,
      });
    }
    throw new CloseConnection(
      reg
        ? `unsupported version ${header.apiVersion} of ${reg.name} (supported ${reg.minVersion}-${reg.maxVersion})`
        : `unknown api key ${header.apiKey} (version ${header.apiVersion})`,
    );
  }
  const cluster = broker.cluster;
  if (forward && forwardsToController(broker, header.apiKey)) {
    return forwardRequest(broker, CONTROLLER_WORKER, frame, clientHost, connectionId);
  }
  const flexible = isFlexible(reg.request, header.apiVersion);
  let body;
  try {
    if (flexible) readHeaderTaggedFields(r, header);
    const codec = codecFor(reg.request, header.apiVersion);
    body = codec.decode(r);
  } catch (e) {
    throw new CloseConnection(
      `malformed ${reg.name} v${header.apiVersion} request: ${errText(e)}`,
    );
  }
  if (r.remaining !== 0) {
    // Kafka parses a request's fields and ignores what follows them: librdkafka 2.3+ sends
    // its all-topics Metadata v9+ with a 4-byte zero placeholder for the topic array (a
    // compact null and 3 bytes more), so refusing trailing bytes would lock it out.
    log.debug(
      `connection ${connectionId}: ${reg.name} v${header.apiVersion} request has ` +
        `${r.remaining} trailing bytes, ignored`,
    );
  }
  // Fetch sessions are kept by the worker holding the connection: a session's request is
  // expanded to all its partitions before routing, and its answer recorded once read.
  const session = forward && header.apiKey === FETCH_KEY
    ? fetchSessionsOf(broker).newContext(body, header.apiVersion)
    : fetchSession === undefined
    ? undefined
    : { kind: "forwarded" as const };
  if (session?.kind === "full" || session?.kind === "incremental") body = session.request;
  else if (session?.kind === "forwarded") body.fetchSession = fetchSession;
  if (
    forward && cluster && session?.kind !== "error" &&
    (header.apiKey === PRODUCE_KEY || header.apiKey === FETCH_KEY)
  ) {
    // All its partitions on one other worker: that worker takes the whole request, which
    // saves a message per partition and, for a long poll, the wake-up and re-read hops.
    const owner = soleOwner(broker, header.apiKey, header.apiVersion, body);
    if (owner !== null && owner !== cluster.index) {
      if (session?.kind !== "full" && session?.kind !== "incremental") {
        return forwardRequest(broker, owner, frame, clientHost, connectionId);
      }
      return forwardSessionFetch(broker, owner, header, body, session, clientHost, connectionId);
    }
  }
  const started = performance.now();
  let response;
  try {
    response = session?.kind === "error"
      ? sessionErrorResponse(session.errorCode)
      : await reg.handler(body, {
        broker,
        header,
        apiVersion: header.apiVersion,
        clientHost,
        connectionId,
      });
    if (session?.kind === "full" || session?.kind === "incremental") {
      response = session.complete(session.view.result) ?? response;
    }
  } catch (e) {
    const ms = performance.now() - started;
    const codes = e instanceof CloseConnection && e.errorCodes
      ? e.errorCodes
      : ErrorCode.UNKNOWN_SERVER_ERROR;
    broker.metrics.request(header.apiKey, header.apiVersion, codes, ms);
    throw e;
  }
  broker.metrics.request(
    header.apiKey,
    header.apiVersion,
    response ? responseErrorCodes(response) : 0,
    performance.now() - started,
  );
  if (!response) return null;
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

/**
 * Requests a worker answers itself; the rest go to the controller (worker 0), which holds the
 * group and transaction coordinators and the topic catalogue's writer.
 */
const WORKER_LOCAL_APIS = new Set([0, 1, 2, 3, API_VERSIONS_KEY]);

/** Whether this worker sends requests of `apiKey` whole (a copy) to the controller. */
function forwardsToController(broker: Broker, apiKey: number): boolean {
  const c = broker.cluster;
  return c !== undefined && !c.isController && !WORKER_LOCAL_APIS.has(apiKey);
}

const PRODUCE_KEY = 0;
const FETCH_KEY = 1;

/**
 * The worker owning every partition a Produce or Fetch request names, or null when they are
 * spread over several workers (or the request names none, or a topic this worker does not
 * know: the handler here answers those).
 */
function soleOwner(broker: Broker, apiKey: number, apiVersion: number, body: Msg): number | null {
  const cluster = broker.cluster!;
  let owner: number | null = null;
  const topics = (apiKey === PRODUCE_KEY ? body.topicData : body.topics) as Msg[];
  for (const t of topics) {
    const name = apiKey === PRODUCE_KEY
      ? t.name as string
      : apiVersion >= 13
      ? broker.topicById(t.topicId)?.name
      : t.topic as string;
    if (name === undefined || !broker.topic(name)) return null;
    const parts = (apiKey === PRODUCE_KEY ? t.partitionData : t.partitions) as Msg[];
    for (const p of parts) {
      const o = cluster.ownerOf(name, (apiKey === PRODUCE_KEY ? p.index : p.partition) as number);
      if (owner === null) owner = o;
      else if (o !== owner) return null;
    }
  }
  return owner;
}

/** Sends a whole request frame to worker `peer` and returns its encoded response. */
async function forwardRequest(
  broker: Broker,
  peer: number,
  frame: Uint8Array,
  clientHost: string,
  connectionId: number,
  fetchSession?: FetchSessionView,
): Promise<Uint8Array[] | null> {
  const copy = bufferPool.take(frame.length);
  copy.set(frame);
  let answer: {
    response?: Uint8Array[] | null;
    fresh?: number[];
    close?: string;
    closeLevel?: "warn" | "info";
    returned?: Uint8Array;
    fetchSession?: FetchSessionView["result"];
  };
  try {
    answer = await broker.cluster!.call(
      peer,
      "request",
      { frame: copy, clientHost, connectionId, fetchSession },
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
  broker: Broker,
  peer: number,
  header: RequestHeader,
  body: Msg,
  session: Extract<FetchContext, { kind: "full" | "incremental" }>,
  clientHost: string,
  connectionId: number,
): Promise<Uint8Array[] | null> {
  const reg = broker.registry.get(FETCH_KEY)!;
  const flexible = isFlexible(reg.request, header.apiVersion);
  const w = new Writer(256);
  writeRequestHeader(w, header, flexible);
  // The session view travels beside the frame, not in it: it is no field of FetchRequest.
  const { fetchSession: _view, ...wire } = body;
  codecFor(reg.request, header.apiVersion).encode(w, wire);
  const chunks = await forwardRequest(
    broker,
    peer,
    w.finish(),
    clientHost,
    connectionId,
    session.view,
  );
  const error = session.complete(session.view.result);
  if (!error) return chunks;
  for (const c of chunks ?? []) releaseFreshRead(c.buffer);
  return encodeResponse(header.correlationId, flexible, reg.response, header.apiVersion, error);
}

function isDisconnect(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.NotConnected || e instanceof Deno.errors.ConnectionAborted;
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
