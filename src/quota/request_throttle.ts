/**
 * Where client quotas meet a request, on the worker holding the connection (Kafka's
 * KafkaApis.sendResponseMaybeThrottle and the produce and fetch paths):
 * - Produce: the request's size is recorded against `producer_byte_rate` before it is
 *   handled (the size is known then), and the throttle it earns goes in its response.
 * - Fetch: the response's size is recorded against `consumer_byte_rate` once it is built, and
 *   the throttle it earns is written into the encoded response (Fetch's `throttle_time_ms` is
 *   its first field, v1+). Unlike Kafka the fetched data is still answered, not replaced by an
 *   empty response: the client then waits out the mute, so the rate over the window is the
 *   same, and no fetch session state has to be rolled back.
 * - Every request but ApiVersions and the SASL handshake: the request quota's throttle is the
 *   one earned by the requests before it (its own time is known only after its response is
 *   built), and its handling time is recorded after it (not for the APIs that wait by design).
 * The largest throttle is the response's, and the connection mutes for it (KIP-219).
 * A follower's Fetch (replication) is exempt, as in Kafka.
 */
import { readHeaderTaggedFields, readRequestHeaderV1 } from "../../protocol/headers.ts";
import { Reader } from "../../protocol/primitives.ts";
import type { ClientQuotaManager, QuotaAccounting } from "./client_quota_manager.ts";

const PRODUCE_KEY = 0;
const FETCH_KEY = 1;
/** SaslHandshake, ApiVersions and SaslAuthenticate are not throttled, as in Kafka. */
const EXEMPT = new Set([17, 18, 36]);
/**
 * Fetch, JoinGroup and SyncGroup wait by design (the long poll, the rebalance): their time is
 * not thread time in Kafka, so it is not counted against `request_percentage` here.
 */
const PARKING = new Set([FETCH_KEY, 11, 14]);

/** The user a principal's quotas are kept under: its name (`User:alice` → `alice`). */
export function quotaUser(principal: string): string {
  const colon = principal.indexOf(":");
  return colon < 0 ? principal : principal.slice(colon + 1);
}

export async function applyClientQuotas(
  quotas: ClientQuotaManager,
  accounting: QuotaAccounting,
  frame: Uint8Array,
  principal: string,
  handle: (throttleTimeMs: number) => Promise<Uint8Array[] | null>,
): Promise<{ response: Uint8Array[] | null; throttleMs: number }> {
  let apiKey: number;
  let apiVersion: number;
  let clientId: string;
  try {
    const h = readRequestHeaderV1(new Reader(frame));
    apiKey = h.apiKey;
    apiVersion = h.apiVersion;
    clientId = h.clientId ?? "";
  } catch {
    return { response: await handle(0), throttleMs: 0 }; // the handler closes the connection
  }
  if (EXEMPT.has(apiKey) || isFollowerFetch(frame, apiKey, apiVersion)) {
    return { response: await handle(0), throttleMs: 0 };
  }
  const user = quotaUser(principal);
  let { throttleMs: throttle, type } = await accounting.beforeRequest({
    user,
    clientId,
    produceBytes: apiKey === PRODUCE_KEY ? frame.length : 0,
  });
  const started = performance.now();
  const response = await handle(throttle);
  let fetchBytes: number | null = null;
  if (apiKey === FETCH_KEY && response) {
    fetchBytes = 0;
    for (const c of response) fetchBytes += c.length;
  }
  const after = await accounting.afterRequest({
    user,
    clientId,
    requestMs: PARKING.has(apiKey) ? null : performance.now() - started,
    fetchBytes,
  });
  const t = after.throttleMs;
  if (
    t > throttle && response && apiVersion >= 1 && patchFetchThrottle(response, apiVersion, t)
  ) {
    [throttle, type] = [t, after.type];
  }
  quotas.throttled(type, throttle);
  return { response, throttleMs: throttle };
}

/**
 * A follower's Fetch (replica id >= 0, the body's first field through v14): as in Kafka, not
 * subject to client quotas (replication traffic).
 */
function isFollowerFetch(frame: Uint8Array, apiKey: number, apiVersion: number): boolean {
  if (apiKey !== FETCH_KEY || apiVersion > 14) return false;
  try {
    const r = new Reader(frame);
    const h = readRequestHeaderV1(r);
    if (apiVersion >= 12) readHeaderTaggedFields(r, h);
    return r.int32() >= 0;
  } catch {
    return false;
  }
}

/**
 * Writes `ms` as the throttle time of an encoded Fetch response: after the size, the
 * correlation id and (v12+, response header v1) the header's empty tagged fields.
 */
function patchFetchThrottle(chunks: Uint8Array[], version: number, ms: number): boolean {
  const at = 8 + (version >= 12 ? 1 : 0);
  const first = chunks[0];
  if (!first || first.length < at + 4) return false;
  new DataView(first.buffer, first.byteOffset, first.length).setInt32(at, ms);
  return true;
}
