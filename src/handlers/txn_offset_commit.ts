/**
 * TxnOffsetCommit (key 28), v0–4.
 * Behaviour: a transactional producer's offset commit for a consumer group (a
 * consume-transform-produce loop's `sendOffsets`). The group's `__consumer_offsets` partition
 * must have been added to the transaction with AddOffsetsToTxn: the commit is verified against
 * the transaction coordinator right before the append (not added → INVALID_TXN_STATE, stale
 * epoch → INVALID_PRODUCER_EPOCH, unknown producer id → INVALID_PRODUCER_ID_MAPPING,
 * transaction ending or coordinator busy → COORDINATOR_NOT_AVAILABLE, retriable). The offsets
 * are written as one transactional batch of the producer and stay pending: OffsetFetch does not
 * return them (and answers UNSTABLE_OFFSET_COMMIT with requireStable) until EndTxn commits the
 * transaction; an abort drops them. After a restart, pending commits are rebuilt from the log:
 * a COMMIT marker applies them, an ABORT marker drops them, no marker keeps them pending.
 * Group checks as Kafka's for transactional commits: only what the request carries is
 * validated (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION — a stale KIP-848
 * member epoch reads as ILLEGAL_GENERATION); no REBALANCE_IN_PROGRESS; an unknown group
 * accepts a commit without generation. Per partition: UNKNOWN_TOPIC_OR_PARTITION,
 * OFFSET_METADATA_TOO_LARGE. An empty group id answers INVALID_GROUP_ID.
 * Authorization (with an authorizer, as Kafka): WRITE on the transactional id (else every
 * partition gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED), READ on the group (else
 * GROUP_AUTHORIZATION_FAILED), READ on each topic (TOPIC_AUTHORIZATION_FAILED).
 * Version notes: v0–1 identical; v2+ the committed leader epoch; v3+ flexible, with member id,
 * generation id and group.instance.id (and the member errors above); v4 (KIP-890) answers
 * TRANSACTION_ABORTABLE instead of INVALID_TXN_STATE when the partition was not added.
 */
import { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { groupAllowed, partitionByTopic, transactionalIdAllowed } from "./authorization.ts";

export const txnOffsetCommit = defineApi({
  apiKey: 28,
  name: "TxnOffsetCommit",
  minVersion: 0,
  maxVersion: 4,
  request: TxnOffsetCommitRequest,
  response: TxnOffsetCommitResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    const failed = (
      t: { name: string; partitions: { partitionIndex: number }[] },
      code: number,
    ) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })),
    });
    const refuseAll = (code: number) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => failed(t, code)),
    });
    if (!transactionalIdAllowed(ctx, AclOperation.WRITE, req.transactionalId)) {
      return refuseAll(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    }
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) {
      return refuseAll(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    const { allowed, denied } = partitionByTopic(ctx, AclOperation.READ, req.topics, (t) => t.name);
    const topics = allowed.length === 0 ? [] : await services.groups.commitTransactionalOffsets({
      transactionalId: req.transactionalId,
      groupId: req.groupId,
      producerId: req.producerId,
      producerEpoch: req.producerEpoch,
      generationId: apiVersion >= 3 ? req.generationId : -1,
      memberId: apiVersion >= 3 ? req.memberId : "",
      groupInstanceId: apiVersion >= 3 ? req.groupInstanceId ?? null : null,
      apiVersion,
      topics: allowed.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: apiVersion >= 2 ? p.committedLeaderEpoch : -1,
          committedMetadata: p.committedMetadata,
        })),
      })),
    });
    return {
      throttleTimeMs: 0,
      topics: [
        ...topics,
        ...denied.map((t) => failed(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED)),
      ],
    };
  },
});
