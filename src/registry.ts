/**
 * The handler registry: one entry per API key (version range, schemas, handler). ApiVersions,
 * the version gate and dispatch are all derived from it, so there is no second list of
 * supported versions to drift out of date.
 */
import type { RequestHeader } from "../protocol/headers.ts";
import type { Encodable, MessageSchema, Msg } from "../protocol/schema.ts";
import type { Broker } from "./broker.ts";

export interface RequestContext {
  broker: Broker;
  header: RequestHeader;
  apiVersion: number;
  /** Remote address of the client, for group membership and logs. */
  clientHost: string;
  connectionId: number;
}

/**
 * Returns the response body, or null when no response is sent (Produce with acks=0). `Req` and
 * `Resp` are the generated message types (default: the loose `Msg`, for handlers not yet
 * typed). The request arrives complete (absent fields carry their defaults); the response may
 * leave out any field, which is then written as its declared default.
 */
export type Handler<Req = Msg, Resp = Msg> = (
  req: Req,
  ctx: RequestContext,
) => Encodable<Resp> | null | Promise<Encodable<Resp> | null>;

/**
 * One API: its key, served versions, schemas and handler. Generic over the request and response
 * types so that, declared through `defineApi`, the handler's argument and return value are
 * checked against the schemas' generated types (a misspelt field is a compile error).
 */
export interface ApiRegistration<Req = Msg, Resp = Msg> {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  request: MessageSchema<Req>;
  response: MessageSchema<Resp>;
  handler: Handler<Req, Resp>;
}

/**
 * Declares a handler file's registration with its types inferred from the schemas:
 *
 *   export const heartbeat = defineApi({
 *     apiKey: 12, name: "Heartbeat", minVersion: 0, maxVersion: 4,
 *     request: HeartbeatRequest, response: HeartbeatResponse,
 *     handler: (req, ctx) => ({ errorCode: 0 }), // req: HeartbeatRequest
 *   });
 */
export function defineApi<Req, Resp>(r: ApiRegistration<Req, Resp>): ApiRegistration<Req, Resp> {
  return r;
}

/** A registration with its types erased, as the registry and dispatch hold them. */
// deno-lint-ignore no-explicit-any
export type AnyApiRegistration = ApiRegistration<any, any>;

export class HandlerRegistry {
  private readonly byKey = new Map<number, AnyApiRegistration>();

  register<Req, Resp>(r: ApiRegistration<Req, Resp>): void {
    if (this.byKey.has(r.apiKey)) throw new Error(`api key ${r.apiKey} registered twice`);
    this.byKey.set(r.apiKey, r);
  }

  get(apiKey: number): AnyApiRegistration | undefined {
    return this.byKey.get(apiKey);
  }

  /** Whether `version` of `apiKey` is served. */
  supports(apiKey: number, version: number): boolean {
    const r = this.byKey.get(apiKey);
    return !!r && version >= r.minVersion && version <= r.maxVersion;
  }

  /**
   * The ApiVersions list, sorted by key. Each entry is the response's wire struct; its `name`
   * (for logs, docs and tests) is non-enumerable, because it is no field of the schema and a
   * strict encoder rejects unknown keys.
   */
  apiVersions(): { apiKey: number; minVersion: number; maxVersion: number; name: string }[] {
    return [...this.byKey.values()]
      .sort((a, b) => a.apiKey - b.apiKey)
      .map((r) =>
        Object.defineProperty(
          { apiKey: r.apiKey, minVersion: r.minVersion, maxVersion: r.maxVersion },
          "name",
          { value: r.name, enumerable: false },
        ) as { apiKey: number; minVersion: number; maxVersion: number; name: string }
      );
  }
}
