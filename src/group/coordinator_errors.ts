/**
 * How a failed `__consumer_offsets` append reads in a group or commit response: Kafka's
 * mapping, shared by the classic group, offset and consumer-protocol paths.
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
