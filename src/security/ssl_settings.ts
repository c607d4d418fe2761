/**
 * A TLS listener's key material and client-auth settings, read as Kafka's KIP-651 PEM configs:
 * `ssl.keystore.type=PEM` with `ssl.keystore.location` (one PEM file holding the private key and
 * the certificate chain) or inline `ssl.keystore.key` / `ssl.keystore.certificate.chain`, and
 * `ssl.truststore.type=PEM` with `ssl.truststore.location` or `ssl.truststore.certificates`.
 * Each setting may be given for one listener as `listener.name.<listener>.<setting>`, which
 * wins over the plain one, as in Kafka. JKS and PKCS12 stores are refused: PEM is what is read.
 */
import { createPrivateKey } from "node:crypto";
import { type BrokerConfig, ConfigError } from "../config.ts";
import { errText } from "../log.ts";
import type { ListenerSpec } from "./listeners.ts";
import { readTlsPolicy, type TlsPolicy } from "./tls_ciphers.ts";

export type ClientAuth = "required" | "requested" | "none";

export interface SslSettings {
  /** The listener's private key, PEM (PKCS#8, decrypted). */
  keyPem: string;
  /** The listener's certificate chain, PEM, leaf first. */
  certChainPem: string;
  /** CA certificates client certificates are verified against, PEM; null: none given. */
  caPem: string | null;
  clientAuth: ClientAuth;
  /** `ssl.principal.mapping.rules`. */
  principalMappingRules: string;
  /** The keystore file, when the key material comes from one (watched for changes). */
  keystoreLocation: string | null;
  /** The truststore file, when the CA certificates come from one (watched for changes). */
  truststoreLocation: string | null;
  /** `ssl.enabled.protocols`, `ssl.protocol`, `ssl.cipher.suites` (tls_ciphers.ts). */
  policy: TlsPolicy;
}

/** The listener's own value of `key` (`listener.name.<listener>.<key>`), else the broker's. */
export function listenerSetting(config: BrokerConfig, listener: string, key: string): unknown {
  const prefixed = `listener.name.${listener.toLowerCase()}.${key}`;
  const own = config.listenerValue(prefixed);
  return own !== undefined ? own : config.get(key);
}

function text(config: BrokerConfig, listener: string, key: string): string | null {
  const v = listenerSetting(config, listener, key);
  return v === null || v === undefined || String(v).trim() === "" ? null : String(v);
}

/** The listener's name of `key`, for messages: prefixed when that is where it was set. */
function nameOf(config: BrokerConfig, listener: string, key: string): string {
  const prefixed = `listener.name.${listener.toLowerCase()}.${key}`;
  return config.listenerValue(prefixed) !== undefined ? prefixed : key;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * The PEM blocks of `pem` by label (`CERTIFICATE`, `PRIVATE KEY`, ...), re-wrapped: an inline
 * value from a properties file, whose continuation lines lost their line breaks, reads as the
 * file would (Kafka's PEM parser ignores the white space too).
 */
export function pemBlocks(pem: string): { label: string; text: string }[] {
  return [...pem.matchAll(PEM_BLOCK)].map((m) => {
    // Headers (`Proc-Type: 4,ENCRYPTED`) need their lines: such a block is kept as it is.
    if (m[2].includes(":")) return { label: m[1], text: m[0] };
    const body = m[2].replace(/\s+/g, "").replace(/.{1,64}/g, "$&\n");
    return { label: m[1], text: `-----BEGIN ${m[1]}-----\n${body}-----END ${m[1]}-----\n` };
  });
}

/**
 * Reads the key and certificates of a store type `type` (KIP-651's PEM only). A store type left
 * at Kafka's default (JKS) whose file is PEM is read as PEM; one set to JKS or PKCS12 is refused.
 */
function checkPemType(
  config: BrokerConfig,
  listener: string,
  key: "ssl.keystore.type" | "ssl.truststore.type",
  content: string | null,
): void {
  const type = (text(config, listener, key) ?? "JKS").toUpperCase();
  if (type === "PEM") return;
  const explicit = config.explicit.has(key) ||
    config.listenerValue(`listener.name.${listener.toLowerCase()}.${key}`) !== undefined ||
    config.dynamicBroker.has(key);
  if (!explicit && content !== null && pemBlocks(content).length > 0) return;
  throw new ConfigError(
    nameOf(config, listener, key),
    `listener ${listener}: ${type} stores are not supported; set ${key}=PEM and give the ` +
      "key and certificates as PEM (KIP-651)",
  );
}

function readFile(setting: string, listener: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new ConfigError(setting, `listener ${listener}: cannot read ${path}: ${errText(e)}`);
  }
}

/**
 * The private key of `pem` as unencrypted PKCS#8 PEM: an encrypted key (`ENCRYPTED PRIVATE
 * KEY`) is decrypted with `ssl.key.password`. The key itself never goes into a message.
 */
function privateKeyOf(
  pem: string,
  password: string | null,
  setting: string,
  listener: string,
): string {
  const keys = pemBlocks(pem).filter((b) => /PRIVATE KEY$/.test(b.label));
  if (keys.length !== 1) {
    throw new ConfigError(
      setting,
      `listener ${listener}: expected one private key, found ${keys.length}`,
    );
  }
  const [k] = keys;
  if (k.label === "ENCRYPTED PRIVATE KEY" && password === null) {
    throw new ConfigError(
      "ssl.key.password",
      `listener ${listener}: the private key is encrypted and ssl.key.password is not set`,
    );
  }
  try {
    const key = createPrivateKey({
      key: k.text,
      format: "pem",
      ...(password !== null && k.label === "ENCRYPTED PRIVATE KEY" ? { passphrase: password } : {}),
    });
    return key.export({ type: "pkcs8", format: "pem" }) as string;
  } catch (e) {
    const why = k.label === "ENCRYPTED PRIVATE KEY"
      ? "cannot decrypt the private key with ssl.key.password"
      : "cannot read the private key";
    // The library's message may quote key bytes: only its first line, and never the password.
    throw new ConfigError(
      setting,
      `listener ${listener}: ${why} (${errText(e).split("\n")[0].slice(0, 120)})`,
    );
  }
}

function certificatesOf(pem: string, setting: string, listener: string): string {
  const certs = pemBlocks(pem).filter((b) => b.label === "CERTIFICATE");
  if (certs.length === 0) {
    throw new ConfigError(
      setting,
      `listener ${listener}: no certificate (BEGIN CERTIFICATE) found`,
    );
  }
  return certs.map((c) => c.text).join("\n") + "\n";
}

/** Reads listener `l`'s TLS settings; throws ConfigError naming the setting and the listener. */
export function readSslSettings(config: BrokerConfig, l: ListenerSpec): SslSettings {
  const name = l.name;
  const location = text(config, name, "ssl.keystore.location");
  const inlineKey = text(config, name, "ssl.keystore.key");
  const inlineChain = text(config, name, "ssl.keystore.certificate.chain");
  const password = text(config, name, "ssl.key.password");
  let keyPem: string;
  let certChainPem: string;
  if (location !== null) {
    if (inlineKey !== null || inlineChain !== null) {
      throw new ConfigError(
        nameOf(config, name, "ssl.keystore.location"),
        `listener ${name}: give either ssl.keystore.location or ssl.keystore.key with ` +
          "ssl.keystore.certificate.chain, not both",
      );
    }
    const setting = nameOf(config, name, "ssl.keystore.location");
    const content = readFile(setting, name, location);
    checkPemType(config, name, "ssl.keystore.type", content);
    keyPem = privateKeyOf(content, password, setting, name);
    certChainPem = certificatesOf(content, setting, name);
  } else if (inlineKey !== null && inlineChain !== null) {
    checkPemType(config, name, "ssl.keystore.type", inlineKey);
    keyPem = privateKeyOf(inlineKey, password, nameOf(config, name, "ssl.keystore.key"), name);
    certChainPem = certificatesOf(
      inlineChain,
      nameOf(config, name, "ssl.keystore.certificate.chain"),
      name,
    );
  } else {
    throw new ConfigError(
      nameOf(config, name, "ssl.keystore.location"),
      `listener ${name} (${l.securityProtocol}) needs a key and certificate: set ` +
        `ssl.keystore.type=PEM and ssl.keystore.location (or listener.name.${name.toLowerCase()}` +
        ".ssl.keystore.location), or ssl.keystore.key and ssl.keystore.certificate.chain",
    );
  }
  const trustLocation = text(config, name, "ssl.truststore.location");
  const trustInline = text(config, name, "ssl.truststore.certificates");
  let caPem: string | null = null;
  if (trustLocation !== null) {
    const setting = nameOf(config, name, "ssl.truststore.location");
    const content = readFile(setting, name, trustLocation);
    checkPemType(config, name, "ssl.truststore.type", content);
    caPem = certificatesOf(content, setting, name);
  } else if (trustInline !== null) {
    checkPemType(config, name, "ssl.truststore.type", trustInline);
    caPem = certificatesOf(trustInline, nameOf(config, name, "ssl.truststore.certificates"), name);
  }
  // As Kafka: on SASL_SSL, where SASL says who the client is, only a listener's own
  // ssl.client.auth asks for certificates.
  const authSetting = l.securityProtocol === "SASL_SSL"
    ? config.listenerValue(`listener.name.${name.toLowerCase()}.ssl.client.auth`) ?? null
    : text(config, name, "ssl.client.auth");
  const clientAuth = String(authSetting ?? "none").toLowerCase() as ClientAuth;
  if (!["required", "requested", "none"].includes(clientAuth)) {
    throw new ConfigError(
      nameOf(config, name, "ssl.client.auth"),
      `listener ${name}: '${clientAuth}' is not one of required, requested, none`,
    );
  }
  if (clientAuth !== "none" && caPem === null) {
    throw new ConfigError(
      nameOf(config, name, "ssl.client.auth"),
      `listener ${name}: ssl.client.auth=${clientAuth} needs a truststore to verify client ` +
        "certificates against (ssl.truststore.type=PEM with ssl.truststore.location or " +
        "ssl.truststore.certificates)",
    );
  }
  const policy = readTlsPolicy({
    value: (k) => listenerSetting(config, name, k),
    nameOf: (k) => nameOf(config, name, k),
    listener: name,
  });
  return {
    policy,
    keyPem,
    certChainPem,
    caPem,
    clientAuth,
    principalMappingRules: text(config, name, "ssl.principal.mapping.rules") ?? "DEFAULT",
    keystoreLocation: location,
    truststoreLocation: trustLocation,
  };
}
