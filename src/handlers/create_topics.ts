/**
 * CreateTopics (key 19), v2–7.
 * Behaviour: validates the name (INVALID_TOPIC_EXCEPTION), partition count
 * (INVALID_PARTITIONS; -1 = `num.partitions`), replication factor (only 1 or -1 with one
 * broker, else INVALID_REPLICATION_FACTOR), manual assignments (each partition on this
 * broker, else INVALID_REPLICA_ASSIGNMENT) and configs (INVALID_CONFIG); an existing topic
 * gets TOPIC_ALREADY_EXISTS; a name given twice in one request gets INVALID_REQUEST. A request
 * whose new topics would take more than 10,000 metadata records (Kafka's controller limit)
 * fails whole with POLICY_VIOLATION.
 * validateOnly checks without creating.
 * Version notes: v5+ flexible and returns the partition count, replication factor and the
 * effective configs; v7+ returns the topic id.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { CreateTopicsRequest, CreateTopicsResponse } from "../../protocol/messages/mod.ts";
import type { Msg } from "../../protocol/schema.ts";
import type { ApiRegistration } from "../registry.ts";
import { topicConfigEntries } from "./describe_configs.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";
import { EXCESSIVE_BATCH_MESSAGE, MAX_RECORDS_PER_USER_OP } from "./user_op_limit.ts";

export const createTopics: ApiRegistration = {
  apiKey: 19,
  name: "CreateTopics",
  minVersion: 2,
  maxVersion: 7,
  request: CreateTopicsRequest,
  response: CreateTopicsResponse,
  handler: async (req, { broker }) => {
    const seen = new Map<string, number>();
    for (const t of req.topics as Msg[]) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    // The records Kafka's controller would write: a topic record, one per partition, one per
    // config, for each new topic.
    let records = 0;
    for (const t of req.topics as Msg[]) {
      if (seen.get(t.name)! > 1 || broker.topic(t.name)) continue;
      const n = (t.assignments ?? []).length > 0
        ? t.assignments.length
        : t.numPartitions === -1
        ? broker.config.int("num.partitions")
        : t.numPartitions;
      if (n > 0) records += 1 + n + (t.configs ?? []).length;
    }
    if (records > MAX_RECORDS_PER_USER_OP) {
      return {
        throttleTimeMs: 0,
        topics: (req.topics as Msg[]).map((t) => ({
          name: t.name,
          errorCode: ErrorCode.POLICY_VIOLATION,
          errorMessage: EXCESSIVE_BATCH_MESSAGE,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        })),
      };
    }
    const topics: Msg[] = [];
    for (const t of req.topics as Msg[]) {
      const out: Msg = {
        name: t.name,
        errorCode: 0,
        errorMessage: null,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      };
      topics.push(out);
      try {
        if (seen.get(t.name)! > 1) {
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `topic '${t.name}' given twice`);
        }
        let partitions = t.numPartitions as number;
        const assignments = (t.assignments ?? []) as Msg[];
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
          for (const a of assignments) {
            const ids = a.brokerIds as number[];
            if (ids.length !== 1 || ids[0] !== broker.nodeId) {
              throw new KafkaError(
                ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                `replicas must be [${broker.nodeId}]`,
              );
            }
          }
          partitions = assignments.length;
        } else if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
          throw new KafkaError(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            `replication factor ${t.replicationFactor} is larger than the 1 available broker`,
          );
        }
        const configs = ((t.configs ?? []) as Msg[]).map((c) =>
          [c.name, c.value] as [string, string | null]
        );
        const created = await broker.createTopic(t.name, partitions, configs, req.validateOnly);
        const meta = created ?? {
          partitions: partitions === -1 ? broker.config.int("num.partitions") : partitions,
          configs: Object.fromEntries(configs),
        };
        out.topicId = created?.topicId;
        out.numPartitions = meta.partitions;
        out.replicationFactor = 1;
        out.configs = topicConfigEntries(broker, created?.configs ?? {}).map((c) => ({
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
};
