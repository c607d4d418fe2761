/**
 * Shared by the consumer group protocol (KIP-848) unit tests: an in-memory log, a topic
 * catalog, a coordinator on a ManualClock and heartbeat helpers.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { ManualClock } from "../../src/group/clock.ts";
import type {
  ConsumerGroupHeartbeatParams,
  ConsumerGroupHeartbeatResult,
  TopicCatalog,
  TopicInfo,
} from "../../src/group/consumer_group_coordinator.ts";
import type { GroupConfig } from "../../src/group/group_config.ts";
import { GroupCoordinator } from "../../src/group/group_coordinator.ts";
import { MemoryCoordinatorLog } from "./memory_coordinator_log.ts";

export class Topics implements TopicCatalog {
  private readonly byNameMap = new Map<string, TopicInfo>();
  set(name: string, partitions: number): TopicInfo {
    const t = { name, topicId: this.byNameMap.get(name)?.topicId ?? `id-${name}`, partitions };
    this.byNameMap.set(name, t);
    return t;
  }
  delete(name: string): void {
    this.byNameMap.delete(name);
  }
  byName(name: string) {
    return this.byNameMap.get(name);
  }
  byId(id: string) {
    return [...this.byNameMap.values()].find((t) => t.topicId === id);
  }
  all() {
    return [...this.byNameMap.values()];
  }
}

export const SESSION = 10_000;

export function setup(config: Partial<GroupConfig> = {}) {
  const clock = new ManualClock();
  const topics = new Topics();
  topics.set("t", 6);
  topics.set("u", 2);
  topics.set("__consumer_offsets", 3);
  const log = new MemoryCoordinatorLog();
  const c = new GroupCoordinator(log, {
    clock,
    topics,
    config: {
      initialRebalanceDelayMs: 0,
      minSessionTimeoutMs: 1000,
      consumerSessionTimeoutMs: SESSION,
      consumerHeartbeatIntervalMs: 1000,
      ...config,
    },
    partitionExists: (t, p) => (topics.byName(t)?.partitions ?? 0) > p,
  });
  return { c, clock, topics, log };
}

export function hb(
  c: GroupCoordinator,
  over: Partial<ConsumerGroupHeartbeatParams> = {},
): ConsumerGroupHeartbeatResult {
  return c.consumer.heartbeat({
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

/** A steady-state heartbeat: only the epoch and what the member owns. */
export function beat(
  c: GroupCoordinator,
  memberId: string,
  memberEpoch: number,
  owned: number[] | null,
  over: Partial<ConsumerGroupHeartbeatParams> = {},
): ConsumerGroupHeartbeatResult {
  return hb(c, {
    memberId,
    memberEpoch,
    rebalanceTimeoutMs: -1,
    subscribedTopicNames: null,
    topicPartitions: owned === null ? null : [{ topicId: "id-t", partitions: owned }],
    ...over,
  });
}

/** The partitions of topic `t` in a response's assignment (null: no assignment sent). */
export function parts(r: ConsumerGroupHeartbeatResult, topicId = "id-t"): number[] | null {
  if (!r.assignment) return null;
  return r.assignment.topicPartitions.find((t) => t.topicId === topicId)?.partitions ?? [];
}

export function ok(r: ConsumerGroupHeartbeatResult): ConsumerGroupHeartbeatResult {
  assert.equal(r.errorCode, ErrorCode.NONE, `${r.errorCode}: ${r.errorMessage}`);
  return r;
}

/** Two members sharing t (6 partitions), reconciled: m1 at 0-2? (uniform: 0,2,4 / 1,3,5). */
export function twoStableMembers(c: GroupCoordinator) {
  const a = ok(hb(c, { memberId: "m1" }));
  const b = ok(hb(c, { memberId: "m2" }));
  const a2 = ok(beat(c, "m1", a.memberEpoch, parts(a)));
  ok(beat(c, "m1", a2.memberEpoch, parts(a2)));
  const b2 = ok(beat(c, "m2", b.memberEpoch, []));
  const g = c.consumer.group("g")!;
  assert.equal(g.state, "Stable");
  return { m1: g.members.get("m1")!, m2: g.members.get("m2")!, epoch: b2.memberEpoch };
}
