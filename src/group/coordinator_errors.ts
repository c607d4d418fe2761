/**
 * How a failed `__consumer_offsets` append, or a failed transaction verification, reads in a
 * group or commit response: Kafka's mappings, shared by the classic group, offset and
 * consumer-protocol paths.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { log } from "../log.ts";

/** Kafka's mapping of append errors to what a group/commit request answers. */
export function appendErrorCode(e: unknown, forCommit: boolean): number {
  if (!(e instanceof KafkaError)) {
    log.error(`group coordinator append failed: ${e instanceof Error ? e.stack : e}`);
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
  switch (e.code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
    case ErrorCode.BROKER_NOT_AVAILABLE:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return forCommit ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return e.code;
  }
}

/**
 * Kafka's translation of transaction verification errors for TxnOffsetCommit (as for
 * Produce, see txn/produce_verification.ts; coordinator trouble then reads as
 * COORDINATOR_NOT_AVAILABLE, Kafka's normalisation of NOT_ENOUGH_REPLICAS for commits).
 */
export function txnVerificationError(code: number, apiVersion: number): number {
  switch (code) {
    case ErrorCode.NONE:
      return ErrorCode.NONE;
    case ErrorCode.PRODUCER_FENCED:
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    case ErrorCode.INVALID_TXN_STATE:
    case ErrorCode.TRANSACTION_ABORTABLE:
      return apiVersion >= 4 ? ErrorCode.TRANSACTION_ABORTABLE : ErrorCode.INVALID_TXN_STATE;
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    default:
      return code;
  }
}
