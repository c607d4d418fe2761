/**
 * A TLS listener's server side (SSL and SASL_SSL): the secure context built from the listener's
 * PEM settings (ssl_settings.ts), the handshake of each accepted connection with the client
 * certificate checked as `ssl.client.auth` says, and the principal from that certificate.
 * The key material is re-read when its files change (or the settings do, through AlterConfigs):
 * new connections get the new certificate, established ones keep theirs; a change that does not
 * load is logged and the previous certificate stays in use.
 */
import { dirname, resolve } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";
import { type BrokerConfig, ConfigError } from "../config.ts";
import { errText, log } from "../log.ts";
import type { ListenerSpec } from "./listeners.ts";
import { ANONYMOUS_PRINCIPAL } from "./session.ts";
import { NoMatchingRule, SslPrincipalMapper, subjectName } from "./ssl_principal.ts";
import { listenerSetting, readSslSettings, type SslSettings } from "./ssl_settings.ts";
import type { Reconfigurable } from "../dynamic_config.ts";
import { type ByteStream, HandshakeClosed, serverHandshake } from "./tls_stream.ts";
import { HANDSHAKE_FAILURE_ALERT, offeredSuites, suiteEnabled } from "./tls_ciphers.ts";

const TLS_HANDSHAKE = 0x16;

interface Loaded {
  settings: SslSettings;
  context: SecureContext;
  mapper: SslPrincipalMapper;
}

/** A secured connection: its decrypted stream and its principal. */
export interface SecuredConnection {
  stream: ByteStream;
  principal: string;
}

function load(config: BrokerConfig, listener: ListenerSpec): Loaded {
  const settings = readSslSettings(config, listener);
  const mapper = new SslPrincipalMapper(settings.principalMappingRules);
  let context: SecureContext;
  try {
    context = createSecureContext({
      key: settings.keyPem,
      cert: settings.certChainPem,
      minVersion: settings.policy.minVersion,
      maxVersion: settings.policy.maxVersion,
      ...(settings.caPem !== null ? { ca: settings.caPem } : {}),
    });
  } catch (e) {
    throw new ConfigError(
      settings.keystoreLocation !== null ? "ssl.keystore.location" : "ssl.keystore.key",
      `listener ${listener.name}: the key and certificates do not make a TLS context: ${
        errText(e).split("\n")[0]
      }`,
    );
  }
  return { settings, context, mapper };
}

/** The settings a TLS listener is made from: a change to any reloads it. */
const SSL_SETTINGS = [
  "ssl.keystore.type",
  "ssl.keystore.location",
  "ssl.keystore.key",
  "ssl.keystore.certificate.chain",
  "ssl.key.password",
  "ssl.truststore.type",
  "ssl.truststore.location",
  "ssl.truststore.certificates",
  "ssl.client.auth",
  "ssl.principal.mapping.rules",
  "ssl.enabled.protocols",
  "ssl.protocol",
  "ssl.cipher.suites",
];

function settingsOf(config: BrokerConfig, listener: string): string {
  return JSON.stringify(SSL_SETTINGS.map((k) => listenerSetting(config, listener, k)));
}

export class TlsListener implements Reconfigurable {
  private loaded: Loaded;
  private watcher: Deno.FsWatcher | null = null;
  private watching: string[] = [];
  private closed = false;
  private started = false;

  /** Loads the listener's key material; throws ConfigError (a start-up error) when it cannot. */
  constructor(
    private readonly config: BrokerConfig,
    readonly listener: ListenerSpec,
    /** How long a client may take to finish the handshake (`connections.max.idle.ms`). */
    private readonly handshakeTimeoutMs: number,
  ) {
    this.loaded = load(config, listener);
    this.applied = settingsOf(config, listener.name);
  }

  /** The settings last loaded, to tell a change of this listener's from others. */
  private applied: string;

  validateReconfiguration(candidate: BrokerConfig): void {
    if (settingsOf(candidate, this.listener.name) !== this.applied) load(candidate, this.listener);
  }

  /** AlterConfigs changed the broker configs: reload if this listener's changed. */
  reconfigure(): void {
    const now = settingsOf(this.config, this.listener.name);
    if (now === this.applied) return;
    this.applied = now;
    this.reload();
  }

  /** Starts reloading the key material when its files change. */
  start(): void {
    this.started = true;
    this.watch();
  }

  get clientAuth(): SslSettings["clientAuth"] {
    return this.loaded.settings.clientAuth;
  }

  /**
   * Re-reads the listener's settings and files; true when the new key material is in use.
   * On failure the previous certificate stays, and why is logged.
   */
  reload(): boolean {
    if (this.closed) return false;
    try {
      this.loaded = load(this.config, this.listener);
    } catch (e) {
      log.warn(
        `listener ${this.listener.name}: keeping the previous certificate, the new one does ` +
          `not load: ${errText(e)}`,
      );
      return false;
    }
    log.info(`listener ${this.listener.name}: reloaded the TLS key and certificates`);
    this.watch();
    return true;
  }

  /** Watches the keystore and truststore files (their directories: files are often replaced). */
  private watch(): void {
    if (!this.started) return;
    const files = [this.loaded.settings.keystoreLocation, this.loaded.settings.truststoreLocation]
      .filter((f): f is string => f !== null).map((f) => resolve(f));
    if (files.join("\0") === this.watching.join("\0")) return;
    this.watcher?.close();
    this.watcher = null;
    this.watching = files;
    if (files.length === 0) return;
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs([...new Set(files.map((f) => dirname(f)))], { recursive: false });
    } catch (e) {
      log.warn(
        `listener ${this.listener.name}: cannot watch ${files.join(", ")} for changes ` +
          `(${errText(e)}); change listener.name.${this.listener.name.toLowerCase()}` +
          ".ssl.keystore.location through AlterConfigs to reload",
      );
      return;
    }
    this.watcher = watcher;
    (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        for await (const e of watcher) {
          if (e.kind === "access" || !e.paths.some((p) => files.includes(resolve(p)))) continue;
          // A file rewritten in several steps is read once, after the last of them.
          clearTimeout(timer);
          timer = setTimeout(() => this.watcher === watcher && this.reload(), 100);
        }
      } catch (e) {
        if (!this.closed) log.warn(`listener ${this.listener.name}: watch failed: ${errText(e)}`);
      } finally {
        clearTimeout(timer);
      }
    })();
  }

  /**
   * Secures an accepted connection: null when it is closed instead (not TLS, a failed
   * handshake, a client certificate refused), with the reason logged naming the peer.
   */
  async accept(conn: Deno.TcpConn, remote: string): Promise<SecuredConnection | null> {
    const name = this.listener.name;
    const { context, settings, mapper } = this.loaded;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), this.handshakeTimeoutMs);
    });
    try {
      const first = new Uint8Array(4096);
      const n = await Promise.race([conn.read(first), timeout]);
      if (n === "timeout") {
        log.info(`closing connection from ${remote} on TLS listener ${name}: no TLS handshake`);
        conn.close();
        return null;
      }
      if (n === null) return null;
      if (first[0] !== TLS_HANDSHAKE) {
        log.warn(
          `closing connection from ${remote} on TLS listener ${name}: ${
            looksLikeKafkaFrame(first.subarray(0, n))
              ? "a plaintext Kafka request, not a TLS handshake (is the client set to " +
                `security.protocol=${this.listener.securityProtocol}?)`
              : "not a TLS handshake"
          }`,
        );
        conn.close();
        return null;
      }
      const policy = settings.policy;
      const offered = policy.suites === null ? null : offeredSuites(first.subarray(0, n));
      if (offered && !offered.some((c) => policy.suites!.has(c))) {
        log.warn(
          `closing connection from ${remote} on TLS listener ${name}: the client offers none ` +
            `of the cipher suites ssl.cipher.suites enables (${policy.suiteNames.join(", ")})`,
        );
        await conn.write(HANDSHAKE_FAILURE_ALERT).catch(() => 0);
        conn.close();
        return null;
      }
      const handshake = serverHandshake(conn, first.slice(0, n), {
        secureContext: context,
        requestCert: settings.clientAuth !== "none",
        requireCert: settings.clientAuth === "required",
      });
      const done = await Promise.race([handshake, timeout]);
      if (done === "timeout") {
        handshake.then((s) => s.stream.close(), () => {});
        log.info(`closing connection from ${remote} on TLS listener ${name}: handshake timed out`);
        try {
          conn.close();
        } catch {
          // closed by the handshake
        }
        return null;
      }
      if (!suiteEnabled(policy, done.cipher)) {
        log.warn(
          `closing connection from ${remote} on TLS listener ${name}: the client chose cipher ` +
            `suite ${done.cipher ?? "(unknown)"}, which ssl.cipher.suites does not enable (${
              policy.suiteNames.join(", ")
            }); it prefers it over the enabled ones it offers`,
        );
        done.stream.close();
        return null;
      }
      if (!done.peerCertificate) return { stream: done.stream, principal: ANONYMOUS_PRINCIPAL };
      let principal: string;
      try {
        principal = `User:${mapper.map(subjectName(done.peerCertificate))}`;
      } catch (e) {
        const why = e instanceof NoMatchingRule ? e.message : errText(e);
        log.warn(`closing connection from ${remote} on TLS listener ${name}: ${why}`);
        done.stream.close();
        return null;
      }
      return { stream: done.stream, principal };
    } catch (e) {
      // While the broker shuts down, handshakes cut short are expected; a peer hanging up
      // mid-handshake is routine (Kafka logs it below warn).
      (this.closed ? log.debug : e instanceof HandshakeClosed ? log.info : log.warn)(
        `closing connection from ${remote} on TLS listener ${name}: TLS handshake failed: ${
          errText(e)
        }`,
      );
      try {
        conn.close();
      } catch {
        // closed by the handshake
      }
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
  }
}

/** Whether `b` starts like a Kafka request: a plausible size, then an API key and version. */
function looksLikeKafkaFrame(b: Uint8Array): boolean {
  if (b.length < 8) return b[0] === 0;
  const size = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
  const apiKey = (b[4] << 8) | b[5];
  const version = (b[6] << 8) | b[7];
  return size > 0 && size < 1 << 30 && apiKey < 1000 && version < 100;
}
