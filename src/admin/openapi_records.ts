/**
 * The OpenAPI parts of the record routes (src/admin/routes_records.ts): producing a record
 * and the bounded record search. Merged into the document by openapi.ts.
 */

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

export const recordSchemas: Record<string, Schema> = {
  ProduceRecord: {
    type: "object",
    description: "One record. Key, value and header values are UTF-8 text, or base64 with " +
      "keyEncoding / valueEncoding: base64; null or absent is a null.",
    properties: {
      partition: {
        ...int,
        minimum: 0,
        description: "Absent: Kafka's default partitioner (murmur2 of the key; any for no key)",
      },
      key: nullableStr,
      keyEncoding: { ...str, enum: ["utf8", "base64"] },
      value: nullableStr,
      valueEncoding: { ...str, enum: ["utf8", "base64"] },
      headers: {
        description: "[{key, value, valueEncoding}] or a {key: value} object",
        oneOf: [
          {
            type: "array",
            items: {
              type: "object",
              required: ["key"],
              properties: { key: str, value: nullableStr, valueEncoding: encoding },
            },
          },
          { type: "object", additionalProperties: nullableStr },
        ],
      },
      timestamp: { ...int, description: "CreateTime in ms (default: now)" },
    },
  },
  ProduceResult: {
    type: "object",
    properties: {
      topic: str,
      partition: int,
      offset: int,
      timestamp: { ...int, description: "The record's time (the broker's with LogAppendTime)" },
    },
  },
  SearchResult: {
    type: "object",
    properties: {
      topic: str,
      records: {
        type: "array",
        items: { allOf: [ref("Record"), { type: "object", properties: { partition: int } }] },
      },
      scannedRecords: int,
      scannedBytes: { ...int, description: "Bytes of keys, values and headers scanned" },
      stoppedBy: {
        ...str,
        enum: ["end", "limit", "maxRecords", "maxBytes", "timeoutMs"],
        description: "What ended the scan; end: every partition was read to its high watermark",
      },
      next: {
        type: "array",
        description: "Per partition, where a continued search starts (pass it as offset)",
        items: {
          type: "object",
          properties: { partition: int, offset: int, highWatermark: int },
        },
      },
    },
  },
};

export const recordPaths: Record<string, Schema> = {
  "/v1/topics/{name}/records": {
    parameters: [topicName],
    post: {
      summary: "Produce one record (through Produce: validated, counted, acks=all)",
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("ProduceRecord") } },
      },
      responses: {
        200: json(ref("ProduceResult"), "Appended"),
        400: error(
          "Bad body, INVALID_RECORD (e.g. no key on a compacted topic), " +
            "INVALID_TIMESTAMP, INVALID_TOPIC_EXCEPTION (internal topic)",
        ),
        404: error("Unknown topic or partition"),
        413: error("MESSAGE_TOO_LARGE (max.message.bytes)"),
      },
    },
  },
  "/v1/topics/{name}/records/search": {
    parameters: [topicName],
    get: {
      summary: "Search records by key / value substring from an offset or a timestamp " +
        "(a bounded scan)",
      parameters: [
        {
          name: "partition",
          in: "query",
          schema: { ...int, minimum: 0 },
          description: "Default: all",
        },
        {
          name: "offset",
          in: "query",
          schema: { ...int, minimum: 0 },
          description: "Start offset in each partition, clamped to the log (default: log start)",
        },
        {
          name: "timestamp",
          in: "query",
          schema: { ...int, minimum: 0 },
          description: "Start at each partition's first record at or after this time (ms)",
        },
        { name: "key", in: "query", schema: str, description: "Substring of the UTF-8 key" },
        { name: "value", in: "query", schema: str, description: "Substring of the UTF-8 value" },
        { name: "limit", in: "query", schema: { ...int, minimum: 1, maximum: 1000, default: 100 } },
        {
          name: "maxRecords",
          in: "query",
          schema: { ...int, minimum: 1, maximum: 1000000, default: 10000 },
          description: "Records scanned at most",
        },
        {
          name: "maxBytes",
          in: "query",
          schema: { ...int, minimum: 1, maximum: 268435456, default: 16777216 },
          description: "Bytes of keys, values and headers scanned at most",
        },
        {
          name: "timeoutMs",
          in: "query",
          schema: { ...int, minimum: 1, maximum: 30000, default: 2000 },
          description: "Time the scan may take",
        },
      ],
      responses: {
        200: json(ref("SearchResult"), "Matches"),
        400: error("Bad parameter"),
        404: error("Unknown topic or partition"),
      },
    },
  },
};
