/**
 * Group coordinator benchmarks against a real in-process broker over TCP, with raw protocol
 * clients (one connection per member, as JoinGroup long-polls its connection):
 *
 * - baseline: one Heartbeat round trip of a member of a Stable group;
 * - a full rebalance of a Stable group of 1, 10 and 50 members: every member rejoins
 *   (JoinGroup v9 with its member id), the leader assigns, every member's SyncGroup
 *   returns; the generation goes up by one per iteration;
 * - OffsetCommit v9 of 1 and of 100 partitions per request (each appended to
 *   `__consumer_offsets` before the response): commits/s = partitions / time per iteration.
 *
 * Run alone: `deno bench -A bench/group_bench.ts` (Deno prints each result relative to the
 * baseline of its group); `deno task bench` picks it up with the other bench/*_bench.ts.
 */
import { startBroker } from "../mod.ts";
import {
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from "../protocol/messages/mod.ts";
import type { Msg } from "./lib/msg.ts";
import { RawClient } from "../tests/support/raw_client.ts";

const broker = await startBroker({
  host: "127.0.0.1",
  port: 0,
  dataDir: await Deno.makeTempDir({ prefix: "tributary-group-bench-" }),
  config: { "group.initial.rebalance.delay.ms": 0, "group.min.session.timeout.ms": 1000 },
});
await broker.broker.createTopic("bench", 100);

const PROTOCOLS = [{ name: "range", metadata: new Uint8Array([0, 0, 0, 0, 0, 1, 0, 5]) }];

function check(what: string, m: Msg): Msg {
  if (m.errorCode !== 0) throw new Error(`${what} failed with error ${m.errorCode}`);
  return m;
}

/** A Stable group of `size` members (each with its own connection). */
class BenchGroup {
  readonly clients: RawClient[] = [];
  memberIds: string[] = [];
  generation = 0;
  leader = "";

  private constructor(readonly groupId: string) {}

  static async create(groupId: string, size: number): Promise<BenchGroup> {
    const g = new BenchGroup(groupId);
    for (let i = 0; i < size; i++) g.clients.push(await RawClient.connect(broker.port));
    // KIP-394: the first join hands out the member id.
    g.memberIds = await Promise.all(g.clients.map(async (c) => {
      const r = await c.call(JoinGroupRequest, JoinGroupResponse, 9, join(groupId, ""));
      return r.memberId as string;
    }));
    await g.rebalance();
    return g;
  }

  /** Everyone rejoins, the leader assigns, everyone syncs. */
  async rebalance(): Promise<void> {
    const joins = await Promise.all(
      this.clients.map((c, i) =>
        c.call(JoinGroupRequest, JoinGroupResponse, 9, join(this.groupId, this.memberIds[i]))
      ),
    );
    for (const j of joins) check("JoinGroup", j);
    this.generation = joins[0].generationId;
    this.leader = joins[0].leader;
    const assignments = this.memberIds.map((memberId) => ({
      memberId,
      assignment: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    }));
    await Promise.all(this.clients.map(async (c, i) => {
      const isLeader = this.memberIds[i] === this.leader;
      check(
        "SyncGroup",
        await c.call(SyncGroupRequest, SyncGroupResponse, 5, {
          groupId: this.groupId,
          generationId: this.generation,
          memberId: this.memberIds[i],
          groupInstanceId: null,
          protocolType: "consumer",
          protocolName: "range",
          assignments: isLeader ? assignments : [],
        }),
      );
    }));
  }
}

function join(groupId: string, memberId: string): Msg {
  return {
    groupId,
    sessionTimeoutMs: 60_000,
    rebalanceTimeoutMs: 60_000,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: PROTOCOLS,
    reason: null,
  };
}

const groups = new Map<number, BenchGroup>();
async function groupOf(size: number): Promise<BenchGroup> {
  let g = groups.get(size);
  if (!g) groups.set(size, g = await BenchGroup.create(`bench-${size}`, size));
  return g;
}

const single = await groupOf(1);

Deno.bench({
  name: "Heartbeat round trip",
  group: "group coordinator",
  baseline: true,
  async fn() {
    check(
      "Heartbeat",
      await single.clients[0].call(HeartbeatRequest, HeartbeatResponse, 4, {
        groupId: single.groupId,
        generationId: single.generation,
        memberId: single.memberIds[0],
        groupInstanceId: null,
      }),
    );
  },
});

for (const size of [1, 10, 50]) {
  Deno.bench({
    name: `rebalance, ${size} member${size === 1 ? "" : "s"}`,
    group: "group coordinator",
    async fn(b) {
      const g = await groupOf(size);
      b.start();
      await g.rebalance();
      b.end();
    },
  });
}

for (const partitions of [1, 100]) {
  const topics = [{
    name: "bench",
    partitions: Array.from({ length: partitions }, (_, p) => ({
      partitionIndex: p,
      committedOffset: 0,
      committedLeaderEpoch: -1,
      committedMetadata: "",
    })),
  }];
  let offset = 0;
  Deno.bench({
    name: `OffsetCommit, ${partitions} partition${partitions === 1 ? "" : "s"} per request`,
    group: "group coordinator",
    async fn() {
      offset++;
      for (const p of topics[0].partitions) p.committedOffset = offset;
      const r = await single.clients[0].call(OffsetCommitRequest, OffsetCommitResponse, 9, {
        groupId: single.groupId,
        generationIdOrMemberEpoch: single.generation,
        memberId: single.memberIds[0],
        groupInstanceId: null,
        topics,
      });
      const err = r.topics[0].partitions.find((p: Msg) => p.errorCode !== 0);
      if (err) throw new Error(`OffsetCommit failed with error ${err.errorCode}`);
    },
  });
}

globalThis.addEventListener("unload", () => {
  for (const g of groups.values()) for (const c of g.clients) c.close();
});
