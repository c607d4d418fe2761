/**
 * The OpenAPI parts of the fault injection routes (src/admin/routes_faults.ts). Merged into
 * the document by openapi.ts.
 */

import { error, int, json, ref, type Schema, str } from "./openapi_parts.ts";

export const faultSchemas: Record<string, Schema> = {
  RequestFaultSpec: {
    type: "object",
    description: "The next `count` requests of an API (optionally only those naming `topic` / " +
      "`partition`) fail with `errorCode` (where that API's clients read errors) and/or wait " +
      "`delayMs` first. A request a fault fails is not handled.",
    properties: {
      api: { ...str, description: "Kafka API name, e.g. Produce, FindCoordinator, JoinGroup" },
      apiKey: { ...int, description: "Or the API key" },
      count: { ...int, minimum: 1, default: 1 },
      errorCode: {
        description: "Kafka error code or name, e.g. 6 or NOT_LEADER_OR_FOLLOWER",
        oneOf: [int, str],
      },
      delayMs: { ...int, minimum: 0, default: 0 },
      topic: str,
      partition: { ...int, minimum: 0 },
    },
  },
  RequestFault: {
    type: "object",
    properties: {
      id: int,
      apiKey: int,
      api: str,
      remaining: { ...int, description: "Requests still to be hit" },
      count: int,
      errorCode: { ...int, description: "0: the requests are only delayed" },
      error: { ...str, description: "The error code's Kafka name" },
      delayMs: int,
      topic: str,
      partition: int,
    },
  },
  Faults: {
    type: "object",
    properties: {
      enabled: { type: "boolean" },
      requests: { type: "array", items: ref("RequestFault") },
      dropNextConnections: { ...int, description: "Connections to drop as they are accepted" },
      hangingUntil: {
        type: ["string", "null"],
        format: "date-time",
        description: "When the broker answers again; null: not hanging",
      },
      heldRequests: { ...int, description: "Requests held by the hang, answered when it ends" },
    },
  },
};

const disabled = error(
  "FAULT_INJECTION_DISABLED: start the broker with --dev or " +
    "tributary.fault.injection.enable=true",
);

export const faultPaths: Record<string, Schema> = {
  "/v1/faults": {
    get: {
      summary: "The injected faults in force",
      responses: { 200: json(ref("Faults"), "Faults"), 403: disabled },
    },
    post: {
      summary: "Push a request fault (librdkafka mock's push_request_errors, with delays)",
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("RequestFaultSpec") } },
      },
      responses: {
        201: json(ref("RequestFault"), "Pushed"),
        400: error("Unknown API or error name, bad count or delay"),
        403: disabled,
      },
    },
    delete: {
      summary: "Clear every fault and end a hang",
      responses: { 200: json(ref("Faults"), "Cleared"), 403: disabled },
    },
  },
  "/v1/faults/drop-connections": {
    post: {
      summary: "Drop every client connection now, or with {next: N} the next N accepted",
      requestBody: {
        required: false,
        content: {
          "application/json": {
            schema: { type: "object", properties: { next: { ...int, minimum: 1 } } },
          },
        },
      },
      responses: {
        200: json({
          type: "object",
          properties: { dropped: int, dropNextConnections: int },
        }, "Dropped"),
        400: error("Bad next"),
        403: disabled,
      },
    },
  },
  "/v1/faults/hang": {
    post: {
      summary: "Stop answering requests for {ms}; requests meanwhile are answered after",
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              required: ["ms"],
              properties: { ms: { ...int, minimum: 1 } },
            },
          },
        },
      },
      responses: { 200: json(ref("Faults"), "Hanging"), 400: error("Bad ms"), 403: disabled },
    },
  },
};
