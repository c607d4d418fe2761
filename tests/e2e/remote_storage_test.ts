/**
 * One RemoteStorageManager conformance suite, run against both back ends (the way Hono's
 * routers share `runTest`): the directory tier and S3 (s3rver on 127.0.0.1).
 */
import assert from "node:assert/strict";
import {
  describeSegmentData,
  type LogSegmentData,
  type RemoteLogSegmentMetadata,
  RemoteResourceNotFoundException,
  RemoteStorageException,
  type RemoteStorageManager,
  type TopicIdPartition,
} from "../../storage/remote_storage.ts";
import { DirectoryRemoteStorageManager } from "../../storage/remote_storage_fs.ts";
import {
  createRemoteStorageManager,
  S3RemoteStorageManager,
} from "../../storage/remote_storage_s3.ts";
import { newSegmentId } from "../../storage/remote_log_manager.ts";
import { S3_ACCESS_KEY, S3_SECRET_KEY, S3TestServer } from "../support/s3_server.ts";

interface Backend {
  rsm: RemoteStorageManager;
  /** A manager whose store cannot be reached or written. */
  broken: RemoteStorageManager;
  cleanup(): Promise<void>;
}

const TP: TopicIdPartition = { topic: "orders", topicId: "AAAAAAAAAAAAAAAAAAAAAQ", partition: 3 };

function data(seed: number, logSize = 10_000): LogSegmentData {
  const log = new Uint8Array(logSize);
  let x = seed * 2654435761;
  for (let i = 0; i < log.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    log[i] = x >>> 24;
  }
  return {
    log,
    offsetIndex: Uint8Array.from({ length: 80 }, (_, i) => (i * seed) & 255),
    timeIndex: Uint8Array.from({ length: 120 }, (_, i) => (i + seed) & 255),
  };
}

function meta(
  startOffset: number,
  d: LogSegmentData,
  tp: TopicIdPartition = TP,
): RemoteLogSegmentMetadata {
  return {
    segmentId: newSegmentId(),
    topicIdPartition: tp,
    startOffset,
    endOffset: startOffset + 99,
    maxTimestampMs: 1000,
    firstBatchTimestampMs: 900,
    eventTimestampMs: Date.now(),
    brokerId: 1,
    segmentSizeInBytes: d.log.length,
    segmentLeaderEpochs: { "0": startOffset },
    state: "COPY_SEGMENT_STARTED",
    files: describeSegmentData(d),
  };
}

/** The conformance suite: every RemoteStorageManager must pass it. */
export function runRemoteStorageConformance(name: string, make: () => Promise<Backend>): void {
  const test = (title: string, fn: (b: Backend) => Promise<void>) =>
    Deno.test(`${name}: ${title}`, async () => {
      const b = await make();
      try {
        await fn(b);
      } finally {
        await b.cleanup();
      }
    });

  test("copy, describe (size + MD5), fetch indexes and byte ranges", async ({ rsm }) => {
    const d = data(1);
    const m = meta(100, d);
    await rsm.copyLogSegmentData(m, d);
    assert.deepEqual(await rsm.describeLogSegment(m), describeSegmentData(d));
    assert.deepEqual(await rsm.fetchIndex(m, "index"), d.offsetIndex);
    assert.deepEqual(await rsm.fetchIndex(m, "timeindex"), d.timeIndex);
    assert.deepEqual(await rsm.fetchLogSegment(m, 0), d.log);
    assert.deepEqual(await rsm.fetchLogSegment(m, 123, 4567), d.log.subarray(123, 4567));
    assert.deepEqual(await rsm.fetchLogSegment(m, 9_990, 20_000), d.log.subarray(9_990));
    assert.equal((await rsm.fetchLogSegment(m, 10_000)).length, 0);
    assert.equal((await rsm.fetchLogSegment(m, 50, 50)).length, 0);
  });

  test("a multi-megabyte segment round-trips exactly", async ({ rsm }) => {
    const d = data(7, 3 * 1024 * 1024 + 17);
    const m = meta(0, d);
    await rsm.copyLogSegmentData(m, d);
    assert.deepEqual(await rsm.fetchLogSegment(m, 0), d.log);
    const mid = 1024 * 1024 - 5;
    assert.deepEqual(
      await rsm.fetchLogSegment(m, mid, mid + 1_000_000),
      d.log.subarray(mid, mid + 1_000_000),
    );
  });

  test("list names each segment id once; partitions are separate", async ({ rsm }) => {
    const a = meta(0, data(2));
    const b = meta(100, data(3));
    const other = meta(0, data(4), { ...TP, partition: 4 });
    for (const m of [a, b, other]) await rsm.copyLogSegmentData(m, data(2));
    const ids = (await rsm.listRemoteLogSegmentIds(TP)).sort((x, y) =>
      x.startOffset - y.startOffset
    );
    assert.deepEqual(ids, [
      { segmentId: a.segmentId, startOffset: 0 },
      { segmentId: b.segmentId, startOffset: 100 },
    ]);
    assert.deepEqual(await rsm.listRemoteLogSegmentIds({ ...TP, partition: 4 }), [
      { segmentId: other.segmentId, startOffset: 0 },
    ]);
    assert.deepEqual(await rsm.listRemoteLogSegmentIds({ ...TP, partition: 9 }), []);
  });

  test("two uploads of the same offsets under different ids do not collide", async ({ rsm }) => {
    const d1 = data(5);
    const d2 = data(6);
    const m1 = meta(0, d1);
    const m2 = meta(0, d2);
    await rsm.copyLogSegmentData(m1, d1);
    await rsm.copyLogSegmentData(m2, d2);
    assert.deepEqual(await rsm.fetchLogSegment(m1, 0), d1.log);
    assert.deepEqual(await rsm.fetchLogSegment(m2, 0), d2.log);
    await rsm.deleteLogSegmentData(m1);
    assert.deepEqual(await rsm.fetchLogSegment(m2, 0), d2.log);
  });

  test("delete is idempotent and missing objects are RemoteResourceNotFound", async ({ rsm }) => {
    const d = data(8);
    const m = meta(0, d);
    await rsm.copyLogSegmentData(m, d);
    await rsm.deleteLogSegmentData(m);
    await rsm.deleteLogSegmentData(m);
    assert.equal(await rsm.describeLogSegment(m), null);
    await assert.rejects(rsm.fetchLogSegment(m, 0), RemoteResourceNotFoundException);
    await assert.rejects(rsm.fetchIndex(m, "index"), RemoteResourceNotFoundException);
    assert.deepEqual(await rsm.listRemoteLogSegmentIds(TP), []);
  });

  test("a partition's published metadata: absent, replaced whole, not a segment, deleted", async ({ rsm }) => {
    assert.equal(await rsm.fetchPartitionMetadata(TP), null);
    const seg = meta(0, data(2));
    await rsm.copyLogSegmentData(seg, data(2));
    const v1 = new TextEncoder().encode('{"version":1,"n":1}');
    const v2 = new TextEncoder().encode('{"version":1,"n":2,"longer":true}');
    await rsm.putPartitionMetadata(TP, v1);
    assert.deepEqual(await rsm.fetchPartitionMetadata(TP), v1);
    await rsm.putPartitionMetadata(TP, v2);
    assert.deepEqual(await rsm.fetchPartitionMetadata(TP), v2);
    assert.equal(await rsm.fetchPartitionMetadata({ ...TP, partition: 4 }), null);
    // Listing names segments only.
    assert.deepEqual(await rsm.listRemoteLogSegmentIds(TP), [
      { segmentId: seg.segmentId, startOffset: 0 },
    ]);
    await rsm.deletePartitionMetadata(TP);
    await rsm.deletePartitionMetadata(TP);
    assert.equal(await rsm.fetchPartitionMetadata(TP), null);
    assert.deepEqual(await rsm.fetchLogSegment(seg, 0), data(2).log);
  });

  test("an unreachable store fails with RemoteStorageException", async ({ broken }) => {
    const d = data(9);
    const m = meta(0, d);
    await assert.rejects(broken.copyLogSegmentData(m, d), RemoteStorageException);
    await assert.rejects(broken.fetchLogSegment(m, 0), RemoteStorageException);
    await assert.rejects(broken.listRemoteLogSegmentIds(TP), RemoteStorageException);
    await assert.rejects(broken.fetchPartitionMetadata(TP), RemoteStorageException);
    await assert.rejects(
      broken.putPartitionMetadata(TP, new Uint8Array(1)),
      RemoteStorageException,
    );
  });
}

runRemoteStorageConformance("directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "rsm-dir-" });
  const blocker = `${root}/not-a-dir`;
  await Deno.writeTextFile(blocker, "x");
  return {
    rsm: new DirectoryRemoteStorageManager(`${root}/tier`),
    broken: new DirectoryRemoteStorageManager(`${blocker}/tier`),
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
});

runRemoteStorageConformance("s3", async () => {
  const server = await S3TestServer.start("conformance");
  // A port that was just free and is closed again: connections are refused.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (l.addr as Deno.NetAddr).port;
  l.close();
  const mk = (endpoint: string) =>
    new S3RemoteStorageManager({
      bucket: "conformance",
      prefix: "cluster-a/",
      endpoint,
      region: "us-east-1",
      accessKeyId: S3_ACCESS_KEY,
      secretAccessKey: S3_SECRET_KEY,
      timeoutMs: 5_000,
    });
  return {
    rsm: mk(server.endpoint),
    broken: mk(`http://127.0.0.1:${deadPort}`),
    cleanup: () => server.stop(),
  };
});

Deno.test("remote.log.storage.uri picks the back end", () => {
  assert.ok(createRemoteStorageManager("file:///tmp/x") instanceof DirectoryRemoteStorageManager);
  assert.ok(createRemoteStorageManager("/tmp/x") instanceof DirectoryRemoteStorageManager);
  const s3 = createRemoteStorageManager("s3://bucket/some/prefix", {
    endpoint: "http://127.0.0.1:1",
    accessKeyId: "a",
    secretAccessKey: "b",
  });
  assert.ok(s3 instanceof S3RemoteStorageManager);
  assert.equal(s3.description, "s3://bucket/some/prefix/");
  assert.throws(() => createRemoteStorageManager("s3://bucket/p"), /AWS_ACCESS_KEY_ID/);
  assert.throws(() => createRemoteStorageManager("gs://bucket/p"), /only file:\/\/ and s3:\/\//);
});
