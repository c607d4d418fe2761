/**
 * What the coordinators' internal topics (`__consumer_offsets`, `__transaction_state`) share:
 * the slice of the broker they need to create and reach their partitions, and Kafka's rule
 * for which partition a group or transactional id lives on.
 */
import type { TopicMetadata } from "../storage/log_manager.ts";
import type { PartitionLog } from "../storage/partition_log.ts";

/** What an internal-topic log needs from the broker (a subset of Broker). */
export interface InternalTopicHost {
  topic(name: string): TopicMetadata | undefined;
  partition(topic: string, partition: number): PartitionLog | undefined;
  createTopic(
    name: string,
    numPartitions: number,
    configs: Iterable<[string, string | null]>,
  ): Promise<TopicMetadata | null>;
}

/** Java's String.hashCode over UTF-16 code units, with int32 wrap-around. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's partitionFor: Utils.abs(key.hashCode) % partitions (abs(MIN_VALUE) is 0). */
export function partitionFor(key: string, partitions: number): number {
  const h = javaStringHashCode(key);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}
