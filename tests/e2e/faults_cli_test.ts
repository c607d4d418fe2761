/**
 * Fault injection and workers on the CLI: asked for explicitly with several workers, the
 * broker refuses to start, naming the setting; dev mode with several workers starts with it
 * off and says so.
 */
import assert from "node:assert/strict";
import { BrokerProcess, run } from "../support/helpers.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

Deno.test("CLI: tributary.fault.injection.enable=true with --workers 2 refuses to start", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-test-" });
  try {
    const r = await run(Deno.execPath(), [
      "run",
      "-A",
      CLI,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--workers",
      "2",
      "--set",
      "tributary.fault.injection.enable=true",
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /tributary: tributary\.fault\.injection\.enable: fault injection needs --workers 1/,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("CLI: --dev with --workers 2 starts with fault injection off and says so", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-test-" });
  const b = await BrokerProcess.start(dataDir, ["--dev", "--workers", "2"]);
  try {
    assert.ok(
      b.lines.some((l) => l.includes("dev mode: fault injection is off with 2 workers")),
      b.lines.join("\n"),
    );
  } finally {
    assert.equal(await b.kill("SIGTERM"), 0);
    await Deno.remove(dataDir, { recursive: true });
  }
});
