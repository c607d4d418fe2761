/**
 * Request and response headers.
 *
 * Request header v1: api key, api version, correlation id, client id (nullable int16
 * string); v2 adds a tagged-field section. The client id is never a compact string, even in
 * v2 (KIP-482 kept it readable by brokers that do not know the api). A request uses v2 when
 * its api version is flexible, v1 otherwise.
 * Response header v0: correlation id; v1 adds tagged fields, for flexible versions — except
 * ApiVersions, whose response always uses v0 so a client can parse it before it knows what
 * the broker supports.
 */
import { ProtocolError } from "./errors.ts";
import type { Reader, Writer } from "./primitives.ts";
import type { TaggedField } from "./schema.ts";

export const API_VERSIONS_KEY = 18;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  taggedFields?: TaggedField[];
}

/** Reads the fixed part of a request header (key, version, correlation id, client id). */
export function readRequestHeaderV1(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString();
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Reads the v2 tagged-field section that follows the fixed header of flexible requests. */
export function readHeaderTaggedFields(r: Reader, h: RequestHeader): void {
  const n = r.uvarint();
  if (n > r.remaining) throw new ProtocolError("header tagged field count exceeds frame");
  for (let i = 0; i < n; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    (h.taggedFields ??= []).push([tag, r.raw(size)]);
  }
}

export function writeRequestHeader(w: Writer, h: RequestHeader, flexible: boolean): void {
  w.int16(h.apiKey);
  w.int16(h.apiVersion);
  w.int32(h.correlationId);
  w.nullableString(h.clientId);
  if (flexible) w.uvarint(0);
}

/** Response header: v1 (with an empty tagged section) for flexible versions, else v0. */
export function writeResponseHeader(w: Writer, correlationId: number, headerV1: boolean): void {
  w.int32(correlationId);
  if (headerV1) w.uvarint(0);
}

export function readResponseHeader(r: Reader, headerV1: boolean): number {
  const correlationId = r.int32();
  if (headerV1) {
    const n = r.uvarint();
    for (let i = 0; i < n; i++) {
      r.uvarint();
      r.raw(r.uvarint());
    }
  }
  return correlationId;
}
