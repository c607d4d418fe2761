/**
 * DeleteRecords (key 21), v0–2.
 * Behaviour: for each partition, moves the log start offset forward to the given offset (-1:
 * the high watermark), so records below it can no longer be fetched, and deletes the segments
 * wholly below it locally; tiered segments below it are deleted from the cold tier by the
 * RemoteLogManager's next pass. The new log start is checkpointed before the answer, so it
 * survives a restart. Returns the new log start offset as the low watermark. An offset below
 * the current log start changes nothing (the current one is returned). Errors per partition:
 * UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE (negative other than -1, or beyond the high
 * watermark), POLICY_VIOLATION (cleanup.policy without delete, i.e. compact only), with low
 * watermark -1. `timeout_ms` is not needed: a single replica answers at once.
 * Authorization (with an authorizer, as Kafka): DELETE on each topic, else
 * TOPIC_AUTHORIZATION_FAILED.
 * Version notes: v0 and v1 are identical; v2 is flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  type DeleteRecordsPartitionResult,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  type DeleteRecordsTopicResult,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { errorCodeOf } from "./util.ts";

export const deleteRecords = defineApi({
  apiKey: 21,
  name: "DeleteRecords",
  minVersion: 0,
  maxVersion: 2,
  request: DeleteRecordsRequest,
  response: DeleteRecordsResponse,
  handler: async (req, ctx) => {
    const { services } = ctx;
    const topics: DeleteRecordsTopicResult[] = [];
    const deletable = services.authorizer.filterAuthorized(
      ctx,
      AclOperation.DELETE,
      ResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    for (const t of req.topics) {
      const partitions: DeleteRecordsPartitionResult[] = [];
      topics.push({ name: t.name, partitions });
      for (const p of t.partitions) {
        const out: DeleteRecordsPartitionResult = {
          partitionIndex: p.partitionIndex,
          lowWatermark: -1,
          errorCode: 0,
        };
        partitions.push(out);
        if (!deletable.has(t.name)) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        if (!services.replicaManager.hasPartition(t.name, p.partitionIndex)) {
          out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        try {
          out.lowWatermark = await services.replicaManager.partitionOp(
            t.name,
            p.partitionIndex,
            "deleteRecordsBefore",
            {
              offset: p.offset,
            },
          );
        } catch (e) {
          out.errorCode = errorCodeOf(e, `delete records ${t.name}-${p.partitionIndex}`);
        }
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});
