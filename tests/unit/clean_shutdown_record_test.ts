/**
 * The LogManager's clean-shutdown record (storage/clean_shutdown_record.ts): one file per
 * manager instead of a marker per partition, taken before any partition opens, so a crash
 * after a start is still recovered as a crash, and never trusted across worker layouts.
 */
import assert from "node:assert/strict";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { LogManager, type LogManagerOptions } from "../../storage/log_manager.ts";
import { CLEAN_SHUTDOWN_FILE } from "../../storage/partition_log.ts";
import { segmentFileName } from "../../storage/log_files.ts";
import { CLEAN_SHUTDOWN_RECORD } from "../../storage/clean_shutdown_record.ts";

function batch(value: string): Uint8Array {
  return encodeRecordBatch({ records: [{ value, timestamp: 1_700_000_000_000 }] });
}

function records(dataDir: string): string[] {
  return [...Deno.readDirSync(`${dataDir}/meta`)]
    .map((e) => e.name)
    .filter((n) => n.startsWith(CLEAN_SHUTDOWN_RECORD))
    .sort();
}

function cleanFlags(lm: LogManager, topic: string, n: number): boolean[] {
  return Array.from({ length: n }, (_, p) => lm.getPartition(topic, p)!.recovery.cleanShutdown);
}

async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "clean-shutdown-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a clean close writes one record, not a marker per partition; the next open trusts it once", async () => {
  await withDataDir(async (dir) => {
    const lm = await LogManager.open(dir);
    await lm.createTopic("orders", 3);
    await lm.getPartition("orders", 1)!.append(batch("a"));
    await lm.close();
    assert.deepEqual(records(dir), [CLEAN_SHUTDOWN_RECORD]);
    const text = Deno.readTextFileSync(`${dir}/meta/${CLEAN_SHUTDOWN_RECORD}`);
    assert.equal(text.split("\n").slice(0, 2).join(","), "0,3");
    for (let p = 0; p < 3; p++) {
      assert.throws(() => Deno.statSync(`${dir}/orders-${p}/${CLEAN_SHUTDOWN_FILE}`));
    }

    const again = await LogManager.open(dir);
    assert.deepEqual(cleanFlags(again, "orders", 3), [true, true, true]);
    assert.deepEqual(records(dir), [], "taken at open");
    assert.equal(again.getPartition("orders", 1)!.logEndOffset, 1);

    // A crash now (no close): the next open checks every batch and cuts a torn tail.
    await again.getPartition("orders", 1)!.append(batch("b"));
    const path = `${dir}/orders-1/${segmentFileName(0, ".log")}`;
    const size = Deno.statSync(path).size;
    Deno.writeFileSync(path, batch("torn").subarray(0, 30), { append: true });
    const afterCrash = await LogManager.open(dir);
    assert.deepEqual(cleanFlags(afterCrash, "orders", 3), [false, false, false]);
    const log = afterCrash.getPartition("orders", 1)!;
    assert.equal(log.recovery.truncatedBytes, 30);
    assert.equal(log.logEndOffset, 2);
    assert.equal(Deno.statSync(path).size, size);
    await afterCrash.close();
    await again.close().catch(() => {});
  });
});

Deno.test("after a clean close, recorded partitions keep their state and strays still go", async () => {
  await withDataDir(async (dir) => {
    const lm = await LogManager.open(dir);
    await lm.createTopic("kept", 2);
    for (let i = 0; i < 3; i++) await lm.getPartition("kept", 0)!.append(batch(`v${i}`));
    await lm.getPartition("kept", 0)!.deleteRecordsBefore(2);
    await lm.close();
    // A directory no record or catalogue knows, with another topic id: not this broker's.
    Deno.mkdirSync(`${dir}/ghost-0`);
    Deno.writeTextFileSync(
      `${dir}/ghost-0/partition.metadata`,
      "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n",
    );
    const again = await LogManager.open(dir);
    assert.deepEqual(cleanFlags(again, "kept", 2), [true, true]);
    const log = again.getPartition("kept", 0)!;
    assert.equal(log.logStartOffset, 2, "the checkpointed log start of the same topic");
    assert.equal(log.logEndOffset, 3);
    assert.throws(() => Deno.statSync(`${dir}/ghost-0`), Deno.errors.NotFound);
    await again.close();
  });
});

/** The record's lines for `topic`, without the topic ids ("orders 0 0"). */
function recordLines(dataDir: string, topic: string): string[] {
  return Deno.readTextFileSync(`${dataDir}/meta/${CLEAN_SHUTDOWN_RECORD}`).split("\n")
    .filter((l) => l.startsWith(`${topic} `))
    .map((l) => l.split(" ").filter((_, i) => i !== 2).join(" "))
    .sort();
}

Deno.test("an empty partition's record names its sole segment; its next open lists nothing, yet sees a changed .log", async () => {
  await withDataDir(async (dir) => {
    const lm = await LogManager.open(dir);
    await lm.createTopic("orders", 3);
    await lm.getPartition("orders", 1)!.append(batch("a"));
    await lm.close();
    assert.deepEqual(recordLines(dir, "orders"), ["orders 0 0", "orders 1", "orders 2 0"]);

    const again = await LogManager.open(dir);
    assert.deepEqual(cleanFlags(again, "orders", 3), [true, true, true]);
    assert.equal(again.getPartition("orders", 0)!.logEndOffset, 0);
    assert.equal(again.getPartition("orders", 1)!.logEndOffset, 1);
    await again.getPartition("orders", 0)!.append(batch("b"));
    await again.close();
    assert.deepEqual(recordLines(dir, "orders"), ["orders 0", "orders 1", "orders 2 0"]);

    // Something wrote into the recorded-empty .log meanwhile: the open looks after all.
    Deno.writeFileSync(`${dir}/orders-2/${segmentFileName(0, ".log")}`, batch("c"));
    const third = await LogManager.open(dir);
    assert.deepEqual(
      [0, 1, 2].map((p) => third.getPartition("orders", p)!.logEndOffset),
      [1, 1, 1],
    );
    await third.getPartition("orders", 2)!.append(batch("d"));
    assert.equal(third.getPartition("orders", 2)!.logEndOffset, 2);
    await third.close();
    assert.deepEqual(recordLines(dir, "orders"), ["orders 0", "orders 1", "orders 2"]);
  });
});

Deno.test("a partition whose directory holds more than its empty .log is not recorded as empty", async () => {
  await withDataDir(async (dir) => {
    const lm = await LogManager.open(dir);
    await lm.createTopic("t", 2);
    const log = lm.getPartition("t", 0)!;
    log.leaderEpochCache.assign(3, 0); // writes leader-epoch-checkpoint
    await lm.close();
    assert.deepEqual(recordLines(dir, "t"), ["t 0", "t 1 0"]);
    assert.ok(Deno.statSync(`${dir}/t-0/leader-epoch-checkpoint`).isFile);
  });
});

Deno.test("a torn clean-shutdown record counts as none", async () => {
  await withDataDir(async (dir) => {
    const lm = await LogManager.open(dir);
    await lm.createTopic("t", 2);
    await lm.close();
    const path = `${dir}/meta/${CLEAN_SHUTDOWN_RECORD}`;
    const text = Deno.readTextFileSync(path);
    Deno.writeTextFileSync(path, text.slice(0, text.lastIndexOf("\n", text.length - 2) + 1));
    const again = await LogManager.open(dir);
    assert.deepEqual(cleanFlags(again, "t", 2), [false, false]);
    assert.deepEqual(records(dir), []);
    await again.close();
  });
});

Deno.test("clean-shutdown records are kept per worker layout and dropped by a start of another", async () => {
  await withDataDir(async (dir) => {
    const workers = (n: number): LogManagerOptions[] =>
      Array.from({ length: n }, (_, i) => ({
        owns: (_t: string, p: number) => p % n === i,
        catalogueWriter: i === 0,
        checkpointSuffix: i === 0 ? "" : `.w${i}`,
        cleanShutdownSuffix: `.w${i}of${n}`,
      }));
    /** Opens a layout as the supervisor does: the catalogue writer first. */
    const openAll = async (opts: LogManagerOptions[]) => {
      const out: LogManager[] = [];
      for (const o of opts) out.push(await LogManager.open(dir, o));
      return out;
    };
    const flags = (lms: LogManager[], n: number) =>
      Array.from({ length: 4 }, (_, p) => lms[p % n].getPartition("t", p)!.recovery.cleanShutdown);

    const single = await LogManager.open(dir);
    await single.createTopic("t", 4);
    await single.close();
    assert.deepEqual(records(dir), [CLEAN_SHUTDOWN_RECORD]);

    // Two workers: the single manager's record is another layout's, removed unread.
    let two = await openAll(workers(2));
    assert.deepEqual(flags(two, 2), [false, false, false, false]);
    assert.deepEqual(records(dir), []);
    for (const lm of two) await lm.close();
    assert.deepEqual(records(dir), [
      `${CLEAN_SHUTDOWN_RECORD}.w0of2`,
      `${CLEAN_SHUTDOWN_RECORD}.w1of2`,
    ]);

    // The same layout again: each worker trusts its own record.
    two = await openAll(workers(2));
    assert.deepEqual(flags(two, 2), [true, true, true, true]);
    await two[1].getPartition("t", 1)!.append(batch("x"));
    for (const lm of two) await lm.close();

    // Three workers (worker 1 of 3 owns partition 1 again, but its record is not the one of
    // 1 of 2): nothing is trusted; the two-worker records are gone.
    const three = await openAll(workers(3));
    const trusted = Array.from(
      { length: 4 },
      (_, p) => three[p % 3].getPartition("t", p)!.recovery.cleanShutdown,
    );
    assert.deepEqual(trusted, [false, false, false, false]);
    assert.deepEqual(records(dir), []);
    assert.equal(three[1].getPartition("t", 1)!.logEndOffset, 1);
    for (const lm of three) await lm.close();

    // Back to one manager: the three-worker records are dropped, none trusted.
    const last = await LogManager.open(dir);
    assert.deepEqual(cleanFlags(last, "t", 4), [false, false, false, false]);
    assert.deepEqual(records(dir), []);
    await last.close();
  });
});
