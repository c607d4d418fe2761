import assert from "node:assert/strict";
import { parseCpuList, pinnedCommand, planPinning } from "../../bench/lib/cpu_pinning.ts";

Deno.test("bench cpu pinning: cpu lists as /proc writes them", () => {
  assert.deepEqual(parseCpuList("0-3"), [0, 1, 2, 3]);
  assert.deepEqual(parseCpuList("0,2-4,7\n"), [0, 2, 3, 4, 7]);
  assert.deepEqual(parseCpuList("x"), []);
});

Deno.test("bench cpu pinning: halves from 4 cores, none below", () => {
  const four = planPinning([0, 1, 2, 3], true);
  assert.equal(four.pinned, true);
  assert.equal(four.brokerCpus, "0,1");
  assert.equal(four.generatorCpus, "2,3");
  assert.deepEqual(pinnedCommand(four, "kcat", ["-P"]), ["taskset", ["-c", "2,3", "kcat", "-P"]]);
  assert.equal(planPinning([4, 5, 6, 7, 8], true).generatorCpus, "6,7,8");

  const two = planPinning([0, 1], true);
  assert.equal(two.pinned, false);
  assert.equal(two.note, "not pinned (2 cores)");
  assert.deepEqual(pinnedCommand(two, "kcat", ["-P"]), ["kcat", ["-P"]]);
  assert.equal(planPinning([0, 1, 2, 3], false).note, "not pinned (taskset unavailable, 4 cores)");
});
