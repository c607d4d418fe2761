/**
 * SIGTERM while the broker is still starting (recovering its logs): start-up finishes, the
 * broker closes what it opened, and the process exits 0 instead of dying by the signal (143).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { LogManager } from "../../storage/log_manager.ts";
import { CLEAN_SHUTDOWN_RECORD } from "../../storage/clean_shutdown_record.ts";
import { waitFor } from "../support/wait.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

for (const workers of [1, 2]) {
  Deno.test(
    `SIGTERM during start-up (${workers} worker(s)) exits 0 after closing`,
    async () => {
      const dataDir = await Deno.makeTempDir({ prefix: "tributary-signal-" });
      try {
        // Enough partitions that recovery takes a while: without the clean-shutdown record
        // every one is listed and checked (an empty one recorded clean opens in a few µs).
        const lm = await LogManager.open(dataDir);
        await lm.createTopic("many", 1000);
        await lm.close();
        Deno.removeSync(`${dataDir}/meta/${CLEAN_SHUTDOWN_RECORD}`);
        const child = new Deno.Command(Deno.execPath(), {
          args: [
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
            String(workers),
          ],
          env: { TRIBUTARY_LOG_LEVEL: "info" },
          stdout: "null",
          stderr: "piped",
        }).spawn();
        const stderr = new Response(child.stderr).text();
        // The lock is taken once the signal handlers are in place, before recovery starts.
        await waitFor("the data-dir lock", () => existsSync(`${dataDir}/.lock`), { intervalMs: 1 });
        child.kill("SIGTERM");
        const status = await child.status;
        const text = await stderr;
        assert.equal(status.code, 0, text);
        assert.match(text, /SIGTERM received while starting: stopping once start-up is done/);
        assert.match(text, /INFO .*stopped/);
        assert.doesNotMatch(text, /listening on/);
      } finally {
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  );
}
