/**
 * AlterConfigs (key 33), v0–2.
 * Behaviour: replaces the whole set of dynamic configs of each resource (keys not given
 * return to their defaults), as Kafka's legacy API does. Topic resources (type 2): the
 * overrides are validated (unknown key, bad value or broken cross-key rule → INVALID_CONFIG
 * naming the key; a null value → INVALID_REQUEST), persisted in topics.json and applied to the
 * open partitions at once (a lower retention.ms deletes on the next retention pass, driven by
 * log.retention.check.interval.ms); every Kafka 3.9 topic config is accepted (some with no
 * effect here), any other name is refused ("Unknown topic config name: x"). Broker resources
 * (type 4, named by node id for this broker, or "" for the cluster default): Kafka's dynamic
 * broker configs, listener-prefixed ones and custom (non-Kafka) names may be set; what Kafka
 * refuses gets INVALID_REQUEST with its message (a config that changes only at start: "Cannot
 * update these configs dynamically: Set(x)"; a bad value; a per-broker config as cluster
 * default; a thread pool resized beyond half or double); a topic config → INVALID_CONFIG.
 * They are persisted in meta/dynamic-broker-configs.json and re-derive every topic's
 * effective config. Unknown topics get UNKNOWN_TOPIC_OR_PARTITION, other
 * resource types and a resource named twice INVALID_REQUEST. validateOnly checks only.
 * Authorization (with an authorizer, as Kafka): ALTER_CONFIGS on the topic
 * (TOPIC_AUTHORIZATION_FAILED) or, for the broker, on the cluster (CLUSTER_AUTHORIZATION_FAILED).
 * Version notes: v0 and v1 are identical; v2 is flexible.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  AlterConfigsRequest,
  type AlterConfigsResource,
  type AlterConfigsResourceResponse,
  AlterConfigsResponse,
} from "../../protocol/messages/mod.ts";
import type { BrokerServices } from "../services.ts";
import { defineApi, type RequestContext } from "../registry.ts";
import { AclOperation } from "../security/acl_binding.ts";
import { configsAuthorizationError, RESOURCE_BROKER, RESOURCE_TOPIC } from "./describe_configs.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";

/** "broker" for this broker's id, "default" for "", else INVALID_REQUEST (Kafka's messages). */
export function brokerScope(services: BrokerServices, name: string): "broker" | "default" {
  if (name === "") return "default";
  if (!/^[+-]?\d+$/.test(name) || !Number.isSafeInteger(Number(name))) {
    throw new KafkaError(
      ErrorCode.INVALID_REQUEST,
      `Node id must be an integer, but it is: ${name}`,
    );
  }
  if (Number(name) === services.metadataCache.nodeId) return "broker";
  throw new KafkaError(
    ErrorCode.INVALID_REQUEST,
    `Unexpected broker id, expected ${services.metadataCache.nodeId}, but received ${name}`,
  );
}

/** What both AlterConfigs APIs name a resource by. */
interface ConfigResource {
  resourceType: number;
  resourceName: string;
}

/** Counts resources by (type, name): Kafka rejects a resource named twice in one request. */
export function duplicateResources(resources: ConfigResource[]): Set<string> {
  const seen = new Map<string, number>();
  for (const r of resources) {
    const k = `${r.resourceType}:${r.resourceName}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return new Set([...seen].filter(([, n]) => n > 1).map(([k]) => k));
}

/**
 * The per-resource loop both AlterConfigs APIs share: a resource named twice and unsupported
 * resource types are refused, and each resource gets its own error code and message.
 */
export function alterEachResource<R extends ConfigResource>(
  ctx: RequestContext,
  resources: R[],
  what: string,
  apply: { topic(r: R): void; broker(r: R): void },
): AlterConfigsResourceResponse[] {
  const dups = duplicateResources(resources);
  return resources.map((r) => {
    const out: AlterConfigsResourceResponse = {
      errorCode: 0,
      errorMessage: null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    };
    const denied = configsAuthorizationError(ctx, AclOperation.ALTER_CONFIGS, r);
    if (denied !== null) {
      out.errorCode = denied;
      return out;
    }
    try {
      if (dups.has(`${r.resourceType}:${r.resourceName}`)) {
        throw new KafkaError(
          ErrorCode.INVALID_REQUEST,
          `resource ${r.resourceName} appears more than once`,
        );
      }
      if (r.resourceType === RESOURCE_TOPIC) apply.topic(r);
      else if (r.resourceType === RESOURCE_BROKER) apply.broker(r);
      else {
        throw new KafkaError(
          ErrorCode.INVALID_REQUEST,
          `unsupported resource type ${r.resourceType}`,
        );
      }
    } catch (e) {
      out.errorCode = errorCodeOf(e, `${what} ${r.resourceName}`);
      out.errorMessage = errorMessageOf(e);
    }
    return out;
  });
}

/** The resource's entries; AlterConfigs has no way to say "default", so null is refused. */
function entriesOf(r: AlterConfigsResource): [string, string][] {
  const entries: [string, string][] = [];
  for (const c of r.configs) {
    if (c.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `${c.name}: null value`);
    entries.push([c.name, c.value]);
  }
  return entries;
}

export const alterConfigs = defineApi({
  apiKey: 33,
  name: "AlterConfigs",
  minVersion: 0,
  maxVersion: 2,
  request: AlterConfigsRequest,
  response: AlterConfigsResponse,
  handler: async (req, ctx) => {
    const { services } = ctx;
    const response = {
      throttleTimeMs: 0,
      responses: alterEachResource(ctx, req.resources, "alter configs", {
        topic: (r) =>
          services.topicAdmin.alterTopicConfigs(r.resourceName, entriesOf(r), req.validateOnly),
        broker: (r) => {
          const entries = entriesOf(r);
          const scope = brokerScope(services, r.resourceName);
          const current = scope === "broker"
            ? services.config.dynamicBroker
            : services.config.dynamicDefault;
          const given = new Set(entries.map(([k]) => k));
          const changes: [string, string | null][] = [
            ...entries,
            ...[...current.keys()].filter((k) => !given.has(k)).map((
              k,
            ): [string, null] => [k, null]),
          ];
          services.dynamicConfig.alterBrokerConfigs(changes, scope, req.validateOnly);
        },
      }),
    };
    // The other workers have applied the new configs before the client hears of them.
    await services.topicAdmin.propagated();
    return response;
  },
});
