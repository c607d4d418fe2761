/** The shared wait helpers: what they return, retry and pass through. */
import assert from "node:assert/strict";
import { until, waitFor } from "../support/wait.ts";

Deno.test("until returns the first value that is not undefined, null or false", async () => {
  let n = 0;
  const got = await until("n to reach 3", () => (++n >= 3 ? { n } : n === 1 ? null : false), {
    intervalMs: 1,
  });
  assert.deepEqual(got, { n: 3 });
  // 0 and "" are values, not "not yet".
  assert.equal(await until("zero", () => 0), 0);
  assert.equal(await until("empty", () => ""), "");
});

Deno.test("until retries a condition that throws", async () => {
  let n = 0;
  const got = await until("a flaky read", () => {
    if (++n < 3) throw new Error("not yet");
    return "read";
  }, { intervalMs: 1 });
  assert.equal(got, "read");
  assert.equal(n, 3);
});

Deno.test("waitFor polls until true; an error from the condition fails it at once", async () => {
  let n = 0;
  await waitFor("three polls", async () => {
    await Promise.resolve();
    return ++n === 3;
  }, { intervalMs: 1 });
  assert.equal(n, 3);
  await assert.rejects(
    waitFor("a broken condition", () => {
      throw new Error("broken");
    }),
    /broken/,
  );
});
