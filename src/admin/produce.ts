/**
 * Producing one record from the admin API. The record is encoded as a v2 batch and sent as a
 * Produce request frame through KafkaApis.handle, the path a Kafka client's Produce takes:
 * it is routed to the partition's owning worker, validated (batch checks, compacted topics'
 * keys, timestamps, max.message.bytes), appended and counted in the metrics like any other.
 */
import { Buffer } from "node:buffer";
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import { readResponseHeader, writeRequestHeader } from "../../protocol/headers.ts";
import { ProduceRequest, ProduceResponse } from "../../protocol/messages/mod.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { codecFor, type Encodable } from "../../protocol/schema.ts";
import type { AdminHost } from "./admin_host.ts";
import { asObject, badRequest, HttpError } from "./http.ts";
import { partitionForKey } from "../client/partitioner.ts";
import { plaintextSession, type Session } from "../security/session.ts";

/** Produce v9: the first flexible version, with per-record errors (v8+). */
const PRODUCE_VERSION = 9;
const PRODUCE_KEY = 0;
/** Connection id of requests the admin API makes (never one of a real connection's). */
const ADMIN_CONNECTION_ID = -1;
/** The admin API's produce goes through request handling as a client of its own listener. */
const ADMIN_SESSION = plaintextSession("admin-api");

export interface ProduceInput {
  partition: number | null;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
  timestamp: number | null;
}

export interface ProduceResult {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp: the one given (CreateTime), or the broker's (LogAppendTime). */
  timestamp: number;
}

const textEncoder = new TextEncoder();

/** Bytes of a JSON string field; `encoding` "base64" decodes it, else UTF-8. */
function bytesOf(v: unknown, encoding: unknown, what: string): Uint8Array | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw badRequest(`${what} must be a string or null`);
  if (encoding === undefined || encoding === null || encoding === "utf8") {
    return textEncoder.encode(v);
  }
  if (encoding !== "base64") throw badRequest(`${what}Encoding must be utf8 or base64`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
    throw badRequest(`${what} is not valid base64`);
  }
  return new Uint8Array(Buffer.from(v, "base64"));
}

/**
 * The record of a produce body: `{partition?, key?, value?, headers?, timestamp?}`, with
 * `keyEncoding` / `valueEncoding` ("utf8", the default, or "base64"); headers as
 * `[{key, value, valueEncoding?}]` or a `{key: value}` object.
 */
export function parseProduceBody(body: unknown): ProduceInput {
  const o = asObject(body, "request body");
  let partition: number | null = null;
  if (o.partition !== undefined && o.partition !== null && o.partition !== -1) {
    if (typeof o.partition !== "number" || !Number.isInteger(o.partition) || o.partition < 0) {
      throw badRequest("partition must be a partition number (absent: chosen by the key)");
    }
    partition = o.partition;
  }
  let timestamp: number | null = null;
  if (o.timestamp !== undefined && o.timestamp !== null) {
    if (typeof o.timestamp !== "number" || !Number.isSafeInteger(o.timestamp) || o.timestamp < 0) {
      throw badRequest("timestamp must be milliseconds since the epoch");
    }
    timestamp = o.timestamp;
  }
  const headers: ProduceInput["headers"] = [];
  if (Array.isArray(o.headers)) {
    for (const h of o.headers) {
      const x = asObject(h, "a headers entry");
      if (typeof x.key !== "string") throw badRequest("a header needs key (a string)");
      headers.push({ key: x.key, value: bytesOf(x.value, x.valueEncoding, "header value") });
    }
  } else if (o.headers !== undefined && o.headers !== null) {
    for (const [k, v] of Object.entries(asObject(o.headers, "headers"))) {
      headers.push({ key: k, value: bytesOf(v, undefined, "header value") });
    }
  }
  return {
    partition,
    key: bytesOf(o.key, o.keyEncoding, "key"),
    value: bytesOf(o.value, o.valueEncoding, "value"),
    headers,
    timestamp,
  };
}

/**
 * The partition Kafka's default partitioner picks: murmur2 of the key (positive) modulo the
 * partition count for a keyed record; any partition for a record without a key.
 */
export function defaultPartition(key: Uint8Array | null, partitions: number): number {
  if (key === null) return Math.floor(Math.random() * partitions);
  return partitionForKey(key, partitions);
}

/** Produces one record to `topic` with acks=-1; rejects with the partition's Kafka error. */
export async function produceRecord(
  broker: AdminHost,
  topic: string,
  input: ProduceInput,
  /** Who produces: the logged-in user (admin_auth.ts), else the admin API itself. */
  session: Session = ADMIN_SESSION,
): Promise<ProduceResult> {
  const meta = broker.topic(topic);
  if (!meta) throw new HttpError(404, "UNKNOWN_TOPIC_OR_PARTITION", `unknown topic '${topic}'`);
  const partition = input.partition ?? defaultPartition(input.key, meta.partitions);
  if (partition >= meta.partitions) {
    throw new HttpError(
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      `topic '${topic}' has ${meta.partitions} partition(s); there is no partition ${partition}`,
    );
  }
  const timestamp = input.timestamp ?? Date.now();
  const records = encodeRecordBatch({
    records: [{ key: input.key, value: input.value, headers: input.headers, timestamp }],
  });
  const request: Encodable<ProduceRequest> = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
  const w = new Writer(records.length + 256);
  writeRequestHeader(w, {
    apiKey: PRODUCE_KEY,
    apiVersion: PRODUCE_VERSION,
    correlationId: 1,
    clientId: "tributary-admin",
  }, true);
  codecFor(ProduceRequest, PRODUCE_VERSION).encode(w, request);
  const chunks = await broker.apis.handle(
    w.finish(),
    session,
    "admin-api",
    ADMIN_CONNECTION_ID,
    true,
  );
  if (!chunks) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, "produce got no response");
  const response = decodeResponse(chunks);
  const p = response.responses[0].partitionResponses[0];
  const code = p.errorCode;
  if (code !== 0) {
    const details = p.recordErrors?.map((e) => e.batchIndexErrorMessage)
      .filter((x) => x) ?? [];
    throw new KafkaError(
      code,
      p.errorMessage ?? details[0] ??
        `produce to ${topic}-${partition} failed: ${errorName(code)}`,
    );
  }
  const logAppendTime = Number(p.logAppendTimeMs);
  return {
    topic,
    partition,
    offset: Number(p.baseOffset),
    timestamp: logAppendTime >= 0 ? logAppendTime : timestamp,
  };
}

/** The Produce response in `chunks` (a size prefix, the v1 header, the body). */
function decodeResponse(chunks: Uint8Array[]): ProduceResponse {
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(size);
  let pos = 0;
  for (const c of chunks) {
    all.set(c, pos);
    pos += c.length;
  }
  const r = new Reader(all.subarray(4));
  readResponseHeader(r, true);
  return codecFor(ProduceResponse, PRODUCE_VERSION).decode(r);
}
