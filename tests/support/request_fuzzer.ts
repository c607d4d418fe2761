/**
 * A request fuzzer: builds requests of every API and version the broker serves from the
 * project's schemas (field values drawn from a vocabulary of real names and edge-case
 * numbers), mutates some of their bytes, and checks that every connection either answers each
 * request (a response with the frame's correlation id) or closes. The size prefix always
 * matches the bytes sent, so no request legitimately waits for more input.
 *
 * After each fuzzed request a probe (ApiVersions v0) is pipelined on the same connection: a
 * request owed no response (Produce acks=0) is then answered by the probe's response, so
 * every request is settled within two responses. A connection that neither answers nor
 * closes within `patienceMs` is a stall, reported with the request that caused it.
 *
 * Client-declared waits are kept below the patience: Fetch maxWaitMs is clamped in the
 * request before it is sent (Kafka honours it whatever its size); group waits are bounded
 * by the broker's own group.max.session.timeout.ms and rebalance settings, which the caller
 * sets small.
 *
 * Also runnable against a running broker:
 *   deno run -A tests/support/request_fuzzer.ts --port 9092 --count 100000 --seed 7
 */
import { readRequestHeaderV1, writeRequestHeader } from "../../protocol/headers.ts";
import { ApiVersionsRequest } from "../../protocol/messages/mod.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import {
  codecFor,
  type FieldSchema,
  isFlexible,
  type MessageSchema,
  parseVersions,
} from "../../protocol/schema.ts";
import type { Msg } from "./msg.ts";
import * as messages from "../../protocol/messages/mod.ts";

export interface FuzzApi {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface FuzzOptions {
  port: number;
  seed: number;
  /** Fuzzed requests in all. */
  count: number;
  /** Connections fuzzing at once. */
  connections?: number;
  /** How long one request may go unanswered before it counts as a stall. */
  patienceMs?: number;
  /** The largest Fetch maxWaitMs sent. */
  maxFetchWaitMs?: number;
  /** APIs to fuzz (from ApiVersions); each request picks one and a version at random. */
  apis: FuzzApi[];
  /** Topic and group names the vocabulary uses (existing ones find deeper paths). */
  names?: string[];
  /** Topic ids the vocabulary uses (existing ones reach past the id lookup). */
  uuids?: string[];
  /** Requests sent back to back on a connection before their answers are read. */
  pipeline?: number;
}

export interface Stall {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** The request as our codec decodes it, when it decodes. */
  decoded?: string;
  hex: string;
}

export interface FuzzResult {
  sent: number;
  answered: number;
  closed: number;
  /** Requests owed no response (acks=0 Produce) that got none. */
  unanswered: number;
  stalls: Stall[];
  /** Responses that did not carry the request's correlation id. */
  mismatches: string[];
  /** The longest a batch of requests took to be settled, and its first request. */
  slowest: { ms: number; apiKey: number; apiVersion: number; decoded?: string };
}

const PROBE_CORRELATION = 0x7ffffff0;

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGE_INTS = [0, 1, -1, 2, 3, 0x7fffffff, -0x80000000, 0x7fff, -0x8000, 100, 1000, 60000];

function schemaFor(apiKey: number): MessageSchema | undefined {
  for (const v of Object.values(messages)) {
    const s = v as MessageSchema;
    if (s && s.type === "request" && s.apiKey === apiKey) return s;
  }
  return undefined;
}

function inRange(v: string | undefined, version: number): boolean {
  const [lo, hi] = parseVersions(v);
  return version >= lo && version <= hi;
}

class Sampler {
  constructor(
    readonly rnd: () => number,
    private readonly names: string[],
    private readonly uuids: string[],
  ) {}

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  number(type: string, name: string): number | bigint {
    const edge = this.rnd() < 0.3;
    switch (type) {
      case "int8":
        return edge ? this.pick([0, 1, -1, 127, -128]) : this.int(4) - 1;
      case "int16":
        return edge ? this.pick([0, 1, -1, 0x7fff, -0x8000]) : this.int(6) - 1;
      case "uint16":
        return edge ? this.pick([0, 1, 0xffff]) : this.int(6);
      case "int32":
        if (/partition|index/i.test(name) && !edge) return this.int(3);
        if (edge) return this.pick(EDGE_INTS);
        return this.rnd() < 0.5 ? this.int(4) - 1 : this.int(2000) - 1;
      case "int64":
        if (edge) return this.pick([0, -1, -2, 2 ** 53, -(2 ** 53)]);
        return this.rnd() < 0.7 ? this.int(3) - 1 : this.int(100) - 1;
      default:
        return 0;
    }
  }

  value(f: FieldSchema, version: number, depth: number): unknown {
    const nullable = inRange(f.nullableVersions, version);
    if (nullable && this.rnd() < 0.15) return null;
    if (f.type.startsWith("[]")) {
      const n = depth > 3 ? 0 : this.pick([0, 1, 1, 1, 2, 3]);
      const elem = { ...f, type: f.type.slice(2), nullableVersions: undefined };
      return Array.from({ length: n }, () => this.value(elem, version, depth + 1));
    }
    if (f.fields) return this.struct(f.fields, version, depth + 1);
    // Half the time a field keeps Kafka's default: requests then get past the first check.
    if (f.default !== undefined && this.rnd() < 0.5) {
      const d = defaultValue(f);
      if (d !== undefined) return d;
    }
    switch (f.type) {
      case "int8":
      case "int16":
      case "uint16":
      case "int32":
      case "int64":
        return this.number(f.type, f.name);
      case "float64":
        return this.pick([0, 1.5, -1, 1e300]);
      case "bool":
        return this.rnd() < 0.5;
      case "string":
        return this.rnd() < 0.8 ? this.pick(this.names) : "x".repeat(this.int(40));
      case "uuid":
        return this.pick(["AAAAAAAAAAAAAAAAAAAAAA", "AQIDBAUGBwgJCgsMDQ4PEA", ...this.uuids]);
      case "bytes":
        return new Uint8Array(this.int(8));
      case "records":
        return this.rnd() < 0.7
          ? encodeRecordBatch({ records: [{ key: "k", value: "fuzz" }] })
          : new Uint8Array(this.int(70));
    }
    throw new Error(`no sample for ${f.type}`);
  }

  struct(fields: FieldSchema[], version: number, depth: number): Msg {
    const m: Msg = {};
    for (const f of fields) {
      if (!inRange(f.versions, version)) continue;
      m[f.name] = this.value(f, version, depth);
    }
    return m;
  }
}

/** A field's default as Kafka's JSON writes it, when it is a plain number or boolean. */
function defaultValue(f: FieldSchema): unknown {
  const d = f.default!;
  if (f.type === "bool") return d === "true";
  if (!/^(int|uint)/.test(f.type)) return undefined;
  const n = Number(d);
  if (!Number.isFinite(n)) return undefined;
  return n;
}

/** Encodes one request frame (size prefix included). */
function encodeFrame(
  schema: MessageSchema,
  version: number,
  correlationId: number,
  body: Msg,
): Uint8Array {
  const w = new Writer(256);
  w.int32(0);
  writeRequestHeader(
    w,
    { apiKey: schema.apiKey!, apiVersion: version, correlationId, clientId: "fuzz" },
    isFlexible(schema, version),
  );
  codecFor(schema, version).encode(w, body);
  const out = w.finishCopy();
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

/** Flips, overwrites, truncates or extends bytes after the header's first 8 (key, version, id). */
function mutate(frame: Uint8Array, s: Sampler): Uint8Array {
  const bodyStart = 4 + 8;
  let out = frame.slice();
  const edits = 1 + s.int(3);
  for (let i = 0; i < edits && out.length > bodyStart; i++) {
    const at = bodyStart + s.int(out.length - bodyStart);
    switch (s.int(5)) {
      case 0:
        out[at] ^= 1 << s.int(8);
        break;
      case 1:
        out[at] = s.pick([0, 0xff, 0x7f, 0x80, 1]);
        break;
      case 2: {
        const v = s.pick(EDGE_INTS);
        const n = Math.min(4, out.length - at);
        for (let k = 0; k < n; k++) out[at + k] = (v >>> (8 * (3 - k))) & 0xff;
        break;
      }
      case 3:
        out = out.slice(0, Math.max(bodyStart, out.length - 1 - s.int(8)));
        break;
      case 4: {
        const more = new Uint8Array(out.length + 1 + s.int(8));
        more.set(out);
        out = more;
        break;
      }
    }
  }
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

/** The request as the broker's codec sees it, or null when it does not decode. */
function decode(frame: Uint8Array, schema: MessageSchema): { header: Msg; body: Msg } | null {
  try {
    const r = new Reader(frame, 4);
    const header = readRequestHeaderV1(r);
    if (isFlexible(schema, header.apiVersion)) {
      const tags = r.uvarint();
      for (let i = 0; i < tags; i++) {
        r.uvarint();
        r.raw(r.uvarint());
      }
    }
    const body = codecFor(schema, header.apiVersion).decode(r);
    return { header, body };
  } catch {
    return null;
  }
}

/** A socket reader of whole response frames that can tell a close from a silence. */
class Conn {
  private buf = new Uint8Array(0);
  private pending: Promise<number | null> | null = null;
  private chunk = new Uint8Array(64 * 1024);

  private constructor(readonly tcp: Deno.TcpConn) {}

  static async open(port: number): Promise<Conn> {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.setNoDelay(true);
    return new Conn(c);
  }

  async write(b: Uint8Array): Promise<boolean> {
    try {
      for (let off = 0; off < b.length;) off += await this.tcp.write(b.subarray(off));
      return true;
    } catch {
      return false;
    }
  }

  /** The next frame, "closed", or "silent" when nothing whole arrived within `ms`. */
  async next(ms: number): Promise<Uint8Array | "closed" | "silent"> {
    const deadline = performance.now() + ms;
    while (true) {
      if (this.buf.length >= 4) {
        const size = new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
        if (this.buf.length >= 4 + size) {
          const f = this.buf.slice(4, 4 + size);
          this.buf = this.buf.slice(4 + size);
          return f;
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) return "silent";
      this.pending ??= this.tcp.read(this.chunk).catch(() => null);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.pending,
        new Promise<"silent">((r) => timer = setTimeout(() => r("silent"), left)),
      ]);
      clearTimeout(timer);
      if (n === "silent") return "silent";
      this.pending = null;
      if (n === null) return "closed";
      const next = new Uint8Array(this.buf.length + n);
      next.set(this.buf);
      next.set(this.chunk.subarray(0, n), this.buf.length);
      this.buf = next;
    }
  }

  close(): void {
    try {
      this.tcp.close();
    } catch {
      // already closed
    }
  }
}

const PROBE = (() => {
  const w = new Writer(64);
  w.int32(0);
  writeRequestHeader(
    w,
    { apiKey: 18, apiVersion: 0, correlationId: PROBE_CORRELATION, clientId: "probe" },
    false,
  );
  codecFor(ApiVersionsRequest, 0).encode(w, {});
  const out = w.finishCopy();
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
})();

const correlationOf = (f: Uint8Array) => new DataView(f.buffer, f.byteOffset).getInt32(0);

/** Runs the fuzzer; see the module comment. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const patience = opts.patienceMs ?? 10_000;
  const maxWait = opts.maxFetchWaitMs ?? 200;
  const names = opts.names ?? ["fuzz", "g0", "g1", "t0", "fuzz-missing"];
  const result: FuzzResult = {
    sent: 0,
    answered: 0,
    closed: 0,
    unanswered: 0,
    stalls: [],
    mismatches: [],
    slowest: { ms: 0, apiKey: -1, apiVersion: -1 },
  };
  const apis = opts.apis.flatMap((a) => {
    const schema = schemaFor(a.apiKey);
    return schema ? [{ ...a, schema }] : [];
  });
  let next = 0;
  const pipeline = Math.max(1, opts.pipeline ?? 1);
  /** One fuzzed request, ready to send. */
  const build = (s: Sampler, i: number) => {
    const api = s.pick(apis);
    const version = api.minVersion + s.int(api.maxVersion - api.minVersion + 1);
    const body = s.struct(api.schema.fields, version, 0);
    let frame = encodeFrame(api.schema, version, i + 1, body);
    if (s.rnd() < 0.6) frame = mutate(frame, s);
    let sent = api;
    let sentVersion = version;
    if (s.rnd() < 0.08) {
      // One API's body under another's header (a served key and version).
      sent = s.pick(apis);
      sentVersion = sent.minVersion + s.int(sent.maxVersion - sent.minVersion + 1);
      const view = new DataView(frame.buffer, frame.byteOffset);
      view.setInt16(4, sent.apiKey);
      view.setInt16(6, sentVersion);
    }
    const decoded = decode(frame, sent.schema);
    if (decoded && sent.apiKey === 1 && decoded.body.maxWaitMs > maxWait) {
      // A long poll is not a stall: ask for one shorter than the patience.
      decoded.body.maxWaitMs = s.int(maxWait);
      frame = encodeFrame(sent.schema, sentVersion, decoded.header.correlationId, decoded.body);
    }
    return {
      api: sent,
      version: sentVersion,
      frame,
      decoded,
      expected: decoded?.header.correlationId ?? correlationOf(frame.subarray(8)),
      noResponse: decoded !== null && sent.apiKey === 0 && decoded.body.acks === 0,
    };
  };
  const worker = async (w: number) => {
    const s = new Sampler(prng(opts.seed * 1000 + w), names, opts.uuids ?? []);
    let conn = await Conn.open(opts.port);
    try {
      while (next < opts.count) {
        const batch = [];
        while (batch.length < pipeline && next < opts.count) batch.push(build(s, next++));
        result.sent += batch.length;
        // The requests back to back, then the probe: answers must come in that order.
        const all = new Uint8Array(batch.reduce((n, b) => n + b.frame.length, PROBE.length));
        let off = 0;
        for (const b of batch) {
          all.set(b.frame, off);
          off += b.frame.length;
        }
        all.set(PROBE, off);
        const started = performance.now();
        let closed = !(await conn.write(all));
        let answer: Uint8Array | "closed" | "silent" = closed
          ? "closed"
          : await conn.next(patience);
        let k = 0;
        for (; k < batch.length; k++) {
          const b = batch[k];
          if (answer === "closed" || answer === "silent") break;
          const id = correlationOf(answer);
          if (id === b.expected && !(id === PROBE_CORRELATION && b.noResponse)) {
            result.answered++;
            answer = await conn.next(patience);
          } else if (b.noResponse) {
            result.unanswered++; // this answer is the next request's (or the probe's)
          } else {
            result.mismatches.push(
              `api ${b.api.apiKey} v${b.version}: got ${id}, want ${b.expected}`,
            );
            closed = true;
            k = batch.length;
          }
        }
        if (answer !== "closed" && answer !== "silent" && !closed) {
          if (correlationOf(answer) !== PROBE_CORRELATION) {
            result.mismatches.push(`probe answered out of order (${correlationOf(answer)})`);
          }
        }
        if (answer === "closed") {
          // The first request not answered closed the connection; those after it are lost.
          result.closed += batch.length - k;
          closed = true;
        } else if (answer === "silent") {
          const b = batch[Math.min(k, batch.length - 1)];
          result.stalls.push({
            apiKey: b.api.apiKey,
            apiVersion: b.version,
            correlationId: b.expected,
            decoded: b.decoded ? JSON.stringify(b.decoded.body, jsonBig) : undefined,
            hex: [...b.frame].map((x) => x.toString(16).padStart(2, "0")).join(""),
          });
          result.closed += batch.length - k - 1;
          closed = true;
        }
        const ms = performance.now() - started;
        if (ms > result.slowest.ms) {
          const b = batch[0];
          result.slowest = {
            ms: Math.round(ms),
            apiKey: b.api.apiKey,
            apiVersion: b.version,
            decoded: b.decoded ? JSON.stringify(b.decoded.body, jsonBig).slice(0, 500) : undefined,
          };
        }
        if (closed) {
          conn.close();
          conn = await Conn.open(opts.port);
        }
      }
    } finally {
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: opts.connections ?? 4 }, (_, w) => worker(w)));
  return result;
}

function jsonBig(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  return v;
}

if (import.meta.main) {
  const arg = (name: string, dflt: number) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
  };
  const port = arg("port", 9092);
  const c = await Conn.open(port);
  await c.write(PROBE);
  const f = await c.next(5000);
  c.close();
  if (typeof f === "string") throw new Error(`no ApiVersions answer: ${f}`);
  const r = new Reader(f, 4);
  r.int16(); // error code
  const n = r.int32();
  const apis: FuzzApi[] = [];
  for (let i = 0; i < n; i++) {
    apis.push({ apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() });
  }
  const res = await fuzz({
    port,
    apis,
    seed: arg("seed", 1),
    count: arg("count", 10000),
    connections: arg("connections", 8),
    patienceMs: arg("patience", 10_000),
    pipeline: arg("pipeline", 1),
  });
  console.log(JSON.stringify(res, null, 2));
}
