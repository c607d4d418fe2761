/**
 * One TCP connection to one broker: framed requests with correlation ids, responses matched
 * back to their callers (several requests may be in flight), and ApiVersions negotiated once
 * on connect so each request goes out at the highest version both sides implement.
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import {
  API_VERSIONS_KEY,
  readResponseHeader,
  writeRequestHeader,
} from "../../protocol/headers.ts";
import { ApiVersionsRequest, ApiVersionsResponse } from "../../protocol/messages/mod.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import {
  codecFor,
  type Encodable,
  isFlexible,
  type MessageSchema,
  parseVersions,
} from "../../protocol/schema.ts";
import { ClientError } from "./errors.ts";
import { type SaslCredentials, saslLogin } from "./sasl.ts";

export interface ApiRange {
  minVersion: number;
  maxVersion: number;
}

export interface ConnectionOptions {
  clientId?: string;
  /** Milliseconds a request may wait for its response beyond its own long-poll time. */
  requestTimeoutMs?: number;
  /** Software name and version sent in ApiVersions v3+. */
  softwareName?: string;
  softwareVersion?: string;
  /** Log in with SASL after ApiVersions (a SASL_PLAINTEXT or SASL_SSL listener). */
  sasl?: SaslCredentials;
  /** Connect over TLS (an SSL or SASL_SSL listener): CAs to trust, a client certificate. */
  tls?: { caCerts: string[]; cert?: string; key?: string };
}

interface Pending {
  correlationId: number;
  apiKey: number;
  version: number;
  resp: MessageSchema;
  resolve(m: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** "host:port" parsed, with IPv6 literals in brackets. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new ClientError(`'${address}' is not a host:port address`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new ClientError(`'${address}' has no valid port`);
  return { host: m[1], port };
}

export class BrokerConnection {
  private correlationId = 0;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private closeReason?: Error;
  /** Broker's supported range per api key, from ApiVersions. */
  readonly apis = new Map<number, ApiRange>();
  /** The ApiVersions version the broker answered. */
  apiVersionsVersion = 0;

  private constructor(
    private readonly conn: Deno.Conn,
    readonly address: string,
    private readonly opts: ConnectionOptions,
  ) {
    this.readLoop();
  }

  /** Connects and negotiates ApiVersions; an unreachable broker is a ClientError naming it. */
  static async connect(address: string, opts: ConnectionOptions = {}): Promise<BrokerConnection> {
    const { host, port } = parseAddress(address);
    let conn: Deno.Conn;
    try {
      if (opts.tls) {
        const tls = await Deno.connectTls({
          hostname: host,
          port,
          caCerts: opts.tls.caCerts,
          ...(opts.tls.cert && opts.tls.key ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
        });
        await tls.handshake();
        conn = tls;
      } else {
        const tcp = await Deno.connect({ hostname: host, port });
        tcp.setNoDelay(true);
        conn = tcp;
      }
    } catch (e) {
      throw new ClientError(`cannot connect to broker ${address}: ${(e as Error).message}`);
    }
    const c = new BrokerConnection(conn, address, opts);
    try {
      await c.negotiate();
      if (opts.sasl) await saslLogin(c, opts.sasl);
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  private async negotiate(): Promise<void> {
    let version = parseVersions(ApiVersionsRequest.validVersions)[1];
    for (let attempt = 0; attempt < 2; attempt++) {
      const body = {
        clientSoftwareName: this.opts.softwareName ?? "tributary-cli",
        clientSoftwareVersion: this.opts.softwareVersion ?? "0",
      };
      const r = await this.send(ApiVersionsRequest, ApiVersionsResponse, version, body);
      if (r.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        // The broker answered at v0 with its own range for ApiVersions: retry inside it.
        const own = r.apiKeys.find((k) => k.apiKey === API_VERSIONS_KEY);
        if (!own) break;
        version = Math.min(version, own.maxVersion);
        continue;
      }
      if (r.errorCode !== 0) {
        throw new KafkaError(r.errorCode, `${errorName(r.errorCode)} (ApiVersions)`);
      }
      for (const k of r.apiKeys) {
        this.apis.set(k.apiKey, { minVersion: k.minVersion, maxVersion: k.maxVersion });
      }
      this.apiVersionsVersion = version;
      return;
    }
    throw new ClientError(`broker ${this.address} did not agree on an ApiVersions version`);
  }

  /**
   * The highest version of `schema` both this client (capped at `cap`) and the broker support;
   * UNSUPPORTED_VERSION when the ranges do not meet.
   */
  versionFor(schema: MessageSchema, cap = Infinity): number {
    const [lo, hi] = parseVersions(schema.validVersions);
    const b = this.apis.get(schema.apiKey!);
    const name = schema.name.replace(/Request$/, "");
    if (!b) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `UNSUPPORTED_VERSION: broker ${this.address} does not support ${name}`,
      );
    }
    const v = Math.min(hi, cap, b.maxVersion);
    if (v < Math.max(lo, b.minVersion)) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `UNSUPPORTED_VERSION: broker ${this.address} supports ${name} v${b.minVersion}-${b.maxVersion}, this client v${lo}-${
          Math.min(hi, cap)
        }`,
      );
    }
    return v;
  }

  /** Sends `body` (missing fields take their defaults) at the negotiated version. */
  request<Req, Resp>(
    req: MessageSchema<Req>,
    resp: MessageSchema<Resp>,
    body: Encodable<Req>,
    opts: { cap?: number; extraTimeoutMs?: number } = {},
  ): Promise<Resp> {
    const version = this.versionFor(req, opts.cap);
    return this.send(req, resp, version, body, opts.extraTimeoutMs ?? 0);
  }

  /** Like request, also returning the version used (for callers whose fields differ by version). */
  async requestVersioned<Req, Resp>(
    req: MessageSchema<Req>,
    resp: MessageSchema<Resp>,
    build: (version: number) => Encodable<Req>,
    opts: { cap?: number; extraTimeoutMs?: number } = {},
  ): Promise<{ version: number; response: Resp }> {
    const version = this.versionFor(req, opts.cap);
    const response = await this.send(req, resp, version, build(version), opts.extraTimeoutMs ?? 0);
    return { version, response };
  }

  /** Sends at an explicit version and waits for the response. */
  send<Req, Resp>(
    req: MessageSchema<Req>,
    resp: MessageSchema<Resp>,
    version: number,
    body: Encodable<Req>,
    extraTimeoutMs = 0,
  ): Promise<Resp> {
    if (this.closed) {
      return Promise.reject(
        this.closeReason ?? new ClientError(`connection to ${this.address} is closed`),
      );
    }
    const correlationId = ++this.correlationId;
    const frame = this.encode(req, version, body, correlationId);
    const timeoutMs = (this.opts.requestTimeoutMs ?? 30_000) + extraTimeoutMs;
    return new Promise<Resp>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(
          new ClientError(
            `${
              req.name.replace(/Request$/, "")
            } to ${this.address} timed out after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(correlationId, {
        correlationId,
        apiKey: req.apiKey!,
        version,
        resp,
        resolve: resolve as (m: unknown) => void,
        reject,
        timer,
      });
      this.writeFully(frame).catch((e) => this.fail(e as Error));
    });
  }

  /** Sends a request no response will answer (produce with acks=0). */
  async sendNoResponse<Req>(req: MessageSchema<Req>, body: Encodable<Req>): Promise<void> {
    if (this.closed) throw new ClientError(`connection to ${this.address} is closed`);
    const frame = this.encode(req, this.versionFor(req), body, ++this.correlationId);
    await this.writeFully(frame);
  }

  private encode<Req>(
    req: MessageSchema<Req>,
    version: number,
    body: Encodable<Req>,
    correlationId: number,
  ) {
    const w = new Writer(256);
    w.int32(0);
    writeRequestHeader(
      w,
      {
        apiKey: req.apiKey!,
        apiVersion: version,
        correlationId,
        clientId: this.opts.clientId ?? "tributary-cli",
      },
      isFlexible(req, version),
    );
    codecFor(req, version).encode(w, body);
    w.patchInt32AtStart(w.length - 4);
    return w.finish();
  }

  private async writeFully(b: Uint8Array): Promise<void> {
    for (let off = 0; off < b.length;) off += await this.conn.write(b.subarray(off));
  }

  /**
   * Reads frames and hands each to its caller. Chunks are kept as a list and joined once a
   * whole frame is there, so a large fetch response is copied once, not once per read.
   */
  private async readLoop(): Promise<void> {
    let chunks: Uint8Array[] = [];
    let have = 0;
    const chunk = new Uint8Array(256 * 1024);
    const join = () => {
      if (chunks.length === 1) return chunks[0];
      const all = new Uint8Array(have);
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.length;
      }
      chunks = [all];
      return all;
    };
    try {
      while (true) {
        const n = await this.conn.read(chunk);
        if (n === null) break;
        chunks.push(chunk.slice(0, n));
        have += n;
        while (have >= 4) {
          if (chunks[0].length < 4) join();
          const size = new DataView(chunks[0].buffer, chunks[0].byteOffset).getInt32(0);
          if (have < 4 + size) break;
          const all = join();
          this.dispatch(all.subarray(4, 4 + size));
          const rest = all.subarray(4 + size);
          chunks = rest.length ? [rest] : [];
          have = rest.length;
        }
      }
      this.fail(new ClientError(`broker ${this.address} closed the connection`));
    } catch (e) {
      this.fail(
        this.closed && !this.closeReason
          ? new ClientError(`connection to ${this.address} is closed`)
          : new ClientError(`connection to ${this.address} failed: ${(e as Error).message}`),
      );
    }
  }

  private dispatch(frame: Uint8Array): void {
    const r = new Reader(frame);
    const id = r.int32();
    const p = this.pending.get(id);
    if (!p) return; // timed out already
    this.pending.delete(id);
    clearTimeout(p.timer);
    try {
      r.pos = 0;
      // ApiVersions responses always use header v0 so any client can read them.
      readResponseHeader(r, p.apiKey !== API_VERSIONS_KEY && isFlexible(p.resp, p.version));
      // An ApiVersions UNSUPPORTED_VERSION answer is encoded at v0 whatever was asked.
      let version = p.version;
      if (p.apiKey === API_VERSIONS_KEY && frame.length >= 6) {
        const code = new DataView(frame.buffer, frame.byteOffset).getInt16(4);
        if (code === ErrorCode.UNSUPPORTED_VERSION) version = 0;
      }
      p.resolve(codecFor(p.resp, version).decode(r));
    } catch (e) {
      p.reject(
        new ClientError(
          `cannot decode ${p.resp.name} v${p.version} from ${this.address}: ${
            (e as Error).message
          }`,
        ),
      );
    }
  }

  private fail(e: Error): void {
    if (!this.closeReason) this.closeReason = e;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new ClientError(`connection to ${this.address} is closed`));
  }
}
