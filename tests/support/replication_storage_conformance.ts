/**
 * The replication primitives of a PartitionLog, run against every storage engine
 * (`runReplicationStorageConformance`, beside the storage conformance suite): the managed high
 * watermark, follower appends byte for byte, truncation with producer state and aborted
 * transactions rebuilt, the leader epoch cache, and (durable engines only) what survives a
 * reopen. A leader log and a follower log of the same engine are used throughout: the
 * follower is given exactly the bytes a replica fetch reads from the leader.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  forEachBatch,
  setBaseOffset,
  setPartitionLeaderEpoch,
} from "../../protocol/record_batch.ts";
import type { LogConfig } from "../../storage/log_config.ts";
import type { PartitionLog } from "../../storage/partition_log.ts";
import { conformanceTest, type StorageHarness } from "./storage_conformance.ts";
import { baseOffsets, concat, marker, rejectsWith, testBatch as batch } from "./log_fixtures.ts";

/** Everything `log` holds, as replica fetches read it (up to the log end, a segment each). */
async function readAll(log: PartitionLog): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const part = await log.read(offset, 64 << 20, {
      minOneBatch: true,
      upperBound: log.fetchUpperBound("logEnd"),
    });
    if (part.length === 0) break;
    parts.push(part);
    forEachBatch(part, (_p, h) => void (offset = h.baseOffset + h.lastOffsetDelta + 1));
  }
  return concat(parts);
}

/** Moves everything the leader has that the follower lacks, as replica fetches would. */
async function replicate(leader: PartitionLog, follower: PartitionLog): Promise<void> {
  while (follower.logEndOffset < leader.logEndOffset) {
    const bytes = await leader.read(follower.logEndOffset, 64 << 20, {
      minOneBatch: true,
      upperBound: leader.fetchUpperBound("logEnd"),
    });
    await follower.appendAsFollower(bytes);
  }
}

export function runReplicationStorageConformance(
  name: string,
  make: () => Promise<StorageHarness>,
  opts: { durable: boolean },
): void {
  const test = conformanceTest("replication storage", name, make, opts);
  /** A leader log "t-0" and a follower log "f-0" of the engine. */
  const withPair = (
    what: string,
    config: Partial<LogConfig>,
    fn: (leader: PartitionLog, follower: PartitionLog, h: StorageHarness) => Promise<void>,
    needs: { durable?: boolean } = {},
  ) =>
    test(what, async (h) => {
      const leader = await h.open("t-0", config);
      const follower = await h.open("f-0", config);
      try {
        await fn(leader, follower, h);
      } finally {
        await leader.close();
        await follower.close();
      }
    }, needs);

  withPair("the high watermark follows the log end by default", {}, async (leader) => {
    assert.equal(leader.highWatermarkFollowsLogEnd, true);
    await leader.append(batch(3, "a"));
    assert.equal(leader.highWatermark, 3);
    assert.equal(leader.updateHighWatermark(1), false, "no effect while it follows");
    assert.equal(leader.highWatermark, 3);
    assert.equal(leader.fetchUpperBound("logEnd"), 3);
    assert.equal(leader.fetchUpperBound("highWatermark"), 3);
  });

  withPair(
    "a managed high watermark moves only by updateHighWatermark, clamped, waking listeners",
    {},
    async (leader) => {
      await leader.append(batch(2, "a"));
      leader.highWatermarkFollowsLogEnd = false;
      assert.equal(leader.highWatermark, 2, "switching keeps the current value");
      await leader.append(batch(3, "b"));
      assert.equal(leader.logEndOffset, 5);
      assert.equal(leader.highWatermark, 2);
      let woken = 0;
      leader.onAppend(() => woken++);
      assert.equal(leader.updateHighWatermark(4), true);
      assert.equal(woken, 1);
      assert.equal(leader.highWatermark, 4);
      assert.equal(leader.updateHighWatermark(4), false);
      assert.equal(woken, 1, "no change, no wake-up");
      assert.equal(leader.updateHighWatermark(99), true);
      assert.equal(leader.highWatermark, 5, "clamped to the log end");
      assert.equal(leader.updateHighWatermark(-7), true);
      assert.equal(leader.highWatermark, 0, "clamped to the log start");
      assert.equal(woken, 3);
      // Consumers read to the high watermark, replicas to the log end.
      assert.equal(leader.updateHighWatermark(2), true);
      assert.equal(woken, 4);
      assert.deepEqual(
        baseOffsets(
          await leader.read(0, 1 << 20, { upperBound: leader.fetchUpperBound("highWatermark") }),
        ),
        [0],
      );
      assert.deepEqual(
        baseOffsets(
          await leader.read(0, 1 << 20, { upperBound: leader.fetchUpperBound("logEnd") }),
        ),
        [0, 2],
      );
      assert.deepEqual(baseOffsets(await leader.read(0, 1 << 20, { isolation: "logEnd" })), [0, 2]);
      assert.deepEqual(
        baseOffsets(await leader.read(0, 1 << 20, { isolation: "highWatermark" })),
        [0],
      );
      assert.deepEqual(baseOffsets(leader.readLocal(0, 1 << 20, { isolation: "txnCommitted" })), [
        0,
      ]);
      assert.equal(leader.lastStableOffset, 2, "the LSO is bounded by the high watermark");
      // DeleteRecords may not go past the high watermark.
      await rejectsWith(leader.deleteRecordsBefore(3), ErrorCode.OFFSET_OUT_OF_RANGE);
      leader.highWatermarkFollowsLogEnd = true;
      assert.equal(leader.highWatermark, 5);
      assert.equal(woken, 5, "going back to following the log end wakes the listeners");
    },
  );

  withPair(
    "appendAsFollower stores the leader's batches byte for byte, offsets and epochs kept",
    {},
    async (leader, follower) => {
      await leader.append(batch(3, "a"), { leaderEpoch: 3 });
      await leader.append(batch(2, "b"), { leaderEpoch: 3 });
      await leader.append(batch(4, "c"), { leaderEpoch: 5 });
      const bytes = await readAll(leader);
      const copy = bytes.slice();
      const r = await follower.appendAsFollower(bytes);
      assert.deepEqual(
        [r.baseOffset, r.lastOffset, r.recordCount, r.duplicate],
        [0, 8, 9, false],
      );
      assert.deepEqual(bytes, copy, "the input is not modified");
      assert.equal(follower.logEndOffset, 9);
      assert.deepEqual(await readAll(follower), bytes);
      assert.deepEqual(follower.leaderEpochCache.epochEntries(), [
        { epoch: 3, startOffset: 0 },
        { epoch: 5, startOffset: 5 },
      ]);
      assert.deepEqual(leader.leaderEpochCache.epochEntries(), [
        { epoch: 3, startOffset: 0 },
        { epoch: 5, startOffset: 5 },
      ]);
      assert.deepEqual(follower.endOffsetForEpoch(3), { epoch: 3, endOffset: 5 });
      assert.deepEqual(follower.endOffsetForEpoch(5), { epoch: 5, endOffset: 9 });
      assert.deepEqual(follower.endOffsetForEpoch(4), { epoch: 3, endOffset: 5 });
      assert.deepEqual(follower.endOffsetForEpoch(6), { epoch: -1, endOffset: -1 });
      // Nothing whole to append: nothing changes.
      const none = await follower.appendAsFollower(new Uint8Array(0));
      assert.deepEqual([none.recordCount, follower.logEndOffset], [0, 9]);
    },
  );

  withPair(
    "a follower append is refused whole below the log end, out of order, or corrupt",
    {},
    async (leader, follower) => {
      await leader.append(batch(2, "a"), { leaderEpoch: 1 });
      await leader.append(batch(2, "b"), { leaderEpoch: 1 });
      const bytes = await readAll(leader);
      await follower.appendAsFollower(bytes);
      const before = await readAll(follower);
      // The same batches again start below the log end: nothing is appended.
      await rejectsWith(follower.appendAsFollower(bytes), ErrorCode.OFFSET_OUT_OF_RANGE);
      // A batch with a flipped byte fails its CRC: nothing of the request is appended.
      await leader.append(batch(1, "c"), { leaderEpoch: 1 });
      await leader.append(batch(1, "d"), { leaderEpoch: 1 });
      const tail = await leader.read(4, 1 << 20, { upperBound: leader.logEndOffset });
      const bad = tail.slice();
      bad[bad.length - 1] ^= 0xff;
      await rejectsWith(follower.appendAsFollower(bad), ErrorCode.CORRUPT_MESSAGE);
      // Batches out of order (the second does not follow the first).
      const swapped = new Uint8Array(tail.length);
      const [p0, p1] = (() => {
        const pos: number[] = [];
        forEachBatch(tail, (p) => void pos.push(p));
        return pos;
      })();
      swapped.set(tail.subarray(p1), 0);
      swapped.set(tail.subarray(p0, p1), tail.length - p1);
      await rejectsWith(follower.appendAsFollower(swapped), ErrorCode.CORRUPT_MESSAGE);
      assert.equal(follower.logEndOffset, 4);
      assert.deepEqual(await readAll(follower), before);
      // A trailing partial batch is left for the next fetch.
      const partial = tail.subarray(0, tail.length - 5);
      const r = await follower.appendAsFollower(partial);
      assert.deepEqual([r.baseOffset, r.lastOffset], [4, 4]);
      assert.equal(follower.logEndOffset, 5);
      await follower.appendAsFollower(tail.subarray(p1));
      assert.deepEqual(await readAll(follower), await readAll(leader));
    },
  );

  withPair(
    "a follower takes batches starting above its log end (a compacted leader's gap)",
    {},
    async (leader, follower) => {
      await leader.append(batch(2, "a"), { leaderEpoch: 1 });
      await follower.appendAsFollower(await readAll(leader));
      // The leader's batches for offsets 2..9 were cleaned away; the next one starts at 10.
      const later = batch(3, "later");
      setBaseOffset(later, 0, 10);
      setPartitionLeaderEpoch(later, 0, 2);
      const r = await follower.appendAsFollower(later);
      assert.deepEqual([r.baseOffset, r.lastOffset], [10, 12]);
      assert.equal(follower.logEndOffset, 13);
      assert.deepEqual(baseOffsets(await readAll(follower)), [0, 10]);
      assert.deepEqual(follower.leaderEpochCache.epochEntries(), [
        { epoch: 1, startOffset: 0 },
        { epoch: 2, startOffset: 10 },
      ]);
      // A read inside the gap starts at the next batch, as on the leader.
      assert.deepEqual(baseOffsets(await follower.read(5, 1 << 20)), [10]);
    },
  );

  withPair(
    "a deposed leader truncates its own epoch's tail and follows the new leader's",
    {},
    async (leader, follower) => {
      // Both had epoch 1's batches; the old leader (follower here) wrote more under epoch 1
      // that never replicated; the new leader wrote under epoch 2 from offset 4.
      await leader.append(batch(2, "x"), { leaderEpoch: 1 });
      await leader.append(batch(2, "y"), { leaderEpoch: 1 });
      await replicate(leader, follower);
      await follower.append(batch(3, "lost"), { leaderEpoch: 1 });
      await leader.append(batch(1, "z"), { leaderEpoch: 2 });
      // Kafka's truncation by epoch: where did epoch 1 end on the leader?
      const end = leader.endOffsetForEpoch(follower.leaderEpochCache.latestEpoch);
      assert.deepEqual(end, { epoch: 1, endOffset: 4 });
      await follower.truncateTo(end.endOffset);
      await replicate(leader, follower);
      assert.deepEqual(await readAll(follower), await readAll(leader));
      assert.deepEqual(
        follower.leaderEpochCache.epochEntries(),
        leader.leaderEpochCache.epochEntries(),
      );
    },
  );

  withPair(
    "garbage from a leader is a Kafka error or nothing, never a crash or a partial append",
    {},
    async (leader, follower) => {
      await leader.append(batch(3, "g"), { leaderEpoch: 1 });
      const good = await readAll(leader);
      let seed = 7;
      const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      for (let i = 0; i < 300; i++) {
        let bytes: Uint8Array;
        if (i % 3 === 0) {
          bytes = new Uint8Array(rnd() % 200).map(() => rnd() & 0xff);
        } else {
          bytes = good.slice(0, i % 3 === 1 ? good.length : rnd() % (good.length + 1));
          for (let k = 0; k < 1 + (rnd() % 3); k++) {
            bytes[rnd() % bytes.length] ^= 1 + (rnd() % 255);
          }
        }
        try {
          const r = await follower.appendAsFollower(bytes);
          // Only a batch that survived its mutations whole (a flipped base offset byte) lands.
          if (r.recordCount > 0) await follower.truncateTo(0);
        } catch (e) {
          assert.ok(e instanceof KafkaError, `not a KafkaError: ${e}`);
        }
        assert.equal(follower.logEndOffset, 0);
      }
      await follower.appendAsFollower(good);
      assert.deepEqual(await readAll(follower), good);
    },
  );

  withPair(
    "a follower continues the producers' sequences when it becomes leader",
    {},
    async (leader, follower) => {
      const pid = 7;
      await leader.append(batch(2, "a", { producerId: pid, producerEpoch: 0, baseSequence: 0 }));
      await leader.append(batch(3, "b", { producerId: pid, producerEpoch: 0, baseSequence: 2 }));
      await replicate(leader, follower);
      assert.equal(follower.producerState.get(pid)?.producerEpoch, 0);
      // The follower is leader now (a new epoch): the next batch continues at sequence 5.
      const next = await follower.append(
        batch(1, "c", { producerId: pid, producerEpoch: 0, baseSequence: 5 }),
        { leaderEpoch: 2 },
      );
      assert.deepEqual([next.baseOffset, next.duplicate], [5, false]);
      // A retry of a batch the old leader wrote is recognised, with its original offsets.
      const retry = await follower.append(
        batch(3, "b", { producerId: pid, producerEpoch: 0, baseSequence: 2 }),
        { leaderEpoch: 2 },
      );
      assert.deepEqual([retry.baseOffset, retry.lastOffset, retry.duplicate], [2, 4, true]);
      await rejectsWith(
        follower.append(batch(1, "x", { producerId: pid, producerEpoch: 0, baseSequence: 9 })),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.equal(follower.logEndOffset, 6);
      assert.deepEqual(follower.leaderEpochCache.epochEntries().at(-1), {
        epoch: 2,
        startOffset: 5,
      });
    },
  );

  withPair(
    "a follower tracks open and aborted transactions as the leader does",
    {},
    async (leader, follower) => {
      const txn = { producerId: 9, producerEpoch: 0, isTransactional: true };
      await leader.append(batch(2, "t", { ...txn, baseSequence: 0 }));
      await leader.append(batch(1, "plain"));
      await replicate(leader, follower);
      assert.equal(follower.lastStableOffset, 0, "the open transaction bounds the LSO");
      await leader.append(marker(9, false, 4), { origin: "coordinator" });
      await replicate(leader, follower);
      assert.equal(follower.lastStableOffset, 4);
      assert.deepEqual(follower.abortedTransactions(0, 4), [
        { producerId: 9, firstOffset: 0, lastOffset: 3 },
      ]);
      assert.equal(follower.producerState.get(9)?.coordinatorEpoch, 4);
      // As leader, it fences a marker of an older coordinator.
      await rejectsWith(
        follower.append(marker(9, true, 3), { origin: "coordinator" }),
        ErrorCode.TRANSACTION_COORDINATOR_FENCED,
      );
    },
  );

  withPair(
    "truncateTo drops whole batches, rebuilds producer state, then takes a new append",
    { segmentBytes: 250 },
    async (leader, follower) => {
      const pid = 11;
      leader.highWatermarkFollowsLogEnd = false;
      for (let i = 0; i < 8; i++) {
        await leader.append(
          batch(2, `p${i}`, { producerId: pid, producerEpoch: 0, baseSequence: 2 * i }),
          { leaderEpoch: i < 4 ? 1 : 2 },
        );
      }
      assert.deepEqual(leader.segmentBaseOffsets(), [0, 4, 8, 12]);
      leader.updateHighWatermark(12);
      await leader.truncateTo(7); // inside the batch [6, 7]: it goes whole
      assert.equal(leader.logEndOffset, 6);
      assert.equal(leader.highWatermark, 6, "HW = min(HW, log end)");
      assert.deepEqual(baseOffsets(await readAll(leader)), [0, 2, 4]);
      assert.deepEqual(leader.leaderEpochCache.epochEntries(), [{ epoch: 1, startOffset: 0 }]);
      assert.deepEqual(leader.endOffsetForEpoch(1), { epoch: 1, endOffset: 6 });
      // Producer state as of offset 6: the next sequence is 6, and 6..7 is no longer a duplicate.
      const r = await leader.append(
        batch(2, "new", { producerId: pid, producerEpoch: 0, baseSequence: 6 }),
        { leaderEpoch: 3 },
      );
      assert.deepEqual([r.baseOffset, r.duplicate], [6, false]);
      await rejectsWith(
        leader.append(batch(1, "gap", { producerId: pid, producerEpoch: 0, baseSequence: 12 })),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.deepEqual(leader.leaderEpochCache.epochEntries(), [
        { epoch: 1, startOffset: 0 },
        { epoch: 3, startOffset: 6 },
      ]);
      // At or past the log end, nothing changes.
      const before = await readAll(leader);
      await leader.truncateTo(8);
      await leader.truncateTo(100);
      assert.deepEqual(await readAll(leader), before);
      // A follower of the truncated log matches it byte for byte.
      await replicate(leader, follower);
      assert.deepEqual(await readAll(follower), before);
    },
  );

  withPair(
    "truncation cuts the time index: timestamp lookups never name a dropped offset",
    { segmentBytes: 250, indexIntervalBytes: 1 },
    async (leader) => {
      for (let i = 0; i < 8; i++) {
        await leader.append(batch(2, `t${i}`, { ts: 10_000 + 100 * i }));
      }
      assert.deepEqual(await leader.offsetForTimestamp(10_000 + 100 * 6), {
        offset: 12,
        timestamp: 10_600,
      });
      await leader.truncateTo(9);
      assert.equal(leader.logEndOffset, 8);
      assert.equal(await leader.offsetForTimestamp(10_000 + 100 * 4), null);
      assert.deepEqual(await leader.offsetForTimestamp(10_000 + 100 * 3 + 1), {
        offset: 7,
        timestamp: 10_301,
      });
      assert.deepEqual(await leader.maxTimestampAndOffset(), { offset: 7, timestamp: 10_301 });
      // The offset index of the cut segment still finds every batch left, and new ones.
      await leader.append(batch(2, "n", { ts: 20_000 }));
      assert.deepEqual(leader.segmentBaseOffsets(), [0, 4, 8]);
      assert.deepEqual(baseOffsets(await leader.read(6, 1 << 20)), [6]);
      assert.deepEqual(baseOffsets(await leader.read(8, 1 << 20)), [8]);
      assert.deepEqual(await leader.offsetForTimestamp(15_000), { offset: 8, timestamp: 20_000 });
      assert.deepEqual(await leader.maxTimestampAndOffset(), { offset: 9, timestamp: 20_001 });
    },
  );

  withPair(
    "a leader append without an epoch records epoch 0 at its first offset",
    {},
    async (leader) => {
      await leader.append(batch(1, "a"));
      await leader.append(batch(1, "b"));
      assert.deepEqual(leader.leaderEpochCache.epochEntries(), [{ epoch: 0, startOffset: 0 }]);
      assert.deepEqual(leader.endOffsetForEpoch(0), { epoch: 0, endOffset: 2 });
      await leader.append(batch(1, "c"), { leaderEpoch: 1 });
      await leader.append(batch(1, "stale"), { leaderEpoch: 0 });
      assert.deepEqual(leader.leaderEpochCache.epochEntries(), [
        { epoch: 0, startOffset: 0 },
        { epoch: 1, startOffset: 2 },
      ]);
    },
  );

  withPair(
    "truncation rebuilds the aborted-transaction index and the LSO",
    {},
    async (leader) => {
      const txn = { producerId: 5, producerEpoch: 0, isTransactional: true };
      await leader.append(batch(1, "a", { ...txn, baseSequence: 0 }));
      await leader.append(marker(5, false), { origin: "coordinator" }); // abort at 1
      await leader.append(batch(1, "b", { ...txn, baseSequence: 1 }));
      await leader.append(marker(5, false), { origin: "coordinator" }); // abort at 3
      assert.equal(leader.abortedTransactions(0, 10).length, 2);
      await leader.truncateTo(3);
      assert.deepEqual(leader.abortedTransactions(0, 10), [
        { producerId: 5, firstOffset: 0, lastOffset: 1 },
      ]);
      assert.equal(leader.lastStableOffset, 2, "the transaction at 2 is open again");
      await leader.truncateTo(2);
      assert.equal(leader.lastStableOffset, 2);
      assert.equal(leader.producerState.ongoingTransactions().length, 0);
    },
  );

  withPair(
    "truncateFullyAndStartAt empties the log and starts it at the offset",
    { segmentBytes: 300 },
    async (leader) => {
      for (let i = 0; i < 6; i++) {
        await leader.append(
          batch(2, `x${i}`, { producerId: 3, producerEpoch: 0, baseSequence: 2 * i }),
        );
      }
      let moved = 0;
      leader.onAppend(() => moved++);
      await leader.truncateFullyAndStartAt(40);
      assert.equal(moved, 1);
      assert.deepEqual(
        [leader.logStartOffset, leader.logEndOffset, leader.highWatermark, leader.segmentCount],
        [40, 40, 40, 1],
      );
      assert.equal(leader.producerState.size, 0);
      assert.equal(leader.leaderEpochCache.latestEpoch, -1);
      assert.equal((await readAll(leader)).length, 0);
      await rejectsWith(leader.read(0, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
      const r = await leader.append(batch(1, "y"), { leaderEpoch: 4 });
      assert.equal(r.baseOffset, 40);
      assert.deepEqual(leader.leaderEpochCache.epochEntries(), [{ epoch: 4, startOffset: 40 }]);
      // Truncating below the first segment starts over at that offset too (Kafka's rule).
      await leader.truncateTo(10);
      assert.deepEqual([leader.logStartOffset, leader.logEndOffset], [10, 10]);
    },
  );

  withPair(
    "retention keeps what is above a managed high watermark",
    { segmentBytes: 200, retentionBytes: 1 },
    async (leader) => {
      leader.highWatermarkFollowsLogEnd = false;
      for (let i = 0; i < 6; i++) await leader.append(batch(1, `r${i}`));
      const segments = leader.segmentCount;
      assert.ok(segments >= 3, `${segments} segments`);
      assert.equal(await leader.deleteOldSegments(), 0, "HW 0: nothing is replicated yet");
      const bases = leader.segmentBaseOffsets();
      leader.updateHighWatermark(bases[2]);
      assert.equal(await leader.deleteOldSegments(), 2);
      assert.equal(leader.logStartOffset, bases[2]);
    },
  );

  test("the leader epoch checkpoint, the truncation and the HW survive a reopen", async (h) => {
    let log = await h.open("t-0", { segmentBytes: 300 });
    try {
      for (let i = 0; i < 6; i++) {
        await log.append(batch(2, `e${i}`), { leaderEpoch: i < 3 ? 0 : 4 });
      }
      await log.truncateTo(10);
      log = await h.reopen(log, { segmentBytes: 300 });
      assert.equal(log.logEndOffset, 10);
      assert.deepEqual(baseOffsets(await readAll(log)), [0, 2, 4, 6, 8]);
      assert.deepEqual(log.leaderEpochCache.epochEntries(), [
        { epoch: 0, startOffset: 0 },
        { epoch: 4, startOffset: 6 },
      ]);
      const text = await Deno.readTextFile(`${log.dir}/leader-epoch-checkpoint`);
      assert.equal(text, "0\n2\n0 0\n4 6\n");
    } finally {
      await log.close();
    }
  }, { durable: true });

  test(
    "a follower's log, rolled over segments, reopens byte for byte with its state",
    async (h) => {
      const cfg = { segmentBytes: 300 };
      const leader = await h.open("t-0", cfg);
      let follower = await h.open("f-0", cfg);
      try {
        for (let i = 0; i < 10; i++) {
          await leader.append(
            batch(2, `r${i}`, { producerId: 4, producerEpoch: 0, baseSequence: 2 * i }),
            { leaderEpoch: i < 5 ? 3 : 6 },
          );
        }
        await replicate(leader, follower);
        assert.ok(follower.segmentCount >= 3, `${follower.segmentCount} segments`);
        assert.deepEqual(follower.segmentBaseOffsets(), leader.segmentBaseOffsets());
        const bytes = await readAll(leader);
        follower = await h.reopen(follower, cfg);
        assert.deepEqual(await readAll(follower), bytes);
        assert.deepEqual(follower.leaderEpochCache.epochEntries(), [
          { epoch: 3, startOffset: 0 },
          { epoch: 6, startOffset: 10 },
        ]);
        const retry = await follower.append(
          batch(2, "r9", { producerId: 4, producerEpoch: 0, baseSequence: 18 }),
        );
        assert.deepEqual([retry.duplicate, retry.baseOffset], [true, 18]);
      } finally {
        await leader.close();
        await follower.close();
      }
    },
    { durable: true },
  );

  test("a missing leader epoch checkpoint is rebuilt from the batches", async (h) => {
    let log = await h.open("t-0", {});
    try {
      const a = batch(2, "a");
      setPartitionLeaderEpoch(a, 0, 2);
      const follower = log;
      await follower.appendAsFollower(a);
      const b = batch(3, "b");
      setBaseOffset(b, 0, 2);
      setPartitionLeaderEpoch(b, 0, 7);
      // The base offset is outside the CRC'd bytes: the batch stays valid.
      await follower.appendAsFollower(b);
      await log.close();
      await Deno.remove(`${log.dir}/leader-epoch-checkpoint`);
      log = await h.reopen(log, {});
      assert.deepEqual(log.leaderEpochCache.epochEntries(), [
        { epoch: 2, startOffset: 0 },
        { epoch: 7, startOffset: 2 },
      ]);
      assert.equal(
        await Deno.readTextFile(`${log.dir}/leader-epoch-checkpoint`),
        "0\n2\n2 0\n7 2\n",
      );
    } finally {
      await log.close();
    }
  }, { durable: true });
}
