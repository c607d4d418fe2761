/**
 * AddOffsetsToTxn (key 25), v0–3.
 * Behaviour: adds the group's `__consumer_offsets` partition (Kafka's partitionFor: Java
 * hashCode of the group id modulo the topic's partition count, or
 * `offsets.topic.num.partitions` while the topic does not exist yet) to the producer's
 * transaction, so the commit/abort marker also reaches the offsets that TxnOffsetCommit
 * writes there. Coordinator errors as for AddPartitionsToTxn.
 * Authorization (with an authorizer, as Kafka): WRITE on the transactional id
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then READ on the group (GROUP_AUTHORIZATION_FAILED).
 * Version notes: PRODUCER_FENCED exists from v2, v0–1 get INVALID_PRODUCER_EPOCH. v3+
 * flexible. v4 (TRANSACTION_ABORTABLE) is not served.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from "../../protocol/messages/mod.ts";
import type { BrokerServices } from "../services.ts";
import { defineApi } from "../registry.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { groupAllowed, transactionalIdAllowed } from "./authorization.ts";
import { partitionFor } from "../internal_topic.ts";
import { errorCodeOf } from "./util.ts";

export const CONSUMER_OFFSETS_TOPIC = "__consumer_offsets";

/** The `__consumer_offsets` partition that holds `groupId`'s records. */
export function offsetsPartitionFor(services: BrokerServices, groupId: string): number {
  const n = services.metadataCache.topic(CONSUMER_OFFSETS_TOPIC)?.partitions ??
    services.config.int("offsets.topic.num.partitions");
  return partitionFor(groupId, n);
}

export const addOffsetsToTxn = defineApi({
  apiKey: 25,
  name: "AddOffsetsToTxn",
  minVersion: 0,
  maxVersion: 3,
  request: AddOffsetsToTxnRequest,
  response: AddOffsetsToTxnResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    if (!transactionalIdAllowed(ctx, AclOperation.WRITE, req.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    }
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    }
    let errorCode: number;
    try {
      errorCode = await services.transactions.handleAddPartitionsToTransaction(
        req.transactionalId,
        req.producerId,
        req.producerEpoch,
        [{ topic: CONSUMER_OFFSETS_TOPIC, partition: offsetsPartitionFor(services, req.groupId) }],
      );
    } catch (e) {
      errorCode = errorCodeOf(e, `add offsets to transaction ${req.transactionalId}`);
    }
    if (apiVersion < 2 && errorCode === ErrorCode.PRODUCER_FENCED) {
      errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    }
    return { throttleTimeMs: 0, errorCode };
  },
});
