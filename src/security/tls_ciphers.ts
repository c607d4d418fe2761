/**
 * A TLS listener's protocol versions and cipher suites, from Kafka's `ssl.enabled.protocols`
 * (default TLSv1.2,TLSv1.3), `ssl.protocol` (the SSLContext's protocol: TLSv1.2 caps the
 * versions at 1.2) and `ssl.cipher.suites` (IANA names, as JSSE takes them; empty: every suite).
 *
 * The TLS library under node:tls here (Deno's, rustls) speaks TLS 1.2 and 1.3 with AEAD suites
 * only: other versions or suites are a start-up error naming the setting, not silently
 * ignored. It honours the version range but not a cipher list, so suites are enforced here:
 * a ClientHello offering no enabled suite is refused with a handshake_failure alert before
 * any handshake (as JSSE refuses it), and a connection whose negotiated suite is not enabled
 * is closed once the handshake is done (a client preferring a disabled suite over an enabled
 * one it also offers: the library follows the client's order). As in JSSE, a list with no TLS
 * 1.3 suite disables TLS 1.3 (and one with no 1.2 suite, 1.2).
 */
import { ConfigError } from "../config.ts";

export type TlsVersion = "TLSv1.2" | "TLSv1.3";

/**
 * The suites the library negotiates, by IANA name, with their code points, version and
 * OpenSSL name (told to someone who gives that instead, as librdkafka's settings use it).
 */
const SUITES: ReadonlyMap<string, { code: number; version: TlsVersion; openssl: string }> = new Map(
  [
    ["TLS_AES_128_GCM_SHA256", { code: 0x1301, version: "TLSv1.3", openssl: "" }],
    ["TLS_AES_256_GCM_SHA384", { code: 0x1302, version: "TLSv1.3", openssl: "" }],
    ["TLS_CHACHA20_POLY1305_SHA256", { code: 0x1303, version: "TLSv1.3", openssl: "" }],
    ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", {
      code: 0xc02b,
      version: "TLSv1.2",
      openssl: "ECDHE-ECDSA-AES128-GCM-SHA256",
    }],
    ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", {
      code: 0xc02c,
      version: "TLSv1.2",
      openssl: "ECDHE-ECDSA-AES256-GCM-SHA384",
    }],
    ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", {
      code: 0xc02f,
      version: "TLSv1.2",
      openssl: "ECDHE-RSA-AES128-GCM-SHA256",
    }],
    ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", {
      code: 0xc030,
      version: "TLSv1.2",
      openssl: "ECDHE-RSA-AES256-GCM-SHA384",
    }],
    ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", {
      code: 0xcca8,
      version: "TLSv1.2",
      openssl: "ECDHE-RSA-CHACHA20-POLY1305",
    }],
    ["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", {
      code: 0xcca9,
      version: "TLSv1.2",
      openssl: "ECDHE-ECDSA-CHACHA20-POLY1305",
    }],
  ],
);

/** What `ssl.protocol` may name, and the newest version each allows. */
const CONTEXT_PROTOCOLS: ReadonlyMap<string, TlsVersion> = new Map([
  ["TLS", "TLSv1.3"],
  ["TLSV1.3", "TLSv1.3"],
  ["TLSV1.2", "TLSv1.2"],
]);

export interface TlsPolicy {
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** The enabled suites' code points; null: every suite the library has. */
  suites: ReadonlySet<number> | null;
  /** Their IANA names, for messages. */
  suiteNames: readonly string[];
}

/** What reading the policy needs: a listener's value of each setting, and its name. */
export interface TlsPolicySource {
  value(key: string): unknown;
  nameOf(key: string): string;
  listener: string;
}

function list(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  const items = Array.isArray(v) ? v.map(String) : String(v).split(",");
  return items.map((s) => s.trim()).filter((s) => s !== "");
}

/** Reads a listener's TLS versions and suites; throws ConfigError naming the setting. */
export function readTlsPolicy(src: TlsPolicySource): TlsPolicy {
  const l = src.listener;
  const protocolSetting = src.nameOf("ssl.protocol");
  const protocol = String(src.value("ssl.protocol") ?? "TLSv1.3").trim();
  const newest = CONTEXT_PROTOCOLS.get(protocol.toUpperCase());
  if (!newest) {
    throw new ConfigError(
      protocolSetting,
      `listener ${l}: '${protocol}' is not supported (TLSv1.3, TLSv1.2 or TLS; older protocols ` +
        "are not served)",
    );
  }
  const enabledSetting = src.nameOf("ssl.enabled.protocols");
  const enabledRaw = list(src.value("ssl.enabled.protocols"));
  const enabled = new Set<TlsVersion>();
  for (const p of enabledRaw.length ? enabledRaw : ["TLSv1.2", "TLSv1.3"]) {
    const v = p.toUpperCase() === "TLSV1.2"
      ? "TLSv1.2"
      : p.toUpperCase() === "TLSV1.3"
      ? "TLSv1.3"
      : null;
    if (!v) {
      throw new ConfigError(
        enabledSetting,
        `listener ${l}: protocol '${p}' is not supported (TLSv1.2 and TLSv1.3 are)`,
      );
    }
    enabled.add(v);
  }
  if (newest === "TLSv1.2") enabled.delete("TLSv1.3");
  const suitesSetting = src.nameOf("ssl.cipher.suites");
  const names = list(src.value("ssl.cipher.suites"));
  let suites: Set<number> | null = null;
  if (names.length > 0) {
    suites = new Set();
    const versions = new Set<TlsVersion>();
    for (const n of names) {
      const s = SUITES.get(n.toUpperCase());
      if (!s) {
        const iana = [...SUITES].find(([, v]) => v.openssl === n.toUpperCase())?.[0];
        throw new ConfigError(
          suitesSetting,
          `listener ${l}: cipher suite '${n}' is not supported (${
            iana ? `that is OpenSSL's name: use ${iana}` : "IANA names"
          }; supported: ${[...SUITES.keys()].join(", ")})`,
        );
      }
      suites.add(s.code);
      versions.add(s.version);
    }
    for (const v of [...enabled]) if (!versions.has(v)) enabled.delete(v);
  }
  if (enabled.size === 0) {
    throw new ConfigError(
      enabledRaw.length ? enabledSetting : protocolSetting,
      `listener ${l}: no TLS version is left to serve (ssl.enabled.protocols ${
        enabledRaw.join(",") || "TLSv1.2,TLSv1.3"
      }, ssl.protocol ${protocol}${names.length ? `, ssl.cipher.suites ${names.join(",")}` : ""})`,
    );
  }
  return {
    minVersion: enabled.has("TLSv1.2") ? "TLSv1.2" : "TLSv1.3",
    maxVersion: enabled.has("TLSv1.3") ? "TLSv1.3" : "TLSv1.2",
    suites,
    suiteNames: names.map((n) => n.toUpperCase()),
  };
}

/** Whether the suite `standardName` (the IANA name node:tls reports) is enabled. */
export function suiteEnabled(policy: TlsPolicy, standardName: string | undefined): boolean {
  if (policy.suites === null) return true;
  const s = standardName ? SUITES.get(standardName.toUpperCase()) : undefined;
  return s !== undefined && policy.suites.has(s.code);
}

/**
 * The cipher suites a ClientHello offers, from the first bytes of a connection (one TLS
 * record holding the whole ClientHello); null when they cannot be told (a ClientHello split
 * over records or reads): the handshake then decides, and the negotiated suite is checked.
 */
export function offeredSuites(first: Uint8Array): number[] | null {
  // Record: type 22, version (2), length (2); handshake: type 1, length (3).
  if (first.length < 9 || first[0] !== 0x16 || first[5] !== 0x01) return null;
  const recordLength = (first[3] << 8) | first[4];
  const helloLength = (first[6] << 16) | (first[7] << 8) | first[8];
  if (first.length < 5 + recordLength || helloLength + 4 > recordLength) return null;
  let at = 9 + 2 + 32; // client version, random
  if (at >= first.length) return null;
  at += 1 + first[at]; // session id
  if (at + 2 > first.length) return null;
  const n = (first[at] << 8) | first[at + 1];
  at += 2;
  if (n % 2 !== 0 || at + n > first.length) return null;
  const out: number[] = [];
  for (let i = 0; i < n; i += 2) out.push((first[at + i] << 8) | first[at + i + 1]);
  return out;
}

/** A fatal handshake_failure alert (TLS 1.2 record framing, which 1.3 clients read too). */
export const HANDSHAKE_FAILURE_ALERT = new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
