/**
 * The handler registry: one entry per API key (version range, schemas, handler, placement).
 * ApiVersions, the version gate, dispatch and worker placement are all derived from it, so
 * there is no second list of supported versions or per-API facts to drift out of date.
 */
import type { RequestHeader } from "../protocol/headers.ts";
import type { Encodable, MessageSchema } from "../protocol/schema.ts";
import { type PartitionLayout, partitionLayout } from "./request_partitions.ts";
import type { BrokerServices } from "./services.ts";
import type { Session } from "./security/session.ts";

export interface RequestContext {
  /** What the handler may use: narrow services, not the broker (src/services.ts). */
  services: BrokerServices;
  header: RequestHeader;
  apiVersion: number;
  /** The listener the request arrived on, its protocol and the connection's principal. */
  session: Readonly<Session>;
  /** Remote address of the client, for group membership and logs. */
  clientHost: string;
  connectionId: number;
}

/**
 * Returns the response body, or null when no response is sent (Produce with acks=0). `Req` and
 * `Resp` are the generated message types. The request arrives complete (absent fields carry their defaults); the response may
 * leave out any field, which is then written as its declared default.
 */
export type Handler<Req = unknown, Resp = unknown> = (
  req: Req,
  ctx: RequestContext,
) => Encodable<Resp> | null | Promise<Encodable<Resp> | null>;

/**
 * Where a request is handled when the broker runs as several Deno workers: "any" (the worker
 * holding the connection), "coordinator" (worker 0, which holds the group and transaction
 * coordinators and writes the catalogue), or "partitionOwner" (whole on the worker owning
 * every partition it names, when one worker does; else here, partition by partition).
 */
export type Placement = "any" | "coordinator" | "partitionOwner";

/**
 * One API: its key, served versions, schemas, handler and placement. Generic over the request
 * and response types so that, declared through `defineApi`, the handler's argument and return
 * value are checked against the schemas' generated types (a misspelt field is a compile error).
 */
export interface ApiRegistration<Req = unknown, Resp = unknown> {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  request: MessageSchema<Req>;
  response: MessageSchema<Resp>;
  handler: Handler<Req, Resp>;
  /** Where the request is handled with workers (default "coordinator"). */
  placement?: Placement;
  /**
   * Whether what is decoded from the request may keep views of its bytes after the handler
   * answers (group member metadata, for one, is kept as received), so its buffer must not be
   * reused (default true).
   */
  retainsRequestBytes?: boolean;
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
export function defineApi<Req, Resp>(
  // The types come from the schemas alone (NoInfer): the handler is checked against them, not
  // allowed to widen them with what it happens to return.
  r: Omit<ApiRegistration<Req, Resp>, "handler"> & {
    handler: Handler<NoInfer<Req>, NoInfer<Resp>>;
  },
): ApiRegistration<Req, Resp> {
  return r;
}

/** A registration with its types erased, as the registry and dispatch hold them. */
// deno-lint-ignore no-explicit-any
export type AnyApiRegistration = ApiRegistration<any, any>;

export class HandlerRegistry {
  private readonly byKey = new Map<number, AnyApiRegistration>();
  /** Per API key, per version: where the request names its partitions. */
  private readonly layouts = new Map<number, (PartitionLayout | null)[]>();

  register<Req, Resp>(r: ApiRegistration<Req, Resp>): void {
    if (this.byKey.has(r.apiKey)) throw new Error(`api key ${r.apiKey} registered twice`);
    if (r.placement === "partitionOwner") {
      const layouts: (PartitionLayout | null)[] = [];
      for (let v = r.minVersion; v <= r.maxVersion; v++) {
        layouts[v] = partitionLayout(r.request, v);
        if (!layouts[v]) throw new Error(`${r.name} v${v} names no partitions in its schema`);
      }
      this.layouts.set(r.apiKey, layouts);
    }
    this.byKey.set(r.apiKey, r);
  }

  /** Where requests of `apiKey` are handled with workers. */
  placement(apiKey: number): Placement {
    return this.byKey.get(apiKey)?.placement ?? "coordinator";
  }

  /** Whether a request frame of `apiKey` may be reused once its handler has answered. */
  frameReusable(apiKey: number): boolean {
    return this.byKey.get(apiKey)?.retainsRequestBytes === false;
  }

  /** Where a partition-owner request names its partitions (see request_partitions.ts). */
  partitionLayout(apiKey: number, version: number): PartitionLayout | null {
    return this.layouts.get(apiKey)?.[version] ?? null;
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
