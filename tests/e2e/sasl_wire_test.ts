/**
 * SASL on the wire (src/security/sasl_authenticator.ts), driven request by request: what may
 * come before authentication, SaslHandshake v0 (raw tokens) and v1 (SaslAuthenticate),
 * Kafka's error codes for unknown mechanisms and out-of-order requests, the delay of a failed
 * login, the session's principal, and KIP-368 re-authentication and session expiry.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
} from "../../protocol/messages/mod.ts";
import { setLogLevel, setLogSink } from "../../src/log.ts";
import { FileScramCredentialStore } from "../../src/security/scram_credential_store.ts";
import { credentialFromPassword, SCRAM_SHA_256 } from "../../src/security/sasl/scram_formatter.ts";
import { testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { fuzz } from "../support/request_fuzzer.ts";
import { ScramClient } from "../support/scram_client.ts";

const enc = new TextEncoder();

/** Log lines of the in-process broker, as they are written. */
const logged: string[] = [];
setLogSink((level, msg) => logged.push(`${level} ${msg}`));
// The tests look for info lines (why a connection closed), whatever level the run asks for.
setLogLevel("info");
const JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required " +
  'user_alice="alice-secret" user_bob="bob-secret";';
const METADATA = {
  topics: [],
  allowAutoTopicCreation: false,
  includeTopicAuthorizedOperations: false,
};

async function saslBroker(
  extra: Record<string, string> = {},
  given?: string,
) {
  const dataDir = given ?? await Deno.makeTempDir({ prefix: "tributary-sasl-" });
  // SCRAM users exist before the broker starts, as if created by an earlier run.
  await FileScramCredentialStore.inDataDir(dataDir).alter([{
    op: "upsert",
    user: "carol",
    mechanism: SCRAM_SHA_256,
    credential: await credentialFromPassword(SCRAM_SHA_256, "carol-secret", 4096),
  }, {
    op: "upsert",
    user: "dave",
    mechanism: SCRAM_SHA_256,
    credential: await credentialFromPassword(SCRAM_SHA_256, "dave-secret", 4096),
  }]);
  const b = await testBroker({
    dataDir,
    config: {
      "listeners": "SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
      "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,PLAINTEXT:PLAINTEXT",
      "sasl.enabled.mechanisms": "SCRAM-SHA-256,PLAIN",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
      ...extra,
    },
  });
  const [sasl, plain] = b.broker.listeners;
  return { b, saslPort: sasl.port, plainPort: plain.port };
}

const handshake = (c: RawClient, mechanism: string, v = 1) =>
  c.call(SaslHandshakeRequest, SaslHandshakeResponse, v, { mechanism });
const authenticate = (c: RawClient, authBytes: Uint8Array, v = 2) =>
  c.call(SaslAuthenticateRequest, SaslAuthenticateResponse, v, { authBytes });

async function scramLogin(c: RawClient, user: string, password: string, v = 2) {
  assert.equal((await handshake(c, "SCRAM-SHA-256")).errorCode, 0);
  const client = new ScramClient(SCRAM_SHA_256, user, password);
  const first = await authenticate(c, client.first(), v);
  assert.equal(first.errorCode, 0);
  const final = await authenticate(c, await client.final(first.authBytes), v);
  if (final.errorCode === 0) assert.ok(await client.verifyServerFinal(final.authBytes));
  return final;
}

Deno.test("SASL wire: before login only ApiVersions and the handshake; a Produce closes", async () => {
  const { b, saslPort } = await saslBroker();
  try {
    const c = await RawClient.connect(saslPort);
    const versions = await c.call(ApiVersionsRequest, ApiVersionsResponse, 2, {});
    const keys = new Map(versions.apiKeys.map((k: { apiKey: number; maxVersion: number }) => [
      k.apiKey,
      k.maxVersion,
    ]));
    assert.deepEqual([17, 36, 50, 51].map((k) => keys.get(k)), [1, 2, 0, 0]);
    await c.send(ProduceRequest, 9, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 1000,
      topicData: [],
    });
    await c.closedByBroker();
    const m = await RawClient.connect(saslPort);
    await m.send(MetadataRequest, 12, METADATA);
    await m.closedByBroker();
  } finally {
    await b.stop();
  }
});

Deno.test("SASL wire: unknown mechanism, out-of-order requests, plaintext listener", async () => {
  const { b, saslPort, plainPort } = await saslBroker();
  try {
    let c = await RawClient.connect(saslPort);
    const r = await handshake(c, "GSSAPI");
    assert.equal(r.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(r.mechanisms, ["SCRAM-SHA-256", "PLAIN"]);
    await c.closedByBroker();

    c = await RawClient.connect(saslPort);
    const early = await authenticate(c, enc.encode("\0alice\0alice-secret"));
    assert.equal(early.errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    await c.closedByBroker();

    c = await RawClient.connect(saslPort);
    assert.equal((await handshake(c, "PLAIN")).errorCode, 0);
    assert.equal((await handshake(c, "PLAIN")).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    await c.closedByBroker();

    // On a listener without SASL, KafkaApis answers as Kafka's does, and serves on.
    c = await RawClient.connect(plainPort);
    assert.equal((await handshake(c, "PLAIN")).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    const a = await authenticate(c, new Uint8Array(0));
    assert.equal(a.errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal(
      a.errorMessage,
      "SaslAuthenticate request received after successful authentication",
    );
    assert.equal((await c.call(MetadataRequest, MetadataResponse, 12, METADATA)).brokers.length, 1);
    c.close();
  } finally {
    await b.stop();
  }
});

Deno.test("SASL wire: PLAIN with SaslHandshake v0 raw tokens, then requests are served", async () => {
  const { b, saslPort } = await saslBroker();
  try {
    const c = await RawClient.connect(saslPort);
    assert.equal((await handshake(c, "PLAIN", 0)).errorCode, 0);
    await c.sendRaw(enc.encode("\0alice\0alice-secret"));
    assert.deepEqual(await c.readRaw(), new Uint8Array(0));
    assert.equal((await c.call(MetadataRequest, MetadataResponse, 12, METADATA)).brokers.length, 1);
    const s = [...b.broker.connections].find((x) => x.session.listenerName === "SASL_PLAINTEXT");
    assert.deepEqual(s?.session, {
      listenerName: "SASL_PLAINTEXT",
      securityProtocol: "SASL_PLAINTEXT",
      principal: "User:alice",
      saslMechanism: "PLAIN",
    });
    c.close();
    // A wrong password with v0 framing: no answer can say why, the connection closes.
    const w = await RawClient.connect(saslPort);
    assert.equal((await handshake(w, "PLAIN", 0)).errorCode, 0);
    await w.sendRaw(enc.encode("\0alice\0nope"));
    await w.closedByBroker();
  } finally {
    await b.stop();
  }
});

Deno.test("SASL wire: a failed login waits connection.failed.authentication.delay.ms", async () => {
  const { b, saslPort } = await saslBroker({ "connection.failed.authentication.delay.ms": "400" });
  try {
    const c = await RawClient.connect(saslPort);
    assert.equal((await handshake(c, "PLAIN")).errorCode, 0);
    const started = performance.now();
    const r = await authenticate(c, enc.encode("\0alice\0wrong"));
    assert.ok(performance.now() - started >= 390, "the answer came before the delay");
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(r.errorMessage, "Authentication failed: Invalid username or password");
    await c.closedByBroker();
    const s = await RawClient.connect(saslPort);
    const f = await scramLogin(s, "carol", "wrong");
    assert.equal(f.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(
      f.errorMessage,
      "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256",
    );
    await s.closedByBroker();
  } finally {
    await b.stop();
  }
});

Deno.test("SASL wire: KIP-368 re-authentication keeps the principal; another is refused", async () => {
  const { b, saslPort } = await saslBroker({ "connections.max.reauth.ms": "600000" });
  try {
    const c = await RawClient.connect(saslPort);
    const first = await scramLogin(c, "carol", "carol-secret");
    assert.equal(first.errorCode, 0);
    assert.equal(first.sessionLifetimeMs, 600000);
    const again = await scramLogin(c, "carol", "carol-secret");
    assert.equal(again.errorCode, 0);
    assert.equal(again.sessionLifetimeMs, 600000);
    assert.equal((await c.call(MetadataRequest, MetadataResponse, 12, METADATA)).brokers.length, 1);
    // Re-authenticating as someone else fails and closes.
    const other = await scramLogin(c, "dave", "dave-secret");
    assert.equal(other.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(
      other.errorMessage,
      "Cannot change principals during re-authentication from User:carol",
    );
    await c.closedByBroker();
    // v0 SaslAuthenticate clients cannot re-authenticate: no session lifetime for them.
    const old = await RawClient.connect(saslPort);
    assert.equal((await scramLogin(old, "carol", "carol-secret", 0)).errorCode, 0);
    old.close();
    const tally = b.broker.metrics.authentications;
    assert.deepEqual(Object.fromEntries(tally), {
      "SCRAM-SHA-256:success:0": 2,
      "SCRAM-SHA-256:success:1": 1,
      "SCRAM-SHA-256:failure:1": 1,
    });
  } finally {
    await b.stop();
  }
});

Deno.test("SASL wire: a session that outlives connections.max.reauth.ms closes on its next request", async () => {
  const { b, saslPort } = await saslBroker({ "connections.max.reauth.ms": "300" });
  try {
    const c = await RawClient.connect(saslPort);
    const login = await scramLogin(c, "carol", "carol-secret");
    assert.equal(login.sessionLifetimeMs, 300);
    const expires = performance.now() + 300;
    assert.equal((await c.call(MetadataRequest, MetadataResponse, 12, METADATA)).brokers.length, 1);
    // The rule is about time itself: wait out the lifetime, then the next request closes.
    await new Promise((r) => setTimeout(r, Math.max(0, expires - performance.now()) + 50));
    await c.send(MetadataRequest, 12, METADATA);
    await c.closedByBroker();
  } finally {
    await b.stop();
  }
});

Deno.test("SASL wire: failures are logged with their reason, never with the password", async () => {
  const { b, saslPort } = await saslBroker({ "connection.failed.authentication.delay.ms": "0" });
  try {
    const before = logged.length;
    const p = await RawClient.connect(saslPort);
    await handshake(p, "PLAIN");
    await authenticate(p, enc.encode("\0alice\0Pl41n-Wr0ng-Secret"));
    await p.closedByBroker();
    const s = await RawClient.connect(saslPort);
    await scramLogin(s, "carol", "Scr4m-Wr0ng-Secret");
    await s.closedByBroker();
    const ok = await RawClient.connect(saslPort);
    assert.equal((await scramLogin(ok, "carol", "carol-secret")).errorCode, 0);
    ok.close();
    const lines = logged.slice(before).join("\n");
    assert.match(
      lines,
      /closing connection \d+ from 127\.0\.0\.1: failed SASL PLAIN authentication: Authentication failed: Invalid username or password/,
    );
    assert.match(lines, /failed SASL SCRAM-SHA-256 authentication: Invalid client credentials/);
    for (
      const secret of ["Pl41n-Wr0ng-Secret", "Scr4m-Wr0ng-Secret", "carol-secret", "alice-secret"]
    ) {
      assert.ok(!lines.includes(secret), `${secret} was logged`);
    }
    const { renderPrometheus } = await import("../../src/admin/prometheus.ts");
    const metrics = await renderPrometheus(b.broker);
    assert.match(
      metrics,
      /tributary_authentications_total\{mechanism="PLAIN",result="failure",reauth="false"\} 1/,
    );
    assert.match(
      metrics,
      /tributary_authentications_total\{mechanism="SCRAM-SHA-256",result="success",reauth="false"\} 1/,
    );
    // The handshake's requests are counted like any other: 3 handshakes, 1 + 2 + 2 tokens.
    assert.match(
      metrics,
      /tributary_requests_total\{api="SaslHandshake",api_key="17",version="1"\} 3/,
    );
    assert.match(
      metrics,
      /tributary_requests_total\{api="SaslAuthenticate",api_key="36",version="2"\} 5/,
    );
    assert.ok(!metrics.includes("Secret") && !metrics.includes("secret"));
  } finally {
    await b.stop();
  }
});

Deno.test("SASL wire: AlterConfigs of a listener's sasl.enabled.mechanisms applies to new logins", async () => {
  const { b, saslPort, plainPort } = await saslBroker();
  try {
    const admin = await RawClient.connect(plainPort);
    const alter = async (value: string) =>
      (await admin.call(IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, 1, {
        resources: [{
          resourceType: 4,
          resourceName: "1",
          configs: [{
            name: "listener.name.sasl_plaintext.sasl.enabled.mechanisms",
            configOperation: 0,
            value,
          }],
        }],
        validateOnly: false,
      })).responses[0];
    // A mechanism that cannot be served is refused, and nothing changes.
    const refused = await alter("GSSAPI");
    assert.equal(refused.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(refused.errorMessage, /GSSAPI \(Kerberos\) is not supported here/);
    let c = await RawClient.connect(saslPort);
    assert.deepEqual((await handshake(c, "PLAIN")).mechanisms, ["SCRAM-SHA-256", "PLAIN"]);
    c.close();
    assert.equal((await alter("PLAIN")).errorCode, 0);
    c = await RawClient.connect(saslPort);
    const r = await handshake(c, "SCRAM-SHA-256");
    assert.equal(r.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(r.mechanisms, ["PLAIN"]);
    await c.closedByBroker();
    admin.close();
    // The change is durable: a restart starts with it.
    await b.close();
    const again = await saslBroker({}, b.dataDir);
    try {
      const d = await RawClient.connect(again.saslPort);
      assert.deepEqual((await handshake(d, "PLAIN")).mechanisms, ["PLAIN"]);
      d.close();
    } finally {
      await again.b.stop();
    }
  } finally {
    await b.stop();
  }
});

Deno.test("SASL wire: before login a frame over sasl.server.max.receive.size closes the connection", async () => {
  const { b, saslPort } = await saslBroker({ "sasl.server.max.receive.size": "1024" });
  try {
    const c = await RawClient.connect(saslPort);
    assert.equal((await handshake(c, "PLAIN")).errorCode, 0);
    await c.send(SaslAuthenticateRequest, 2, { authBytes: new Uint8Array(2000) });
    await c.closedByBroker();
    // Once logged in, frames are bounded by socket.request.max.bytes again.
    const ok = await RawClient.connect(saslPort);
    assert.equal((await handshake(ok, "PLAIN")).errorCode, 0);
    assert.equal((await authenticate(ok, enc.encode("\0alice\0alice-secret"))).errorCode, 0);
    const md = await ok.call(MetadataRequest, MetadataResponse, 12, {
      topics: [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: "x".repeat(2000) }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.equal(md.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    ok.close();
  } finally {
    await b.stop();
  }
});

Deno.test("SASL wire: fuzzed requests before login are answered or closed, never stall", async () => {
  const { b, saslPort } = await saslBroker({ "connection.failed.authentication.delay.ms": "0" });
  try {
    const result = await fuzz({
      port: saslPort,
      seed: 20261202,
      count: 1500,
      connections: 3,
      patienceMs: 30_000,
      // The handshake's own APIs most of the time, and now and then any other.
      apis: b.broker.registry.apiVersions().filter((a) =>
        [17, 18, 36].includes(a.apiKey) || a.apiKey % 7 === 0
      ),
    });
    assert.deepEqual(result.stalls, [], JSON.stringify(result.stalls.slice(0, 5), null, 1));
    assert.deepEqual(result.mismatches, []);
    assert.equal(result.answered + result.closed + result.unanswered, result.sent);
    assert.ok(result.answered > 100 && result.closed > 100, JSON.stringify(result));
    while (b.broker.connections.size > 0) await new Promise((r) => setTimeout(r, 10));
    // The broker still logs clients in.
    const c = await RawClient.connect(saslPort);
    assert.equal((await scramLogin(c, "carol", "carol-secret")).errorCode, 0);
    c.close();
  } finally {
    await b.stop();
  }
});
