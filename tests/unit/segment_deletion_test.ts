/**
 * `file.delete.delay.ms`, as Kafka deletes segments: a segment that retention or DeleteRecords
 * removes is renamed `.deleted` at once and its files are removed after the delay; 0 removes
 * them at once; files left by a broker that stopped first are removed when the log opens.
 */
import assert from "node:assert/strict";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { type LogConfig, logConfig } from "../../storage/log_config.ts";
import { PartitionLog } from "../../storage/partition_log.ts";

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /^\d{20}\./.test(n)).sort();
}

async function withSegments(
  cfg: Partial<LogConfig>,
  fn: (dir: string, log: PartitionLog) => Promise<PartitionLog>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "segment-deletion-" });
  const dir = `${root}/t-0`;
  let log = await PartitionLog.open(dir, logConfig({ segmentBytes: 200, ...cfg }));
  try {
    for (let i = 0; i < 4; i++) {
      await log.append(encodeRecordBatch({ records: [{ value: "x".repeat(120), timestamp: 1 }] }));
    }
    assert.ok(log.segmentCount >= 3, `${log.segmentCount} segments`);
    log = await fn(dir, log);
  } finally {
    await log.close();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("a deleted segment is renamed .deleted and removed file.delete.delay.ms later", async () => {
  await withSegments({ fileDeleteDelayMs: 150 }, async (dir, log) => {
    await log.deleteRecordsBefore(1);
    assert.deepEqual(log.segmentBaseOffsets()[0], 1);
    const first = "00000000000000000000";
    const after = names(dir).filter((n) => n.startsWith(first));
    assert.deepEqual(after, [
      `${first}.index.deleted`,
      `${first}.log.deleted`,
      `${first}.timeindex.deleted`,
    ]);
    // The log reads on from its new start meanwhile.
    assert.ok((await log.read(1, 1 << 20)).length > 0);
    const until = Date.now() + 10_000;
    while (names(dir).some((n) => n.endsWith(".deleted"))) {
      assert.ok(Date.now() < until, `still there: ${names(dir)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(!names(dir).some((n) => n.startsWith(first)));
    return log;
  });
});

Deno.test("file.delete.delay.ms=0 removes a deleted segment's files at once", async () => {
  await withSegments({ fileDeleteDelayMs: 0 }, async (dir, log) => {
    await log.deleteRecordsBefore(1);
    assert.ok(!names(dir).some((n) => n.startsWith("00000000000000000000")), String(names(dir)));
    return log;
  });
});

Deno.test(".deleted files left by a stopped broker are removed when the log opens", async () => {
  await withSegments({ fileDeleteDelayMs: 3_600_000 }, async (dir, log) => {
    await log.deleteRecordsBefore(1);
    assert.ok(names(dir).some((n) => n.endsWith(".deleted")));
    const cfg = log.config;
    await log.close();
    const reopened = await PartitionLog.open(dir, cfg);
    assert.ok(!names(dir).some((n) => n.endsWith(".deleted")), String(names(dir)));
    assert.equal(reopened.logStartOffset, 1);
    return reopened;
  });
});
