/**
 * The `tributary` tool on a SASL_PLAINTEXT listener, logged in with Kafka tools'
 * `--command-config` properties (PLAIN and SCRAM-SHA-512); a wrong password is the broker's
 * SASL_AUTHENTICATION_FAILED, a protocol the tool does not speak a usage error.
 */
import assert from "node:assert/strict";
import { FileScramCredentialStore } from "../../src/security/scram_credential_store.ts";
import { credentialFromPassword, SCRAM_SHA_512 } from "../../src/security/sasl/scram_formatter.ts";
import { testBroker } from "../support/helpers.ts";
import { bs, ok, tool } from "../support/tributary_tool.ts";

const JAAS = (module: string, user: string, password: string) =>
  `sasl.jaas.config=org.apache.kafka.common.security.${module} required ` +
  `username="${user}" password="${password}";\n`;

Deno.test("tributary tool: --command-config logs in with PLAIN and SCRAM-SHA-512", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-tool-sasl-" });
  await FileScramCredentialStore.inDataDir(dataDir).alter([{
    op: "upsert",
    user: "sam",
    mechanism: SCRAM_SHA_512,
    credential: await credentialFromPassword(SCRAM_SHA_512, "sam-secret", 4096),
  }]);
  const b = await testBroker({
    dataDir,
    config: {
      "listeners": "SASL_PLAINTEXT://127.0.0.1:0",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config":
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "tributary-tool-props-" });
  try {
    const write = async (name: string, text: string) => {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      return `${dir}/${name}`;
    };
    const plain = await write(
      "plain.properties",
      "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n" +
        JAAS("plain.PlainLoginModule", "alice", "alice-secret"),
    );
    const scram = await write(
      "scram.properties",
      "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n" +
        JAAS("scram.ScramLoginModule", "sam", "sam-secret"),
    );
    await ok(["topic", "create", ...bs(b.address), "--command-config", plain, "--topic", "tt"]);
    await ok(["produce", ...bs(b.address), "--command-config", scram, "--topic", "tt"], "a\nb\n");
    const out = await ok([
      "consume",
      ...bs(b.address),
      "--command-config",
      plain,
      "--topic",
      "tt",
      "--from-beginning",
      "--max-messages",
      "2",
    ]);
    assert.equal(out, "a\nb\n");
    const wrong = await tool([
      "topic",
      "list",
      ...bs(b.address),
      "--command-config",
      await write(
        "wrong.properties",
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n" +
          JAAS("scram.ScramLoginModule", "sam", "nope"),
      ),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.err,
      /SASL_AUTHENTICATION_FAILED: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/,
    );
    const ssl = await tool([
      "topic",
      "list",
      ...bs(b.address),
      "--command-config",
      await write("ssl.properties", "security.protocol=SASL_SSL\n"),
    ]);
    assert.equal(ssl.code, 2);
    assert.match(ssl.err, /security.protocol SASL_SSL is not supported here/);
  } finally {
    await b.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
