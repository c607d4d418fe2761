/**
 * A SASL listener's mechanisms, built once at start from the broker config: which are enabled
 * (`sasl.enabled.mechanisms`), where each finds its users (the SCRAM credential store, the
 * PLAIN users file and JAAS `user_` options, the OAUTHBEARER validator), and the session rules
 * (`connections.max.reauth.ms`, `connection.failed.authentication.delay.ms`,
 * `sasl.server.max.receive.size`). Settings are read as Kafka reads them: per mechanism and
 * listener (`listener.name.<l>.<mechanism>.<name>`), per listener, then broker-wide. Anything
 * unusable (GSSAPI, an unknown mechanism, a bad JAAS entry or users file, an unreadable JWKS)
 * is a start-up error naming the listener.
 */
import { type BrokerConfig, ConfigError } from "../config.ts";
import { log } from "../log.ts";
import { type JaasEntry, parseJaasConfig } from "./jaas.ts";
import { jaasPlainUsers, PLAIN_LOGIN_MODULE, PlainUsers } from "./plain_users.ts";
import { OAuthBearerSaslServer, type OAuthBearerValidator } from "./sasl/oauthbearer.ts";
import { JwksValidator, UnsecuredJwsValidator } from "./sasl/oauthbearer_validators.ts";
import { PlainSaslServer } from "./sasl/plain.ts";
import type { SaslServer } from "./sasl/sasl_server.ts";
import { ScramSaslServer } from "./sasl/scram.ts";
import { scramMechanismByName } from "./sasl/scram_formatter.ts";
import type { ScramCredentialSource } from "./sasl/scram.ts";

export const SUPPORTED_SASL_MECHANISMS = [
  "PLAIN",
  "SCRAM-SHA-256",
  "SCRAM-SHA-512",
  "OAUTHBEARER",
] as const;

const OAUTH_LOGIN_MODULE = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";

export interface SaslListener {
  readonly listenerName: string;
  /** In the configured order, as SaslHandshake lists them. */
  readonly enabledMechanisms: readonly string[];
  /** A fresh server for one exchange; only for enabled mechanisms. */
  createServer(mechanism: string): SaslServer;
  /** `connections.max.reauth.ms` of a mechanism; 0: no limit. */
  maxReauthMs(mechanism: string): number;
  readonly failedAuthenticationDelayMs: number;
  readonly maxReceiveBytes: number;
}

/** A listener's value of a setting: per listener (and mechanism), else broker-wide. */
export function lookup(
  config: BrokerConfig,
  listener: string,
  key: string,
  mechanism?: string,
): unknown {
  const prefix = `listener.name.${listener.toLowerCase()}.`;
  const keys = [
    ...(mechanism ? [`${prefix}${mechanism.toLowerCase()}.${key}`] : []),
    `${prefix}${key}`,
  ];
  for (const k of keys) {
    // A listener's own value, given at start or by AlterConfigs.
    if (config.sourceOf(k) === "default") continue;
    const v = config.get(k);
    if (v !== undefined && v !== null) return v;
  }
  return config.get(key);
}

function jaasFor(
  config: BrokerConfig,
  listener: string,
  mechanism: string,
  module: string,
): JaasEntry | undefined {
  const text = lookup(config, listener, "sasl.jaas.config", mechanism) as string | null;
  if (!text) return undefined;
  let entry: JaasEntry;
  try {
    entry = parseJaasConfig(text);
  } catch (e) {
    throw new ConfigError("sasl.jaas.config", `listener ${listener}: ${(e as Error).message}`);
  }
  // The broker-wide entry may be for another mechanism's module: it then says nothing here.
  return entry.loginModule === module ? entry : undefined;
}

export function saslListener(
  config: BrokerConfig,
  listenerName: string,
  scram: ScramCredentialSource,
): SaslListener {
  const listLike = lookup(config, listenerName, "sasl.enabled.mechanisms") as string | null;
  const enabled = (listLike ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (enabled.length === 0) {
    throw new ConfigError(
      "sasl.enabled.mechanisms",
      `listener ${listenerName} is SASL but enables no mechanism`,
    );
  }
  for (const m of enabled) {
    if (m === "GSSAPI") {
      throw new ConfigError(
        "sasl.enabled.mechanisms",
        `listener ${listenerName}: GSSAPI (Kerberos) is not supported here; use ${
          SUPPORTED_SASL_MECHANISMS.join(", ")
        }`,
      );
    }
    if (!(SUPPORTED_SASL_MECHANISMS as readonly string[]).includes(m)) {
      throw new ConfigError(
        "sasl.enabled.mechanisms",
        `listener ${listenerName}: unknown SASL mechanism '${m}' (supported: ${
          SUPPORTED_SASL_MECHANISMS.join(", ")
        })`,
      );
    }
  }
  const factories = new Map<string, () => SaslServer>();
  for (const m of enabled) {
    const scramMech = scramMechanismByName(m);
    if (scramMech) {
      factories.set(m, () => new ScramSaslServer(scramMech, scram));
    } else if (m === "PLAIN") {
      const file = lookup(config, listenerName, "sasl.plain.users.file", m) as string | null;
      const jaas = jaasFor(config, listenerName, m, PLAIN_LOGIN_MODULE);
      let users: PlainUsers;
      try {
        users = new PlainUsers(file, jaasPlainUsers(jaas));
      } catch (e) {
        throw new ConfigError("sasl.plain.users.file", `listener ${listenerName}: ${errMsg(e)}`);
      }
      factories.set(m, () => new PlainSaslServer(users));
    } else if (m === "OAUTHBEARER") {
      const validator = oauthValidator(config, listenerName);
      factories.set(m, () => new OAuthBearerSaslServer(validator));
    }
  }
  return {
    listenerName,
    enabledMechanisms: enabled,
    createServer(mechanism) {
      const f = factories.get(mechanism);
      if (!f) throw new Error(`SASL mechanism ${mechanism} is not enabled on ${listenerName}`);
      return f();
    },
    maxReauthMs: (mechanism) =>
      lookup(config, listenerName, "connections.max.reauth.ms", mechanism) as number,
    failedAuthenticationDelayMs: config.int("connection.failed.authentication.delay.ms"),
    maxReceiveBytes: lookup(config, listenerName, "sasl.server.max.receive.size") as number,
  };
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function oauthValidator(config: BrokerConfig, listener: string): OAuthBearerValidator {
  const get = (k: string) => lookup(config, listener, k, "OAUTHBEARER");
  const jwks = get("sasl.oauthbearer.jwks.endpoint.url") as string | null;
  if (!jwks) {
    const jaas = jaasFor(config, listener, "OAUTHBEARER", OAUTH_LOGIN_MODULE);
    log.warn(
      `listener ${listener}: OAUTHBEARER accepts unsecured (alg none) tokens: set ` +
        "sasl.oauthbearer.jwks.endpoint.url outside development",
    );
    try {
      return UnsecuredJwsValidator.fromJaasOptions(jaas?.options ?? new Map());
    } catch (e) {
      throw new ConfigError("sasl.jaas.config", `listener ${listener}: ${errMsg(e)}`);
    }
  }
  const audience = get("sasl.oauthbearer.expected.audience") as string | null;
  try {
    return new JwksValidator({
      jwksUrl: jwks,
      expectedAudience: audience ? audience.split(",") : [],
      expectedIssuer: get("sasl.oauthbearer.expected.issuer") as string | null,
      subClaimName: get("sasl.oauthbearer.sub.claim.name") as string,
      scopeClaimName: get("sasl.oauthbearer.scope.claim.name") as string,
      clockSkewSeconds: get("sasl.oauthbearer.clock.skew.seconds") as number,
      refreshMs: get("sasl.oauthbearer.jwks.endpoint.refresh.ms") as number,
      retryBackoffMs: get("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms") as number,
    });
  } catch (e) {
    throw new ConfigError(
      "sasl.oauthbearer.jwks.endpoint.url",
      `listener ${listener}: ${errMsg(e)}`,
    );
  }
}

/**
 * A SASL listener that follows dynamic broker configs (Kafka's Reconfigurable): an AlterConfigs
 * of `sasl.enabled.mechanisms` or a JAAS entry is checked by building the listener anew from the
 * candidate configs (a value that cannot be served is refused), and taken by new exchanges
 * once applied; exchanges under way finish with the servers they started with.
 */
export class ReconfigurableSaslListener implements SaslListener {
  private current: SaslListener;
  private applied: string;

  constructor(
    private readonly config: BrokerConfig,
    readonly listenerName: string,
    private readonly scram: ScramCredentialSource,
  ) {
    this.current = saslListener(config, listenerName, scram);
    this.applied = saslFingerprint(config);
  }

  get enabledMechanisms(): readonly string[] {
    return this.current.enabledMechanisms;
  }
  get failedAuthenticationDelayMs(): number {
    return this.current.failedAuthenticationDelayMs;
  }
  get maxReceiveBytes(): number {
    return this.current.maxReceiveBytes;
  }
  createServer(mechanism: string): SaslServer {
    return this.current.createServer(mechanism);
  }
  maxReauthMs(mechanism: string): number {
    return this.current.maxReauthMs(mechanism);
  }

  validateReconfiguration(candidate: BrokerConfig): void {
    if (saslFingerprint(candidate) === this.applied) return; // no SASL setting changes
    saslListener(candidate, this.listenerName, this.scram);
  }

  reconfigure(): void {
    // Any dynamic change comes here: rebuild only for the SASL settings' own.
    const fingerprint = saslFingerprint(this.config);
    if (fingerprint === this.applied) return;
    this.applied = fingerprint;
    try {
      this.current = saslListener(this.config, this.listenerName, this.scram);
    } catch (e) {
      // Validated before it was applied; a file that changed since keeps the previous setup.
      log.warn(`listener ${this.listenerName}: SASL settings not reloaded: ${errMsg(e)}`);
    }
  }
}

/** The dynamic values a SASL listener reads (any listener's: they are few). */
function saslFingerprint(config: BrokerConfig): string {
  const relevant = ([k]: [string, unknown]) => /sasl|reauth|failed\.authentication/.test(k);
  return JSON.stringify([
    [...config.dynamicBroker].filter(relevant),
    [...config.dynamicDefault].filter(relevant),
  ]);
}

/** The SASL mechanisms of every SASL_PLAINTEXT and SASL_SSL listener, by listener name. */
export function saslListeners(
  config: BrokerConfig,
  listeners: readonly { name: string; securityProtocol: string }[],
  scram: ScramCredentialSource,
): Map<string, ReconfigurableSaslListener> {
  const out = new Map<string, ReconfigurableSaslListener>();
  for (const l of listeners) {
    if (l.securityProtocol.startsWith("SASL_")) {
      out.set(l.name, new ReconfigurableSaslListener(config, l.name, scram));
    }
  }
  return out;
}
