/**
 * A SASL listener's settings (src/security/sasl_listener.ts), read as Kafka reads them: per
 * listener and mechanism (`listener.name.<l>.<mechanism>.<name>`), per listener, then broker
 * wide; and the start-up errors for what cannot be served.
 */
import assert from "node:assert/strict";
import { BrokerConfig, ConfigError } from "../../src/config.ts";
import { saslListener, saslListeners } from "../../src/security/sasl_listener.ts";
import { MemoryScramCredentialStore } from "../../src/security/scram_credential_store.ts";

const PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule";
const config = (o: Record<string, string>) => new BrokerConfig(new Map(Object.entries(o)));
const store = new MemoryScramCredentialStore();
const enc = new TextEncoder();

async function plainLogin(l: ReturnType<typeof saslListener>, user: string, pw: string) {
  return (await l.createServer("PLAIN").evaluate(enc.encode(`\0${user}\0${pw}`))).kind;
}

Deno.test("sasl listener: per-listener and per-mechanism settings win over broker-wide ones", async () => {
  const c = config({
    "sasl.enabled.mechanisms": "SCRAM-SHA-256",
    "listener.name.external.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
    "sasl.jaas.config": `${PLAIN} required user_global="g";`,
    "listener.name.external.plain.sasl.jaas.config": `${PLAIN} required user_ext="e";`,
    "connections.max.reauth.ms": "1000",
    "listener.name.external.plain.connections.max.reauth.ms": "5000",
    "connection.failed.authentication.delay.ms": "7",
    "sasl.server.max.receive.size": "4096",
  });
  const ext = saslListener(c, "EXTERNAL", store);
  assert.deepEqual(ext.enabledMechanisms, ["PLAIN", "SCRAM-SHA-512"]);
  assert.equal(await plainLogin(ext, "ext", "e"), "complete");
  assert.equal(await plainLogin(ext, "global", "g"), "failure");
  assert.equal(ext.maxReauthMs("PLAIN"), 5000);
  assert.equal(ext.maxReauthMs("SCRAM-SHA-512"), 1000);
  assert.equal(ext.failedAuthenticationDelayMs, 7);
  assert.equal(ext.maxReceiveBytes, 4096);
  const other = saslListener(c, "OTHER", store);
  assert.deepEqual(other.enabledMechanisms, ["SCRAM-SHA-256"]);
  assert.throws(() => other.createServer("PLAIN"), /not enabled/);
  // The broker-wide entry is used where no listener entry is given.
  const p = saslListener(
    config({ "sasl.jaas.config": `${PLAIN} required user_global="g";` }),
    "X",
    store,
  );
  assert.equal(await plainLogin(p, "global", "g"), "complete");
});

Deno.test("sasl listener: only SASL listeners get mechanisms; what cannot be served stops the start", () => {
  const m = saslListeners(config({}), [
    { name: "PLAINTEXT", securityProtocol: "PLAINTEXT" },
    { name: "SASL_SSL", securityProtocol: "SASL_SSL" },
    { name: "SSL", securityProtocol: "SSL" },
  ], store);
  assert.deepEqual([...m.keys()], ["SASL_SSL"]);
  assert.deepEqual(m.get("SASL_SSL")!.enabledMechanisms, [
    "PLAIN",
    "SCRAM-SHA-256",
    "SCRAM-SHA-512",
  ]);
  const refused = (o: Record<string, string>, re: RegExp) =>
    assert.throws(() => saslListener(config(o), "L", store), (e: Error) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, re);
      return true;
    });
  refused(
    { "sasl.enabled.mechanisms": "GSSAPI" },
    /listener L: GSSAPI \(Kerberos\) is not supported/,
  );
  refused({ "sasl.enabled.mechanisms": "PLAIN,DIGEST-MD5" }, /unknown SASL mechanism 'DIGEST-MD5'/);
  refused({ "listener.name.l.sasl.enabled.mechanisms": " " }, /enables no mechanism/);
  refused({ "sasl.jaas.config": "x.Y sometimes;" }, /listener L: .*control flag 'sometimes'/);
  refused({ "sasl.plain.users.file": "/nonexistent/users" }, /sasl.plain.users.file: listener L/);
  refused(
    {
      "sasl.enabled.mechanisms": "OAUTHBEARER",
      "sasl.oauthbearer.jwks.endpoint.url": "file:///nonexistent/jwks.json",
    },
    /sasl.oauthbearer.jwks.endpoint.url: listener L/,
  );
  refused(
    {
      "sasl.enabled.mechanisms": "OAUTHBEARER",
      "sasl.oauthbearer.jwks.endpoint.url": "ldap://idp/jwks",
    },
    /is not a file:, https: or http: URL/,
  );
});
