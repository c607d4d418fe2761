/**
 * OffsetForLeaderEpoch (key 23), v0–4.
 * Behaviour: answered from the partition's leader epoch cache (storage's
 * leader-epoch-checkpoint, Kafka's LeaderEpochFileCache.endOffsetFor): the largest epoch at
 * most the one asked and where it ends (the next epoch's start offset, or the log end offset
 * for the latest); -1/-1 when the log knows no such epoch. A partition this broker does not
 * lead gets NOT_LEADER_OR_FOLLOWER. A current leader epoch above ours gets
 * UNKNOWN_LEADER_EPOCH, below FENCED_LEADER_EPOCH. Clients use this to validate their
 * position after a metadata change (and older followers to find where to truncate).
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
          // v3+: a broker's request as replica id -2 (DEBUGGING) may read any replica here.
          const anyReplica = apiVersion >= 3 && req.replicaId === -2 &&
            services.replicaManager.replication?.localLog(t.topic, p.partition) !== undefined;
          if (notServed !== 0 && !anyReplica) out.errorCode = notServed;
          else {
            try {
              const r = await services.replicaManager.partitionOp(
                t.topic,
                p.partition,
                "endOffsetForEpoch",
                {
                  epoch: p.leaderEpoch,
                  currentEpoch: services.leadership.leaderOf(t.topic, p.partition)?.leaderEpoch ??
                    0,
                },
              );
              out.leaderEpoch = r.epoch;
              out.endOffset = r.endOffset;
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
