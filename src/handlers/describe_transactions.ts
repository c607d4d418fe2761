/**
 * DescribeTransactions (key 65), v0.
 * Behaviour: the coordinator's state of each transactional id: state name (Kafka's: Empty,
 * Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort), timeout, start time
 * (-1 when no transaction has started), producer id and epoch, and the partitions of the
 * ongoing transaction by topic. Unknown ids get TRANSACTIONAL_ID_NOT_FOUND; ids whose
 * `__transaction_state` partition another broker leads NOT_COORDINATOR, and ids of a
 * partition still loading COORDINATOR_LOAD_IN_PROGRESS, as in Kafka.
 * Authorization (with an authorizer, as Kafka): DESCRIBE on each transactional id (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED); only the topics the principal may DESCRIBE are listed.
 * Version notes: v0 is flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { transactionalIdAllowed } from "./authorization.ts";

export const describeTransactions = defineApi({
  apiKey: 65,
  name: "DescribeTransactions",
  minVersion: 0,
  maxVersion: 0,
  request: DescribeTransactionsRequest,
  response: DescribeTransactionsResponse,
  handler: (req, ctx) => ({
    throttleTimeMs: 0,
    transactionStates: req.transactionalIds.map((id) => {
      const allowed = transactionalIdAllowed(ctx, AclOperation.DESCRIBE, id);
      const notHere = allowed
        ? ctx.services.transactions.coordinatorError(id)
        : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      const d = notHere === ErrorCode.NONE ? ctx.services.transactions.describe(id) : undefined;
      if (!d) {
        return {
          errorCode: notHere !== ErrorCode.NONE ? notHere : ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
          transactionalId: id,
          transactionState: "",
          transactionTimeoutMs: 0,
          transactionStartTimeMs: -1,
          producerId: -1,
          producerEpoch: -1,
          topics: [],
        };
      }
      const byTopic = new Map<string, number[]>();
      for (const tp of d.partitions) {
        let list = byTopic.get(tp.topic);
        if (!list) byTopic.set(tp.topic, list = []);
        list.push(tp.partition);
      }
      return {
        errorCode: 0,
        transactionalId: id,
        transactionState: d.state,
        transactionTimeoutMs: d.timeoutMs,
        transactionStartTimeMs: d.startTimeMs,
        producerId: d.producerId,
        producerEpoch: d.producerEpoch,
        topics: [...byTopic].filter(([topic]) =>
          ctx.services.authorizer.authorize(
            ctx,
            AclOperation.DESCRIBE,
            ResourceType.TOPIC,
            topic,
            true,
          )
        ).map(([topic, partitions]) => ({
          topic,
          partitions: partitions.sort((a, b) => a - b),
        })),
      };
    }),
  }),
});
