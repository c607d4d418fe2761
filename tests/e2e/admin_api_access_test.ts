/**
 * Who can reach the admin HTTP API: loopback only unless an address is given, a warning when
 * it serves other interfaces without a token, and the token (`--admin-token` or the
 * `tributary.admin.api.token` setting) required as `Authorization: Bearer <token>`.
 */
import assert from "node:assert/strict";
import { BrokerProcess, testBroker } from "../support/helpers.ts";

/** This machine's first IPv4 address that is not loopback. */
function externalAddress(): string {
  const a = Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  );
  assert.ok(a, "the test needs a network interface other than loopback");
  return a.address;
}

Deno.test("admin API binds to loopback by default: another interface's address is refused", async () => {
  const b = await testBroker({ adminPort: 0 });
  try {
    assert.equal(b.broker.admin!.hostname, "127.0.0.1");
    const ok = await fetch(`http://127.0.0.1:${b.adminPort}/healthz`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const other = externalAddress();
    await assert.rejects(
      () => fetch(`http://${other}:${b.adminPort}/healthz`),
      (e: Error) => /refused|connect/i.test(String(e.message) + String(e.cause ?? "")),
    );
  } finally {
    await b.stop();
  }
});

Deno.test("admin API token from tributary.admin.api.token: 401 without it, 200 with it", async () => {
  const b = await testBroker({ adminPort: 0, config: { "tributary.admin.api.token": "s3cret" } });
  try {
    const url = `${b.adminUrl}/metrics`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    await none.body?.cancel();
    const wrong = await fetch(url, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const right = await fetch(url, { headers: { authorization: "Bearer s3cret" } });
    assert.equal(right.status, 200);
    const text = await right.text();
    assert.match(text, /# TYPE tributary_quota_throttle_time_ms_total counter/);
  } finally {
    await b.stop();
  }
});

Deno.test("serving a non-loopback admin address without a token warns at start", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-admin-access-" });
  const p = await BrokerProcess.start(dataDir, [
    "--workers",
    "1",
    "--admin-port",
    "0",
    "--admin-host",
    "0.0.0.0",
  ]);
  try {
    assert.ok(
      p.lines.some((l) =>
        /WARN .*admin API serves 0\.0\.0\.0, not only loopback, without a token/.test(l)
      ),
      p.lines.join("\n"),
    );
  } finally {
    await p.kill("SIGTERM");
  }
  const q = await BrokerProcess.start(dataDir, [
    "--workers",
    "1",
    "--admin-port",
    "0",
    "--admin-host",
    "0.0.0.0",
    "--admin-token",
    "t",
  ]);
  try {
    // The warning would come before the "listening on" line the start waited for.
    assert.equal(q.lines.some((l) => /not only loopback/.test(l)), false);
  } finally {
    await q.kill("SIGTERM");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
