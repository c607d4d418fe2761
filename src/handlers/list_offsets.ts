/**
 * ListOffsets (key 2), v0–10.
 * Behaviour: timestamp -2 (earliest) → log start offset; -1 (latest) → high watermark, or
 * the last stable offset at read_committed; -3 (max timestamp, KIP-734) → the record with
 * the largest timestamp; -4 (earliest local, KIP-405) → the local log start offset (the first
 * offset on local disk; above the log start once segments live only in the cold tier); -5
 * (latest tiered, KIP-1005) → the last offset copied to the cold tier, -1 while nothing is;
 * any other timestamp → the first offset whose timestamp is at or after it (time index),
 * searching the cold tier first when the log starts there, or offset -1 when none is.
 * Authorization: DESCRIBE on each topic (TOPIC_AUTHORIZATION_FAILED), as Kafka.
 * Version notes: v0 answers `oldStyleOffsets`, up to `maxNumOffsets` offsets at segment
 * granularity as Kafka's legacyFetchOffsetsBefore (storage/legacy_offsets.ts): latest gives
 * the log end offset first, earliest the log start offset; v1+ one offset and its timestamp;
 * v2+ isolation level;
 * A partition this broker does not lead gets NOT_LEADER_OR_FOLLOWER (LEADER_NOT_AVAILABLE
 * while none does). v4+ current leader epoch (older than the partition's →
 * FENCED_LEADER_EPOCH, newer → UNKNOWN_LEADER_EPOCH); v6+ flexible; v10 adds a
 * timeout that a local lookup never needs.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  type ListOffsetsPartitionResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  type ListOffsetsTopicResponse,
} from "../../protocol/messages/mod.ts";
import type { Encodable } from "../../protocol/schema.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { errorCodeOf } from "./util.ts";

export {
  EARLIEST,
  EARLIEST_LOCAL,
  LATEST,
  LATEST_TIERED,
  MAX_TIMESTAMP,
} from "../partition_ops.ts";

export const listOffsets = defineApi({
  apiKey: 2,
  placement: "any",
  retainsRequestBytes: false,
  name: "ListOffsets",
  minVersion: 0,
  maxVersion: 10,
  request: ListOffsetsRequest,
  response: ListOffsetsResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    const committed = req.isolationLevel === 1;
    const describable = services.authorizer.filterAuthorized(
      ctx,
      AclOperation.DESCRIBE,
      ResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    const topics: Encodable<ListOffsetsTopicResponse>[] = [];
    for (const rt of req.topics) {
      const partitions: Encodable<ListOffsetsPartitionResponse>[] = [];
      topics.push({ name: rt.name, partitions });
      for (const rp of rt.partitions) {
        const out: Encodable<ListOffsetsPartitionResponse> = {
          partitionIndex: rp.partitionIndex,
          errorCode: 0,
          timestamp: -1,
          offset: -1,
          leaderEpoch: -1,
          oldStyleOffsets: [],
        };
        partitions.push(out);
        if (!describable.has(rt.name)) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        if (!services.replicaManager.hasPartition(rt.name, rp.partitionIndex)) {
          out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        const notServed = services.leadership.leaderError(
          rt.name,
          rp.partitionIndex,
          apiVersion >= 4 ? rp.currentLeaderEpoch : -1,
        );
        if (notServed !== 0) {
          out.errorCode = notServed;
          continue;
        }
        if (apiVersion === 0) {
          try {
            out.oldStyleOffsets = await services.replicaManager.partitionOp(
              rt.name,
              rp.partitionIndex,
              "legacyOffsets",
              {
                timestamp: rp.timestamp,
                maxNumOffsets: Math.max(0, rp.maxNumOffsets),
                fromConsumer: req.replicaId === -1,
              },
            );
          } catch (e) {
            out.errorCode = errorCodeOf(e, `list offsets ${rt.name}-${rp.partitionIndex}`);
          }
          continue;
        }
        try {
          Object.assign(
            out,
            await services.replicaManager.partitionOp(rt.name, rp.partitionIndex, "listOffset", {
              timestamp: rp.timestamp,
              committed,
            }),
          );
        } catch (e) {
          out.errorCode = errorCodeOf(e, `list offsets ${rt.name}-${rp.partitionIndex}`);
        }
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});
