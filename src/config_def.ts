/**
 * The shape of a configuration setting (name, type, default, range, dynamic scope): what the
 * broker's own table, Kafka's tables and the parser share.
 */
import type { ConfigCheck } from "./config_validators.ts";

export type ConfigType =
  | "int"
  | "short"
  | "long"
  | "bool"
  | "string"
  | "double"
  | "list"
  | "class"
  | "password";
export type ConfigValue = number | boolean | string | null;

/**
 * How AlterConfigs may change a broker setting (Kafka's DynamicBrokerConfig): on a broker id
 * resource only, also as cluster default, or only under a `listener.name.<l>.` prefix.
 */
export type DynamicScope = "per-broker" | "cluster-wide" | "listener";

export interface ConfigDef {
  name: string;
  type: ConfigType;
  default: ConfigValue;
  doc: string;
  /** Allowed values for string settings. */
  choices?: string[];
  min?: number;
  max?: number;
  /** A Kafka validator beyond type, range and choices. */
  check?: ConfigCheck;
  /** Accepted, validated and reported as Kafka does, but nothing here acts on it. */
  noEffect?: boolean;
  /** Broker settings AlterConfigs may change at runtime; unset: only at start. */
  dynamic?: DynamicScope;
  /** Kafka's internal settings: accepted at start, not listed by DescribeConfigs. */
  internal?: boolean;
}

/** Topic-level settings and the broker setting each falls back to. */
export interface TopicConfigDef extends ConfigDef {
  /** Broker synonym: the topic default comes from this broker setting. */
  brokerKey?: string;
}

/** The documentation DescribeConfigs and the README give: the doc, and whether it applies. */
export function docOf(d: ConfigDef): string {
  return d.noEffect ? `${d.doc} No effect here.` : d.doc;
}
