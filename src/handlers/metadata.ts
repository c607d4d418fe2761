/**
 * Metadata (key 3), v0–12.
 * Behaviour: one broker (this one) leads every partition with leader epoch 0; replicas and
 * ISR are [this broker]. Unknown topics are created when the request allows it (v4+ flag,
 * always before v4) and `auto.create.topics.enable` is on; otherwise
 * UNKNOWN_TOPIC_OR_PARTITION. Names that Kafka would reject get INVALID_TOPIC_EXCEPTION.
 * Version notes: v0 has no null topic list (empty = all); v1+ null = all. v10+ carries topic
 * ids; v12 may ask by id, as Kafka decides, by any non-zero id (the name beside it, "" from
 * the Java client, is not looked at): unknown ids get UNKNOWN_TOPIC_ID with a null name. An
 * id or a null name in v10–11 fails the request with INVALID_REQUEST. v8–10 may ask for
 * cluster authorized operations, v8+ for topic ones (all allowed: there is no authorizer).
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  MetadataRequest,
  type MetadataRequestTopic,
  MetadataResponse,
  type MetadataResponsePartition,
  type MetadataResponseTopic,
} from "../../protocol/messages/mod.ts";
import type { Encodable } from "../../protocol/schema.ts";
import type { TopicMetadata } from "../../storage/log_manager.ts";
import type { BrokerServices } from "../services.ts";
import { defineApi } from "../registry.ts";
import {
  ALL_CLUSTER_OPERATIONS,
  ALL_TOPIC_OPERATIONS,
  errorCodeOf,
  OPERATIONS_NOT_REQUESTED,
} from "./util.ts";

const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

export function describeTopic(
  services: BrokerServices,
  t: TopicMetadata,
  ops: number,
): Encodable<MetadataResponseTopic> {
  const partitions: Encodable<MetadataResponsePartition>[] = [];
  for (let p = 0; p < t.partitions; p++) {
    partitions.push({
      errorCode: 0,
      partitionIndex: p,
      leaderId: services.metadataCache.nodeId,
      leaderEpoch: 0,
      replicaNodes: [services.metadataCache.nodeId],
      isrNodes: [services.metadataCache.nodeId],
      offlineReplicas: [],
    });
  }
  return {
    errorCode: 0,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.name.startsWith("__"),
    partitions,
    topicAuthorizedOperations: ops,
  };
}

function unknownTopicId(topicId: string, ops: number): Encodable<MetadataResponseTopic> {
  return {
    errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
    name: null,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: ops,
  };
}

/** Kafka's MetadataRequest.getErrorResponse for INVALID_REQUEST: no brokers, each topic. */
function invalidRequest(requested: MetadataRequestTopic[]): Encodable<MetadataResponse> {
  return {
    throttleTimeMs: 0,
    brokers: [],
    clusterId: null,
    controllerId: -1,
    topics: requested.map((rt) => ({
      errorCode: ErrorCode.INVALID_REQUEST,
      name: rt.name ?? "",
      topicId: rt.topicId ?? ZERO_UUID,
      isInternal: false,
      partitions: [],
      topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
    })),
    clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
  };
}

export const metadata = defineApi({
  apiKey: 3,
  placement: "any",
  retainsRequestBytes: false,
  name: "Metadata",
  minVersion: 0,
  maxVersion: 12,
  request: MetadataRequest,
  response: MetadataResponse,
  handler: async (req, { services, apiVersion, session }) => {
    const ops = req.includeTopicAuthorizedOperations
      ? ALL_TOPIC_OPERATIONS
      : OPERATIONS_NOT_REQUESTED;
    const allowCreate = apiVersion < 4 || req.allowAutoTopicCreation;
    const topics: Encodable<MetadataResponseTopic>[] = [];
    const all = req.topics == null || (apiVersion === 0 && req.topics.length === 0);
    const requested = req.topics ?? [];
    const byId = !all && requested.some((rt) => rt.topicId != null && rt.topicId !== ZERO_UUID);
    if (!all && apiVersion < 12 && (byId || requested.some((rt) => rt.name == null))) {
      // As Kafka: ids (and so null names) are only served from v12; the whole request fails.
      return invalidRequest(requested);
    }
    if (all) {
      for (const t of services.metadataCache.topics()) topics.push(describeTopic(services, t, ops));
    } else if (byId) {
      // As Kafka, any non-zero id makes this a request by id: names are not looked at (the
      // Java client sends "" beside the id), zero ids are skipped, each id answered once.
      const seen = new Set<string>();
      for (const rt of requested) {
        const id = rt.topicId;
        if (id === ZERO_UUID || seen.has(id)) continue;
        seen.add(id);
        const t = services.metadataCache.topicById(id);
        topics.push(t ? describeTopic(services, t, ops) : unknownTopicId(id, ops));
      }
    } else {
      for (const rt of requested) {
        if (rt.name == null) {
          topics.push(unknownTopicId(ZERO_UUID, ops));
          continue;
        }
        let t: TopicMetadata | undefined;
        let errorCode: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        try {
          t = allowCreate
            ? await services.topicAdmin.autoCreateTopic(rt.name)
            : services.metadataCache.topic(rt.name);
        } catch (e) {
          errorCode = e instanceof KafkaError ? e.code : errorCodeOf(e, "metadata auto-create");
        }
        topics.push(
          t ? describeTopic(services, t, ops) : {
            errorCode,
            name: rt.name,
            topicId: ZERO_UUID,
            isInternal: false,
            partitions: [],
            topicAuthorizedOperations: ops,
          },
        );
      }
    }
    // As Kafka, the broker's endpoint on the listener this request came in on.
    const endpoint = services.metadataCache.endpoint(session.listenerName);
    return {
      throttleTimeMs: 0,
      brokers: [{
        nodeId: services.metadataCache.nodeId,
        host: endpoint.host,
        port: endpoint.port,
        rack: null,
      }],
      clusterId: services.metadataCache.clusterId,
      controllerId: services.metadataCache.nodeId,
      topics,
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
        ? ALL_CLUSTER_OPERATIONS
        : OPERATIONS_NOT_REQUESTED,
    };
  },
});
