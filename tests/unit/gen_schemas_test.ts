/**
 * protocol/messages/ is generated (`deno task gen`) from the vendored Kafka definitions in
 * protocol/kafka-json/. Regenerating into a temporary directory must reproduce it byte for
 * byte, so a hand edit of a generated file, or a definition changed without regenerating,
 * fails here rather than drifting.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("deno task gen reproduces protocol/messages/", async () => {
  const out = await Deno.makeTempDir({ prefix: "tributary-gen-" });
  try {
    const gen = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        `${ROOT}tools/gen_schemas.ts`,
        "--out",
        out,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(gen.code, 0, new TextDecoder().decode(gen.stderr));

    const names = (dir: string) =>
      [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
    const committed = `${ROOT}protocol/messages`;
    assert.deepEqual(names(out), names(committed), "generated file set differs");
    for (const name of names(committed)) {
      const want = await Deno.readTextFile(`${out}/${name}`);
      const have = await Deno.readTextFile(`${committed}/${name}`);
      assert.ok(
        have === want,
        `protocol/messages/${name} differs from what tools/gen_schemas.ts generates; ` +
          "run `deno task gen`",
      );
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the vendored definitions record their upstream", async () => {
  const source = await Deno.readTextFile(`${ROOT}protocol/kafka-json/SOURCE.md`);
  assert.match(source, /1eb7644349cb07139d6a3c1ad1986979647cac99/);
  assert.match(source, /Apache License, Version 2\.0/);
});
