/**
 * The single `tributary` entry that `deno task compile` builds (src/main.ts), run with exactly
 * the permissions the compile task grants: `--version`, and a broker started by it
 * (`tributary start --dev --storage memory`) round-tripping records produced and consumed by
 * its own client commands. (The compiled binary itself needs Deno's `denort` runtime, which
 * `deno compile` downloads; where that cannot be fetched the entry is what is tested.)
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { decoder, run } from "../support/helpers.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** The --allow-* flags of `deno task compile`: the binary runs with these and no others. */
const PERMISSIONS = denoJson.tasks.compile.split(" ").filter((a) => a.startsWith("--allow-"));

function tributary(args: string[], stdin?: string) {
  return run(Deno.execPath(), ["run", "--quiet", ...PERMISSIONS, MAIN, ...args], {
    stdin,
    timeoutMs: 60_000,
  });
}

Deno.test("tributary --version names the package version", async () => {
  assert.deepEqual(PERMISSIONS, [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
  ]);
  const r = await tributary(["--version"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(decoder.decode(r.stdout), `tributary ${denoJson.version}\n`);
  const s = await tributary(["start", "--help"]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(decoder.decode(s.stdout), /--storage ENGINE/);
});

Deno.test("tributary start --storage memory serves tributary produce and consume", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...PERMISSIONS,
      MAIN,
      "start",
      "--dev",
      "--storage",
      "memory",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
    ],
    env: { TRIBUTARY_LOG_LEVEL: "info" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    let m: RegExpExecArray | null = null;
    while (!(m = /listening on 127\.0\.0\.1:(\d+)/.exec(buf))) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`broker exited: ${buf}`);
      buf += value;
    }
    assert.match(buf, /storage in memory/);
    const address = `127.0.0.1:${m[1]}`;
    const produced = await tributary(
      ["produce", "--bootstrap-server", address, "--topic", "bin", "--property", "parse.key=true"],
      "k1\tone\nk2\ttwo\nk3\tthree\n",
    );
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await tributary([
      "consume",
      "--bootstrap-server",
      address,
      "--topic",
      "bin",
      "--from-beginning",
      "--max-messages",
      "3",
      "--property",
      "print.key=true",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(decoder.decode(consumed.stdout), "k1\tone\nk2\ttwo\nk3\tthree\n");
  } finally {
    child.kill("SIGTERM");
    while (!(await reader.read()).done) { /* drain */ }
  }
  assert.equal((await child.status).code, 0);
});
