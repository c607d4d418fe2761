/**
 * Where client quotas meet a request, on the worker holding the connection (Kafka's
 * KafkaApis.sendResponseMaybeThrottle and the produce and fetch paths):
 * - Produce: the request's size is recorded against `producer_byte_rate` before it is
 *   handled (the size is known then), and the throttle it earns goes in its response.
 * - Fetch (a consumer's): as Kafka's KafkaApis.handleFetchRequest, its max_bytes is capped at
 *   what `consumer_byte_rate` allows in one quota window, and once read the response's size
 *   is recorded (FetchQuotaGate.charge). A fetch over the quota (or one whose request quota is
 *   already violated) is answered at once with throttle_time_ms and no partitions (Kafka's
 *   FetchContext.getThrottledResponse, src/fetch_session.ts), its bytes taken back, the
 *   session not updated with what was read: the client fetches the same offsets after the
 *   mute. A follower's fetch is not charged (Kafka exempts replication from client quotas).
 * - Every request but ApiVersions and the SASL handshake: the request quota's throttle is the
 *   one earned by the requests before it (its own time is known only after its response is
 *   built), and its handling time is recorded after it (not for the APIs that wait by design).
 * The largest throttle is the response's, and the connection mutes for it (KIP-219).
 */
import {
  readHeaderTaggedFields,
  readRequestHeaderV1,
  type RequestHeader,
} from "../../protocol/headers.ts";
import { Reader } from "../../protocol/primitives.ts";
import type { ClientQuotaManager, QuotaAccounting, QuotaCharge } from "./client_quota_manager.ts";

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

/**
 * The client quotas of one Fetch, used where its session is kept (src/kafka_apis.ts): a
 * throttle it starts with answers it at once; else its built response is charged before it is
 * sent, and replaced by the throttled answer when that earns a throttle.
 */
export interface FetchQuotaGate {
  /** The request quota's throttle so far: above 0 the fetch is not read, only answered. */
  readonly throttleMs: number;
  /** The most bytes one response may carry under `consumer_byte_rate` (null: no limit). */
  readonly windowBytes: number | null;
  /** Records a response's size: the throttle it earns (its bytes taken back when above 0). */
  charge(bytes: number): Promise<number>;
}

export async function applyClientQuotas(
  quotas: ClientQuotaManager,
  accounting: QuotaAccounting,
  frame: Uint8Array,
  principal: string,
  handle: (throttleTimeMs: number, fetch?: FetchQuotaGate) => Promise<Uint8Array[] | null>,
): Promise<{ response: Uint8Array[] | null; throttleMs: number }> {
  let apiKey: number;
  let clientId: string;
  let follower: boolean;
  try {
    const r = new Reader(frame);
    const h = readRequestHeaderV1(r);
    apiKey = h.apiKey;
    clientId = h.clientId ?? "";
    follower = isFollowerFetch(r, h);
  } catch {
    return { response: await handle(0), throttleMs: 0 }; // the handler closes the connection
  }
  if (EXEMPT.has(apiKey) || follower) {
    return { response: await handle(0), throttleMs: 0 };
  }
  const user = quotaUser(principal);
  const fetch = apiKey === FETCH_KEY;
  const before = await accounting.beforeRequest({
    user,
    clientId,
    produceBytes: apiKey === PRODUCE_KEY ? frame.length : 0,
    ...(fetch ? { fetch: true } : {}),
  });
  let { throttleMs: throttle, type } = before;
  let gate: FetchQuotaGate | undefined;
  let fetchCharge: QuotaCharge | null = null;
  if (fetch) {
    const startThrottle = throttle;
    gate = {
      throttleMs: startThrottle,
      windowBytes: before.fetchWindowBytes ?? null,
      charge: async (bytes) => {
        fetchCharge = await accounting.afterRequest({
          user,
          clientId,
          requestMs: null,
          fetchBytes: bytes,
          dropIfThrottled: { alreadyThrottledMs: startThrottle },
        });
        return fetchCharge.throttleMs;
      },
    };
  }
  const started = performance.now();
  const response = await handle(throttle, gate);
  if (!PARKING.has(apiKey)) {
    await accounting.afterRequest({
      user,
      clientId,
      requestMs: performance.now() - started,
      fetchBytes: null,
    });
  }
  const charged = fetchCharge as QuotaCharge | null;
  if (charged && charged.throttleMs > throttle) {
    [throttle, type] = [charged.throttleMs, charged.type];
  }
  quotas.throttled(type, throttle);
  return { response, throttleMs: throttle };
}

/**
 * A follower's Fetch (replica id >= 0, the body's first field through v14): as in Kafka, not
 * subject to client quotas (replication traffic). `r` stands just after the header's client
 * id.
 */
function isFollowerFetch(r: Reader, h: RequestHeader): boolean {
  if (h.apiKey !== FETCH_KEY || h.apiVersion > 14) return false;
  try {
    if (h.apiVersion >= 12) readHeaderTaggedFields(r, h);
    return r.int32() >= 0;
  } catch {
    return false;
  }
}
