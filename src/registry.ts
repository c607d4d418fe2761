/**
 * The handler registry: one entry per API key (version range, schemas, handler). ApiVersions,
 * the version gate and dispatch are all derived from it, so there is no second list of
 * supported versions to drift out of date.
 */
import type { RequestHeader } from "../protocol/headers.ts";
import type { MessageSchema, Msg } from "../protocol/schema.ts";
import type { BrokerServices } from "./services.ts";

export interface RequestContext {
  /** What the handler may use: narrow services, not the broker (src/services.ts). */
  services: BrokerServices;
  header: RequestHeader;
  apiVersion: number;
  /** Remote address of the client, for group membership and logs. */
  clientHost: string;
  connectionId: number;
}

/** Returns the response body, or null when no response is sent (Produce with acks=0). */
export type Handler = (req: Msg, ctx: RequestContext) => Msg | null | Promise<Msg | null>;

export interface ApiRegistration {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  request: MessageSchema;
  response: MessageSchema;
  handler: Handler;
}

export class HandlerRegistry {
  private readonly byKey = new Map<number, ApiRegistration>();

  register(r: ApiRegistration): void {
    if (this.byKey.has(r.apiKey)) throw new Error(`api key ${r.apiKey} registered twice`);
    this.byKey.set(r.apiKey, r);
  }

  get(apiKey: number): ApiRegistration | undefined {
    return this.byKey.get(apiKey);
  }

  /** Whether `version` of `apiKey` is served. */
  supports(apiKey: number, version: number): boolean {
    const r = this.byKey.get(apiKey);
    return !!r && version >= r.minVersion && version <= r.maxVersion;
  }

  /** The ApiVersions list, sorted by key. */
  apiVersions(): { apiKey: number; minVersion: number; maxVersion: number; name: string }[] {
    return [...this.byKey.values()]
      .sort((a, b) => a.apiKey - b.apiKey)
      .map((r) => ({
        apiKey: r.apiKey,
        minVersion: r.minVersion,
        maxVersion: r.maxVersion,
        name: r.name,
      }));
  }
}
