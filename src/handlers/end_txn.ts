/**
 * EndTxn (key 26), v0–4.
 * Behaviour: commits or aborts the producer's ongoing transaction through the transaction
 * coordinator (src/txn/): PrepareCommit/PrepareAbort is written to `__transaction_state`, a
 * marker is appended to every partition of the transaction (which releases the last stable
 * offset), then CompleteCommit/CompleteAbort. The answer is sent once the markers are written
 * (Kafka answers after the Prepare record; here markers are local appends, or WriteTxnMarkers
 * to the broker leading the partition), or at once if a marker write fails, which is then
 * retried in the background until written. An id whose `__transaction_state` partition
 * another broker leads gets NOT_COORDINATOR. Repeating the same end on a
 * completed transaction answers NONE; ending an Empty transaction or the opposite of a
 * completed/deciding one answers INVALID_TXN_STATE; a stale epoch PRODUCER_FENCED.
 * Authorization (with an authorizer, as Kafka): WRITE on the transactional id, else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 * Version notes: PRODUCER_FENCED exists from v2, v0–1 get INVALID_PRODUCER_EPOCH. v3+
 * flexible. v4 only announces TRANSACTION_ABORTABLE, which this coordinator never returns.
 * v5 (KIP-890 part 2: epoch bump per transaction) is not served.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { EndTxnRequest, EndTxnResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { transactionalIdAllowed } from "./authorization.ts";
import { errorCodeOf } from "./util.ts";

export const endTxn = defineApi({
  apiKey: 26,
  name: "EndTxn",
  minVersion: 0,
  maxVersion: 4,
  request: EndTxnRequest,
  response: EndTxnResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    if (!transactionalIdAllowed(ctx, AclOperation.WRITE, req.transactionalId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    let errorCode: number;
    try {
      errorCode = await services.transactions.handleEndTransaction(
        req.transactionalId,
        req.producerId,
        req.producerEpoch,
        req.committed,
      );
    } catch (e) {
      errorCode = errorCodeOf(e, `end transaction ${req.transactionalId}`);
    }
    if (apiVersion < 2 && errorCode === ErrorCode.PRODUCER_FENCED) {
      errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    }
    return { throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 };
  },
});
