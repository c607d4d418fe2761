/** Small helpers shared by handlers. */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import { log } from "../log.ts";
import type { BrokerEndpoint } from "../cluster/leadership.ts";
import { endpointOn } from "../cluster/listener_endpoints.ts";
import type { RequestContext } from "../registry.ts";
import type { BrokerServices } from "../services.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";

/** The Kafka error code for a failure; unexpected errors are logged and reported as -1. */
export function errorCodeOf(e: unknown, where: string): number {
  if (e instanceof KafkaError) return e.code;
  log.error(`${where}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

/** A message to put beside an error code in responses that have one. */
export function errorMessageOf(e: unknown): string {
  if (e instanceof KafkaError) return e.message || errorName(e.code);
  return e instanceof Error ? e.message : String(e);
}

/** Kafka's authorized-operations bitfields when every operation is allowed (no authorizer). */
export const ALL_TOPIC_OPERATIONS = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) |
  (1 << 8) | (1 << 10) | (1 << 11);
export const ALL_CLUSTER_OPERATIONS = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) |
  (1 << 11) | (1 << 12);
/**
 * The cluster's authorized operations as Kafka's DescribeCluster and Metadata answer them:
 * the authorizer's bit set when the principal may describe the cluster, else 0.
 */
export function clusterAuthorizedOperations(ctx: RequestContext): number {
  const a = ctx.services.authorizer;
  return a.authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)
    ? a.authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
    : 0;
}

/** "Not requested" marker for authorized operations (Integer.MIN_VALUE). */
export const OPERATIONS_NOT_REQUESTED = -2147483648;

/** Kafka's message for CreateAcls/DeleteAcls results when no authorizer is configured. */
export const NO_AUTHORIZER = "No Authorizer is configured.";

/** Kafka's default messages of the authorization errors. */
export const CLUSTER_AUTHORIZATION_FAILED = "Cluster authorization failed.";

/**
 * The live brokers as a request on `listenerName` is to see them, as Kafka answers: each at
 * its endpoint on that listener, a broker without it left out.
 */
export function brokersOn(
  services: BrokerServices,
  listenerName: string,
): { nodeId: number; host: string; port: number; rack: string | null }[] {
  const out: { nodeId: number; host: string; port: number; rack: string | null }[] = [];
  for (const b of services.leadership.brokers()) {
    const e = brokerOn(services, b, listenerName);
    if (e) out.push({ nodeId: b.nodeId, host: e.host, port: e.port, rack: b.rack });
  }
  return out;
}

/** Broker `b`'s endpoint on listener `listenerName` (this broker's own from its listeners). */
export function brokerOn(
  services: BrokerServices,
  b: BrokerEndpoint,
  listenerName: string,
): { host: string; port: number } | undefined {
  return b.nodeId === services.leadership.localNodeId
    ? services.metadataCache.endpoint(listenerName)
    : endpointOn(b, listenerName);
}
