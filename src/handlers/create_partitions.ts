/**
 * CreatePartitions (key 37), v0–3.
 * Behaviour: grows a topic to `count` partitions; a count not above the current one gets
 * INVALID_PARTITIONS, an unknown topic UNKNOWN_TOPIC_OR_PARTITION, assignments naming
 * another broker INVALID_REPLICA_ASSIGNMENT. validateOnly checks without creating. More than
 * 10,000 new partitions in one request fail it whole with POLICY_VIOLATION (Kafka's controller
 * limit on records per request).
 * Version notes: v2+ flexible; v3 is v2 with throttling semantics unchanged here.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { CreatePartitionsRequest, CreatePartitionsResponse } from "../../protocol/messages/mod.ts";
import type { Msg } from "../../protocol/schema.ts";
import type { ApiRegistration } from "../registry.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";
import { EXCESSIVE_BATCH_MESSAGE, MAX_RECORDS_PER_USER_OP } from "./user_op_limit.ts";

export const createPartitions: ApiRegistration = {
  apiKey: 37,
  name: "CreatePartitions",
  minVersion: 0,
  maxVersion: 3,
  request: CreatePartitionsRequest,
  response: CreatePartitionsResponse,
  handler: async (req, { broker }) => {
    // One partition record per new partition, over the whole request (Kafka's controller).
    let records = 0;
    for (const t of req.topics as Msg[]) {
      const current = broker.topic(t.name)?.partitions;
      if (current !== undefined && t.count > current) records += t.count - current;
    }
    if (records > MAX_RECORDS_PER_USER_OP) {
      return {
        throttleTimeMs: 0,
        results: (req.topics as Msg[]).map((t) => ({
          name: t.name,
          errorCode: ErrorCode.POLICY_VIOLATION,
          errorMessage: EXCESSIVE_BATCH_MESSAGE,
        })),
      };
    }
    const results: Msg[] = [];
    for (const t of req.topics as Msg[]) {
      const out: Msg = { name: t.name, errorCode: 0, errorMessage: null };
      results.push(out);
      try {
        const meta = broker.topic(t.name);
        if (!meta) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (t.count <= meta.partitions) {
          throw new KafkaError(
            ErrorCode.INVALID_PARTITIONS,
            `topic has ${meta.partitions} partitions; ${t.count} would not add any`,
          );
        }
        if (t.count > 100000) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, "too many");
        const assignments = (t.assignments ?? null) as Msg[] | null;
        if (assignments) {
          if (assignments.length !== t.count - meta.partitions) {
            throw new KafkaError(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              "one assignment per new partition",
            );
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
        }
        if (!req.validateOnly) await broker.createPartitions(t.name, t.count);
      } catch (e) {
        out.errorCode = errorCodeOf(e, `create partitions ${t.name}`);
        out.errorMessage = errorMessageOf(e);
      }
    }
    return { throttleTimeMs: 0, results };
  },
};
