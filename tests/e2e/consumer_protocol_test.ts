/**
 * The consumer group protocol of KIP-848 end to end.
 *
 * 1. @platformatic/kafka 2.12.1 with `groupProtocol: "consumer"` (ConsumerGroupHeartbeat v1,
 *    OffsetCommit/OffsetFetch v9 with member epochs): three members split a six-partition
 *    topic with disjoint assignments covering every partition; one leaves (epoch -1) and its
 *    partitions move to the other two; commits are checked and every record is consumed
 *    exactly once. ConsumerGroupDescribe (raw client), ListGroups / DescribeGroups / offsets /
 *    DeleteGroups (platformatic admin) see the group as a `consumer` group.
 * 2. A broker restart on the same data directory: the group is rebuilt from
 *    `__consumer_offsets`, the member carries on heartbeating with its member id, epoch and
 *    partitions (never FENCED_MEMBER_EPOCH nor UNKNOWN_MEMBER_ID), and nothing it read before
 *    the restart is delivered again; also after a kill -9 of a broker with two workers.
 * 3. Raw protocol (tests/support/raw_client.ts) for what the client does not do: static members
 *    leaving with epoch -2 and coming back under a new member id, UNRELEASED_INSTANCE_ID,
 *    UNSUPPORTED_ASSIGNOR, INVALID_REQUEST, FENCED_MEMBER_EPOCH, STALE_MEMBER_EPOCH on
 *    commits and fetches, and the classic / consumer protocol conflicts.
 */
import assert from "node:assert/strict";
import {
  Admin,
  Consumer,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from "../../protocol/messages/mod.ts";
import type { Msg } from "../support/msg.ts";
import { BrokerProcess, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { waitFor } from "../support/wait.ts";

const PARTITIONS = 6;

type Started = Awaited<ReturnType<typeof testBroker>>;

function startBroker(): Promise<Started> {
  return testBroker({
    adminPort: 0,
    config: {
      "group.consumer.heartbeat.interval.ms": 200,
      "group.consumer.session.timeout.ms": 5000,
      "group.initial.rebalance.delay.ms": 0,
      "group.min.session.timeout.ms": 1000,
      "auto.create.topics.enable": false,
    },
  });
}

// deno-lint-ignore no-explicit-any
type AnyStream = any;

/** A consumer-protocol member that records what it consumed. */
class Member {
  readonly consumer: Consumer<string, string, string, string>;
  stream?: AnyStream;
  /**
   * How many times the stream has set its positions from the committed offsets (its
   * "offsets" event). When its assignment grows the client refetches the commits of every
   * partition it owns, also of those it keeps, and moves their positions back to them: a
   * record produced before that ends can be read by the fetch already in flight and then
   * again (at least once, as Kafka allows; the broker answers the commits as Kafka does).
   */
  positionings = 0;
  constructor(address: string, readonly name: string, readonly consumed: Map<string, number>) {
    this.consumer = new Consumer({
      groupId: "g-848",
      clientId: name,
      bootstrapBrokers: [address],
      deserializers: stringDeserializers,
      groupProtocol: "consumer",
      maxWaitTime: 100,
      retries: 10,
      retryDelay: 100,
    });
  }

  async start(topic: string): Promise<void> {
    this.stream = await this.consumer.consume({
      topics: [topic],
      mode: "committed",
      fallbackMode: "earliest",
      autocommit: 100,
    });
    this.stream.on("data", (m: { key: string; value: string }) => {
      const k = `${m.key}=${m.value}`;
      this.consumed.set(k, (this.consumed.get(k) ?? 0) + 1);
    });
    this.stream.on("error", (e: unknown) => console.error(`${this.name}: stream error`, e));
    this.stream.on("offsets", () => this.positionings++);
  }

  /** Partitions of `topic` the client believes it owns. */
  owned(topic: string): number[] {
    return (this.consumer.assignments ?? []).filter((a) => a.topic === topic)
      .flatMap((a) => a.partitions).sort((a, b) => a - b);
  }

  async stop(): Promise<void> {
    await this.stream?.close();
    await this.consumer.close();
  }
}

/** The broker's view: every member at the assignment epoch and the partitions covered. */
function settled(b: Started, members: Member[], topic: string): boolean {
  const g = b.broker.groups.consumer.describe("g-848");
  if (g.groupState !== "Stable" || g.members.length !== members.length) return false;
  const owned = members.flatMap((m) => m.owned(topic)).sort((x, y) => x - y);
  return owned.length === PARTITIONS && owned.every((p, i) => p === i);
}

function committedAll(b: Started, topic: string, perPartition: number): boolean {
  for (let p = 0; p < PARTITIONS; p++) {
    if (b.broker.groups.offsets.get("g-848", topic, p)?.offset !== perPartition) return false;
  }
  return true;
}

async function produce(
  producer: Producer<string, string, string, string>,
  from: number,
  n: number,
) {
  const messages = [];
  for (let i = from; i < from + n; i++) {
    messages.push({ topic: "orders", key: `k${i}`, value: `v${i}`, partition: i % PARTITIONS });
  }
  await producer.send({ messages });
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

Deno.test(
  "platformatic groupProtocol=consumer: three members split six partitions; a leaver's move",
  async () => {
    const b = await startBroker();
    const admin = new Admin({ clientId: "admin", bootstrapBrokers: [b.address] });
    const producer = new Producer({
      clientId: "producer",
      bootstrapBrokers: [b.address],
      serializers: stringSerializers,
    });
    const raw = await RawClient.connect(b.port);
    const members: Member[] = [];
    try {
      await admin.createTopics({ topics: ["orders"], partitions: PARTITIONS, replicas: 1 });
      await produce(producer, 0, 600);

      const consumed = new Map<string, number>();
      for (let i = 0; i < 3; i++) members.push(new Member(b.address, `member-${i}`, consumed));
      for (const m of members) await m.start("orders");
      await waitFor("three members to settle", () => settled(b, members, "orders"));
      for (const m of members) assert.equal(m.owned("orders").length, 2, m.name);
      await waitFor("600 records", () => consumed.size === 600);
      await waitFor("commits of every record", () => committedAll(b, "orders", 100));
      assert.equal(total(consumed), 600, "each record consumed once");

      // ConsumerGroupDescribe on the wire: the members' assignments are their targets.
      const d = await raw.call(ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, 0, {
        groupIds: ["g-848", "no-such-group"],
        includeAuthorizedOperations: false,
      });
      const [g, missing] = d.groups as Msg[];
      assert.equal(g.errorCode, ErrorCode.NONE);
      assert.equal(g.groupState, "Stable");
      assert.equal(g.assignorName, "uniform");
      assert.equal(g.assignmentEpoch, g.groupEpoch);
      assert.equal(g.members.length, 3);
      for (const m of g.members as Msg[]) {
        assert.equal(m.memberEpoch, g.groupEpoch);
        assert.deepEqual(m.subscribedTopicNames, ["orders"]);
        assert.deepEqual(m.assignment, m.targetAssignment);
        assert.equal(m.assignment.topicPartitions[0].topicName, "orders");
        assert.equal(m.assignment.topicPartitions[0].partitions.length, 2);
      }
      assert.equal(missing.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

      const listed = await admin.listGroups({ types: ["consumer"] });
      assert.equal(listed.get("g-848")?.groupType, "consumer");
      assert.equal(listed.get("g-848")?.state, "Stable");
      assert.equal((await admin.listGroups({ types: ["classic"] })).size, 0);
      const described = (await admin.describeGroups({ groups: ["g-848"] })).get("g-848")!;
      assert.equal(described.protocolType, "consumer");
      assert.equal(described.members.size, 3);

      // The admin HTTP API shows it too, with lag 0 after the commits.
      const http = await (await fetch(`${b.adminUrl}/v1/groups/g-848`)).json();
      assert.equal(http.protocolType, "consumer");
      assert.equal(http.state, "Stable");
      assert.equal(http.members.length, 3);
      assert.equal(http.lag, 0);
      assert.ok(http.offsets.every((o: { memberId: string | null }) => o.memberId !== null));

      // A member leaves (heartbeat with epoch -1): its partitions move to the other two.
      const leaver = members.pop()!;
      const moved = leaver.owned("orders");
      const positionings = members.map((m) => m.positionings);
      await leaver.stop();
      await waitFor("two members to settle", () => settled(b, members, "orders"));
      for (const m of members) assert.equal(m.owned("orders").length, 3, m.name);
      for (const p of moved) assert.ok(members.some((m) => m.owned("orders").includes(p)));
      // Each took a partition: the next records come once its positions are set from the
      // commits (Member.positionings), so that every one of them is read exactly once.
      await waitFor(
        "the members' positions from the commits",
        () => members.every((m, i) => m.positionings > positionings[i]),
      );

      await produce(producer, 600, 600);
      await waitFor("1200 records", () => consumed.size === 1200);
      await waitFor("commits of every record", () => committedAll(b, "orders", 200));
      assert.equal(total(consumed), 1200, "each record consumed exactly once");
      const expected = Array.from({ length: 1200 }, (_, i) => `k${i}=v${i}`).sort();
      assert.deepEqual([...consumed.keys()].sort(), expected);

      // OffsetFetch (admin: no member id, epoch -1) sees the commits.
      const [offsets] = await admin.listConsumerGroupOffsets({ groups: ["g-848"] });
      const parts = offsets.topics.find((t) => t.name === "orders")!.partitions;
      assert.deepEqual(parts.map((p) => Number(p.committedOffset)), Array(PARTITIONS).fill(200));

      await Promise.all(members.splice(0).map((m) => m.stop()));
      await waitFor(
        "the group to empty",
        () => b.broker.groups.consumer.group("g-848")?.isEmpty === true,
      );
      await admin.deleteGroups({ groups: ["g-848"] });
      assert.equal((await admin.listGroups({ types: ["consumer", "classic"] })).size, 0);
    } finally {
      raw.close();
      await Promise.allSettled(members.map((m) => m.stop()));
      await producer.close();
      await admin.close();
      await b.stop();
    }
  },
);

Deno.test(
  "platformatic groupProtocol=consumer: a broker restart; the member carries on, nothing again",
  async () => {
    const config = {
      "group.consumer.heartbeat.interval.ms": 200,
      "group.consumer.session.timeout.ms": 5000,
      "group.initial.rebalance.delay.ms": 0,
      "auto.create.topics.enable": false,
    };
    let b = await testBroker({ keepDir: true, config });
    const { port, dataDir } = b;
    const base = { bootstrapBrokers: [b.address], retries: 50, retryDelay: 100 };
    const producer = new Producer({ clientId: "p", ...base, serializers: stringSerializers });
    const member = (clientId: string) =>
      new Consumer({
        groupId: "g-restart",
        clientId,
        ...base,
        deserializers: stringDeserializers,
        groupProtocol: "consumer",
        maxWaitTime: 100,
      });
    const consumer = member("c");
    // Heartbeat answers that would mean the member lost its place (and its partitions).
    const lostPlace: number[] = [];
    consumer.on("consumer:heartbeat:error", (e: AnyStream) => {
      const code = e?.error?.response?.errorCode;
      if (code === ErrorCode.FENCED_MEMBER_EPOCH || code === ErrorCode.UNKNOWN_MEMBER_ID) {
        lostPlace.push(code);
      }
    });
    const got = new Map<string, number>();
    let stream: AnyStream | undefined;
    const describe = () => b.broker.groups.consumer.describe("g-restart");
    const consumeOpts = {
      topics: ["r"],
      mode: "committed" as const,
      fallbackMode: "earliest" as const,
      autocommit: 100,
    };
    try {
      const admin = new Admin({ clientId: "a", ...base });
      await admin.createTopics({ topics: ["r"], partitions: 2, replicas: 1 });
      await admin.close();
      stream = await consumer.consume(consumeOpts);
      stream.on("data", (m: { value: string }) => got.set(m.value, (got.get(m.value) ?? 0) + 1));
      const send = (values: string[]) =>
        producer.send({
          messages: values.map((value, i) => ({ topic: "r", key: "k", value, partition: i % 2 })),
        });
      await send(["a0", "a1", "a2", "a3"]);
      await waitFor("the first records", () => got.size === 4);
      await waitFor("their commits", () => {
        const all = b.broker.groups.offsets.all("g-restart");
        return all.length === 2 && all.every((o) => o.offset === 2);
      });
      // A second member comes and goes: the group and member epochs move past 1, which a
      // group rebuilt from scratch after the restart would start again from.
      const other = member("d");
      const otherStream = await other.consume(consumeOpts);
      await waitFor("two members", () => describe().members.length === 2);
      await otherStream.close();
      await other.close();
      await waitFor("one member, reconciled", () => {
        const g = describe();
        return g.groupState === "Stable" && g.members.length === 1 && consumer.assignments?.[0]
              ?.partitions.length === 2;
      });
      const before = describe();
      assert.ok(before.groupEpoch >= 3, `group epoch ${before.groupEpoch}`);
      assert.equal(before.members[0].memberEpoch, before.groupEpoch);
      // Read, and maybe not committed yet, when the broker goes away.
      await send(["c0", "c1", "c2", "c3"]);
      await waitFor("records read before the restart", () => got.size === 8);

      await b.close();
      b = await testBroker({ dataDir, port, keepDir: true, config });
      assert.equal(describe().groupEpoch, before.groupEpoch, "the group was reloaded");
      await send(["b0", "b1", "b2", "b3"]);
      await waitFor("the records after the restart", () => got.size === 12);
      await waitFor(
        "commits after the restart",
        () => b.broker.groups.offsets.all("g-restart").every((o) => o.offset === 6),
      );
      // The same member, epoch and assignment: it was never fenced nor made to rejoin, so
      // nothing it had read was delivered again.
      const after = describe();
      assert.equal(after.groupEpoch, before.groupEpoch);
      assert.deepEqual(
        after.members.map((m) => [m.memberId, m.memberEpoch, m.assignment]),
        before.members.map((m) => [m.memberId, m.memberEpoch, m.assignment]),
      );
      assert.deepEqual(lostPlace, []);
      for (const [v, n] of got) assert.equal(n, 1, `${v} delivered ${n} times`);
    } finally {
      await stream?.close().catch(() => {});
      await consumer.close(true).catch(() => {});
      await producer.close();
      await b.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

/** ConsumerGroupDescribe of one group over the wire. */
async function describeOver(port: number, groupId: string): Promise<Msg> {
  const d = await RawClient.once(
    port,
    ConsumerGroupDescribeRequest,
    ConsumerGroupDescribeResponse,
    0,
    {
      groupIds: [groupId],
      includeAuthorizedOperations: false,
    },
  );
  return (d.groups as Msg[])[0];
}

/** The group's committed offsets of `topic` partitions 0..n-1 (admin view, epoch -1). */
async function committedOver(
  port: number,
  groupId: string,
  topic: string,
  n: number,
): Promise<number[]> {
  const r = await RawClient.once(port, OffsetFetchRequest, OffsetFetchResponse, 9, {
    groups: [{
      groupId,
      memberId: null,
      memberEpoch: -1,
      topics: [{ name: topic, partitionIndexes: [...Array(n).keys()] }],
    }],
    requireStable: false,
  });
  return ((r.groups as Msg[])[0].topics as Msg[])[0].partitions.map((p: Msg) =>
    p.committedOffset as number
  );
}

Deno.test(
  "platformatic groupProtocol=consumer: kill -9 of a 2-worker broker; the member carries on",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "tributary-848-kill-" });
    const flags = [
      "--set",
      "group.consumer.heartbeat.interval.ms=200",
      "--set",
      "group.consumer.session.timeout.ms=5000",
      "--set",
      "auto.create.topics.enable=false",
    ];
    let b = await BrokerProcess.start(dir, flags);
    const port = b.port;
    const base = { bootstrapBrokers: [b.address], retries: 100, retryDelay: 100 };
    const producer = new Producer({ clientId: "p", ...base, serializers: stringSerializers });
    const consumer = new Consumer({
      groupId: "g-kill",
      clientId: "c",
      ...base,
      deserializers: stringDeserializers,
      groupProtocol: "consumer",
      maxWaitTime: 100,
    });
    const lostPlace: number[] = [];
    consumer.on("consumer:heartbeat:error", (e: AnyStream) => {
      const code = e?.error?.response?.errorCode;
      if (code === ErrorCode.FENCED_MEMBER_EPOCH || code === ErrorCode.UNKNOWN_MEMBER_ID) {
        lostPlace.push(code);
      }
    });
    const got = new Map<string, number>();
    let stream: AnyStream | undefined;
    try {
      const admin = new Admin({ clientId: "a", ...base });
      await admin.createTopics({ topics: ["k"], partitions: 3, replicas: 1 });
      await admin.close();
      stream = await consumer.consume({
        topics: ["k"],
        mode: "committed",
        fallbackMode: "earliest",
        autocommit: 100,
      });
      stream.on("data", (m: { value: string }) => got.set(m.value, (got.get(m.value) ?? 0) + 1));
      const send = (prefix: string) =>
        producer.send({
          messages: [0, 1, 2, 3, 4, 5].map((i) => ({
            topic: "k",
            key: "k",
            value: `${prefix}${i}`,
            partition: i % 3,
          })),
        });
      await send("a");
      await waitFor("the first records", () => got.size === 6);
      await waitFor(
        "their commits",
        async () => (await committedOver(port, "g-kill", "k", 3)).every((o) => o === 2),
      );
      const before = await describeOver(port, "g-kill");
      assert.equal(before.groupState, "Stable");
      assert.equal(before.members.length, 1);

      assert.equal(await b.kill("SIGKILL"), 137);
      b = await BrokerProcess.start(dir, [...flags, "--port", String(port)]);
      const reloaded = await describeOver(port, "g-kill");
      assert.equal(reloaded.errorCode, ErrorCode.NONE, "the group survived the crash");
      await send("b");
      await waitFor("the records after the restart", () => got.size === 12);
      await waitFor(
        "commits after the restart",
        async () => (await committedOver(port, "g-kill", "k", 3)).every((o) => o === 4),
      );
      const after = await describeOver(port, "g-kill");
      assert.equal(after.groupEpoch, before.groupEpoch);
      const view = (g: Msg) =>
        (g.members as Msg[]).map((m) => [m.memberId, m.memberEpoch, m.assignment]);
      assert.deepEqual(view(after), view(before));
      assert.deepEqual(lostPlace, []);
      for (const [v, n] of got) assert.equal(n, 1, `${v} delivered ${n} times`);
    } finally {
      await stream?.close().catch(() => {});
      await consumer.close(true).catch(() => {});
      await producer.close();
      await b.kill("SIGTERM");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);

/** A ConsumerGroupHeartbeat v1 with everything a join needs, then `over`. */
function hb(raw: RawClient, over: Msg): Promise<Msg> {
  return raw.call(ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, 1, {
    groupId: "g-raw",
    memberId: crypto.randomUUID(),
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 10_000,
    subscribedTopicNames: ["events"],
    subscribedTopicRegex: null,
    serverAssignor: "range",
    topicPartitions: [],
    ...over,
  });
}

const partitionsOf = (r: Msg) =>
  ((r.assignment?.topicPartitions ?? []) as Msg[]).flatMap((t) => t.partitions as number[])
    .sort((a, b) => a - b);

Deno.test(
  "raw ConsumerGroupHeartbeat: static members, epochs, commits, protocol conflicts",
  async () => {
    const b = await startBroker();
    const raw = await RawClient.connect(b.port);
    try {
      const admin = new Admin({ clientId: "admin", bootstrapBrokers: [b.address] });
      await admin.createTopics({ topics: ["events"], partitions: 4, replicas: 1 });
      await admin.close();
      const topicId = b.broker.topic("events")!.topicId;

      // Malformed requests and unknown assignors.
      let r = await hb(raw, { topicPartitions: null });
      assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(r.errorMessage, "TopicPartitions must be empty when (re-)joining.");
      r = await hb(raw, { memberId: "" });
      assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
      r = await hb(raw, { serverAssignor: "sticky" });
      assert.equal(r.errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);

      // Two static members with the range assignor: a gets 0-1, b gets 2-3.
      const a = await hb(raw, { memberId: "a-1", instanceId: "inst-a" });
      assert.equal(a.errorCode, ErrorCode.NONE);
      const bb = await hb(raw, { memberId: "b-1", instanceId: "inst-b" });
      assert.equal(bb.errorCode, ErrorCode.NONE);
      assert.deepEqual(partitionsOf(bb), []); // 2-3 still belong to a
      let a2 = await hb(raw, {
        memberId: "a-1",
        instanceId: "inst-a",
        memberEpoch: a.memberEpoch,
        topicPartitions: [{ topicId, partitions: [0, 1, 2, 3] }],
      });
      assert.deepEqual(partitionsOf(a2), [0, 1]); // revoke 2-3 first, same epoch
      assert.equal(a2.memberEpoch, a.memberEpoch);
      a2 = await hb(raw, {
        memberId: "a-1",
        instanceId: "inst-a",
        memberEpoch: a.memberEpoch,
        topicPartitions: [{ topicId, partitions: [0, 1] }],
      });
      assert.equal(a2.memberEpoch, bb.memberEpoch);
      const b2 = await hb(raw, {
        memberId: "b-1",
        instanceId: "inst-b",
        memberEpoch: bb.memberEpoch,
        topicPartitions: [],
      });
      assert.deepEqual(partitionsOf(b2), [2, 3]);
      const epoch = b2.memberEpoch;

      // The instance id is taken while a is in the group.
      r = await hb(raw, { memberId: "a-2", instanceId: "inst-a" });
      assert.equal(r.errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
      // An epoch from the future is fenced.
      r = await hb(raw, {
        memberId: "a-1",
        instanceId: "inst-a",
        memberEpoch: epoch + 5,
        topicPartitions: [{ topicId, partitions: [0, 1] }],
      });
      assert.equal(r.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);

      // Commits carry the member epoch (OffsetCommit v9); a future epoch is stale.
      const commit = (memberId: string, e: number, version = 9) =>
        raw.call(OffsetCommitRequest, OffsetCommitResponse, version, {
          groupId: "g-raw",
          generationIdOrMemberEpoch: e,
          memberId,
          groupInstanceId: null,
          topics: [{
            name: "events",
            partitions: [{
              partitionIndex: 0,
              committedOffset: 7,
              committedLeaderEpoch: -1,
              committedMetadata: null,
            }],
          }],
        });
      const code = (c: Msg) => c.topics[0].partitions[0].errorCode;
      assert.equal(code(await commit("a-1", epoch + 1)), ErrorCode.STALE_MEMBER_EPOCH);
      assert.equal(code(await commit("a-1", epoch, 8)), ErrorCode.UNSUPPORTED_VERSION);
      assert.equal(code(await commit("nobody", epoch)), ErrorCode.UNKNOWN_MEMBER_ID);
      assert.equal(code(await commit("", -1)), ErrorCode.UNKNOWN_MEMBER_ID); // not empty
      assert.equal(code(await commit("a-1", epoch)), ErrorCode.NONE);
      const fetch = (memberId: string | null, e: number) =>
        raw.call(OffsetFetchRequest, OffsetFetchResponse, 9, {
          groups: [{
            groupId: "g-raw",
            memberId,
            memberEpoch: e,
            topics: [{ name: "events", partitionIndexes: [0] }],
          }],
          requireStable: false,
        });
      let f = (await fetch("a-1", epoch)).groups[0];
      assert.equal(f.errorCode, ErrorCode.NONE);
      assert.equal(f.topics[0].partitions[0].committedOffset, 7);
      f = (await fetch("a-1", epoch - 1)).groups[0];
      assert.equal(f.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
      f = (await fetch(null, -1)).groups[0];
      assert.equal(f.errorCode, ErrorCode.NONE);

      // a leaves for now (-2) and comes back as a new member id: same partitions, no
      // rebalance (the group epoch stays), and b is untouched.
      r = await hb(raw, { memberId: "a-1", instanceId: "inst-a", memberEpoch: -2 });
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(r.memberEpoch, -2);
      const back = await hb(raw, { memberId: "a-2", instanceId: "inst-a" });
      assert.equal(back.errorCode, ErrorCode.NONE);
      assert.deepEqual(partitionsOf(back), [0, 1]);
      assert.equal(back.memberEpoch, epoch);
      assert.equal(b.broker.groups.consumer.group("g-raw")!.groupEpoch, epoch);
      // The old member id is fenced by the new one.
      r = await hb(raw, {
        memberId: "a-1",
        instanceId: "inst-a",
        memberEpoch: epoch,
        topicPartitions: [{ topicId, partitions: [0, 1] }],
      });
      assert.equal(r.errorCode, ErrorCode.FENCED_INSTANCE_ID);

      // A classic JoinGroup cannot take a consumer group with members.
      const join = (groupId: string, memberId = "") =>
        raw.call(JoinGroupRequest, JoinGroupResponse, 9, {
          groupId,
          sessionTimeoutMs: 6000,
          rebalanceTimeoutMs: 6000,
          memberId,
          groupInstanceId: null,
          protocolType: "consumer",
          protocols: [{ name: "range", metadata: new Uint8Array([0, 0, 0, 0, 0, 0, 255, 255]) }],
          reason: null,
        });
      assert.equal((await join("g-raw")).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      // ... and a consumer heartbeat cannot take a classic group with members.
      const first = await join("g-classic");
      assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
      assert.equal((await join("g-classic", first.memberId)).errorCode, ErrorCode.NONE);
      r = await hb(raw, { groupId: "g-classic" });
      assert.equal(r.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
      const listed = b.broker.groups.listGroups().map((l) => `${l.groupId}:${l.groupType}`);
      assert.deepEqual(listed.sort(), ["g-classic:classic", "g-raw:consumer"]);
    } finally {
      raw.close();
      await b.stop();
    }
  },
);
