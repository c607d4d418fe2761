/**
 * DescribeConfigs (key 32), v0–4.
 * Behaviour: topic resources (type 2) list every topic setting with its effective value and
 * source: the topic's own override (DYNAMIC_TOPIC_CONFIG), a broker setting changed at
 * runtime (DYNAMIC_BROKER_CONFIG / DYNAMIC_DEFAULT_BROKER_CONFIG), given at start
 * (STATIC_BROKER_CONFIG) or Kafka's default (DEFAULT_CONFIG); synonyms show that chain when
 * asked. Every Kafka 3.9 topic config is listed with Kafka's default and type. Broker resources
 * (type 4): by node id, every Kafka 3.9 broker setting (not its internal ones) and this
 * broker's own, plus custom names set at runtime (reported as sensitive, without value, as
 * Kafka does); "" (the cluster default) lists only what is set at runtime as cluster default,
 * as Kafka does. Those AlterConfigs can change at runtime are not read-only; passwords are
 * sensitive and have no value. The documentation says which settings have no effect here.
 * Unknown topics get UNKNOWN_TOPIC_OR_PARTITION, other resource types INVALID_REQUEST.
 * Version notes: v0 says isDefault (the source is DEFAULT_CONFIG) where v1+ give the
 * source, and synonyms; v3+ config types and documentation; v4 flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  type DescribeConfigsResult,
} from "../../protocol/messages/mod.ts";
import type { Encodable } from "../../protocol/schema.ts";
import type { BrokerServices } from "../services.ts";
import {
  ALL_BROKER_CONFIGS,
  BROKER_DEFS,
  type BrokerConfig,
  brokerSynonyms,
  type ConfigDef,
  type ConfigType,
  type ConfigValue,
  docOf,
  listenerBaseDef,
  TOPIC_CONFIGS,
} from "../config.ts";
import { defineApi } from "../registry.ts";

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;

export const Source = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** DescribeConfigs' configType ids (Kafka's ConfigEntry.ConfigType; 0 is UNKNOWN). */
const TYPE_IDS: Record<ConfigType, number> = {
  bool: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

/**
 * A value as Kafka prints it: Long.MAX_VALUE (kept as the largest exact JS integer) in full,
 * doubles as Java's Double.toString ("1.0", "0.5", "1.7976931348623157E308").
 */
export function formatValue(v: ConfigValue, type?: ConfigType): string | null {
  if (v === Number.MAX_SAFE_INTEGER && type !== "double") return "9223372036854775807";
  if (type === "double" && typeof v === "number") return javaDouble(v);
  return v == null ? null : String(v);
}

function javaDouble(n: number): string {
  const a = Math.abs(n);
  if (a !== 0 && (a >= 1e7 || a < 1e-3) && Number.isFinite(n)) {
    const [m, e] = n.toExponential().split("e");
    return `${m.includes(".") ? m : `${m}.0`}E${Number(e)}`;
  }
  return Number.isInteger(n) ? `${n}.0` : String(n);
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

/**
 * Every topic setting of a topic with these overrides, with value, source and synonyms: the
 * topic's own value, then where its broker setting and that setting's synonyms are set (in
 * the broker's units, e.g. `log.roll.hours`), as Kafka's DescribeConfigs lists them; the
 * source is the first of those.
 */
export function topicConfigEntries(
  services: BrokerServices,
  overrides: Record<string, ConfigValue>,
): ConfigEntry[] {
  return TOPIC_CONFIGS.map((d) => {
    const own = d.name in overrides;
    const synonyms: Synonym[] = own
      ? [{
        name: d.name,
        value: formatValue(overrides[d.name], d.type),
        source: Source.DYNAMIC_TOPIC_CONFIG,
      }]
      : [];
    if (d.brokerKey) synonyms.push(...brokerSynonymEntries(services.config, d.brokerKey, true));
    return {
      name: d.name,
      value: formatValue(own ? overrides[d.name] : services.config.topicDefault(d), d.type),
      readOnly: false,
      configSource: synonyms[0]?.source ?? Source.DEFAULT_CONFIG,
      isSensitive: false,
      synonyms,
      configType: TYPE_IDS[d.type],
      documentation: docOf(d),
    };
  });
}

type Synonym = ConfigEntry["synonyms"][number];

/**
 * Where a broker setting and its synonyms are set, in Kafka's order of precedence: per broker,
 * cluster default, at start, Kafka's default (the per-broker layer only for a broker id).
 */
function brokerSynonymEntries(config: BrokerConfig, key: string, perBroker: boolean): Synonym[] {
  const out: Synonym[] = [];
  for (const name of brokerSynonyms(key)) {
    const d = BROKER_DEFS.get(name) ?? listenerBaseDef(name);
    const text = (v: ConfigValue) => d?.type === "password" || !d ? null : formatValue(v, d.type);
    if (perBroker && config.dynamicBroker.has(name)) {
      out.push({
        name,
        value: text(config.dynamicBroker.get(name)!),
        source: Source.DYNAMIC_BROKER_CONFIG,
      });
    }
    if (config.dynamicDefault.has(name)) {
      out.push({
        name,
        value: text(config.dynamicDefault.get(name)!),
        source: Source.DYNAMIC_DEFAULT_BROKER_CONFIG,
      });
    }
    const fixed = config.staticValue(name);
    if (fixed !== undefined) {
      out.push({ name, value: text(fixed), source: Source.STATIC_BROKER_CONFIG });
    }
    if (d && d.name === name && d.default !== null) {
      out.push({ name, value: text(d.default), source: Source.DEFAULT_CONFIG });
    }
  }
  return out;
}

/** One broker setting; names Kafka does not define are custom (sensitive, no value). */
function brokerEntry(config: BrokerConfig, key: string, perBroker: boolean): ConfigEntry {
  const d: ConfigDef | undefined = BROKER_DEFS.get(key) ?? listenerBaseDef(key);
  const synonyms = brokerSynonymEntries(config, key, perBroker);
  const sensitive = !d || d.type === "password";
  const value = perBroker ? config.get(key) : config.dynamicDefault.get(key) ?? null;
  return {
    name: key,
    value: sensitive ? null : formatValue(value, d!.type),
    readOnly: !d?.dynamic && !(d && d.name !== key),
    configSource: synonyms[0]?.source ?? Source.DEFAULT_CONFIG,
    isSensitive: sensitive,
    synonyms,
    configType: d ? TYPE_IDS[d.type] : 0,
    documentation: d ? docOf(d) : "Custom setting (not Kafka's); no effect here.",
  };
}

/**
 * A broker id lists every setting and the custom ones set at runtime; the cluster default ("")
 * lists what is set as cluster default, as Kafka's DescribeConfigs does.
 */
function brokerConfigEntries(services: BrokerServices, perBroker: boolean): ConfigEntry[] {
  const config = services.config;
  if (!perBroker) {
    return [...config.dynamicDefault.keys()].map((k) => brokerEntry(config, k, false));
  }
  const keys = ALL_BROKER_CONFIGS.filter((d) => !d.internal).map((d) => d.name);
  const known = new Set(keys);
  // Listener-prefixed names set at start (`listener.name.ssl.ssl.keystore.location`) too.
  for (
    const k of [...config.dynamicBroker.keys(), ...config.dynamicDefault.keys(), ...config.explicit]
  ) {
    if (!known.has(k)) {
      known.add(k);
      keys.push(k);
    }
  }
  return keys.map((k) => brokerEntry(config, k, true));
}

export const describeConfigs = defineApi({
  apiKey: 32,
  name: "DescribeConfigs",
  minVersion: 0,
  maxVersion: 4,
  request: DescribeConfigsRequest,
  response: DescribeConfigsResponse,
  handler: (req, { services }) => {
    const results: Encodable<DescribeConfigsResult>[] = [];
    for (const r of req.resources) {
      const out: Encodable<DescribeConfigsResult> = {
        errorCode: 0,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: [],
      };
      results.push(out);
      let entries: ConfigEntry[];
      if (r.resourceType === RESOURCE_TOPIC) {
        const t = services.metadataCache.topic(r.resourceName);
        if (!t) {
          out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          out.errorMessage = `unknown topic ${r.resourceName}`;
          continue;
        }
        entries = topicConfigEntries(services, t.configs);
      } else if (r.resourceType === RESOURCE_BROKER) {
        if (r.resourceName !== "" && r.resourceName !== String(services.metadataCache.nodeId)) {
          out.errorCode = ErrorCode.INVALID_REQUEST;
          out.errorMessage =
            `Unexpected broker id, expected ${services.metadataCache.nodeId} or empty string, ` +
            `but received ${r.resourceName}`;
          continue;
        }
        entries = brokerConfigEntries(services, r.resourceName !== "");
      } else {
        out.errorCode = ErrorCode.INVALID_REQUEST;
        out.errorMessage = `unsupported resource type ${r.resourceType}`;
        continue;
      }
      const keys = r.configurationKeys;
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
});
