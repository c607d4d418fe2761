/**
 * Shared by the wire robustness tests: raw frames, a raw client, produce/fetch bodies built
 * with the project's own codec, and the healthy-client checks.
 */
import assert from "node:assert/strict";
import { writeRequestHeader } from "../../protocol/headers.ts";
import {
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { codecFor, decodeMessage, isFlexible, type MessageSchema } from "../../protocol/schema.ts";
import type { Msg } from "./msg.ts";
import { decoder } from "./helpers.ts";
import { SAFETY_TIMEOUT_MS } from "./wait.ts";

/** The bytes of one request frame (size prefix included). */
export function frame(
  schema: MessageSchema,
  version: number,
  correlationId: number,
  body: Msg,
  apiKey = schema.apiKey!,
): Uint8Array {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(
    w,
    { apiKey, apiVersion: version, correlationId, clientId: "raw" },
    isFlexible(schema, version),
  );
  codecFor(schema, version).encode(w, body);
  const out = w.finishCopy();
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

/** A header-only frame: key, version, correlation id, client id, then `body` bytes verbatim. */
export function rawFrame(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Uint8Array,
  flexible = false,
) {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: "raw" }, flexible);
  w.raw(body);
  const out = w.finishCopy();
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

/** A client on one socket: writes frames, reads whole response frames. */
export class RawClient {
  private buf = new Uint8Array(0);
  private nextCorrelation = 1;
  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads more bytes; null at EOF or reset. */
  private async fill(timeoutMs: number): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) =>
      timer = setTimeout(() => r("timeout"), timeoutMs)
    );
    const n = await Promise.race([this.conn.read(chunk).catch(() => null), timeout]);
    clearTimeout(timer);
    if (n === "timeout") throw new Error(`no data within ${timeoutMs} ms`);
    if (n === null) return false;
    const next = new Uint8Array(this.buf.length + n);
    next.set(this.buf);
    next.set(chunk.subarray(0, n), this.buf.length);
    this.buf = next;
    return true;
  }

  /** The next response frame without its size prefix. */
  async readFrame(timeoutMs = SAFETY_TIMEOUT_MS): Promise<Uint8Array> {
    while (true) {
      if (this.buf.length >= 4) {
        const size = new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
        if (this.buf.length >= 4 + size) {
          const f = this.buf.slice(4, 4 + size);
          this.buf = this.buf.slice(4 + size);
          return f;
        }
      }
      if (!(await this.fill(timeoutMs))) throw new Error("connection closed by the broker");
    }
  }

  /** Resolves once the broker has closed the socket; fails if any byte arrives first. */
  async expectClosed(timeoutMs = SAFETY_TIMEOUT_MS): Promise<void> {
    const more = await this.fill(timeoutMs);
    assert.equal(more, false, `expected the broker to close; got ${this.buf.length} bytes`);
    assert.equal(this.buf.length, 0);
  }

  /** Sends a request and decodes its response; checks the correlation id. */
  async request(req: MessageSchema, resp: MessageSchema, version: number, body: Msg): Promise<Msg> {
    const id = this.nextCorrelation++;
    await this.write(frame(req, version, id, body));
    return parseResponse(await this.readFrame(), resp, version, id);
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** Decodes a response frame (header v1 for flexible versions except ApiVersions). */
export function parseResponse(
  f: Uint8Array,
  schema: MessageSchema,
  version: number,
  correlationId: number,
): Msg {
  const r = new Reader(f);
  assert.equal(r.int32(), correlationId, "correlation id");
  if (isFlexible(schema, version) && schema.apiKey !== 18) {
    assert.equal(r.uvarint(), 0, "no response header tags");
  }
  return decodeMessage(schema, version, f.subarray(r.pos));
}

export const PRODUCE_V = 9;

export const FETCH_V = 12;

export function produceBody(
  topic: string,
  partition: number,
  records: Uint8Array | null,
  acks = -1,
): Msg {
  return {
    transactionalId: null,
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

export function fetchBody(topic: string, partition: number, fetchOffset: number): Msg {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic,
      partitions: [{
        partition,
        currentLeaderEpoch: -1,
        fetchOffset,
        lastFetchedEpoch: -1,
        logStartOffset: -1,
        partitionMaxBytes: 1 << 20,
      }],
    }],
    forgottenTopicsData: [],
    rackId: "",
  };
}

/** The single partition response of a one-partition Produce. */
export async function produce(
  c: RawClient,
  topic: string,
  partition: number,
  records: Uint8Array | null,
) {
  const r = await c.request(
    ProduceRequest,
    ProduceResponse,
    PRODUCE_V,
    produceBody(topic, partition, records),
  );
  assert.equal(r.responses.length, 1);
  assert.equal(r.responses[0].name, topic);
  assert.equal(r.responses[0].partitionResponses.length, 1);
  return r.responses[0].partitionResponses[0] as Msg;
}

export async function fetchPartition(
  c: RawClient,
  topic: string,
  partition: number,
  offset: number,
) {
  const r = await c.request(
    FetchRequest,
    FetchResponse,
    FETCH_V,
    fetchBody(topic, partition, offset),
  );
  assert.equal(r.errorCode, 0);
  assert.equal(r.responses.length, 1);
  assert.equal(r.responses[0].partitions.length, 1);
  return r.responses[0].partitions[0] as Msg;
}

export const text = (b: Uint8Array | null) => (b === null ? null : decoder.decode(b));
