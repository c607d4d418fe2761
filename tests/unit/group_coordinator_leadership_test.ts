/**
 * The group coordinator following partition leadership (cluster mode), with a fake
 * Leadership, an in-memory log and a manual clock: a lost partition's groups leave memory
 * (timers cancelled, nothing written, NOT_COORDINATOR), a regained one answers
 * COORDINATOR_LOAD_IN_PROGRESS until its records are read back.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { partitionFor } from "../../src/internal_topic.ts";
import { commitParams, setup, stableGroupOfOne } from "../support/group_coordinator_fixtures.ts";
import { MemoryCoordinatorLog } from "../support/memory_coordinator_log.ts";
import { LeadershipTable } from "../support/fake_leadership.ts";
import { waitFor } from "../support/wait.ts";

const OFFSETS = "__consumer_offsets";

Deno.test("group coordinator follows leadership: unload on loss, load in progress, reload on regain", async () => {
  const log = new MemoryCoordinatorLog(4);
  const { c } = setup({}, log);
  const table = new LeadershipTable(1);
  const stop = await c.followLeadership(table.viewFor(1));
  try {
    const j = await stableGroupOfOne(c);
    const commit = await c.commitOffsets(
      commitParams({ generationId: j.generationId, memberId: j.memberId }),
    );
    assert.equal(commit[0].partitions[0].errorCode, 0);
    assert.ok(c.pendingTimers > 0, "the member's session timer runs");
    const p = partitionFor("g", 4);
    // Another group on another partition stays.
    let other = "o0";
    for (let i = 1; partitionFor(other, 4) === p; i++) other = `o${i}`;
    await stableGroupOfOne(c, { groupId: other });
    const written = log.records.length;
    const timers = c.pendingTimers;

    table.move(OFFSETS, p, 2);
    assert.equal(c.coordinatorError("g"), ErrorCode.NOT_COORDINATOR);
    assert.equal(c.group("g"), undefined);
    assert.ok(c.group(other), "the other partition's group is still here");
    assert.equal(c.heartbeat("g", j.memberId, null, j.generationId), ErrorCode.NOT_COORDINATOR);
    assert.equal(c.fetchOffsets("g", null).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(c.describeGroup("g").errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(log.records.length, written, "unloading writes nothing");
    assert.ok(c.pendingTimers < timers, "the unloaded member's timers are cancelled");

    let release!: () => void;
    log.loadGate = new Promise((r) => (release = r));
    table.move(OFFSETS, p, 1);
    assert.equal(c.coordinatorError("g"), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal(c.fetchOffsets("g", null).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    const joinWhileLoading = await c.joinGroup({
      groupId: "g",
      memberId: "",
      groupInstanceId: null,
      requireKnownMemberId: false,
      supportSkippingAssignment: false,
      clientId: "x",
      clientHost: "/127.0.0.1",
      rebalanceTimeoutMs: 30_000,
      sessionTimeoutMs: 10_000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: new Uint8Array(0) }],
    });
    assert.equal(joinWhileLoading.errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    release();
    await waitFor("the partition is loaded", () => c.coordinatorError("g") === ErrorCode.NONE);
    const g = c.group("g")!;
    assert.deepEqual([g.state, g.generationId, [...g.members.keys()]], [
      "Stable",
      j.generationId,
      [j.memberId],
    ]);
    const fetched = c.fetchOffsets("g", null);
    assert.equal(fetched.errorCode, 0);
    assert.deepEqual(
      fetched.topics.map((t) => [t.name, t.partitions.map((x) => x.committedOffset)]),
      commitParams().topics.map((t) => [t.name, t.partitions.map((x) => x.committedOffset)]),
    );
  } finally {
    stop();
    c.close();
  }
});
