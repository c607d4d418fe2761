/**
 * Tiered storage in the storage layer: LogManager + RemoteLogManager over the directory tier
 * (and fault-injecting wrappers of it), driven pass by pass.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { LogManager } from "../../storage/log_manager.ts";
import type { PartitionLog } from "../../storage/partition_log.ts";
import { RemoteLogMetadataManager } from "../../storage/remote_log_metadata.ts";
import { newSegmentId } from "../../storage/remote_log_manager.ts";
import {
  describeSegmentData,
  type LogSegmentData,
  type RemoteLogSegmentMetadata,
  RemoteStorageException,
  type RemoteStorageManager,
} from "../../storage/remote_storage.ts";
import { DirectoryRemoteStorageManager } from "../../storage/remote_storage_fs.ts";
import { readAllTiers as readAll, tenRecordBatch as batch, TS0 } from "../support/log_fixtures.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Wraps a RemoteStorageManager: can be "down", can corrupt uploads, can hold reads until a
 * gate opens (so "did not wait for the cold tier" is checked by order, not by a stopwatch).
 */
class FaultyStorage implements RemoteStorageManager {
  down = false;
  corrupt = false;
  fetchGate: Promise<void> | undefined;
  copies = 0;
  fetches = 0;
  constructor(readonly inner: RemoteStorageManager) {}
  get description() {
    return `faulty(${this.inner.description})`;
  }
  private check(): void {
    if (this.down) throw new RemoteStorageException("store is down");
  }
  async copyLogSegmentData(m: RemoteLogSegmentMetadata, d: LogSegmentData) {
    this.check();
    this.copies++;
    if (this.corrupt) {
      const log = d.log.slice();
      log[log.length >> 1] ^= 0xff;
      d = { ...d, log };
    }
    await this.inner.copyLogSegmentData(m, d);
  }
  async fetchLogSegment(m: RemoteLogSegmentMetadata, s: number, e?: number) {
    this.check();
    this.fetches++;
    if (this.fetchGate) await this.fetchGate;
    return this.inner.fetchLogSegment(m, s, e);
  }
  fetchIndex(m: RemoteLogSegmentMetadata, t: "index" | "timeindex") {
    this.check();
    return this.inner.fetchIndex(m, t);
  }
  describeLogSegment(m: RemoteLogSegmentMetadata) {
    this.check();
    return this.inner.describeLogSegment(m);
  }
  deleteLogSegmentData(m: RemoteLogSegmentMetadata) {
    this.check();
    return this.inner.deleteLogSegmentData(m);
  }
  listRemoteLogSegmentIds(tp: RemoteLogSegmentMetadata["topicIdPartition"]) {
    this.check();
    return this.inner.listRemoteLogSegmentIds(tp);
  }
  fetchPartitionMetadata(tp: RemoteLogSegmentMetadata["topicIdPartition"]) {
    this.check();
    return this.inner.fetchPartitionMetadata(tp);
  }
  putPartitionMetadata(tp: RemoteLogSegmentMetadata["topicIdPartition"], data: Uint8Array) {
    this.check();
    return this.inner.putPartitionMetadata(tp, data);
  }
  deletePartitionMetadata(tp: RemoteLogSegmentMetadata["topicIdPartition"]) {
    this.check();
    return this.inner.deletePartitionMetadata(tp);
  }
  close() {
    return Promise.resolve();
  }
}

interface Env {
  dataDir: string;
  tier: string;
  rsm: FaultyStorage;
  lm: LogManager;
  log: PartitionLog;
}

async function open(dataDir: string, rsm: RemoteStorageManager): Promise<LogManager> {
  return await LogManager.open(dataDir, {
    remoteStorage: rsm,
    remoteLogManager: { taskIntervalMs: 10, retryBackoffMs: 10, retryBackoffMaxMs: 50 },
    cleaner: { enable: false },
  });
}

async function withTiered(
  configs: Record<string, string>,
  batches: number,
  fn: (e: Env) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "tiered-" });
  const dataDir = `${root}/data`;
  const tier = `${root}/remote`;
  const rsm = new FaultyStorage(new DirectoryRemoteStorageManager(tier));
  const lm = await open(dataDir, rsm);
  await lm.createTopic("t", 1, {
    "remote.storage.enable": "true",
    "segment.bytes": "1024",
    "retention.ms": "-1", // the records are stamped in 1970
    ...configs,
  });
  const log = lm.getPartition("t", 0)!;
  for (let i = 0; i < batches; i++) await log.append(batch(i));
  const env = { dataDir, tier, rsm, lm, log };
  try {
    await fn(env);
  } finally {
    await env.lm.close().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
}

async function reopen(e: Env): Promise<void> {
  await e.lm.close();
  e.lm = await open(e.dataDir, e.rsm);
  e.log = e.lm.getPartition("t", 0)!;
}

Deno.test("closed segments are copied and verified, then deleted locally; reads span both tiers", async () => {
  await withTiered({ "local.retention.bytes": "0" }, 40, async (e) => {
    const before = await readAll(e.log);
    const closed = e.log.closedSegments().length;
    assert.ok(closed >= 10, `only ${closed} closed segments`);
    assert.equal(e.log.highestOffsetInRemoteStorage, -1);
    // Nothing is deleted locally before it is tiered.
    assert.equal(await e.lm.runRetention(), 0);

    await e.lm.remoteLogManager.runOnce(true);
    assert.equal(e.log.remoteSegmentCount, closed);
    const activeBase = e.log.segmentBaseOffsets().at(-1)!;
    assert.equal(e.log.highestOffsetInRemoteStorage, activeBase - 1);
    const rp = e.lm.remoteLogManager.partition(e.log)!;
    for (const m of rp.metadata.all()) assert.equal(m.state, "COPY_SEGMENT_FINISHED");

    assert.equal(await e.lm.runRetention(), closed);
    assert.equal(e.log.localSegmentCount, 1, "only the active segment stays local");
    assert.equal(e.log.logStartOffset, 0);
    assert.equal(e.log.localLogStartOffset, activeBase);
    assert.ok(e.log.remoteBytes > 0 && e.log.localBytes > 0);

    assert.deepEqual(await readAll(e.log), before, "every byte back from the cold tier");
    // A batch that does not fit (no minOneBatch) is an empty answer, not a skip ahead.
    assert.equal((await e.log.read(0, 10)).length, 0);
    assert.equal((await e.log.read(0, 10, { minOneBatch: true })).length > 0, true);
    // ListOffsets by timestamp finds a record that now lives only in the cold tier.
    assert.deepEqual(await e.log.offsetForTimestamp(TS0 + 5 * 1000 + 3), {
      offset: 53,
      timestamp: TS0 + 5003,
    });
    assert.deepEqual(await e.log.maxTimestampAndOffset(), {
      offset: 399,
      timestamp: TS0 + 39 * 1000 + 9,
    });

    await reopen(e);
    assert.equal(e.log.logStartOffset, 0);
    assert.equal(e.log.localLogStartOffset, activeBase);
    assert.equal(e.log.remoteSegmentCount, closed);
    assert.deepEqual(await readAll(e.log), before, "after a restart too");
  });
});

Deno.test("an unreachable cold tier: appends go on, nothing is deleted locally, uploads catch up", async () => {
  await withTiered({ "local.retention.bytes": "0" }, 20, async (e) => {
    e.rsm.down = true;
    const local = e.log.localSegmentCount;
    await e.lm.remoteLogManager.runOnce(true);
    assert.equal(e.log.remoteSegmentCount, 0);
    assert.equal(await e.lm.runRetention(), 0);
    assert.equal(e.log.localSegmentCount, local);
    for (let i = 20; i < 30; i++) await e.log.append(batch(i)); // hot traffic unaffected
    const status = e.lm.remoteLogManager.status().find((s) => s.topic === "t")!;
    assert.ok(status.failures >= 1 && /down/.test(status.lastError ?? ""), JSON.stringify(status));
    const before = await readAll(e.log);

    e.rsm.down = false;
    await e.lm.remoteLogManager.runOnce(true);
    assert.equal(e.log.remoteSegmentCount, e.log.closedSegments().length);
    await e.lm.runRetention();
    assert.equal(e.log.localSegmentCount, 1);
    assert.deepEqual(await readAll(e.log), before);
  });
});

Deno.test("background task retries with backoff until the store is back", async () => {
  await withTiered({}, 10, async (e) => {
    e.rsm.down = true;
    e.lm.startBackgroundTasks();
    await waitFor("a failed copy", () => e.lm.remoteLogManager.stats.failures >= 1);
    assert.equal(e.log.remoteSegmentCount, 0);
    e.rsm.down = false;
    await waitFor(
      "every closed segment tiered",
      () => e.log.remoteSegmentCount >= e.log.closedSegments().length,
    );
    assert.equal(e.log.remoteSegmentCount, e.log.closedSegments().length);
    assert.ok(e.lm.remoteLogManager.stats.failures >= 1);
  });
});

Deno.test("a copy that fails verification is never counted and leaves no objects", async () => {
  await withTiered({ "local.retention.bytes": "0" }, 10, async (e) => {
    e.rsm.corrupt = true;
    await e.lm.remoteLogManager.runOnce(true);
    assert.equal(e.rsm.copies, 1, "stops at the first failure");
    assert.equal(e.log.remoteSegmentCount, 0);
    assert.deepEqual(e.lm.remoteLogManager.partition(e.log)!.metadata.all(), []);
    const rp = e.lm.remoteLogManager.partition(e.log)!;
    assert.deepEqual(await e.rsm.inner.listRemoteLogSegmentIds(rp.tp), []);
    assert.equal(await e.lm.runRetention(), 0, "local copies stay");
  });
});

Deno.test("restart after a crash mid-upload: unfinished entries and orphans are cleaned, nothing lost", async () => {
  await withTiered({ "local.retention.bytes": "0" }, 20, async (e) => {
    await e.lm.remoteLogManager.runOnce(true);
    await e.lm.runRetention();
    for (let i = 20; i < 40; i++) await e.log.append(batch(i));
    const before = await readAll(e.log);
    const rp = e.lm.remoteLogManager.partition(e.log)!;
    const tp = rp.tp;
    const next = e.log.closedSegments()[0];
    const partial = await e.log.readSegmentFiles(next.segment);
    await e.lm.close();

    // The crash: an upload recorded as started whose objects are half there, plus an orphan
    // (objects written under an id the metadata never recorded).
    const started: RemoteLogSegmentMetadata = {
      segmentId: newSegmentId(),
      topicIdPartition: tp,
      startOffset: next.baseOffset,
      endOffset: next.endOffset,
      maxTimestampMs: 0,
      firstBatchTimestampMs: 0,
      eventTimestampMs: Date.now(),
      brokerId: 1,
      segmentSizeInBytes: partial.log.length,
      segmentLeaderEpochs: { "0": next.baseOffset },
      state: "COPY_SEGMENT_STARTED",
      files: describeSegmentData(partial),
    };
    new RemoteLogMetadataManager(e.log.dir).add(started);
    await e.rsm.inner.copyLogSegmentData(started, {
      ...partial,
      log: partial.log.subarray(0, 100),
    });
    const orphan = { ...started, segmentId: newSegmentId() };
    await e.rsm.inner.copyLogSegmentData(orphan, partial);
    await Deno.writeFile(
      `${e.tier}/${tp.topic}-${tp.topicId}/${tp.partition}/${
        String(next.baseOffset).padStart(20, "0")
      }-${newSegmentId()}.log.tmp-0123abcd`,
      partial.log,
    );

    e.lm = await open(e.dataDir, e.rsm);
    e.log = e.lm.getPartition("t", 0)!;
    const finishedBefore = e.log.remoteSegmentCount;
    assert.equal(e.log.highestOffsetInRemoteStorage, next.baseOffset - 1, "STARTED is not data");
    await e.lm.remoteLogManager.runOnce(true);
    const rp2 = e.lm.remoteLogManager.partition(e.log)!;
    assert.ok(rp2.metadata.all().every((m) => m.state === "COPY_SEGMENT_FINISHED"));
    assert.ok(e.log.remoteSegmentCount > finishedBefore);
    const ids = new Set((await e.rsm.inner.listRemoteLogSegmentIds(tp)).map((o) => o.segmentId));
    assert.deepEqual(ids, new Set(rp2.metadata.all().map((m) => m.segmentId)), "no orphans");
    assert.ok(e.lm.remoteLogManager.stats.orphansDeleted >= 2);
    await e.lm.runRetention();
    assert.deepEqual(await readAll(e.log), before);
  });
});

Deno.test("cold-tier retention moves the log start (persisted), DeleteRecords reaches the cold tier", async () => {
  await withTiered({ "local.retention.bytes": "0" }, 30, async (e) => {
    await e.lm.remoteLogManager.runOnce(true);
    await e.lm.runRetention();
    const remote = e.log.remoteSegmentCount;
    // DeleteRecords in the middle of the tiered range.
    assert.equal(await e.log.deleteRecordsBefore(95), 95);
    await e.lm.remoteLogManager.runOnce(true);
    assert.ok(e.log.remoteSegmentCount < remote);
    const rp = e.lm.remoteLogManager.partition(e.log)!;
    assert.ok(rp.metadata.finished().every((m) => m.endOffset >= 95));
    await assert.rejects(
      e.log.read(10, 1000),
      (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.OFFSET_OUT_OF_RANGE,
    );
    const b95 = await e.log.read(95, 1 << 20);
    assert.ok(b95.length > 0);

    // retention.ms: every record is from 1970, so everything tiered expires.
    e.lm.updateTopicConfig("t", {
      "remote.storage.enable": "true",
      "segment.bytes": "1024",
      "local.retention.bytes": "0",
      "retention.ms": "60000",
    });
    await e.lm.remoteLogManager.runOnce(true);
    assert.equal(e.log.remoteSegmentCount, 0);
    const activeBase = e.log.segmentBaseOffsets().at(-1)!;
    assert.equal(e.log.logStartOffset, activeBase);
    assert.deepEqual(await e.rsm.inner.listRemoteLogSegmentIds(rp.tp), []);
    await reopen(e);
    assert.equal(e.log.logStartOffset, activeBase, "log start checkpointed");
  });
});

Deno.test("a slow cold tier does not hold up appends or hot reads", async () => {
  await withTiered({ "local.retention.bytes": "0" }, 20, async (e) => {
    await e.lm.remoteLogManager.runOnce(true);
    await e.lm.runRetention();
    let open!: () => void;
    e.rsm.fetchGate = new Promise<void>((r) => open = r);
    let coldDone = false;
    const cold = e.log.read(0, 1 << 20).then((b) => {
      coldDone = true;
      return b;
    });
    await e.log.append(batch(99));
    const hot = await e.log.read(e.log.localLogStartOffset, 1 << 20);
    assert.ok(hot.length > 0);
    assert.equal(coldDone, false, "the hot path finished while the cold read was held");
    open();
    const coldBytes = await cold;
    assert.ok(coldBytes.length > 0);
    // Second read of the same range comes from the cache: no further remote fetch.
    const fetched = e.rsm.fetches;
    await e.log.read(0, 1 << 20);
    assert.equal(e.rsm.fetches, fetched, "cached");
  });
});

Deno.test("truncation never reaches into the cold tier; starting over above it keeps the tier readable", async () => {
  await withTiered({ "local.retention.bytes": "0" }, 20, async (e) => {
    await e.lm.remoteLogManager.runOnce(true);
    const activeBase = e.log.segmentBaseOffsets().at(-1)!;
    const tiered = e.log.highestOffsetInRemoteStorage;
    assert.equal(tiered, activeBase - 1);
    await e.lm.runRetention();
    assert.equal(e.log.localLogStartOffset, activeBase);
    const before = await readAll(e.log);
    const leo = e.log.logEndOffset;
    const refused = (e: unknown) =>
      e instanceof KafkaError && e.code === ErrorCode.KAFKA_STORAGE_ERROR;
    // At or below the highest tiered offset: refused, nothing changes.
    await assert.rejects(e.log.truncateTo(tiered), refused);
    await assert.rejects(e.log.truncateTo(5), refused);
    await assert.rejects(e.log.truncateFullyAndStartAt(tiered), refused);
    assert.equal(e.log.logEndOffset, leo);
    assert.deepEqual(await readAll(e.log), before);
    // Above it: the local batch holding the offset goes, the tier stays.
    await e.log.truncateTo(activeBase + 5);
    assert.equal(e.log.logEndOffset, activeBase);
    assert.equal(e.log.logStartOffset, 0);
    const kept = await readAll(e.log);
    assert.deepEqual(kept, before.subarray(0, kept.length));
    assert.equal(kept.length < before.length, true);
    // Starting over just above the tier, with the log start below: reads below the new
    // local start go to the cold tier.
    await e.log.truncateFullyAndStartAt(tiered + 1, 0);
    assert.deepEqual(
      [e.log.logStartOffset, e.log.localLogStartOffset, e.log.logEndOffset],
      [0, tiered + 1, tiered + 1],
    );
    assert.deepEqual(await readAll(e.log), kept);
  });
});
