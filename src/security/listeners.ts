/**
 * Kafka's listener settings: `listeners` (named endpoints, `NAME://host:port`),
 * `advertised.listeners`, `listener.security.protocol.map` and the inter-broker listener
 * (`inter.broker.listener.name` or `security.inter.broker.protocol`), resolved into one
 * ListenerSpec per listener. As in Kafka's KafkaConfig validation, a listener whose protocol is
 * unknown or missing from the map is a start-up error naming the listener: a listener is never
 * served with less security than it was configured with.
 */
import { ConfigError } from "../config.ts";
import { SECURITY_PROTOCOLS, type SecurityProtocol } from "./session.ts";

export interface ListenerSpec {
  /** The listener's name, upper case as Kafka normalises it (`PLAINTEXT`, `INTERNAL`). */
  readonly name: string;
  /** Bind address; "" binds every interface (Kafka's `PLAINTEXT://:9092`). */
  readonly host: string;
  /** Bind port; 0 picks a free one. */
  readonly port: number;
  readonly securityProtocol: SecurityProtocol;
  /** Host put in Metadata, DescribeCluster and FindCoordinator for this listener. */
  readonly advertisedHost: string;
  /** Port put in responses; 0: the port the listener is bound to. */
  readonly advertisedPort: number;
}

/** What listener resolution reads of the broker config. */
export interface ListenerConfigSource {
  get(key: string): unknown;
  /** The keys set explicitly (Kafka tells a default from a setting for the inter-broker pair). */
  readonly explicit: ReadonlySet<string>;
}

/** Kafka's default `listener.security.protocol.map`. */
export const DEFAULT_PROTOCOL_MAP = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT," +
  "SASL_SSL:SASL_SSL";

/** Overrides of the first (default) listener: the CLI's --host/--port, startBroker's options. */
export interface ListenerOverrides {
  host?: string;
  port?: number;
  advertisedHost?: string;
  advertisedPort?: number;
}

export interface ResolvedListeners {
  listeners: ListenerSpec[];
  /** The listener other brokers (and this broker's own clients) use. */
  interBrokerListener: string;
}

interface Endpoint {
  name: string;
  host: string;
  port: number;
}

/** Parses `NAME://host:port[,...]` (IPv6 hosts in brackets); `key` names the setting. */
export function parseEndpoints(key: string, value: string): Endpoint[] {
  const out: Endpoint[] = [];
  for (const item of value.split(",").map((s) => s.trim()).filter((s) => s)) {
    const m = /^([A-Za-z0-9_-]+):\/\/(\[[^\]]*\]|[^:/\[\]]*):(\d+)$/.exec(item);
    if (!m) {
      throw new ConfigError(key, `cannot parse listener '${item}' (expected NAME://host:port)`);
    }
    const name = m[1].toUpperCase();
    const port = Number(m[3]);
    if (port > 65535) throw new ConfigError(key, `listener ${name}: port ${port} out of range`);
    if (out.some((e) => e.name === name)) {
      throw new ConfigError(key, `listener name ${name} is used more than once`);
    }
    out.push({ name, host: m[2].replace(/^\[|\]$/g, ""), port });
  }
  if (out.length === 0) throw new ConfigError(key, "no listener given");
  return out;
}

/** Parses `listener.security.protocol.map` (`NAME:PROTOCOL,...`). */
export function parseProtocolMap(value: string): Map<string, SecurityProtocol> {
  const key = "listener.security.protocol.map";
  const map = new Map<string, SecurityProtocol>();
  for (const item of value.split(",").map((s) => s.trim()).filter((s) => s)) {
    const m = /^([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)$/.exec(item);
    if (!m) throw new ConfigError(key, `cannot parse '${item}' (expected NAME:PROTOCOL)`);
    const name = m[1].toUpperCase();
    const protocol = m[2].toUpperCase();
    if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
      throw new ConfigError(
        key,
        `listener ${name}: unknown security protocol '${m[2]}' (one of ${
          SECURITY_PROTOCOLS.join(", ")
        })`,
      );
    }
    if (map.has(name)) throw new ConfigError(key, `listener ${name} is mapped more than once`);
    map.set(name, protocol as SecurityProtocol);
  }
  return map;
}

function str(config: ListenerConfigSource, key: string): string | null {
  if (!config.explicit.has(key)) return null;
  const v = config.get(key);
  return v === null || v === undefined || v === "" ? null : String(v);
}

/** The host clients are told when a listener binds every interface (or nothing is said). */
function advertisableHost(host: string): string {
  return host === "" || host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
}

/**
 * The broker's listeners from its settings. Without `listeners`, one PLAINTEXT listener on
 * `overrides.host`/`overrides.port` (default `:9092`); the overrides apply to the first
 * listener either way, as `--host`/`--port` always have.
 */
export function resolveListeners(
  config: ListenerConfigSource,
  overrides: ListenerOverrides = {},
): ResolvedListeners {
  const endpoints = parseEndpoints("listeners", str(config, "listeners") ?? "PLAINTEXT://:9092");
  const map = parseProtocolMap(
    str(config, "listener.security.protocol.map") ?? DEFAULT_PROTOCOL_MAP,
  );
  const advertisedText = str(config, "advertised.listeners");
  const advertised = advertisedText ? parseEndpoints("advertised.listeners", advertisedText) : [];
  for (const a of advertised) {
    if (!endpoints.some((e) => e.name === a.name)) {
      throw new ConfigError(
        "advertised.listeners",
        `listener ${a.name} is not one of the listeners (${
          endpoints.map((e) => e.name).join(", ")
        })`,
      );
    }
  }
  const listeners = endpoints.map((e, i): ListenerSpec => {
    const securityProtocol = map.get(e.name);
    if (!securityProtocol) {
      throw new ConfigError(
        "listener.security.protocol.map",
        `listener ${e.name} has no security protocol in listener.security.protocol.map ` +
          `(add ${e.name}:PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)`,
      );
    }
    const first = i === 0;
    const host = first && overrides.host !== undefined ? overrides.host : e.host;
    const port = first && overrides.port !== undefined ? overrides.port : e.port;
    const adv = advertised.find((a) => a.name === e.name);
    // An advertised entry without a host (`NAME://:9092`) advertises the listener's host.
    const advertisedHost = (first ? overrides.advertisedHost : undefined) ??
      (adv && adv.host !== "" ? adv.host : advertisableHost(host));
    const advertisedPort = (first ? overrides.advertisedPort : undefined) ?? adv?.port ?? port;
    return { name: e.name, host, port, securityProtocol, advertisedHost, advertisedPort };
  });
  return { listeners, interBrokerListener: interBrokerListenerOf(config, listeners) };
}

/**
 * `inter.broker.listener.name`, else the listener of `security.inter.broker.protocol` (default
 * PLAINTEXT) named like it, as Kafka's KafkaConfig.interBrokerListenerName; setting both is an
 * error in Kafka and here.
 */
function interBrokerListenerOf(config: ListenerConfigSource, listeners: ListenerSpec[]): string {
  const byName = str(config, "inter.broker.listener.name");
  const explicitProtocol = str(config, "security.inter.broker.protocol");
  const names = listeners.map((l) => l.name).join(", ");
  if (byName !== null) {
    if (explicitProtocol !== null) {
      throw new ConfigError(
        "inter.broker.listener.name",
        "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.",
        true,
      );
    }
    const name = byName.toUpperCase();
    if (!listeners.some((l) => l.name === name)) {
      throw new ConfigError(
        "inter.broker.listener.name",
        `listener ${name} is not one of the listeners (${names})`,
      );
    }
    return name;
  }
  const protocol = (explicitProtocol ?? "PLAINTEXT").toUpperCase();
  const l = listeners.find((l) => l.name === protocol);
  if (l) return l.name;
  if (explicitProtocol !== null) {
    throw new ConfigError(
      "security.inter.broker.protocol",
      `no listener is named ${protocol} (listeners: ${names}); set inter.broker.listener.name`,
    );
  }
  // Kafka refuses to start here; with one broker there is no inter-broker traffic yet, so the
  // first listener serves, and a cluster (which needs it) reports it when it starts.
  return listeners[0].name;
}

/**
 * Throws when this broker cannot serve `listener` as its protocol says (a start-up error naming
 * the listener), so that it is never served with less security than configured.
 */
export function checkServable(listener: ListenerSpec): void {
  switch (listener.securityProtocol) {
    case "PLAINTEXT":
    case "SASL_PLAINTEXT":
    case "SSL":
    case "SASL_SSL":
      return;
    default:
      throw new ConfigError(
        "listener.security.protocol.map",
        `listener ${listener.name}: security protocol ${listener.securityProtocol} is not ` +
          "served by this broker yet",
      );
  }
}
