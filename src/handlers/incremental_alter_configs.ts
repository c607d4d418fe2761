/**
 * IncrementalAlterConfigs (key 44), v0–1.
 * Behaviour: applies per-key operations to a resource's dynamic configs, leaving other keys
 * as they are: SET (0) a value, DELETE (1) back to the default, APPEND (2) / SUBTRACT (3) items
 * of a list config (cleanup.policy; starting from its effective value). Topic resources
 * (type 2) and broker resources (type 4: node id or "" for the cluster default) are validated,
 * persisted and applied exactly like AlterConfigs (see alter_configs.ts): INVALID_CONFIG naming
 * the key for unknown topic keys, bad topic values, broken cross-key rules and
 * APPEND/SUBTRACT on a non-list; INVALID_REQUEST for a key given twice, an unknown operation,
 * a null value to SET, what Kafka refuses on a broker resource, or a resource named twice;
 * UNKNOWN_TOPIC_OR_PARTITION for unknown topics. validateOnly checks only.
 * Authorization (with an authorizer, as Kafka): ALTER_CONFIGS on the topic
 * (TOPIC_AUTHORIZATION_FAILED) or, for the broker, on the cluster (CLUSTER_AUTHORIZATION_FAILED).
 * Version notes: v1 is flexible.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestAlterableConfig,
  IncrementalAlterConfigsResponse,
} from "../../protocol/messages/mod.ts";
import type { BrokerServices } from "../services.ts";
import { BROKER_DEFS, type ConfigValue, TOPIC_DEFS, topicConfigValue } from "../config.ts";
import { defineApi } from "../registry.ts";
import { alterEachResource, brokerScope } from "./alter_configs.ts";

export const OpType = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

/**
 * Applies the operations to `current` (string values by key). `effective(key)` is the value in
 * force for APPEND/SUBTRACT on a key without an entry; `isList(key)` whether it is a list.
 */
function applyOps(
  current: Map<string, string>,
  ops: IncrementalAlterConfigsRequestAlterableConfig[],
  effective: (key: string) => ConfigValue,
  isList: (key: string) => boolean | undefined,
): Map<string, string> {
  const next = new Map(current);
  const seen = new Set<string>();
  for (const op of ops) {
    const key = op.name;
    if (seen.has(key)) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `${key}: given more than once`);
    }
    seen.add(key);
    const value = op.value;
    switch (op.configOperation) {
      case OpType.SET:
        if (value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `${key}: null value`);
        next.set(key, value);
        break;
      case OpType.DELETE:
        next.delete(key);
        break;
      case OpType.APPEND:
      case OpType.SUBTRACT: {
        if (!isList(key)) {
          // Kafka's controller says the same for unknown keys and for keys that are not lists.
          const what = op.configOperation === OpType.APPEND ? "APPEND" : "SUBTRACT";
          throw new KafkaError(
            ErrorCode.INVALID_CONFIG,
            `Can't ${what} to key ${key} because its type is not LIST.`,
          );
        }
        const base = next.get(key) ?? String(effective(key) ?? "");
        const items = base.split(",").map((x) => x.trim()).filter((x) => x);
        const given = (value ?? "").split(",").map((x) => x.trim()).filter((x) => x);
        const result = op.configOperation === OpType.APPEND
          ? [...items, ...given.filter((g) => !items.includes(g))]
          : items.filter((i) => !given.includes(i));
        next.set(key, result.join(","));
        break;
      }
      default:
        throw new KafkaError(
          ErrorCode.INVALID_REQUEST,
          `${key}: unknown operation ${op.configOperation}`,
        );
    }
  }
  return next;
}

function alterTopic(
  services: BrokerServices,
  name: string,
  ops: IncrementalAlterConfigsRequestAlterableConfig[],
  validateOnly: boolean,
): void {
  const t = services.metadataCache.topic(name);
  if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
  const current = new Map(
    Object.entries(t.configs).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)]),
  );
  const next = applyOps(
    current,
    ops,
    (k) => topicConfigValue(services.config, t.configs, k),
    (k) => TOPIC_DEFS.has(k) ? TOPIC_DEFS.get(k)!.type === "list" : undefined,
  );
  services.topicAdmin.alterTopicConfigs(name, next, validateOnly);
}

function alterBroker(
  services: BrokerServices,
  name: string,
  ops: IncrementalAlterConfigsRequestAlterableConfig[],
  validateOnly: boolean,
): void {
  const scope = brokerScope(services, name);
  const layer = scope === "broker" ? services.config.dynamicBroker : services.config.dynamicDefault;
  const current = new Map([...layer].map(([k, v]) => [k, String(v)]));
  const next = applyOps(
    current,
    ops,
    (k) => services.config.get(k),
    (k) => BROKER_DEFS.has(k) ? BROKER_DEFS.get(k)!.type === "list" : undefined,
  );
  const changes: [string, string | null][] = [];
  for (const [k, v] of next) if (current.get(k) !== v) changes.push([k, v]);
  for (const k of current.keys()) if (!next.has(k)) changes.push([k, null]);
  services.dynamicConfig.alterBrokerConfigs(changes, scope, validateOnly);
}

export const incrementalAlterConfigs = defineApi({
  apiKey: 44,
  name: "IncrementalAlterConfigs",
  minVersion: 0,
  maxVersion: 1,
  request: IncrementalAlterConfigsRequest,
  response: IncrementalAlterConfigsResponse,
  handler: async (req, ctx) => {
    const { services } = ctx;
    const response = {
      throttleTimeMs: 0,
      responses: alterEachResource(ctx, req.resources, "incremental alter configs", {
        topic: (r) => alterTopic(services, r.resourceName, r.configs, req.validateOnly),
        broker: (r) => alterBroker(services, r.resourceName, r.configs, req.validateOnly),
      }),
    };
    // The other workers have applied the new configs before the client hears of them.
    await services.topicAdmin.propagated();
    return response;
  },
});
