/**
 * TLS listener settings and reload: the keystore replaced (written over or renamed) or changed by
 * AlterConfigs is served to new connections without a restart, also on every worker; inline PEM
 * (also continued over lines in a properties file), encrypted keys, bad settings that stop the
 * start, and secrets shown as sensitive in DescribeConfigs.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from "../../protocol/messages/mod.ts";
import { ConfigError } from "../../src/config.ts";
import { parseProperties } from "../../src/properties.ts";
import { BrokerProcess, kcat, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { makeTestCerts, SERVER_EXT, signedCert } from "../support/tls_certs.ts";
import {
  logged,
  metadataBrokers,
  servedCertificate,
  withSslBroker,
} from "../support/tls_fixtures.ts";
import { until } from "../support/wait.ts";

const decoder = new TextDecoder();

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
        // Replaced by a rename (as certificate tools swap files) is seen too.
        const third = await signedCert(certs, "server4", "/CN=renamed", SERVER_EXT);
        const renamed = logged.length;
        await Deno.rename(third.pem, certs.serverPem);
        await until(
          "the reload after the rename logged",
          () => logged.slice(renamed).find((l) => l.includes("listener SSL: reloaded the TLS key")),
        );
        assert.equal(await servedCertificate(ssl), "renamed");
        // A broken file keeps the certificate in use.
        const broken = logged.length;
        await Deno.writeTextFile(certs.serverPem, "not a pem file\n");
        await until(
          "the failed reload logged",
          () => logged.slice(broken).find((l) => l.includes("keeping the previous certificate")),
        );
        assert.equal(await servedCertificate(ssl), "renamed");
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
