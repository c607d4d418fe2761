/**
 * The leader's replica bookkeeping (src/replication/partition.ts) and the acks=all purgatory
 * (src/replication/delayed_produce.ts), with a manual clock: the HW is the smallest log end
 * offset over the ISR, a follower rejoins at the HW and the epoch start, one not caught up
 * within the lag time leaves, the ISR keeps the leader; waits complete on the HW, fail on
 * timeout or leadership loss.
 */
import assert from "node:assert/strict";
import { LeaderPartition } from "../../src/replication/partition.ts";
import { DelayedProducePurgatory } from "../../src/replication/delayed_produce.ts";
import { ErrorCode } from "../../protocol/errors.ts";

const LAG = 1000;

function leader(isr = [1, 2, 3], epochStart = 0, now = 0) {
  return new LeaderPartition("t", 0, 1, 5, [1, 2, 3], isr, epochStart, now);
}

Deno.test("HW is the smallest log end offset over the ISR, unknown followers hold it", () => {
  const p = leader();
  // Fresh leadership: followers' offsets unknown, so nothing is committed beyond them.
  assert.equal(p.highWatermarkCandidate(10), -1);
  p.updateFollowerFetchState(2, 7, 10, 1);
  assert.equal(p.highWatermarkCandidate(10), -1);
  p.updateFollowerFetchState(3, 4, 10, 1);
  assert.equal(p.highWatermarkCandidate(10), 4);
  p.updateFollowerFetchState(3, 10, 10, 2);
  assert.equal(p.highWatermarkCandidate(10), 7);
  p.updateFollowerFetchState(2, 10, 10, 2);
  assert.equal(p.highWatermarkCandidate(10), 10);
  // A follower outside the ISR does not hold the HW back.
  p.isr = [1, 2];
  p.updateFollowerFetchState(3, 0, 12, 3);
  p.updateFollowerFetchState(2, 12, 12, 3);
  assert.equal(p.highWatermarkCandidate(12), 12);
  // The leader alone: its own log end.
  p.isr = [1];
  assert.equal(p.highWatermarkCandidate(20), 20);
});

Deno.test("a pending ISR expansion counts for the HW (the maximal ISR)", () => {
  const p = leader([1, 2]);
  p.updateFollowerFetchState(2, 10, 10, 0);
  p.updateFollowerFetchState(3, 6, 10, 0);
  assert.equal(p.highWatermarkCandidate(10), 10);
  p.pending = { isr: [1, 2, 3] };
  assert.equal(p.highWatermarkCandidate(10), 6);
});

Deno.test("a follower out of the ISR rejoins at the HW and the leader epoch's start", () => {
  const p = leader([1, 2], 8);
  p.updateFollowerFetchState(3, 5, 10, 0);
  assert.equal(p.expandedIsr(3, 5), null, "below the epoch start offset 8");
  p.updateFollowerFetchState(3, 8, 10, 0);
  assert.equal(p.expandedIsr(3, 9), null, "below the HW");
  assert.deepEqual(p.expandedIsr(3, 8), [1, 2, 3]);
  assert.equal(p.expandedIsr(2, 0), null, "already a member");
  assert.equal(p.expandedIsr(4, 0), null, "not a replica");
  p.pending = { isr: [1] };
  assert.equal(p.expandedIsr(3, 8), null, "one ISR change at a time");
});

Deno.test("a follower not caught up within replica.lag.time.max.ms leaves the ISR", () => {
  const p = leader([1, 2, 3], 0, 0);
  // In the ISR at leadership: caught up "now" (0), so not dropped before the lag passes.
  assert.equal(p.shrunkIsr(LAG, LAG, 5), null);
  // Broker 2 fetches to the end; broker 3 never fetches.
  p.updateFollowerFetchState(2, 5, 5, 900);
  assert.deepEqual(p.shrunkIsr(LAG + 1, LAG, 5), [1, 2]);
  // A follower at the leader's end is in sync however long ago it caught up.
  p.updateFollowerFetchState(3, 5, 5, 100);
  assert.equal(p.shrunkIsr(5000, LAG, 5), null);
  // Both behind now: broker 3 last caught up at 100, broker 2 at 900 (out after 1900).
  assert.deepEqual(p.shrunkIsr(1900, LAG, 9), [1, 2]);
  assert.deepEqual(p.shrunkIsr(1901, LAG, 9), [1]);
});

Deno.test("catching up with the previous fetch's leader end counts (lastFetchLeaderLogEndOffset)", () => {
  const p = leader([1, 2], 0, 0);
  p.updateFollowerFetchState(2, 0, 10, 100); // behind: not caught up at 100
  p.updateFollowerFetchState(2, 10, 20, 200); // reached what the leader had at 100
  assert.equal(p.followers.get(2)!.lastCaughtUpTimeMs, 100);
  p.updateFollowerFetchState(2, 20, 20, 300);
  assert.equal(p.followers.get(2)!.lastCaughtUpTimeMs, 300);
});

Deno.test("the ISR never loses the leader", () => {
  const p = new LeaderPartition("t", 0, 1, 0, [1, 2], [2], 0, 0);
  assert.deepEqual(p.shrunkIsr(10 * LAG, LAG, 5), [1]);
});

Deno.test("replica changes: new replicas start unknown, removed ones are forgotten", () => {
  const p = leader([1, 2, 3]);
  p.updateFollowerFetchState(2, 4, 4, 0);
  p.setReplicas([1, 2, 4], 0);
  assert.deepEqual([...p.followers.keys()].sort(), [2, 4]);
  assert.equal(p.followers.get(2)!.logEndOffset, 4);
  assert.equal(p.followers.get(4)!.logEndOffset, -1);
});

Deno.test("DelayedProduce: completes on the HW, times out, fails on leadership loss", async () => {
  let hw = 0;
  let isrOk = true;
  const purgatory = new DelayedProducePurgatory((required) =>
    hw < required ? null : isrOk ? 0 : ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
  );
  hw = 3;
  assert.equal(await purgatory.wait(3, 10_000), 0, "already replicated");
  const a = purgatory.wait(5, 10_000);
  const b = purgatory.wait(9, 10_000);
  hw = 6;
  purgatory.tryCompleteAll();
  assert.equal(await a, 0);
  assert.equal(purgatory.size, 1);
  isrOk = false;
  hw = 9;
  purgatory.tryCompleteAll();
  assert.equal(await b, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
  const timedOut = purgatory.wait(100, 20);
  assert.equal(await timedOut, ErrorCode.REQUEST_TIMED_OUT);
  const lost = purgatory.wait(100, 10_000);
  purgatory.failAll(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(await lost, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(purgatory.size, 0);
});
