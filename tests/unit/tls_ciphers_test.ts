import assert from "node:assert/strict";
import { ConfigError } from "../../src/config.ts";
import {
  offeredSuites,
  readTlsPolicy,
  suiteEnabled,
  type TlsPolicySource,
} from "../../src/security/tls_ciphers.ts";

function source(values: Record<string, unknown>): TlsPolicySource {
  return {
    value: (k) => values[k] ?? null,
    nameOf: (k) => `listener.name.ssl.${k}`,
    listener: "SSL",
  };
}

Deno.test("tls policy: Kafka's defaults serve TLS 1.2 and 1.3 with every suite", () => {
  const p = readTlsPolicy(source({ "ssl.enabled.protocols": "TLSv1.2,TLSv1.3" }));
  assert.deepEqual([p.minVersion, p.maxVersion, p.suites], ["TLSv1.2", "TLSv1.3", null]);
  assert.ok(suiteEnabled(p, "TLS_AES_256_GCM_SHA384"));
  const tls = readTlsPolicy(source({ "ssl.protocol": "TLS" }));
  assert.equal(tls.maxVersion, "TLSv1.3");
});

Deno.test("tls policy: ssl.protocol caps, suites choose the versions, names are IANA's", () => {
  const capped = readTlsPolicy(source({ "ssl.protocol": "TLSv1.2" }));
  assert.deepEqual([capped.minVersion, capped.maxVersion], ["TLSv1.2", "TLSv1.2"]);
  const only13 = readTlsPolicy(source({ "ssl.cipher.suites": ["tls_aes_128_gcm_sha256"] }));
  assert.deepEqual([only13.minVersion, only13.maxVersion], ["TLSv1.3", "TLSv1.3"]);
  assert.deepEqual([...only13.suites!], [0x1301]);
  assert.ok(suiteEnabled(only13, "TLS_AES_128_GCM_SHA256"));
  assert.ok(!suiteEnabled(only13, "TLS_AES_256_GCM_SHA384"));
  assert.ok(!suiteEnabled(only13, undefined));
  assert.throws(
    () => readTlsPolicy(source({ "ssl.cipher.suites": "TLS_RSA_WITH_AES_128_CBC_SHA" })),
    (e: unknown) =>
      e instanceof ConfigError && e.message.startsWith("listener.name.ssl.ssl.cipher.suites:"),
  );
  assert.throws(
    () =>
      readTlsPolicy(
        source({ "ssl.protocol": "TLSv1.2", "ssl.cipher.suites": "TLS_AES_128_GCM_SHA256" }),
      ),
    /no TLS version is left to serve/,
  );
});

/** A ClientHello record offering `suites`, as one TLS record. */
function clientHello(suites: number[]): Uint8Array {
  const body = [
    0x03,
    0x03,
    ...new Array(32).fill(7), // random
    0, // session id
    (suites.length * 2) >> 8,
    (suites.length * 2) & 0xff,
    ...suites.flatMap((s) => [s >> 8, s & 0xff]),
    1,
    0, // compression: null
    0,
    0, // no extensions
  ];
  const hs = [1, 0, body.length >> 8, body.length & 0xff, ...body];
  return new Uint8Array([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff, ...hs]);
}

Deno.test("ClientHello suites are read; any cut-off prefix reads as unknown, never throws", () => {
  const hello = clientHello([0x1302, 0x1301, 0xc02f]);
  assert.deepEqual(offeredSuites(hello), [0x1302, 0x1301, 0xc02f]);
  for (let n = 0; n < hello.length; n++) assert.equal(offeredSuites(hello.subarray(0, n)), null);
  const notHello = hello.slice();
  notHello[5] = 2;
  assert.equal(offeredSuites(notHello), null);
  assert.equal(
    offeredSuites(new Uint8Array([0x16, 0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff])),
    null,
  );
});

Deno.test("tls policy: an OpenSSL suite name is refused with its IANA name", () => {
  assert.throws(
    () => readTlsPolicy(source({ "ssl.cipher.suites": "ECDHE-RSA-AES128-GCM-SHA256" })),
    /that is OpenSSL's name: use TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256/,
  );
});
