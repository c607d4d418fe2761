/**
 * LeaderEpochFileCache semantics, case by case after Kafka's LeaderEpochFileCacheTest, and the
 * leader-epoch-checkpoint file format (Kafka's: "0", the count, "epoch startOffset" lines).
 */
import assert from "node:assert/strict";
import {
  fileEpochCheckpoint,
  formatEpochCheckpoint,
  LEADER_EPOCH_CHECKPOINT_FILE,
  LeaderEpochFileCache,
  parseEpochCheckpoint,
} from "../../storage/leader_epoch_cache.ts";
import { segmentLeaderEpochs } from "../../storage/remote_log_manager.ts";

function cacheOf(...entries: [number, number][]): LeaderEpochFileCache {
  const c = new LeaderEpochFileCache();
  for (const [epoch, start] of entries) c.assign(epoch, start);
  return c;
}

function entries(c: LeaderEpochFileCache): [number, number][] {
  return c.epochEntries().map((e) => [e.epoch, e.startOffset]);
}

Deno.test("epoch cache: an assigned epoch answers with the log end offset", () => {
  const c = cacheOf([2, 10]);
  assert.equal(c.latestEpoch, 2);
  assert.deepEqual(c.endOffsetFor(2, 11), { epoch: 2, endOffset: 11 });
  const many = cacheOf([2, 5], [3, 6], [4, 7]);
  assert.deepEqual(many.endOffsetFor(4, 10), { epoch: 4, endOffset: 10 });
});

Deno.test("epoch cache: undefined answers for -1, an empty cache and an untracked epoch", () => {
  const undef = { epoch: -1, endOffset: -1 };
  assert.deepEqual(cacheOf([2, 5]).endOffsetFor(-1, 10), undef);
  assert.deepEqual(new LeaderEpochFileCache().endOffsetFor(7, 10), undef);
  assert.equal(new LeaderEpochFileCache().latestEpoch, -1);
  assert.deepEqual(cacheOf([2, 100]).endOffsetFor(3, 200), undef);
});

Deno.test("epoch cache: the same epoch again does not move its start forward", () => {
  const c = cacheOf([2, 6]);
  assert.equal(c.assign(2, 7), false);
  assert.equal(c.assign(2, 6), false);
  assert.deepEqual(entries(c), [[2, 6]]);
  // ...but an earlier start for the latest epoch replaces it (Kafka's isUpdateNeeded).
  const earlier = cacheOf([1, 11]);
  assert.equal(earlier.assign(1, 10), true);
  assert.deepEqual(entries(earlier), [[1, 10]]);
});

Deno.test("epoch cache: start offsets stay monotonic: a new epoch drops entries at or after it", () => {
  assert.deepEqual(entries(cacheOf([2, 1], [3, 0])), [[3, 0]]);
  assert.deepEqual(entries(cacheOf([1, 11], [2, 10])), [[2, 10]]);
  assert.deepEqual(entries(cacheOf([1, 5], [2, 8], [3, 8])), [[1, 5], [3, 8]]);
});

Deno.test("epoch cache: an epoch never goes back even if batch epochs do", () => {
  const c = cacheOf([1, 5], [2, 6]);
  assert.equal(c.assign(1, 7), false);
  assert.equal(c.latestEpoch, 2);
  assert.deepEqual(entries(c), [[1, 5], [2, 6]]);
  assert.equal(c.assign(-1, 8), false, "no epoch (-1) is never recorded");
});

Deno.test("epoch cache: a requested epoch below the first answers with the first start", () => {
  assert.deepEqual(cacheOf([5, 11], [6, 12]).endOffsetFor(4, 20), { epoch: 4, endOffset: 11 });
});

Deno.test("epoch cache: an earlier epoch ends where the next one starts", () => {
  const c = cacheOf([1, 5], [1, 6], [2, 7]);
  assert.deepEqual(c.endOffsetFor(1, 10), { epoch: 1, endOffset: 7 });
  const gaps = cacheOf([0, 10], [2, 13], [4, 17]);
  assert.deepEqual(gaps.endOffsetFor(0, 20), { epoch: 0, endOffset: 13 });
  assert.deepEqual(gaps.endOffsetFor(1, 20), { epoch: 0, endOffset: 13 });
  assert.deepEqual(gaps.endOffsetFor(2, 20), { epoch: 2, endOffset: 17 });
  assert.deepEqual(gaps.endOffsetFor(3, 20), { epoch: 2, endOffset: 17 });
  assert.deepEqual(gaps.endOffsetFor(4, 20), { epoch: 4, endOffset: 20 });
  assert.deepEqual(gaps.endOffsetFor(5, 20), { epoch: -1, endOffset: -1 });
});

Deno.test("epoch cache: epochs tracked as leaders change many times", () => {
  const c = cacheOf([0, 0], [1, 7], [2, 8]);
  assert.equal(c.latestEpoch, 2);
  assert.deepEqual(c.endOffsetFor(0, 10), { epoch: 0, endOffset: 7 });
  assert.deepEqual(c.endOffsetFor(1, 10), { epoch: 1, endOffset: 8 });
  assert.deepEqual(c.endOffsetFor(2, 10), { epoch: 2, endOffset: 10 });
  assert.equal(c.previousEpoch(2), 1);
  assert.equal(c.previousEpoch(1), 0);
  assert.equal(c.previousEpoch(0), -1);
});

Deno.test("epoch cache: truncateFromEnd drops entries starting at or after the offset", () => {
  const make = () => cacheOf([2, 6], [3, 8], [4, 11]);
  const a = make();
  assert.equal(a.truncateFromEnd(9), true);
  assert.deepEqual(entries(a), [[2, 6], [3, 8]]);
  const b = make();
  b.truncateFromEnd(8);
  assert.deepEqual(entries(b), [[2, 6]]);
  const c = make();
  assert.equal(c.truncateFromEnd(12), false, "past the last start: nothing to drop");
  assert.equal(c.truncateFromEnd(-1), false, "undefined offset: nothing changes");
  assert.deepEqual(entries(c), [[2, 6], [3, 8], [4, 11]]);
  const d = make();
  d.truncateFromEnd(0);
  assert.deepEqual(entries(d), []);
});

Deno.test("epoch cache: truncateFromStart moves the earliest kept entry up to the offset", () => {
  const make = () => cacheOf([2, 6], [3, 8], [4, 11]);
  const a = make();
  a.truncateFromStart(11);
  assert.deepEqual(entries(a), [[4, 11]]);
  const b = make();
  b.truncateFromStart(9);
  assert.deepEqual(entries(b), [[3, 9], [4, 11]]);
  const c = make();
  assert.equal(c.truncateFromStart(1), false, "before the first entry: nothing changes");
  assert.equal(c.truncateFromStart(6), false, "at the first entry: nothing changes");
  assert.equal(c.truncateFromStart(-1), false);
  assert.deepEqual(entries(c), [[2, 6], [3, 8], [4, 11]]);
  const d = make();
  d.truncateFromStart(15);
  assert.deepEqual(entries(d), [[4, 15]]);
  const empty = new LeaderEpochFileCache();
  assert.equal(empty.truncateFromStart(5), false);
  assert.equal(empty.truncateFromEnd(5), false);
  const all = make();
  all.clear();
  assert.deepEqual(entries(all), []);
  assert.equal(all.latestEpoch, -1);
});

Deno.test("epoch checkpoint: Kafka's text format, and torn or foreign files are refused", () => {
  const text = formatEpochCheckpoint([{ epoch: 0, startOffset: 0 }, { epoch: 3, startOffset: 42 }]);
  assert.equal(text, "0\n2\n0 0\n3 42\n");
  assert.deepEqual(parseEpochCheckpoint(text), [
    { epoch: 0, startOffset: 0 },
    { epoch: 3, startOffset: 42 },
  ]);
  assert.deepEqual(parseEpochCheckpoint("0\n0\n"), []);
  assert.equal(parseEpochCheckpoint("0\n2\n0 0\n"), null, "fewer lines than counted");
  assert.equal(parseEpochCheckpoint("1\n1\n0 0\n"), null, "unknown version");
  assert.equal(parseEpochCheckpoint("0\n1\n0 x\n"), null);
  assert.equal(parseEpochCheckpoint("0\n2\n3 5\n2 9\n"), null, "epochs out of order");
  assert.equal(parseEpochCheckpoint(""), null);
});

Deno.test("epoch checkpoint: every change is written, and a new cache reads it back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "epoch-cache-" });
  try {
    const path = `${dir}/${LEADER_EPOCH_CHECKPOINT_FILE}`;
    const cache = new LeaderEpochFileCache(fileEpochCheckpoint(dir));
    assert.equal(cache.load(), false, "no file: nothing to trust");
    cache.assign(1, 0);
    cache.assign(4, 20);
    assert.equal(await Deno.readTextFile(path), "0\n2\n1 0\n4 20\n");
    const again = new LeaderEpochFileCache(fileEpochCheckpoint(dir));
    assert.equal(again.load(), true);
    assert.deepEqual(entries(again), [[1, 0], [4, 20]]);
    again.truncateFromEnd(20);
    assert.equal(await Deno.readTextFile(path), "0\n1\n1 0\n");
    // No temporary file is left behind by the atomic write.
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, [LEADER_EPOCH_CHECKPOINT_FILE]);
    // A torn file is not trusted: the log rebuilds the cache from its batches.
    await Deno.writeTextFile(path, "0\n3\n1 0\n");
    assert.equal(new LeaderEpochFileCache(fileEpochCheckpoint(dir)).load(), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a tiered segment's leader epochs come from the epoch cache", () => {
  const entries = [
    { epoch: 1, startOffset: 0 },
    { epoch: 3, startOffset: 10 },
    { epoch: 4, startOffset: 25 },
  ];
  assert.deepEqual(segmentLeaderEpochs(entries, 0, 9), { "1": 0 });
  assert.deepEqual(segmentLeaderEpochs(entries, 5, 12), { "1": 5, "3": 10 });
  assert.deepEqual(segmentLeaderEpochs(entries, 10, 30), { "3": 10, "4": 25 });
  assert.deepEqual(segmentLeaderEpochs(entries, 26, 40), { "4": 26 });
  assert.deepEqual(segmentLeaderEpochs([], 7, 9), { "0": 7 });
});
