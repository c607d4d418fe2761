/**
 * Start-up problems a person can act on: the CLI exits non-zero with one line naming what is
 * wrong (the port and address in use, the data dir that is a file, the address not on this
 * host) and no stack trace; a misspelt key gets "did you mean"; a relative --data-dir under
 * `deno task start` is relative to the shell's directory.
 */
import assert from "node:assert/strict";
import { BrokerProcess, kcat, run } from "../support/helpers.ts";
import { until } from "../support/wait.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

function cli(args: string[]) {
  return run(Deno.execPath(), ["run", "-A", CLI, ...args], {
    timeoutMs: 30_000,
    env: { TRIBUTARY_LOG_LEVEL: "info" },
  });
}

/** No stack frame ("    at fn (file:...)") in what a person reads. */
function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, stderr);
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "tributary-start-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

for (const workers of ["1", "2"]) {
  Deno.test(`cli (${workers} worker(s)): a port in use is named with its address`, async () => {
    await withDir(async (dir) => {
      const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      try {
        const port = (taken.addr as Deno.NetAddr).port;
        const r = await cli([
          "--host",
          "127.0.0.1",
          "--port",
          String(port),
          "--data-dir",
          `${dir}/data`,
          "--workers",
          workers,
        ]);
        assert.notEqual(r.code, 0);
        assert.ok(
          r.stderr.includes(`port ${port} on 127.0.0.1 is already in use`),
          r.stderr,
        );
        assertNoStack(r.stderr);
      } finally {
        taken.close();
      }
    });
  });
}

Deno.test("cli: a data dir that is a file is named", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/not-a-dir`;
    await Deno.writeTextFile(file, "x");
    const r = await cli(["--host", "127.0.0.1", "--port", "0", "--data-dir", file]);
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.includes(`data dir ${file} is a file, not a directory`), r.stderr);
    assertNoStack(r.stderr);
    assert.equal(await Deno.readTextFile(file), "x");
  });
});

Deno.test("cli: a bind address that is not on this host is named", async () => {
  await withDir(async (dir) => {
    // 192.0.2.0/24 is TEST-NET-1: documentation only, never a local address.
    for (const workers of ["1", "2"]) {
      const r = await cli([
        "--host",
        "192.0.2.1",
        "--port",
        "0",
        "--data-dir",
        `${dir}/data`,
        "--workers",
        workers,
      ]);
      assert.notEqual(r.code, 0);
      assert.ok(r.stderr.includes("192.0.2.1 is not an address of this host"), r.stderr);
      assertNoStack(r.stderr);
    }
  });
});

Deno.test("cli: a misspelt --set key is warned about with a suggestion", async () => {
  await withDir(async (dir) => {
    const b = await BrokerProcess.start(dir, ["--set", "num.partition=3"]);
    try {
      await until(
        () => `a did-you-mean warning:\n${b.lines.join("\n")}`,
        () =>
          b.lines.find((l) =>
            l.includes("unknown config 'num.partition' ignored (did you mean num.partitions?)")
          ),
      );
    } finally {
      assert.equal(await b.kill("SIGTERM"), 0);
    }
  });
});

function withoutInitCwd(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  return env;
}

Deno.test("deno task start: a relative --data-dir is relative to the shell's directory", async () => {
  await withDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "--quiet",
        "--config",
        CONFIG,
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--workers",
        "1",
        "--data-dir",
        "rel-data",
      ],
      cwd: dir,
      // As from a shell: no INIT_CWD inherited from an outer `deno task` (which keeps it).
      clearEnv: true,
      env: { ...withoutInitCwd(), TRIBUTARY_LOG_LEVEL: "info" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      while (!/listening on/.test(buf)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`broker exited: ${buf}`);
        buf += value;
      }
      assert.ok(buf.includes(`data dir ${dir}/rel-data,`), buf);
      assert.ok((await Deno.stat(`${dir}/rel-data`)).isDirectory);
    } finally {
      child.kill("SIGTERM");
      while (!(await reader.read()).done) { /* drain */ }
      await child.status;
    }
  });
});

/** Whether this machine has IPv6 loopback (::1) configured. */
function hasIpv6Loopback(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("cli: the default bind address serves clients on ::1 and 127.0.0.1", async () => {
  await withDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "--port", "0", "--workers", "2", "--data-dir", `${dir}/data`],
      env: { TRIBUTARY_LOG_LEVEL: "info" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      let m: RegExpExecArray | null = null;
      while (!(m = /listening on (\S+):(\d+) /.exec(buf))) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`broker exited: ${buf}`);
        buf += value;
      }
      const [, host, port] = m;
      const v4 = new TextDecoder().decode(await kcat(`127.0.0.1:${port}`, ["-L"]));
      assert.match(v4, /1 brokers:/);
      if (hasIpv6Loopback()) {
        assert.equal(host, "::", buf);
        const v6 = new TextDecoder().decode(await kcat(`[::1]:${port}`, ["-L"]));
        assert.match(v6, /1 brokers:/);
        assert.match(v6, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${port}`));
      } else {
        // No IPv6 here: the IPv4 wildcard, as before.
        assert.equal(host, "0.0.0.0", buf);
      }
    } finally {
      child.kill("SIGTERM");
      while (!(await reader.read()).done) { /* drain */ }
      await child.status;
    }
  });
});

Deno.test("cli: a start-up summary and a periodic status line at info level", async () => {
  await withDir(async (dir) => {
    const first = await BrokerProcess.start(dir, ["--set", "num.partitions=3"]);
    await kcat(first.address, ["-P", "-t", "summary", "-K:"], { stdin: "k1:v1\nk2:v2\nk3:v3\n" });
    assert.equal(await first.kill("SIGTERM"), 0);

    const b = await BrokerProcess.start(dir, [], { TRIBUTARY_STATUS_INTERVAL_MS: "100" });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
    try {
      const summary = b.lines.find((l) => l.includes("started in "));
      assert.ok(summary, b.lines.join("\n"));
      // One topic of ours (internal topics are not counted as topics, their partitions are).
      assert.match(summary, /started in \d+ ms: 1 topic\(s\), \d+ partition\(s\), /);
      const recovered = /, ([\d.]+) (B|KiB|MiB) recovered from /.exec(summary);
      assert.ok(recovered && Number(recovered[1]) > 0, summary);
      // The held connection shows in a status line (from whichever worker took it).
      await until(
        () => `a status line with 1 connection:\n${b.lines.join("\n")}`,
        () => b.lines.find((l) => /status: 1 connection\(s\), 1 topic\(s\), /.test(l)),
      );
      await kcat(b.address, ["-P", "-t", "summary"], { stdin: "more\n" });
      await until(
        () => `a status line with bytes in:\n${b.lines.join("\n")}`,
        () => b.lines.find((l) => /status: .* in [1-9][\d.]* (B|KiB|MiB)\/s/.test(l)),
      );
    } finally {
      conn.close();
      assert.equal(await b.kill("SIGTERM"), 0);
    }
  });
});
