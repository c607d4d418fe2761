/**
 * AlterClientQuotas (key 49), v0–1.
 * Behaviour: sets or removes quota values per entity (`user`, `client-id`, both, or `ip`; a
 * null name is the `<default>` entity). Each entry is validated on its own, as Kafka's
 * controller does: an empty entity, an unknown or repeated entity type, an empty name, `ip`
 * combined with another type, an unknown key (`producer_byte_rate`, `consumer_byte_rate`,
 * `request_percentage`, `controller_mutation_rate`; `connection_creation_rate` for `ip`), a
 * key twice, a fractional value for a Long key or a value not above zero gets
 * INVALID_REQUEST with a message, and the valid entries are applied together, written
 * durably (src/quota/quota_store.ts; in a cluster, the metadata store, and in force on every
 * broker once its watch delivers them) and in force for the next request of every connection
 * (with workers, once every worker has them). `validateOnly` checks and changes nothing.
 * `controller_mutation_rate` and `connection_creation_rate` are stored and described but not
 * enforced.
 * Version notes: v1 is flexible; otherwise the same.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
} from "../../protocol/messages/mod.ts";
import type { QuotaEntity } from "../quota/client_quotas.ts";
import { defineApi } from "../registry.ts";

export const alterClientQuotas = defineApi({
  apiKey: 49,
  name: "AlterClientQuotas",
  minVersion: 0,
  maxVersion: 1,
  request: AlterClientQuotasRequest,
  response: AlterClientQuotasResponse,
  handler: async (req, { services }) => {
    const duplicates = new Set<number>();
    const alterations = req.entries.map((entry, i) => {
      const entity: QuotaEntity = {};
      for (const c of entry.entity) {
        if (c.entityType in entity) duplicates.add(i);
        entity[c.entityType] = c.entityName;
      }
      return { entity, ops: entry.ops };
    });
    // An entry naming an entity type twice is refused before the others are looked at.
    const valid = alterations.filter((_, i) => !duplicates.has(i));
    const results = await services.clientQuotas.alter(valid, req.validateOnly);
    let next = 0;
    return {
      throttleTimeMs: 0,
      entries: req.entries.map((entry, i) => {
        const entity = entry.entity.map((c) => ({
          entityType: c.entityType,
          entityName: c.entityName,
        }));
        if (duplicates.has(i)) {
          const type = entry.entity.find((c, j) =>
            entry.entity.findIndex((d) =>
              d.entityType === c.entityType
            ) !== j
          )!.entityType;
          return {
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Duplicate ${type} entity type in client quota entity`,
            entity,
          };
        }
        const r = results[next++];
        return { errorCode: r?.errorCode ?? 0, errorMessage: r?.message ?? null, entity };
      }),
    };
  },
});
