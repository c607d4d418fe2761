/**
 * A minimal Kafka protocol client for tests and benchmarks: one TCP connection, one request
 * at a time, any API and version through the project's schemas (so JoinGroup and SyncGroup
 * long-polls block only their own connection, as with real clients).
 */
import { readResponseHeader, writeRequestHeader } from "../../protocol/headers.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { codecFor, type Encodable, isFlexible, type MessageSchema } from "../../protocol/schema.ts";
import type { Msg } from "./msg.ts";

/** One connection, one request at a time. */
export class RawClient {
  private correlationId = 0;
  private buf = new Uint8Array(0);

  private constructor(private readonly conn: Deno.Conn) {}

  /** Over TLS: `caCerts` to trust, `cert`/`key` (PEM) for a client certificate. */
  static async connectTls(
    port: number,
    o: { caCerts: string[]; cert?: string; key?: string },
  ): Promise<RawClient> {
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port,
      caCerts: o.caCerts,
      ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}),
    });
    await conn.handshake();
    return new RawClient(conn);
  }

  static async connect(port: number): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RawClient(conn);
  }

  /** One request on a fresh connection, closed afterwards. */
  static async once<Req>(
    port: number,
    req: MessageSchema<Req>,
    resp: MessageSchema,
    version: number,
    body: Encodable<Req>,
  ): Promise<Msg> {
    const c = await RawClient.connect(port);
    try {
      return await c.call(req, resp, version, body);
    } finally {
      c.close();
    }
  }

  /** One request frame with the next correlation id. */
  private encode<Req>(
    req: MessageSchema<Req>,
    version: number,
    body: Encodable<Req>,
  ): { frame: Uint8Array; correlationId: number; flexible: boolean } {
    const flexible = isFlexible(req, version);
    const correlationId = ++this.correlationId;
    const w = new Writer(256);
    w.int32(0);
    writeRequestHeader(
      w,
      { apiKey: req.apiKey!, apiVersion: version, correlationId, clientId: "bench" },
      flexible,
    );
    codecFor(req, version).encode(w, body);
    w.patchInt32AtStart(w.length - 4);
    return { frame: w.finish(), correlationId, flexible };
  }

  private async writeFully(b: Uint8Array): Promise<void> {
    for (let off = 0; off < b.length;) off += await this.conn.write(b.subarray(off));
  }

  private async response(
    resp: MessageSchema,
    version: number,
    flexible: boolean,
    id: number,
  ): Promise<Msg> {
    const r = new Reader(await this.frame());
    if (readResponseHeader(r, flexible) !== id) throw new Error("correlation mismatch");
    return codecFor(resp, version).decode(r);
  }

  /** Sends every request at once (pipelined), then reads the responses in order. */
  async pipeline<Req>(
    req: MessageSchema<Req>,
    resp: MessageSchema,
    version: number,
    bodies: Encodable<Req>[],
  ): Promise<Msg[]> {
    const sent = bodies.map((body) => this.encode(req, version, body));
    const all = new Uint8Array(sent.reduce((n, s) => n + s.frame.length, 0));
    let o = 0;
    for (const s of sent) {
      all.set(s.frame, o);
      o += s.frame.length;
    }
    await this.writeFully(all);
    const out: Msg[] = [];
    for (const s of sent) out.push(await this.response(resp, version, s.flexible, s.correlationId));
    return out;
  }

  /**
   * One request. The body is checked against the request's generated type (a misspelt field
   * does not compile); the response stays loose (`Msg`) so tests can probe any version's
   * fields without narrowing.
   */
  async call<Req>(
    req: MessageSchema<Req>,
    resp: MessageSchema,
    version: number,
    body: Encodable<Req>,
  ): Promise<Msg> {
    const s = this.encode(req, version, body);
    await this.writeFully(s.frame);
    return this.response(resp, version, s.flexible, s.correlationId);
  }

  private async frame(): Promise<Uint8Array> {
    while (true) {
      if (this.buf.length >= 4) {
        const size = new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
        if (this.buf.length >= 4 + size) {
          const f = this.buf.slice(4, 4 + size);
          this.buf = this.buf.slice(4 + size);
          return f;
        }
      }
      const chunk = new Uint8Array(64 * 1024);
      const n = await this.conn.read(chunk);
      if (n === null) throw new Error("connection closed");
      const next = new Uint8Array(this.buf.length + n);
      next.set(this.buf);
      next.set(chunk.subarray(0, n), this.buf.length);
      this.buf = next;
    }
  }

  /** Sends a raw length-prefixed frame with no Kafka header (SASL tokens after SaslHandshake v0). */
  async sendRaw(token: Uint8Array): Promise<void> {
    const b = new Uint8Array(4 + token.length);
    new DataView(b.buffer).setInt32(0, token.length);
    b.set(token, 4);
    await this.writeFully(b);
  }

  /** Reads one raw length-prefixed frame (a SASL token after SaslHandshake v0). */
  readRaw(): Promise<Uint8Array> {
    return this.frame();
  }

  /** Sends a request without waiting for an answer (a request the broker should refuse). */
  async send<Req>(req: MessageSchema<Req>, version: number, body: Encodable<Req>): Promise<void> {
    await this.writeFully(this.encode(req, version, body).frame);
  }

  /** Resolves once the broker has closed the connection (fails if it sends a frame first). */
  async closedByBroker(): Promise<void> {
    try {
      const f = await this.frame();
      throw new Error(`expected the connection to close, got a ${f.length}-byte frame`);
    } catch (e) {
      if (
        (e as Error).message !== "connection closed" && !(e instanceof Deno.errors.ConnectionReset)
      ) throw e;
    }
  }

  close(): void {
    this.conn.close();
  }
}
