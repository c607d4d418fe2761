/**
 * ListPartitionReassignments (key 46), v0.
 * Behaviour: the reassignments under way, from the partition states this broker has seen:
 * per partition its replicas (target ∪ original), adding and removing replicas. Null topics
 * lists every one; partitions asked for that are unknown or not being reassigned are left out
 * (as Kafka). Alone, none is ever under way.
 * Authorization (with an authorizer, as Kafka): DESCRIBE on the cluster, else
 * CLUSTER_AUTHORIZATION_FAILED at the top level.
 * Version notes: v0 is flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
  type ListPartitionReassignmentsResponseOngoingTopicReassignment,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";

export const listPartitionReassignments = defineApi({
  apiKey: 46,
  name: "ListPartitionReassignments",
  minVersion: 0,
  maxVersion: 0,
  request: ListPartitionReassignmentsRequest,
  response: ListPartitionReassignmentsResponse,
  handler: (req, ctx) => {
    const { services } = ctx;
    if (
      !services.authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)
    ) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        topics: [],
      };
    }
    const asked = req.topics === null
      ? null
      : req.topics.flatMap((t) =>
        t.partitionIndexes.map((partition) => ({ topic: t.name, partition }))
      );
    const byTopic = new Map<string, ListPartitionReassignmentsResponseOngoingTopicReassignment>();
    for (const r of services.replicaAdmin.listPartitionReassignments(asked)) {
      let t = byTopic.get(r.topic);
      if (!t) byTopic.set(r.topic, t = { name: r.topic, partitions: [] });
      t.partitions.push({
        partitionIndex: r.partition,
        replicas: r.replicas,
        addingReplicas: r.addingReplicas,
        removingReplicas: r.removingReplicas,
      });
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: [...byTopic.values()] };
  },
});
