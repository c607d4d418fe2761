/**
 * Shared pieces of the admin API: JSON errors `{ error, message }` with their HTTP statuses,
 * and request-input parsing.
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import { ConfigError } from "../config.ts";
import type { ContentfulStatusCode, Context } from "./hono.ts";

export { type Context, Hono } from "./hono.ts";

/** An error the admin API answers with `status` and `{ error, message, ...extra }`. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly error: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const notFound = (what: string): HttpError => new HttpError(404, "NOT_FOUND", what);
export const badRequest = (message: string, extra?: Record<string, unknown>): HttpError =>
  new HttpError(400, "INVALID_REQUEST", message, extra);

/** HTTP status for a Kafka error code thrown by the broker. */
function statusOfKafka(code: number): ContentfulStatusCode {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.UNKNOWN_TOPIC_ID:
    case ErrorCode.GROUP_ID_NOT_FOUND:
    case ErrorCode.RESOURCE_NOT_FOUND:
      return 404;
    case ErrorCode.TOPIC_ALREADY_EXISTS:
    case ErrorCode.NON_EMPTY_GROUP:
    case ErrorCode.REBALANCE_IN_PROGRESS:
    case ErrorCode.DUPLICATE_RESOURCE:
      return 409;
    case ErrorCode.TOPIC_DELETION_DISABLED:
    case ErrorCode.TOPIC_AUTHORIZATION_FAILED:
    case ErrorCode.GROUP_AUTHORIZATION_FAILED:
    case ErrorCode.CLUSTER_AUTHORIZATION_FAILED:
      return 403;
    case ErrorCode.INVALID_TOPIC_EXCEPTION:
    case ErrorCode.INVALID_PARTITIONS:
    case ErrorCode.INVALID_REPLICATION_FACTOR:
    case ErrorCode.INVALID_CONFIG:
    case ErrorCode.INVALID_REQUEST:
    case ErrorCode.OFFSET_OUT_OF_RANGE:
    case ErrorCode.INVALID_GROUP_ID:
    case ErrorCode.POLICY_VIOLATION:
    case ErrorCode.INVALID_RECORD:
    case ErrorCode.INVALID_TIMESTAMP:
    case ErrorCode.CORRUPT_MESSAGE:
      return 400;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return 413;
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.LEADER_NOT_AVAILABLE:
      return 503;
    default:
      return 500;
  }
}

/** The key a config error names: `ConfigError.key`, Kafka's unknown-name message, or `key: ...`. */
function configKey(e: Error): string | undefined {
  if (e instanceof ConfigError) return e.key;
  const m = /^Unknown topic config name: (\S+)$/.exec(e.message) ??
    /^([a-z][a-z0-9._-]*): /.exec(e.message);
  return m ? m[1] : undefined;
}

/** Turns anything thrown by a route into the JSON error response. */
export function errorResponse(c: Context, e: unknown): Response {
  if (e instanceof HttpError) {
    return c.json({ error: e.error, message: e.message, ...e.extra }, e.status);
  }
  if (e instanceof ConfigError) {
    return c.json({ error: "INVALID_CONFIG", message: e.message, key: e.key }, 400);
  }
  if (e instanceof KafkaError) {
    const body: Record<string, unknown> = { error: errorName(e.code), message: e.message };
    if (e.code === ErrorCode.INVALID_CONFIG) {
      const key = configKey(e);
      if (key) body.key = key;
    }
    return c.json(body, statusOfKafka(e.code));
  }
  const message = e instanceof Error ? e.message : String(e);
  return c.json({ error: "INTERNAL_ERROR", message }, 500);
}

/** Largest request body accepted (topic creation and config updates are small). */
export const MAX_BODY_BYTES = 1024 * 1024;

function tooLarge(): HttpError {
  return new HttpError(
    413,
    "PAYLOAD_TOO_LARGE",
    `request bodies are limited to ${MAX_BODY_BYTES} bytes`,
  );
}

/**
 * The whole of `body`, or null (the stream cancelled) once it passes MAX_BODY_BYTES; a read
 * error is thrown as it came.
 */
export async function readBoundedBody(
  body: ReadableStream<Uint8Array>,
): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY_BYTES) {
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let pos = 0;
  for (const ch of chunks) {
    all.set(ch, pos);
    pos += ch.length;
  }
  return all;
}

/** Reads the body as text, refusing (413) more than MAX_BODY_BYTES. */
async function boundedText(c: Context): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) return "";
  let all: Uint8Array | null;
  try {
    all = await readBoundedBody(body);
  } catch (e) {
    throw badRequest(`could not read the request body: ${e instanceof Error ? e.message : e}`);
  }
  if (all === null) throw tooLarge();
  return new TextDecoder().decode(all);
}

/** Parses the JSON body of a request; 400 when it is missing or not JSON, 413 when huge. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await boundedText(c);
  if (text.trim() === "") throw badRequest("a JSON request body is required");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`request body is not valid JSON: ${e instanceof Error ? e.message : e}`);
  }
}

/** A JSON object (not an array or null), or 400. */
export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw badRequest(`${what} must be a JSON object`);
  }
  return v as Record<string, unknown>;
}

/**
 * An optional integer query parameter (or path segment) within [min, max]; `dflt` when
 * absent; 400 naming the parameter otherwise.
 */
export function intParam(
  raw: string | undefined,
  name: string,
  dflt: number,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined || raw === "") return dflt;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`${name} must be an integer, got '${raw}'`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw badRequest(`${name} must be between ${min} and ${max}, got ${raw}`);
  }
  return n;
}

/** Config values in a JSON body as the strings Kafka's config parser takes (null stays null). */
export function configStrings(v: unknown, what = "configs"): [string, string | null][] {
  const o = asObject(v, what);
  return Object.entries(o).map(([k, x]) => {
    if (x === null) return [k, null];
    if (typeof x === "string" || typeof x === "number" || typeof x === "boolean") {
      return [k, String(x)];
    }
    throw new HttpError(400, "INVALID_CONFIG", `${k}: value must be a string, number or boolean`, {
      key: k,
    });
  });
}
