/**
 * DescribeTopicPartitions (key 75), v0 (KIP-966; the Java admin client 3.9 describes topics
 * with it).
 * Behaviour, as Kafka's DescribeTopicPartitionsRequestHandler: the topics asked for (none =
 * all), from the cursor's topic on, in name order, each with its partitions from the cursor's
 * partition (0 for later topics), until `responsePartitionLimit` partitions (at most
 * `max.request.partition.size.limit`, at least 1) are described; `nextCursor` then names the
 * first partition left out. Topics asked for by name that do not exist get
 * UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an invalid name); with all topics
 * asked for they cannot occur. A cursor whose topic is not among those asked for, or whose
 * partition is negative, fails the request with INVALID_REQUEST. Leaders, leader epochs,
 * replicas, ISR and offline replicas as Metadata gives them (alone: this broker, epoch 0);
 * no eligible leader replicas. Authorization (with an authorizer, as
 * Kafka): a topic needs DESCRIBE; with all topics asked for the others are left out, topics
 * asked for by name are answered TOPIC_AUTHORIZATION_FAILED after the rest (outside the limit
 * and the cursor). Each topic's authorized
 * operations come from the authorizer (every operation without one).
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  DescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsRequestTopicRequest,
  DescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponseCursor,
  type DescribeTopicPartitionsResponsePartition,
  type DescribeTopicPartitionsResponseTopic,
} from "../../protocol/messages/mod.ts";
import type { Encodable } from "../../protocol/schema.ts";
import { validateTopicName } from "../../storage/log_manager.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { isInternalTopic } from "../txn/produce_verification.ts";

const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

/** Kafka's DescribeTopicPartitionsRequest.getErrorResponse: each topic asked for, `code`. */
function failed(
  requested: DescribeTopicPartitionsRequestTopicRequest[],
  code: number,
): Encodable<DescribeTopicPartitionsResponse> {
  return {
    throttleTimeMs: 0,
    topics: requested.map((rt) => ({
      errorCode: code,
      name: rt.name,
      topicId: ZERO_UUID,
      isInternal: false,
      partitions: [],
      topicAuthorizedOperations: -2147483648,
    })),
    nextCursor: null,
  };
}

export const describeTopicPartitions = defineApi({
  apiKey: 75,
  name: "DescribeTopicPartitions",
  minVersion: 0,
  maxVersion: 0,
  request: DescribeTopicPartitionsRequest,
  response: DescribeTopicPartitionsResponse,
  handler: (req, ctx) => {
    const { services } = ctx;
    const authorizer = services.authorizer;
    const describable = (name: string, quiet = false) =>
      authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name, quiet);
    const opsOf = (name: string) => authorizer.authorizedOperations(ctx, ResourceType.TOPIC, name);
    const requested = req.topics;
    const all = requested.length === 0;
    const cursor = req.cursor;
    const cursorTopic = cursor?.topicName ?? "";
    const names = new Set<string>();
    // String comparison by UTF-16 code units, as Java's String.compareTo.
    if (all) {
      for (const t of services.metadataCache.topics()) {
        if (t.name >= cursorTopic && describable(t.name, true)) names.add(t.name);
      }
    } else {
      for (const rt of requested) if (rt.name >= cursorTopic) names.add(rt.name);
      if (cursor && !names.has(cursor.topicName)) {
        return failed(requested, ErrorCode.INVALID_REQUEST);
      }
    }
    if (cursor && cursor.partitionIndex < 0) return failed(requested, ErrorCode.INVALID_REQUEST);
    // As Kafka: topics asked for that may not be described are answered after the others,
    // outside the partition limit and the cursor, without saying whether they exist.
    const refused: Encodable<DescribeTopicPartitionsResponseTopic>[] = [];
    if (!all) {
      for (const name of [...names].sort()) {
        if (describable(name)) continue;
        names.delete(name);
        refused.push({
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          name,
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: -2147483648,
        });
      }
    }
    const limit = Math.max(
      Math.min(
        services.config.int("max.request.partition.size.limit"),
        req.responsePartitionLimit,
      ),
      1,
    );
    let remaining = limit;
    const topics: Encodable<DescribeTopicPartitionsResponseTopic>[] = [];
    let nextCursor: DescribeTopicPartitionsResponseCursor | null = null;
    for (const name of [...names].sort()) {
      if (remaining === 0) {
        // Every partition of the topics before is described: go on from this topic's first.
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const t = services.metadataCache.topic(name);
      if (!t) {
        if (!all) {
          let errorCode: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          try {
            validateTopicName(name);
          } catch (e) {
            if (!(e instanceof KafkaError)) throw e;
            errorCode = e.code;
          }
          topics.push({
            errorCode,
            name,
            topicId: ZERO_UUID,
            isInternal: isInternalTopic(name),
            partitions: [],
            topicAuthorizedOperations: opsOf(name),
          });
        }
        continue;
      }
      const start = name === cursorTopic ? cursor!.partitionIndex : 0;
      const upper = Math.min(t.partitions, start + remaining);
      const partitions: Encodable<DescribeTopicPartitionsResponsePartition>[] = [];
      for (let p = start; p < upper; p++) {
        const leader = services.leadership.leaderOf(name, p) ?? { leaderId: -1, leaderEpoch: -1 };
        const { replicas, isr } = services.leadership.replicasOf(name, p);
        partitions.push({
          errorCode: leader.leaderId === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : 0,
          partitionIndex: p,
          leaderId: leader.leaderId,
          leaderEpoch: leader.leaderEpoch,
          replicaNodes: replicas,
          isrNodes: isr,
          eligibleLeaderReplicas: [],
          lastKnownElr: [],
          offlineReplicas: replicas.filter((id) => !services.leadership.broker(id)),
        });
      }
      topics.push({
        errorCode: 0,
        name,
        topicId: t.topicId,
        isInternal: isInternalTopic(name),
        partitions,
        topicAuthorizedOperations: opsOf(name),
      });
      if (upper < t.partitions) {
        nextCursor = { topicName: name, partitionIndex: upper };
        break;
      }
      remaining -= partitions.length;
    }
    return { throttleTimeMs: 0, topics: [...topics, ...refused], nextCursor };
  },
});
