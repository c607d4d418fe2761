/**
 * OffsetForLeaderEpoch (key 23), v0–4.
 * Behaviour: batches are stamped with leader epoch 0 whoever leads, so any epoch up to the
 * partition's current one ends at the log end offset, as epoch 0; a later epoch is unknown
 * (-1/-1). A partition this broker does not lead gets NOT_LEADER_OR_FOLLOWER. A current leader epoch
 * above ours gets UNKNOWN_LEADER_EPOCH. Clients use this to validate their position after a
 * metadata change.
 * Authorization (with an authorizer, as Kafka): CLUSTER_ACTION on the cluster (brokers) allows
 * every topic; otherwise each topic needs DESCRIBE, else TOPIC_AUTHORIZATION_FAILED.
 * Version notes: v2+ current leader epoch; v3+ replica id; v4 flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { errorCodeOf } from "./util.ts";

export const offsetForLeaderEpoch = defineApi({
  apiKey: 23,
  name: "OffsetForLeaderEpoch",
  minVersion: 0,
  maxVersion: 4,
  request: OffsetForLeaderEpochRequest,
  response: OffsetForLeaderEpochResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    const authorizer = services.authorizer;
    const clusterAction = authorizer.authorize(
      ctx,
      AclOperation.CLUSTER_ACTION,
      ResourceType.CLUSTER,
      CLUSTER_NAME,
      true,
    );
    const describable = clusterAction ? new Set<string>() : authorizer.filterAuthorized(
      ctx,
      AclOperation.DESCRIBE,
      ResourceType.TOPIC,
      req.topics.map((t) => t.topic),
    );
    const allowed = (topic: string) => clusterAction || describable.has(topic);
    return {
      throttleTimeMs: 0,
      topics: await Promise.all(req.topics.map(async (t) => ({
        topic: t.topic,
        partitions: await Promise.all(t.partitions.map(async (p) => {
          const out = { errorCode: 0, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          if (!allowed(t.topic)) {
            out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
            return out;
          }
          if (!services.replicaManager.hasPartition(t.topic, p.partition)) {
            out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            return out;
          }
          const notServed = services.leadership.leaderError(
            t.topic,
            p.partition,
            apiVersion >= 2 ? p.currentLeaderEpoch : -1,
          );
          const current = services.leadership.leaderOf(t.topic, p.partition)?.leaderEpoch ?? 0;
          if (notServed !== 0) out.errorCode = notServed;
          else if (p.leaderEpoch >= 0 && p.leaderEpoch <= current) {
            try {
              const st = await services.replicaManager.partitionOp(
                t.topic,
                p.partition,
                "status",
                {},
              );
              out.leaderEpoch = 0;
              out.endOffset = st.logEndOffset;
            } catch (e) {
              out.errorCode = errorCodeOf(e, `offset for leader epoch ${t.topic}-${p.partition}`);
            }
          }
          return out;
        })),
      }))),
    };
  },
});
