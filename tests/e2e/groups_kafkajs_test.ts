/**
 * Consumer groups end to end with kafkajs 2.2.4 (consumer.run / eachMessage and the admin
 * client): three members split six partitions; a member that leaves and one whose process is
 * killed (SIGKILL: no LeaveGroup, its session expires) have their partitions moved; with
 * commits, nothing produced is lost; listGroups, describeGroups, fetchOffsets, setOffsets,
 * resetOffsets, lag and deleteGroups.
 */
import assert from "node:assert/strict";
import { type Consumer, Kafka, logLevel } from "kafkajs";
import { testBroker } from "../support/helpers.ts";
import { waitFor } from "../support/wait.ts";

const PARTITIONS = 6;
const SESSION_MS = 3000;

type Started = Awaited<ReturnType<typeof testBroker>>;

function startGroupBroker(): Promise<Started> {
  return testBroker({
    config: {
      "group.initial.rebalance.delay.ms": 0,
      "group.min.session.timeout.ms": 1000,
      "auto.create.topics.enable": false,
    },
  });
}

function client(b: Started, clientId = "groups-test"): Kafka {
  return new Kafka({
    clientId,
    brokers: [b.address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 50 },
  });
}

/** A kafkajs group member that records what it consumed and its latest assignment. */
class Member {
  readonly consumer: Consumer;
  assignment: number[] = [];
  joins = 0;
  constructor(kafka: Kafka, groupId: string, readonly consumed: Map<string, number>) {
    this.consumer = kafka.consumer({
      groupId,
      sessionTimeout: SESSION_MS,
      heartbeatInterval: 300,
      rebalanceTimeout: 10_000,
      maxWaitTimeInMs: 100,
      retry: { retries: 10, initialRetryTime: 50 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const a = e.payload.memberAssignment as Record<string, number[]>;
      this.assignment = Object.values(a).flat().sort((x, y) => x - y);
      this.joins++;
    });
  }

  async start(topic: string): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ message }) => {
        const k = `${message.key}=${message.value}`;
        this.consumed.set(k, (this.consumed.get(k) ?? 0) + 1);
        return Promise.resolve();
      },
    });
  }
}

/** The group is Stable with `n` members whose assignments are disjoint and cover all. */
function settled(b: Started, groupId: string, members: { assignment: number[] }[]): boolean {
  const d = b.broker.groups.describeGroup(groupId);
  if (d.groupState !== "Stable" || d.members.length !== members.length) return false;
  // Until every member has its share, the others may still hold the previous generation's.
  if (members.some((m) => m.assignment.length === 0)) return false;
  const all = members.flatMap((m) => m.assignment).sort((x, y) => x - y);
  return all.length === PARTITIONS && all.every((p, i) => p === i);
}

async function produce(kafka: Kafka, topic: string, from: number, count: number) {
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = from; i < from + count; i++) {
    messages.push({ key: `k${i}`, value: `v${i}`, partition: i % PARTITIONS });
  }
  await producer.send({ topic, messages });
  await producer.disconnect();
}

function expected(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `k${from + i}=v${from + i}`);
}

Deno.test(
  "kafkajs: three members split six partitions; a leaving member's partitions move; admin",
  async () => {
    const b = await startGroupBroker();
    const kafka = client(b);
    const admin = kafka.admin();
    const members: Member[] = [];
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "orders", numPartitions: PARTITIONS }] });
      await produce(kafka, "orders", 0, 600);

      const consumed = new Map<string, number>();
      for (let i = 0; i < 3; i++) {
        members.push(
          new Member(client(b, `member-${i}`), "g-orders", consumed),
        );
      }
      await Promise.all(members.map((m) => m.start("orders")));
      await waitFor("three members to settle", () => settled(b, "g-orders", members));
      // Disjoint and covering, as each member saw it in its GROUP_JOIN event.
      for (const m of members) assert.ok(m.assignment.length === 2, `${m.assignment}`);
      await waitFor("600 records", () => consumed.size === 600);

      // A member leaves (LeaveGroup): its partitions move to the other two.
      const leaver = members.pop()!;
      const moved = leaver.assignment;
      await leaver.consumer.disconnect();
      await waitFor("two members to settle", () => settled(b, "g-orders", members));
      for (const p of moved) assert.ok(members.some((m) => m.assignment.includes(p)));
      await produce(kafka, "orders", 600, 600);
      await waitFor("1200 records", () => consumed.size === 1200);
      assert.deepEqual([...consumed.keys()].sort(), expected(0, 1200).sort());

      // Stop everyone; their last commits are flushed on disconnect.
      await Promise.all(members.splice(0).map((m) => m.consumer.disconnect()));
      await waitFor(
        "the group to empty",
        () => b.broker.groups.describeGroup("g-orders").groupState === "Empty",
      );

      const listed = await admin.listGroups();
      assert.deepEqual(listed.groups, [{ groupId: "g-orders", protocolType: "consumer" }]);
      const described = await admin.describeGroups(["g-orders"]);
      assert.equal(described.groups[0].state, "Empty");
      assert.equal(described.groups[0].members.length, 0);

      // Committed offsets are the high watermarks: lag 0.
      const lag = async () => {
        const committed =
          (await admin.fetchOffsets({ groupId: "g-orders", topics: ["orders"] }))[0];
        const high = await admin.fetchTopicOffsets("orders");
        let total = 0;
        for (const h of high) {
          const c = committed.partitions.find((p) => p.partition === h.partition)!;
          total += Number(h.high) - Number(c.offset);
        }
        return { total, committed: committed.partitions };
      };
      assert.equal((await lag()).total, 0);
      await produce(kafka, "orders", 1200, 12);
      assert.equal((await lag()).total, 12);

      await admin.setOffsets({
        groupId: "g-orders",
        topic: "orders",
        partitions: [{ partition: 0, offset: "5" }, { partition: 1, offset: "7" }],
      });
      const afterSet = (await lag()).committed;
      assert.equal(afterSet.find((p) => p.partition === 0)!.offset, "5");
      assert.equal(afterSet.find((p) => p.partition === 1)!.offset, "7");
      // kafkajs commits its EARLIEST sentinel (-2) as the offset, which Kafka stores as given;
      // a consumer of the group then starts from the beginning.
      await admin.resetOffsets({ groupId: "g-orders", topic: "orders", earliest: true });
      const afterReset = (await lag()).committed;
      assert.deepEqual(afterReset.map((p) => p.offset), Array(PARTITIONS).fill("-2"));
      const again = new Map<string, number>();
      const rereader = new Member(client(b, "rereader"), "g-orders", again);
      members.push(rereader);
      await rereader.start("orders");
      await waitFor("1212 records read again", () => again.size === 1212);
      await rereader.consumer.disconnect();
      members.pop();
      assert.equal((await lag()).total, 0);

      await admin.deleteGroups(["g-orders"]);
      assert.deepEqual((await admin.listGroups()).groups, []);
      const gone = (await admin.fetchOffsets({ groupId: "g-orders", topics: ["orders"] }))[0];
      assert.deepEqual(gone.partitions.map((p) => p.offset), Array(PARTITIONS).fill("-1"));
    } finally {
      await Promise.all(members.map((m) => m.consumer.disconnect().catch(() => {})));
      await admin.disconnect().catch(() => {});
      await b.stop();
    }
  },
);

/** A kafkajs member in its own process, printing its assignments and records as JSON lines. */
const CHILD = `
import { Kafka, logLevel } from "kafkajs";
const [address, groupId, topic] = Deno.args;
const kafka = new Kafka({ clientId: "doomed", brokers: [address], logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({
  groupId, sessionTimeout: ${SESSION_MS}, heartbeatInterval: 300, rebalanceTimeout: 10000,
  maxWaitTimeInMs: 100,
});
consumer.on(consumer.events.GROUP_JOIN, (e) => {
  console.log(JSON.stringify({ join: Object.values(e.payload.memberAssignment).flat() }));
});
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ message }) => {
    console.log(JSON.stringify({ record: message.key + "=" + message.value }));
  },
});
`;

Deno.test(
  "kafkajs: a killed member's partitions move after its session times out; none lost",
  async () => {
    const b = await startGroupBroker();
    const kafka = client(b);
    const admin = kafka.admin();
    const members: Member[] = [];
    const dir = await Deno.makeTempDir();
    let child: Deno.ChildProcess | undefined;
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "jobs", numPartitions: PARTITIONS }] });
      await produce(kafka, "jobs", 0, 300);
      const consumed = new Map<string, number>();
      for (let i = 0; i < 2; i++) {
        members.push(
          new Member(client(b, `member-${i}`), "g-jobs", consumed),
        );
      }
      await Promise.all(members.map((m) => m.start("jobs")));
      await waitFor("two members to settle", () => settled(b, "g-jobs", members));

      await Deno.writeTextFile(`${dir}/child.ts`, CHILD);
      child = new Deno.Command(Deno.execPath(), {
        // The child file lives outside the project: --config gives it the import map.
        args: [
          "run",
          "-A",
          "--quiet",
          "--config",
          new URL("../../deno.json", import.meta.url).pathname,
          `${dir}/child.ts`,
          b.address,
          "g-jobs",
          "jobs",
        ],
        stdout: "piped",
        stderr: "null",
        cwd: dir,
      }).spawn();
      const childAssignment: number[] = [];
      const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      (async () => {
        let buf = "";
        while (true) {
          const { value, done } = await lines.read().catch(() => ({ value: "", done: true }));
          if (done) break;
          buf += value;
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const msg = JSON.parse(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
            if (msg.join) childAssignment.splice(0, childAssignment.length, ...msg.join);
            if (msg.record) consumed.set(msg.record, (consumed.get(msg.record) ?? 0) + 1);
          }
        }
      })();
      const three = [...members, { assignment: childAssignment }];
      await waitFor(
        "three members (one in a child process) to settle",
        () => settled(b, "g-jobs", three),
        30_000,
      );
      const orphaned = [...childAssignment];
      assert.equal(orphaned.length, 2);
      await waitFor("300 records", () => consumed.size === 300);

      // SIGKILL: no LeaveGroup. The member stays until its session times out.
      child.kill("SIGKILL");
      await child.status;
      const killedAt = Date.now();
      await produce(kafka, "jobs", 300, 300);
      await waitFor("the survivors to take over", () => settled(b, "g-jobs", members), 30_000);
      const tookOver = Date.now() - killedAt;
      assert.ok(
        tookOver >= SESSION_MS - 500,
        `rebalanced after ${tookOver} ms: before the session expired`,
      );
      for (const p of orphaned) assert.ok(members.some((m) => m.assignment.includes(p)));
      await waitFor("600 records", () => consumed.size === 600);
      assert.deepEqual([...consumed.keys()].sort(), expected(0, 600).sort());
    } finally {
      try {
        child?.kill("SIGKILL");
      } catch {
        // already gone
      }
      await Promise.all(members.map((m) => m.consumer.disconnect().catch(() => {})));
      await admin.disconnect().catch(() => {});
      await b.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
