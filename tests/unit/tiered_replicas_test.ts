/**
 * Tiered storage with replicas, in the storage layer: two LogManagers (two brokers' data
 * directories) over one directory cold tier, the same batches appended to both (the leader's
 * log and its follower's copy), the leadership given by each manager's predicate. Only the
 * leader copies; the follower adopts what the leader published and drops its own local copies
 * under local retention; after a failover the new leader copies only what is not tiered yet,
 * deletes none of the old leader's objects, and every byte stays readable.
 */
import assert from "node:assert/strict";
import { LogManager } from "../../storage/log_manager.ts";
import type { PartitionLog } from "../../storage/partition_log.ts";
import type {
  LogSegmentData,
  RemoteLogSegmentMetadata,
  RemoteStorageManager,
  TopicIdPartition,
} from "../../storage/remote_storage.ts";
import { DirectoryRemoteStorageManager } from "../../storage/remote_storage_fs.ts";
import { segmentLeaderEpochs } from "../../storage/remote_log_manager.ts";
import { readAllTiers as readAll, tenRecordBatch as batch } from "../support/log_fixtures.ts";

/** Counts what one broker does to the shared tier. */
class CountingStorage implements RemoteStorageManager {
  copies = 0;
  deletes = 0;
  constructor(readonly inner: RemoteStorageManager) {}
  get description() {
    return this.inner.description;
  }
  copyLogSegmentData(m: RemoteLogSegmentMetadata, d: LogSegmentData) {
    this.copies++;
    return this.inner.copyLogSegmentData(m, d);
  }
  fetchLogSegment(m: RemoteLogSegmentMetadata, s: number, e?: number) {
    return this.inner.fetchLogSegment(m, s, e);
  }
  fetchIndex(m: RemoteLogSegmentMetadata, t: "index" | "timeindex") {
    return this.inner.fetchIndex(m, t);
  }
  describeLogSegment(m: RemoteLogSegmentMetadata) {
    return this.inner.describeLogSegment(m);
  }
  deleteLogSegmentData(m: RemoteLogSegmentMetadata) {
    this.deletes++;
    return this.inner.deleteLogSegmentData(m);
  }
  listRemoteLogSegmentIds(tp: TopicIdPartition) {
    return this.inner.listRemoteLogSegmentIds(tp);
  }
  fetchPartitionMetadata(tp: TopicIdPartition) {
    return this.inner.fetchPartitionMetadata(tp);
  }
  putPartitionMetadata(tp: TopicIdPartition, data: Uint8Array) {
    return this.inner.putPartitionMetadata(tp, data);
  }
  deletePartitionMetadata(tp: TopicIdPartition) {
    return this.inner.deletePartitionMetadata(tp);
  }
  close() {
    return Promise.resolve();
  }
}

const TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";

interface Replica {
  id: number;
  rsm: CountingStorage;
  lm: LogManager;
  log: PartitionLog;
}

Deno.test("tiered storage with replicas: only the leader copies; failover copies nothing twice", async () => {
  const root = await Deno.makeTempDir({ prefix: "tiered-replicas-" });
  const tier = new DirectoryRemoteStorageManager(`${root}/remote`);
  /** The partition's leader and its leader epoch: what the cluster metadata would say. */
  let leader = 1;
  let epoch = 0;
  const replicas: Replica[] = [];
  try {
    for (const id of [1, 2]) {
      const rsm = new CountingStorage(tier);
      const lm = await LogManager.open(`${root}/data-${id}`, {
        nodeId: id,
        remoteStorage: rsm,
        remoteLogManager: { taskIntervalMs: 10, retryBackoffMs: 10, retryBackoffMaxMs: 50 },
        cleaner: { enable: false },
      });
      lm.remoteLogManager.shareMetadata = true;
      lm.remoteLogManager.leaderEpochOf = () => leader === id ? epoch : undefined;
      await lm.createTopic("t", 1, {
        "remote.storage.enable": "true",
        "segment.bytes": "1024",
        "retention.ms": "-1", // the records are stamped in 1970
        "local.retention.bytes": "0",
      }, { topicId: TOPIC_ID });
      replicas.push({ id, rsm, lm, log: lm.getPartition("t", 0)! });
    }
    const [a, b] = replicas;
    /** The leader's append at its epoch, the same batch on the follower (as replicated). */
    const append = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        for (const r of replicas) await r.log.append(batch(i), { leaderEpoch: epoch });
      }
    };
    await append(0, 30);
    const expected = await readAll(a.log);
    assert.deepEqual(await readAll(b.log), expected, "the two replicas hold the same bytes");
    const closed = a.log.closedSegments().length;
    assert.ok(closed >= 8, `only ${closed} closed segments`);

    // The leader copies every closed segment; the follower copies nothing.
    await b.lm.remoteLogManager.runOnce(true);
    await a.lm.remoteLogManager.runOnce(true);
    assert.equal(a.rsm.copies, closed);
    assert.equal(a.log.remoteSegmentCount, closed);
    const tiered = a.log.highestOffsetInRemoteStorage;
    assert.equal(tiered, a.log.segmentBaseOffsets().at(-1)! - 1);

    // The follower adopts the leader's view, then drops its local copies like the leader;
    // only below its own high watermark (what it knows committed).
    assert.equal(b.log.highestOffsetInRemoteStorage, -1, "not before it reads the metadata");
    assert.equal(await b.lm.runRetention(), 0, "nothing local goes before it is known tiered");
    b.log.highWatermarkFollowsLogEnd = false;
    b.log.updateHighWatermark(105);
    await b.lm.remoteLogManager.runOnce(true);
    assert.equal(b.log.highestOffsetInRemoteStorage, 99, "the segments ending below its HW");
    b.log.highWatermarkFollowsLogEnd = true; // it will lead alone below, its HW its log end
    await b.lm.remoteLogManager.runOnce(true);
    assert.equal(b.rsm.copies, 0, "a follower never uploads");
    assert.equal(b.rsm.deletes, 0, "nor deletes");
    assert.equal(b.log.highestOffsetInRemoteStorage, tiered);
    assert.equal(b.log.remoteSegmentCount, closed);
    assert.equal(await b.lm.runRetention(), closed);
    assert.equal(b.log.localSegmentCount, 1);
    assert.equal(b.log.localLogStartOffset, tiered + 1);
    assert.deepEqual(await readAll(b.log), expected, "the follower reads them from the tier");
    assert.equal(await a.lm.runRetention(), closed);

    // Failover: broker 2 leads at a new epoch; more records arrive; it copies only those.
    leader = 2;
    epoch = 1;
    await append(30, 45);
    const all = await readAll(b.log);
    await b.lm.remoteLogManager.runOnce(true);
    const newClosed = b.log.closedSegments().filter((c) => c.endOffset > tiered).length;
    assert.ok(newClosed >= 2, `only ${newClosed} new closed segments`);
    assert.equal(b.rsm.copies, newClosed, "what was tiered is not copied again");
    assert.equal(b.rsm.deletes, 0, "the old leader's objects are not orphans");
    assert.equal(b.log.highestOffsetInRemoteStorage, b.log.segmentBaseOffsets().at(-1)! - 1);
    // Each segment's leader epochs, as the epoch cache says: 0 below the failover, 1 after.
    const segs = b.lm.remoteLogManager.partition(b.log)!.metadata.finished();
    for (const m of segs) {
      assert.deepEqual(
        m.segmentLeaderEpochs,
        m.startOffset < 300 ? { "0": m.startOffset } : { "1": m.startOffset },
      );
    }
    assert.ok(segs.some((m) => m.startOffset >= 300));
    const ids = await tier.listRemoteLogSegmentIds({ topic: "t", topicId: TOPIC_ID, partition: 0 });
    assert.equal(ids.length, closed + newClosed, "every object kept");
    await b.lm.runRetention();
    assert.equal(b.log.localSegmentCount, 1);
    assert.deepEqual(await readAll(b.log), all, "every byte, from both leaders' uploads");

    // The old leader, now a follower, uploads nothing and adopts the new leader's view.
    const copiesBefore = a.rsm.copies;
    await a.lm.remoteLogManager.runOnce(true);
    assert.equal(a.rsm.copies, copiesBefore);
    assert.equal(a.log.highestOffsetInRemoteStorage, b.log.highestOffsetInRemoteStorage);
    await a.lm.runRetention();
    assert.equal(a.log.localSegmentCount, 1);
    assert.deepEqual(await readAll(a.log), all);
  } finally {
    for (const r of replicas) await r.lm.close().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a new leader whose segments straddle the tiered offset copies the straddler whole", async () => {
  const root = await Deno.makeTempDir({ prefix: "tiered-straddle-" });
  const tier = new DirectoryRemoteStorageManager(`${root}/remote`);
  let leader = 1;
  const managers: LogManager[] = [];
  try {
    const logs: PartitionLog[] = [];
    // Different segment sizes: the replicas' segment boundaries differ.
    for (const [id, segmentBytes] of [[1, "1024"], [2, "2600"]] as const) {
      const lm = await LogManager.open(`${root}/data-${id}`, {
        nodeId: id,
        remoteStorage: tier,
        remoteLogManager: { taskIntervalMs: 10, retryBackoffMs: 10, retryBackoffMaxMs: 50 },
        cleaner: { enable: false },
      });
      managers.push(lm);
      lm.remoteLogManager.shareMetadata = true;
      lm.remoteLogManager.leaderEpochOf = () => leader === id ? leader - 1 : undefined;
      await lm.createTopic("t", 1, {
        "remote.storage.enable": "true",
        "segment.bytes": segmentBytes,
        "retention.ms": "-1",
        "local.retention.bytes": "0",
      }, { topicId: TOPIC_ID });
      logs.push(lm.getPartition("t", 0)!);
    }
    const [a, b] = logs;
    for (let i = 0; i < 20; i++) for (const l of logs) await l.append(batch(i));
    await managers[0].remoteLogManager.runOnce(true);
    const tiered = a.highestOffsetInRemoteStorage;
    leader = 2;
    for (let i = 20; i < 40; i++) for (const l of logs) await l.append(batch(i));
    assert.ok(
      b.closedSegments().some((c) => c.baseOffset <= tiered && c.endOffset > tiered),
      `broker 2 has a segment across the tiered offset ${tiered}`,
    );
    const all = await readAll(b);
    await managers[1].remoteLogManager.runOnce(true);
    assert.equal(b.highestOffsetInRemoteStorage, b.segmentBaseOffsets().at(-1)! - 1);
    await managers[1].runRetention();
    assert.equal(b.localSegmentCount, 1);
    assert.deepEqual(await readAll(b), all, "no gap where the boundaries differ");
  } finally {
    for (const lm of managers) await lm.close().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("segmentLeaderEpochs: the epochs a segment spans, each from its first offset in it", async () => {
  const root = await Deno.makeTempDir({ prefix: "tiered-epochs-" });
  const lm = await LogManager.open(`${root}/data`, { cleaner: { enable: false } });
  try {
    await lm.createTopic("t", 1, { "retention.ms": "-1" });
    const log = lm.getPartition("t", 0)!;
    for (const [i, epoch] of [[0, 0], [1, 0], [2, 3], [3, 3], [4, 5]]) {
      await log.append(batch(i), { leaderEpoch: epoch });
    }
    assert.deepEqual(segmentLeaderEpochs(log.leaderEpochCache.epochEntries(), 0, 49), {
      "0": 0,
      "3": 20,
      "5": 40,
    });
    assert.deepEqual(segmentLeaderEpochs(log.leaderEpochCache.epochEntries(), 25, 39), { "3": 25 });
    assert.deepEqual(segmentLeaderEpochs(log.leaderEpochCache.epochEntries(), 10, 45), {
      "0": 10,
      "3": 20,
      "5": 40,
    });
  } finally {
    await lm.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a follower reads the published metadata once per task interval, not every tick", async () => {
  const root = await Deno.makeTempDir({ prefix: "tiered-follower-interval-" });
  const tier = new DirectoryRemoteStorageManager(`${root}/remote`);
  let reads = 0;
  const counting = new CountingStorage(tier);
  counting.fetchPartitionMetadata = (tp: TopicIdPartition) => {
    reads++;
    return tier.fetchPartitionMetadata(tp);
  };
  const lm = await LogManager.open(`${root}/data`, {
    nodeId: 2,
    remoteStorage: counting,
    remoteLogManager: { taskIntervalMs: 60_000, retryBackoffMs: 10, retryBackoffMaxMs: 50 },
    cleaner: { enable: false },
  });
  try {
    lm.remoteLogManager.shareMetadata = true;
    lm.remoteLogManager.leaderEpochOf = () => undefined; // a follower of everything
    await lm.createTopic("t", 1, { "remote.storage.enable": "true" }, { topicId: TOPIC_ID });
    for (let i = 0; i < 5; i++) await lm.remoteLogManager.runOnce();
    assert.equal(reads, 1, "one read, then nothing until the interval has passed");
  } finally {
    await lm.close();
    await Deno.remove(root, { recursive: true });
  }
});
