/**
 * How this broker connects to the others, as Kafka's inter-broker client: to each broker's
 * endpoint on the inter-broker listener (`inter.broker.listener.name`, or the listener named
 * like `security.inter.broker.protocol`), speaking that listener's security protocol. TLS
 * trusts the listener's `ssl.truststore.*` (and presents its keystore when it asks clients for
 * certificates); SASL logs in with `sasl.mechanism.inter.broker.protocol` (Kafka's default
 * GSSAPI is not served here: a start-up error) and the credentials of the listener's JAAS entry
 * for that mechanism (`listener.name.<l>.<mechanism>.sasl.jaas.config`, else
 * `sasl.jaas.config`): PlainLoginModule's or ScramLoginModule's `username` and `password`.
 */
import type { ConnectionOptions } from "../client/connection.ts";
import type { SaslCredentials } from "../client/sasl.ts";
import { type BrokerConfig, ConfigError } from "../config.ts";
import { parseJaasConfig } from "../security/jaas.ts";
import type { ListenerSpec } from "../security/listeners.ts";
import { lookup } from "../security/sasl_listener.ts";
import { readSslSettings } from "../security/ssl_settings.ts";

export interface InterBrokerClient {
  /** The listener other brokers are reached on. */
  listener: string;
  /** Its security, for the connections. */
  connection: Pick<ConnectionOptions, "sasl" | "tls">;
  /** What it is, for messages: `SASL_PLAINTEXT, SCRAM-SHA-256 as broker`. */
  describe: string;
}

const LOGIN_MODULES: Record<SaslCredentials["mechanism"], string> = {
  "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
  "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
  "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
};

function saslCredentials(config: BrokerConfig, listener: string): SaslCredentials {
  const setting = "sasl.mechanism.inter.broker.protocol";
  const mechanism = String(config.get(setting) ?? "GSSAPI").toUpperCase();
  if (!(mechanism in LOGIN_MODULES)) {
    throw new ConfigError(
      setting,
      `the inter-broker listener ${listener} is SASL, and mechanism ${mechanism} cannot be ` +
        `used by brokers here (set ${setting} to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)`,
    );
  }
  const m = mechanism as SaslCredentials["mechanism"];
  const jaasName = `listener.name.${listener.toLowerCase()}.${m.toLowerCase()}.sasl.jaas.config`;
  const text = lookup(config, listener, "sasl.jaas.config", m) as string | null;
  if (!text) {
    throw new ConfigError(
      jaasName,
      `the inter-broker listener ${listener} logs in with ${m}: its JAAS entry needs the ` +
        "broker's username and password",
    );
  }
  let entry;
  try {
    entry = parseJaasConfig(text);
  } catch (e) {
    throw new ConfigError(jaasName, `inter-broker listener ${listener}: ${(e as Error).message}`);
  }
  const username = entry.options.get("username");
  const password = entry.options.get("password");
  if (entry.loginModule !== LOGIN_MODULES[m] || username === undefined || password === undefined) {
    throw new ConfigError(
      jaasName,
      `the inter-broker listener ${listener} logs in with ${m}: its JAAS entry needs ` +
        `${LOGIN_MODULES[m]} with username and password`,
    );
  }
  return { mechanism: m, username, password };
}

/** The inter-broker client of this broker; throws ConfigError naming the setting. */
export function interBrokerClient(
  config: BrokerConfig,
  listeners: readonly ListenerSpec[],
  name: string,
): InterBrokerClient {
  const spec = listeners.find((l) => l.name === name);
  const protocol = spec?.securityProtocol ?? "PLAINTEXT";
  const connection: InterBrokerClient["connection"] = {};
  let describe: string = protocol;
  if (spec && (protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL")) {
    connection.sasl = saslCredentials(config, name);
    describe += `, ${connection.sasl.mechanism} as ${connection.sasl.username}`;
  }
  if (spec && (protocol === "SSL" || protocol === "SASL_SSL")) {
    const ssl = readSslSettings(config, spec);
    if (ssl.caPem === null) {
      throw new ConfigError(
        `listener.name.${name.toLowerCase()}.ssl.truststore.location`,
        `the inter-broker listener ${name} is TLS: brokers verify each other's certificates ` +
          "against ssl.truststore.* (PEM), which is not set",
      );
    }
    connection.tls = {
      caCerts: [ssl.caPem],
      ...(ssl.clientAuth !== "none" ? { cert: ssl.certChainPem, key: ssl.keyPem } : {}),
    };
  }
  return { listener: name, connection, describe };
}
