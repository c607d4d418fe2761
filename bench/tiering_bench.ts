/**
 * Tiered storage and compaction benchmark (storage layer, no network clients):
 *
 *   deno run -A bench/tiering_bench.ts [--mb 64] [--json out.json]
 *
 * 1. Fetch throughput: a partition of `--mb` MiB is read sequentially (1 MiB fetches, as a
 *    consumer would) from the hot tier (local segments, page cache), then after every closed
 *    segment moved to the cold tier and local retention dropped the local copies: from the
 *    directory tier and from an S3-compatible server (s3rver, started here on 127.0.0.1, in
 *    this process). Printed as MB/s and as cold/hot ratios. The read cache is kept smaller
 *    than the data, so the cold numbers are real cold-tier reads.
 * 2. Produce throughput: appends to a plain topic for 3 s alone, then for 3 s while the
 *    RemoteLogManager copies a backlog of segments to the directory tier and the LogCleaner
 *    compacts another topic, both in the background on the same event loop. Printed as MB/s
 *    and as a ratio, with the work the background tasks got done meanwhile.
 */
import { parseArgs } from "node:util";
import S3rver from "s3rver";
import { encodeRecordBatch } from "../protocol/records.ts";
import { LogManager } from "../storage/log_manager.ts";
import type { PartitionLog } from "../storage/partition_log.ts";
import type { RemoteStorageManager } from "../storage/remote_storage.ts";
import { DirectoryRemoteStorageManager } from "../storage/remote_storage_fs.ts";
import { S3RemoteStorageManager } from "../storage/remote_storage_s3.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { mb: { type: "string", default: "64" }, json: { type: "string" } },
});
const MB = Number(args.mb);
const RECORD = 1024;
const PER_BATCH = 64;

function makeBatch(i: number, keys = 1 << 30): Uint8Array {
  const value = "x".repeat(RECORD - 20);
  return encodeRecordBatch({
    records: Array.from({ length: PER_BATCH }, (_, j) => ({
      key: `k${(i * PER_BATCH + j) % keys}`,
      value,
      timestamp: Date.now(),
    })),
  });
}

async function fill(log: PartitionLog, mb: number, keys?: number): Promise<number> {
  const batches = Math.ceil((mb * 1024 * 1024) / (RECORD * PER_BATCH));
  for (let i = 0; i < batches; i++) await log.append(makeBatch(i, keys));
  return log.localBytes;
}

/** Reads the whole log sequentially with 1 MiB fetches; returns MB/s. */
async function readThroughput(log: PartitionLog): Promise<{ mbps: number; bytes: number }> {
  let offset = log.logStartOffset;
  let bytes = 0;
  const t0 = performance.now();
  while (offset < log.logEndOffset) {
    const buf = await log.read(offset, 1 << 20, { minOneBatch: true });
    if (buf.length === 0) throw new Error(`stuck at ${offset}`);
    bytes += buf.length;
    // Next offset: after the last whole batch.
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let pos = 0;
    while (pos < buf.length) {
      offset = Number(view.getBigInt64(pos)) + view.getInt32(pos + 23) + 1;
      pos += view.getInt32(pos + 8) + 12;
    }
  }
  const s = (performance.now() - t0) / 1000;
  return { mbps: bytes / 1024 / 1024 / s, bytes };
}

async function tieredLog(
  dir: string,
  rsm: RemoteStorageManager,
): Promise<{ lm: LogManager; log: PartitionLog }> {
  const lm = await LogManager.open(dir, {
    remoteStorage: rsm,
    remoteLogManager: { cacheBytes: 8 << 20 },
    cleaner: { enable: false },
  });
  await lm.createTopic("bench", 1, {
    "remote.storage.enable": "true",
    "segment.bytes": String(8 << 20),
    "local.retention.bytes": "0",
  });
  return { lm, log: lm.getPartition("bench", 0)! };
}

const root = await Deno.makeTempDir({ prefix: "tiering-bench-" });
const results: Record<string, number> = {};
try {
  // ---- 1. fetch throughput: hot vs cold (directory), hot vs cold (S3)
  {
    const { lm, log } = await tieredLog(
      `${root}/dir-data`,
      new DirectoryRemoteStorageManager(`${root}/tier`),
    );
    await fill(log, MB);
    const hot = await readThroughput(log);
    await readThroughput(log); // warm the page cache the same way for the second hot run
    const hot2 = await readThroughput(log);
    results.hotMBps = Math.max(hot.mbps, hot2.mbps);
    await lm.remoteLogManager.runOnce(true);
    await lm.runRetention();
    const cold = await readThroughput(log);
    results.coldDirMBps = cold.mbps;
    results.coldDirBytes = cold.bytes;
    await lm.close();
  }
  {
    const dir = `${root}/s3rver`;
    await Deno.mkdir(dir);
    const server = new S3rver({
      port: 0,
      address: "127.0.0.1",
      silent: true,
      directory: dir,
      configureBuckets: [{ name: "bench" }],
    });
    const addr = await server.run();
    try {
      const rsm = new S3RemoteStorageManager({
        bucket: "bench",
        prefix: "b/",
        endpoint: `http://127.0.0.1:${addr.port}`,
        accessKeyId: "S3RVER",
        secretAccessKey: "S3RVER",
      });
      const { lm, log } = await tieredLog(`${root}/s3-data`, rsm);
      await fill(log, MB);
      const hot = await readThroughput(log);
      results.hotMBps2 = hot.mbps;
      const t0 = performance.now();
      await lm.remoteLogManager.runOnce(true);
      results.s3UploadMBps = log.remoteBytes / 1024 / 1024 / ((performance.now() - t0) / 1000);
      await lm.runRetention();
      const cold = await readThroughput(log);
      results.coldS3MBps = cold.mbps;
      await lm.close();
    } finally {
      await server.close();
    }
  }

  // ---- 2. produce throughput alone vs with uploads + compaction in the background
  {
    const lm = await LogManager.open(`${root}/produce`, {
      remoteStorage: new DirectoryRemoteStorageManager(`${root}/tier2`),
      remoteLogManager: { taskIntervalMs: 10, retryBackoffMs: 10 },
      cleaner: { backoffMs: 10 },
      retentionCheckIntervalMs: 100,
    });
    await lm.createTopic("plain", 1, { "segment.bytes": String(8 << 20) });
    await lm.createTopic("tiered", 1, {
      "remote.storage.enable": "true",
      "segment.bytes": String(1 << 20),
      "local.retention.bytes": "0",
    });
    await lm.createTopic("compacted", 1, {
      "cleanup.policy": "compact",
      "segment.bytes": String(1 << 20),
      "min.cleanable.dirty.ratio": "0.01",
    });
    const plain = lm.getPartition("plain", 0)!;
    // Appends for a fixed window; returns MB/s.
    const measure = async (ms: number) => {
      const bytes0 = plain.localBytes;
      const t0 = performance.now();
      let i = 0;
      while (performance.now() - t0 < ms) await plain.append(makeBatch(i++));
      return (plain.localBytes - bytes0) / 1024 / 1024 / ((performance.now() - t0) / 1000);
    };
    results.produceAloneMBps = await measure(3000);
    // A backlog for both background tasks, then produce while they work.
    await fill(lm.getPartition("tiered", 0)!, MB);
    await fill(lm.getPartition("compacted", 0)!, MB / 4, 1000);
    lm.startBackgroundTasks();
    const copied0 = lm.remoteLogManager.stats.copied;
    const copiedBytes0 = lm.remoteLogManager.stats.copiedBytes;
    const cleaned0 = lm.cleaner!.stats.segmentsRewritten;
    results.produceWithBackgroundMBps = await measure(3000);
    results.segmentsCopiedDuring = lm.remoteLogManager.stats.copied - copied0;
    results.segmentsCompactedDuring = lm.cleaner!.stats.segmentsRewritten - cleaned0;
    results.mbCopiedDuring = (lm.remoteLogManager.stats.copiedBytes - copiedBytes0) / 1024 / 1024;
    await lm.close();
  }
} finally {
  await Deno.remove(root, { recursive: true }).catch(() => {});
}

const f = (n: number) => n.toFixed(1);
console.log(`data: ${MB} MiB, ${PER_BATCH} x ${RECORD} B records per batch\n`);
console.log(`fetch, hot tier (local)         ${f(results.hotMBps)} MB/s`);
console.log(
  `fetch, cold tier (directory)    ${f(results.coldDirMBps)} MB/s   cold/hot = ${
    (results.coldDirMBps / results.hotMBps).toFixed(3)
  }`,
);
console.log(
  `fetch, cold tier (S3, s3rver)   ${f(results.coldS3MBps)} MB/s   cold/hot = ${
    (results.coldS3MBps / results.hotMBps).toFixed(3)
  }`,
);
console.log(`upload to S3 (s3rver)           ${f(results.s3UploadMBps)} MB/s\n`);
console.log(`produce alone                   ${f(results.produceAloneMBps)} MB/s`);
console.log(
  `produce + uploads + compaction  ${f(results.produceWithBackgroundMBps)} MB/s   ratio = ${
    (results.produceWithBackgroundMBps / results.produceAloneMBps).toFixed(3)
  }   (meanwhile ${results.segmentsCopiedDuring} segments / ${
    f(results.mbCopiedDuring)
  } MB copied, ${results.segmentsCompactedDuring} segments compacted)`,
);
if (args.json) await Deno.writeTextFile(args.json, JSON.stringify(results, null, 2));
