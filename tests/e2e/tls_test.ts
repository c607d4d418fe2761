/**
 * TLS listeners (SSL) beside a plaintext one, with certificates made by openssl in the test:
 * kcat, confluent-kafka, kafka-python and kafkajs produce and consume over SSL; client
 * certificates give the principal (`ssl.client.auth`, `ssl.principal.mapping.rules`); each
 * listener's Metadata names its own port; a plaintext client on the TLS port, a TLS client on the
 * plaintext port and broken handshakes are closed with a log line saying so.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { kcat, python, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { CLIENT_EXT, makeTestCerts, signedCert } from "../support/tls_certs.ts";
import { logged, metadataBrokers, sslConfig, withSslBroker } from "../support/tls_fixtures.ts";
import { until } from "../support/wait.ts";

const decoder = new TextDecoder();

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
      // A TLS alert (what a TLS client may send as it gives up) is told apart as well.
      const alert = await Deno.connect({ hostname: "127.0.0.1", port: plain });
      await alert.write(new Uint8Array([0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00]));
      assert.equal(await alert.read(new Uint8Array(16)).catch(() => null), null);
      alert.close();
      await until(
        "the TLS alert on the plaintext port logged",
        () => logged.slice(before).find((l) => l.includes("TLS record on a plaintext listener")),
      );
      assert.ok(!logged.slice(before).some((l) => l.includes("socket.request.max.bytes")));
    });
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
      // A handshake record announcing 65535 bytes, more than TLS allows: refused at once (a
      // length within bounds would have the library wait for the rest, as it should).
      const garbage = crypto.getRandomValues(new Uint8Array(300));
      garbage.set([0x16, 0x03, 0x01, 0xff, 0xff]);
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
