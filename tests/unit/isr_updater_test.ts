/**
 * The leader's ISR write (src/replication/isr_updater.ts) over the in-memory metadata store:
 * a compare-and-swap on the record's modRevision that keeps leader and epoch and bumps the
 * partition epoch; a lost race with the same leadership is "stale" (recompute and retry), one
 * with a new leader or epoch (or the record gone) is "fenced".
 */
import assert from "node:assert/strict";
import { MemoryMetadataBackend, MemoryMetadataStore } from "../../src/cluster/memory_store.ts";
import { jsonOf, partitionKey, type PartitionState } from "../../src/cluster/cluster_records.ts";
import { writeIsr } from "../../src/replication/isr_updater.ts";

const KEY = partitionKey("t", 0);
const INITIAL: PartitionState = {
  leader: 1,
  leaderEpoch: 3,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  partitionEpoch: 7,
};

async function seeded() {
  const store = new MemoryMetadataStore(new MemoryMetadataBackend());
  const { revision } = await store.put(KEY, JSON.stringify(INITIAL));
  return { store, seen: { state: INITIAL, modRevision: revision } };
}

Deno.test("an ISR write keeps the leadership and bumps the partition epoch", async () => {
  const { store, seen } = await seeded();
  const r = await writeIsr(store, "t", 0, seen, [1, 2]);
  assert.equal(r.kind, "written");
  const kv = (await store.get(KEY))!;
  assert.deepEqual(jsonOf<PartitionState>(kv), { ...INITIAL, isr: [1, 2], partitionEpoch: 8 });
  assert.equal(r.kind === "written" && r.modRevision, kv.modRevision);
  // The revision it returned is the one to compare against next time.
  const again = await writeIsr(
    store,
    "t",
    0,
    { state: jsonOf<PartitionState>(kv), modRevision: kv.modRevision },
    [1, 2, 3],
  );
  assert.equal(again.kind, "written");
  await store.close();
});

Deno.test("a lost race under the same leadership is stale; a new epoch fences", async () => {
  const { store, seen } = await seeded();
  // The controller removed broker 3 meanwhile.
  await store.put(KEY, JSON.stringify({ ...INITIAL, isr: [1, 2], partitionEpoch: 8 }));
  const stale = await writeIsr(store, "t", 0, seen, [1, 3]);
  assert.equal(stale.kind, "stale");
  assert.deepEqual(stale.kind === "stale" && stale.state.isr, [1, 2]);
  assert.deepEqual(jsonOf<PartitionState>((await store.get(KEY))!).isr, [1, 2], "not written");
  // A new leader epoch: this broker no longer leads at the one it saw.
  await store.put(KEY, JSON.stringify({ ...INITIAL, leader: 2, leaderEpoch: 4, isr: [2, 3] }));
  const fenced = await writeIsr(store, "t", 0, seen, [1]);
  assert.equal(fenced.kind, "fenced");
  assert.equal(fenced.state?.leader, 2);
  await store.delete(KEY);
  const gone = await writeIsr(store, "t", 0, seen, [1]);
  assert.deepEqual(gone, { kind: "fenced", state: null });
  await store.close();
});
