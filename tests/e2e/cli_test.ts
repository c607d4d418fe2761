/**
 * The command line (`deno run -A src/cli.ts`): invalid and unknown settings, a
 * server.properties file, SIGTERM/SIGINT shutdown and --help.
 */
import assert from "node:assert/strict";
import { BrokerProcess, decoder, kcat, run } from "../support/helpers.ts";
import { until } from "../support/wait.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

function cli(args: string[]) {
  return run(Deno.execPath(), ["run", "-A", CLI, ...args], {
    timeoutMs: 30_000,
    env: { TRIBUTARY_LOG_LEVEL: "info" },
  });
}

/** Waits until a line matching `re` has been logged (stderr is drained asynchronously). */
async function logged(b: BrokerProcess, re: RegExp, timeoutMs = 5000): Promise<string> {
  return await until(
    () => `a log line matching ${re}:\n${b.lines.join("\n")}`,
    () => b.lines.find((x) => re.test(x)),
    timeoutMs,
  );
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "tributary-cli-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test(
  "cli: an invalid value exits non-zero naming the key, before touching the data dir",
  async () => {
    await withDir(async (dir) => {
      const dataDir = `${dir}/data`;
      const r = await cli([
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        dataDir,
        "--set",
        "num.partitions=abc",
      ]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /num\.partitions/);
      assert.match(r.stderr, /abc/);
      await assert.rejects(Deno.stat(dataDir), Deno.errors.NotFound);

      // The same from a --config file.
      await Deno.writeTextFile(`${dir}/bad.properties`, "log.segment.bytes=lots\n");
      const r2 = await cli([
        "--port",
        "0",
        "--data-dir",
        dataDir,
        "--config",
        `${dir}/bad.properties`,
      ]);
      assert.notEqual(r2.code, 0);
      assert.match(r2.stderr, /log\.segment\.bytes/);

      // A missing config file, a bad port and an unknown flag are refused too.
      const r3 = await cli([
        "--port",
        "0",
        "--data-dir",
        dataDir,
        "--config",
        `${dir}/missing.properties`,
      ]);
      assert.notEqual(r3.code, 0);
      assert.match(r3.stderr, /missing\.properties/);
      const r4 = await cli(["--port", "99999", "--data-dir", dataDir]);
      assert.notEqual(r4.code, 0);
      assert.match(r4.stderr, /--port/);
      const r5 = await cli(["--no-such-flag"]);
      assert.notEqual(r5.code, 0);
      assert.match(r5.stderr, /no-such-flag/);
      await assert.rejects(Deno.stat(dataDir), Deno.errors.NotFound);
    });
  },
);

Deno.test(
  "cli: an unknown key is warned about by name and the broker still serves",
  async () => {
    await withDir(async (dir) => {
      const b = await BrokerProcess.start(dir, [
        "--set",
        "no.such.setting=1",
        "--set",
        "num.partitions=2",
      ]);
      try {
        const warn = await logged(b, /no\.such\.setting/);
        assert.match(warn, /WARN/);
        await kcat(b.address, ["-P", "-t", "served", "-p", "1"], { stdin: "hello\n" });
        const out = decoder.decode(
          await kcat(b.address, [
            "-C",
            "-t",
            "served",
            "-p",
            "1",
            "-o",
            "beginning",
            "-e",
            "-f",
            "%o %s\n",
          ]),
        );
        assert.equal(out, "0 hello\n");
        const md = JSON.parse(decoder.decode(await kcat(b.address, ["-L", "-J", "-t", "served"])));
        assert.equal(md.topics[0].partitions.length, 2);
      } finally {
        assert.equal(await b.kill("SIGTERM"), 0);
      }
    });
  },
);

Deno.test(
  "cli: --config file with num.partitions=3 makes auto-created topics 3 partitions wide",
  async () => {
    await withDir(async (dir) => {
      await Deno.writeTextFile(
        `${dir}/server.properties`,
        [
          "# Kafka-style properties",
          "",
          "num.partitions=3",
          "auto.create.topics.enable=true",
          "log.segment.bytes = 1048576",
        ].join("\n") + "\n",
      );
      const b = await BrokerProcess.start(`${dir}/data`, ["--config", `${dir}/server.properties`]);
      try {
        await kcat(b.address, ["-P", "-t", "auto3"], { stdin: "a\nb\nc\n" });
        const md = JSON.parse(decoder.decode(await kcat(b.address, ["-L", "-J", "-t", "auto3"])));
        assert.equal(md.topics.length, 1);
        assert.equal(md.topics[0].topic, "auto3");
        assert.deepEqual(
          md.topics[0].partitions.map((p: { partition: number }) => p.partition).sort(),
          [0, 1, 2],
        );
        for (let p = 0; p < 3; p++) {
          assert.ok((await Deno.stat(`${dir}/data/auto3-${p}`)).isDirectory);
        }
        // All three records were stored, wherever the partitioner put them.
        const out = decoder.decode(
          await kcat(b.address, ["-C", "-t", "auto3", "-o", "beginning", "-e", "-f", "%s\n"]),
        );
        assert.deepEqual(out.split("\n").filter((l) => l).sort(), ["a", "b", "c"]);
      } finally {
        assert.equal(await b.kill("SIGTERM"), 0);
      }
    });
  },
);

Deno.test(
  "cli: SIGTERM and SIGINT flush, log 'stopped' and exit 0; data is kept",
  async () => {
    await withDir(async (dir) => {
      let b = await BrokerProcess.start(dir);
      await kcat(b.address, ["-P", "-t", "sig", "-p", "0"], { stdin: "one\ntwo\n" });
      assert.equal(await b.kill("SIGTERM"), 0);
      await logged(b, /SIGTERM received/);
      await logged(b, /\bstopped\b/);

      b = await BrokerProcess.start(dir);
      await kcat(b.address, ["-P", "-t", "sig", "-p", "0"], { stdin: "three\n" });
      assert.equal(await b.kill("SIGINT"), 0);
      await logged(b, /SIGINT received/);
      await logged(b, /\bstopped\b/);

      b = await BrokerProcess.start(dir);
      try {
        const out = decoder.decode(
          await kcat(b.address, [
            "-C",
            "-t",
            "sig",
            "-p",
            "0",
            "-o",
            "beginning",
            "-e",
            "-f",
            "%o %s\n",
          ]),
        );
        assert.equal(out, "0 one\n1 two\n2 three\n");
      } finally {
        assert.equal(await b.kill("SIGTERM"), 0);
      }
    });
  },
);

Deno.test("cli: --help prints usage and exits 0", async () => {
  const r = await cli(["--help"]);
  assert.equal(r.code, 0);
  const out = decoder.decode(r.stdout);
  assert.match(out, /^Usage: /);
  for (
    const flag of ["--host", "--port", "--data-dir", "--config", "--set", "--log-level", "--help"]
  ) {
    assert.ok(out.includes(flag), `usage mentions ${flag}`);
  }
});
