/**
 * Shared by the TLS end-to-end tests: an in-process broker with a PLAINTEXT and an SSL listener
 * on the test certificates, the broker's log lines as written, and what a TLS client is shown.
 */
import assert from "node:assert/strict";
import { MetadataRequest, MetadataResponse } from "../../protocol/messages/mod.ts";
import { setLogSink } from "../../src/log.ts";
import { run, testBroker } from "./helpers.ts";
import type { RawClient } from "./raw_client.ts";
import type { TestCerts } from "./tls_certs.ts";

/** Log lines of the in-process broker, as they are written. */
export const logged: string[] = [];
setLogSink((level, msg) => logged.push(`${level} ${msg}`));

export function sslConfig(certs: TestCerts, extra: Record<string, string> = {}) {
  return {
    "listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
    // The listener's own names, as Kafka has them, for the keystore and truststore.
    "listener.name.ssl.ssl.keystore.type": "PEM",
    "listener.name.ssl.ssl.keystore.location": certs.serverPem,
    "ssl.truststore.type": "PEM",
    "ssl.truststore.location": certs.caPem,
    ...extra,
  };
}

export async function withSslBroker(
  certs: TestCerts,
  extra: Record<string, string>,
  fn: (
    ports: { plain: number; ssl: number },
    b: Awaited<ReturnType<typeof testBroker>>,
  ) => Promise<void>,
): Promise<void> {
  const b = await testBroker({ config: sslConfig(certs, extra) });
  try {
    const ssl = b.broker.listeners.find((l) => l.name === "SSL")!;
    assert.equal(ssl.securityProtocol, "SSL");
    await fn({ plain: b.port, ssl: ssl.port }, b);
  } finally {
    await b.stop();
  }
}

export async function metadataBrokers(c: RawClient): Promise<string> {
  const md = await c.call(MetadataRequest, MetadataResponse, 12, {
    topics: [],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  return md.brokers.map((b: { host: string; port: number }) => `${b.host}:${b.port}`).join(",");
}

/** The subject CN of the certificate the TLS listener on `port` presents, by openssl s_client. */
export async function servedCertificate(port: number): Promise<string> {
  const r = await run("/usr/bin/openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-showcerts",
  ], {
    stdin: "",
    timeoutMs: 30_000,
  });
  const m = /subject=.*CN\s*=\s*([^,\n]+)/.exec(new TextDecoder().decode(r.stdout));
  return m ? m[1].trim() : `(none: ${r.stderr})`;
}
