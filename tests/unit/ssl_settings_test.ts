import assert from "node:assert/strict";
import { BrokerConfig, ConfigError } from "../../src/config.ts";
import type { ListenerSpec } from "../../src/security/listeners.ts";
import { readSslSettings } from "../../src/security/ssl_settings.ts";
import { makeTestCerts } from "../support/tls_certs.ts";

function spec(name: string, securityProtocol: ListenerSpec["securityProtocol"]): ListenerSpec {
  return { name, host: "", port: 0, securityProtocol, advertisedHost: "h", advertisedPort: 1 };
}

function config(settings: Record<string, string>): BrokerConfig {
  return new BrokerConfig(new Map(Object.entries(settings)));
}

Deno.test("ssl settings: PEM files, the listener's own names first, SASL_SSL client auth", async () => {
  const certs = await makeTestCerts();
  try {
    const base = {
      "ssl.keystore.location": certs.serverPem, // type left at JKS: a PEM file is read as PEM
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": certs.caPem,
      "ssl.client.auth": "required",
    };
    const ssl = readSslSettings(config(base), spec("SSL", "SSL"));
    assert.equal(ssl.clientAuth, "required");
    assert.match(ssl.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(ssl.certChainPem.match(/BEGIN CERTIFICATE/g)?.length, 1);
    assert.equal(ssl.keystoreLocation, certs.serverPem);
    assert.match(ssl.caPem!, /BEGIN CERTIFICATE/);
    // On SASL_SSL only listener.name.<l>.ssl.client.auth asks for certificates, as in Kafka.
    assert.equal(readSslSettings(config(base), spec("SASL_SSL", "SASL_SSL")).clientAuth, "none");
    assert.equal(
      readSslSettings(
        config({ ...base, "listener.name.sasl_ssl.ssl.client.auth": "requested" }),
        spec("SASL_SSL", "SASL_SSL"),
      ).clientAuth,
      "requested",
    );
    assert.equal(
      readSslSettings(
        config({ ...base, "listener.name.tls.ssl.client.auth": "none" }),
        spec("TLS", "SSL"),
      ).clientAuth,
      "none",
    );
  } finally {
    await certs.remove();
  }
});

Deno.test("ssl settings: refused stores and conflicting settings name the setting", async () => {
  const certs = await makeTestCerts();
  try {
    const refused = (settings: Record<string, string>, message: RegExp) =>
      assert.throws(() => readSslSettings(config(settings), spec("SSL", "SSL")), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match(e.message, message);
        return true;
      });
    refused(
      { "ssl.keystore.type": "PKCS12", "ssl.keystore.location": certs.serverPem },
      /^ssl\.keystore\.type: listener SSL: PKCS12 stores are not supported; set ssl\.keystore\.type=PEM/,
    );
    refused(
      {
        "ssl.keystore.location": certs.serverPem,
        "ssl.truststore.type": "JKS",
        "ssl.truststore.location": certs.caPem,
      },
      /^ssl\.truststore\.type: listener SSL: JKS stores are not supported/,
    );
    refused(
      {
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": certs.serverPem,
        "ssl.keystore.key": "x",
      },
      /give either ssl\.keystore\.location or ssl\.keystore\.key/,
    );
    refused(
      { "ssl.keystore.type": "PEM", "ssl.keystore.location": `${certs.dir}/none.pem` },
      /^ssl\.keystore\.location: listener SSL: cannot read .*none\.pem/,
    );
    refused(
      { "ssl.keystore.type": "PEM", "ssl.keystore.location": certs.caPem },
      /expected one private key, found 0/,
    );
    refused(
      { "ssl.keystore.type": "PEM", "ssl.keystore.location": certs.serverKey },
      /no certificate \(BEGIN CERTIFICATE\) found/,
    );
  } finally {
    await certs.remove();
  }
});
