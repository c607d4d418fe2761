import assert from "node:assert/strict";
import { TimeIndex } from "../../storage/time_index.ts";

async function tempPath(): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "time-index-" });
  return { dir, path: `${dir}/${"0".repeat(19)}5.timeindex` };
}

Deno.test("TimeIndex keeps timestamps strictly increasing and looks up the floor entry", async () => {
  const { dir, path } = await tempPath();
  const idx = new TimeIndex(path, 5, 100);
  assert.equal(idx.lastEntry(), null);
  assert.deepEqual(idx.lookup(1000), { timestamp: -1, offset: 5 });
  idx.maybeAppend(1000, 10);
  idx.maybeAppend(1000, 12); // not larger: ignored
  idx.maybeAppend(900, 14); // smaller: ignored
  idx.maybeAppend(2000, 20);
  idx.maybeAppend(3000, 30);
  assert.equal(idx.entries, 3);
  assert.deepEqual(idx.lookup(999), { timestamp: -1, offset: 5 });
  assert.deepEqual(idx.lookup(1000), { timestamp: 1000, offset: 10 });
  assert.deepEqual(idx.lookup(2500), { timestamp: 2000, offset: 20 });
  assert.deepEqual(idx.lookup(9e12), { timestamp: 3000, offset: 30 });
  assert.throws(() => idx.maybeAppend(4000, 25), RangeError);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("TimeIndex persists 12-byte entries; lastEntry reads only the file tail", async () => {
  const { dir, path } = await tempPath();
  const idx = new TimeIndex(path, 5, 100);
  idx.maybeAppend(1_700_000_000_000, 6);
  idx.maybeAppend(1_700_000_000_500, 9);
  idx.persist();
  const bytes = await Deno.readFile(path);
  assert.equal(bytes.length, 24);
  const v = new DataView(bytes.buffer);
  assert.equal(v.getBigInt64(12), 1_700_000_000_500n);
  assert.equal(v.getInt32(20), 4);

  const reopened = new TimeIndex(path, 5, 100, 2);
  assert.deepEqual(reopened.lastEntry(), { timestamp: 1_700_000_000_500, offset: 9 });
  assert.equal(reopened.isLoaded, false);
  assert.deepEqual(reopened.lookup(1_700_000_000_100), { timestamp: 1_700_000_000_000, offset: 6 });
  assert.equal(reopened.isLoaded, true);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("TimeIndex sanity check, truncateTo and the full check", async () => {
  const { dir, path } = await tempPath();
  const bad = new Uint8Array(24);
  const v = new DataView(bad.buffer);
  v.setBigInt64(0, 2000n), v.setInt32(8, 1), v.setBigInt64(12, 1000n), v.setInt32(20, 2);
  await Deno.writeFile(path, bad);
  const idx = new TimeIndex(path, 5, 2, 2);
  assert.equal(idx.load(), false);
  assert.equal(idx.entries, 0);
  idx.maybeAppend(10, 5);
  idx.maybeAppend(20, 8);
  assert.ok(idx.isFull());
  idx.maybeAppend(30, 9); // full: ignored
  assert.equal(idx.entries, 2);
  idx.maybeAppend(30, 9, true); // the final entry on roll/close skips the check
  assert.equal(idx.entries, 3);
  idx.truncateTo(8);
  assert.deepEqual(idx.lastEntry(), { timestamp: 10, offset: 5 });
  idx.persist();
  assert.equal((await Deno.stat(path)).size, 12);
  await Deno.remove(dir, { recursive: true });
});
