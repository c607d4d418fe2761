/**
 * DescribeProducers (key 61), v0.
 * Behaviour: the producer state each partition keeps (rebuilt from the log on start):
 * producer id, epoch, last sequence (-1 when no batch is retained), last timestamp,
 * coordinator epoch, and the first offset of the producer's ongoing transaction (-1 when
 * none) — what `kafka-transactions.sh find-hanging` reads. Any replica answers from its log
 * (leader or follower, as Kafka); a cluster partition with no replica on this broker gets
 * NOT_LEADER_OR_FOLLOWER, an unknown one UNKNOWN_TOPIC_OR_PARTITION.
 * Authorization (with an authorizer, as Kafka): READ on each topic, else
 * TOPIC_AUTHORIZATION_FAILED.
 * Version notes: v0 is flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  DescribeProducersRequest,
  DescribeProducersResponse,
  type DescribeProducersResponsePartitionResponse,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";

export const describeProducers = defineApi({
  apiKey: 61,
  name: "DescribeProducers",
  minVersion: 0,
  maxVersion: 0,
  request: DescribeProducersRequest,
  response: DescribeProducersResponse,
  handler: async (req, ctx) => {
    const services = ctx.services;
    const readable = services.authorizer.filterAuthorized(
      ctx,
      AclOperation.READ,
      ResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    return {
      throttleTimeMs: 0,
      topics: await Promise.all(req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitionIndexes.map(async (partitionIndex) => {
            const out: DescribeProducersResponsePartitionResponse = {
              partitionIndex,
              errorCode: 0,
              errorMessage: null,
              activeProducers: [],
            };
            if (!readable.has(t.name)) {
              out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
              return out;
            }
            if (!services.replicaManager.hasPartition(t.name, partitionIndex)) {
              out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
              return out;
            }
            const leadership = services.leadership;
            if (
              leadership.clustered &&
              !leadership.replicasOf(t.name, partitionIndex).replicas.includes(
                leadership.localNodeId,
              )
            ) {
              // A partition of the cluster with no replica here: ask one of its replicas.
              out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
              return out;
            }
            try {
              out.activeProducers = await services.replicaManager.partitionOp(
                t.name,
                partitionIndex,
                "producers",
                {},
              );
            } catch (e) {
              out.errorCode = errorCodeOf(e, `describe producers ${t.name}-${partitionIndex}`);
              out.errorMessage = errorMessageOf(e);
            }
            return out;
          }),
        ),
      }))),
    };
  },
});
