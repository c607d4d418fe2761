/**
 * Raw frames for wire-level tests: hand-built request bodies (as a client's encoder lays them
 * out, which may differ from the schema's minimum), responses decoded with the project's
 * codec, a check that the broker closed the socket, and topic set-up and offsets through
 * the protocol (so they work against a broker in a child process).
 */
import assert from "node:assert/strict";
import { writeRequestHeader } from "../../protocol/headers.ts";
import {
  CreateTopicsRequest,
  CreateTopicsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
} from "../../protocol/messages/mod.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { codecFor, decodeMessage, isFlexible, type MessageSchema } from "../../protocol/schema.ts";
import type { Msg } from "./msg.ts";
import { RawClient } from "./raw_client.ts";

/** A frame (size prefix included) of `body` bytes behind a request header. */
export function rawRequest(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Uint8Array,
  flexible: boolean,
): Uint8Array {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: "wire" }, flexible);
  w.raw(body);
  const out = w.finishCopy();
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

/** A frame of `body` encoded with the project's schema. */
export function request(
  schema: MessageSchema,
  version: number,
  correlationId: number,
  body: Msg,
): Uint8Array {
  const w = new Writer();
  codecFor(schema, version).encode(w, body);
  return rawRequest(
    schema.apiKey!,
    version,
    correlationId,
    w.finishCopy(),
    isFlexible(schema, version),
  );
}

/** One socket: raw frames out, whole response frames in, and a check that it was closed. */
export class WireClient {
  private buf = new Uint8Array(0);
  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number): Promise<WireClient> {
    return new WireClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads more bytes; false at EOF or reset. */
  private async fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk).catch(() => null);
    if (n === null) return false;
    const next = new Uint8Array(this.buf.length + n);
    next.set(this.buf);
    next.set(chunk.subarray(0, n), this.buf.length);
    this.buf = next;
    return true;
  }

  async readFrame(): Promise<Uint8Array> {
    while (true) {
      if (this.buf.length >= 4) {
        const size = new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
        if (this.buf.length >= 4 + size) {
          const f = this.buf.slice(4, 4 + size);
          this.buf = this.buf.slice(4 + size);
          return f;
        }
      }
      if (!(await this.fill())) throw new Error("connection closed by the broker");
    }
  }

  /** Decodes the next response, checking its correlation id. */
  async response(schema: MessageSchema, version: number, correlationId: number): Promise<Msg> {
    const f = await this.readFrame();
    const r = new Reader(f);
    assert.equal(r.int32(), correlationId, "correlation id");
    if (isFlexible(schema, version) && schema.apiKey !== 18) {
      assert.equal(r.uvarint(), 0, "no response header tags");
    }
    return decodeMessage(schema, version, f.subarray(r.pos));
  }

  /** Resolves once the broker has closed the socket; fails if any byte arrives first. */
  async expectClosed(): Promise<void> {
    const more = await this.fill();
    assert.equal(more, false, `expected the broker to close; got ${this.buf.length} bytes`);
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** Creates `name` with `partitions` partitions through CreateTopics. */
export async function createTopic(
  port: number,
  name: string,
  partitions: number,
  configs: { name: string; value: string }[] = [],
): Promise<void> {
  const r = await RawClient.once(port, CreateTopicsRequest, CreateTopicsResponse, 5, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal(r.topics[0].errorCode, 0, `create ${name}: ${r.topics[0].errorMessage}`);
}

/** The log end offset of each partition `partitions` of `topic` (ListOffsets latest). */
export async function logEndOffsets(
  port: number,
  topic: string,
  partitions: number[],
): Promise<number[]> {
  const r = await RawClient.once(port, ListOffsetsRequest, ListOffsetsResponse, 5, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{
      name: topic,
      partitions: partitions.map((p) => ({ partitionIndex: p, timestamp: -1 })),
    }],
  });
  return (r.topics[0].partitions as Msg[]).map((p) => {
    assert.equal(p.errorCode, 0);
    return p.offset as number;
  });
}
