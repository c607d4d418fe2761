/**
 * TLS, SASL and ACLs together, as a deployment has them: one SASL_SSL listener on test
 * certificates, SCRAM-SHA-512 only, the ACL authorizer with `super.users=User:admin`. The admin
 * (its credential made before the start, as Kafka's `kafka-storage format --add-scram` does)
 * creates the SCRAM users alice and bob with AlterUserScramCredentials and their ACLs with
 * kafkajs's admin, all over SASL_SSL; kcat and confluent-kafka then log in as them. alice may
 * write `pay-*` but not read it, bob's group and transactional id are denied, the admin may do
 * everything, a wrong password is SASL_AUTHENTICATION_FAILED, and /metrics counts both.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  FetchRequest,
  FetchResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
} from "../../protocol/messages/mod.ts";
import { FileScramCredentialStore } from "../../src/security/scram_credential_store.ts";
import {
  credentialFromPassword,
  saltedPassword,
  SCRAM_SHA_512,
} from "../../src/security/sasl/scram_formatter.ts";
import { decoder, kcat, python, run, testBroker } from "../support/helpers.ts";
import type { Msg } from "../support/msg.ts";
import { RawClient } from "../support/raw_client.ts";
import { ScramClient } from "../support/scram_client.ts";
import { makeTestCerts, type TestCerts } from "../support/tls_certs.ts";

type Broker = Awaited<ReturnType<typeof testBroker>>;

const PASSWORDS: Record<string, string> = {
  admin: "admin-secret",
  alice: "alice-secret",
  bob: "bob-secret",
};

async function start(certs: TestCerts): Promise<Broker> {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-security-" });
  await FileScramCredentialStore.inDataDir(dataDir).alter([{
    op: "upsert",
    user: "admin",
    mechanism: SCRAM_SHA_512,
    credential: await credentialFromPassword(SCRAM_SHA_512, PASSWORDS.admin, 4096),
  }]);
  return await testBroker({
    dataDir,
    adminPort: 0,
    config: {
      "listeners": "SASL_SSL://127.0.0.1:0",
      "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
      "listener.name.sasl_ssl.ssl.keystore.location": certs.serverPem,
      "sasl.enabled.mechanisms": "SCRAM-SHA-512",
      "authorizer.class.name": "acl",
      "super.users": "User:admin",
    },
  });
}

/** A raw connection over TLS logged in with SCRAM-SHA-512; the final response's error code. */
async function scramLogin(
  b: Broker,
  certs: TestCerts,
  user: string,
  password: string,
): Promise<{ c: RawClient; errorCode: number; errorMessage: string | null }> {
  const c = await RawClient.connectTls(b.port, { caCerts: [await Deno.readTextFile(certs.caPem)] });
  const hs = await c.call(SaslHandshakeRequest, SaslHandshakeResponse, 1, {
    mechanism: "SCRAM-SHA-512",
  });
  assert.equal(hs.errorCode, 0);
  const scram = new ScramClient(SCRAM_SHA_512, user, password);
  const first = await c.call(SaslAuthenticateRequest, SaslAuthenticateResponse, 2, {
    authBytes: scram.first(),
  });
  assert.equal(first.errorCode, 0);
  const final = await c.call(SaslAuthenticateRequest, SaslAuthenticateResponse, 2, {
    authBytes: await scram.final(first.authBytes),
  });
  if (final.errorCode === 0) assert.ok(await scram.verifyServerFinal(final.authBytes));
  return { c, errorCode: final.errorCode, errorMessage: final.errorMessage };
}

const kcatAuth = (certs: TestCerts, user: string, password = PASSWORDS[user]) => [
  "-X",
  "security.protocol=SASL_SSL",
  "-X",
  `ssl.ca.location=${certs.caPem}`,
  "-X",
  "sasl.mechanisms=SCRAM-SHA-512",
  "-X",
  `sasl.username=${user}`,
  "-X",
  `sasl.password=${password}`,
];

/** `/metrics` samples of `family` keyed by their label values joined with "/". */
async function samples(b: Broker, family: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${b.adminUrl}/metrics`)).text();
  const out = new Map<string, number>();
  const re = new RegExp(`^${family}\\{([^}]*)\\} (\\d+)$`, "gm");
  for (const m of text.matchAll(re)) {
    const labels = [...m[1].matchAll(/\w+="([^"]*)"/g)].map((l) => l[1]).join("/");
    out.set(labels, Number(m[2]));
  }
  return out;
}

Deno.test("security end to end: SASL_SSL + SCRAM-SHA-512 + ACLs with kcat, confluent-kafka, kafkajs", async () => {
  const certs = await makeTestCerts();
  const b = await start(certs);
  try {
    // ---- the admin creates alice and bob over SASL_SSL ----------------------------------
    const { c: adminConn, errorCode } = await scramLogin(b, certs, "admin", PASSWORDS.admin);
    assert.equal(errorCode, 0);
    try {
      const upsertions = await Promise.all(["alice", "bob"].map(async (name) => {
        const salt = crypto.getRandomValues(new Uint8Array(32));
        return {
          name,
          mechanism: 2,
          iterations: 4096,
          salt,
          saltedPassword: await saltedPassword(SCRAM_SHA_512, PASSWORDS[name], salt, 4096),
        };
      }));
      const altered = await adminConn.call(
        AlterUserScramCredentialsRequest,
        AlterUserScramCredentialsResponse,
        0,
        { deletions: [], upsertions },
      );
      assert.deepEqual(
        (altered.results as Msg[]).map((r) => [r.user, r.errorCode]),
        [["alice", 0], ["bob", 0]],
      );
    } finally {
      adminConn.close();
    }

    // ---- and their ACLs, with kafkajs's admin logged in as admin --------------------------
    const kafka = (user: string) =>
      new Kafka({
        brokers: [b.address],
        clientId: `security-${user}`,
        ssl: { ca: [Deno.readTextFileSync(certs.caPem)] },
        sasl: { mechanism: "scram-sha-512", username: user, password: PASSWORDS[user] },
        logLevel: logLevel.NOTHING,
      });
    const admin = kafka("admin").admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic: "pay-eu" }] }), true);
      const allow = (
        principal: string,
        resourceType: number,
        name: string,
        op: number,
        pt = 3,
      ) => ({
        resourceType,
        resourceName: name,
        resourcePatternType: pt,
        principal,
        host: "*",
        operation: op,
        permissionType: 3, // ALLOW
      });
      await admin.createAcls({
        acl: [
          // alice: WRITE on topics prefixed pay- (PREFIXED = 4), which implies DESCRIBE.
          allow("User:alice", 2, "pay-", 4, 4),
          // and her own groups (GROUP = 3, READ = 3), so that her consumer meets the topic's
          // denial rather than the group's.
          allow("User:alice", 3, "alice-", 3, 4),
          // bob: READ on the topic (LITERAL = 3), but nothing on groups or transactional ids.
          allow("User:bob", 2, "pay-eu", 3),
        ],
      });
      const listed = await admin.describeAcls({
        resourceType: 1, // ANY
        resourcePatternType: 1,
        operation: 1,
        permissionType: 1,
      });
      assert.deepEqual(
        listed.resources.flatMap((r) =>
          r.acls.map((a) =>
            `${r.resourceName}/${r.resourcePatternType} ${a.principal} ${a.operation}`
          )
        ).sort(),
        ["alice-/4 User:alice 3", "pay-/4 User:alice 4", "pay-eu/3 User:bob 3"],
      );
    } finally {
      await admin.disconnect();
    }

    // ---- alice: kcat produce over SASL_SSL succeeds; consuming is TOPIC_AUTHORIZATION_FAILED
    await kcat(
      b.address,
      [...kcatAuth(certs, "alice"), "-P", "-t", "pay-eu", "-p", "0", "-K", ":"],
      {
        stdin: "k1:v1\nk2:v2\n",
      },
    );
    const aliceReads = await run("kcat", [
      "-b",
      b.address,
      ...kcatAuth(certs, "alice"),
      "-C",
      "-t",
      "pay-eu",
      "-p",
      "0",
      "-o",
      "beginning",
      "-e",
    ], { timeoutMs: 60_000 });
    assert.notEqual(aliceReads.code, 0);
    assert.match(
      aliceReads.stderr,
      /Topic pay-eu \[0\] error: .*Broker: Topic authorization failed/,
    );
    assert.equal(decoder.decode(aliceReads.stdout), "");
    const confluent = `
import sys
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
def conf(user, password, **extra):
    c = {"bootstrap.servers": sys.argv[1], "security.protocol": "SASL_SSL",
         "ssl.ca.location": sys.argv[2], "sasl.mechanisms": "SCRAM-SHA-512",
         "sasl.username": user, "sasl.password": password}
    c.update(extra)
    return c
def first_error(c):
    for _ in range(60):
        m = c.poll(1)
        if m is not None and m.error():
            return m.error().name()
        if m is not None:
            return "message " + m.value().decode()
    return "no error"
p = Producer(conf("alice", "alice-secret"))
p.produce("pay-eu", key=b"k3", value=b"v3", partition=0)
print("unflushed", p.flush(30))
c = Consumer(conf("alice", "alice-secret", **{"group.id": "alice-reader",
    "enable.auto.commit": False}))
c.assign([TopicPartition("pay-eu", 0, 0)])
print("alice", first_error(c))
c.close()
g = Consumer(conf("bob", "bob-secret", **{"group.id": "bob-group",
    "auto.offset.reset": "earliest"}))
g.subscribe(["pay-eu"])
print("bob group", first_error(g))
g.close()
t = Producer(conf("bob", "bob-secret", **{"transactional.id": "bob-tx"}))
try:
    t.init_transactions(30)
    print("bob tx initialised")
except KafkaException as e:
    print("bob tx", e.args[0].name())
`;
    const results = await python(confluent, [b.address, certs.caPem], 120_000);
    assert.deepEqual(results.trim().split("\n"), [
      "unflushed 0",
      "alice TOPIC_AUTHORIZATION_FAILED",
      "bob group GROUP_AUTHORIZATION_FAILED",
      "bob tx TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
    ]);

    // ---- the super user reads what alice wrote; bob reads it in assign mode ----------------
    const read = async (user: string) =>
      decoder.decode(
        await kcat(b.address, [
          ...kcatAuth(certs, user),
          "-C",
          "-t",
          "pay-eu",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%k=%s\\n",
        ]),
      );
    assert.equal(await read("admin"), "k1=v1\nk2=v2\nk3=v3\n");
    assert.equal(await read("bob"), "k1=v1\nk2=v2\nk3=v3\n");

    // ---- a wrong password: kcat shows Kafka's message ---------------------------------------
    const wrong = await run("kcat", [
      "-b",
      b.address,
      ...kcatAuth(certs, "alice", "not-alice-secret"),
      "-L",
      "-m",
      "5",
    ], { timeoutMs: 30_000 });
    assert.notEqual(wrong.code, 0);
    assert.match(
      wrong.stderr,
      /SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/,
    );

    // ---- /metrics: logins and denials over the wire, counted exactly ---------------
    const loginsBefore = await samples(b, "tributary_authentications_total");
    const denialsBefore = await samples(b, "tributary_authorization_denials_total");
    assert.ok((loginsBefore.get("SCRAM-SHA-512/failure/false") ?? 0) >= 1);
    assert.ok((denialsBefore.get("TOPIC/READ") ?? 0) >= 1);
    // The clients' coordinator look-ups are what was denied (FindCoordinator: DESCRIBE).
    assert.ok((denialsBefore.get("GROUP/DESCRIBE") ?? 0) >= 1);
    assert.ok((denialsBefore.get("TRANSACTIONAL_ID/DESCRIBE") ?? 0) >= 1);

    const refused = await scramLogin(b, certs, "bob", "wrong");
    refused.c.close();
    assert.equal(refused.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(
      refused.errorMessage,
      "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
    );
    const { c: aliceConn, errorCode: aliceLogin } = await scramLogin(
      b,
      certs,
      "alice",
      PASSWORDS.alice,
    );
    assert.equal(aliceLogin, 0);
    try {
      const fetched = await aliceConn.call(FetchRequest, FetchResponse, 12, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{
          topic: "pay-eu",
          partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }],
        }],
      });
      assert.equal(
        (fetched.responses as Msg[])[0].partitions[0].errorCode,
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      );
    } finally {
      aliceConn.close();
    }
    const { c: bobConn, errorCode: bobLogin } = await scramLogin(b, certs, "bob", PASSWORDS.bob);
    assert.equal(bobLogin, 0);
    try {
      const init = await bobConn.call(InitProducerIdRequest, InitProducerIdResponse, 4, {
        transactionalId: "bob-tx",
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
      });
      assert.equal(init.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    } finally {
      bobConn.close();
    }
    const loginsAfter = await samples(b, "tributary_authentications_total");
    const denialsAfter = await samples(b, "tributary_authorization_denials_total");
    const delta = (after: Map<string, number>, before: Map<string, number>, k: string) =>
      (after.get(k) ?? 0) - (before.get(k) ?? 0);
    assert.deepEqual(
      [
        delta(loginsAfter, loginsBefore, "SCRAM-SHA-512/failure/false"),
        delta(loginsAfter, loginsBefore, "SCRAM-SHA-512/success/false"),
        delta(denialsAfter, denialsBefore, "TOPIC/READ"),
        delta(denialsAfter, denialsBefore, "TRANSACTIONAL_ID/WRITE"),
      ],
      [1, 2, 1, 1],
    );
  } finally {
    await b.stop();
    await certs.remove();
  }
});
