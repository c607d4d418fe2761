/**
 * GroupCoordinator offsets with a ManualClock and an in-memory log: commits and their checks,
 * append failures, reload from the log, retention and expiry, OffsetDelete, ListGroups.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { MemoryCoordinatorLog } from "../support/memory_coordinator_log.ts";
import {
  commitParams,
  joinedMember,
  params,
  SESSION,
  setup,
  stableGroupOfOne,
  stableGroupOfTwo,
  tick,
  watch,
} from "../support/group_coordinator_fixtures.ts";

Deno.test("offset commits: simple consumers, members, generation and per-partition errors", async () => {
  const { c } = setup({ offsetMetadataMaxBytes: 8 });
  // A simple consumer commits to a group that does not exist yet.
  let r = await c.commitOffsets(commitParams({ groupId: "simple" }));
  assert.equal(r[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.deepEqual(c.listGroups().map((g) => [g.groupId, g.groupState, g.protocolType]), [
    ["simple", "Empty", ""],
  ]);
  assert.deepEqual(c.fetchOffsets("simple", [{ name: "t", partitionIndexes: [0, 1] }]), {
    errorCode: 0,
    topics: [{
      name: "t",
      partitions: [
        {
          partitionIndex: 0,
          committedOffset: 10,
          committedLeaderEpoch: -1,
          metadata: "m",
          errorCode: 0,
        },
        {
          partitionIndex: 1,
          committedOffset: -1,
          committedLeaderEpoch: -1,
          metadata: "",
          errorCode: 0,
        },
      ],
    }],
  });
  // A member commit to an unknown group.
  r = await c.commitOffsets(commitParams({ groupId: "nope", generationId: 1, memberId: "m" }));
  assert.equal(r[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
  r = await c.commitOffsets(
    commitParams({ groupId: "nope", generationId: 1, memberId: "m", apiVersion: 9 }),
  );
  assert.equal(r[0].partitions[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

  const a = await stableGroupOfOne(c);
  // Generation -1 without a member id while the group has members.
  r = await c.commitOffsets(commitParams());
  assert.equal(r[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  r = await c.commitOffsets(commitParams({ generationId: 7, memberId: a.memberId }));
  assert.equal(r[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
  r = await c.commitOffsets(commitParams({ generationId: 1, memberId: "who" }));
  assert.equal(r[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  r = await c.commitOffsets(commitParams({
    generationId: 1,
    memberId: a.memberId,
    topics: [
      {
        name: "t",
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 5,
            committedLeaderEpoch: 2,
            committedMetadata: null,
          },
          {
            partitionIndex: 1,
            committedOffset: 6,
            committedLeaderEpoch: -1,
            committedMetadata: "x".repeat(9),
          },
          {
            partitionIndex: 9,
            committedOffset: 7,
            committedLeaderEpoch: -1,
            committedMetadata: "",
          },
        ],
      },
      {
        name: "missing",
        partitions: [{
          partitionIndex: 0,
          committedOffset: 1,
          committedLeaderEpoch: -1,
          committedMetadata: "",
        }],
      },
    ],
  }));
  assert.deepEqual(r.map((t) => t.partitions.map((p) => p.errorCode)), [
    [ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  ]);
  const all = c.fetchOffsets("g", null);
  assert.deepEqual(all.topics, [{
    name: "t",
    partitions: [{
      partitionIndex: 0,
      committedOffset: 5,
      committedLeaderEpoch: 2,
      metadata: "",
      errorCode: 0,
    }],
  }]);
  // During CompletingRebalance a member's commit is REBALANCE_IN_PROGRESS.
  const bJoin = watch(c.joinGroup(params({ clientId: "b" })));
  await c.joinGroup(params({ memberId: a.memberId }));
  await tick();
  assert.ok(bJoin.done);
  r = await c.commitOffsets(commitParams({ generationId: 2, memberId: a.memberId }));
  assert.equal(r[0].partitions[0].errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
});

Deno.test("commit append failure is reported and nothing is cached", async () => {
  const { c, log } = setup();
  log.failWith = new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const r = await c.commitOffsets(commitParams());
  assert.equal(r[0].partitions[0].errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(c.fetchOffsets("g", null).topics.length, 0);
  log.failWith = new KafkaError(ErrorCode.RECORD_LIST_TOO_LARGE);
  const r2 = await c.commitOffsets(commitParams());
  assert.equal(r2[0].partitions[0].errorCode, ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
});

Deno.test("leader's assignment store failure sends members back to rejoin", async () => {
  const { c, log } = setup();
  const j = await joinedMember(c);
  log.failWith = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR);
  const s = await c.syncGroup({
    groupId: "g",
    generationId: j.generationId,
    memberId: j.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  assert.equal(s.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(c.group("g")!.state, "PreparingRebalance");
});

Deno.test("state survives a reload from the log; deleted groups stay deleted", async () => {
  const log = new MemoryCoordinatorLog();
  const first = setup({}, log);
  const { a, b } = await stableGroupOfTwo(first.c);
  await first.c.commitOffsets(commitParams({ generationId: 2, memberId: a.memberId }));
  await first.c.commitOffsets(commitParams({ groupId: "simple" }));
  await first.c.commitOffsets(commitParams({ groupId: "gone" }));
  assert.deepEqual(await first.c.deleteGroups(["gone", "g", "never"]), [
    { groupId: "gone", errorCode: ErrorCode.NONE },
    { groupId: "g", errorCode: ErrorCode.NON_EMPTY_GROUP },
    { groupId: "never", errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
  ]);
  first.c.close();

  const second = setup({}, log);
  await second.c.load();
  const g = second.c.group("g")!;
  assert.equal(g.state, "Stable");
  assert.equal(g.generationId, 2);
  assert.equal(g.leaderId, a.memberId);
  assert.deepEqual([...g.members.keys()].sort(), [a.memberId, b.memberId].sort());
  assert.deepEqual([...g.get(b.memberId)!.assignment], [2]);
  assert.equal(second.c.fetchOffsets("g", null).topics[0].partitions[0].committedOffset, 10);
  assert.equal(second.c.fetchOffsets("simple", null).topics[0].partitions[0].committedOffset, 10);
  assert.equal(second.c.group("gone"), undefined);
  assert.equal(second.c.fetchOffsets("gone", null).topics.length, 0);
  // Members carry on with their generation; a silent one expires.
  assert.equal(second.c.heartbeat("g", a.memberId, null, 2), ErrorCode.NONE);
  second.clock.advance(SESSION / 2);
  assert.equal(second.c.heartbeat("g", a.memberId, null, 2), ErrorCode.NONE);
  second.clock.advance(SESSION / 2);
  assert.equal(g.has(b.memberId), false);
  assert.equal(g.state, "PreparingRebalance");
  second.c.close();
});

Deno.test("offsets.retention.minutes: an empty group's offsets expire, then the group", async () => {
  const retention = 60_000;
  const { c, clock, log } = setup({
    offsetsRetentionMs: retention,
    offsetsRetentionCheckIntervalMs: 10_000,
  });
  await c.load();
  const a = await stableGroupOfOne(c);
  await c.commitOffsets(commitParams({ generationId: 1, memberId: a.memberId }));
  await c.commitOffsets(commitParams({ groupId: "simple" }));
  // v2–4 retention time: this offset expires one second after its commit.
  await c.commitOffsets(commitParams({ groupId: "short", retentionTimeMs: 1000 }));
  /** Moves time in steps (a's heartbeats keep it in), letting each pass write tombstones. */
  const passTime = async (ms: number) => {
    for (let t = 0; t < ms; t += 5_000) {
      if (c.group("g")?.has(a.memberId)) c.heartbeat("g", a.memberId, null, 1);
      clock.advance(5_000);
      await tick();
    }
  };
  await passTime(retention * 2);
  // A Stable group's offsets for subscribed topics never expire.
  assert.equal(c.fetchOffsets("g", null).topics.length, 1);
  assert.equal(
    c.group("simple"),
    undefined,
    "simple group's offsets expired with their commit age",
  );
  assert.equal(c.group("short"), undefined);
  c.leaveGroup("g", [{ memberId: a.memberId, groupInstanceId: null }]);
  assert.equal(c.group("g")!.state, "Empty");
  await passTime(retention - 10_000);
  assert.equal(c.fetchOffsets("g", null).topics.length, 1, "retention counts from Empty");
  await passTime(10_000);
  assert.equal(c.fetchOffsets("g", null).topics.length, 0);
  assert.equal(c.group("g"), undefined);
  // Tombstones were written: a reload sees nothing.
  const again = setup({}, log);
  await again.c.load();
  assert.equal(again.c.groups.size, 0);
  c.close();
  again.c.close();
});

Deno.test("OffsetDelete: subscribed topics are protected while the group is active", async () => {
  const { c } = setup();
  const a = await stableGroupOfOne(c);
  await c.commitOffsets(commitParams({
    generationId: 1,
    memberId: a.memberId,
    topics: [
      {
        name: "t",
        partitions: [{
          partitionIndex: 0,
          committedOffset: 1,
          committedLeaderEpoch: -1,
          committedMetadata: "",
        }],
      },
      {
        name: "u",
        partitions: [{
          partitionIndex: 0,
          committedOffset: 2,
          committedLeaderEpoch: -1,
          committedMetadata: "",
        }],
      },
    ],
  }));
  const r = await c.deleteOffsets("g", [{ name: "t", partitions: [0] }, {
    name: "u",
    partitions: [0],
  }]);
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.deepEqual(r.topics.map((t) => t.partitions[0].errorCode), [
    ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC,
    ErrorCode.NONE,
  ]);
  assert.deepEqual(c.fetchOffsets("g", null).topics.map((t) => t.name), ["t"]);
  assert.equal((await c.deleteOffsets("nope", [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
});

Deno.test("ListGroups filters by state and type; DescribeGroups of unknown is Dead", async () => {
  const { c } = setup();
  await stableGroupOfOne(c, { groupId: "s" });
  await c.commitOffsets(commitParams({ groupId: "e" }));
  assert.deepEqual(c.listGroups(["stable"]).map((g) => g.groupId), ["s"]);
  assert.deepEqual(c.listGroups(["Empty"]).map((g) => g.groupId), ["e"]);
  assert.deepEqual(c.listGroups([], ["CLASSIC"]).map((g) => g.groupId).sort(), ["e", "s"]);
  assert.deepEqual(c.listGroups([], ["consumer"]), []);
  const d = c.describeGroup("unknown");
  assert.equal(d.groupState, "Dead");
  assert.equal(d.errorCode, ErrorCode.NONE);
});
