/**
 * Consumer-protocol (KIP-848) groups beside classic ones: the shared id space, OffsetCommit /
 * OffsetFetch v9 member epochs, the admin APIs, and offset expiry.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { ConsumerProtocolAssignment } from "../../protocol/messages/mod.ts";
import { Reader } from "../../protocol/primitives.ts";
import { codecFor } from "../../protocol/schema.ts";
import type { Msg } from "../support/msg.ts";
import type { OffsetCommitParams } from "../../src/group/group_coordinator.ts";
import {
  beat,
  hb,
  ok,
  parts,
  setup,
  twoStableMembers,
} from "../support/consumer_group_fixtures.ts";

function commitParams(over: Partial<OffsetCommitParams> = {}): OffsetCommitParams {
  return {
    groupId: "g",
    generationId: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1,
    apiVersion: 9,
    topics: [{
      name: "t",
      partitions: [0, 1, 2, 3, 4, 5].map((p) => ({
        partitionIndex: p,
        committedOffset: 10 + p,
        committedLeaderEpoch: -1,
        committedMetadata: null,
      })),
    }],
    ...over,
  };
}

Deno.test("classic and consumer groups share the id space as in Kafka", async () => {
  const { c } = setup();
  // A classic group with members: the consumer protocol cannot take it.
  const j = await c.joinGroup({
    groupId: "classic",
    memberId: "",
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: "k",
    clientHost: "/h",
    rebalanceTimeoutMs: 5000,
    sessionTimeoutMs: 5000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: new Uint8Array([0, 0, 0, 0, 0, 0, 255, 255]) }],
  });
  assert.equal(j.errorCode, ErrorCode.NONE);
  const r = hb(c, { groupId: "classic" });
  assert.equal(r.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  assert.match(r.errorMessage!, /online upgrade is disabled/);
  assert.equal(
    beat(c, "m1", 1, [], { groupId: "classic" }).errorCode,
    ErrorCode.GROUP_ID_NOT_FOUND,
  );
  assert.match(c.consumer.describe("classic").errorMessage!, /not a consumer group/);

  // A group that only holds offsets (simple, Empty classic) becomes a consumer group.
  const committed = await c.commitOffsets(commitParams({ groupId: "simple" }));
  assert.ok(committed[0].partitions.every((p) => p.errorCode === ErrorCode.NONE));
  assert.equal(c.group("simple")?.state, "Empty");
  const s = ok(hb(c, { groupId: "simple" }));
  assert.equal(c.group("simple"), undefined);
  assert.ok(c.consumer.has("simple"));
  assert.equal(c.fetchOffsets("simple", null).topics[0].partitions[0].committedOffset, 10);

  // A classic JoinGroup cannot take a consumer group with members...
  const params = {
    groupId: "simple",
    memberId: "",
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: "k",
    clientHost: "/h",
    rebalanceTimeoutMs: 5000,
    sessionTimeoutMs: 5000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: new Uint8Array([0, 0, 0, 0, 0, 0, 255, 255]) }],
  };
  assert.equal((await c.joinGroup(params)).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  // ... nor do classic requests know its members.
  assert.equal(c.heartbeat("simple", "m1", null, s.memberEpoch), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(
    c.leaveGroup("simple", [{ memberId: "m1", groupInstanceId: null }]).members[0].errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  // Once empty it turns classic again, offsets kept.
  ok(beat(c, "m1", -1, null, { groupId: "simple" }));
  assert.equal((await c.joinGroup(params)).errorCode, ErrorCode.NONE);
  assert.ok(!c.consumer.has("simple"));
  assert.equal(c.group("simple")?.state, "CompletingRebalance");
  assert.equal(c.fetchOffsets("simple", null).topics[0].partitions[0].committedOffset, 10);
});

Deno.test("OffsetCommit / OffsetFetch v9 for consumer groups: member epochs", async () => {
  const { c, log } = setup();
  const { m1, epoch } = twoStableMembers(c);
  const mine = [...m1.assigned.get("id-t")!.keys()].sort();
  const codes = async (over: Partial<OffsetCommitParams>) =>
    (await c.commitOffsets(commitParams(over)))[0].partitions.map((p) => p.errorCode);
  const all = (code: number) => Array(6).fill(code);

  assert.deepEqual(await codes({ memberId: "m1", generationId: epoch }), all(ErrorCode.NONE));
  assert.deepEqual(
    await codes({ memberId: "m1", generationId: epoch + 1 }),
    all(ErrorCode.STALE_MEMBER_EPOCH),
  );
  assert.deepEqual(
    await codes({ memberId: "m1", generationId: epoch, apiVersion: 8 }),
    all(ErrorCode.UNSUPPORTED_VERSION),
  );
  assert.deepEqual(
    await codes({ memberId: "zz", generationId: epoch }),
    all(ErrorCode.UNKNOWN_MEMBER_ID),
  );
  // Admin tools (epoch -1, no member) may not commit while members are in.
  assert.deepEqual(await codes({}), all(ErrorCode.UNKNOWN_MEMBER_ID));
  // An older epoch: accepted for partitions the member has had since then.
  const older = await codes({ memberId: "m1", generationId: epoch - 1 });
  const first = [...m1.assigned.get("id-t")!].filter(([, e]) => e <= epoch - 1).map(([p]) => p);
  assert.ok(first.length > 0);
  for (let p = 0; p < 6; p++) {
    assert.equal(
      older[p],
      first.includes(p) ? ErrorCode.NONE : ErrorCode.STALE_MEMBER_EPOCH,
      `partition ${p} (mine: ${mine})`,
    );
  }
  assert.ok(log.records.length > 0, "commits are in the log");

  const fetch = (memberId: string | null, memberEpoch: number) =>
    c.fetchOffsets("g", [{ name: "t", partitionIndexes: [0] }], { memberId, memberEpoch });
  assert.equal(fetch("m1", epoch).errorCode, ErrorCode.NONE);
  assert.equal(fetch("m1", epoch).topics[0].partitions[0].committedOffset, 10);
  assert.equal(fetch("m1", epoch - 1).errorCode, ErrorCode.STALE_MEMBER_EPOCH);
  assert.equal(fetch("zz", epoch).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(fetch(null, -1).errorCode, ErrorCode.NONE);

  // Empty: admin commits are fine again.
  ok(beat(c, "m1", -1, null));
  ok(beat(c, "m2", -1, null));
  assert.deepEqual(await codes({}), all(ErrorCode.NONE));
  assert.equal(c.group("g"), undefined, "no classic twin is created by the commit");
});

Deno.test("OffsetFetch v9 answers partitions the member does not own, as Kafka", async () => {
  // Kafka checks only the member id and epoch (for the whole request), then reads the
  // committed offsets of every partition asked for: a member taking over a leaver's
  // partitions must see the leaver's commits, not -1 (clients would then start over).
  const { c } = setup();
  const { m1, m2, epoch } = twoStableMembers(c);
  const owned = (m: typeof m1) => [...m.assigned.get("id-t")!.keys()].sort();
  const commit = (memberId: string, partitions: number[], e: number) =>
    c.commitOffsets(commitParams({
      memberId,
      generationId: e,
      topics: [{
        name: "t",
        partitions: partitions.map((p) => ({
          partitionIndex: p,
          committedOffset: 100 + p,
          committedLeaderEpoch: -1,
          committedMetadata: null,
        })),
      }],
    }));
  const theirs = owned(m2);
  assert.ok(theirs.length > 0 && theirs.every((p) => !owned(m1).includes(p)));
  await commit("m1", owned(m1), epoch);
  await commit("m2", theirs, epoch);
  const fetch = (memberEpoch: number, partitionIndexes: number[], name = "t") =>
    c.fetchOffsets("g", [{ name, partitionIndexes }], { memberId: "m1", memberEpoch });
  const offsets = (r: ReturnType<typeof fetch>) =>
    r.topics[0].partitions.map((p) => [p.partitionIndex, p.committedOffset, p.errorCode]);

  // Before the move: m2's partitions are readable by m1 at m1's epoch.
  let r = fetch(epoch, theirs);
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.deepEqual(offsets(r), theirs.map((p) => [p, 100 + p, ErrorCode.NONE]));

  // m2 leaves; m1's next heartbeat bumps its epoch and hands it every partition.
  ok(beat(c, "m2", -1, null));
  const moved = ok(beat(c, "m1", epoch, owned(m1)));
  assert.ok(moved.memberEpoch > epoch);
  assert.deepEqual(parts(moved)?.slice().sort(), [0, 1, 2, 3, 4, 5]);
  // The old epoch is stale for the whole request (no per-partition answers)...
  r = fetch(epoch, theirs);
  assert.equal(r.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
  assert.deepEqual(r.topics, []);
  // ...and the new one reads the leaver's commits before m1 reports owning the partitions.
  r = fetch(moved.memberEpoch, [0, 1, 2, 3, 4, 5]);
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.deepEqual(offsets(r), [0, 1, 2, 3, 4, 5].map((p) => [p, 100 + p, ErrorCode.NONE]));
  // A partition nobody committed (of a topic m1 is not even subscribed to): -1, no error.
  r = fetch(moved.memberEpoch, [0], "u");
  assert.deepEqual(offsets(r), [[0, -1, ErrorCode.NONE]]);
});

Deno.test("ListGroups, DescribeGroups, DeleteGroups and OffsetDelete see consumer groups", async () => {
  const { c } = setup();
  const { epoch } = twoStableMembers(c);
  await c.commitOffsets(commitParams({ memberId: "m1", generationId: epoch }));
  await c.commitOffsets(commitParams({ groupId: "old" }));
  const ids = (l: { groupId: string }[]) => l.map((x) => x.groupId).sort();
  assert.deepEqual(c.listGroups().find((l) => l.groupId === "g"), {
    groupId: "g",
    protocolType: "consumer",
    groupState: "Stable",
    groupType: "consumer",
  });
  assert.deepEqual(ids(c.listGroups([], ["consumer"])), ["g"]);
  assert.deepEqual(ids(c.listGroups([], ["Classic"])), ["old"]);
  assert.deepEqual(ids(c.listGroups(["stable"])), ["g"]);
  assert.deepEqual(ids(c.listGroups(["reconciling"])), []);

  const d = c.describeGroup("g");
  assert.equal(d.protocolType, "consumer");
  assert.equal(d.groupState, "Stable");
  assert.equal(d.protocolData, "uniform");
  const assigned = d.members.flatMap((m) => {
    const r = new Reader(m.memberAssignment);
    const a = codecFor(ConsumerProtocolAssignment, r.int16()).decode(r);
    return (a.assignedPartitions as Msg[]).flatMap((tp) => tp.partitions as number[]);
  });
  assert.deepEqual(assigned.sort(), [0, 1, 2, 3, 4, 5]);

  assert.deepEqual(await c.deleteGroups(["g"]), [{
    groupId: "g",
    errorCode: ErrorCode.NON_EMPTY_GROUP,
  }]);
  const del = await c.deleteOffsets("g", [{ name: "t", partitions: [0] }]);
  assert.equal(del.topics[0].partitions[0].errorCode, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
  ok(beat(c, "m1", -1, null));
  ok(beat(c, "m2", -1, null));
  assert.equal(c.describeGroup("g").groupState, "Empty");
  const del2 = await c.deleteOffsets("g", [{ name: "t", partitions: [0] }]);
  assert.equal(del2.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.deepEqual(await c.deleteGroups(["g"]), [{ groupId: "g", errorCode: ErrorCode.NONE }]);
  assert.ok(!c.consumer.has("g"));
  assert.deepEqual(c.offsets.all("g"), []);
  assert.equal(c.describeGroup("g").groupState, "Dead");
});

Deno.test("offsets of an empty consumer group expire, then the group goes", async () => {
  const { c, clock } = setup({ offsetsRetentionMs: 60_000, consumerSessionTimeoutMs: 100_000 });
  const r = ok(hb(c));
  await c.commitOffsets(commitParams({ memberId: "m1", generationId: r.memberEpoch }));
  clock.advance(30_000);
  ok(beat(c, "m1", r.memberEpoch, parts(r)));
  assert.equal(await c.expireOffsets(), 0, "subscribed topics do not expire");
  ok(beat(c, "m1", -1, null));
  clock.advance(30_000);
  assert.equal(await c.expireOffsets(), 6);
  assert.ok(!c.consumer.has("g"));
});
