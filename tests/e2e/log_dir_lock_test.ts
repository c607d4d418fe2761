/**
 * One broker per data directory: `<dataDir>/.lock` is held while a broker runs (by the
 * supervisor with workers), a second broker on the directory, in this process or another,
 * refuses to start with a message naming the lock file, and whatever start-up removes from
 * the directory is logged with the reason.
 */
import assert from "node:assert/strict";
import { LogDirLockedError } from "../../storage/log_dir_lock.ts";
import { BrokerProcess, decoder, kcat, run, testBroker } from "../support/helpers.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

function cli(dataDir: string, workers: number) {
  return run(Deno.execPath(), [
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
  ]);
}

Deno.test("a second broker in the same process on the same data dir is refused", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-lock-" });
  try {
    const first = await testBroker({ dataDir, keepDir: true });
    await assert.rejects(
      () => testBroker({ dataDir, keepDir: true }),
      (e: unknown) => {
        assert.ok(e instanceof LogDirLockedError);
        assert.equal(e.lockPath, `${dataDir}/.lock`);
        assert.match(e.message, /another broker is using the data directory/);
        return true;
      },
    );
    await first.close();
    const again = await testBroker({ dataDir, keepDir: true }); // released on close
    await again.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test(
  "a second broker process on a data dir in use exits non-zero; the first's records stay",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-lock-" });
    try {
      const first = await BrokerProcess.start(dataDir); // two workers: the supervisor locks
      try {
        const values = Array.from({ length: 100 }, (_, i) => `first-${i}`);
        await kcat(first.address, ["-P", "-t", "held", "-p", "0"], {
          stdin: values.join("\n") + "\n",
        });
        for (const workers of [1, 2]) {
          const r = await cli(dataDir, workers);
          assert.equal(r.code, 2, r.stderr);
          assert.match(
            r.stderr,
            new RegExp(
              `failed to acquire lock on ${dataDir}/\\.lock: another broker is using the data ` +
                `directory`,
            ),
          );
          assert.doesNotMatch(r.stderr, /\n\s+at /); // a message, not a stack trace
        }
        // An in-process broker is refused by the other process's lock too.
        await assert.rejects(() => testBroker({ dataDir, keepDir: true }), LogDirLockedError);
        const out = decoder.decode(
          await kcat(first.address, ["-C", "-t", "held", "-p", "0", "-e", "-f", "%o %s\n"]),
        );
        assert.deepEqual(out.split("\n").filter((l) => l), values.map((v, i) => `${i} ${v}`));
      } finally {
        assert.equal(await first.kill("SIGTERM"), 0);
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test("start-up logs every directory it removes, with the reason", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-lock-" });
  try {
    const b = await testBroker({ dataDir, keepDir: true });
    await b.broker.createTopic("orphan", 1);
    const id = b.broker.topic("orphan")!.topicId;
    await b.close();
    // The catalogue no longer names the topic (as when another broker rewrote it).
    const path = `${dataDir}/meta/topics.json`;
    const cat = JSON.parse(Deno.readTextFileSync(path));
    cat.topics = cat.topics.filter((t: { name: string }) => t.name !== "orphan");
    Deno.writeTextFileSync(path, JSON.stringify(cat));
    Deno.mkdirSync(`${dataDir}/old-0.abc-delete`);

    const p = await BrokerProcess.start(dataDir);
    try {
      const warned = (re: RegExp) => p.lines.some((l) => / WARN /.test(l) && re.test(l));
      assert.ok(
        warned(new RegExp(`removing ${dataDir}/orphan-0: its topic id ${id} is not in`)),
        p.lines.join("\n"),
      );
      assert.ok(warned(new RegExp(`removing ${dataDir}/old-0\\.abc-delete: left by a topic`)));
    } finally {
      assert.equal(await p.kill("SIGTERM"), 0);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
