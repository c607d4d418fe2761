/**
 * The OpenAPI 3.1 document of the admin API, served at `/openapi.json`. Written by hand next
 * to the routes; tests/e2e/admin_api_test.ts checks every route of the app appears here.
 */

import { faultPaths, faultSchemas } from "./openapi_faults.ts";
import { recordPaths, recordSchemas } from "./openapi_records.ts";
import {
  encoding,
  error,
  int,
  json,
  nullableStr,
  ref,
  type Schema,
  str,
  topicName,
} from "./openapi_parts.ts";

const partition = {
  name: "partition",
  in: "path",
  required: true,
  description: "Partition number",
  schema: { type: "integer", minimum: 0 },
};
const groupId = {
  name: "groupId",
  in: "path",
  required: true,
  description: "Consumer group id",
  schema: { type: "string" },
};
const validateOnly = {
  name: "validateOnly",
  in: "query",
  required: false,
  description: "Validate without applying",
  schema: { type: "boolean" },
};

const schemas: Record<string, Schema> = {
  Error: {
    type: "object",
    required: ["error", "message"],
    properties: {
      error: {
        ...str,
        description: "Kafka error name or HTTP-level code, e.g. TOPIC_ALREADY_EXISTS",
      },
      message: str,
      key: { ...str, description: "The config key at fault (INVALID_CONFIG)" },
    },
  },
  Cluster: {
    type: "object",
    properties: {
      clusterId: str,
      controllerId: int,
      brokers: { type: "array", items: ref("Broker") },
      startedAt: { ...str, format: "date-time" },
      uptimeMs: int,
      replication: {
        type: "object",
        description: "Replication state of every partition of the cluster",
        properties: {
          partitions: int,
          underReplicatedPartitions: int,
          underMinIsrPartitions: int,
          offlinePartitions: int,
        },
      },
    },
  },
  Broker: {
    type: "object",
    properties: {
      brokerId: int,
      host: nullableStr,
      port: int,
      rack: nullableStr,
      live: { type: "boolean", description: "Registered now (an assigned broker may be down)" },
      controller: { type: "boolean" },
      leaderCount: { ...int, description: "Partitions it leads" },
      replicaCount: { ...int, description: "Partition replicas assigned to it" },
    },
  },
  Stats: {
    type: "object",
    description: "Cumulative counters since start; rates come from two samples.",
    properties: {
      timestamp: int,
      uptimeMs: int,
      connections: { type: "object", properties: { open: int, accepted: int } },
      requests: { type: "object", properties: { total: int, failed: int } },
      bytesIn: int,
      recordsIn: int,
      bytesOut: int,
      tiering: {
        type: "object",
        properties: {
          enabled: { type: "boolean" },
          segmentsCopied: int,
          bytesCopied: int,
          segmentsDeleted: int,
          uploadsFailed: int,
        },
      },
      topics: {
        type: "array",
        items: {
          type: "object",
          properties: { topic: str, bytesIn: int, recordsIn: int, bytesOut: int },
        },
      },
    },
  },
  Partition: {
    type: "object",
    properties: {
      partition: int,
      leader: { ...int, description: "-1 while no live replica leads" },
      leaderEpoch: int,
      replicas: { type: "array", items: int },
      isr: { type: "array", items: int },
      offlineReplicas: { type: "array", items: int },
      underReplicated: { type: "boolean", description: "Fewer in-sync than assigned replicas" },
      underMinIsr: {
        type: "boolean",
        description: "Fewer in-sync replicas than min.insync.replicas",
      },
      offline: { type: "boolean", description: "No live leader" },
      local: {
        type: "boolean",
        description: "This broker holds a replica (else offsets and sizes are -1)",
      },
      logStartOffset: int,
      highWatermark: int,
      logEndOffset: int,
      lastStableOffset: int,
      sizeBytes: { ...int, description: "Bytes on local disk (Kafka's partition Size)" },
      localBytes: int,
      remoteBytes: { ...int, description: "Bytes in the cold tier (tiered storage)" },
      segments: { ...int, description: "Local segments" },
      remoteSegments: int,
      localLogStartOffset: int,
      highestOffsetInRemoteStorage: { ...int, description: "-1 when nothing is tiered" },
    },
  },
  Topic: {
    type: "object",
    properties: {
      name: str,
      topicId: str,
      internal: { type: "boolean" },
      partitions: { type: "array", items: ref("Partition") },
      configs: {
        type: "object",
        description: "The topic's config overrides",
        additionalProperties: nullableStr,
      },
    },
  },
  CreateTopic: {
    type: "object",
    required: ["name"],
    properties: {
      name: str,
      partitions: { ...int, description: "-1 or absent: num.partitions" },
      replicationFactor: { ...int, enum: [-1, 1] },
      configs: {
        type: "object",
        additionalProperties: { type: ["string", "number", "boolean"] },
      },
    },
  },
  ConfigEntry: {
    type: "object",
    properties: {
      name: str,
      value: nullableStr,
      source: {
        ...str,
        enum: ["DYNAMIC_TOPIC_CONFIG", "STATIC_BROKER_CONFIG", "DEFAULT_CONFIG"],
      },
      isDefault: { type: "boolean" },
      readOnly: { type: "boolean" },
      isSensitive: { type: "boolean" },
      type: str,
      documentation: str,
      synonyms: {
        type: "array",
        items: {
          type: "object",
          properties: { name: str, value: nullableStr, source: str },
        },
      },
    },
  },
  TopicConfigs: {
    type: "object",
    properties: { name: str, configs: { type: "array", items: ref("ConfigEntry") } },
  },
  ConfigUpdate: {
    type: "object",
    description: "`{configs: {key: value}}` or the bare `{key: value}` object. With PATCH a " +
      "null value resets the key to its default.",
    additionalProperties: true,
  },
  Record: {
    type: "object",
    properties: {
      offset: int,
      timestamp: int,
      timestampType: { ...str, enum: ["CreateTime", "LogAppendTime"] },
      key: nullableStr,
      keyEncoding: encoding,
      value: nullableStr,
      valueEncoding: encoding,
      headers: {
        type: "array",
        items: {
          type: "object",
          properties: { key: str, value: nullableStr, valueEncoding: encoding },
        },
      },
    },
  },
  Records: {
    type: "object",
    properties: {
      topic: str,
      partition: int,
      offset: int,
      nextOffset: int,
      logStartOffset: int,
      highWatermark: int,
      truncated: { type: "boolean" },
      records: { type: "array", items: ref("Record") },
    },
  },
  ...recordSchemas,
  ...faultSchemas,
  GroupSummary: {
    type: "object",
    properties: {
      groupId: str,
      state: str,
      protocolType: str,
      protocol: nullableStr,
      members: int,
      lag: { ...int, description: "Sum of partition lags" },
    },
  },
  Member: {
    type: "object",
    properties: {
      memberId: str,
      groupInstanceId: nullableStr,
      clientId: str,
      clientHost: str,
      assignments: {
        type: "array",
        items: {
          type: "object",
          properties: { topic: str, partitions: { type: "array", items: int } },
        },
      },
    },
  },
  GroupOffset: {
    type: "object",
    properties: {
      topic: str,
      partition: int,
      committedOffset: { type: ["integer", "null"], description: "null: assigned, not committed" },
      metadata: nullableStr,
      logStartOffset: { type: ["integer", "null"] },
      highWatermark: { type: ["integer", "null"] },
      lag: { type: ["integer", "null"], description: "highWatermark - committedOffset" },
      memberId: { ...nullableStr, description: "Member the partition is assigned to" },
      clientId: nullableStr,
    },
  },
  Group: {
    type: "object",
    properties: {
      groupId: str,
      state: str,
      protocolType: str,
      protocol: nullableStr,
      generationId: int,
      leader: nullableStr,
      members: { type: "array", items: ref("Member") },
      offsets: { type: "array", items: ref("GroupOffset") },
      lag: int,
    },
  },
  OffsetReset: {
    type: "object",
    required: ["to"],
    properties: {
      to: { ...str, enum: ["earliest", "latest", "timestamp", "offset"] },
      timestamp: { ...int, description: "With to=timestamp: ms since the epoch" },
      offset: { ...int, description: "With to=offset (clamped to the log's range)" },
      topics: {
        type: "array",
        description: "Topics to reset, as names or {topic, partitions} (default: every " +
          "topic the group has committed offsets for, all partitions)",
        items: {
          oneOf: [str, {
            type: "object",
            required: ["topic"],
            properties: { topic: str, partitions: { type: "array", items: int } },
          }],
        },
      },
    },
  },
  OffsetResetResult: {
    type: "object",
    properties: {
      groupId: str,
      dryRun: { type: "boolean" },
      offsets: {
        type: "array",
        items: {
          type: "object",
          properties: {
            topic: str,
            partition: int,
            previousOffset: { type: ["integer", "null"] },
            committedOffset: int,
          },
        },
      },
    },
  },
};

const resetOp = (summary: string) => ({
  summary,
  description: "Like kafka-consumer-groups --reset-offsets: an unknown group id is created " +
    "with the given offsets. dryRun=true answers with the plan and commits nothing.",
  parameters: [{
    name: "dryRun",
    in: "query",
    required: false,
    description: "Only compute the new offsets",
    schema: { type: "boolean" },
  }],
  requestBody: { required: true, content: { "application/json": { schema: ref("OffsetReset") } } },
  responses: {
    200: json(ref("OffsetResetResult"), "Offsets before and after"),
    400: error("Invalid reset"),
    404: error("Unknown topic or partition"),
    409: error("NON_EMPTY_GROUP: the group has members"),
  },
});

const paths: Record<string, Schema> = {
  "/healthz": {
    get: {
      summary: "Liveness (no token needed)",
      security: [],
      responses: { 200: json({ type: "object" }, "Alive") },
    },
  },
  "/readyz": {
    get: {
      summary: "Readiness (no token needed)",
      security: [],
      responses: {
        200: json({ type: "object" }, "Serving"),
        503: json({ type: "object" }, "Shutting down"),
      },
    },
  },
  "/metrics": {
    get: {
      summary: "Prometheus metrics (text exposition format 0.0.4)",
      responses: {
        200: { description: "Metrics", content: { "text/plain": { schema: str } } },
      },
    },
  },
  "/openapi.json": {
    get: { summary: "This document", responses: { 200: json({ type: "object" }, "OpenAPI 3.1") } },
  },
  "/": {
    get: {
      summary: "Web console (HTML); `?token=` signs a browser in when a token is set",
      responses: { 200: { description: "Console", content: { "text/html": { schema: str } } } },
    },
  },
  "/console": {
    get: {
      summary: "Web console (same as /)",
      responses: { 200: { description: "Console", content: { "text/html": { schema: str } } } },
    },
  },
  "/v1/cluster": {
    get: {
      summary: "Cluster id, controller and brokers",
      responses: { 200: json(ref("Cluster"), "Cluster") },
    },
  },
  "/v1/stats": {
    get: { summary: "Traffic counters", responses: { 200: json(ref("Stats"), "Counters") } },
  },
  "/v1/topics": {
    get: {
      summary: "List topics",
      responses: {
        200: json({
          type: "object",
          properties: { topics: { type: "array", items: ref("Topic") } },
        }, "Topics"),
      },
    },
    post: {
      summary: "Create a topic",
      parameters: [validateOnly],
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("CreateTopic") } },
      },
      responses: {
        201: json(ref("Topic"), "Created"),
        200: json({ type: "object" }, "Valid (validateOnly)"),
        400: error("Invalid name, partition count or config"),
        409: error("Topic exists"),
      },
    },
  },
  "/v1/topics/{name}": {
    parameters: [topicName],
    get: {
      summary: "Describe a topic",
      responses: { 200: json(ref("Topic"), "Topic"), 404: error("Unknown topic") },
    },
    delete: {
      summary: "Delete a topic",
      responses: {
        204: { description: "Deleted" },
        403: error("delete.topic.enable=false"),
        404: error("Unknown topic"),
      },
    },
  },
  "/v1/topics/{name}/configs": {
    parameters: [topicName],
    get: {
      summary: "Every topic setting with its value and source",
      responses: { 200: json(ref("TopicConfigs"), "Configs"), 404: error("Unknown topic") },
    },
    put: {
      summary: "Replace the topic's overrides (AlterConfigs)",
      parameters: [validateOnly],
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("ConfigUpdate") } },
      },
      responses: {
        200: json(ref("TopicConfigs"), "Updated"),
        400: error("Unknown key or invalid value (the key is named)"),
        404: error("Unknown topic"),
      },
    },
    patch: {
      summary: "Merge overrides; null resets a key (IncrementalAlterConfigs)",
      parameters: [validateOnly],
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("ConfigUpdate") } },
      },
      responses: {
        200: json(ref("TopicConfigs"), "Updated"),
        400: error("Unknown key or invalid value (the key is named)"),
        404: error("Unknown topic"),
      },
    },
  },
  "/v1/topics/{name}/partitions": {
    parameters: [topicName],
    get: {
      summary: "A topic's partitions",
      responses: {
        200: json({
          type: "object",
          properties: { partitions: { type: "array", items: ref("Partition") } },
        }, "Partitions"),
        404: error("Unknown topic"),
      },
    },
  },
  "/v1/topics/{name}/partitions/{partition}": {
    parameters: [topicName, partition],
    get: {
      summary: "One partition",
      responses: {
        200: json(ref("Partition"), "Partition"),
        404: error("Unknown topic or partition"),
      },
    },
  },
  "/v1/topics/{name}/partitions/{partition}/records": {
    parameters: [topicName, partition],
    get: {
      summary: "Peek records from an offset (bounded by limit and maxBytes)",
      parameters: [
        {
          name: "offset",
          in: "query",
          schema: { ...int, minimum: 0 },
          description: "Default: log start",
        },
        { name: "limit", in: "query", schema: { ...int, minimum: 1, maximum: 1000, default: 100 } },
        {
          name: "maxBytes",
          in: "query",
          schema: { ...int, minimum: 1, maximum: 8388608, default: 1048576 },
          description: "Budget for keys, values and header values (one record always fits)",
        },
      ],
      responses: {
        200: json(ref("Records"), "Records"),
        400: error("Bad parameter or OFFSET_OUT_OF_RANGE"),
        404: error("Unknown topic or partition"),
      },
    },
  },
  ...recordPaths,
  ...faultPaths,
  "/v1/groups": {
    get: {
      summary: "List consumer groups",
      responses: {
        200: json({
          type: "object",
          properties: { groups: { type: "array", items: ref("GroupSummary") } },
        }, "Groups"),
      },
    },
  },
  "/v1/groups/{groupId}": {
    parameters: [groupId],
    get: {
      summary: "Describe a group: state, protocol, members, offsets and lag",
      responses: {
        200: json(ref("Group"), "Group"),
        404: error("Unknown group (GROUP_ID_NOT_FOUND)"),
      },
    },
    delete: {
      summary: "Delete an Empty group and its committed offsets (DeleteGroups)",
      responses: {
        204: { description: "Deleted" },
        404: error("Unknown group (GROUP_ID_NOT_FOUND)"),
        409: error("NON_EMPTY_GROUP: the group has members (state is given)"),
      },
    },
  },
  "/v1/groups/{groupId}/offsets": {
    parameters: [groupId],
    get: {
      summary: "Committed offsets and lag per partition",
      responses: {
        200: json({
          type: "object",
          properties: { groupId: str, offsets: { type: "array", items: ref("GroupOffset") } },
        }, "Offsets"),
        404: error("Unknown group"),
      },
    },
    post: resetOp("Reset the group's offsets (only while the group is Empty)"),
    put: resetOp("Same as POST"),
  },
};

/** The document (a fresh object each call). */
export function openApiDocument(): Record<string, unknown> {
  return structuredClone({
    openapi: "3.1.0",
    info: {
      title: "Tributary admin API",
      version: "1",
      description: "Topics, consumer groups, record peek, fault injection, metrics and " +
        "health of a Tributary " +
        "broker. Errors are JSON {error, message}. When the broker runs with --admin-token, " +
        "every endpoint but /healthz and /readyz needs Authorization: Bearer <token>. With " +
        "tributary.admin.api.auth=sasl, Basic with a SCRAM or PLAIN user or Bearer with an " +
        "OAUTHBEARER token (or the admin token), each action checked against the user's ACLs " +
        "(403 {error: FORBIDDEN, message, missing: {operation, resourceType, resourceName}}).",
    },
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        basic: { type: "http", scheme: "basic" },
      },
    },
    security: [{ bearer: [] }, { basic: [] }],
    paths,
  });
}
