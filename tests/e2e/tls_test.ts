/**
 * TLS listeners (SSL) beside a plaintext one, with certificates made by openssl in the test:
 * kcat, confluent-kafka and kafka-python produce and consume over SSL; client certificates
 * give the principal (`ssl.client.auth`, `ssl.principal.mapping.rules`); each listener's
 * Metadata names its own port; a plaintext client on the TLS port and a TLS client on the
 * plaintext port are closed with a log line saying so; the certificate is reloaded without a
 * restart when its file changes or AlterConfigs names another; bad TLS settings stop the start.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  MetadataRequest,
  MetadataResponse,
} from "../../protocol/messages/mod.ts";
import { ConfigError } from "../../src/config.ts";
import { parseProperties } from "../../src/properties.ts";
import { setLogSink } from "../../src/log.ts";
import { BrokerProcess, kcat, python, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import {
  CLIENT_EXT,
  makeTestCerts,
  SERVER_EXT,
  signedCert,
  type TestCerts,
} from "../support/tls_certs.ts";
import { until } from "../support/wait.ts";

const decoder = new TextDecoder();

/** Log lines of the in-process broker, as they are written. */
const logged: string[] = [];
setLogSink((level, msg) => logged.push(`${level} ${msg}`));

function sslConfig(certs: TestCerts, extra: Record<string, string> = {}) {
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

async function withSslBroker(
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

async function metadataBrokers(c: RawClient): Promise<string> {
  const md = await c.call(MetadataRequest, MetadataResponse, 12, {
    topics: [],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  return md.brokers.map((b: { host: string; port: number }) => `${b.host}:${b.port}`).join(",");
}

Deno.test("tls: kcat and confluent-kafka produce and consume over SSL", async () => {
  const certs = await makeTestCerts();
  try {
    await withSslBroker(certs, {}, async ({ ssl }) => {
      const address = `127.0.0.1:${ssl}`;
      const tlsArgs = ["-X", "security.protocol=ssl", "-X", `ssl.ca.location=${certs.caPem}`];
      await kcat(address, [...tlsArgs, "-P", "-t", "tls-kcat", "-K", ":"], {
        stdin: "k1:one\nk2:two\nk3:three\n",
      });
      const out = await kcat(address, [
        ...tlsArgs,
        "-C",
        "-t",
        "tls-kcat",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%k=%s@%o\n",
      ]);
      assert.equal(decoder.decode(out), "k1=one@0\nk2=two@1\nk3=three@2\n");

      const got = JSON.parse(
        await python(
          `
import json, sys
from confluent_kafka import Consumer, Producer, TopicPartition
addr, ca = sys.argv[1], sys.argv[2]
conf = {"bootstrap.servers": addr, "security.protocol": "SSL", "ssl.ca.location": ca}
p = Producer(dict(conf, acks="all"))
for i in range(5):
    p.produce("tls-confluent", key="k%d" % i, value="v%d" % i)
left = p.flush(30)
c = Consumer(dict(conf, **{"group.id": "g", "enable.partition.eof": True}))
c.assign([TopicPartition("tls-confluent", 0, 0)])
got = []
while True:
    m = c.poll(10)
    if m is None or m.error():
        break
    got.append([m.offset(), m.key().decode(), m.value().decode()])
c.close()
print(json.dumps({"left": left, "got": got}))
`,
          [address, certs.caPem],
        ),
      );
      assert.deepEqual(got, {
        left: 0,
        got: [[0, "k0", "v0"], [1, "k1", "v1"], [2, "k2", "v2"], [3, "k3", "v3"], [4, "k4", "v4"]],
      });
    });
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: kafka-python with a client certificate; the principal is its subject", async () => {
  const certs = await makeTestCerts();
  try {
    const alice = await signedCert(certs, "alice", "/C=US/O=Example/CN=alice", CLIENT_EXT);
    await withSslBroker(certs, { "ssl.client.auth": "required" }, async ({ ssl }, b) => {
      const out = JSON.parse(
        await python(
          `
import json, sys
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
addr, ca, cert, key = sys.argv[1:5]
conf = dict(bootstrap_servers=addr, security_protocol="SSL", ssl_cafile=ca,
            ssl_certfile=cert, ssl_keyfile=key, ssl_check_hostname=True)
p = KafkaProducer(acks="all", **conf)
for i in range(3):
    p.send("tls-kp", key=b"k%d" % i, value=b"v%d" % i).get(timeout=30)
p.close()
c = KafkaConsumer(consumer_timeout_ms=5000, **conf)
tp = TopicPartition("tls-kp", 0)
c.assign([tp])
c.seek_to_beginning(tp)
got = []
for m in c:
    got.append([m.offset, m.key.decode(), m.value.decode()])
    if len(got) == 3:
        break
c.close()
print(json.dumps(got))
`,
          [`127.0.0.1:${ssl}`, certs.caPem, alice.cert, alice.key],
        ),
      );
      assert.deepEqual(out, [[0, "k0", "v0"], [1, "k1", "v1"], [2, "k2", "v2"]]);

      // The connection's principal is the certificate's subject, RFC 2253 (Kafka's DEFAULT).
      const c = await RawClient.connectTls(ssl, {
        caCerts: [await Deno.readTextFile(certs.caPem)],
        cert: await Deno.readTextFile(alice.cert),
        key: await Deno.readTextFile(alice.key),
      });
      try {
        await metadataBrokers(c);
        assert.deepEqual([...b.broker.connections].map((x) => x.session), [{
          listenerName: "SSL",
          securityProtocol: "SSL",
          principal: "User:CN=alice,O=Example,C=US",
        }]);
      } finally {
        c.close();
      }
      // Without a certificate, ssl.client.auth=required refuses the connection.
      const before = logged.length;
      const anon = await RawClient.connectTls(ssl, {
        caCerts: [await Deno.readTextFile(certs.caPem)],
      }).catch((e) => e);
      if (anon instanceof RawClient) {
        await assert.rejects(() => metadataBrokers(anon));
        anon.close();
      }
      await until(
        "the refused handshake logged",
        () => logged.slice(before).find((l) => /TLS listener SSL: TLS handshake failed/.test(l)),
      );
    });
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: ssl.principal.mapping.rules and ssl.client.auth=requested", async () => {
  const certs = await makeTestCerts();
  try {
    const bob = await signedCert(certs, "bob", "/O=Example/OU=Ops/CN=Bob", CLIENT_EXT);
    await withSslBroker(
      certs,
      {
        "ssl.client.auth": "requested",
        "ssl.principal.mapping.rules": "RULE:^CN=([^,]+),OU=Ops,.*$/ops-$1/L,DEFAULT",
      },
      async ({ ssl }, b) => {
        const ca = [await Deno.readTextFile(certs.caPem)];
        const withCert = await RawClient.connectTls(ssl, {
          caCerts: ca,
          cert: await Deno.readTextFile(bob.cert),
          key: await Deno.readTextFile(bob.key),
        });
        const without = await RawClient.connectTls(ssl, { caCerts: ca });
        try {
          assert.equal(await metadataBrokers(withCert), `127.0.0.1:${ssl}`);
          assert.equal(await metadataBrokers(without), `127.0.0.1:${ssl}`);
          const principals = [...b.broker.connections].map((x) => x.session.principal).sort();
          assert.deepEqual(principals, ["User:ANONYMOUS", "User:ops-bob"]);
        } finally {
          withCert.close();
          without.close();
        }
        // A certificate from another CA is refused even when only requested.
        const other = await makeTestCerts("Other CA");
        try {
          const mallory = await signedCert(other, "mallory", "/CN=mallory", CLIENT_EXT);
          const before = logged.length;
          const c = await RawClient.connectTls(ssl, {
            caCerts: ca,
            cert: await Deno.readTextFile(mallory.cert),
            key: await Deno.readTextFile(mallory.key),
          }).catch((e) => e);
          if (c instanceof RawClient) {
            await assert.rejects(() => metadataBrokers(c));
            c.close();
          }
          await until(
            "the refused certificate logged",
            () =>
              logged.slice(before).find((l) => /TLS listener SSL: TLS handshake failed/.test(l)),
          );
        } finally {
          await other.remove();
        }
      },
    );
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: Metadata over each listener names that listener's port", async () => {
  const certs = await makeTestCerts();
  try {
    await withSslBroker(certs, {}, async ({ plain, ssl }) => {
      const p = await RawClient.connect(plain);
      const s = await RawClient.connectTls(ssl, {
        caCerts: [await Deno.readTextFile(certs.caPem)],
      });
      try {
        assert.equal(await metadataBrokers(p), `127.0.0.1:${plain}`);
        assert.equal(await metadataBrokers(s), `127.0.0.1:${ssl}`);
      } finally {
        p.close();
        s.close();
      }
    });
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: a plaintext client on the TLS port, and TLS on the plaintext port, are closed and logged", async () => {
  const certs = await makeTestCerts();
  try {
    await withSslBroker(certs, {}, async ({ plain, ssl }) => {
      let before = logged.length;
      const c = await RawClient.connect(ssl);
      await assert.rejects(() => metadataBrokers(c));
      c.close();
      await until(
        "the plaintext client on the TLS port logged",
        () =>
          logged.slice(before).find((l) =>
            l.startsWith(
              "warn closing connection from 127.0.0.1 on TLS listener SSL: a plaintext Kafka request",
            )
          ),
      );
      before = logged.length;
      const r = await run("kcat", [
        "-b",
        `127.0.0.1:${plain}`,
        "-X",
        "security.protocol=ssl",
        "-X",
        `ssl.ca.location=${certs.caPem}`,
        "-L",
        "-m",
        "3",
      ], { timeoutMs: 30_000 });
      assert.notEqual(r.code, 0);
      const line = await until(
        "the TLS client on the plaintext port logged",
        () => logged.slice(before).find((l) => l.includes("TLS handshake on a plaintext listener")),
      );
      assert.match(
        line,
        /^warn closing connection \d+ from 127\.0\.0\.1: TLS handshake on a plaintext listener \(PLAINTEXT, PLAINTEXT\)/,
      );
      assert.ok(!logged.slice(before).some((l) => l.includes("socket.request.max.bytes")));
    });
  } finally {
    await certs.remove();
  }
});

/** The subject CN of the certificate the TLS listener on `port` presents, by openssl s_client. */
async function servedCertificate(port: number): Promise<string> {
  const r = await run("/usr/bin/openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-showcerts",
  ], {
    stdin: "",
    timeoutMs: 30_000,
  });
  const m = /subject=.*CN\s*=\s*([^,\n]+)/.exec(decoder.decode(r.stdout));
  return m ? m[1].trim() : `(none: ${r.stderr})`;
}

Deno.test("tls: a replaced keystore file is served to new connections; established ones keep working", async () => {
  const certs = await makeTestCerts();
  try {
    await withSslBroker(certs, {}, async ({ ssl }) => {
      assert.equal(await servedCertificate(ssl), "localhost");
      const ca = [await Deno.readTextFile(certs.caPem)];
      const established = await RawClient.connectTls(ssl, { caCerts: ca });
      try {
        // A new server certificate (new CN) signed by the same CA, written over the keystore.
        const next = await signedCert(certs, "server2", "/CN=renewed", SERVER_EXT);
        const before = logged.length;
        await Deno.writeTextFile(certs.serverPem, await Deno.readTextFile(next.pem));
        await until(
          "the reload logged",
          () => logged.slice(before).find((l) => l.includes("listener SSL: reloaded the TLS key")),
        );
        assert.equal(await servedCertificate(ssl), "renewed");
        assert.equal(await metadataBrokers(established), `127.0.0.1:${ssl}`);
        // A broken file keeps the certificate in use.
        const broken = logged.length;
        await Deno.writeTextFile(certs.serverPem, "not a pem file\n");
        await until(
          "the failed reload logged",
          () => logged.slice(broken).find((l) => l.includes("keeping the previous certificate")),
        );
        assert.equal(await servedCertificate(ssl), "renewed");
      } finally {
        established.close();
      }
    });
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: AlterConfigs of listener.name.ssl.ssl.keystore.location reloads; a bad one is refused", async () => {
  const certs = await makeTestCerts();
  try {
    await withSslBroker(certs, {}, async ({ plain, ssl }) => {
      const next = await signedCert(certs, "server3", "/CN=altered", SERVER_EXT);
      const alter = (value: string) =>
        RawClient.once(plain, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, 1, {
          resources: [{
            resourceType: 4,
            resourceName: "1",
            configs: [{
              name: "listener.name.ssl.ssl.keystore.location",
              configOperation: 0,
              value,
            }],
          }],
          validateOnly: false,
        });
      const bad = await alter(`${certs.dir}/missing.pem`);
      assert.equal(bad.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
      assert.match(bad.responses[0].errorMessage, /cannot read .*missing\.pem/);
      assert.equal(await servedCertificate(ssl), "localhost");
      const ok = await alter(next.pem);
      assert.equal(ok.responses[0].errorCode, 0, ok.responses[0].errorMessage);
      assert.equal(await servedCertificate(ssl), "altered");
    });
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: bad TLS settings stop the start, naming the setting and the listener", async () => {
  const certs = await makeTestCerts();
  try {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { "listeners": "SSL://127.0.0.1:0", "security.inter.broker.protocol": "SSL" },
        /listener SSL \(SSL\) needs a key and certificate: set ssl\.keystore\.type=PEM/,
      ],
      [
        {
          "listeners": "SSL://127.0.0.1:0",
          "inter.broker.listener.name": "SSL",
          "ssl.keystore.type": "JKS",
          "ssl.keystore.location": certs.serverPem,
        },
        /ssl\.keystore\.type: listener SSL: JKS stores are not supported; set ssl\.keystore\.type=PEM/,
      ],
      [
        {
          "listeners": "SSL://127.0.0.1:0",
          "inter.broker.listener.name": "SSL",
          "listener.name.ssl.ssl.keystore.type": "PKCS12",
          "ssl.keystore.location": certs.serverPem,
        },
        /listener\.name\.ssl\.ssl\.keystore\.type: listener SSL: PKCS12 stores are not supported/,
      ],
      [
        {
          "listeners": "SSL://127.0.0.1:0",
          "inter.broker.listener.name": "SSL",
          "ssl.keystore.type": "PEM",
          "ssl.keystore.location": certs.serverPem,
          "ssl.client.auth": "required",
        },
        /ssl\.client\.auth=required needs a truststore/,
      ],
    ];
    for (const [config, message] of cases) {
      await assert.rejects(testBroker({ config }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match(e.message, message);
        return true;
      });
    }
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: an encrypted private key is read with ssl.key.password, which is never shown", async () => {
  const certs = await makeTestCerts();
  try {
    const encrypted = `${certs.dir}/encrypted.pem`;
    const r = await run("/usr/bin/openssl", [
      "pkcs8",
      "-topk8",
      "-in",
      certs.serverKey,
      "-passout",
      "pass:s3cret-pw",
      "-v2",
      "aes-256-cbc",
    ], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    await Deno.writeTextFile(
      encrypted,
      decoder.decode(r.stdout) + await Deno.readTextFile(certs.serverCert),
    );
    const config = {
      "listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
      "ssl.keystore.type": "PEM",
      "ssl.keystore.location": encrypted,
    };
    await assert.rejects(
      testBroker({ config: { ...config, "ssl.key.password": "wrong-pw" } }),
      /cannot decrypt the private key with ssl\.key\.password/,
    );
    await assert.rejects(
      testBroker({ config }),
      /the private key is encrypted and ssl\.key\.password is not set/,
    );
    const before = logged.length;
    const b = await testBroker({ config: { ...config, "ssl.key.password": "s3cret-pw" } });
    try {
      const ssl = b.broker.listeners[1].port;
      assert.equal(await servedCertificate(ssl), "localhost");
      assert.ok(!logged.slice(before).some((l) => l.includes("s3cret-pw")));
    } finally {
      await b.stop();
    }
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: with two workers (the TLS port shared), kcat over SSL, and AlterConfigs reloads every worker", async () => {
  const certs = await makeTestCerts();
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-tls-workers-" });
  try {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const sslPort = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const b = await BrokerProcess.start(dataDir, [
      "--workers",
      "2",
      "--set",
      `listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:${sslPort}`,
      "--set",
      "ssl.keystore.type=PEM",
      "--set",
      `ssl.keystore.location=${certs.serverPem}`,
    ]);
    try {
      await until(
        "the SSL listener announced",
        () => b.lines.some((l) => l.includes(`listener SSL (SSL) on 127.0.0.1:${sslPort}`)),
      );
      const address = `127.0.0.1:${sslPort}`;
      const tlsArgs = ["-X", "security.protocol=ssl", "-X", `ssl.ca.location=${certs.caPem}`];
      const records = Array.from({ length: 50 }, (_, i) => `k${i}:v${i}`);
      await kcat(address, [...tlsArgs, "-P", "-t", "tls-workers", "-K", ":"], {
        stdin: records.join("\n") + "\n",
      });
      // AlterConfigs reaches both workers' listeners (connections land on either).
      const next = await signedCert(certs, "server-w", "/CN=workers-renewed", SERVER_EXT);
      const altered = await RawClient.once(
        b.port,
        IncrementalAlterConfigsRequest,
        IncrementalAlterConfigsResponse,
        1,
        {
          resources: [{
            resourceType: 4,
            resourceName: "1",
            configs: [{
              name: "listener.name.ssl.ssl.keystore.location",
              configOperation: 0,
              value: next.pem,
            }],
          }],
          validateOnly: false,
        },
      );
      assert.equal(altered.responses[0].errorCode, 0, altered.responses[0].errorMessage);
      await until("every worker serving the new certificate", async () => {
        for (let n = 0; n < 6; n++) {
          if (await servedCertificate(sslPort) !== "workers-renewed") return false;
        }
        return true;
      });
      // Several consumers: their connections land on both workers.
      for (let n = 0; n < 4; n++) {
        const out = await kcat(address, [
          ...tlsArgs,
          "-C",
          "-t",
          "tls-workers",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%k:%s\n",
        ]);
        assert.equal(decoder.decode(out), records.join("\n") + "\n");
      }
    } finally {
      await b.kill("SIGKILL");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    await certs.remove();
  }
});

Deno.test("tls: inline PEM key and chain; secrets are sensitive in DescribeConfigs", async () => {
  const certs = await makeTestCerts();
  try {
    const key = await Deno.readTextFile(certs.serverKey);
    const chain = await Deno.readTextFile(certs.serverCert);
    const ca = await Deno.readTextFile(certs.caPem);
    const before = logged.length;
    const b = await testBroker({
      config: {
        "listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
        "listener.name.ssl.ssl.keystore.type": "PEM",
        "listener.name.ssl.ssl.keystore.key": key,
        "listener.name.ssl.ssl.keystore.certificate.chain": chain,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.certificates": ca,
      },
    });
    try {
      const ssl = b.broker.listeners[1].port;
      const s = await RawClient.connectTls(ssl, { caCerts: [ca] });
      try {
        assert.equal(await metadataBrokers(s), `127.0.0.1:${ssl}`);
      } finally {
        s.close();
      }
      const r = await RawClient.once(b.port, DescribeConfigsRequest, DescribeConfigsResponse, 4, {
        resources: [{ resourceType: 4, resourceName: "1", configurationKeys: null }],
        includeSynonyms: true,
        includeDocumentation: false,
      });
      const entries = new Map(
        (r.results[0].configs as { name: string; value: string | null; isSensitive: boolean }[])
          .map((e) => [e.name, [e.value, e.isSensitive]]),
      );
      assert.deepEqual(
        [
          "listener.name.ssl.ssl.keystore.key",
          "listener.name.ssl.ssl.keystore.certificate.chain",
          "ssl.truststore.certificates",
          "ssl.keystore.key",
          "ssl.key.password",
          "listener.name.ssl.ssl.keystore.type",
          "ssl.client.auth",
        ].map((k) => [k, entries.get(k)]),
        [
          ["listener.name.ssl.ssl.keystore.key", [null, true]],
          ["listener.name.ssl.ssl.keystore.certificate.chain", [null, true]],
          ["ssl.truststore.certificates", [null, true]],
          ["ssl.keystore.key", [null, true]],
          ["ssl.key.password", [null, true]],
          ["listener.name.ssl.ssl.keystore.type", ["PEM", false]],
          ["ssl.client.auth", ["none", false]],
        ],
      );
      const body = key.split("\n")[1];
      assert.ok(!logged.slice(before).some((l) => l.includes(body)));
      assert.ok(!JSON.stringify(r).includes(body));
    } finally {
      await b.stop();
    }
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: kafkajs produces and consumes in a group over SSL", async () => {
  const certs = await makeTestCerts();
  try {
    await withSslBroker(certs, {}, async ({ ssl }) => {
      const kafka = new Kafka({
        clientId: "tls-kafkajs",
        brokers: [`localhost:${ssl}`],
        ssl: { ca: [await Deno.readTextFile(certs.caPem)] },
        logLevel: logLevel.NOTHING,
      });
      const p = kafka.producer();
      await p.connect();
      await p.send({
        topic: "tls-kafkajs",
        messages: [{ key: "a", value: "1" }, { key: "b", value: "2" }, { key: "c", value: "3" }],
      });
      await p.disconnect();
      const c = kafka.consumer({ groupId: "tls-group" });
      await c.connect();
      try {
        await c.subscribe({ topic: "tls-kafkajs", fromBeginning: true });
        const got: string[] = [];
        await new Promise<void>((resolve) => {
          c.run({
            eachMessage: ({ message }) => {
              got.push(`${message.key}=${message.value}@${message.offset}`);
              if (got.length === 3) resolve();
              return Promise.resolve();
            },
          });
        });
        assert.deepEqual(got, ["a=1@0", "b=2@1", "c=3@2"]);
      } finally {
        await c.disconnect();
      }
    });
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: broken and cut-off handshakes are logged and closed; the listener keeps serving", async () => {
  const certs = await makeTestCerts();
  try {
    await withSslBroker(certs, {}, async ({ ssl }) => {
      const garbage = crypto.getRandomValues(new Uint8Array(300));
      garbage.set([0x16, 0x03, 0x01]);
      const cases: [Uint8Array, boolean, RegExp][] = [
        // A record that is no ClientHello: the TLS library's error, answered by a close.
        [garbage, false, /TLS listener SSL: TLS handshake failed: received corrupt message/],
        [new Uint8Array([0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5]), false, /TLS handshake failed/],
        // A ClientHello cut off by the client's close.
        [new Uint8Array([0x16, 3, 1, 0, 200, 1]), true, /closed during the TLS handshake/],
      ];
      for (const [bytes, closeFirst, message] of cases) {
        const before = logged.length;
        const c = await Deno.connect({ hostname: "127.0.0.1", port: ssl });
        await c.write(bytes);
        if (closeFirst) c.close();
        else {
          // The broker closes: the read ends (EOF or a reset).
          const n = await c.read(new Uint8Array(1024)).catch(() => null);
          assert.ok(n === null || n > 0);
          c.close();
        }
        await until(`${message} logged`, () => logged.slice(before).find((l) => message.test(l)));
      }
      const s = await RawClient.connectTls(ssl, {
        caCerts: [await Deno.readTextFile(certs.caPem)],
      });
      try {
        assert.equal(await metadataBrokers(s), `127.0.0.1:${ssl}`);
      } finally {
        s.close();
      }
    });
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: inline PEM in a properties file, continued over lines as Kafka's docs show", async () => {
  const certs = await makeTestCerts();
  try {
    // Each PEM line ends with a backslash: java.util.Properties joins them without line breaks.
    const continued = (pem: string) =>
      pem.trim().split("\n").map((l) => `    ${l}`).join(" \\\n").trimStart();
    const props = [
      "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
      "ssl.keystore.type=PEM",
      `ssl.keystore.key=${continued(await Deno.readTextFile(certs.serverKey))}`,
      `ssl.keystore.certificate.chain=${continued(await Deno.readTextFile(certs.serverCert))}`,
    ].join("\n");
    const config = Object.fromEntries(parseProperties(props));
    assert.ok(!String(config["ssl.keystore.key"]).includes("\n"));
    const b = await testBroker({ config });
    try {
      assert.equal(await servedCertificate(b.broker.listeners[1].port), "localhost");
    } finally {
      await b.stop();
    }
  } finally {
    await certs.remove();
  }
});

Deno.test("tls: a connection silent in its handshake is closed with the broker, no timer left", async () => {
  const certs = await makeTestCerts();
  let silent: Deno.TcpConn | undefined;
  try {
    const b = await testBroker({ config: sslConfig(certs) });
    try {
      const ssl = b.broker.listeners[1].port;
      silent = await Deno.connect({ hostname: "127.0.0.1", port: ssl });
      // Accepted in order: once a later connection is answered, the silent one is accepted.
      const s = await RawClient.connectTls(ssl, {
        caCerts: [await Deno.readTextFile(certs.caPem)],
      });
      try {
        assert.equal(await metadataBrokers(s), `127.0.0.1:${ssl}`);
      } finally {
        s.close();
      }
    } finally {
      await b.stop();
    }
    // The broker closed its end: the silent client reads EOF (or a reset).
    const n = await silent.read(new Uint8Array(16)).catch(() => null);
    assert.equal(n, null);
  } finally {
    silent?.close();
    await certs.remove();
  }
});
