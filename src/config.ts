/**
 * Broker and topic configuration, under Kafka's own names.
 *
 * Broker settings come from defaults, then a `server.properties` file (`--config`), then
 * `--set key=value` overrides. Topic settings (`segment.bytes`, `retention.ms`, ...) fall back
 * to their broker synonyms (`log.segment.bytes`, `log.retention.ms`, ...) exactly as Kafka's
 * LogConfig does, so DescribeConfigs can report where each value came from.
 */
import { BROKER_CONFIGS } from "./broker_config_defs.ts";
import { checkFailure } from "./config_validators.ts";
import type { ConfigDef, ConfigValue, TopicConfigDef } from "./config_def.ts";
import { KAFKA_BROKER_CONFIGS } from "./kafka_broker_configs.ts";
import { TOPIC_CONFIGS } from "./kafka_topic_configs.ts";

export { BROKER_CONFIGS, TOPIC_CONFIGS };
export type {
  ConfigDef,
  ConfigType,
  ConfigValue,
  DynamicScope,
  TopicConfigDef,
} from "./config_def.ts";
export { docOf } from "./config_def.ts";
export { parseProperties } from "./properties.ts";

export class ConfigError extends Error {
  /** `message` names the key unless `whole` (a message that already names it, Kafka's). */
  constructor(readonly key: string, message: string, whole = false) {
    super(whole ? message : `${key}: ${message}`);
    this.name = "ConfigError";
  }
}

/**
 * Every broker setting known: this broker's own (its documentation; the dynamic scope Kafka
 * gives the name), then the rest of Kafka 3.9's, which have no effect here.
 */
export const ALL_BROKER_CONFIGS: ConfigDef[] = (() => {
  const kafka = new Map(KAFKA_BROKER_CONFIGS.map((d) => [d.name, d]));
  const own = BROKER_CONFIGS.map((d) => {
    const k = kafka.get(d.name);
    return k?.dynamic ? { ...d, dynamic: k.dynamic } : d;
  });
  const ownNames = new Set(BROKER_CONFIGS.map((d) => d.name));
  return [...own, ...KAFKA_BROKER_CONFIGS.filter((d) => !ownNames.has(d.name))];
})();

export const BROKER_DEFS = new Map(ALL_BROKER_CONFIGS.map((d) => [d.name, d]));
export const TOPIC_DEFS = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

/** Broker settings AlterConfigs / IncrementalAlterConfigs may change at runtime. */
export const DYNAMIC_BROKER_CONFIGS = new Set(
  ALL_BROKER_CONFIGS.filter((d) => d.dynamic).map((d) => d.name),
);

/**
 * The broker settings that define one value, in Kafka's order of precedence
 * (DynamicBrokerConfig.brokerConfigSynonyms): `log.roll.ms` over `log.roll.hours`, ...
 */
export function brokerSynonyms(key: string): string[] {
  switch (key) {
    case "log.roll.ms":
    case "log.roll.hours":
      return ["log.roll.ms", "log.roll.hours"];
    case "log.roll.jitter.ms":
    case "log.roll.jitter.hours":
      return ["log.roll.jitter.ms", "log.roll.jitter.hours"];
    case "log.flush.interval.ms":
      return ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"];
    case "log.retention.ms":
    case "log.retention.minutes":
    case "log.retention.hours":
      return ["log.retention.ms", "log.retention.minutes", "log.retention.hours"];
    default:
      return [key];
  }
}

/** Listener settings Kafka lets the cluster default hold (all others are per broker). */
const CLUSTER_LEVEL_LISTENER_CONFIGS = new Set([
  "max.connections",
  "max.connection.creation.rate",
  "num.network.threads",
]);

/**
 * Whether a setting may change only on a broker id resource (Kafka's PerBrokerConfigs: SSL,
 * SASL and listener settings, and their listener-prefixed forms).
 */
export function isPerBrokerConfig(key: string): boolean {
  const m = LISTENER_CONFIG.exec(key);
  if (m) return !CLUSTER_LEVEL_LISTENER_CONFIGS.has(m[1]);
  const scope = BROKER_DEFS.get(key)?.dynamic;
  return scope === "per-broker" || scope === "listener";
}

/** `listener.name.<listener>.<config>`: a listener's own value of a broker setting. */
export const LISTENER_CONFIG = /^listener\.name\.[^.]*\.(.*)$/;

/**
 * The broker setting a listener-prefixed name overrides, if it is one: `<mechanism>.<config>`
 * for SASL mechanism settings (`listener.name.sasl_ssl.plain.sasl.jaas.config`), as Kafka's
 * DynamicBrokerConfig matches them.
 */
export function listenerBaseDef(key: string): ConfigDef | undefined {
  const m = LISTENER_CONFIG.exec(key);
  if (!m) return undefined;
  const direct = BROKER_DEFS.get(m[1]);
  if (direct) return direct;
  const mechanism = [
    "sasl.jaas.config",
    "sasl.login.callback.handler.class",
    "sasl.login.class",
    "sasl.server.callback.handler.class",
    "connections.max.reauth.ms",
  ].find((n) => m[1].endsWith(`.${n}`));
  return mechanism ? BROKER_DEFS.get(mechanism) : undefined;
}

/** Parses and validates one value; throws ConfigError naming the key. */
export function parseValue(d: ConfigDef, raw: string): ConfigValue {
  const v = parseTyped(d, raw);
  const failure = d.check && checkFailure(d.check, d.name, v);
  if (failure) throw new ConfigError(d.name, failure);
  return v;
}

/** Integer limits of Kafka's SHORT, INT and LONG (LONG: as far as a JS number is exact). */
const LIMITS: Record<string, number> = {
  short: 32767,
  int: 2147483647,
  long: Number.MAX_SAFE_INTEGER,
};

function parseTyped(d: ConfigDef, raw: string): ConfigValue {
  const s = raw.trim();
  switch (d.type) {
    case "short":
    case "int":
    case "long": {
      if (!/^-?\d+$/.test(s)) throw new ConfigError(d.name, `'${raw}' is not an integer`);
      const n = Number(s);
      const limit = LIMITS[d.type];
      if (n > limit || n < -limit - 1) {
        if (d.type === "long" && n > 0) return checkRange(d, Number.MAX_SAFE_INTEGER);
        throw new ConfigError(d.name, `'${raw}' is out of range for ${d.type}`);
      }
      return checkRange(d, n);
    }
    case "double": {
      const n = Number(s);
      if (s === "" || !Number.isFinite(n)) {
        throw new ConfigError(d.name, `'${raw}' is not a number`);
      }
      return checkRange(d, n);
    }
    case "bool": {
      const l = s.toLowerCase();
      if (l !== "true" && l !== "false") {
        throw new ConfigError(d.name, `'${raw}' is not a boolean (true or false)`);
      }
      return l === "true";
    }
    case "list": {
      const items = s.split(",").map((x) => x.trim()).filter((x) => x);
      if (d.choices) {
        for (const it of items) {
          if (!d.choices.includes(it)) {
            throw new ConfigError(d.name, `'${it}' is not one of ${d.choices.join(", ")}`);
          }
        }
      }
      return items.join(",");
    }
    case "password":
      return s; // trimmed, as Kafka's ConfigDef.parseType does
    default: {
      if (d.choices && !d.choices.includes(s)) {
        throw new ConfigError(d.name, `'${raw}' is not one of ${d.choices.join(", ")}`);
      }
      return s;
    }
  }
}

function checkRange(d: ConfigDef, n: number): number {
  if (d.min !== undefined && n < d.min) {
    throw new ConfigError(d.name, `${n} is below the minimum ${d.min}`);
  }
  if (d.max !== undefined && n > d.max) {
    throw new ConfigError(d.name, `${n} is above the maximum ${d.max}`);
  }
  return n;
}

/** The broker's effective settings: dynamic values over explicit (static) ones over defaults. */
export class BrokerConfig {
  private readonly values = new Map<string, ConfigValue>();
  /** Set at runtime (AlterConfigs) for this broker ("1") and as cluster default (""). */
  readonly dynamicBroker = new Map<string, ConfigValue>();
  readonly dynamicDefault = new Map<string, ConfigValue>();
  /** Keys set explicitly (file, --set, or AlterConfigs), for DescribeConfigs sources. */
  readonly explicit = new Set<string>();
  /** Keys given that this broker does not know (warned about at start). */
  readonly unknown: string[] = [];
  /** Kafka settings given that have no effect here (said at start). */
  readonly withoutEffect: string[] = [];

  constructor(settings: Map<string, string> = new Map()) {
    for (const [k, v] of settings) this.set(k, v);
  }

  /** Sets one value from text; unknown keys are remembered (a warning), bad values throw. */
  set(key: string, raw: string): void {
    // A listener's own value (`listener.name.ssl.ssl.keystore.location`) is validated as the
    // setting it overrides.
    const d = BROKER_DEFS.get(key) ?? listenerBaseDef(key);
    if (!d) {
      // A topic-level name given at broker level is a common slip; still unknown to Kafka.
      if (!this.unknown.includes(key)) this.unknown.push(key);
      return;
    }
    this.values.set(key, parseValue(d, raw));
    this.explicit.add(key);
    if (d.noEffect && !this.withoutEffect.includes(key)) this.withoutEffect.push(key);
  }

  /**
   * Sets (raw non-null) or removes (null) a dynamic value. Kafka's dynamic settings are parsed
   * and validated; names Kafka does not define are kept as text (Kafka keeps such custom
   * settings too); a listener-prefixed name is validated as the setting it overrides. Throws
   * ConfigError for bad values, settings that can change only at start, settings that can
   * change only per listener, and per-broker settings given as cluster default.
   */
  setDynamic(key: string, raw: string | null, scope: "broker" | "default" = "broker"): void {
    const d = BROKER_DEFS.get(key);
    if (d && !d.dynamic) {
      throw new ConfigError(key, "cannot be updated dynamically (it needs a restart)");
    }
    if (d?.dynamic === "listener") {
      throw new ConfigError(key, "can be updated dynamically only per listener (listener.name.)");
    }
    if (scope === "default" && isPerBrokerConfig(key)) {
      throw new ConfigError(key, "cannot be updated at default cluster level");
    }
    const layer = scope === "broker" ? this.dynamicBroker : this.dynamicDefault;
    if (raw === null) {
      layer.delete(key);
      return;
    }
    const base = d ?? listenerBaseDef(key);
    layer.set(key, base ? parseValue(base, raw) : raw.trim());
  }

  /**
   * The value of a listener-prefixed name (`listener.name.<l>.<setting>`): dynamic over static;
   * undefined when not set, so that the listener falls back to the broker's setting.
   */
  listenerValue(key: string): ConfigValue | undefined {
    if (this.dynamicBroker.has(key)) return this.dynamicBroker.get(key)!;
    if (this.dynamicDefault.has(key)) return this.dynamicDefault.get(key)!;
    return this.values.get(key);
  }

  /** The value given at start (file or --set), if any. */
  staticValue(key: string): ConfigValue | undefined {
    return this.values.get(key);
  }

  /** A copy whose runtime layers can be changed to try a change out. */
  copy(): BrokerConfig {
    const c = new BrokerConfig();
    for (const [k, v] of this.values) c.values.set(k, v);
    for (const k of this.explicit) c.explicit.add(k);
    for (const [k, v] of this.dynamicBroker) c.dynamicBroker.set(k, v);
    for (const [k, v] of this.dynamicDefault) c.dynamicDefault.set(k, v);
    return c;
  }

  /** The source of a broker setting: dynamic (per broker / default), static, or default. */
  sourceOf(key: string): "dynamic-broker" | "dynamic-default" | "static" | "default" {
    if (this.dynamicBroker.has(key)) return "dynamic-broker";
    if (this.dynamicDefault.has(key)) return "dynamic-default";
    return this.explicit.has(key) ? "static" : "default";
  }

  get(key: string): ConfigValue {
    if (this.dynamicBroker.has(key)) return this.dynamicBroker.get(key)!;
    if (this.dynamicDefault.has(key)) return this.dynamicDefault.get(key)!;
    if (this.values.has(key)) return this.values.get(key)!;
    const d = BROKER_DEFS.get(key);
    if (!d) throw new Error(`unknown broker config ${key}`);
    return d.default;
  }

  int(key: string): number {
    return this.get(key) as number;
  }
  bool(key: string): boolean {
    return this.get(key) as boolean;
  }
  str(key: string): string {
    return this.get(key) as string;
  }

  get nodeId(): number {
    const b = this.get("broker.id");
    return b != null ? b as number : this.int("node.id");
  }

  /** log.roll.jitter.ms, else log.roll.jitter.hours. */
  get logRollJitterMs(): number {
    return (this.get("log.roll.jitter.ms") as number | null) ??
      this.int("log.roll.jitter.hours") * 3600000;
  }

  /** log.roll.ms, else log.roll.hours. */
  get logRollMs(): number {
    return (this.get("log.roll.ms") as number | null) ?? this.int("log.roll.hours") * 3600000;
  }

  /** log.retention.ms, else .minutes, else .hours (Kafka's precedence). */
  get logRetentionMs(): number {
    const ms = this.get("log.retention.ms") as number | null;
    if (ms != null) return ms;
    const min = this.get("log.retention.minutes") as number | null;
    if (min != null) return min * 60000;
    return this.int("log.retention.hours") * 3600000;
  }

  get logFlushIntervalMs(): number {
    return (this.get("log.flush.interval.ms") as number | null) ??
      this.int("log.flush.scheduler.interval.ms");
  }

  /** The broker-level value that a topic setting defaults to. */
  topicDefault(d: TopicConfigDef): ConfigValue {
    switch (d.brokerKey) {
      case undefined:
        return d.default;
      case "log.roll.ms":
        return this.logRollMs;
      case "log.roll.jitter.ms":
        return this.logRollJitterMs;
      case "log.retention.ms":
        return this.logRetentionMs;
      case "log.flush.interval.ms":
        return this.logFlushIntervalMs;
      default:
        return this.get(d.brokerKey);
    }
  }
}

/** Validates topic config overrides (CreateTopics, AlterConfigs); throws ConfigError. */
export function parseTopicConfigs(
  entries: Iterable<[string, string | null]>,
): Map<string, ConfigValue> {
  const out = new Map<string, ConfigValue>();
  for (const [k, v] of entries) {
    const d = TOPIC_DEFS.get(k);
    if (!d) throw new ConfigError(k, `Unknown topic config name: ${k}`, true);
    if (v == null) throw new ConfigError(k, "null value");
    out.set(k, parseValue(d, v));
  }
  return out;
}

/** A topic's effective value: its override, else the broker synonym, else Kafka's default. */
export function topicConfigValue(
  broker: BrokerConfig,
  overrides: Record<string, ConfigValue>,
  key: string,
): ConfigValue {
  if (key in overrides) return overrides[key];
  const d = TOPIC_DEFS.get(key);
  if (!d) throw new Error(`unknown topic config ${key}`);
  return broker.topicDefault(d);
}

/** Host and port of the first listener in a Kafka `listeners` value (`PLAINTEXT://h:9092`). */
export function parseListener(value: string): { host?: string; port?: number } {
  const first = value.split(",")[0].trim();
  const m = /^(?:[A-Za-z_]+:\/\/)?(\[[^\]]*\]|[^:]*):(\d+)$/.exec(first);
  if (!m) throw new ConfigError("listeners", `cannot parse '${value}'`);
  const host = m[1].replace(/^\[|\]$/g, "");
  return { host: host || undefined, port: Number(m[2]) };
}
