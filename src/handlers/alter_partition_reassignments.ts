/**
 * AlterPartitionReassignments (key 45), v0.
 * Behaviour: starts (target replicas given) or cancels (null) partition reassignments
 * through the controller (forwarded to it from any broker), KIP-455: the partition's replicas
 * become target ∪ current with the adding and removing replicas recorded; the new replicas
 * fetch from the leader, and once every target replica is in the ISR the controller makes the
 * target the assignment (a new leader from it if the leader is not in it) and the removed
 * replicas drop their logs. A target that adds nothing and is in sync completes at once.
 * Errors per partition, with Kafka's messages: INVALID_REPLICA_ASSIGNMENT (empty, duplicate
 * or negative ids, new replicas on brokers not alive), UNKNOWN_TOPIC_OR_PARTITION,
 * NO_REASSIGNMENT_IN_PROGRESS (cancelling none). Alone, only this broker is alive.
 * Authorization (with an authorizer, as Kafka): ALTER on the cluster, else the top level and
 * every partition get CLUSTER_AUTHORIZATION_FAILED.
 * Version notes: v0 is flexible (v1, with allow_replication_factor_change, is after 3.9).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  type AlterPartitionReassignmentsResponseReassignableTopicResponse,
} from "../../protocol/messages/mod.ts";
import type { PartitionResult } from "../cluster/controller_operations.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";

function grouped(
  results: PartitionResult[],
): AlterPartitionReassignmentsResponseReassignableTopicResponse[] {
  const byTopic = new Map<string, AlterPartitionReassignmentsResponseReassignableTopicResponse>();
  for (const r of results) {
    let t = byTopic.get(r.topic);
    if (!t) byTopic.set(r.topic, t = { name: r.topic, partitions: [] });
    t.partitions.push({
      partitionIndex: r.partition,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
    });
  }
  return [...byTopic.values()];
}

export const alterPartitionReassignments = defineApi({
  apiKey: 45,
  name: "AlterPartitionReassignments",
  minVersion: 0,
  maxVersion: 0,
  request: AlterPartitionReassignmentsRequest,
  response: AlterPartitionReassignmentsResponse,
  handler: async (req, ctx) => {
    const { services } = ctx;
    const asked = req.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        replicas: p.replicas,
      }))
    );
    const failAll = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      responses: grouped(asked.map((p) => ({ ...p, errorCode, errorMessage }))),
    });
    if (
      !services.authorizer.authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)
    ) {
      return failAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }
    try {
      const results = await services.replicaAdmin.alterPartitionReassignments(asked);
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses: grouped(results) };
    } catch (e) {
      return failAll(errorCodeOf(e, "alter partition reassignments"), errorMessageOf(e));
    }
  },
});
