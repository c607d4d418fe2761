/**
 * A minimal Kafka client for the benchmarks: one connection, one request at a time, timing up
 * to the last response byte (decoding happens after the clock stops).
 */
import { readResponseHeader, writeRequestHeader } from "../../protocol/headers.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { codecFor, isFlexible, type MessageSchema } from "../../protocol/schema.ts";
import type { Msg } from "./msg.ts";
import { LOOPBACK } from "./scale_broker.ts";

export class Client {
  private correlationId = 0;
  private buf = new Uint8Array(1 << 20);
  private start = 0;
  private end = 0;

  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number): Promise<Client> {
    const conn = await Deno.connect({ hostname: LOOPBACK, port });
    conn.setNoDelay(true);
    return new Client(conn);
  }

  /** Sends a request, returns the decoded response and the ms until its last byte arrived. */
  async timed(
    req: MessageSchema,
    resp: MessageSchema,
    version: number,
    body: Msg,
  ): Promise<{ msg: Msg; ms: number }> {
    const flexible = isFlexible(req, version);
    const correlationId = ++this.correlationId;
    const w = new Writer(256);
    w.int32(0);
    writeRequestHeader(
      w,
      { apiKey: req.apiKey!, apiVersion: version, correlationId, clientId: "scale" },
      flexible,
    );
    codecFor(req, version).encode(w, body);
    w.patchInt32AtStart(w.length - 4);
    const out = w.finish();
    const t0 = performance.now();
    for (let off = 0; off < out.length;) off += await this.conn.write(out.subarray(off));
    const frame = await this.frame();
    const ms = performance.now() - t0;
    const r = new Reader(frame);
    const headerV1 = flexible && req.apiKey !== 18;
    if (readResponseHeader(r, headerV1) !== correlationId) throw new Error("correlation mismatch");
    return { msg: codecFor(resp, version).decode(r), ms };
  }

  call(req: MessageSchema, resp: MessageSchema, version: number, body: Msg): Promise<Msg> {
    return this.timed(req, resp, version, body).then((x) => x.msg);
  }

  private async frame(): Promise<Uint8Array> {
    for (let i = 0; i < 1_000_000; i++) {
      const have = this.end - this.start;
      if (have >= 4) {
        const b = this.buf;
        const s = this.start;
        const size = ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0;
        if (have >= 4 + size) {
          const f = this.buf.slice(s + 4, s + 4 + size);
          this.start += 4 + size;
          return f;
        }
        if (4 + size > this.buf.length - this.start) {
          const next = new Uint8Array(Math.max(this.buf.length, 4 + size + 65536));
          next.set(this.buf.subarray(this.start, this.end));
          this.buf = next;
          this.end = have;
          this.start = 0;
        }
      }
      if (this.end === this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      const n = await this.conn.read(this.buf.subarray(this.end));
      if (n === null) throw new Error("connection closed");
      this.end += n;
    }
    throw new Error("frame too long in coming");
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // gone
    }
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 0.5);
}
