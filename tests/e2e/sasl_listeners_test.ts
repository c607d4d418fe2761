/**
 * SASL beyond one plaintext listener: SASL_SSL (TLS, then SCRAM-SHA-512) with kcat, SASL with
 * Deno workers (credentials altered on the controller log in on every worker), and the SASL
 * settings a broker refuses to start with (GSSAPI, unknown mechanisms, a bad users file).
 */
import assert from "node:assert/strict";
import {
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
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
import { Kafka, logLevel } from "kafkajs";
import { BrokerProcess, decoder, kcat, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { makeTestCerts } from "../support/tls_certs.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;
const PLAIN_JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required " +
  'user_admin="admin-secret";';

const scram512 = (user: string, password: string) => [
  "-X",
  "sasl.mechanisms=SCRAM-SHA-512",
  "-X",
  `sasl.username=${user}`,
  "-X",
  `sasl.password=${password}`,
];

Deno.test("SASL_SSL: kcat and kafkajs with SCRAM-SHA-512 over TLS produce and consume", async () => {
  const certs = await makeTestCerts();
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-sasl-ssl-" });
  await FileScramCredentialStore.inDataDir(dataDir).alter([{
    op: "upsert",
    user: "sam",
    mechanism: SCRAM_SHA_512,
    credential: await credentialFromPassword(SCRAM_SHA_512, "sam-secret", 4096),
  }]);
  const b = await testBroker({
    dataDir,
    config: {
      "listeners": "SASL_SSL://127.0.0.1:0",
      "sasl.enabled.mechanisms": "SCRAM-SHA-512",
      "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
      "listener.name.sasl_ssl.ssl.keystore.location": certs.serverPem,
    },
  });
  try {
    const tls = ["-X", "security.protocol=SASL_SSL", "-X", `ssl.ca.location=${certs.caPem}`];
    const auth = [...tls, ...scram512("sam", "sam-secret")];
    await kcat(b.address, [...auth, "-P", "-t", "sasl-ssl", "-K", ":"], { stdin: "a:1\nb:2\n" });
    const out = await kcat(b.address, [
      ...auth,
      "-C",
      "-t",
      "sasl-ssl",
      "-e",
      "-o",
      "beginning",
      "-f",
      "%k=%s\\n",
    ]);
    assert.equal(decoder.decode(out), "a=1\nb=2\n");
    // kafkajs, SCRAM-SHA-512 over TLS.
    const kafka = new Kafka({
      clientId: "sasl-ssl-test",
      brokers: [b.address],
      ssl: { ca: [await Deno.readTextFile(certs.caPem)] },
      sasl: { mechanism: "scram-sha-512", username: "sam", password: "sam-secret" },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: "sasl-ssl-kj", messages: [{ key: "x", value: "9" }] });
    await producer.disconnect();
    const kj = await kcat(b.address, [
      ...auth,
      "-C",
      "-t",
      "sasl-ssl-kj",
      "-e",
      "-o",
      "beginning",
      "-f",
      "%k=%s\\n",
    ]);
    assert.equal(decoder.decode(kj), "x=9\n");
    const wrong = await run("kcat", [
      "-b",
      b.address,
      ...tls,
      ...scram512("sam", "nope"),
      "-L",
      "-m",
      "5",
    ], { timeoutMs: 30_000 });
    assert.notEqual(wrong.code, 0);
    assert.match(
      wrong.stderr,
      /SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/,
    );
  } finally {
    await b.stop();
    await certs.remove();
  }
});

Deno.test("SASL with workers: a credential altered on the controller logs in on every worker", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-sasl-workers-" });
  const b = await BrokerProcess.start(dataDir, [
    "--workers",
    "2",
    "--set",
    "listeners=SASL_PLAINTEXT://127.0.0.1:0",
    "--set",
    "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512",
    "--set",
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${PLAIN_JAAS}`,
  ]);
  try {
    const c = await RawClient.connect(b.port);
    await c.call(SaslHandshakeRequest, SaslHandshakeResponse, 1, { mechanism: "PLAIN" });
    const login = await c.call(SaslAuthenticateRequest, SaslAuthenticateResponse, 2, {
      authBytes: new TextEncoder().encode("\0admin\0admin-secret"),
    });
    assert.equal(login.errorCode, 0);
    const salt = crypto.getRandomValues(new Uint8Array(24));
    const altered = await c.call(
      AlterUserScramCredentialsRequest,
      AlterUserScramCredentialsResponse,
      0,
      {
        deletions: [],
        upsertions: [{
          name: "wendy",
          mechanism: 2,
          iterations: 4096,
          salt,
          saltedPassword: await saltedPassword(SCRAM_SHA_512, "wendy-secret", salt, 4096),
        }],
      },
    );
    c.close();
    assert.deepEqual(altered.results, [{ user: "wendy", errorCode: 0, errorMessage: null }]);
    const auth = ["-X", "security.protocol=SASL_PLAINTEXT", ...scram512("wendy", "wendy-secret")];
    // Several clients, so connections land on both workers (the kernel spreads them).
    for (let i = 0; i < 4; i++) {
      await kcat(b.address, [...auth, "-P", "-t", "sasl-workers", "-p", "0"], {
        stdin: `m${i}\n`,
      });
    }
    const out = await kcat(b.address, [
      ...auth,
      "-C",
      "-t",
      "sasl-workers",
      "-p",
      "0",
      "-e",
      "-o",
      "beginning",
    ]);
    assert.equal(decoder.decode(out), "m0\nm1\nm2\nm3\n");
  } finally {
    await b.kill("SIGTERM");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

for (
  const [settings, message] of [
    [
      ["listeners=SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=GSSAPI"],
      "listener SASL_PLAINTEXT: GSSAPI (Kerberos) is not supported here",
    ],
    [
      ["listeners=SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-1"],
      "listener SASL_PLAINTEXT: unknown SASL mechanism 'SCRAM-SHA-1'",
    ],
    [
      [
        "listeners=SASL_PLAINTEXT://127.0.0.1:0",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config=" +
        "org.apache.kafka.common.security.plain.PlainLoginModule required user_a=b",
      ],
      "listener SASL_PLAINTEXT: sasl.jaas.config must end with ';'",
    ],
  ] as const
) {
  Deno.test(`SASL: the CLI refuses to start: ${message}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tributary-sasl-start-" });
    try {
      const r = await run(Deno.execPath(), [
        "run",
        "-A",
        CLI,
        "--data-dir",
        `${dir}/data`,
        ...settings.flatMap((s) => ["--set", s]),
      ], { timeoutMs: 30_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.doesNotMatch(r.stderr, /^\s+at /m, r.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
}

Deno.test("SASL: a users file with a plain-text password is refused at start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tributary-sasl-start-" });
  try {
    await Deno.writeTextFile(`${dir}/users`, "alice = alice-secret\n");
    const r = await run(Deno.execPath(), [
      "run",
      "-A",
      CLI,
      "--data-dir",
      `${dir}/data`,
      "--set",
      "listeners=SASL_PLAINTEXT://127.0.0.1:0",
      "--set",
      `sasl.plain.users.file=${dir}/users`,
    ], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes("the password of user 'alice' is not a pbkdf2-sha512"), r.stderr);
    assert.ok(!r.stderr.includes("alice-secret"), r.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
