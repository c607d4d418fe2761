/**
 * Unit tests of the pieces PartitionLog is assembled from: the TransactionIndex, the
 * producer-state snapshot files, the partition.metadata file and the segment batch walk.
 * PartitionLog's own tests exercise them together; these pin each seam on its own.
 */
import assert from "node:assert/strict";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { TransactionIndex } from "../../storage/transaction_index.ts";
import { readSnapshot, snapshotPath, writeSnapshot } from "../../storage/producer_snapshot.ts";
import {
  parseProperties,
  readPartitionTopicId,
  writePartitionMetadata,
} from "../../storage/partition_metadata.ts";
import { scanBatches } from "../../storage/segment_scan.ts";

Deno.test("TransactionIndex keeps aborted transactions only, pruned by the log start", () => {
  const idx = new TransactionIndex();
  idx.add({ producerId: 1, firstOffset: 0, lastOffset: 4, isAborted: true });
  idx.add({ producerId: 2, firstOffset: 5, lastOffset: 9, isAborted: false });
  idx.add({ producerId: 3, firstOffset: 10, lastOffset: 14, isAborted: true });
  assert.deepEqual(idx.all.map((t) => t.producerId), [1, 3]);
  // A fetch range is half-open, a segment range closed.
  assert.deepEqual(idx.overlapping(4, 10).map((t) => t.producerId), [1]);
  assert.deepEqual(idx.within(4, 10).map((t) => t.producerId), [1, 3]);
  idx.prune(5);
  assert.deepEqual(idx.all.map((t) => t.producerId), [3]);
});

Deno.test("producer snapshots round-trip and only the newest two are kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "producer-snapshot-" });
  try {
    const aborted = [{ producerId: 7, firstOffset: 1, lastOffset: 2 }];
    for (const offset of [10, 20, 30]) writeSnapshot(dir, offset, [], aborted);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["00000000000000000020.snapshot", "00000000000000000030.snapshot"]);
    const snap = readSnapshot(snapshotPath(dir, 30));
    assert.equal(snap?.offset, 30);
    assert.deepEqual(snap?.abortedTxns, aborted);
    Deno.writeTextFileSync(snapshotPath(dir, 40), '{"version": 1, "offs');
    assert.equal(readSnapshot(snapshotPath(dir, 40)), null, "a torn snapshot is ignored");
    assert.equal(readSnapshot(snapshotPath(dir, 50)), null, "a missing one too");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("partition.metadata is written and read back; properties skip comments", async () => {
  const dir = await Deno.makeTempDir({ prefix: "partition-metadata-" });
  try {
    assert.equal(readPartitionTopicId(dir), null);
    writePartitionMetadata(dir, "AAAAAAAAAAAAAAAAAAAAAQ");
    assert.equal(readPartitionTopicId(dir), "AAAAAAAAAAAAAAAAAAAAAQ");
    const props = parseProperties("# c\n! c\n\ncluster.id=abc\nnode.id: 3\nnoseparator\n");
    assert.deepEqual([...props], [["cluster.id", "abc"], ["node.id", "3"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scanBatches walks whole batches and stops at a torn tail", () => {
  const a = encodeRecordBatch({ baseOffset: 0, records: [{ value: "a" }, { value: "b" }] });
  const b = encodeRecordBatch({ baseOffset: 2, records: [{ value: "c" }] });
  const file = new Uint8Array(a.length + b.length + 10);
  file.set(a, 0);
  file.set(b, a.length);
  file.set(b.subarray(0, 10), a.length + b.length); // a torn third batch
  const read = (into: Uint8Array, offset: number, length: number, position: number) => {
    const part = file.subarray(position, Math.min(file.length, position + length));
    into.set(part, offset);
    return part.length;
  };
  for (const verifyCrc of [false, true]) {
    const seen: number[] = [];
    const r = scanBatches(read, 0, file.length, 0, verifyCrc, (pos, h) => {
      seen.push(pos, h.baseOffset);
    });
    assert.deepEqual(seen, [0, 0, a.length, 2]);
    assert.equal(r.end, a.length + b.length);
    assert.ok(r.reason?.startsWith("torn"), `reason: ${r.reason}`);
  }
});
