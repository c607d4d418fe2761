/**
 * Raw-protocol steps the client-quota tests share: set (or remove) one quota of one entity
 * with AlterClientQuotas, and put one record on a partition with Produce v9, each asserting
 * that the broker took it, so a test's own assertions are about the throttle.
 */
import assert from "node:assert/strict";
import {
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { RawClient } from "./raw_client.ts";

/** One entity component, as AlterClientQuotas names it (`entityName` null: the default). */
export interface QuotaEntityPart {
  entityType: string;
  entityName: string | null;
}

/** The user every unauthenticated connection is. */
export const ANONYMOUS: QuotaEntityPart = { entityType: "user", entityName: "ANONYMOUS" };

/** Sets quota `key` of `entity` to `value` (null: removes it), with AlterClientQuotas `version`. */
export async function setQuota(
  port: number,
  entity: QuotaEntityPart | QuotaEntityPart[],
  key: string,
  value: number | null,
  version = 1,
): Promise<void> {
  const r = await RawClient.once(
    port,
    AlterClientQuotasRequest,
    AlterClientQuotasResponse,
    version,
    {
      entries: [{
        entity: Array.isArray(entity) ? entity : [entity],
        ops: [{ key, value: value ?? 0, remove: value === null }],
      }],
      validateOnly: false,
    },
  );
  assert.equal(r.entries[0].errorCode, 0);
}

/** Produces one record of `value` (and `key`) to `topic`-`partition`; asserts no error. */
export async function produceOne(
  port: number,
  topic: string,
  value: string,
  opts: { partition?: number; acks?: number; key?: string } = {},
): Promise<void> {
  const record = opts.key === undefined ? { value } : { key: opts.key, value };
  const r = await RawClient.once(port, ProduceRequest, ProduceResponse, 9, {
    transactionalId: null,
    acks: opts.acks ?? -1,
    timeoutMs: 5000,
    topicData: [{
      name: topic,
      partitionData: [{
        index: opts.partition ?? 0,
        records: encodeRecordBatch({ records: [record] }),
      }],
    }],
  });
  assert.equal(r.responses[0].partitionResponses[0].errorCode, 0);
}
