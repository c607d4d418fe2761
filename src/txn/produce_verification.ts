/**
 * Produce-side checks for transactions. The Produce handler refuses internal topics
 * (`__transaction_state`, `__consumer_offsets`: written by their coordinators only, a client
 * append gets INVALID_TOPIC_EXCEPTION, as in Kafka) and sends transactional batches to
 * Broker.transactionalAppend, which runs checkTransactionalProduce on the broker (or Deno
 * worker) holding the transaction coordinator right before it enqueues the append or sends it
 * to the partition's owner (synchronously, and markers take the same ordered path, so a marker
 * the coordinator writes later lands after the batch):
 *
 * - Transaction verification (KIP-890 part 1, Kafka 3.6+, on by default through
 *   `transaction.partition.verification.enable`): a transactional batch is accepted only when
 *   its partition was added to the producer's ongoing transaction, with the producer's current
 *   epoch. Kafka's broker asks the coordinator with AddPartitionsToTxn v4 (verify only); here
 *   the coordinator is local and answers synchronously. Errors are translated as Kafka's
 *   ReplicaManager does for the produce response: not added → INVALID_TXN_STATE ("Partition
 *   was not added to the transaction"; TRANSACTION_ABORTABLE for Produce v11, whose clients
 *   know it), fenced epoch → INVALID_PRODUCER_EPOCH, coordinator busy → NOT_ENOUGH_REPLICAS
 *   (retriable for every client).
 *   Without a transactional id in the request (Produce v3+ always carries it for a
 *   transactional producer) there is nothing to verify against, as in Kafka.
 * - Across brokers: when the transactional id's coordinator (the leader of its
 *   `__transaction_state` partition) is another broker, the partition's leader asks it with
 *   AddPartitionsToTxn v4 verify-only (txn_verifier.ts) and translates the answer the same
 *   way. A marker for the producer appended here while the question was out makes the answer
 *   stale (the transaction it verified has ended): the batch is refused with INVALID_TXN_STATE
 *   rather than opening a transaction no marker would ever close (Kafka's verification guard).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  isTransactional,
  MAGIC_OFFSET,
  MAGIC_V2,
  readBatchHeader,
  RECORD_BATCH_OVERHEAD,
} from "../../protocol/record_batch.ts";
import type { TransactionCoordinator } from "./transaction_coordinator.ts";
import { TRANSACTION_STATE_TOPIC } from "./transaction_log.ts";

const INTERNAL_TOPICS = new Set([TRANSACTION_STATE_TOPIC, "__consumer_offsets"]);
/** Produce v11 added TRANSACTION_ABORTABLE (KIP-890). */
const FIRST_ABORTABLE_ERROR_PRODUCE_VERSION = 11;

export interface ProduceRejection {
  code: number;
  message: string;
}

/** Whether clients may not produce to `topic` (the coordinators' internal topics). */
export function isInternalTopic(topic: string): boolean {
  return INTERNAL_TOPICS.has(topic);
}

/** Whether `records` starts with a v2 transactional batch of a real producer. */
export function isTransactionalBatch(records: Uint8Array): boolean {
  if (records.length < RECORD_BATCH_OVERHEAD || records[MAGIC_OFFSET] !== MAGIC_V2) return false;
  const h = readBatchHeader(records, 0);
  return isTransactional(h) && h.producerId >= 0;
}

/**
 * Null when the append may proceed, else the partition's error for the produce response.
 * For a batch that passed isTransactionalBatch, with verification on and a transactional id.
 */
export function checkTransactionalProduce(
  coordinator: TransactionCoordinator,
  transactionalId: string,
  topic: string,
  partition: number,
  records: Uint8Array,
  produceVersion: number,
): ProduceRejection | null {
  const h = readBatchHeader(records, 0);
  const error = coordinator.verifyTransactionalProduce(
    transactionalId,
    h.producerId,
    h.producerEpoch,
    topic,
    partition,
  );
  return verificationRejection(error, h.producerId, h.producerEpoch, produceVersion);
}

/**
 * The produce response's error for the coordinator's verification answer `error` (from the
 * local coordinator, or AddPartitionsToTxn v4 verify-only from a remote one), as Kafka's
 * ReplicaManager translates it; null when the append may proceed.
 */
export function verificationRejection(
  error: number,
  producerId: number,
  producerEpoch: number,
  produceVersion: number,
): ProduceRejection | null {
  switch (error) {
    case ErrorCode.NONE:
      return null;
    case ErrorCode.PRODUCER_FENCED:
      return {
        code: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `producer ${producerId} epoch ${producerEpoch} is fenced`,
      };
    case ErrorCode.INVALID_TXN_STATE:
      return {
        code: produceVersion >= FIRST_ABORTABLE_ERROR_PRODUCE_VERSION
          ? ErrorCode.TRANSACTION_ABORTABLE
          : ErrorCode.INVALID_TXN_STATE,
        message: "Partition was not added to the transaction",
      };
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.REQUEST_TIMED_OUT:
    case ErrorCode.NETWORK_EXCEPTION:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return {
        code: ErrorCode.NOT_ENOUGH_REPLICAS,
        message:
          `Unable to verify the partition has been added to the transaction. Underlying error: ${error}`,
      };
    default:
      return { code: error, message: `transaction verification failed with error ${error}` };
  }
}
