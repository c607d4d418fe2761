/**
 * A small client for etcd's v3 JSON gateway (grpc-gateway, `/v3/...` paths in etcd 3.4) over
 * `fetch`, so Tributary needs no npm etcd client. It owns what every call needs: several
 * endpoints with failover, a bounded time per call (never a hang when etcd is away), error
 * bodies turned into typed errors, and incremental parsing of streaming responses (watch,
 * keepalive), whose body is a sequence of JSON objects.
 */
import { MetadataStoreError, MetadataStoreUnavailable } from "./metadata_store.ts";
import { ErrorCode } from "../../protocol/errors.ts";

/** An error etcd answered with (a gRPC status carried in the gateway's JSON body). */
export class EtcdServerError extends MetadataStoreError {
  constructor(readonly grpcCode: number, readonly etcdMessage: string) {
    super(ErrorCode.UNKNOWN_SERVER_ERROR, `etcd: ${etcdMessage} (grpc code ${grpcCode})`);
    this.name = "EtcdServerError";
  }
}

/** gRPC codes under which another endpoint, or the same one a moment later, may succeed. */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

export interface EtcdHttpOptions {
  /** `http://host:port` client URLs (`etcd.endpoints`). */
  endpoints: string[];
  /** Upper bound on one call, failover and retries included. */
  requestTimeoutMs: number;
}

/** A streaming response: its JSON objects one by one, and a way to drop the connection. */
export interface EtcdStream {
  messages: AsyncIterableIterator<any>;
  close(): void;
}

export class EtcdHttp {
  private readonly endpoints: string[];
  private readonly timeoutMs: number;
  /** The endpoint that answered last; calls start there. */
  private preferred = 0;
  private readonly closing = new AbortController();
  private readonly client = Deno.createHttpClient({});

  constructor(opts: EtcdHttpOptions) {
    if (opts.endpoints.length === 0) throw new Error("etcd.endpoints is empty");
    this.endpoints = opts.endpoints.map((e) => e.replace(/\/+$/, ""));
    this.timeoutMs = opts.requestTimeoutMs;
  }

  /**
   * POSTs one unary request. A request that never left (connection refused) moves on to the
   * next endpoint; one that may have reached etcd is retried only if `idempotent`, since
   * retrying a transaction whose answer was lost could report the wrong branch.
   */
  async call(path: string, body: unknown, opts: { idempotent: boolean }): Promise<any> {
    const res = await this.send(path, body, opts.idempotent, true);
    try {
      return await res.json();
    } catch (err) {
      throw new MetadataStoreUnavailable(`etcd ${path}: response lost: ${describe(err)}`);
    }
  }

  /** Opens a streaming POST (watch, keepalive); failover as for an idempotent call, with the
   * time bound covering only the wait for the response headers. */
  async stream(
    path: string,
    body: unknown,
    signal?: AbortSignal,
    timeoutMs = this.timeoutMs,
  ): Promise<EtcdStream> {
    const abort = new AbortController();
    signal?.addEventListener("abort", () => abort.abort(), { once: true });
    const res = await this.send(path, body, true, false, abort.signal, timeoutMs);
    return { messages: jsonObjects(res.body!, abort.signal), close: () => abort.abort() };
  }

  close(): void {
    this.closing.abort();
    this.client.close();
  }

  private async send(
    path: string,
    body: unknown,
    idempotent: boolean,
    boundBody: boolean,
    streamSignal?: AbortSignal,
    timeoutMs = this.timeoutMs,
  ): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    const payload = JSON.stringify(body);
    let lastError = "no attempt";
    for (let round = 0;; round++) {
      for (let i = 0; i < this.endpoints.length; i++) {
        const index = (this.preferred + i) % this.endpoints.length;
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        const timeout = new AbortController();
        const timer = setTimeout(() => timeout.abort(), remaining);
        const signals = [timeout.signal, this.closing.signal];
        if (streamSignal) signals.push(streamSignal);
        let res: Response;
        try {
          res = await fetch(`${this.endpoints[index]}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: payload,
            signal: AbortSignal.any(signals),
            client: this.client,
          });
        } catch (err) {
          clearTimeout(timer);
          if (this.closing.signal.aborted || streamSignal?.aborted) {
            throw new MetadataStoreError(ErrorCode.UNKNOWN_SERVER_ERROR, "etcd client closed");
          }
          lastError = `${this.endpoints[index]}: ${describe(err)}`;
          if (!idempotent && !neverSent(err)) {
            throw new MetadataStoreUnavailable(`etcd ${path}: outcome unknown: ${lastError}`);
          }
          continue;
        }
        if (!boundBody) clearTimeout(timer);
        else {
          // The body is read by the caller; the timer keeps bounding it, then is dropped.
          res = await bufferBody(res, timer);
        }
        if (res.ok) {
          this.preferred = index;
          return res;
        }
        const err = await errorOf(res);
        if (err.grpcCode === GRPC_UNAVAILABLE || err.grpcCode === GRPC_DEADLINE_EXCEEDED) {
          lastError = `${this.endpoints[index]}: ${err.etcdMessage}`;
          if (!idempotent) {
            throw new MetadataStoreUnavailable(`etcd ${path}: outcome unknown: ${lastError}`);
          }
          continue;
        }
        throw err;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new MetadataStoreUnavailable(
          `etcd unreachable at ${this.endpoints.join(",")} within ${timeoutMs} ms ` +
            `(${lastError})`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(remaining, 50 * 2 ** Math.min(round, 4))));
    }
  }
}

/** Reads a unary response's body under the call's timer, so a stalled body cannot hang. */
async function bufferBody(res: Response, timer: ReturnType<typeof setTimeout>): Promise<Response> {
  try {
    const bytes = await res.arrayBuffer();
    return new Response(bytes, { status: res.status, headers: res.headers });
  } catch (err) {
    throw new MetadataStoreUnavailable(`etcd response lost: ${describe(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

async function errorOf(res: Response): Promise<EtcdServerError> {
  const text = await res.text().catch(() => "");
  try {
    const j = JSON.parse(text);
    return new EtcdServerError(Number(j.code ?? 2), String(j.message ?? j.error ?? text));
  } catch {
    return new EtcdServerError(2, `HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
}

/** Connect failures (refused, unresolvable) mean the request was never sent. */
function neverSent(err: unknown): boolean {
  return /\(Connect\)|Connection refused|dns error/i.test(describe(err));
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: unknown };
  const cause = e?.cause ? `: ${(e.cause as { message?: string }).message ?? e.cause}` : "";
  return `${e?.message ?? err}${cause}`;
}

/**
 * Splits a byte stream into the top-level JSON objects it carries, as they complete. The
 * gateway separates them by newlines, but counting braces outside strings does not depend on
 * that, nor on how the network chunks the stream.
 */
export async function* jsonObjects(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<any> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  // Aborting the fetch does not always wake a read already waiting on the body: cancelling
  // the reader does (the read ends as done), and closes the connection.
  const cancel = () => reader.cancel().catch(() => {});
  signal?.addEventListener("abort", cancel, { once: true });
  if (signal?.aborted) cancel();
  let buf = "";
  let depth = 0, inString = false, escaped = false, start = -1, scanned = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      for (let i = scanned; i < buf.length; i++) {
        const c = buf[i];
        if (inString) {
          if (escaped) escaped = false;
          else if (c === "\\") escaped = true;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === "{") {
          if (depth++ === 0) start = i;
        } else if (c === "}" && --depth === 0) {
          yield JSON.parse(buf.slice(start, i + 1));
          buf = buf.slice(i + 1);
          i = -1;
        }
      }
      scanned = buf.length;
      if (depth === 0) buf = "", scanned = 0;
    }
  } finally {
    signal?.removeEventListener("abort", cancel);
    reader.cancel().catch(() => {});
  }
}

export function b64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export function unb64(text: string | undefined): Uint8Array {
  if (!text) return new Uint8Array();
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
