/**
 * A small Kafka client over the project's own protocol codec: connections with ApiVersions
 * negotiation, metadata and leader routing, produce, fetch, offsets, classic consumer groups
 * and admin requests. It speaks to any Kafka-protocol broker, not only Tributary.
 */
export * from "./admin.ts";
export * from "./client.ts";
export * from "./connection.ts";
export * from "./errors.ts";
export * from "./fetcher.ts";
export * from "./group_member.ts";
export * from "./offsets.ts";
export * from "./partitioner.ts";
export * from "./producer.ts";
