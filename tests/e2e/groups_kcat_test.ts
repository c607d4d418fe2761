/**
 * Consumer groups end to end with kcat's balanced consumer (librdkafka `-G`): everything is
 * consumed exactly once and committed; two members split the partitions; a static member
 * (group.instance.id) restarts without a rebalance; and a broker restart in the middle of
 * consumption loses no committed offset and no record.
 */
import assert from "node:assert/strict";
import { ConsumerProtocolAssignment } from "../../protocol/messages/mod.ts";
import { Reader } from "../../protocol/primitives.ts";
import { codecFor } from "../../protocol/schema.ts";
import type { Msg } from "../support/msg.ts";
import { decoder, kcat, testBroker } from "../support/helpers.ts";
import { waitFor } from "../support/wait.ts";

type Started = Awaited<ReturnType<typeof testBroker>>;

const GROUP_CONFIG = {
  "group.initial.rebalance.delay.ms": 0,
  "group.min.session.timeout.ms": 1000,
};

/**
 * A long-running `kcat -G` printing "partition key=value" per record. Offsets are auto-
 * committed every 5 s (kcat passes `-X auto.commit.interval.ms` to librdkafka's legacy topic
 * property, so the group consumer keeps the default) and on close.
 */
class KcatMember {
  readonly lines: string[] = [];
  private readonly child: Deno.ChildProcess;
  private readonly done: Promise<void>;

  constructor(address: string, group: string, topic: string, extra: string[] = []) {
    const child = new Deno.Command("kcat", {
      args: [
        "-b",
        address,
        "-G",
        group,
        "-X",
        "auto.offset.reset=earliest",
        "-u",
        "-q",
        "-f",
        "%p %k=%s\\n",
        "-X",
        "session.timeout.ms=6000",
        "-X",
        "heartbeat.interval.ms=200",
        "-X",
        "reconnect.backoff.max.ms=200",
        ...extra,
        topic,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.child = child;
    this.done = (async () => {
      let buf = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        const parts = buf.split("\n");
        buf = parts.pop()!;
        this.lines.push(...parts.filter((l) => l));
      }
    })();
  }

  /** Records as "key=value". */
  records(): string[] {
    return this.lines.map((l) => l.slice(l.indexOf(" ") + 1));
  }

  partitions(): Set<number> {
    return new Set(this.lines.map((l) => Number(l.slice(0, l.indexOf(" ")))));
  }

  /** SIGTERM: kcat closes its consumer (final commit; LeaveGroup unless static) and exits. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    try {
      this.child.kill(signal);
    } catch {
      // already exited
    }
    await this.child.status;
    await this.done;
  }
}

async function produce(
  address: string,
  topic: string,
  partitions: number,
  from: number,
  n: number,
) {
  for (let p = 0; p < partitions; p++) {
    const lines: string[] = [];
    for (let i = from; i < from + n; i++) if (i % partitions === p) lines.push(`k${i}=v${i}`);
    await kcat(address, ["-P", "-t", topic, "-p", String(p), "-K", "="], {
      stdin: lines.join("\n") + "\n",
    });
  }
}

function expected(from: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `k${from + i}=v${from + i}`).sort();
}

/** Committed offsets of a group by partition, from the coordinator. */
function committed(b: Started, group: string, topic: string): Map<number, number> {
  const r = b.broker.groups.fetchOffsets(group, null);
  const t = r.topics.find((x) => x.name === topic);
  return new Map((t?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
}

function highWatermarks(b: Started, topic: string, partitions: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let p = 0; p < partitions; p++) m.set(p, b.broker.partition(topic, p)!.highWatermark);
  return m;
}

/** Partitions assigned to each member of a Stable group, by member id. */
function assignments(b: Started, group: string): Map<string, number[]> | null {
  const d = b.broker.groups.describeGroup(group);
  if (d.groupState !== "Stable") return null;
  const out = new Map<string, number[]>();
  for (const m of d.members) {
    const r = new Reader(m.memberAssignment);
    const version = r.int16();
    const a: Msg = codecFor(ConsumerProtocolAssignment, Math.min(version, 3)).decode(r);
    out.set(m.memberId, (a.assignedPartitions as Msg[]).flatMap((t) => t.partitions as number[]));
  }
  return out;
}

Deno.test("kcat -G consumes everything exactly once and commits it", async () => {
  const b = await testBroker({ config: GROUP_CONFIG });
  try {
    await b.broker.createTopic("exact", 3);
    await produce(b.address, "exact", 3, 0, 1500);
    // auto.offset.reset, not `-o beginning`: in -G mode -o overrides the committed offsets.
    const args = ["-G", "g-exact", "-X", "auto.offset.reset=earliest", "-e", "-q"];
    args.push("-f", "%k=%s\\n", "exact");
    const out = decoder.decode(await kcat(b.address, args, { timeoutMs: 30_000 }));
    const got = out.split("\n").filter((l) => l).sort();
    assert.equal(got.length, 1500);
    assert.deepEqual(got, expected(0, 1500));
    // kcat committed on close: the group is Empty with offsets at the end of each partition.
    assert.deepEqual(committed(b, "g-exact", "exact"), highWatermarks(b, "exact", 3));
    assert.equal(b.broker.groups.describeGroup("g-exact").groupState, "Empty");
    // The same group again finds nothing new; then only what was produced since.
    const again = decoder.decode(await kcat(b.address, args, { timeoutMs: 30_000 }));
    assert.equal(again, "");
    await produce(b.address, "exact", 3, 1500, 30);
    const more = decoder.decode(await kcat(b.address, args, { timeoutMs: 30_000 }));
    assert.deepEqual(more.split("\n").filter((l) => l).sort(), expected(1500, 30));
  } finally {
    await b.stop();
  }
});

Deno.test("two kcat -G members split the partitions", async () => {
  const b = await testBroker({ config: GROUP_CONFIG });
  const members: KcatMember[] = [];
  try {
    await b.broker.createTopic("split", 4);
    members.push(new KcatMember(b.address, "g-split", "split"));
    await waitFor("the first member", () => assignments(b, "g-split")?.size === 1);
    members.push(new KcatMember(b.address, "g-split", "split"));
    await waitFor("two members", () => assignments(b, "g-split")?.size === 2);
    const split = [...assignments(b, "g-split")!.values()];
    assert.deepEqual(split.map((a) => a.length), [2, 2]);
    assert.deepEqual(split.flat().sort(), [0, 1, 2, 3]);
    await produce(b.address, "split", 4, 0, 800);
    await waitFor("800 records", () => members.reduce((n, m) => n + m.lines.length, 0) >= 800);
    const [x, y] = members.map((m) => m.partitions());
    assert.equal(x.size, 2);
    assert.equal(y.size, 2);
    assert.deepEqual([...x, ...y].sort(), [0, 1, 2, 3], "each partition read by one member");
    assert.deepEqual(members.flatMap((m) => m.records()).sort(), expected(0, 800));
    // Both leave (committing on close): the group empties with everything committed.
    await Promise.all(members.splice(0).map((m) => m.stop()));
    assert.equal(b.broker.groups.describeGroup("g-split").groupState, "Empty");
    assert.deepEqual(committed(b, "g-split", "split"), highWatermarks(b, "split", 4));
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    await b.stop();
  }
});

Deno.test(
  "a static kcat member (group.instance.id) restarts without a rebalance",
  async () => {
    const b = await testBroker({ config: GROUP_CONFIG });
    const members: KcatMember[] = [];
    const staticArgs = (
      id: string,
    ) => ["-X", `group.instance.id=${id}`, "-X", "session.timeout.ms=10000"];
    try {
      await b.broker.createTopic("static", 4);
      members.push(new KcatMember(b.address, "g-static", "static", staticArgs("a")));
      await waitFor("member a", () => assignments(b, "g-static")?.size === 1);
      members.push(new KcatMember(b.address, "g-static", "static", staticArgs("b")));
      await waitFor("members a and b", () => assignments(b, "g-static")?.size === 2);
      const group = b.broker.groups.group("g-static")!;
      const generation = group.generationId;
      const bId = group.staticMemberId("b")!;
      const bPartitions = assignments(b, "g-static")!.get(bId)!;

      // b stops (a static member sends no LeaveGroup) and comes back with the same id.
      await members.pop()!.stop();
      assert.equal(group.generationId, generation);
      assert.ok(group.has(bId), "a departed static member keeps its place until its session ends");
      members.push(new KcatMember(b.address, "g-static", "static", staticArgs("b")));
      await waitFor("b to rejoin", () => group.staticMemberId("b") !== bId);
      await waitFor("a stable group", () => assignments(b, "g-static")?.size === 2);
      assert.equal(group.generationId, generation, "no rebalance");
      const newId = group.staticMemberId("b")!;
      assert.deepEqual(assignments(b, "g-static")!.get(newId), bPartitions, "same partitions");

      await produce(b.address, "static", 4, 0, 400);
      await waitFor("400 records", () => members.reduce((n, m) => n + m.lines.length, 0) >= 400);
      assert.deepEqual(members.flatMap((m) => m.records()).sort(), expected(0, 400));
      assert.deepEqual([...members[1].partitions()].sort(), bPartitions);
      assert.equal(group.generationId, generation);
    } finally {
      await Promise.all(members.map((m) => m.stop()));
      await b.stop();
    }
  },
);

Deno.test(
  "broker restart mid-consumption: committed offsets survive exactly, nothing lost",
  async () => {
    let b = await testBroker({ config: GROUP_CONFIG, keepDir: true });
    const dataDir = b.dataDir;
    let member: KcatMember | undefined;
    try {
      await b.broker.createTopic("events", 3);
      // Record k<i> is at offset floor(i / 3) of partition i % 3.
      await produce(b.address, "events", 3, 0, 300);
      // A short session, so the member lost with the old broker expires quickly afterwards.
      member = new KcatMember(b.address, "g-events", "events", ["-X", "session.timeout.ms=2000"]);
      await waitFor("300 records", () => member!.lines.length >= 300);
      await waitFor("the 300 auto-committed", () => {
        const c = committed(b, "g-events", "events");
        return [...highWatermarks(b, "events", 3)].every(([p, h]) => c.get(p) === h);
      });
      // More records, consumed but (auto-commit runs every 5 s) most likely not yet committed
      // when the broker goes away.
      await produce(b.address, "events", 3, 300, 150);
      await waitFor("450 records", () => member!.lines.length >= 450);
      const before = committed(b, "g-events", "events");
      const generation = b.broker.groups.group("g-events")!.generationId;
      await b.close();
      const firstRun = member.records();
      await member.stop("SIGKILL"); // kcat gives up by itself when every broker is down
      member = undefined;

      b = await testBroker({ config: GROUP_CONFIG, dataDir, keepDir: true });
      assert.deepEqual(committed(b, "g-events", "events"), before, "every commit survived");
      const reloaded = b.broker.groups.group("g-events")!;
      assert.equal(reloaded.state, "Stable", "the group is back as it was");
      assert.equal(reloaded.generationId, generation);

      // A new member resumes exactly at the committed offsets.
      await produce(b.address, "events", 3, 450, 150);
      const args = ["-G", "g-events", "-X", "auto.offset.reset=earliest", "-e", "-q"];
      args.push("-f", "%k=%s\\n", "events");
      const out = decoder.decode(await kcat(b.address, args, { timeoutMs: 30_000 }));
      const secondRun = out.split("\n").filter((l) => l);
      const index = (r: string) => Number(r.slice(1, r.indexOf("=")));
      const resumed = secondRun.map(index);
      const want = Array.from({ length: 600 }, (_, i) => i)
        .filter((i) => Math.floor(i / 3) >= before.get(i % 3)!);
      assert.deepEqual(resumed.sort((x, y) => x - y), want, "exactly from the committed offsets");
      const all = [...firstRun, ...secondRun];
      assert.deepEqual([...new Set(all)].sort(), expected(0, 600), "none lost");
      const uncommitted = 450 - [...before.values()].reduce((a, x) => a + x, 0);
      assert.equal(all.length - 600, uncommitted, "read twice: only what was not committed");
      assert.deepEqual(committed(b, "g-events", "events"), highWatermarks(b, "events", 3));
    } finally {
      await member?.stop("SIGKILL");
      await b.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
