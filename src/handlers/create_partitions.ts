/**
 * CreatePartitions (key 37), v0–3.
 * Behaviour: grows a topic to `count` partitions; a count not above the current one gets
 * INVALID_PARTITIONS, an unknown topic UNKNOWN_TOPIC_OR_PARTITION. The new partitions take
 * the replication factor of partition 0, placed by the controller, or the assignments given
 * (one per new partition, that factor, no duplicates, live brokers only, else
 * INVALID_REPLICA_ASSIGNMENT with Kafka's messages). validateOnly checks without creating. A request
 * adding more than MAX_PARTITIONS_PER_REQUEST partitions in all (Kafka's 10,000) gets
 * POLICY_VIOLATION for every topic. An internal topic gets INVALID_PARTITIONS: its count is
 * the broker's setting.
 * Authorization (with an authorizer, as Kafka): ALTER on each topic, else
 * TOPIC_AUTHORIZATION_FAILED.
 * Version notes: v2+ flexible; v3 is v2 with throttling semantics unchanged here.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  type CreatePartitionsTopicResult,
} from "../../protocol/messages/mod.ts";
import type { Encodable } from "../../protocol/schema.ts";
import { MAX_PARTITIONS_PER_REQUEST, tooManyPartitions } from "../partition_limits.ts";
import { checkNewPartitionAssignments } from "../cluster/topic_placement.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";

export const createPartitions = defineApi({
  apiKey: 37,
  name: "CreatePartitions",
  minVersion: 0,
  maxVersion: 3,
  request: CreatePartitionsRequest,
  response: CreatePartitionsResponse,
  handler: async (req, ctx) => {
    const { services } = ctx;
    const results: Encodable<CreatePartitionsTopicResult>[] = [];
    // Kafka bounds the whole request: past MAX_PARTITIONS_PER_REQUEST new partitions in all,
    // every topic gets POLICY_VIOLATION.
    let adding = 0;
    for (const t of req.topics) {
      const now = services.metadataCache.topic(t.name)?.partitions;
      if (now !== undefined && t.count > now) adding += t.count - now;
    }
    for (const t of req.topics) {
      const out: Encodable<CreatePartitionsTopicResult> = {
        name: t.name,
        errorCode: 0,
        errorMessage: null,
      };
      results.push(out);
      try {
        if (adding > MAX_PARTITIONS_PER_REQUEST) throw tooManyPartitions(adding);
        if (!services.authorizer.authorize(ctx, AclOperation.ALTER, ResourceType.TOPIC, t.name)) {
          throw new KafkaError(
            ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            "The topic authorization is failed.",
          );
        }
        const meta = services.metadataCache.topic(t.name);
        if (!meta) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (t.count <= meta.partitions) {
          throw new KafkaError(
            ErrorCode.INVALID_PARTITIONS,
            `topic has ${meta.partitions} partitions; ${t.count} would not add any`,
          );
        }
        const assignments = t.assignments?.map((a) => a.brokerIds) ?? null;
        if (assignments) {
          checkNewPartitionAssignments(
            assignments,
            t.count - meta.partitions,
            services.leadership.replicasOf(t.name, 0).replicas.length,
            new Set(services.leadership.brokers().map((b) => b.nodeId)),
          );
        }
        if (!req.validateOnly) {
          await services.topicAdmin.createPartitions(t.name, t.count, undefined, assignments);
        }
      } catch (e) {
        out.errorCode = errorCodeOf(e, `create partitions ${t.name}`);
        out.errorMessage = errorMessageOf(e);
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
