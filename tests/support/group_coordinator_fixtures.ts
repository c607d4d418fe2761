/**
 * Shared by the GroupCoordinator unit tests: an in-memory log, a ManualClock coordinator and
 * the join/sync steps that bring groups to Stable.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { ConsumerProtocolSubscription } from "../../protocol/messages/mod.ts";
import { Writer } from "../../protocol/primitives.ts";
import { codecFor } from "../../protocol/schema.ts";
import type { JoinGroupResult } from "../../src/group/classic_group_member.ts";
import { ManualClock } from "../../src/group/clock.ts";
import type { GroupConfig } from "../../src/group/group_config.ts";
import {
  GroupCoordinator,
  type JoinGroupParams,
  type OffsetCommitParams,
} from "../../src/group/group_coordinator.ts";
import { MemoryCoordinatorLog } from "./memory_coordinator_log.ts";

export const SESSION = 10_000;

export const REBALANCE = 30_000;

export function setup(config: Partial<GroupConfig> = {}, log = new MemoryCoordinatorLog()) {
  const clock = new ManualClock();
  const known = new Set(["t-0", "t-1", "t-2", "u-0"]);
  const c = new GroupCoordinator(log, {
    clock,
    config: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000, ...config },
    partitionExists: (t, p) => known.has(`${t}-${p}`),
  });
  return { c, clock, log };
}

/** A ConsumerProtocolSubscription v0 for `topics`. */
export function sub(...topics: string[]): Uint8Array {
  const w = new Writer();
  w.int16(0);
  codecFor(ConsumerProtocolSubscription, 0).encode(w, { topics, userData: null });
  return w.finishCopy();
}

export function params(over: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId: "g",
    memberId: "",
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: "client",
    clientHost: "/127.0.0.1",
    rebalanceTimeoutMs: REBALANCE,
    sessionTimeoutMs: SESSION,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: sub("t") }],
    ...over,
  };
}

/** Lets pending promise callbacks (log appends) run. */
export const tick = () => new Promise((r) => setTimeout(r, 0));

/** Observes a promise without awaiting it. */
export function watch<T>(p: Promise<T>): { done: boolean; value?: T } {
  const w: { done: boolean; value?: T } = { done: false };
  p.then((v) => {
    w.done = true;
    w.value = v;
  });
  return w;
}

export async function joinedMember(
  c: GroupCoordinator,
  over: Partial<JoinGroupParams> = {},
): Promise<JoinGroupResult> {
  const r = await c.joinGroup(params(over));
  assert.equal(r.errorCode, ErrorCode.NONE);
  return r;
}

/** One member joins and syncs: a Stable group of one. */
export async function stableGroupOfOne(c: GroupCoordinator, over: Partial<JoinGroupParams> = {}) {
  const j = await joinedMember(c, over);
  const s = await c.syncGroup({
    groupId: over.groupId ?? "g",
    generationId: j.generationId,
    memberId: j.memberId,
    groupInstanceId: over.groupInstanceId ?? null,
    protocolType: "consumer",
    protocolName: "range",
    assignments: [{ memberId: j.memberId, assignment: new Uint8Array([1]) }],
  });
  assert.equal(s.errorCode, ErrorCode.NONE);
  return j;
}

/** Two dynamic members in a Stable group (a leads, b follows). */
export async function stableGroupOfTwo(c: GroupCoordinator) {
  const a = await stableGroupOfOne(c);
  const bJoin = watch(c.joinGroup(params({ clientId: "b" })));
  assert.equal(c.group("g")!.state, "PreparingRebalance");
  const aJoin = await c.joinGroup(params({ memberId: a.memberId }));
  await tick();
  assert.ok(bJoin.done);
  const b = bJoin.value!;
  assert.equal(aJoin.generationId, 2);
  const bSync = watch(c.syncGroup({
    groupId: "g",
    generationId: 2,
    memberId: b.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  }));
  await c.syncGroup({
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
  assert.ok(bSync.done);
  return { a: aJoin, b };
}

export function commitParams(over: Partial<OffsetCommitParams> = {}): OffsetCommitParams {
  return {
    groupId: "g",
    generationId: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1,
    apiVersion: 8,
    topics: [{
      name: "t",
      partitions: [{
        partitionIndex: 0,
        committedOffset: 10,
        committedLeaderEpoch: -1,
        committedMetadata: "m",
      }],
    }],
    ...over,
  };
}
