import assert from "node:assert/strict";
import { renderReadme } from "../../src/docs.ts";

Deno.test("README's API and config tables match the code (run `deno task docs`)", async () => {
  const text = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  assert.equal(text, renderReadme(text));
  assert.match(text, /\| 0 \| Produce \| 0–11 \|/);
});
