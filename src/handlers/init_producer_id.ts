/**
 * InitProducerId (key 22), v0–5.
 * Behaviour: an idempotent producer (no transactional id) gets a fresh producer id with
 * epoch 0. Ids come from blocks reserved on disk before use, so an id is never handed out
 * twice, even across restarts (sequence state for old ids is rebuilt from the log).
 * A transactional id goes to the transaction coordinator (src/txn/): the timeout must be in
 * 1..`transaction.max.timeout.ms` (else INVALID_TRANSACTION_TIMEOUT); the first call for an
 * id allocates its producer id, later ones bump the epoch and so fence the previous producer
 * instance; an ongoing transaction is aborted first and the caller gets
 * CONCURRENT_TRANSACTIONS, to retry; an exhausted epoch moves the id to a new producer id.
 * Authorization (with an authorizer, as Kafka 3.x): a transactional id needs WRITE on it
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an idempotent producer needs IDEMPOTENT_WRITE on the
 * cluster or WRITE on some topic (CLUSTER_AUTHORIZATION_FAILED).
 * Version notes: v2+ flexible; v3+ may carry the current id/epoch (KIP-360): for a
 * transactional id, a producer passing its current epoch resumes with a bumped one (after an
 * abortable error), one passing the previous epoch gets the current one again (a retry), any
 * other gets PRODUCER_FENCED; for a non-transactional producer it is simply replaced by a new
 * id. PRODUCER_FENCED exists from v4; v0–3 get INVALID_PRODUCER_EPOCH instead, as in Kafka.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { InitProducerIdRequest, InitProducerIdResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { transactionalIdAllowed } from "./authorization.ts";
import { errorCodeOf } from "./util.ts";

export const initProducerId = defineApi({
  apiKey: 22,
  name: "InitProducerId",
  minVersion: 0,
  maxVersion: 5,
  request: InitProducerIdRequest,
  response: InitProducerIdResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    try {
      const noId = req.producerId === -1;
      const noEpoch = req.producerEpoch === -1;
      if (noId !== noEpoch) {
        // Kafka: the id and epoch of KIP-360 come together or not at all.
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.INVALID_REQUEST,
          producerId: -1,
          producerEpoch: -1,
        };
      }
      const denied = (errorCode: number) => ({
        throttleTimeMs: 0,
        errorCode,
        producerId: -1,
        producerEpoch: -1,
      });
      const authorizer = services.authorizer;
      if (req.transactionalId != null) {
        if (!transactionalIdAllowed(ctx, AclOperation.WRITE, req.transactionalId)) {
          return denied(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        }
      } else if (
        !authorizer.authorize(
          ctx,
          AclOperation.IDEMPOTENT_WRITE,
          ResourceType.CLUSTER,
          CLUSTER_NAME,
          true,
        ) &&
        !authorizer.authorizeByResourceType(ctx, AclOperation.WRITE, ResourceType.TOPIC)
      ) {
        return denied(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      }
      if (req.transactionalId != null) {
        const expected = noId
          ? null
          : { producerId: req.producerId, producerEpoch: req.producerEpoch };
        const r = await services.transactions.handleInitProducerId(
          req.transactionalId,
          req.transactionTimeoutMs,
          expected,
        );
        const errorCode = apiVersion < 4 && r.errorCode === ErrorCode.PRODUCER_FENCED
          ? ErrorCode.INVALID_PRODUCER_EPOCH
          : r.errorCode;
        return { throttleTimeMs: 0, ...r, errorCode };
      }
      const producerId = await services.producerIds.next();
      return { throttleTimeMs: 0, errorCode: 0, producerId, producerEpoch: 0 };
    } catch (e) {
      return {
        throttleTimeMs: 0,
        errorCode: errorCodeOf(e, "init producer id"),
        producerId: -1,
        producerEpoch: -1,
      };
    }
  },
});
