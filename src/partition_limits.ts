/** How many partitions one admin request may create (CreateTopics, CreatePartitions). */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { CreateTopicsRequestCreatableTopic } from "../protocol/messages/mod.ts";

/**
 * Most partitions one CreateTopics or CreatePartitions request may create: Kafka's controller
 * bound (ReplicationControlManager.MAX_PARTITIONS_PER_BATCH, and MAX_RECORDS_PER_USER_OP with
 * one record per partition), past which the whole request gets POLICY_VIOLATION. It keeps one
 * request from holding the broker for minutes.
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

/**
 * Kafka's validateTotalNumberOfPartitions: the partitions a CreateTopics request asks for in
 * all (-1 counts `num.partitions`, manual assignments their length), and the error for the
 * whole request when that is over the bound.
 */
export function createTopicsOverLimit(
  topics: CreateTopicsRequestCreatableTopic[],
  defaultNumPartitions: number,
): KafkaError | null {
  let total = 0;
  for (const t of topics) {
    const assignments = t.assignments ?? [];
    if (assignments.length > 0) total += assignments.length;
    else if (t.numPartitions === -1) total += defaultNumPartitions;
    else if (t.numPartitions > 0) total += t.numPartitions;
  }
  if (total <= MAX_PARTITIONS_PER_REQUEST) return null;
  return new KafkaError(
    ErrorCode.POLICY_VIOLATION,
    "Excessively large number of partitions per request.",
  );
}
