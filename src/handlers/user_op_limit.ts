/**
 * Kafka's controller bounds the metadata records one admin request may produce
 * (QuorumController MAX_RECORDS_PER_USER_OP): past it the whole request fails with
 * POLICY_VIOLATION and nothing is created. Here it also keeps one request from holding the
 * broker for seconds while it creates tens of thousands of partitions.
 */
export const MAX_RECORDS_PER_USER_OP = 10_000;

/** The message Kafka gives that POLICY_VIOLATION. */
export const EXCESSIVE_BATCH_MESSAGE = "Unable to perform excessively large batch operation.";
