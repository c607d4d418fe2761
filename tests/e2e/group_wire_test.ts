/**
 * Every group API over the wire at its oldest and newest served version (non-flexible and
 * flexible encodings), with a raw protocol client: what the real clients in the e2e tests do
 * not happen to send (JoinGroup v0 and v9, OffsetFetch v1 and v8 with several groups,
 * ListGroups v5 filters, DescribeGroups v5, LeaveGroup v5 batches, OffsetDelete).
 */
import assert from "node:assert/strict";
import {
  ConsumerProtocolSubscription,
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetDeleteRequest,
  OffsetDeleteResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from "../../protocol/messages/mod.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { Writer } from "../../protocol/primitives.ts";
import { codecFor } from "../../protocol/schema.ts";
import type { Msg } from "../support/msg.ts";
import { testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";

function subscription(...topics: string[]): Uint8Array {
  const w = new Writer();
  w.int16(0);
  codecFor(ConsumerProtocolSubscription, 0).encode(w, { topics, userData: null });
  return w.finishCopy();
}

const PROTOCOLS = [{ name: "range", metadata: subscription("w") }];
const ASSIGNMENT = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

function join(groupId: string, memberId: string): Msg {
  return {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: PROTOCOLS,
    reason: "test",
  };
}

Deno.test("group APIs at their oldest and newest versions over the wire", async () => {
  const b = await testBroker({
    config: { "group.initial.rebalance.delay.ms": 0, "group.min.session.timeout.ms": 1000 },
  });
  const old = await RawClient.connect(b.port);
  const flex = await RawClient.connect(b.port);
  try {
    const reg = b.broker.registry;
    const served: [number, number, number][] = [
      [8, 0, 9],
      [9, 0, 9],
      [11, 0, 9],
      [12, 0, 4],
      [13, 0, 5],
      [14, 0, 5],
      [15, 0, 5],
      [16, 0, 5],
      [42, 0, 2],
      [47, 0, 0],
    ];
    for (const [key, min, max] of served) {
      const r = reg.get(key)!;
      assert.deepEqual([r.minVersion, r.maxVersion], [min, max], r.name);
    }
    await b.broker.createTopic("w", 2);

    // ---- oldest versions: JoinGroup v0 joins at once (no MEMBER_ID_REQUIRED before v4).
    const j0 = await old.call(JoinGroupRequest, JoinGroupResponse, 0, join("g0", ""));
    assert.equal(j0.errorCode, 0);
    assert.equal(j0.generationId, 1);
    assert.equal(j0.leader, j0.memberId);
    assert.equal(j0.protocolName, "range");
    assert.equal(j0.members.length, 1);
    const s0 = await old.call(SyncGroupRequest, SyncGroupResponse, 0, {
      groupId: "g0",
      generationId: 1,
      memberId: j0.memberId,
      assignments: [{ memberId: j0.memberId, assignment: ASSIGNMENT }],
    });
    assert.equal(s0.errorCode, 0);
    assert.deepEqual([...s0.assignment], [...ASSIGNMENT]);
    const hb0 = { groupId: "g0", generationId: 1, memberId: j0.memberId };
    assert.equal((await old.call(HeartbeatRequest, HeartbeatResponse, 0, hb0)).errorCode, 0);
    const c2 = await old.call(OffsetCommitRequest, OffsetCommitResponse, 2, {
      groupId: "g0",
      generationIdOrMemberEpoch: 1,
      memberId: j0.memberId,
      retentionTimeMs: -1,
      topics: [{
        name: "w",
        partitions: [{ partitionIndex: 0, committedOffset: 3, committedMetadata: "meta" }],
      }],
    });
    assert.equal(c2.topics[0].partitions[0].errorCode, 0);
    const f1 = await old.call(OffsetFetchRequest, OffsetFetchResponse, 1, {
      groupId: "g0",
      topics: [{ name: "w", partitionIndexes: [0, 1] }],
    });
    assert.deepEqual(
      f1.topics[0].partitions.map((p: Msg) => [p.committedOffset, p.metadata, p.errorCode]),
      [[3, "meta", 0], [-1, "", 0]],
    );
    const l0 = { groupId: "g0", memberId: j0.memberId };
    assert.equal((await old.call(LeaveGroupRequest, LeaveGroupResponse, 0, l0)).errorCode, 0);
    assert.equal(
      (await old.call(LeaveGroupRequest, LeaveGroupResponse, 0, l0)).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal(
      (await old.call(HeartbeatRequest, HeartbeatResponse, 0, hb0)).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );

    // ---- newest versions (flexible): KIP-394 two-step join.
    const first = await flex.call(JoinGroupRequest, JoinGroupResponse, 9, join("g9", ""));
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    const j9 = await flex.call(JoinGroupRequest, JoinGroupResponse, 9, join("g9", first.memberId));
    assert.equal(j9.errorCode, 0);
    assert.equal(j9.protocolType, "consumer");
    assert.equal(j9.skipAssignment, false);
    const s5 = await flex.call(SyncGroupRequest, SyncGroupResponse, 5, {
      groupId: "g9",
      generationId: j9.generationId,
      memberId: j9.memberId,
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [{ memberId: j9.memberId, assignment: ASSIGNMENT }],
    });
    assert.deepEqual([s5.errorCode, s5.protocolType, s5.protocolName], [0, "consumer", "range"]);
    const hb4 = {
      groupId: "g9",
      generationId: j9.generationId,
      memberId: j9.memberId,
      groupInstanceId: null,
    };
    assert.equal((await flex.call(HeartbeatRequest, HeartbeatResponse, 4, hb4)).errorCode, 0);
    const c9 = await flex.call(OffsetCommitRequest, OffsetCommitResponse, 9, {
      groupId: "g9",
      generationIdOrMemberEpoch: j9.generationId,
      memberId: j9.memberId,
      groupInstanceId: null,
      topics: [{
        name: "w",
        partitions: [0, 1].map((p) => ({
          partitionIndex: p,
          committedOffset: 10 + p,
          committedLeaderEpoch: 0,
          committedMetadata: null,
        })),
      }],
    });
    assert.deepEqual(c9.topics[0].partitions.map((p: Msg) => p.errorCode), [0, 0]);
    const f7 = await flex.call(OffsetFetchRequest, OffsetFetchResponse, 7, {
      groupId: "g9",
      topics: null,
      requireStable: true,
    });
    assert.equal(f7.errorCode, 0);
    assert.deepEqual(
      f7.topics[0].partitions.map((p: Msg) => [p.partitionIndex, p.committedOffset]),
      [[0, 10], [1, 11]],
    );
    const f8 = await flex.call(OffsetFetchRequest, OffsetFetchResponse, 9, {
      groups: [
        { groupId: "g9", memberId: null, memberEpoch: -1, topics: null },
        {
          groupId: "g0",
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: "w", partitionIndexes: [0] }],
        },
        {
          groupId: "nope",
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: "w", partitionIndexes: [1] }],
        },
      ],
      requireStable: false,
    });
    assert.deepEqual(
      f8.groups.map((g: Msg) => [
        g.groupId,
        g.errorCode,
        g.topics.flatMap((t: Msg) => t.partitions.map((p: Msg) => p.committedOffset)),
      ]),
      [["g9", 0, [10, 11]], ["g0", 0, [3]], ["nope", 0, [-1]]],
    );

    const lg0 = await flex.call(ListGroupsRequest, ListGroupsResponse, 0, {});
    assert.deepEqual(
      lg0.groups.map((g: Msg) => [g.groupId, g.protocolType]).sort(),
      [["g0", "consumer"], ["g9", "consumer"]],
    );
    const lg5 = await flex.call(ListGroupsRequest, ListGroupsResponse, 5, {
      statesFilter: ["stable"],
      typesFilter: [],
    });
    assert.deepEqual(lg5.groups, [{
      groupId: "g9",
      protocolType: "consumer",
      groupState: "Stable",
      groupType: "classic",
    }]);
    const lgConsumer = await flex.call(ListGroupsRequest, ListGroupsResponse, 5, {
      statesFilter: [],
      typesFilter: ["consumer"],
    });
    assert.deepEqual(lgConsumer.groups, []);

    const dg0 = await old.call(DescribeGroupsRequest, DescribeGroupsResponse, 0, {
      groups: ["g9", "unknown"],
    });
    assert.deepEqual(
      dg0.groups.map((g: Msg) => [g.groupId, g.errorCode, g.groupState, g.protocolData]),
      [["g9", 0, "Stable", "range"], ["unknown", 0, "Dead", ""]],
    );
    assert.deepEqual([...dg0.groups[0].members[0].memberAssignment], [...ASSIGNMENT]);
    assert.equal(dg0.groups[0].members[0].clientId, "bench");
    const dg5 = await flex.call(DescribeGroupsRequest, DescribeGroupsResponse, 5, {
      groups: ["g9"],
      includeAuthorizedOperations: true,
    });
    assert.equal(dg5.groups[0].authorizedOperations, (1 << 3) | (1 << 6) | (1 << 8));
    assert.equal(dg5.groups[0].members[0].groupInstanceId, null);
    assert.deepEqual([...dg5.groups[0].members[0].memberMetadata], [...PROTOCOLS[0].metadata]);

    const od = (groupId: string) =>
      old.call(OffsetDeleteRequest, OffsetDeleteResponse, 0, {
        groupId,
        topics: [{ name: "w", partitions: [{ partitionIndex: 0 }] }],
      });
    const busy = await od("g9");
    assert.equal(busy.errorCode, 0);
    assert.equal(busy.topics[0].partitions[0].errorCode, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
    assert.equal((await od("nope")).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    const lv5 = await flex.call(LeaveGroupRequest, LeaveGroupResponse, 5, {
      groupId: "g9",
      members: [
        { memberId: j9.memberId, groupInstanceId: null, reason: "done" },
        { memberId: "ghost", groupInstanceId: null, reason: null },
      ],
    });
    assert.equal(lv5.errorCode, 0);
    assert.deepEqual(lv5.members.map((m: Msg) => m.errorCode), [0, ErrorCode.UNKNOWN_MEMBER_ID]);
    const freed = await od("g9");
    assert.equal(freed.topics[0].partitions[0].errorCode, 0);
    const after = b.broker.groups.fetchOffsets("g9", null).topics[0].partitions;
    assert.deepEqual(after.map((p) => p.partitionIndex), [1]);

    const dl0 = await old.call(DeleteGroupsRequest, DeleteGroupsResponse, 0, {
      groupsNames: ["g0"],
    });
    assert.deepEqual(dl0.results, [{ groupId: "g0", errorCode: 0 }]);
    const dl2 = await flex.call(DeleteGroupsRequest, DeleteGroupsResponse, 2, {
      groupsNames: ["g9", "g0"],
    });
    assert.deepEqual(dl2.results.map((r: Msg) => r.errorCode), [0, ErrorCode.GROUP_ID_NOT_FOUND]);
    assert.deepEqual(b.broker.groups.listGroups(), []);
  } finally {
    old.close();
    flex.close();
    await b.stop();
  }
});
