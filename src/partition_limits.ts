/** How many partitions one admin request may create (CreateTopics, CreatePartitions). */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";

/**
 * Most partitions one CreateTopics or CreatePartitions request may create: Kafka's controller
 * bound (QuorumController.MAX_RECORDS_PER_USER_OP, one record per partition), past which it
 * answers POLICY_VIOLATION. It keeps one request from holding the broker for minutes.
 */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;

/** Kafka's answer to a request over MAX_PARTITIONS_PER_REQUEST. */
export function tooManyPartitions(requested: number): KafkaError {
  return new KafkaError(
    ErrorCode.POLICY_VIOLATION,
    `Unable to perform excessively large batch operation: ${requested} partitions, more than ` +
      `the ${MAX_PARTITIONS_PER_REQUEST} one request may create`,
  );
}
