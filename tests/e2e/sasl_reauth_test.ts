/**
 * KIP-368 with a real client: node-rdkafka (librdkafka, which re-authenticates at 90% of the
 * session lifetime the broker gives in SaslAuthenticate v1+) produces and consumes on a
 * SASL_PLAINTEXT listener with `connections.max.reauth.ms` of 2 s, across several session
 * lifetimes: the producer logs in with PLAIN from a users file, the consumer with a
 * SCRAM-SHA-256 user created by AlterUserScramCredentials. Every record produced is consumed
 * exactly, each connection re-authenticates in place (the broker counts re-authentications and
 * accepts no new connection once they begin), and a raw client that never re-authenticates is
 * closed on its first request after its lifetime. (The request-by-request rules are in
 * tests/e2e/sasl_wire_test.ts.)
 */
import assert from "node:assert/strict";
import {
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  MetadataRequest,
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
} from "../../protocol/messages/mod.ts";
import { renderPrometheus } from "../../src/admin/prometheus.ts";
import { hashPassword } from "../../src/security/password_hash.ts";
import { saltedPassword, SCRAM_SHA_256 } from "../../src/security/sasl/scram_formatter.ts";
import { testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { createTopic, logEndOffsets } from "../support/wire_client.ts";
import { until } from "../support/wait.ts";

const dir = new URL("../clients/node_rdkafka/", import.meta.url).pathname;
const addon = `${dir}node_modules/node-rdkafka/build/Release/node-librdkafka.node`;
const LIFETIME_MS = 2000;
const METADATA = {
  topics: [],
  allowAutoTopicCreation: false,
  includeTopicAuthorizedOperations: false,
};

interface Delivered {
  key: string;
  partition: number;
  offset: number;
}
interface Consumed extends Delivered {
  value: string;
}

/** A child's output as it arrives (`text`), and when it ends (`done`). */
function readAll(stream: ReadableStream<Uint8Array>): { text: string; done: Promise<void> } {
  const r = { text: "", done: Promise.resolve() };
  r.done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) r.text += chunk;
  })();
  return r;
}

Deno.test("SASL re-authentication: node-rdkafka produces and consumes across session lifetimes on the same connections", async () => {
  try {
    await Deno.stat(addon);
  } catch {
    assert.fail(`node-rdkafka is not built (${addon} missing): run .ci/run, or npm ci in ${dir}`);
  }
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-sasl-reauth-" });
  const users = `${dataDir}.users.properties`;
  Deno.writeTextFileSync(users, `alice = ${await hashPassword("alice-secret", 10000)}\n`);
  const b = await testBroker({
    dataDir,
    config: {
      "listeners": "SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
      "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,PLAINTEXT:PLAINTEXT",
      "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
      "sasl.plain.users.file": users,
      "connections.max.reauth.ms": String(LIFETIME_MS),
    },
  });
  let child: Deno.ChildProcess | undefined;
  try {
    const [sasl, plain] = b.broker.listeners;
    const address = `127.0.0.1:${sasl.port}`;
    const topic = "reauth";
    await createTopic(plain.port, topic, 2);
    // The consumer's SCRAM user, made through the broker's API.
    const salt = crypto.getRandomValues(new Uint8Array(32));
    const altered = await RawClient.once(
      plain.port,
      AlterUserScramCredentialsRequest,
      AlterUserScramCredentialsResponse,
      0,
      {
        deletions: [],
        upsertions: [{
          name: "sam",
          mechanism: 1,
          iterations: 4096,
          salt,
          saltedPassword: await saltedPassword(SCRAM_SHA_256, "sam-secret", salt, 4096),
        }],
      },
    );
    assert.deepEqual(
      altered.results.map((r: { user: string; errorCode: number }) => [r.user, r.errorCode]),
      [["sam", 0]],
    );

    // A raw client that logs in (SaslAuthenticate v2) and never re-authenticates.
    const raw = await RawClient.connect(sasl.port);
    const hs = await raw.call(SaslHandshakeRequest, SaslHandshakeResponse, 1, {
      mechanism: "PLAIN",
    });
    assert.equal(hs.errorCode, 0);
    const login = await raw.call(SaslAuthenticateRequest, SaslAuthenticateResponse, 2, {
      authBytes: new TextEncoder().encode("\0alice\0alice-secret"),
    });
    assert.equal(login.errorCode, 0);
    assert.equal(login.sessionLifetimeMs, LIFETIME_MS);
    const rawExpiresAt = performance.now() + LIFETIME_MS;

    const m = b.broker.metrics;
    const count = (key: string) => m.authentications.get(key) ?? 0;
    const fresh = () => count("PLAIN:success:0") + count("SCRAM-SHA-256:success:0");
    const reauths = () => count("PLAIN:success:1") + count("SCRAM-SHA-256:success:1");
    const failures = () =>
      count("PLAIN:failure:0") + count("PLAIN:failure:1") +
      count("SCRAM-SHA-256:failure:0") + count("SCRAM-SHA-256:failure:1");
    const before = { fresh: fresh(), connections: m.connectionsTotal };

    child = new Deno.Command("node", {
      args: [
        `${dir}reauth.js`,
        address,
        topic,
        "g-reauth",
        "PLAIN:alice:alice-secret",
        "SCRAM-SHA-256:sam:sam-secret",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = readAll(child.stdout);
    const stderr = readAll(child.stderr);
    // A client that gives up (the broker closed it, or refused a re-authentication) ends
    // the waits below at once, with its error.
    let exited: Deno.CommandStatus | undefined;
    child.status.then((s) => (exited = s));
    const clientFailed = () =>
      exited !== undefined && `node-rdkafka exited with ${exited.code}: ${stderr.text}`;
    const running = () => assert.ok(!clientFailed(), clientFailed() || "");

    // Re-authentications begin once the clients' first sessions near their end; from then on
    // (and once both clients are connected) no connection is new: a broker close would make
    // librdkafka reconnect and log in afresh.
    await until(
      "both clients connected",
      () => clientFailed() || stdout.text.startsWith("connected\n"),
    );
    running();
    await until("the clients' first re-authentication", () => clientFailed() || reauths() > 0);
    running();
    const settled = { fresh: fresh(), connections: m.connectionsTotal };
    const clientConnections = settled.connections - before.connections;
    assert.ok(clientConnections >= 2, `${clientConnections} client connections`);
    assert.equal(settled.fresh - before.fresh, clientConnections, "one login per connection");
    // Several lifetimes: each client connection still open (librdkafka closes its bootstrap
    // connections itself once it knows the broker; the raw client's is not the clients')
    // re-authenticated three times on average.
    const lasting = m.connectionsOpen - 1;
    assert.ok(lasting >= 2, `${lasting} lasting client connections`);
    await until(
      () => `${reauths()} re-authentications on ${lasting} connections`,
      () => clientFailed() || reauths() >= 3 * lasting,
    );
    running();
    assert.equal(m.connectionsTotal, settled.connections, "no new connection");
    assert.equal(fresh(), settled.fresh, "no fresh login");
    assert.equal(failures(), 0);

    // The raw client's session is long over: its next request closes the connection.
    assert.ok(performance.now() > rawExpiresAt);
    await raw.send(MetadataRequest, 12, METADATA);
    await raw.closedByBroker();

    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode("stop\n"));
    await w.close();
    const status = await child.status;
    child = undefined;
    await Promise.all([stdout.done, stderr.done]);
    assert.equal(status.code, 0, `node-rdkafka failed: ${stderr.text}`);
    const out = JSON.parse(stdout.text.slice("connected\n".length)) as {
      librdkafka: string;
      delivered: Delivered[];
      consumed: Consumed[];
    };

    // Produced throughout: every record delivered once, offsets 0..n-1 per partition.
    const n = out.delivered.length;
    assert.ok(n > 0);
    // Still no new connection and no failure (checked before this test opens any more).
    assert.equal(m.connectionsTotal, settled.connections, "no new connection");
    assert.equal(failures(), 0);
    const keys = Array.from({ length: n }, (_, i) => `k${i}`);
    assert.deepEqual(out.delivered.map((d) => d.key).sort(), [...keys].sort());
    const ends: number[] = [];
    for (let p = 0; p < 2; p++) {
      const offsets = out.delivered.filter((d) => d.partition === p).map((d) => d.offset)
        .sort((x, y) => x - y);
      assert.deepEqual(offsets, offsets.map((_, i) => i), `partition ${p} offsets`);
      ends.push(offsets.length);
    }
    assert.deepEqual(await logEndOffsets(plain.port, topic, [0, 1]), ends);
    // Consumed exactly what was delivered, where it was delivered.
    const where = new Map(out.delivered.map((d) => [d.key, `${d.partition}@${d.offset}`]));
    assert.deepEqual(
      out.consumed.map((c) => `${c.key}=${c.value} ${c.partition}@${c.offset}`).sort(),
      keys.map((k) => `${k}=v${k.slice(1)} ${where.get(k)}`).sort(),
    );

    // /metrics shows the re-authentications of both mechanisms.
    const text = await renderPrometheus(b.broker);
    for (const mech of ["PLAIN", "SCRAM-SHA-256"]) {
      const re = new RegExp(
        `tributary_authentications_total\\{mechanism="${mech}",result="success",reauth="true"\\} (\\d+)`,
      );
      const found = text.match(re);
      assert.ok(found && Number(found[1]) >= 2, `${mech} re-authentications in /metrics`);
    }
  } finally {
    if (child) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status.catch(() => {});
    }
    await b.stop();
    await Deno.remove(users).catch(() => {});
  }
});
