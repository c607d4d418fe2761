/**
 * ListTransactions (key 66), v0–1.
 * Behaviour: every transactional id the coordinator knows, filtered as Kafka filters: by state
 * names (unknown names are returned in `unknownStateFilters` and match nothing), by producer
 * ids, and (v1) by duration: only transactions started more than `durationFilter` ms ago.
 * Authorization (with an authorizer, as Kafka): only the transactional ids the principal may
 * DESCRIBE are listed.
 * Version notes: v0 flexible; v1 adds DurationFilter (-1: no filter).
 */
import { ListTransactionsRequest, ListTransactionsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";

export const listTransactions = defineApi({
  apiKey: 66,
  name: "ListTransactions",
  minVersion: 0,
  maxVersion: 1,
  request: ListTransactionsRequest,
  response: ListTransactionsResponse,
  handler: (req, ctx) => {
    const authorizer = ctx.services.authorizer;
    const r = ctx.services.transactions.list(
      req.stateFilters,
      req.producerIdFilters,
      req.durationFilter ?? -1,
    );
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      unknownStateFilters: r.unknownStateFilters,
      transactionStates: r.transactions.filter((t) =>
        authorizer.authorize(
          ctx,
          AclOperation.DESCRIBE,
          ResourceType.TRANSACTIONAL_ID,
          t.transactionalId,
          true,
        )
      ).map((t) => ({
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        transactionState: t.state,
      })),
    };
  },
});
