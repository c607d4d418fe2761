import assert from "node:assert/strict";
import { defaultWorkerCount } from "../../src/workers/default_count.ts";

Deno.test("default worker count: 1 below 4 cores, then cores - 1, at most 16", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 8, 16, 17, 18, 64, NaN].map(defaultWorkerCount),
    [1, 1, 1, 1, 3, 4, 7, 15, 16, 16, 16, 1],
  );
});
