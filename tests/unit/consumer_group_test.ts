/**
 * The consumer group protocol (KIP-848) state machine with a ManualClock and an in-memory
 * log: joins, epochs, the target assignment and per-member reconciliation (a partition only
 * moves once its owner stopped reporting it), validation and fencing errors, leaving (-1,
 * -2), session and rebalance timeouts, static members, subscription and topic changes, regex
 * subscriptions, assignor choice and close(). Offsets and the admin views:
 * consumer_group_offsets_test.ts.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import type { ConsumerGroup } from "../../src/group/consumer_group.ts";
import {
  type ConsumerGroupHeartbeatParams,
  INVALID_REGULAR_EXPRESSION,
} from "../../src/group/consumer_group_coordinator.ts";
import {
  beat,
  hb,
  ok,
  parts,
  SESSION,
  setup,
  twoStableMembers,
} from "../support/consumer_group_fixtures.ts";

/** No partition is owned (assigned or pending revocation) by two members. */
function assertExclusive(g: ConsumerGroup): void {
  const seen = new Map<string, string>();
  for (const m of g.members.values()) {
    for (const a of [m.assigned, m.pendingRevocation]) {
      for (const [t, ps] of a) {
        for (const p of ps.keys()) {
          const k = `${t}:${p}`;
          assert.ok(!seen.has(k) || seen.get(k) === m.memberId, `${k} owned twice`);
          seen.set(k, m.memberId);
        }
      }
    }
  }
}

Deno.test("a first member gets every partition at epoch 1; the group is Stable", () => {
  const { c } = setup();
  const r = ok(hb(c));
  assert.equal(r.memberId, "m1");
  assert.equal(r.memberEpoch, 1);
  assert.equal(r.heartbeatIntervalMs, 1000);
  assert.deepEqual(parts(r), [0, 1, 2, 3, 4, 5]);
  const g = c.consumer.group("g")!;
  assert.equal(g.state, "Stable");
  assert.equal(g.groupEpoch, 1);
  assert.equal(g.assignmentEpoch, 1);
  // A steady heartbeat changes nothing and carries no assignment.
  const again = ok(beat(c, "m1", 1, [0, 1, 2, 3, 4, 5], { topicPartitions: null }));
  assert.equal(again.memberEpoch, 1);
  assert.equal(again.assignment, null);
  assert.equal(g.groupEpoch, 1);
});

Deno.test("a partition moves only after its owner revoked it", () => {
  const { c } = setup();
  const a = ok(hb(c, { memberId: "m1" }));
  const g = c.consumer.group("g")!;

  // m2 joins: epoch 2; its target partitions still belong to m1, so it gets nothing yet.
  const b = ok(hb(c, { memberId: "m2" }));
  assert.equal(b.memberEpoch, 2);
  assert.deepEqual(parts(b), []);
  assert.equal(g.members.get("m2")!.state, "UNRELEASED_PARTITIONS");
  assert.equal(g.state, "Reconciling");
  assertExclusive(g);

  // m1 is told to keep half: same epoch until it revoked the rest.
  const a2 = ok(beat(c, "m1", 1, [0, 1, 2, 3, 4, 5]));
  assert.equal(a2.memberEpoch, 1);
  const kept = parts(a2)!;
  assert.equal(kept.length, 3);
  assert.equal(g.members.get("m1")!.state, "UNREVOKED_PARTITIONS");
  const revoking = [0, 1, 2, 3, 4, 5].filter((p) => !kept.includes(p));
  // Still reporting the revoked partitions: nothing moves, for m1 nor m2.
  assert.equal(ok(beat(c, "m1", 1, [0, 1, 2, 3, 4, 5])).memberEpoch, 1);
  assert.equal(parts(ok(beat(c, "m2", 2, []))), null, "no change, no assignment sent");
  assert.equal(g.members.get("m2")!.assigned.size, 0);
  assertExclusive(g);

  // m1 revoked: it moves to epoch 2; then m2 gets the partitions.
  const a3 = ok(beat(c, "m1", 1, kept));
  assert.equal(a3.memberEpoch, 2);
  assert.equal(g.members.get("m1")!.state, "STABLE");
  assert.equal(g.state, "Reconciling");
  const b2 = ok(beat(c, "m2", 2, []));
  assert.deepEqual(parts(b2), revoking);
  assert.equal(g.state, "Stable");
  assertExclusive(g);
  assert.equal(a.memberEpoch, 1);
});

Deno.test("request validation: INVALID_REQUEST, UNSUPPORTED_ASSIGNOR, regex, member ids", () => {
  const { c } = setup();
  const invalid = (over: Partial<ConsumerGroupHeartbeatParams>, message: string) => {
    const r = hb(c, over);
    assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST, message);
    assert.equal(r.errorMessage, message);
    assert.equal(r.memberEpoch, 0);
  };
  invalid({ memberId: "" }, "MemberId can't be empty.");
  invalid({ groupId: " " }, "GroupId can't be empty.");
  invalid({ instanceId: "" }, "InstanceId can't be empty.");
  invalid({ rackId: "" }, "RackId can't be empty.");
  invalid({ rebalanceTimeoutMs: -1 }, "RebalanceTimeoutMs must be provided in first request.");
  invalid({ topicPartitions: null }, "TopicPartitions must be empty when (re-)joining.");
  invalid(
    { topicPartitions: [{ topicId: "id-t", partitions: [0] }] },
    "TopicPartitions must be empty when (re-)joining.",
  );
  invalid(
    { subscribedTopicNames: null },
    "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.",
  );
  invalid({ memberEpoch: -2 }, "InstanceId can't be null.");
  invalid({ memberEpoch: -3 }, "MemberEpoch is invalid.");
  const u = hb(c, { serverAssignor: "sticky" });
  assert.equal(u.errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
  assert.match(u.errorMessage!, /Supported assignors: uniform, range/);
  assert.equal(hb(c, { subscribedTopicRegex: "(" }).errorCode, INVALID_REGULAR_EXPRESSION);
  assert.equal(c.consumer.group("g"), undefined, "failed joins leave nothing behind");
  // v0: the coordinator chooses the member id of a joining member.
  const r = ok(hb(c, { apiVersion: 0, memberId: "" }));
  assert.ok(r.memberId && r.memberId.length > 0);
  assert.ok(c.consumer.group("g")!.members.has(r.memberId!));
  // Past the join the member id is required in v0 too.
  invalid({ apiVersion: 0, memberId: "", memberEpoch: 1 }, "MemberId can't be empty.");
});

Deno.test("epochs: UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, a lost response, rejoining", () => {
  const { c } = setup();
  // Unknown group: a leave is GROUP_ID_NOT_FOUND; a heartbeat FENCED_MEMBER_EPOCH (so that
  // clients rejoin after a restart: membership is not persisted).
  assert.equal(beat(c, "m1", -1, null).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  assert.equal(beat(c, "m1", 3, []).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  const { epoch } = twoStableMembers(c);
  assert.equal(beat(c, "nobody", epoch, []).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const g = c.consumer.group("g")!;
  const m1 = g.members.get("m1")!;
  const mine = [...m1.assigned.get("id-t")!.keys()].sort();
  // Ahead of the coordinator: fenced.
  assert.equal(beat(c, "m1", epoch + 1, mine).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  // The previous epoch with a subset of the partitions: the bumping response was lost.
  assert.equal(m1.previousMemberEpoch, epoch - 1);
  const full = { rebalanceTimeoutMs: 30_000, subscribedTopicNames: ["t"] };
  const lost = ok(beat(c, "m1", epoch - 1, mine, full));
  assert.equal(lost.memberEpoch, epoch);
  assert.deepEqual(parts(lost), mine, "a full request gets the assignment again");
  // ... but not with partitions it does not have, nor with an older epoch.
  assert.equal(beat(c, "m1", epoch - 1, [0, 1, 2, 3]).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  // A fenced member rejoins with epoch 0 and gets its partitions back.
  const back = ok(hb(c, { memberId: "m1" }));
  assert.equal(back.memberEpoch, epoch);
  assert.deepEqual(parts(back), mine);
  assert.equal(g.groupEpoch, epoch, "no rebalance");
});

Deno.test("leaving with epoch -1 frees the partitions at once and bumps the group epoch", () => {
  const { c } = setup();
  const { epoch } = twoStableMembers(c);
  const g = c.consumer.group("g")!;
  const r = ok(beat(c, "m1", -1, null));
  assert.equal(r.memberEpoch, -1);
  assert.equal(r.memberId, "m1");
  assert.ok(!g.members.has("m1"));
  assert.equal(g.groupEpoch, epoch + 1);
  assert.equal(g.state, "Assigning");
  const mine = [...g.members.get("m2")!.assigned.get("id-t")!.keys()];
  const r2 = ok(beat(c, "m2", epoch, mine));
  assert.equal(r2.memberEpoch, epoch + 1);
  assert.deepEqual(parts(r2), [0, 1, 2, 3, 4, 5]);
  assert.equal(g.state, "Stable");
  // The last member leaves: Empty.
  ok(beat(c, "m2", -1, null));
  assert.equal(g.state, "Empty");
  assert.equal(beat(c, "m2", -1, null).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

Deno.test("a member silent for group.consumer.session.timeout.ms is removed", () => {
  const { c, clock } = setup();
  const { epoch } = twoStableMembers(c);
  const g = c.consumer.group("g")!;
  const m2Parts = () => [...g.members.get("m2")!.assigned.get("id-t")!.keys()];
  clock.advance(SESSION - 1);
  ok(beat(c, "m2", epoch, m2Parts()));
  clock.advance(1);
  assert.ok(!g.members.has("m1"), "m1 expired");
  assert.ok(g.members.has("m2"));
  assert.equal(beat(c, "m1", epoch, []).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const r = ok(beat(c, "m2", epoch, m2Parts()));
  assert.deepEqual(parts(r), [0, 1, 2, 3, 4, 5]);
  clock.advance(SESSION);
  assert.equal(g.state, "Empty");
});

Deno.test("a member that does not revoke within its rebalance timeout is fenced", () => {
  const { c, clock } = setup();
  const a = ok(hb(c, { memberId: "m1", rebalanceTimeoutMs: 3000 }));
  const all = parts(a)!;
  ok(hb(c, { memberId: "m2" }));
  ok(beat(c, "m1", 1, all)); // told to revoke half
  const g = c.consumer.group("g")!;
  assert.equal(g.members.get("m1")!.state, "UNREVOKED_PARTITIONS");
  for (let i = 0; i < 2; i++) {
    clock.advance(1000);
    ok(beat(c, "m1", 1, all)); // alive, but keeps reporting everything
  }
  clock.advance(1000);
  assert.ok(!g.members.has("m1"), "fenced after 3 s");
  assert.equal(beat(c, "m1", 1, all).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const r = ok(beat(c, "m2", 2, []));
  assert.deepEqual(parts(r), [0, 1, 2, 3, 4, 5]);
});

Deno.test("static members: -2 keeps the place; the instance rejoins without a rebalance", () => {
  const { c, clock } = setup();
  const a = ok(hb(c, { memberId: "a-1", instanceId: "inst-a" }));
  const b = ok(hb(c, { memberId: "b-1", instanceId: "inst-b" }));
  const a2 = ok(beat(c, "a-1", a.memberEpoch, parts(a), { instanceId: "inst-a" }));
  ok(beat(c, "a-1", a.memberEpoch, parts(a2), { instanceId: "inst-a" }));
  const b2 = ok(beat(c, "b-1", b.memberEpoch, [], { instanceId: "inst-b" }));
  const g = c.consumer.group("g")!;
  assert.equal(g.state, "Stable");
  const epoch = g.groupEpoch;
  const aParts = parts(a2)!;

  // The instance id is held: another member id cannot take it.
  const taken = hb(c, { memberId: "a-2", instanceId: "inst-a" });
  assert.equal(taken.errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
  // A static member's heartbeat under another member id is fenced.
  const wrong = beat(c, "zzz", epoch, [], { instanceId: "inst-a" });
  assert.equal(wrong.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(
    beat(c, "q", epoch, [], { instanceId: "inst-q" }).errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );

  // Away for now: epoch -2, partitions kept.
  const away = ok(beat(c, "a-1", -2, null, { instanceId: "inst-a" }));
  assert.equal(away.memberEpoch, -2);
  assert.equal(g.members.get("a-1")!.memberEpoch, -2);
  assert.equal(g.groupEpoch, epoch);
  // b is not given a's partitions meanwhile.
  const bNow = ok(beat(c, "b-1", epoch, parts(b2), { instanceId: "inst-b" }));
  assert.equal(bNow.assignment, null);
  assert.equal(g.members.get("b-1")!.assigned.get("id-t")!.size, 3);

  // Back under a new member id: same partitions, same epoch, no rebalance.
  const back = ok(hb(c, { memberId: "a-2", instanceId: "inst-a" }));
  assert.equal(back.memberEpoch, epoch);
  assert.deepEqual(parts(back), aParts);
  assert.ok(!g.members.has("a-1"));
  assert.equal(g.groupEpoch, epoch);
  assert.equal(g.state, "Stable");
  assert.equal(
    beat(c, "a-1", epoch, aParts, { instanceId: "inst-a" }).errorCode,
    ErrorCode.FENCED_INSTANCE_ID,
  );

  // Away again and never back: removed when the session ends; b gets everything.
  ok(beat(c, "a-2", -2, null, { instanceId: "inst-a" }));
  for (let t = 0; t < SESSION; t += 2000) {
    clock.advance(2000);
    ok(beat(c, "b-1", g.members.get("b-1")!.memberEpoch, parts(b2), { instanceId: "inst-b" }));
  }
  assert.ok(!g.staticMembers.has("inst-a"));
  assert.deepEqual([...g.members.get("b-1")!.assigned.get("id-t")!.keys()].sort(), [
    0,
    1,
    2,
    3,
    4,
    5,
  ]);
  // A static member leaving with -1 is gone at once.
  ok(beat(c, "b-1", -1, null, { instanceId: "inst-b" }));
  assert.equal(g.state, "Empty");
});

Deno.test("subscription and topic metadata changes bump the group epoch", () => {
  const { c, topics } = setup();
  const r = ok(hb(c));
  const g = c.consumer.group("g")!;
  // Subscribing to one more topic.
  const r2 = ok(hb(c, {
    memberEpoch: r.memberEpoch,
    subscribedTopicNames: ["u", "t"],
    topicPartitions: [{ topicId: "id-t", partitions: parts(r)! }],
  }));
  assert.equal(g.groupEpoch, 2);
  assert.equal(r2.memberEpoch, 2);
  assert.deepEqual(parts(r2, "id-u"), [0, 1]);
  // The same subscription in another order is no change.
  ok(hb(c, {
    memberEpoch: 2,
    subscribedTopicNames: ["t", "u"],
    topicPartitions: r2.assignment!.topicPartitions,
  }));
  assert.equal(g.groupEpoch, 2);
  // More partitions for t.
  topics.set("t", 8);
  const r3 = ok(beat(c, "m1", 2, parts(r2)));
  assert.equal(r3.memberEpoch, 3);
  assert.deepEqual(parts(r3), [0, 1, 2, 3, 4, 5, 6, 7]);
  // u is deleted: its partitions are revoked (the member must stop owning them first).
  topics.delete("u");
  const owned = [{ topicId: "id-t", partitions: parts(r3)! }, {
    topicId: "id-u",
    partitions: [0, 1],
  }];
  const r4 = ok(beat(c, "m1", 3, null, { topicPartitions: owned }));
  assert.equal(r4.memberEpoch, 3);
  assert.equal(g.members.get("m1")!.state, "UNREVOKED_PARTITIONS");
  const r5 = ok(beat(c, "m1", 3, parts(r3)));
  assert.equal(r5.memberEpoch, 4);
  assert.equal(g.state, "Stable");
  // A subscription to a topic that does not exist yet: assigned once it is created.
  ok(hb(c, { memberId: "m9", subscribedTopicNames: ["later"] }));
  assert.equal(g.members.get("m9")!.assigned.size, 0);
  topics.set("later", 1);
  const r6 = ok(beat(c, "m9", g.members.get("m9")!.memberEpoch, []));
  assert.deepEqual(parts(r6, "id-later"), [0]);
});

Deno.test("regex subscriptions match whole names of user topics, also topics created later", () => {
  const { c, topics } = setup();
  topics.set("ev-a", 1);
  topics.set("xev-a", 1);
  const r = ok(hb(c, { subscribedTopicNames: null, subscribedTopicRegex: "ev-.*|__.*" }));
  const got = r.assignment!.topicPartitions.map((t) => t.topicId);
  assert.deepEqual(got, ["id-ev-a"]);
  topics.set("ev-b", 2);
  const r2 = ok(
    beat(c, "m1", r.memberEpoch, null, { topicPartitions: r.assignment!.topicPartitions }),
  );
  assert.equal(r2.memberEpoch, r.memberEpoch + 1);
  assert.deepEqual(r2.assignment!.topicPartitions.map((t) => t.topicId), ["id-ev-a", "id-ev-b"]);
  const d = c.consumer.describe("g");
  assert.equal(d.members[0].subscribedTopicRegex, "ev-.*|__.*");
});

Deno.test("serverAssignor picks the assignor; ConsumerGroupDescribe names it", () => {
  const { c } = setup({ consumerAssignors: ["range", "uniform"] });
  ok(hb(c, { memberId: "m1" }));
  ok(hb(c, { memberId: "m2" }));
  const g = c.consumer.group("g")!;
  // The default is the first configured: range, contiguous.
  assert.deepEqual([...g.targetAssignment.get("m1")!.get("id-t")!].sort(), [0, 1, 2]);
  assert.equal(c.consumer.describe("g").assignorName, "range");
  // Both ask for uniform: it wins.
  ok(hb(c, { memberId: "m1", serverAssignor: "uniform" }));
  ok(hb(c, { memberId: "m2", serverAssignor: "uniform", subscribedTopicNames: ["t", "u"] }));
  assert.equal(c.consumer.describe("g").assignorName, "uniform");
  const d = c.consumer.describe("g");
  assert.equal(d.errorCode, ErrorCode.NONE);
  assert.equal(d.groupEpoch, g.groupEpoch);
  const m2 = d.members.find((m) => m.memberId === "m2")!;
  assert.deepEqual(m2.subscribedTopicNames, ["t", "u"]);
  assert.equal(m2.clientHost, "/127.0.0.1");
  assert.ok(
    m2.targetAssignment.topicPartitions.every((t) => t.topicName === "t" || t.topicName === "u"),
  );
  assert.equal(c.consumer.describe("nope").errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  assert.equal(c.consumer.describe("").errorCode, ErrorCode.INVALID_GROUP_ID);
});

Deno.test("group.consumer.max.size: GROUP_MAX_SIZE_REACHED for a new member only", () => {
  const { c } = setup({ consumerMaxSize: 1 });
  const r = ok(hb(c, { memberId: "m1" }));
  assert.equal(hb(c, { memberId: "m2" }).errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
  ok(beat(c, "m1", r.memberEpoch, parts(r)));
});

Deno.test("close() cancels every consumer group timer; heartbeats get NOT_COORDINATOR", () => {
  const { c } = setup();
  const a = ok(hb(c, { memberId: "m1" }));
  ok(hb(c, { memberId: "m2" }));
  ok(beat(c, "m1", a.memberEpoch, parts(a))); // a rebalance timeout is running too
  assert.ok(c.pendingTimers >= 3);
  c.close();
  assert.equal(c.pendingTimers, 0);
  assert.equal(hb(c, { memberId: "m3" }).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(c.consumer.describe("g").errorCode, ErrorCode.NOT_COORDINATOR);
});
