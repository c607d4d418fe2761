/**
 * A TLS listener's `ssl.enabled.protocols`, `ssl.protocol` and `ssl.cipher.suites` take
 * effect (as the listener's own `listener.name.ssl.*` values): openssl s_client with one
 * version or one suite is refused when it is disabled and served when it is enabled, kcat with
 * librdkafka's `ssl.cipher.suites` likewise; unsupported values stop the start naming the
 * setting.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config.ts";
import { kcat, run, testBroker } from "../support/helpers.ts";
import { makeTestCerts, type TestCerts } from "../support/tls_certs.ts";
import { logged, withSslBroker } from "../support/tls_fixtures.ts";
import { until } from "../support/wait.ts";

const decoder = new TextDecoder();

/** What openssl s_client negotiated with the listener on `port` ("TLSv1.3 TLS_AES_…"), or null. */
async function negotiated(port: number, args: string[]): Promise<string | null> {
  const r = await run("/usr/bin/openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    ...args,
  ], { stdin: "", timeoutMs: 30_000 });
  const m = /^New, (TLSv1\.[23]), Cipher is (\S+)/m.exec(decoder.decode(r.stdout));
  return m ? `${m[1]} ${m[2]}` : null;
}

function withCerts(fn: (certs: TestCerts) => Promise<void>): () => Promise<void> {
  return async () => {
    const certs = await makeTestCerts();
    try {
      await fn(certs);
    } finally {
      await certs.remove();
    }
  };
}

Deno.test(
  "tls: ssl.enabled.protocols=TLSv1.3 refuses a TLS 1.2 client and serves a 1.3 one",
  withCerts(async (certs) => {
    await withSslBroker(
      certs,
      { "listener.name.ssl.ssl.enabled.protocols": "TLSv1.3" },
      async ({ ssl }) => {
        assert.equal(await negotiated(ssl, ["-tls1_2"]), null);
        assert.match((await negotiated(ssl, ["-tls1_3"]))!, /^TLSv1\.3 /);
      },
    );
  }),
);

Deno.test(
  "tls: ssl.protocol=TLSv1.2 refuses a TLS 1.3 client and serves a 1.2 one",
  withCerts(async (certs) => {
    await withSslBroker(certs, { "ssl.protocol": "TLSv1.2" }, async ({ ssl }) => {
      assert.equal(await negotiated(ssl, ["-tls1_3"]), null);
      assert.equal(
        await negotiated(ssl, ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"]),
        "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384",
      );
    });
  }),
);

Deno.test(
  "tls: ssl.cipher.suites serves the suites it names and refuses the others",
  withCerts(async (certs) => {
    await withSslBroker(certs, {
      "listener.name.ssl.ssl.cipher.suites":
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256",
    }, async ({ ssl }) => {
      assert.equal(
        await negotiated(ssl, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"]),
        "TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256",
      );
      assert.equal(
        await negotiated(ssl, ["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"]),
        "TLSv1.3 TLS_AES_128_GCM_SHA256",
      );
      const before = logged.length;
      assert.equal(
        await negotiated(ssl, ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"]),
        null,
      );
      assert.equal(
        await negotiated(ssl, ["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"]),
        null,
      );
      await until(
        "the refusals logged",
        () =>
          logged.slice(before).filter((l) =>
            l.includes("the client offers none of the cipher suites ssl.cipher.suites enables")
          ).length === 2,
      );
      // A client preferring a disabled suite it offers with an enabled one is closed once the
      // handshake shows it: no byte goes over a disabled suite.
      const preferring = logged.length;
      await negotiated(ssl, [
        "-tls1_3",
        "-ciphersuites",
        "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
      ]);
      await until(
        "the close logged",
        () =>
          logged.slice(preferring).find((l) =>
            l.includes(
              "the client chose cipher suite TLS_AES_256_GCM_SHA384, which " +
                "ssl.cipher.suites does not enable",
            )
          ),
      );
    });
  }),
);

Deno.test(
  "tls: kcat's ssl.cipher.suites is served when enabled, refused when not (TLS 1.2 only list)",
  withCerts(async (certs) => {
    // Only a TLS 1.2 suite: TLS 1.3 is off, as JSSE has it.
    await withSslBroker(certs, {
      "ssl.cipher.suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    }, async ({ ssl }) => {
      const address = `127.0.0.1:${ssl}`;
      const tls = (cipher: string, timeoutS = 10) => [
        "-X",
        "security.protocol=ssl",
        "-X",
        `ssl.ca.location=${certs.caPem}`,
        "-X",
        `ssl.cipher.suites=${cipher}`,
        "-m",
        String(timeoutS),
      ];
      await kcat(address, [...tls("ECDHE-RSA-AES128-GCM-SHA256"), "-P", "-t", "tls-ciphers"], {
        stdin: "one\ntwo\n",
      });
      const out = await kcat(address, [
        ...tls("ECDHE-RSA-AES128-GCM-SHA256"),
        "-C",
        "-t",
        "tls-ciphers",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%s\n",
      ]);
      assert.equal(decoder.decode(out), "one\ntwo\n");
      await assert.rejects(
        kcat(address, [...tls("ECDHE-RSA-AES256-GCM-SHA384", 2), "-L"], { timeoutMs: 30_000 }),
        /exited [1-9]/,
      );
      assert.equal(await negotiated(ssl, ["-tls1_3"]), null);
    });
  }),
);

Deno.test(
  "tls: unsupported protocols and suites stop the start, naming the setting",
  withCerts(async (certs) => {
    const base = {
      "listeners": "SSL://127.0.0.1:0",
      "inter.broker.listener.name": "SSL",
      "ssl.keystore.type": "PEM",
      "ssl.keystore.location": certs.serverPem,
    };
    const cases: [Record<string, string>, RegExp][] = [
      [
        { "ssl.enabled.protocols": "TLSv1.1,TLSv1.2" },
        /ssl\.enabled\.protocols: listener SSL: protocol 'TLSv1\.1' is not supported/,
      ],
      [{ "ssl.protocol": "SSLv3" }, /ssl\.protocol: listener SSL: 'SSLv3' is not supported/],
      [
        { "listener.name.ssl.ssl.cipher.suites": "TLS_RSA_WITH_AES_128_CBC_SHA" },
        /listener\.name\.ssl\.ssl\.cipher\.suites: listener SSL: cipher suite 'TLS_RSA_WITH_AES_128_CBC_SHA' is not supported/,
      ],
      [
        {
          "ssl.enabled.protocols": "TLSv1.3",
          "ssl.cipher.suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        },
        /ssl\.enabled\.protocols: listener SSL: no TLS version is left to serve/,
      ],
    ];
    for (const [extra, message] of cases) {
      await assert.rejects(testBroker({ config: { ...base, ...extra } }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match(e.message, message);
        return true;
      });
    }
  }),
);
