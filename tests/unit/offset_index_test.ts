import assert from "node:assert/strict";
import { OffsetIndex } from "../../storage/offset_index.ts";

async function tempIndex(base = 100): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "offset-index-" });
  return { dir, path: `${dir}/${String(base).padStart(20, "0")}.index` };
}

Deno.test("OffsetIndex lookup finds the largest entry at or below the target", async () => {
  const { dir, path } = await tempIndex();
  const idx = new OffsetIndex(path, 100, 1000);
  assert.deepEqual(idx.lookup(150), { offset: 100, position: 0 });
  for (let i = 1; i <= 50; i++) idx.append(100 + i * 10, i * 4096);
  assert.equal(idx.entries, 50);
  assert.deepEqual(idx.lookup(99), { offset: 100, position: 0 });
  assert.deepEqual(idx.lookup(109), { offset: 100, position: 0 });
  assert.deepEqual(idx.lookup(110), { offset: 110, position: 4096 });
  assert.deepEqual(idx.lookup(255), { offset: 250, position: 15 * 4096 });
  assert.deepEqual(idx.lookup(10_000), { offset: 600, position: 50 * 4096 });
  assert.deepEqual(idx.lastEntry(), { offset: 600, position: 50 * 4096 });
  assert.throws(() => idx.append(600, 999_999), RangeError);
  assert.throws(() => idx.append(99, 999_999), RangeError);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("OffsetIndex persists 8-byte big-endian entries and loads them lazily", async () => {
  const { dir, path } = await tempIndex(0);
  const idx = new OffsetIndex(path, 0, 1000);
  idx.append(5, 100);
  idx.append(9, 300);
  idx.persist();
  idx.append(20, 700);
  idx.persist(false);
  const bytes = await Deno.readFile(path);
  assert.equal(bytes.length, 24);
  const v = new DataView(bytes.buffer);
  assert.deepEqual([v.getInt32(0), v.getInt32(4), v.getInt32(16), v.getInt32(20)], [
    5,
    100,
    20,
    700,
  ]);

  const again = new OffsetIndex(path, 0, 1000, bytes.length / 8);
  assert.equal(again.isLoaded, false);
  assert.equal(again.entries, 3);
  assert.ok(again.load(10_000));
  assert.deepEqual(again.lookup(10), { offset: 9, position: 300 });
  // Entries pointing past the log are rejected.
  const short = new OffsetIndex(path, 0, 1000, 3);
  assert.equal(short.load(500), false);
  assert.equal(short.entries, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("OffsetIndex sanity check rejects out-of-order entries", async () => {
  const { dir, path } = await tempIndex(0);
  const bytes = new Uint8Array(16);
  const v = new DataView(bytes.buffer);
  v.setInt32(0, 10), v.setInt32(4, 100), v.setInt32(8, 5), v.setInt32(12, 200);
  await Deno.writeFile(path, bytes);
  const idx = new OffsetIndex(path, 0, 1000, 2);
  assert.equal(idx.load(1 << 20), false);
  assert.equal(idx.entries, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("OffsetIndex truncateTo, reset, isFull and unload", async () => {
  const { dir, path } = await tempIndex(0);
  const idx = new OffsetIndex(path, 0, 4);
  for (let i = 1; i <= 4; i++) idx.append(i * 10, i * 100);
  assert.ok(idx.isFull());
  idx.truncateTo(30);
  assert.equal(idx.entries, 2);
  assert.deepEqual(idx.lastEntry(), { offset: 20, position: 200 });
  idx.persist();
  assert.equal((await Deno.stat(path)).size, 16);
  idx.unload();
  assert.equal(idx.isLoaded, false);
  assert.equal(idx.memoryBytes, 0);
  assert.deepEqual(idx.lookup(25), { offset: 20, position: 200 }); // reloads on demand
  idx.reset();
  idx.persist();
  assert.equal((await Deno.stat(path)).size, 0);
  await Deno.remove(dir, { recursive: true });
});
