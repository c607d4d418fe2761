/**
 * DescribeConfigs (key 32), v0–4.
 * Behaviour: topic resources (type 2) list every topic setting with its effective value and
 * source: the topic's own override (DYNAMIC_TOPIC_CONFIG), a broker setting changed at
 * runtime (DYNAMIC_BROKER_CONFIG / DYNAMIC_DEFAULT_BROKER_CONFIG), given at start
 * (STATIC_BROKER_CONFIG) or Kafka's default (DEFAULT_CONFIG); synonyms show that chain when
 * asked. Broker resources (type 4, named by node id, or "" for cluster defaults) list the
 * broker settings; those AlterConfigs can change at runtime are not read-only. Unknown topics get UNKNOWN_TOPIC_OR_PARTITION, other resource types
 * INVALID_REQUEST.
 * Version notes: v0 says isDefault (the source is DEFAULT_CONFIG) where v1+ give the
 * source, and synonyms; v3+ config types and documentation; v4 flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { DescribeConfigsRequest, DescribeConfigsResponse } from "../../protocol/messages/mod.ts";
import type { Msg } from "../../protocol/schema.ts";
import type { Broker } from "../broker.ts";
import {
  BROKER_CONFIGS,
  type BrokerConfig,
  type ConfigDef,
  type ConfigType,
  type ConfigValue,
  DYNAMIC_BROKER_CONFIGS,
  TOPIC_CONFIGS,
  type TopicConfigDef,
} from "../config.ts";
import type { ApiRegistration } from "../registry.ts";

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;

export const Source = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

const TYPE_IDS: Record<ConfigType, number> = {
  bool: 1,
  string: 2,
  int: 3,
  long: 5,
  double: 6,
  list: 7,
  password: 9,
};

export function formatValue(v: ConfigValue): string | null {
  return v == null ? null : String(v);
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
  configType: number;
  documentation: string;
}

/** The source of a broker setting's value (STATIC unless changed at runtime). */
function brokerSource(config: BrokerConfig, key: string): number {
  switch (config.sourceOf(key)) {
    case "dynamic-broker":
      return Source.DYNAMIC_BROKER_CONFIG;
    case "dynamic-default":
      return Source.DYNAMIC_DEFAULT_BROKER_CONFIG;
    case "static":
      return Source.STATIC_BROKER_CONFIG;
    default:
      return Source.DEFAULT_CONFIG;
  }
}

/** The source of a topic default that comes from a broker setting (or its finer variants). */
function topicDefaultSource(config: BrokerConfig, d: TopicConfigDef): number {
  const keys = d.brokerKey === "log.roll.ms"
    ? ["log.roll.ms", "log.roll.hours"]
    : d.brokerKey === "log.retention.ms"
    ? ["log.retention.ms", "log.retention.minutes", "log.retention.hours"]
    : [d.brokerKey!];
  const sources = keys.map((k) => brokerSource(config, k));
  return Math.min(...sources.filter((s) => s !== Source.DEFAULT_CONFIG), Source.DEFAULT_CONFIG);
}

/** Every topic setting of a topic with these overrides, with value, source and synonyms. */
export function topicConfigEntries(
  broker: Broker,
  overrides: Record<string, ConfigValue>,
): ConfigEntry[] {
  return TOPIC_CONFIGS.map((d) => {
    const synonyms = [];
    if (d.name in overrides) {
      synonyms.push({
        name: d.name,
        value: formatValue(overrides[d.name]),
        source: Source.DYNAMIC_TOPIC_CONFIG,
      });
    }
    const brokerSet = broker.config.topicDefaultIsBrokerSet(d);
    const brokerSrc = brokerSet ? topicDefaultSource(broker.config, d) : Source.DEFAULT_CONFIG;
    if (d.brokerKey && brokerSet) {
      synonyms.push({
        name: d.brokerKey,
        value: formatValue(broker.config.topicDefault(d)),
        source: brokerSrc,
      });
    }
    if (d.brokerKey) {
      synonyms.push({
        name: d.brokerKey,
        value: formatValue(d.default),
        source: Source.DEFAULT_CONFIG,
      });
    }
    const own = d.name in overrides;
    return {
      name: d.name,
      value: formatValue(own ? overrides[d.name] : broker.config.topicDefault(d)),
      readOnly: false,
      configSource: own ? Source.DYNAMIC_TOPIC_CONFIG : brokerSrc,
      isSensitive: false,
      synonyms,
      configType: TYPE_IDS[d.type],
      documentation: d.doc,
    };
  });
}

function brokerConfigEntries(broker: Broker): ConfigEntry[] {
  return BROKER_CONFIGS.map((d: ConfigDef) => {
    const value = formatValue(broker.config.get(d.name));
    const source = brokerSource(broker.config, d.name);
    return {
      name: d.name,
      value,
      readOnly: !DYNAMIC_BROKER_CONFIGS.has(d.name),
      configSource: source,
      isSensitive: d.type === "password",
      synonyms: [{ name: d.name, value, source }],
      configType: TYPE_IDS[d.type],
      documentation: d.doc,
    };
  });
}

export const describeConfigs: ApiRegistration = {
  apiKey: 32,
  name: "DescribeConfigs",
  minVersion: 0,
  maxVersion: 4,
  request: DescribeConfigsRequest,
  response: DescribeConfigsResponse,
  handler: (req, { broker }) => {
    const results: Msg[] = [];
    for (const r of req.resources as Msg[]) {
      const out: Msg = {
        errorCode: 0,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: [],
      };
      results.push(out);
      let entries: ConfigEntry[];
      if (r.resourceType === RESOURCE_TOPIC) {
        const t = broker.topic(r.resourceName);
        if (!t) {
          out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          out.errorMessage = `unknown topic ${r.resourceName}`;
          continue;
        }
        entries = topicConfigEntries(broker, t.configs);
      } else if (r.resourceType === RESOURCE_BROKER) {
        if (r.resourceName !== "" && r.resourceName !== String(broker.nodeId)) {
          out.errorCode = ErrorCode.INVALID_REQUEST;
          out.errorMessage = `unexpected broker id ${r.resourceName}`;
          continue;
        }
        entries = brokerConfigEntries(broker);
      } else {
        out.errorCode = ErrorCode.INVALID_REQUEST;
        out.errorMessage = `unsupported resource type ${r.resourceType}`;
        continue;
      }
      const keys = r.configurationKeys as string[] | null;
      if (keys) entries = entries.filter((e) => keys.includes(e.name));
      out.configs = entries.map((e) => ({
        ...e,
        synonyms: req.includeSynonyms ? e.synonyms : [],
        documentation: req.includeDocumentation ? e.documentation : null,
        isDefault: e.configSource === Source.DEFAULT_CONFIG,
      }));
    }
    return { throttleTimeMs: 0, results };
  },
};
