/**
 * SASL with real clients on a SASL_PLAINTEXT listener: kcat and confluent-kafka (librdkafka)
 * with PLAIN, SCRAM-SHA-512 and OAUTHBEARER (librdkafka's unsecured JWT), kafkajs with PLAIN and
 * SCRAM-SHA-256, kafka-python with PLAIN; each produces and consumes exact values. A wrong
 * password reaches the client as SASL_AUTHENTICATION_FAILED with Kafka's message; SCRAM
 * credentials made with AlterUserScramCredentials log in at once; an expired token is refused, and
 * an RS256 token is checked against a JWKS file.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse,
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
} from "../../protocol/messages/mod.ts";
import { hashPassword } from "../../src/security/password_hash.ts";
import { FileScramCredentialStore } from "../../src/security/scram_credential_store.ts";
import {
  credentialFromPassword,
  saltedPassword,
  SCRAM_SHA_256,
  SCRAM_SHA_512,
} from "../../src/security/sasl/scram_formatter.ts";
import { Buffer } from "node:buffer";
import { decoder, kcat, python, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";

type Started = Awaited<ReturnType<typeof testBroker>>;

async function start(): Promise<Started> {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-sasl-clients-" });
  const users = `${dataDir}.users.properties`;
  Deno.writeTextFileSync(
    users,
    `admin = ${await hashPassword("admin-secret", 10000)}\n` +
      `alice = ${await hashPassword("alice-secret", 10000)}\n`,
  );
  await FileScramCredentialStore.inDataDir(dataDir).alter(
    await Promise.all([SCRAM_SHA_256, SCRAM_SHA_512].map(async (m) => ({
      op: "upsert" as const,
      user: "sam",
      mechanism: m,
      credential: await credentialFromPassword(m, "sam-secret", 4096),
    }))),
  );
  return await testBroker({
    dataDir,
    config: {
      "listeners": "SASL_PLAINTEXT://127.0.0.1:0",
      "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
      "sasl.plain.users.file": users,
      // kafka-python logs in with a password from JAAS, as Kafka users configure it.
      "listener.name.sasl_plaintext.plain.sasl.jaas.config":
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_kp="kp-secret";',
    },
  });
}

async function stop(b: Started): Promise<void> {
  await b.stop();
  await Deno.remove(`${b.dataDir}.users.properties`).catch(() => {});
}

const kcatSasl = (mechanism: string, user: string, password: string) => [
  "-X",
  "security.protocol=SASL_PLAINTEXT",
  "-X",
  `sasl.mechanisms=${mechanism}`,
  "-X",
  `sasl.username=${user}`,
  "-X",
  `sasl.password=${password}`,
];

async function kcatRoundTrip(b: Started, topic: string, auth: string[]): Promise<string> {
  await kcat(b.address, [...auth, "-P", "-t", topic, "-K", ":"], { stdin: "k1:v1\nk2:v2\n" });
  return decoder.decode(
    await kcat(b.address, [...auth, "-C", "-t", topic, "-e", "-o", "beginning", "-f", "%k=%s\\n"]),
  );
}

Deno.test("SASL clients: kcat with PLAIN (hashed users file) and SCRAM-SHA-512; a wrong password", async () => {
  const b = await start();
  try {
    assert.equal(
      await kcatRoundTrip(b, "kc-plain", kcatSasl("PLAIN", "alice", "alice-secret")),
      "k1=v1\nk2=v2\n",
    );
    assert.equal(
      await kcatRoundTrip(b, "kc-scram", kcatSasl("SCRAM-SHA-512", "sam", "sam-secret")),
      "k1=v1\nk2=v2\n",
    );
    for (const [mech, user] of [["PLAIN", "alice"], ["SCRAM-SHA-512", "sam"]]) {
      const r = await run("kcat", [
        "-b",
        b.address,
        ...kcatSasl(mech, user, "wrong"),
        "-L",
        "-m",
        "5",
      ], {
        timeoutMs: 30_000,
      });
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        mech === "PLAIN"
          ? /SASL authentication error: Authentication failed: Invalid username or password/
          : /SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/,
      );
    }
  } finally {
    await stop(b);
  }
});

/** AlterUserScramCredentials over a PLAIN login, as an admin tool sends it. */
async function adminCall<T>(
  b: Started,
  f: (c: RawClient) => Promise<T>,
): Promise<T> {
  const c = await RawClient.connect(b.port);
  try {
    await c.call(SaslHandshakeRequest, SaslHandshakeResponse, 1, { mechanism: "PLAIN" });
    const login = await c.call(SaslAuthenticateRequest, SaslAuthenticateResponse, 2, {
      authBytes: new TextEncoder().encode("\0admin\0admin-secret"),
    });
    assert.equal(login.errorCode, 0);
    return await f(c);
  } finally {
    c.close();
  }
}

Deno.test("SASL clients: credentials from AlterUserScramCredentials log in (confluent-kafka SCRAM-SHA-512)", async () => {
  const b = await start();
  try {
    const salt = crypto.getRandomValues(new Uint8Array(32));
    const upsert = async (name: string, mechanism: number, iterations: number) => ({
      name,
      mechanism,
      iterations,
      salt,
      saltedPassword: await saltedPassword(
        mechanism === 2 ? SCRAM_SHA_512 : SCRAM_SHA_256,
        "erin-secret",
        salt,
        iterations,
      ),
    });
    const upsertions = await Promise.all([
      upsert("erin", 2, 8192),
      upsert("weak", 1, 1000),
      upsert("huge", 1, 20000),
      upsert("odd", 3, 4096),
      upsert("", 1, 4096),
      upsert("twice", 1, 4096),
      upsert("twice", 2, 4096),
    ]);
    const altered = await adminCall(
      b,
      (c) =>
        c.call(AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, 0, {
          deletions: [{ name: "nobody", mechanism: 1 }],
          upsertions,
        }),
    );
    const byUser = Object.fromEntries(
      altered.results.map((r: { user: string; errorCode: number; errorMessage: string | null }) => [
        r.user,
        [r.errorCode, r.errorMessage],
      ]),
    );
    assert.deepEqual(byUser, {
      erin: [0, null],
      weak: [ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too few iterations"],
      huge: [ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too many iterations"],
      odd: [ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism"],
      "": [ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty"],
      twice: [
        ErrorCode.DUPLICATE_RESOURCE,
        "A user credential cannot be altered twice in the same request",
      ],
      nobody: [
        ErrorCode.RESOURCE_NOT_FOUND,
        "Attempt to delete a user credential that does not exist",
      ],
    });
    const described = await adminCall(
      b,
      (c) =>
        c.call(DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse, 0, {
          users: [{ name: "erin" }, { name: "sam" }, { name: "zed" }, { name: "zed2" }, {
            name: "zed2",
          }],
        }),
    );
    assert.deepEqual(described.results, [
      {
        user: "erin",
        errorCode: 0,
        errorMessage: null,
        credentialInfos: [{ mechanism: 2, iterations: 8192 }],
      },
      {
        user: "sam",
        errorCode: 0,
        errorMessage: null,
        credentialInfos: [{ mechanism: 1, iterations: 4096 }, { mechanism: 2, iterations: 4096 }],
      },
      {
        user: "zed",
        errorCode: ErrorCode.RESOURCE_NOT_FOUND,
        errorMessage: "Attempt to describe a user credential that does not exist: zed",
        credentialInfos: [],
      },
      {
        user: "zed2",
        errorCode: ErrorCode.DUPLICATE_RESOURCE,
        errorMessage:
          "Cannot describe SCRAM credentials for the same user twice in a single request: zed2",
        credentialInfos: [],
      },
    ]);
    // Never the password, nor the salted one, on disk.
    const stored = Deno.readTextFileSync(`${b.dataDir}/meta/scram-credentials.json`);
    assert.ok(!stored.includes("erin-secret"));
    const out = await python(CONFLUENT_ROUND_TRIP, [
      b.address,
      "SCRAM-SHA-512",
      "erin",
      "erin-secret",
      "cf-scram",
    ]);
    assert.deepEqual(JSON.parse(out), [["k0", "v0"], ["k1", "v1"], ["k2", "v2"]]);
    const plain = await python(CONFLUENT_ROUND_TRIP, [
      b.address,
      "PLAIN",
      "alice",
      "alice-secret",
      "cf-plain",
    ]);
    assert.deepEqual(JSON.parse(plain), [["k0", "v0"], ["k1", "v1"], ["k2", "v2"]]);
    const wrong = JSON.parse(await python(CONFLUENT_WRONG_PASSWORD, [b.address, "erin"]));
    assert.equal(wrong.code, "_AUTHENTICATION");
    assert.match(
      wrong.errors.join("\n"),
      /SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/,
    );
  } finally {
    await stop(b);
  }
});

const CONFLUENT_ROUND_TRIP = `
import json, sys
from confluent_kafka import Consumer, Producer
addr, mech, user, password, topic = sys.argv[1:6]
auth = {"bootstrap.servers": addr, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mech,
        "sasl.username": user, "sasl.password": password}
p = Producer(dict(auth))
for i in range(3):
    p.produce(topic, key=f"k{i}", value=f"v{i}")
assert p.flush(30) == 0
c = Consumer(dict(auth, **{"group.id": "g-" + topic, "auto.offset.reset": "earliest"}))
c.subscribe([topic])
got = []
while len(got) < 3:
    m = c.poll(30)
    assert m is not None, "no message within 30 s"
    assert m.error() is None, str(m.error())
    got.append([m.key().decode(), m.value().decode()])
c.close()
print(json.dumps(got))
`;

const CONFLUENT_WRONG_PASSWORD = `
import json, sys
from confluent_kafka import KafkaException, Producer
errors = []
p = Producer({"bootstrap.servers": sys.argv[1], "security.protocol": "SASL_PLAINTEXT",
              "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": sys.argv[2],
              "sasl.password": "wrong", "error_cb": lambda e: errors.append((e.name(), e.str()))})
code = None
try:
    p.list_topics(timeout=10)
except KafkaException as e:
    code = e.args[0].name()
p.poll(1)
print(json.dumps({"code": [n for n, _ in errors if n == "_AUTHENTICATION"][0] if errors else code,
                  "errors": [s for _, s in errors]}))
`;

Deno.test("SASL clients: confluent-kafka OAUTHBEARER with librdkafka's unsecured JWT; an expired token is refused", async () => {
  const b = await start();
  try {
    const ok = JSON.parse(await python(CONFLUENT_OAUTH, [b.address, "cf-oauth"]));
    assert.deepEqual(ok, [["k0", "v0"], ["k1", "v1"], ["k2", "v2"]]);
    // librdkafka opens a connection or more per client; each logged in with OAUTHBEARER.
    assert.ok((b.broker.metrics.authentications.get("OAUTHBEARER:success:0") ?? 0) >= 2);
    // An unsecured JWT whose exp is an hour ago; librdkafka is told it lasts another hour, so
    // it sends it and the broker is the one that refuses it.
    const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const stale = `${b64u({ alg: "none" })}.${
      b64u({ sub: "alice", iat: now - 7200, exp: now - 3600 })
    }.`;
    const expired = JSON.parse(await python(CONFLUENT_OAUTH_REFUSED, [b.address, stale]));
    assert.equal(expired.code, "_AUTHENTICATION", JSON.stringify(expired));
    assert.match(
      expired.errors.join("\n"),
      /SASL authentication error: \{"status":"invalid_token"\}/,
    );
  } finally {
    await stop(b);
  }
});

const CONFLUENT_OAUTH = `
import json, sys
from confluent_kafka import Consumer, Producer
addr, topic = sys.argv[1:3]
auth = {"bootstrap.servers": addr, "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": "OAUTHBEARER", "sasl.oauthbearer.config": "principal=alice",
        "enable.sasl.oauthbearer.unsecure.jwt": True}
p = Producer(dict(auth))
for i in range(3):
    p.produce(topic, key=f"k{i}", value=f"v{i}")
assert p.flush(30) == 0
c = Consumer(dict(auth, **{"group.id": "g-" + topic, "auto.offset.reset": "earliest"}))
c.subscribe([topic])
got = []
while len(got) < 3:
    m = c.poll(30)
    assert m is not None, "no message within 30 s"
    assert m.error() is None, str(m.error())
    got.append([m.key().decode(), m.value().decode()])
c.close()
print(json.dumps(got))
`;

Deno.test("SASL clients: kafkajs with PLAIN and SCRAM-SHA-256; a wrong password", async () => {
  const b = await start();
  try {
    const kafka = (
      sasl:
        | { mechanism: "plain"; username: string; password: string }
        | { mechanism: "scram-sha-256"; username: string; password: string },
    ) =>
      new Kafka({
        clientId: "sasl-test",
        brokers: [b.address],
        sasl,
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        connectionTimeout: 5000,
      });
    for (
      const [topic, sasl] of [
        ["kj-plain", { mechanism: "plain", username: "alice", password: "alice-secret" }],
        ["kj-scram", { mechanism: "scram-sha-256", username: "sam", password: "sam-secret" }],
      ] as const
    ) {
      const k = kafka(sasl);
      const producer = k.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [{ key: "a", value: "1" }, { key: "b", value: "2" }],
      });
      await producer.disconnect();
      const out = decoder.decode(
        await kcat(b.address, [
          ...kcatSasl("PLAIN", "admin", "admin-secret"),
          "-C",
          "-t",
          topic,
          "-e",
          "-o",
          "beginning",
          "-f",
          "%k=%s\\n",
        ]),
      );
      assert.equal(out, "a=1\nb=2\n");
    }
    const bad = kafka({ mechanism: "scram-sha-256", username: "sam", password: "nope" }).producer();
    await assert.rejects(
      bad.connect(),
      (e: Error & { type?: string }) => {
        assert.match(e.message, /SASL SCRAM SHA256 authentication failed/);
        assert.match(
          e.message,
          /Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256/,
        );
        return true;
      },
    );
  } finally {
    await stop(b);
  }
});

Deno.test("SASL clients: kafka-python with PLAIN (JAAS user_ option)", async () => {
  const b = await start();
  try {
    const out = await python(KAFKA_PYTHON, [b.address, "kp-plain"]);
    assert.deepEqual(JSON.parse(out), [["k0", "v0"], ["k1", "v1"]]);
  } finally {
    await stop(b);
  }
});

const KAFKA_PYTHON = `
import json, sys
from kafka import KafkaConsumer, KafkaProducer
addr, topic = sys.argv[1:3]
auth = dict(bootstrap_servers=addr, security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
            sasl_plain_username="kp", sasl_plain_password="kp-secret")
p = KafkaProducer(**auth)
for i in range(2):
    p.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode()).get(timeout=30)
p.close()
c = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=20000, **auth)
got = []
for m in c:
    got.append([m.key.decode(), m.value.decode()])
    if len(got) == 2:
        break
c.close()
print(json.dumps(got))
`;

/** An RS256 token for `claims` and the JWKS that verifies it. */
async function rs256(claims: Record<string, unknown>) {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const jwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid: "k1", use: "sig" };
  const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const sign = async (c: Record<string, unknown>) => {
    const input = `${b64u({ alg: "RS256", kid: "k1", typ: "JWT" })}.${b64u(c)}`;
    const sig = await crypto.subtle.sign(
      "RSASSA-PKCS1-v1_5",
      pair.privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${Buffer.from(sig).toString("base64url")}`;
  };
  return { token: await sign(claims), sign, jwks: { keys: [jwk] } };
}

Deno.test("SASL clients: confluent-kafka OAUTHBEARER with an RS256 token checked against a JWKS file", async () => {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: "svc-orders",
    aud: "kafka",
    iss: "https://idp.example",
    iat: now,
    exp: now + 3600,
  };
  const { token, sign, jwks } = await rs256(claims);
  const dir = await Deno.makeTempDir({ prefix: "tributary-jwks-" });
  await Deno.writeTextFile(`${dir}/jwks.json`, JSON.stringify(jwks));
  const b = await testBroker({
    config: {
      "listeners": "SASL_PLAINTEXT://127.0.0.1:0",
      "sasl.enabled.mechanisms": "OAUTHBEARER",
      "sasl.oauthbearer.jwks.endpoint.url": new URL(`file://${dir}/jwks.json`).href,
      "sasl.oauthbearer.expected.audience": "kafka",
      "sasl.oauthbearer.expected.issuer": "https://idp.example",
    },
  });
  try {
    const got = JSON.parse(await python(CONFLUENT_OAUTH_TOKEN, [b.address, "cf-jwks", token]));
    assert.deepEqual(got, [["k0", "v0"], ["k1", "v1"], ["k2", "v2"]]);
    // Signed by the same key, for another audience: refused.
    const other = await sign({ ...claims, aud: "billing" });
    const refused = JSON.parse(await python(CONFLUENT_OAUTH_REFUSED, [b.address, other]));
    assert.equal(refused.code, "_AUTHENTICATION");
    assert.match(
      refused.errors.join("\n"),
      /SASL authentication error: \{"status":"invalid_token"\}/,
    );
  } finally {
    await b.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

const CONFLUENT_OAUTH_TOKEN = `
import json, sys, time
from confluent_kafka import Consumer, Producer
addr, topic, token = sys.argv[1:4]
auth = {"bootstrap.servers": addr, "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": "OAUTHBEARER", "oauth_cb": lambda cfg: (token, time.time() + 3600)}
p = Producer(dict(auth))
for i in range(3):
    p.produce(topic, key=f"k{i}", value=f"v{i}")
assert p.flush(30) == 0
c = Consumer(dict(auth, **{"group.id": "g-" + topic, "auto.offset.reset": "earliest"}))
c.subscribe([topic])
got = []
while len(got) < 3:
    m = c.poll(30)
    assert m is not None, "no message within 30 s"
    assert m.error() is None, str(m.error())
    got.append([m.key().decode(), m.value().decode()])
c.close()
print(json.dumps(got))
`;

const CONFLUENT_OAUTH_REFUSED = `
import json, sys, time
from confluent_kafka import Producer
addr, token = sys.argv[1:3]
errors = []
p = Producer({"bootstrap.servers": addr, "security.protocol": "SASL_PLAINTEXT",
              "sasl.mechanisms": "OAUTHBEARER", "oauth_cb": lambda cfg: (token, time.time() + 3600),
              "error_cb": lambda e: errors.append((e.name(), e.str()))})
for _ in range(30):
    p.poll(1)
    if any(n == "_AUTHENTICATION" for n, _ in errors):
        break
print(json.dumps({"code": "_AUTHENTICATION" if any(n == "_AUTHENTICATION" for n, _ in errors) else None,
                  "errors": [s for _, s in errors]}))
`;
