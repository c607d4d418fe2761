/**
 * Produce (key 0), v0–11.
 * Behaviour: each partition's record batches are validated (magic 2, CRC-32C, sizes against
 * `max.message.bytes`), checked against the idempotent producer's sequence state, given
 * offsets by patching baseOffset in place and appended as received; record bodies are never
 * decoded, except where Kafka checks records one by one (storage/record_validation.ts): a
 * record without a key on a compacted topic, a CreateTime outside
 * `message.timestamp.{before,after}.max.ms`; those fail the partition with INVALID_RECORD or
 * INVALID_TIMESTAMP and are listed in `recordErrors` (v8+, KIP-467). Partitions of one
 * request are appended concurrently, each by its own log, which serialises its appends; with Deno workers each partition's append runs on its owning
 * worker (src/partition_ops.ts), the batch bytes copied once and transferred. acks must be 0, 1 or -1 (INVALID_REQUIRED_ACKS otherwise); with a
 * single replica, 1 and -1 both answer once the batch is in the log. acks=0 gets no response;
 * when any of its partitions fails, the connection is closed instead (logged at info), as
 * Kafka does, so the producer notices and refreshes its metadata.
 * Unknown topics get UNKNOWN_TOPIC_OR_PARTITION: as in Kafka, topics are auto-created by
 * Metadata requests, which every client sends before producing. Internal topics
 * (`__consumer_offsets`, `__transaction_state`) get INVALID_TOPIC_EXCEPTION. A transactional
 * batch must go to a partition added to the producer's ongoing transaction, under its current
 * epoch (transaction verification, `transaction.partition.verification.enable`): else
 * INVALID_TXN_STATE (v11: TRANSACTION_ABORTABLE) or INVALID_PRODUCER_EPOCH; see
 * src/txn/produce_verification.ts.
 * Authorization (with an authorizer, as Kafka's KafkaApis): transactional batches need WRITE on
 * the transactional id (else every partition gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
 * each topic needs WRITE (TOPIC_AUTHORIZATION_FAILED), checked before the topic's existence.
 * Version notes: v0–2 may carry legacy message sets (magic 0/1), which the partition's log
 * stores up-converted to one v2 batch with offsets assigned, as Kafka 3.x does (see
 * storage/log_validator.ts); v3+ must carry v2 batches (INVALID_RECORD otherwise, as Kafka's
 * ProduceRequest.validateRecords). v0 has no throttle time, v2+ answers logAppendTime.
 * Replicated partitions (src/replication/): acks=-1 needs `min.insync.replicas` in the ISR
 * (NOT_ENOUGH_REPLICAS, nothing appended) and is answered once the high watermark passes the
 * batch (Kafka's DelayedProduce): NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below
 * the minimum meanwhile, REQUEST_TIMED_OUT after `timeout_ms`, NOT_LEADER_OR_FOLLOWER if
 * leadership moved; acks=1 is answered after the leader's append.
 * In a cluster, a partition this broker does not lead gets NOT_LEADER_OR_FOLLOWER
 * (LEADER_NOT_AVAILABLE while none does); an idempotent producer's later batches of the same
 * epoch, pipelined behind one refused so, get NOT_LEADER_OR_FOLLOWER too while the log lacks
 * the refused sequence, even once this broker leads, instead of OUT_OF_ORDER_SEQUENCE_NUMBER
 * (src/replication/refused_produces.ts). v9+ flexible; v10+ carries the current leader and
 * its endpoint with NOT_LEADER_OR_FOLLOWER (KIP-951).
 */
import { ErrorCode, errorName } from "../../protocol/errors.ts";
import {
  ProduceRequest,
  ProduceResponse,
  type ProduceResponsePartitionProduceResponse,
  type ProduceResponseTopicProduceResponse,
} from "../../protocol/messages/mod.ts";
import { MAGIC_OFFSET, MAGIC_V2 } from "../../protocol/record_batch.ts";
import { CloseConnection } from "../close_connection.ts";
import { topicConfigValue } from "../config.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { isInternalTopic, isTransactionalBatch } from "../txn/produce_verification.ts";
import { LeaderHints, wantsLeaderHint } from "./leader_hints.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";

function partitionError(
  index: number,
  errorCode: number,
  errorMessage: string | null = null,
): ProduceResponsePartitionProduceResponse {
  return {
    index,
    errorCode,
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    recordErrors: [],
    errorMessage,
  };
}

/** The answer giving every partition of the request `errorCode` (none for acks=0). */
function everyPartition(req: ProduceRequest, errorCode: number) {
  if (req.acks === 0) {
    throw new CloseConnection(`produce request refused: ${errorName(errorCode)}`, {
      level: "info",
      errorCodes: [errorCode],
    });
  }
  return {
    throttleTimeMs: 0,
    responses: req.topicData.map((t) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p) => partitionError(p.index, errorCode)),
    })),
  };
}

export const produce = defineApi({
  apiKey: 0,
  placement: "partitionOwner",
  retainsRequestBytes: false,
  name: "Produce",
  minVersion: 0,
  maxVersion: 11,
  request: ProduceRequest,
  response: ProduceResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    const authorizer = services.authorizer;
    const txnId = req.transactionalId ?? null;
    if (
      authorizer.enabled &&
      req.topicData.some((t) =>
        t.partitionData.some((p) => p.records && isTransactionalBatch(p.records))
      ) &&
      (txnId === null ||
        !authorizer.authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, txnId))
    ) {
      return everyPartition(req, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    }
    const writable = authorizer.filterAuthorized(
      ctx,
      AclOperation.WRITE,
      ResourceType.TOPIC,
      req.topicData.map((t) => t.name),
    );
    const acks = req.acks;
    const verifyTxn = services.config.bool("transaction.partition.verification.enable");
    const validAcks = acks === 0 || acks === 1 || acks === -1;
    const responses: ProduceResponseTopicProduceResponse[] = [];
    const pending: Promise<void>[] = [];
    const hints = new LeaderHints(services, ctx.session.listenerName);
    const replicaManager = services.replicaManager;
    const replication = replicaManager.replication;
    // Bytes and records appended per topic, counted in the metrics once the request is done.
    const appendedIn = new Map<string, { bytes: number; records: number }>();
    for (const td of req.topicData) {
      const topic = td.name;
      const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
      responses.push({ name: topic, partitionResponses });
      const topicWritable = writable.has(topic);
      const internal = isInternalTopic(topic);
      const tally = appendedIn.get(topic) ?? { bytes: 0, records: 0 };
      appendedIn.set(topic, tally);
      for (const pd of td.partitionData) {
        const index = pd.index;
        if (!topicWritable) {
          partitionResponses.push(partitionError(index, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        if (!validAcks) {
          partitionResponses.push(partitionError(index, ErrorCode.INVALID_REQUIRED_ACKS));
          continue;
        }
        if (!replicaManager.hasPartition(topic, index)) {
          partitionResponses.push(partitionError(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
          continue;
        }
        const notServed = services.leadership.leaderError(topic, index, -1);
        if (notServed !== 0) {
          // Batches pipelined behind this one get the same answer (refused_produces.ts).
          if (pd.records) replicaManager.refusedProduces?.refuse(topic, index, pd.records);
          const refused = partitionError(index, notServed);
          if (apiVersion >= 10 && wantsLeaderHint(notServed)) {
            refused.currentLeader = hints.hint(topic, index);
          }
          partitionResponses.push(refused);
          continue;
        }
        const records = pd.records;
        if (!records || records.length === 0) {
          partitionResponses.push(
            partitionError(index, ErrorCode.CORRUPT_MESSAGE, "empty record set"),
          );
          continue;
        }
        if (
          apiVersion >= 3 && records.length > MAGIC_OFFSET && records[MAGIC_OFFSET] !== MAGIC_V2
        ) {
          partitionResponses.push(
            partitionError(
              index,
              ErrorCode.INVALID_RECORD,
              `Produce requests with version ${apiVersion} are only allowed to contain record batches with magic version 2`,
            ),
          );
          continue;
        }
        if (internal) {
          partitionResponses.push(
            partitionError(
              index,
              ErrorCode.INVALID_TOPIC_EXCEPTION,
              `Cannot append to internal topic ${topic}`,
            ),
          );
          continue;
        }
        if (acks === -1 && replication) {
          // Kafka's appendRecordsToLeader: acks=all needs min.insync.replicas in the ISR.
          const short = replication.checkEnoughReplicas(topic, index);
          if (short !== 0) {
            const isr = services.leadership.replicasOf(topic, index).isr;
            const minIsr = topicConfigValue(
              services.config,
              services.metadataCache.topic(topic)?.configs ?? {},
              "min.insync.replicas",
            );
            partitionResponses.push(partitionError(
              index,
              short,
              `The size of the current ISR Set(${isr.join(", ")}) is insufficient to satisfy ` +
                `the min.isr requirement of ${minIsr} for partition ${topic}-${index}`,
            ));
            continue;
          }
        }
        const slot = partitionError(index, 0);
        partitionResponses.push(slot);
        // A transactional batch is checked against its transaction by the coordinator and
        // appended in the same step (see Broker.transactionalAppend).
        const appended = verifyTxn && txnId !== null && isTransactionalBatch(records)
          ? replicaManager.transactionalAppend(txnId, topic, index, records, apiVersion)
          : replicaManager.partitionOp(topic, index, "append", { records });
        const replicated = acks === -1 && replication
          ? appended.then(async (r) => {
            if (r.errorCode !== 0) return r;
            // DelayedProduce: answered once the HW passes the batch (or with the error).
            const last = r.lastOffset ?? r.baseOffset + r.recordCount - 1;
            const code = await replication.awaitReplication(topic, index, last + 1, req.timeoutMs);
            return code === 0 ? r : { ...r, errorCode: code, errorMessage: null };
          })
          : appended;
        pending.push(
          replicated.then((r) => {
            slot.errorCode = r.errorCode;
            slot.errorMessage = r.errorMessage;
            slot.baseOffset = r.baseOffset;
            slot.logAppendTimeMs = r.logAppendTime;
            slot.logStartOffset = r.logStartOffset;
            if (r.recordErrors) slot.recordErrors = r.recordErrors;
            if (r.errorCode === 0 && !r.duplicate) {
              tally.bytes += records.length;
              tally.records += r.recordCount;
            }
          }, (e) => {
            slot.errorCode = errorCodeOf(e, `produce to ${topic}-${index}`);
            slot.errorMessage = errorMessageOf(e);
          }),
        );
      }
    }
    await Promise.all(pending);
    for (const [topic, { bytes, records }] of appendedIn) {
      if (bytes > 0 || records > 0) services.metrics.produced(topic, bytes, records);
    }
    if (acks === 0) {
      // As Kafka: a producer that asked for no response learns of a failure only from the
      // closed connection, which makes it refresh its metadata.
      const failed: string[] = [];
      const codes: number[] = [];
      for (const t of responses) {
        for (const p of t.partitionResponses) {
          const code = p.errorCode;
          if (code === 0) continue;
          codes.push(code);
          failed.push(`${t.name}-${p.index}: ${errorName(code)}`);
        }
      }
      if (failed.length > 0) {
        throw new CloseConnection(
          `error in an acks=0 produce request (${failed.join(", ")})`,
          { level: "info", errorCodes: codes },
        );
      }
      return null;
    }
    return {
      responses,
      throttleTimeMs: 0,
      nodeEndpoints: apiVersion >= 10 ? hints.endpoints() : [],
    };
  },
});
