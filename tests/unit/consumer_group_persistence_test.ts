/**
 * Consumer-protocol (KIP-848) groups in `__consumer_offsets`, with a ManualClock and an
 * in-memory log: the ConsumerGroup* records in Kafka's byte formats, the heartbeat response
 * held until its records are appended (and a failed append retried by the next write), and
 * "restarts" — the log replayed into a new coordinator — after which members carry on with
 * the same epochs and assignments, get a fresh session, and left/empty/deleted groups stay
 * so, also after compaction.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { uuidToString } from "../../protocol/schema.ts";
import { ManualClock } from "../../src/group/clock.ts";
import type {
  ConsumerGroupHeartbeatParams,
  ConsumerGroupHeartbeatResult,
  TopicCatalog,
  TopicInfo,
} from "../../src/group/consumer_group_coordinator.ts";
import {
  consumerGroupKey,
  consumerGroupValue,
  decodeConsumerGroupRecord,
} from "../../src/group/consumer_group_records.ts";
import { GroupCoordinator } from "../../src/group/group_coordinator.ts";
import { MemoryCoordinatorLog } from "../support/memory_coordinator_log.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

const uuid = (n: number) => uuidToString(new Uint8Array(16).fill(n));
const T = uuid(1);
const U = uuid(2);

class Topics implements TopicCatalog {
  readonly map = new Map<string, TopicInfo>([
    ["t", { name: "t", topicId: T, partitions: 6 }],
    ["u", { name: "u", topicId: U, partitions: 2 }],
  ]);
  byName(name: string) {
    return this.map.get(name);
  }
  byId(id: string) {
    return [...this.map.values()].find((t) => t.topicId === id);
  }
  all() {
    return [...this.map.values()];
  }
}

const SESSION = 10_000;

function coordinator(log: MemoryCoordinatorLog, clock: ManualClock, topics = new Topics()) {
  return new GroupCoordinator(log, {
    clock,
    topics,
    config: {
      initialRebalanceDelayMs: 0,
      consumerSessionTimeoutMs: SESSION,
      consumerHeartbeatIntervalMs: 1000,
    },
    partitionExists: (t, p) => (topics.byName(t)?.partitions ?? 0) > p,
  });
}

/** Stops the old coordinator and loads a new one from the same log. */
async function restart(old: GroupCoordinator, log: MemoryCoordinatorLog, clock: ManualClock) {
  old.close();
  const c = coordinator(log, clock);
  await c.load();
  return c;
}

function hb(
  c: GroupCoordinator,
  over: Partial<ConsumerGroupHeartbeatParams> = {},
): Promise<ConsumerGroupHeartbeatResult> {
  return c.consumerGroupHeartbeat({
    apiVersion: 1,
    groupId: "g",
    memberId: "m1",
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: ["t"],
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: [],
    clientId: "client",
    clientHost: "/127.0.0.1",
    ...over,
  });
}

function beat(
  c: GroupCoordinator,
  memberId: string,
  memberEpoch: number,
  owned: number[] | null,
  over: Partial<ConsumerGroupHeartbeatParams> = {},
): Promise<ConsumerGroupHeartbeatResult> {
  return hb(c, {
    memberId,
    memberEpoch,
    rebalanceTimeoutMs: -1,
    subscribedTopicNames: null,
    topicPartitions: owned === null ? null : [{ topicId: T, partitions: owned }],
    ...over,
  });
}

function ok(r: ConsumerGroupHeartbeatResult): ConsumerGroupHeartbeatResult {
  assert.equal(r.errorCode, ErrorCode.NONE, `${r.errorCode}: ${r.errorMessage}`);
  return r;
}

function parts(r: ConsumerGroupHeartbeatResult): number[] | null {
  if (!r.assignment) return null;
  return r.assignment.topicPartitions.find((t) => t.topicId === T)?.partitions ?? [];
}

/** m1 and m2 sharing t, reconciled (Stable); returns each one's epoch and partitions. */
async function twoStable(c: GroupCoordinator) {
  const a = ok(await hb(c, { memberId: "m1" }));
  const b = ok(await hb(c, { memberId: "m2" }));
  const a2 = ok(await beat(c, "m1", a.memberEpoch, parts(a)));
  const a3 = ok(await beat(c, "m1", a2.memberEpoch, parts(a2)));
  const b2 = ok(await beat(c, "m2", b.memberEpoch, []));
  assert.equal(c.consumer.group("g")!.state, "Stable");
  return {
    m1: { epoch: a3.memberEpoch, parts: parts(a2)! },
    m2: { epoch: b2.memberEpoch, parts: parts(b2)! },
  };
}

/** The group as persisted state sees it (for before/after comparisons). */
function snapshot(c: GroupCoordinator, groupId = "g") {
  const g = c.consumer.group(groupId);
  if (!g) return undefined;
  return {
    state: g.state,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    subscriptionMetadata: g.subscriptionMetadata,
    members: [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      clientId: m.clientId,
      subscribed: m.subscribedTopicNames,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      memberState: m.state,
      assigned: m.assignedList(),
      target: [...(g.targetAssignment.get(m.memberId) ?? new Map())]
        .map(([t, ps]) => [t, [...ps].sort()])
        .sort(),
    })).sort((x, y) => (x.memberId < y.memberId ? -1 : 1)),
  };
}

Deno.test("ConsumerGroup* records are Kafka's bytes (key versions 3-8, value v0)", () => {
  // Key: int16 version, then the group id (and member id) as int16-length strings.
  assert.equal(hex(consumerGroupKey("groupMetadata", "g")), "0003" + "0001" + "67");
  assert.equal(
    hex(consumerGroupKey("currentMemberAssignment", "g", "m")),
    "0008" + "0001" + "67" + "0001" + "6d",
  );
  assert.equal(hex(consumerGroupKey("memberMetadata", "g", "m")).slice(0, 4), "0005");
  assert.equal(hex(consumerGroupKey("partitionMetadata", "g")).slice(0, 4), "0004");
  assert.equal(hex(consumerGroupKey("targetAssignmentMetadata", "g")).slice(0, 4), "0006");
  assert.equal(hex(consumerGroupKey("targetAssignmentMember", "g", "m")).slice(0, 4), "0007");
  // Values: int16 version 0, flexible (compact arrays/strings, empty tagged-field sections).
  assert.equal(hex(consumerGroupValue("groupMetadata", { epoch: 5 })), "0000" + "00000005" + "00");
  const tp = "01".repeat(16);
  assert.equal(
    hex(consumerGroupValue("currentMemberAssignment", {
      memberEpoch: 7,
      previousMemberEpoch: 6,
      state: "UNREVOKED_PARTITIONS",
      assignedPartitions: [{ topicId: T, partitions: [0, 2] }],
      partitionsPendingRevocation: [{ topicId: T, partitions: [4] }],
    })),
    "0000" + "00000007" + "00000006" + "01" +
      "02" + tp + "03" + "00000000" + "00000002" + "00" +
      "02" + tp + "02" + "00000004" + "00" + "00",
  );
  assert.equal(
    hex(consumerGroupValue("memberMetadata", {
      instanceId: null,
      rackId: "r",
      clientId: "c",
      clientHost: "/h",
      subscribedTopicNames: ["t"],
      subscribedTopicRegex: null,
      rebalanceTimeoutMs: 300,
      serverAssignor: "uniform",
    })),
    "0000" + "00" + "0272" + "0263" + "032f68" + "02" + "0274" + "00" + "0000012c" +
      "08" + hex(new TextEncoder().encode("uniform")) + "00",
  );
  // Round trip, and a Kafka record with a classic member's tagged metadata still decodes.
  const value = consumerGroupValue("targetAssignmentMember", {
    topicPartitions: [{ topicId: U, partitions: [1] }],
  });
  const rec = decodeConsumerGroupRecord(
    consumerGroupKey("targetAssignmentMember", "g", "m"),
    value,
  );
  assert.deepEqual(rec, {
    type: "targetAssignmentMember",
    groupId: "g",
    memberId: "m",
    value: { topicPartitions: [{ topicId: U, partitions: [1] }] },
  });
  const withClassic = new Uint8Array([
    ...consumerGroupValue("memberMetadata", {
      instanceId: null,
      rackId: null,
      clientId: "",
      clientHost: "",
      subscribedTopicNames: [],
      subscribedTopicRegex: null,
      rebalanceTimeoutMs: -1,
      serverAssignor: null,
    }).slice(0, -1),
    // One tagged field (tag 0, 7 bytes): present (nullable struct), session timeout 45000,
    // no protocols, no tagged fields.
    ...[0x01, 0x00, 0x07, 0x01, 0x00, 0x00, 0xaf, 0xc8, 0x01, 0x00],
    0x00,
  ]);
  const m = decodeConsumerGroupRecord(consumerGroupKey("memberMetadata", "g", "m"), withClassic);
  assert.equal(m?.type, "memberMetadata");
  assert.equal(m?.value && "rebalanceTimeoutMs" in m.value && m.value.rebalanceTimeoutMs, -1);
  // Offset and classic group keys are not consumer group records.
  assert.equal(decodeConsumerGroupRecord(new Uint8Array([0, 2, 0, 1, 0x67]), null), null);
});

Deno.test("after a restart members carry on with the same epochs and assignments", async () => {
  const clock = new ManualClock();
  const log = new MemoryCoordinatorLog();
  const c = coordinator(log, clock);
  const { m1, m2 } = await twoStable(c);
  const before = snapshot(c);
  const records = log.records.length;
  assert.ok(records > 0);
  // A steady heartbeat writes nothing.
  ok(await beat(c, "m1", m1.epoch, m1.parts));
  assert.equal(log.records.length, records);

  clock.advance(SESSION - 1);
  const c2 = await restart(c, log, clock);
  assert.deepEqual(snapshot(c2), before);
  // Same epoch, same partitions: no FENCED_MEMBER_EPOCH, nothing to revoke, no new epoch.
  const r1 = ok(await beat(c2, "m1", m1.epoch, m1.parts));
  assert.equal(r1.memberEpoch, m1.epoch);
  assert.equal(r1.assignment, null, "assignment unchanged");
  const r2 = ok(await beat(c2, "m2", m2.epoch, m2.parts, { topicPartitions: null }));
  assert.equal(r2.memberEpoch, m2.epoch);
  assert.deepEqual(snapshot(c2), before);
  assert.equal(log.records.length, records, "nothing changed, nothing written");
  // A full request (as a client sends after reconnecting) gets the same assignment back.
  const full = ok(
    await beat(c2, "m1", m1.epoch, m1.parts, {
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: ["t"],
    }),
  );
  assert.deepEqual(parts(full), m1.parts);
  assert.equal(full.memberEpoch, m1.epoch);
  // Commits with the member's epoch are accepted.
  const commit = await c2.commitOffsets({
    groupId: "g",
    generationId: m1.epoch,
    memberId: "m1",
    groupInstanceId: null,
    apiVersion: 9,
    retentionTimeMs: -1,
    topics: [{
      name: "t",
      partitions: [{
        partitionIndex: m1.parts[0],
        committedOffset: 5,
        committedLeaderEpoch: -1,
        committedMetadata: null,
      }],
    }],
  });
  assert.equal(commit[0].partitions[0].errorCode, ErrorCode.NONE);
  c2.close();
});

Deno.test("loaded members get a fresh session; a silent one expires, and stays gone", async () => {
  const clock = new ManualClock();
  const log = new MemoryCoordinatorLog();
  const c = coordinator(log, clock);
  const { m1 } = await twoStable(c);
  clock.advance(SESSION - 1); // m2's session would end in 1 ms on the old coordinator
  const c2 = await restart(c, log, clock);
  clock.advance(SESSION - 1);
  assert.equal(c2.consumer.group("g")!.members.size, 2, "sessions restarted at load");
  ok(await beat(c2, "m1", m1.epoch, m1.parts));
  clock.advance(1);
  const g = c2.consumer.group("g")!;
  assert.deepEqual([...g.members.keys()], ["m1"], "m2 expired a session after the load");
  const epoch = g.groupEpoch;
  // The expiry is written in the background; m1 then moves to the new assignment.
  await Promise.resolve();
  const r = ok(await beat(c2, "m1", m1.epoch, m1.parts));
  assert.equal(r.memberEpoch, epoch);
  assert.deepEqual(parts(r), [0, 1, 2, 3, 4, 5]);
  const after = snapshot(c2);
  const c3 = await restart(c2, log, clock);
  assert.deepEqual(snapshot(c3), after);
  assert.equal(c3.consumer.group("g")!.members.has("m2"), false);
  c3.close();
});

Deno.test("a revoking member is reloaded revoking, with a fresh rebalance timeout", async () => {
  const clock = new ManualClock();
  const log = new MemoryCoordinatorLog();
  const c = coordinator(log, clock);
  const a = ok(await hb(c, { memberId: "m1", rebalanceTimeoutMs: 3000 }));
  ok(await hb(c, { memberId: "m2" }));
  const a2 = ok(await beat(c, "m1", a.memberEpoch, [0, 1, 2, 3, 4, 5]));
  assert.equal(c.consumer.group("g")!.members.get("m1")!.state, "UNREVOKED_PARTITIONS");
  clock.advance(2000);
  const c2 = await restart(c, log, clock);
  const g = c2.consumer.group("g")!;
  const m = g.members.get("m1")!;
  assert.equal(m.state, "UNREVOKED_PARTITIONS");
  assert.deepEqual(m.assignedList(), [{ topicId: T, partitions: parts(a2)! }]);
  assert.equal(g.members.get("m2")!.state, "UNRELEASED_PARTITIONS");
  // Revoking finishes on the new coordinator: m1 moves on, m2 gets the released partitions.
  const a3 = ok(await beat(c2, "m1", a.memberEpoch, parts(a2)));
  assert.equal(a3.memberEpoch, g.assignmentEpoch);
  const b = ok(await beat(c2, "m2", g.assignmentEpoch, []));
  assert.equal(parts(b)!.length, 3);
  assert.equal(g.state, "Stable");

  // Once more, and this time m1 does not revoke: fenced 3000 ms after the load.
  const log2 = new MemoryCoordinatorLog();
  const d = coordinator(log2, clock);
  const x = ok(await hb(d, { memberId: "m1", rebalanceTimeoutMs: 3000 }));
  ok(await hb(d, { memberId: "m2" }));
  ok(await beat(d, "m1", x.memberEpoch, [0, 1, 2, 3, 4, 5]));
  clock.advance(2999);
  const d2 = await restart(d, log2, clock);
  clock.advance(2999);
  assert.ok(d2.consumer.group("g")!.members.has("m1"));
  clock.advance(1);
  assert.equal(d2.consumer.group("g")!.members.has("m1"), false);
  c2.close();
  d2.close();
});

Deno.test("the response waits for its records; a failed write answers an error and is retried", async () => {
  const clock = new ManualClock();
  const log = new MemoryCoordinatorLog();
  const c = coordinator(log, clock);
  log.hold = true;
  let answered = false;
  const pending = hb(c, { memberId: "m1" }).then((r) => (answered = true, r));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(answered, false, "not answered before the append completed");
  assert.equal(log.records.length, 0);
  log.release();
  const r = ok(await pending);
  assert.equal(r.memberEpoch, 1);
  const types = log.records.map((x) => decodeConsumerGroupRecord(x.key, x.value)!.type);
  assert.deepEqual(types, [
    "memberMetadata",
    "groupMetadata",
    "partitionMetadata",
    "targetAssignmentMember",
    "targetAssignmentMetadata",
    "currentMemberAssignment",
  ]);
  log.hold = false;

  // The append fails: the member is told COORDINATOR_NOT_AVAILABLE...
  log.failWith = new KafkaError(ErrorCode.NOT_ENOUGH_REPLICAS, "down");
  const f = await hb(c, { memberId: "m2" });
  assert.equal(f.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  log.failWith = undefined;
  // ...and the next write, by anyone, carries what was not written.
  const written = log.records.length;
  ok(await beat(c, "m1", 1, [0, 1, 2, 3, 4, 5]));
  const more = log.records.slice(written).map((x) => decodeConsumerGroupRecord(x.key, x.value)!);
  assert.ok(more.some((x) => x.type === "memberMetadata" && x.memberId === "m2"));
  const before = snapshot(c);
  const c2 = await restart(c, log, clock);
  assert.deepEqual(snapshot(c2), before);
  c2.close();
});

Deno.test("writes in flight: a change undone meanwhile is written; a later write waits for an earlier one", async () => {
  const clock = new ManualClock();
  const log = new MemoryCoordinatorLog();
  const c = coordinator(log, clock);
  const a = ok(await hb(c, { memberId: "m1" }));
  const owned = parts(a)!;
  // m1 subscribes to u too, and back to t only, while the first write is still in flight:
  // the second must still be written (the log's last value would otherwise be [t, u]).
  log.hold = true;
  const w1 = beat(c, "m1", a.memberEpoch, owned, { subscribedTopicNames: ["t", "u"] });
  const w2 = beat(c, "m1", a.memberEpoch + 1, owned, { subscribedTopicNames: ["t"] });
  log.hold = false;
  log.release();
  ok(await w1);
  ok(await w2);
  const before = snapshot(c)!;
  assert.deepEqual(before.members[0].subscribed, ["t"]);
  let c2 = await restart(c, log, clock);
  assert.deepEqual(snapshot(c2), before);

  // A write that relies on an earlier one in flight fails when that one fails.
  log.hold = true;
  const m = c2.consumer.group("g")!.members.get("m1")!;
  const x1 = hb(c2, { memberId: "m2" });
  const x2 = beat(c2, "m1", m.memberEpoch, owned, { topicPartitions: null });
  await new Promise((r) => setTimeout(r, 0));
  log.release(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, "moved"), 1);
  assert.equal((await x1).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal((await x2).errorCode, ErrorCode.NOT_COORDINATOR);
  log.hold = false;
  // The next write carries m2 after all: a restart sees what the coordinator has.
  ok(await beat(c2, "m1", m.memberEpoch, null));
  const now = snapshot(c2);
  assert.ok(now!.members.some((x) => x.memberId === "m2"));
  c2 = await restart(c2, log, clock);
  assert.deepEqual(snapshot(c2), now);
  c2.close();
});

Deno.test("leaving, empty and deleted groups stay so across restarts and compaction", async () => {
  const clock = new ManualClock();
  const log = new MemoryCoordinatorLog();
  const c = coordinator(log, clock);
  const { m1, m2 } = await twoStable(c);
  // m2 leaves: its three records are tombstoned before the epoch bump.
  const n = log.records.length;
  ok(await beat(c, "m2", -1, m2.parts));
  const left = log.records.slice(n).map((x) => decodeConsumerGroupRecord(x.key, x.value)!);
  assert.deepEqual(
    left.filter((x) => x.value === null).map((x) => [x.type, x.memberId]),
    [
      ["currentMemberAssignment", "m2"],
      ["targetAssignmentMember", "m2"],
      ["memberMetadata", "m2"],
    ],
  );
  let c2 = await restart(c, log, clock);
  assert.deepEqual([...c2.consumer.group("g")!.members.keys()], ["m1"]);
  // m1 leaves too: the group is Empty, keeps its epoch, and stays Empty.
  ok(await beat(c2, "m1", -1, m1.parts));
  const empty = snapshot(c2)!;
  assert.equal(empty.state, "Empty");
  log.compact();
  c2 = await restart(c2, log, clock);
  assert.deepEqual(snapshot(c2), empty);
  // A join of an Empty group continues from its epoch.
  const r = ok(await hb(c2, { memberId: "m3" }));
  assert.equal(r.memberEpoch, empty.groupEpoch + 1);
  ok(await beat(c2, "m3", -1, parts(r)));

  // Deleted: tombstones for every key; gone after a restart, with or without compaction.
  const [del] = await c2.deleteGroups(["g"]);
  assert.equal(del.errorCode, ErrorCode.NONE);
  assert.equal(c2.consumer.has("g"), false);
  const c3 = await restart(c2, log, clock);
  assert.equal(c3.consumer.has("g"), false);
  assert.equal(c3.group("g"), undefined);
  log.compact();
  assert.equal(
    log.records.filter((x) => decodeConsumerGroupRecord(x.key, x.value) !== null).length,
    0,
    "compaction leaves no record of the deleted group",
  );
  const c4 = await restart(c3, log, clock);
  assert.equal(c4.consumer.has("g"), false);
  // An unknown group with an epoch > 0: the member is told to rejoin.
  assert.equal((await beat(c4, "m1", m1.epoch, m1.parts)).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  c4.close();
});

Deno.test("static members and compaction: the same state after any restart", async () => {
  const clock = new ManualClock();
  const log = new MemoryCoordinatorLog();
  const c = coordinator(log, clock);
  const a = ok(
    await hb(c, { memberId: "a-1", instanceId: "inst-a", subscribedTopicNames: ["t", "u"] }),
  );
  ok(await hb(c, { memberId: "b-1", instanceId: "inst-b", subscribedTopicNames: ["t", "u"] }));
  ok(await beat(c, "a-1", a.memberEpoch, null, { instanceId: "inst-a" }));
  // inst-b leaves for now (-2): it keeps its place and partitions.
  ok(await beat(c, "b-1", -2, null, { instanceId: "inst-b" }));
  const before = snapshot(c)!;
  assert.equal(before.members.find((m) => m.memberId === "b-1")!.memberEpoch, -2);
  log.compact();
  const c2 = await restart(c, log, clock);
  assert.deepEqual(snapshot(c2), before);
  // The instance comes back under a new member id and gets its partitions back.
  const held = c2.consumer.group("g")!.members.get("b-1")!.assignedList();
  const b = ok(
    await hb(c2, { memberId: "b-2", instanceId: "inst-b", subscribedTopicNames: ["t", "u"] }),
  );
  assert.deepEqual(b.assignment!.topicPartitions, held);
  // The old id is fenced, and the new one is what a restart sees.
  assert.equal(
    (await beat(c2, "b-1", b.memberEpoch, null, { instanceId: "inst-b" })).errorCode,
    ErrorCode.FENCED_INSTANCE_ID,
  );
  const after = snapshot(c2);
  const c3 = await restart(c2, log, clock);
  assert.deepEqual(snapshot(c3), after);
  assert.equal(c3.consumer.group("g")!.staticMember("inst-b")!.memberId, "b-2");
  c3.close();
});

Deno.test("a consumer group that took over a classic id, and back: the last written wins", async () => {
  const clock = new ManualClock();
  const log = new MemoryCoordinatorLog();
  const c = coordinator(log, clock);
  // An empty classic group with a stored record (a member joined and left).
  const join = await c.joinGroup({
    groupId: "g",
    memberId: "",
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: "x",
    clientHost: "/h",
    rebalanceTimeoutMs: 1000,
    sessionTimeoutMs: 6000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: new Uint8Array(0) }],
  });
  assert.equal(join.errorCode, ErrorCode.NONE);
  await c.syncGroup({
    groupId: "g",
    generationId: join.generationId,
    memberId: join.memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocolName: "range",
    assignments: [],
  });
  await c.leaveGroup("g", [{ memberId: join.memberId, groupInstanceId: null }]);
  assert.ok(c.group("g")?.is("Empty"));
  // A consumer-protocol member takes the id over.
  const r = ok(await hb(c, { memberId: "m1" }));
  const c2 = await restart(c, log, clock);
  assert.equal(c2.group("g"), undefined, "the classic group's record was tombstoned");
  assert.equal(c2.consumer.group("g")!.members.get("m1")!.memberEpoch, r.memberEpoch);
  // Back: m1 leaves, a classic member takes the empty consumer group's id.
  ok(await beat(c2, "m1", -1, parts(r)));
  const join2 = await c2.joinGroup({
    groupId: "g",
    memberId: "",
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: "x",
    clientHost: "/h",
    rebalanceTimeoutMs: 1000,
    sessionTimeoutMs: 6000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: new Uint8Array(0) }],
  });
  assert.equal(join2.errorCode, ErrorCode.NONE);
  await c2.syncGroup({
    groupId: "g",
    generationId: join2.generationId,
    memberId: join2.memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocolName: "range",
    assignments: [{ memberId: join2.memberId, assignment: new Uint8Array(0) }],
  });
  const c3 = await restart(c2, log, clock);
  assert.equal(c3.consumer.has("g"), false, "the consumer group's records were tombstoned");
  assert.equal(c3.group("g")?.generationId, join2.generationId);
  assert.ok(c3.group("g")!.has(join2.memberId));
  c3.close();
});
