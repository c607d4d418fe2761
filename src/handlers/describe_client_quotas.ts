/**
 * DescribeClientQuotas (key 48), v0–1.
 * Behaviour: answers the entities of the client quota table (src/quota/client_quotas.ts) that
 * match the filter: each component names an entity type and matches an exact name (0), the
 * `<default>` entity (1, answered with a null name) or any named entity (2); `strict` leaves
 * out entities that have types the filter does not name. A filter with an unknown entity type,
 * a type twice, a match that does not fit its match type, or `ip` next to `user` or
 * `client-id` gets INVALID_REQUEST with no entries, as Kafka's controller answers it.
 * Version notes: v1 is flexible; otherwise the same.
 */
import {
  DescribeClientQuotasRequest,
  DescribeClientQuotasResponse,
} from "../../protocol/messages/mod.ts";
import { QuotaError } from "../quota/client_quotas.ts";
import { defineApi } from "../registry.ts";

export const describeClientQuotas = defineApi({
  apiKey: 48,
  name: "DescribeClientQuotas",
  minVersion: 0,
  maxVersion: 1,
  request: DescribeClientQuotasRequest,
  response: DescribeClientQuotasResponse,
  handler: (req, { services }) => {
    try {
      const entries = services.clientQuotas.describe(req.components, req.strict);
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        entries: entries.map((e) => ({
          entity: Object.entries(e.entity).map(([entityType, entityName]) => ({
            entityType,
            entityName,
          })),
          values: Object.entries(e.values).map(([key, value]) => ({ key, value })),
        })),
      };
    } catch (e) {
      if (!(e instanceof QuotaError)) throw e;
      return { throttleTimeMs: 0, errorCode: e.errorCode, errorMessage: e.message, entries: null };
    }
  },
});
