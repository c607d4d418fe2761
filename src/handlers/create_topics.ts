/**
 * CreateTopics (key 19), v0–7.
 * Behaviour: validates the name (INVALID_TOPIC_EXCEPTION), partition count
 * (INVALID_PARTITIONS; -1 = `num.partitions`), replication factor (only 1 or -1 with one
 * broker, else INVALID_REPLICATION_FACTOR), manual assignments (each partition on this
 * broker, else INVALID_REPLICA_ASSIGNMENT; refused in a cluster, where the controller places
 * every replica) and configs (INVALID_CONFIG); an existing topic
 * gets TOPIC_ALREADY_EXISTS; a name given twice in one request gets INVALID_REQUEST. A
 * request asking more than MAX_PARTITIONS_PER_REQUEST partitions in all (Kafka's 10,000) gets
 * POLICY_VIOLATION for every topic. The internal topics are created with their own
 * partition count and a compacted log (src/internal_topic.ts): another count gets
 * INVALID_PARTITIONS, another cleanup.policy INVALID_CONFIG.
 * validateOnly checks without creating.
 * Authorization (with an authorizer, as Kafka): CREATE on the cluster, or else on each topic
 * (TOPIC_AUTHORIZATION_FAILED, "Authorization failed."); a created topic's configs are
 * answered only with DESCRIBE_CONFIGS on it (else topicConfigErrorCode
 * TOPIC_AUTHORIZATION_FAILED, v5+).
 * Version notes: v0 answers only name and error code; v1+ validateOnly and error messages;
 * v2+ throttle time; v5+ flexible and returns the partition count, replication factor and the
 * effective configs; v7+ returns the topic id.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  CreateTopicsRequest,
  CreateTopicsResponse,
  type CreateTopicsResponseCreatableTopicResult,
} from "../../protocol/messages/mod.ts";
import type { Encodable } from "../../protocol/schema.ts";
import { internalTopicSpec } from "../internal_topic.ts";
import { createTopicsOverLimit } from "../partition_limits.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { topicConfigEntries } from "./describe_configs.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";

export const createTopics = defineApi({
  apiKey: 19,
  name: "CreateTopics",
  minVersion: 0,
  maxVersion: 7,
  request: CreateTopicsRequest,
  response: CreateTopicsResponse,
  handler: async (req, ctx) => {
    const { services } = ctx;
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const topics: Encodable<CreateTopicsResponseCreatableTopicResult>[] = [];
    const authorizer = services.authorizer;
    const names = req.topics.map((t) => t.name);
    const creatable = authorizer.authorize(
        ctx,
        AclOperation.CREATE,
        ResourceType.CLUSTER,
        CLUSTER_NAME,
        true,
      )
      ? new Set(names)
      : authorizer.filterAuthorized(ctx, AclOperation.CREATE, ResourceType.TOPIC, names);
    const describable = authorizer.filterAuthorized(
      ctx,
      AclOperation.DESCRIBE_CONFIGS,
      ResourceType.TOPIC,
      names,
      true,
    );
    const overLimit = createTopicsOverLimit(req.topics, services.config.int("num.partitions"));
    for (const t of req.topics) {
      const out: Encodable<CreateTopicsResponseCreatableTopicResult> = {
        name: t.name,
        errorCode: 0,
        errorMessage: null,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      };
      topics.push(out);
      try {
        if (overLimit) throw overLimit;
        if (seen.get(t.name)! > 1) {
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `topic '${t.name}' given twice`);
        }
        if (!creatable.has(t.name)) {
          throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed.");
        }
        let partitions = t.numPartitions;
        const assignments = t.assignments ?? [];
        if (assignments.length > 0) {
          if (partitions !== -1 || t.replicationFactor !== -1) {
            throw new KafkaError(
              ErrorCode.INVALID_REQUEST,
              "give either assignments or partitions and replication factor",
            );
          }
          const indexes = assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
          if (indexes.some((p, i) => p !== i)) {
            throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "partitions must be 0..n-1");
          }
          if (services.leadership.clustered) {
            throw new KafkaError(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              "manual replica assignment is not supported in a cluster yet: the controller places replicas",
            );
          }
          for (const a of assignments) {
            const ids = a.brokerIds;
            if (ids.length !== 1 || ids[0] !== services.metadataCache.nodeId) {
              throw new KafkaError(
                ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                `replicas must be [${services.metadataCache.nodeId}]`,
              );
            }
          }
          partitions = assignments.length;
        } else if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
          throw new KafkaError(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            services.leadership.clustered
              ? `replication factor ${t.replicationFactor}: partitions have one replica here (replication factor 1)`
              : `replication factor ${t.replicationFactor} is larger than the 1 available broker`,
          );
        }
        const configs = (t.configs ?? []).map((c): [string, string | null] => [c.name, c.value]);
        const created = await services.topicAdmin.createTopic(
          t.name,
          partitions,
          configs,
          req.validateOnly,
        );
        const meta = created ?? {
          partitions: internalTopicSpec(services.config, t.name)?.partitions ??
            (partitions === -1 ? services.config.int("num.partitions") : partitions),
          configs: Object.fromEntries(configs),
        };
        out.topicId = created?.topicId;
        out.numPartitions = meta.partitions;
        out.replicationFactor = 1;
        if (!describable.has(t.name)) {
          out.topicConfigErrorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        out.configs = topicConfigEntries(services, created?.configs ?? {}).map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          configSource: c.configSource,
          isSensitive: false,
        }));
      } catch (e) {
        out.errorCode = errorCodeOf(e, `create topic ${t.name}`);
        out.errorMessage = errorMessageOf(e);
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});
