/**
 * CreateTopics (key 19), v0–7.
 * Behaviour: validates the name (INVALID_TOPIC_EXCEPTION), partition count
 * (INVALID_PARTITIONS; -1 = `num.partitions`), replication factor (-1 =
 * `default.replication.factor`; above the live brokers INVALID_REPLICATION_FACTOR, "Replication
 * factor: 3 larger than available brokers: 1."), manual assignments (consecutive partitions
 * from 0, one replication factor, no duplicates, registered brokers only, else
 * INVALID_REPLICA_ASSIGNMENT; with partitions or a factor too INVALID_REQUEST) and configs
 * (INVALID_CONFIG). In a cluster the controller places the replicas rack-aware
 * (src/cluster/replica_assignment.ts) or as assigned; an existing topic
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
import {
  checkReplicationFactor,
  checkTopicAssignments,
  type TopicPlacement,
} from "../cluster/topic_placement.ts";
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
        let placement: TopicPlacement = { replicationFactor: t.replicationFactor };
        const live = services.leadership.brokers().map((b) => b.nodeId);
        if (assignments.length > 0) {
          if (partitions !== -1 || t.replicationFactor !== -1) {
            throw new KafkaError(
              ErrorCode.INVALID_REQUEST,
              "Both numPartitions or replicationFactor and replicasAssignments were set. " +
                "Both cannot be used at the same time.",
            );
          }
          const sorted = [...assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
          if (sorted.some((a, i) => a.partitionIndex !== i)) {
            throw new KafkaError(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              "partitions should be a consecutive 0-based integer sequence",
            );
          }
          placement = { replicationFactor: -1, assignments: sorted.map((a) => a.brokerIds) };
          checkTopicAssignments(placement.assignments!, new Set(live));
          partitions = assignments.length;
        } else {
          const rf = t.replicationFactor === -1
            ? services.config.int("default.replication.factor")
            : t.replicationFactor;
          // Internal topics take their own factor (TopicAdmin); others are checked here for
          // validateOnly too (the controller checks again against the brokers it sees).
          if (!internalTopicSpec(services.config, t.name)) checkReplicationFactor(rf, live.length);
        }
        const configs = (t.configs ?? []).map((c): [string, string | null] => [c.name, c.value]);
        const created = await services.topicAdmin.createTopic(
          t.name,
          partitions,
          configs,
          req.validateOnly,
          undefined,
          placement,
        );
        const meta = created ?? {
          partitions: internalTopicSpec(services.config, t.name)?.partitions ??
            (partitions === -1 ? services.config.int("num.partitions") : partitions),
          configs: Object.fromEntries(configs),
        };
        out.topicId = created?.topicId;
        out.numPartitions = meta.partitions;
        out.replicationFactor = created
          ? services.leadership.replicasOf(t.name, 0).replicas.length || 1
          : placement.assignments?.[0]?.length ??
            (t.replicationFactor === -1
              ? services.config.int("default.replication.factor")
              : t.replicationFactor);
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
