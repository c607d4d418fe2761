/**
 * tributary.crc32c.native.enable end to end: the broker (on two workers, each installing ISA-L)
 * checks and serves real kcat batches; without --allow-ffi the start is refused, clearly.
 */
import assert from "node:assert/strict";
import { BrokerProcess, decoder, kcat, run } from "../support/helpers.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

Deno.test("native crc32c: two workers install ISA-L and serve kcat batches exactly", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-native-crc-" });
  try {
    const b = await BrokerProcess.start(dataDir, [
      "--workers",
      "2",
      "--set",
      "tributary.crc32c.native.enable=true",
      "--set",
      "num.partitions=4",
    ]);
    try {
      const installed = b.lines.filter((l) => l.includes("CRC-32C: native ISA-L crc32_iscsi"));
      assert.equal(installed.length, 2, b.lines.join("\n"));
      // Big and small values, uncompressed and lz4, on every partition (so on both workers).
      const values = Array.from({ length: 40 }, (_, i) => `v${i}-` + "x".repeat((i * 997) % 5000));
      for (const codec of ["none", "lz4"]) {
        for (let p = 0; p < 4; p++) {
          await kcat(b.address, [
            "-P",
            "-t",
            "crc",
            "-p",
            String(p),
            "-X",
            `compression.codec=${codec}`,
            "-X",
            "acks=all",
          ], { stdin: values.join("\n") + "\n", timeoutMs: 60_000 });
        }
      }
      for (let p = 0; p < 4; p++) {
        const out = await kcat(b.address, [
          "-C",
          "-t",
          "crc",
          "-p",
          String(p),
          "-o",
          "beginning",
          "-e",
          "-q",
          "-f",
          "%o %s\n",
          "-X",
          "check.crcs=true",
        ], { timeoutMs: 60_000 });
        const lines = decoder.decode(out).split("\n").filter((l) => l !== "");
        assert.deepEqual(lines, [...values, ...values].map((v, i) => `${i} ${v}`));
      }
    } finally {
      await b.kill("SIGKILL");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

for (const workers of ["1", "2"]) {
  Deno.test(`native crc32c: without --allow-ffi the start is refused (${workers} worker)`, async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-native-crc-" });
    try {
      const r = await run(Deno.execPath(), [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys",
        CLI,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        dataDir,
        "--workers",
        workers,
        "--set",
        "tributary.crc32c.native.enable=true",
      ], { timeoutMs: 60_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /invalid configuration: tributary\.crc32c\.native\.enable=true needs Deno's --allow-ffi permission/,
      );
      assert.doesNotMatch(r.stderr, /listening on/);
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  });
}
