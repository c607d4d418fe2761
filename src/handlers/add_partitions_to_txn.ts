/**
 * AddPartitionsToTxn (key 24), v0–4.
 * Behaviour: adds partitions to the producer's transaction (the transaction coordinator in
 * src/txn/ writes Ongoing with the union of partitions to `__transaction_state` before
 * answering). Every partition must exist: otherwise those get UNKNOWN_TOPIC_OR_PARTITION and
 * the others OPERATION_NOT_ATTEMPTED, and nothing is added, as in Kafka. A coordinator error
 * (INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS, NOT_COORDINATOR
 * when another broker coordinates the id, COORDINATOR_LOAD_IN_PROGRESS, ...) is given for
 * every partition.
 * Authorization (with an authorizer, as Kafka): v0–3 (clients) need WRITE on the
 * transactional id (else every partition gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and WRITE
 * on each topic (internal topics never pass): a refused topic gets TOPIC_AUTHORIZATION_FAILED
 * and the rest OPERATION_NOT_ATTEMPTED; v4 (brokers) needs CLUSTER_ACTION on the cluster (else
 * the top-level CLUSTER_AUTHORIZATION_FAILED).
 * Version notes: v0–3 carry one transaction (`v3AndBelow*` fields) and answer in
 * `resultsByTopicV3AndBelow`; PRODUCER_FENCED exists from v2, v0–1 get INVALID_PRODUCER_EPOCH.
 * v3+ flexible. v4 (KIP-890, meant for brokers) batches transactions and may ask
 * `verifyOnly`: then nothing is added and each partition answers NONE when it is in the
 * ongoing transaction, INVALID_TXN_STATE when not (v5's TRANSACTION_ABORTABLE is not served);
 * partition leaders on other brokers ask this way before appending a transactional batch.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  type AddPartitionsToTxnPartitionResult,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  type AddPartitionsToTxnTopic,
  type AddPartitionsToTxnTopicResult,
} from "../../protocol/messages/mod.ts";
import { defineApi, type RequestContext } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { isInternalTopic } from "../txn/produce_verification.ts";
import { transactionalIdAllowed } from "./authorization.ts";
import { type TopicPartition, tpKey } from "../txn/transaction_metadata.ts";
import { errorCodeOf } from "./util.ts";

/** Partition results grouped by topic, in request order. */
function results(
  partitions: TopicPartition[],
  errorOf: (tp: TopicPartition) => number,
): AddPartitionsToTxnTopicResult[] {
  const byTopic = new Map<string, AddPartitionsToTxnPartitionResult[]>();
  for (const tp of partitions) {
    let list = byTopic.get(tp.topic);
    if (!list) byTopic.set(tp.topic, list = []);
    list.push({ partitionIndex: tp.partition, partitionErrorCode: errorOf(tp) });
  }
  return [...byTopic].map(([name, resultsByPartition]) => ({ name, resultsByPartition }));
}

async function addOne(
  ctx: RequestContext,
  transactionalId: string,
  producerId: number,
  producerEpoch: number,
  topics: AddPartitionsToTxnTopic[],
  verifyOnly: boolean,
  apiVersion: number,
): Promise<AddPartitionsToTxnTopicResult[]> {
  const services = ctx.services;
  const partitions: TopicPartition[] = [];
  const seen = new Set<string>();
  for (const t of topics) {
    for (const p of t.partitions) {
      const k = tpKey(t.name, p);
      if (seen.has(k)) continue;
      seen.add(k);
      partitions.push({ topic: t.name, partition: p });
    }
  }
  // Clients' requests need WRITE on each topic; brokers' (v4) passed CLUSTER_ACTION.
  const authorizer = services.authorizer;
  const writable = apiVersion < 4 && authorizer.enabled
    ? authorizer.filterAuthorized(
      ctx,
      AclOperation.WRITE,
      ResourceType.TOPIC,
      partitions.map((tp) => tp.topic).filter((t) => !isInternalTopic(t)),
    )
    : null;
  const errorOf = (tp: TopicPartition) =>
    writable && !writable.has(tp.topic)
      ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
      : !services.replicaManager.hasPartition(tp.topic, tp.partition)
      ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      : ErrorCode.NONE;
  if (partitions.some((tp) => errorOf(tp) !== ErrorCode.NONE)) {
    return results(partitions, (tp) => errorOf(tp) || ErrorCode.OPERATION_NOT_ATTEMPTED);
  }
  const coordinator = services.transactions;
  if (verifyOnly) {
    const r = coordinator.handleVerifyPartitionsInTransaction(
      transactionalId,
      producerId,
      producerEpoch,
      partitions,
    );
    return results(
      partitions,
      (tp) => typeof r === "number" ? r : r.get(tpKey(tp.topic, tp.partition))!,
    );
  }
  let error: number;
  try {
    error = await coordinator.handleAddPartitionsToTransaction(
      transactionalId,
      producerId,
      producerEpoch,
      partitions,
    );
  } catch (e) {
    error = errorCodeOf(e, `add partitions to transaction ${transactionalId}`);
  }
  if (apiVersion < 2 && error === ErrorCode.PRODUCER_FENCED) {
    error = ErrorCode.INVALID_PRODUCER_EPOCH;
  }
  return results(partitions, () => error);
}

export const addPartitionsToTxn = defineApi({
  apiKey: 24,
  name: "AddPartitionsToTxn",
  minVersion: 0,
  maxVersion: 4,
  request: AddPartitionsToTxnRequest,
  response: AddPartitionsToTxnResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    if (apiVersion < 4) {
      if (!transactionalIdAllowed(ctx, AclOperation.WRITE, req.v3AndBelowTransactionalId)) {
        const partitions = req.v3AndBelowTopics.flatMap((t) =>
          t.partitions.map((partition) => ({ topic: t.name, partition }))
        );
        return {
          throttleTimeMs: 0,
          resultsByTopicV3AndBelow: results(
            partitions,
            () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
          ),
        };
      }
      return {
        throttleTimeMs: 0,
        resultsByTopicV3AndBelow: await addOne(
          ctx,
          req.v3AndBelowTransactionalId,
          req.v3AndBelowProducerId,
          req.v3AndBelowProducerEpoch,
          req.v3AndBelowTopics,
          false,
          apiVersion,
        ),
      };
    }
    if (
      !services.authorizer.authorize(
        ctx,
        AclOperation.CLUSTER_ACTION,
        ResourceType.CLUSTER,
        CLUSTER_NAME,
      )
    ) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        resultsByTransaction: [],
      };
    }
    const resultsByTransaction = await Promise.all(
      req.transactions.map(async (t) => ({
        transactionalId: t.transactionalId,
        topicResults: await addOne(
          ctx,
          t.transactionalId,
          t.producerId,
          t.producerEpoch,
          t.topics,
          t.verifyOnly,
          apiVersion,
        ),
      })),
    );
    return { throttleTimeMs: 0, errorCode: 0, resultsByTransaction };
  },
});
