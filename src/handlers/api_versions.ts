/**
 * ApiVersions (key 18), v0–4.
 * Behaviour: lists every registered API with its version range, taken from the registry.
 * Version notes: v3+ is flexible and carries the client's software name and version; the
 * response header is always v0. Unknown versions are answered by the connection with a v0
 * UNSUPPORTED_VERSION response (KIP-511), before this handler is reached.
 */
import { ApiVersionsRequest, ApiVersionsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";

export const apiVersions = defineApi({
  apiKey: 18,
  placement: "any",
  retainsRequestBytes: false,
  name: "ApiVersions",
  minVersion: 0,
  maxVersion: 4,
  request: ApiVersionsRequest,
  response: ApiVersionsResponse,
  handler: (_req, ctx) => ({
    errorCode: 0,
    apiKeys: ctx.services.apiVersions(),
    throttleTimeMs: 0,
    finalizedFeaturesEpoch: -1,
  }),
});
