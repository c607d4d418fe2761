/**
 * Connection-level limits Kafka enforces: connections.max.idle.ms closes idle connections,
 * max.connections.per.ip closes a connection beyond an address's limit, max.connections holds
 * new connections in the backlog until one closes, and failed accepts are logged once per
 * interval with a count.
 */
import assert from "node:assert/strict";
import { ApiVersionsRequest, ApiVersionsResponse } from "../../protocol/messages/mod.ts";
import { ConnectionQuotas } from "../../src/connection_quotas.ts";
import { log } from "../../src/log.ts";
import { RawClient } from "../support/raw_client.ts";
import { testBroker } from "../support/helpers.ts";
import { waitFor } from "../support/wait.ts";

/** ApiVersions v2 (header v0 both ways); its error code. */
async function apiVersions(c: RawClient): Promise<number> {
  const r = await c.call(ApiVersionsRequest, ApiVersionsResponse, 2, {});
  return r.errorCode;
}

/** Resolves with the bytes read before the broker closed `conn` (its close event). */
async function closedByBroker(conn: Deno.TcpConn): Promise<number> {
  const buf = new Uint8Array(1024);
  let got = 0;
  while (true) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return got;
    got += n;
  }
}

Deno.test(
  "connections.max.idle.ms closes an idle connection; an active one stays",
  async () => {
    const b = await testBroker({ config: { "connections.max.idle.ms": 300 } });
    try {
      const idle = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
      const active = await RawClient.connect(b.port);
      const idleClosed = closedByBroker(idle);
      // The active connection keeps sending across several idle periods; each is answered.
      let rounds = 0;
      let idleDone = false;
      idleClosed.then(() => idleDone = true);
      while (!idleDone || rounds < 10) {
        assert.equal(await apiVersions(active), 0);
        rounds++;
        await new Promise((r) => setTimeout(r, 60));
      }
      assert.equal(await idleClosed, 0, "the idle connection got no bytes, only a close");
      assert.equal(await apiVersions(active), 0);
      active.close();
      idle.close();
    } finally {
      await b.stop();
    }
  },
);

Deno.test("max.connections.per.ip closes connections beyond the limit", async () => {
  const b = await testBroker({ config: { "max.connections.per.ip": 2 } });
  try {
    const one = await RawClient.connect(b.port);
    const two = await RawClient.connect(b.port);
    assert.equal(await apiVersions(one), 0);
    assert.equal(await apiVersions(two), 0);
    const third = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
    assert.equal(await closedByBroker(third), 0);
    third.close();
    one.close();
    await waitFor("the closed connections to be let go", () => b.broker.connections.size <= 1, {
      intervalMs: 5,
    });
    const again = await RawClient.connect(b.port);
    assert.equal(await apiVersions(again), 0);
    again.close();
    two.close();
  } finally {
    await b.stop();
  }
});

Deno.test(
  "max.connections: a connection beyond it is served once another closes",
  async () => {
    const b = await testBroker({ config: { "max.connections": 2 } });
    try {
      const one = await RawClient.connect(b.port);
      const two = await RawClient.connect(b.port);
      assert.equal(await apiVersions(one), 0);
      assert.equal(await apiVersions(two), 0);
      const third = await RawClient.connect(b.port); // in the backlog, not accepted
      let answered = false;
      const answer = apiVersions(third).then((code) => {
        answered = true;
        return code;
      });
      assert.equal(await apiVersions(two), 0); // the broker is serving meanwhile
      assert.equal(answered, false);
      assert.equal(b.broker.connections.size, 2);
      one.close();
      assert.equal(await answer, 0);
      third.close();
      two.close();
    } finally {
      await b.stop();
    }
  },
);

Deno.test("accept failures back off and are logged once per interval with a count", () => {
  const lines: string[] = [];
  const original = log.error;
  log.error = (m: string) => lines.push(m);
  try {
    const q = new ConnectionQuotas(10, 10);
    const waits = Array.from({ length: 1000 }, () => q.acceptFailed("Too many open files"));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /accept failed: Too many open files; backing off/);
    assert.deepEqual(waits.slice(0, 7), [20, 40, 80, 160, 320, 640, 1000]);
    assert.equal(waits[999], 1000);
    assert.equal(q.acceptFailures, 1000);
  } finally {
    log.error = original;
  }
});

Deno.test(
  "at the descriptor limit accepts back off: one log line, and service resumes",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "tributary-emfile-" });
    const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
    // A low RLIMIT_NOFILE for the broker alone: `ulimit -n` in the shell that execs it.
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        'ulimit -n 128 && exec "$0" "$@"',
        Deno.execPath(),
        "run",
        "-A",
        cli,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        dir,
        "--workers",
        "1",
      ],
      env: { TRIBUTARY_LOG_LEVEL: "info" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const lines: string[] = [];
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let port = 0;
    let text = "";
    const drained = (async () => {
      while (true) {
        const r = await reader.read();
        if (r.done) break;
        text += r.value;
        const m = /listening on [^:]+:(\d+)/.exec(text);
        if (m && port === 0) port = Number(m[1]);
      }
    })();
    const conns: Deno.TcpConn[] = [];
    try {
      await waitFor("the listening line", () => {
        assert.ok(!text.includes("error:"), text);
        return port !== 0;
      });
      // Far more connections than descriptors: the kernel completes them (backlog); the
      // broker's accepts fail with EMFILE once its descriptors are gone.
      for (let i = 0; i < 300; i++) {
        conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
      await waitFor("an accept failure", () => /accept failed/.test(text));
      // Let it keep failing a while: backoff, not a line per failure (a rate over a window,
      // so this one waits on the clock).
      await new Promise((r) => setTimeout(r, 1500));
      for (const c of conns) c.close();
      conns.length = 0;
      // Descriptors freed: a new connection is served.
      const c = await RawClient.connect(port);
      assert.equal(await apiVersions(c), 0);
      c.close();
      lines.push(...text.split("\n"));
      const failures = lines.filter((l) => /accept failed/.test(l));
      assert.ok(failures.length >= 1 && failures.length <= 2, failures.join("\n"));
      assert.match(failures[0], /ERROR .*accept failed: .*backing off/);
    } finally {
      for (const c of conns) c.close();
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await child.status;
      await drained.catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
