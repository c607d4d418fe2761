/**
 * GroupCoordinator state machine with a ManualClock and an in-memory log: every classic
 * protocol transition and fencing error, session and rebalance timeouts, static membership,
 * the initial delayed join, offsets, expiry, and reload from the log.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  decodeRecord,
  groupMetadataKey,
  groupMetadataValue,
  offsetCommitKey,
  offsetCommitValue,
} from "../../src/group/coordinator_records.ts";
import { javaStringHashCode, partitionFor } from "../../src/internal_topic.ts";
import {
  commitParams,
  params,
  REBALANCE,
  SESSION,
  setup,
  stableGroupOfOne,
  stableGroupOfTwo,
  sub,
  tick,
  watch,
} from "../support/group_coordinator_fixtures.ts";

Deno.test("Java String.hashCode and Kafka's partitionFor", () => {
  assert.equal(javaStringHashCode("hello"), 99162322);
  assert.equal(javaStringHashCode(""), 0);
  // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Utils.abs maps it to 0.
  assert.equal(javaStringHashCode("polygenelubricants"), -2147483648);
  assert.equal(partitionFor("polygenelubricants", 50), 0);
  const neg = "console-consumer-12345";
  const h = javaStringHashCode(neg);
  assert.equal(partitionFor(neg, 50), Math.abs(h) % 50);
  for (const g of ["a", "group-1", "my-group", "ü-group"]) {
    const p = partitionFor(g, 50);
    assert.ok(p >= 0 && p < 50);
  }
});

Deno.test("__consumer_offsets records round-trip in Kafka's formats", () => {
  const k = offsetCommitKey("g", "t", 3);
  assert.equal(new DataView(k.buffer).getInt16(0), 1);
  const v = offsetCommitValue({
    offset: 42,
    leaderEpoch: 5,
    metadata: "m",
    commitTimestamp: 1000,
    expireTimestamp: -1,
  });
  assert.equal(new DataView(v.buffer).getInt16(0), 3);
  assert.deepEqual(decodeRecord(k, v), {
    key: { type: "offset", group: "g", topic: "t", partition: 3 },
    value: {
      offset: 42,
      leaderEpoch: 5,
      metadata: "m",
      commitTimestamp: 1000,
      expireTimestamp: -1,
    },
  });
  // An explicit expiry is written as value v1, which has no leader epoch.
  const v1 = offsetCommitValue({
    offset: 1,
    leaderEpoch: 9,
    metadata: "",
    commitTimestamp: 5,
    expireTimestamp: 99,
  });
  assert.equal(new DataView(v1.buffer).getInt16(0), 1);
  assert.deepEqual(decodeRecord(k, v1)!.value, {
    offset: 1,
    leaderEpoch: -1,
    metadata: "",
    commitTimestamp: 5,
    expireTimestamp: 99,
  });
  const gk = groupMetadataKey("g");
  assert.equal(new DataView(gk.buffer).getInt16(0), 2);
  const gv = groupMetadataValue({
    protocolType: "consumer",
    generation: 7,
    protocol: "range",
    leader: "m1",
    currentStateTimestamp: 123,
    members: [{
      memberId: "m1",
      groupInstanceId: "i1",
      clientId: "c",
      clientHost: "/h",
      rebalanceTimeout: 300,
      sessionTimeout: 100,
      subscription: new Uint8Array([1, 2]),
      assignment: new Uint8Array([3]),
    }],
  });
  assert.equal(new DataView(gv.buffer).getInt16(0), 3);
  const back = decodeRecord(gk, gv)!;
  assert.equal(back.key.type, "group");
  assert.equal((back.value as { generation: number }).generation, 7);
  assert.deepEqual(decodeRecord(gk, null), { key: { type: "group", group: "g" }, value: null });
});

Deno.test("first join at v4+: MEMBER_ID_REQUIRED, then the rejoin leads generation 1", async () => {
  const { c } = setup();
  const first = await c.joinGroup(params({ requireKnownMemberId: true }));
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.match(first.memberId, /^client-/);
  assert.equal(c.group("g")!.pendingMembers.size, 1);
  assert.equal(c.group("g")!.state, "Empty");
  const j = await c.joinGroup(params({ memberId: first.memberId, requireKnownMemberId: true }));
  assert.equal(j.errorCode, ErrorCode.NONE);
  assert.equal(j.memberId, first.memberId);
  assert.equal(j.generationId, 1);
  assert.equal(j.leader, first.memberId);
  assert.equal(j.protocolName, "range");
  assert.equal(j.members.length, 1);
  assert.equal(c.group("g")!.state, "CompletingRebalance");
  const s = await c.syncGroup({
    groupId: "g",
    generationId: 1,
    memberId: j.memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocolName: "range",
    assignments: [{ memberId: j.memberId, assignment: new Uint8Array([9]) }],
  });
  assert.equal(s.errorCode, ErrorCode.NONE);
  assert.deepEqual([...s.assignment], [9]);
  assert.equal(c.group("g")!.state, "Stable");
  const d = c.describeGroup("g");
  assert.equal(d.groupState, "Stable");
  assert.equal(d.protocolData, "range");
  assert.deepEqual([...d.members[0].memberAssignment], [9]);
});

Deno.test("a pending member id expires after the session timeout", async () => {
  const { c, clock } = setup();
  const first = await c.joinGroup(params({ requireKnownMemberId: true }));
  clock.advance(SESSION);
  assert.equal(c.group("g"), undefined, "the group that held only a pending member is gone");
  const late = await c.joinGroup(params({ memberId: first.memberId, requireKnownMemberId: true }));
  assert.equal(late.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

Deno.test("validation: INVALID_SESSION_TIMEOUT, INVALID_GROUP_ID, UNKNOWN_MEMBER_ID", async () => {
  const { c } = setup({ minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 60000 });
  for (const s of [5999, 60001]) {
    assert.equal(
      (await c.joinGroup(params({ sessionTimeoutMs: s }))).errorCode,
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
  }
  assert.equal((await c.joinGroup(params({ groupId: "" }))).errorCode, ErrorCode.INVALID_GROUP_ID);
  assert.equal(
    (await c.joinGroup(params({ memberId: "nobody" }))).errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  assert.equal(c.heartbeat("g", "nobody", null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  const s = await c.syncGroup({
    groupId: "g",
    generationId: 1,
    memberId: "nobody",
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  assert.equal(s.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(c.groups.size, 0);
});

Deno.test("INCONSISTENT_GROUP_PROTOCOL: protocol type, no common protocol, none at all", async () => {
  const { c } = setup();
  assert.equal(
    (await c.joinGroup(params({ protocols: [] }))).errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  assert.equal(
    (await c.joinGroup(params({ protocolType: "" }))).errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  const a = await stableGroupOfOne(c);
  assert.equal(
    (await c.joinGroup(params({ protocolType: "connect" }))).errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  assert.equal(
    (await c.joinGroup(params({ protocols: [{ name: "roundrobin", metadata: sub("t") }] })))
      .errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  // SyncGroup v5 names must match the group's.
  const s = await c.syncGroup({
    groupId: "g",
    generationId: a.generationId,
    memberId: a.memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocolName: "sticky",
    assignments: [],
  });
  assert.equal(s.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(c.group("g")!.state, "Stable");
});

Deno.test("rebalance: REBALANCE_IN_PROGRESS, leader gets members, followers wait for its sync", async () => {
  const { c } = setup();
  const a = await stableGroupOfOne(c);
  assert.equal(c.heartbeat("g", a.memberId, null, 1), ErrorCode.NONE);
  const bJoin = watch(c.joinGroup(params({ clientId: "b" })));
  await tick();
  assert.equal(bJoin.done, false, "JoinGroup waits for the other members");
  assert.equal(c.group("g")!.state, "PreparingRebalance");
  assert.equal(c.heartbeat("g", a.memberId, null, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  const stale = await c.syncGroup({
    groupId: "g",
    generationId: 1,
    memberId: a.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  assert.equal(stale.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  const aJoin = await c.joinGroup(params({ memberId: a.memberId }));
  await tick();
  assert.ok(bJoin.done);
  const b = bJoin.value!;
  assert.equal(aJoin.generationId, 2);
  assert.equal(b.generationId, 2);
  assert.equal(aJoin.leader, a.memberId);
  assert.equal(b.leader, a.memberId);
  assert.equal(aJoin.members.length, 2, "the leader gets every member's metadata");
  assert.equal(b.members.length, 0);
  assert.equal(c.group("g")!.state, "CompletingRebalance");
  assert.equal(c.heartbeat("g", a.memberId, null, 1), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(c.heartbeat("g", b.memberId, null, 2), ErrorCode.NONE);
  const bSync = watch(c.syncGroup({
    groupId: "g",
    generationId: 2,
    memberId: b.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  }));
  await tick();
  assert.equal(bSync.done, false, "a follower's SyncGroup waits for the leader's");
  const aSync = await c.syncGroup({
    groupId: "g",
    generationId: 2,
    memberId: a.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [
      { memberId: a.memberId, assignment: new Uint8Array([1]) },
      { memberId: b.memberId, assignment: new Uint8Array([2]) },
    ],
  });
  await tick();
  assert.deepEqual([...aSync.assignment], [1]);
  assert.deepEqual([...bSync.value!.assignment], [2]);
  assert.equal(c.group("g")!.state, "Stable");
  assert.equal(
    (await c.syncGroup({
      groupId: "g",
      generationId: 1,
      memberId: b.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    })).errorCode,
    ErrorCode.ILLEGAL_GENERATION,
  );
});

Deno.test("a Stable follower rejoining with the same metadata gets the generation, no rebalance", async () => {
  const { c } = setup();
  const { b } = await stableGroupOfTwo(c);
  const again = await c.joinGroup(params({ memberId: b.memberId, clientId: "b" }));
  assert.equal(again.generationId, 2);
  assert.equal(again.members.length, 0);
  assert.equal(c.group("g")!.state, "Stable");
  // Changed metadata does rebalance.
  const changed = watch(c.joinGroup(params({
    memberId: b.memberId,
    protocols: [{ name: "range", metadata: sub("t", "u") }],
  })));
  await tick();
  assert.equal(changed.done, false);
  assert.equal(c.group("g")!.state, "PreparingRebalance");
});

Deno.test("protocol vote: the protocol most members prefer among those all support", async () => {
  const { c, clock } = setup({ initialRebalanceDelayMs: 100 });
  const m = (name: string) => ({ name, metadata: sub("t") });
  const joins = [
    watch(c.joinGroup(params({ protocols: [m("range"), m("roundrobin")] }))),
    watch(c.joinGroup(params({ protocols: [m("roundrobin"), m("range")] }))),
    watch(c.joinGroup(params({ protocols: [m("sticky"), m("roundrobin"), m("range")] }))),
  ];
  // A fourth member supporting no common protocol is refused.
  assert.equal(
    (await c.joinGroup(params({ protocols: [m("sticky")] }))).errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  clock.advance(100);
  clock.advance(100);
  await tick();
  for (const j of joins) {
    assert.ok(j.done);
    assert.equal(j.value!.protocolName, "roundrobin");
  }
});

Deno.test("session timeout removes a silent member and rebalances the rest", async () => {
  const { c, clock } = setup();
  const { a, b } = await stableGroupOfTwo(c);
  for (let t = 0; t < 2; t++) {
    clock.advance(SESSION * 0.4);
    assert.equal(c.heartbeat("g", a.memberId, null, 2), ErrorCode.NONE);
  }
  assert.ok(c.group("g")!.has(b.memberId));
  clock.advance(SESSION * 0.2);
  // b never heartbeat: expired after SESSION, so the group is rebalancing without it.
  assert.equal(c.group("g")!.has(b.memberId), false);
  assert.equal(c.group("g")!.state, "PreparingRebalance");
  assert.equal(c.heartbeat("g", b.memberId, null, 2), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(c.heartbeat("g", a.memberId, null, 2), ErrorCode.REBALANCE_IN_PROGRESS);
  const j = await c.joinGroup(params({ memberId: a.memberId }));
  assert.equal(j.generationId, 3);
  assert.equal(j.members.length, 1);
});

Deno.test("rebalance timeout removes dynamic members that do not rejoin", async () => {
  const { c, clock } = setup();
  const { a, b } = await stableGroupOfTwo(c);
  const cJoin = watch(c.joinGroup(params({ clientId: "c" })));
  const aJoin = watch(c.joinGroup(params({ memberId: a.memberId })));
  // b keeps heartbeating but never rejoins.
  for (let t = 0; t < REBALANCE / 5000; t++) {
    assert.equal(c.heartbeat("g", b.memberId, null, 2), ErrorCode.REBALANCE_IN_PROGRESS);
    clock.advance(4999);
    await tick();
    assert.equal(aJoin.done, false);
  }
  clock.advance(REBALANCE);
  await tick();
  assert.ok(aJoin.done && cJoin.done);
  assert.equal(aJoin.value!.generationId, 3);
  assert.equal(aJoin.value!.members.length, 2);
  assert.equal(c.group("g")!.has(b.memberId), false);
  assert.equal(c.heartbeat("g", b.memberId, null, 3), ErrorCode.UNKNOWN_MEMBER_ID);
});

Deno.test("members that never SyncGroup are removed after the rebalance timeout", async () => {
  const { c, clock } = setup();
  const long = { sessionTimeoutMs: 2 * REBALANCE };
  const a = await stableGroupOfOne(c, long);
  const bJoin = watch(c.joinGroup(params({ clientId: "b", ...long })));
  await c.joinGroup(params({ memberId: a.memberId, ...long }));
  await tick();
  const b = bJoin.value!;
  await c.syncGroup({
    groupId: "g",
    generationId: 2,
    memberId: a.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  await tick();
  assert.equal(c.group("g")!.state, "Stable");
  clock.advance(REBALANCE);
  assert.equal(c.group("g")!.has(b.memberId), false);
  assert.equal(c.group("g")!.state, "PreparingRebalance");
});

Deno.test("LeaveGroup: batch, by group.instance.id, unknown members; last one empties the group", async () => {
  const { c } = setup();
  const a = await stableGroupOfOne(c, { groupInstanceId: "i-a" });
  const r = c.leaveGroup("g", [
    { memberId: "ghost", groupInstanceId: null },
    { memberId: "", groupInstanceId: "i-zzz" },
    { memberId: "other", groupInstanceId: "i-a" },
    { memberId: "", groupInstanceId: "i-a" },
  ]);
  assert.deepEqual(r.members.map((m) => m.errorCode), [
    ErrorCode.UNKNOWN_MEMBER_ID,
    ErrorCode.UNKNOWN_MEMBER_ID,
    ErrorCode.FENCED_INSTANCE_ID,
    ErrorCode.NONE,
  ]);
  const g = c.group("g")!;
  assert.equal(g.state, "Empty");
  assert.equal(g.generationId, 2);
  assert.equal(g.has(a.memberId), false);
  assert.deepEqual(
    c.leaveGroup("nope", [{ memberId: "x", groupInstanceId: null }]).members[0].errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
});

Deno.test("static member rejoins without a rebalance; the old member id is fenced", async () => {
  const { c, log } = setup();
  const a = await stableGroupOfOne(c, { groupInstanceId: "i-a" });
  const b = await (async () => {
    const bJoin = watch(c.joinGroup(params({ groupInstanceId: "i-b", clientId: "b" })));
    await c.joinGroup(params({ memberId: a.memberId, groupInstanceId: "i-a" }));
    await tick();
    const bj = bJoin.value!;
    const bs = watch(c.syncGroup({
      groupId: "g",
      generationId: 2,
      memberId: bj.memberId,
      groupInstanceId: "i-b",
      protocolType: null,
      protocolName: null,
      assignments: [],
    }));
    await c.syncGroup({
      groupId: "g",
      generationId: 2,
      memberId: a.memberId,
      groupInstanceId: "i-a",
      protocolType: null,
      protocolName: null,
      assignments: [
        { memberId: a.memberId, assignment: new Uint8Array([1]) },
        { memberId: bj.memberId, assignment: new Uint8Array([2]) },
      ],
    });
    await tick();
    assert.ok(bs.done);
    return bj;
  })();
  assert.equal(c.group("g")!.state, "Stable");
  const written = log.records.length;
  // b restarts: same group.instance.id, empty member id, same metadata.
  const again = await c.joinGroup(params({ groupInstanceId: "i-b", clientId: "b" }));
  assert.equal(again.errorCode, ErrorCode.NONE);
  assert.notEqual(again.memberId, b.memberId);
  assert.equal(again.generationId, 2, "no new generation");
  assert.equal(again.leader, a.memberId);
  assert.equal(c.group("g")!.state, "Stable");
  assert.equal(log.records.length, written + 1, "the new member id is persisted");
  const s = await c.syncGroup({
    groupId: "g",
    generationId: 2,
    memberId: again.memberId,
    groupInstanceId: "i-b",
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  assert.deepEqual([...s.assignment], [2], "keeps its assignment");
  assert.equal(c.heartbeat("g", b.memberId, "i-b", 2), ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(c.heartbeat("g", again.memberId, "i-b", 2), ErrorCode.NONE);
  assert.equal(
    (await c.joinGroup(params({ memberId: b.memberId, groupInstanceId: "i-b" }))).errorCode,
    ErrorCode.FENCED_INSTANCE_ID,
  );
  const commit = await c.commitOffsets(commitParams({
    memberId: b.memberId,
    groupInstanceId: "i-b",
    generationId: 2,
  }));
  assert.equal(commit[0].partitions[0].errorCode, ErrorCode.FENCED_INSTANCE_ID);
  // The static leader restarting with a v9 client is told to skip assignment (KIP-814).
  const leader = await c.joinGroup(
    params({ groupInstanceId: "i-a", supportSkippingAssignment: true }),
  );
  assert.equal(leader.skipAssignment, true);
  assert.equal(leader.leader, leader.memberId);
  assert.equal(leader.members.length, 2);
  assert.equal(leader.generationId, 2);
  assert.equal(c.group("g")!.state, "Stable");
  // A static member rejoining with different metadata triggers a rebalance.
  const changed = watch(c.joinGroup(params({
    groupInstanceId: "i-b",
    protocols: [{ name: "range", metadata: sub("t", "u") }],
  })));
  await tick();
  assert.equal(changed.done, false);
  assert.equal(c.group("g")!.state, "PreparingRebalance");
});

Deno.test("static members keep their place through a rebalance timeout; dynamic ones do not", async () => {
  const { c, clock } = setup();
  const s = await stableGroupOfOne(c, { groupInstanceId: "i-s" });
  const dJoin = watch(c.joinGroup(params({ clientId: "d" })));
  for (let t = 0; t < REBALANCE; t += 5000) {
    assert.equal(c.heartbeat("g", s.memberId, "i-s", 1), ErrorCode.REBALANCE_IN_PROGRESS);
    clock.advance(Math.min(5000, REBALANCE - t));
  }
  await tick();
  // The static member did not rejoin but is still a member of generation 2.
  assert.ok(dJoin.done);
  assert.equal(dJoin.value!.generationId, 2);
  assert.equal(dJoin.value!.leader, dJoin.value!.memberId, "a member that rejoined leads");
  assert.ok(c.group("g")!.has(s.memberId));
  assert.equal(dJoin.value!.members.length, 2);
});

Deno.test("initial delayed join waits group.initial.rebalance.delay.ms, longer while members arrive", async () => {
  const { c, clock } = setup({ initialRebalanceDelayMs: 3000 });
  const a = watch(c.joinGroup(params({ clientId: "a" })));
  clock.advance(2000);
  const b = watch(c.joinGroup(params({ clientId: "b" })));
  clock.advance(1000);
  await tick();
  assert.equal(a.done, false, "a new member extended the delay");
  clock.advance(2999);
  await tick();
  assert.equal(a.done, false);
  clock.advance(1);
  await tick();
  assert.ok(a.done && b.done);
  assert.equal(a.value!.generationId, 1);
  assert.equal(a.value!.members.length + b.value!.members.length, 2);
  // A single member also waits the full delay.
  const solo = watch(c.joinGroup(params({ groupId: "solo" })));
  clock.advance(2999);
  await tick();
  assert.equal(solo.done, false);
  clock.advance(1);
  await tick();
  assert.equal(solo.value!.generationId, 1);
});

Deno.test("the initial delay is bounded by the rebalance timeout", async () => {
  const { c, clock } = setup({ initialRebalanceDelayMs: 3000 });
  const first = watch(c.joinGroup(params({ rebalanceTimeoutMs: 7000 })));
  // A member every 2.5 s would extend forever; the rebalance timeout caps it at 7 s.
  for (let i = 0; i < 4; i++) {
    clock.advance(2500);
    c.joinGroup(params());
  }
  await tick();
  assert.ok(first.done);
  assert.equal(clock.now() - 1_700_000_000_000, 10000);
  assert.equal(first.value!.generationId, 1);
});

Deno.test("group.max.size refuses members beyond it", async () => {
  const { c } = setup({ maxSize: 1 });
  await stableGroupOfOne(c);
  const r = await c.joinGroup(params({ clientId: "extra" }));
  assert.equal(r.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
  assert.equal(c.group("g")!.state, "Stable");
});

Deno.test("close() cancels every timer and answers waiting joins", async () => {
  const { c, clock } = setup({ initialRebalanceDelayMs: 3000 });
  await c.load();
  const waiting = watch(c.joinGroup(params()));
  assert.ok(c.pendingTimers > 0);
  c.close();
  await tick();
  assert.equal(c.pendingTimers, 0);
  assert.equal(clock.scheduled, 0);
  assert.equal(waiting.value!.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(c.heartbeat("g", "x", null, 1), ErrorCode.NOT_COORDINATOR);
});

Deno.test("a vanished member with a huge rebalance timeout is removed at its session timeout", async () => {
  const { c, clock } = setup();
  const huge = { rebalanceTimeoutMs: 0x7fffffff };
  const a = await stableGroupOfOne(c, huge);
  // a goes silent; b joins: the group waits for a to rejoin, but only until a's session ends.
  const bJoin = watch(c.joinGroup(params({ clientId: "b" })));
  assert.equal(c.group("g")!.state, "PreparingRebalance");
  clock.advance(SESSION - 1);
  await tick();
  assert.equal(bJoin.done, false);
  clock.advance(1);
  await tick();
  assert.ok(bJoin.done);
  assert.equal(bJoin.value!.errorCode, ErrorCode.NONE);
  assert.equal(bJoin.value!.generationId, 2);
  assert.equal(bJoin.value!.leader, bJoin.value!.memberId);
  assert.deepEqual(bJoin.value!.members.map((m) => m.memberId), [bJoin.value!.memberId]);
  assert.equal(c.group("g")!.has(a.memberId), false);
});

Deno.test("a follower's SyncGroup is answered when the leader vanishes before syncing", async () => {
  const { c, clock } = setup();
  const huge = { rebalanceTimeoutMs: 0x7fffffff };
  const a = await stableGroupOfOne(c, huge);
  const bJoin = watch(c.joinGroup(params({ clientId: "b", ...huge })));
  await c.joinGroup(params({ memberId: a.memberId, ...huge }));
  await tick();
  const b = bJoin.value!;
  assert.equal(b.generationId, 2);
  // The leader a never sends its SyncGroup (nor heartbeats); b waits for the assignment.
  const bSync = watch(c.syncGroup({
    groupId: "g",
    generationId: 2,
    memberId: b.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  }));
  clock.advance(SESSION - 1);
  await tick();
  assert.equal(bSync.done, false);
  clock.advance(1);
  await tick();
  assert.ok(bSync.done);
  assert.equal(bSync.value!.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(c.group("g")!.has(a.memberId), false);
});
