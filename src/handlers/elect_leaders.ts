/**
 * ElectLeaders (key 43), v0–2.
 * Behaviour: elects partition leaders through the controller (forwarded to it from any
 * broker). PREFERRED (type 0, and all of v0) moves leadership to the first assigned replica
 * when it is live and in the ISR: ELECTION_NOT_NEEDED where it already leads,
 * PREFERRED_LEADER_NOT_AVAILABLE where it cannot. UNCLEAN (type 1) elects a leader where
 * there is none, from the live ISR first, else any live replica (ELECTION_NOT_NEEDED where
 * the partition has a live leader, ELIGIBLE_LEADERS_NOT_AVAILABLE where no replica is live).
 * Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION. Null topic partitions asks for every
 * partition; then only partitions that needed an election are answered (as Kafka). Alone,
 * every partition's one replica leads already: ELECTION_NOT_NEEDED. Another election type
 * gets INVALID_REQUEST.
 * Authorization (with an authorizer, as Kafka): ALTER on the cluster, else every partition
 * and (v1+) the top level get CLUSTER_AUTHORIZATION_FAILED.
 * Version notes: v1 adds the election type and the top-level error code; v2 is flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  ElectLeadersRequest,
  ElectLeadersResponse,
  type ElectLeadersResponseReplicaElectionResult,
} from "../../protocol/messages/mod.ts";
import type { PartitionResult } from "../cluster/controller_operations.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";

function grouped(results: PartitionResult[]): ElectLeadersResponseReplicaElectionResult[] {
  const byTopic = new Map<string, ElectLeadersResponseReplicaElectionResult>();
  for (const r of results) {
    let t = byTopic.get(r.topic);
    if (!t) byTopic.set(r.topic, t = { topic: r.topic, partitionResult: [] });
    t.partitionResult.push({
      partitionId: r.partition,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
    });
  }
  return [...byTopic.values()];
}

export const electLeaders = defineApi({
  apiKey: 43,
  name: "ElectLeaders",
  minVersion: 0,
  maxVersion: 2,
  request: ElectLeadersRequest,
  response: ElectLeadersResponse,
  handler: async (req, ctx) => {
    const { services } = ctx;
    const asked = req.topicPartitions === null
      ? null
      : req.topicPartitions.flatMap((t) =>
        t.partitions.map((partition) => ({ topic: t.topic, partition }))
      );
    const failAll = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode,
      replicaElectionResults: grouped(
        (asked ?? []).map((p) => ({ ...p, errorCode, errorMessage })),
      ),
    });
    if (
      !services.authorizer.authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)
    ) {
      return failAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }
    const type = ctx.apiVersion >= 1 ? req.electionType : 0;
    if (type !== 0 && type !== 1) {
      return failAll(ErrorCode.INVALID_REQUEST, `unknown election type ${type}`);
    }
    try {
      const results = await services.replicaAdmin.electLeaders(type, asked);
      return { throttleTimeMs: 0, errorCode: 0, replicaElectionResults: grouped(results) };
    } catch (e) {
      return failAll(errorCodeOf(e, "elect leaders"), errorMessageOf(e));
    }
  },
});
