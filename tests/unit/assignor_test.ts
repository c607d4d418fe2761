/**
 * The server-side assignors of the consumer group protocol (src/group/assignors.ts):
 * `uniform` (balanced, sticky, subscription-aware) and `range` (contiguous, co-partitioned),
 * and the parsing of group.consumer.assignors.
 */
import assert from "node:assert/strict";
import {
  type AssignmentSpec,
  type AssignorMember,
  assignorName,
  RangeAssignor,
  type TopicPartitionSet,
  UniformAssignor,
} from "../../src/group/assignors.ts";
import { ConfigError } from "../../src/config.ts";
import { parseConsumerAssignors } from "../../src/group/group_config.ts";

const TOPICS = new Map([
  ["id-a", { name: "a", partitions: 6 }],
  ["id-b", { name: "b", partitions: 4 }],
  ["id-c", { name: "c", partitions: 3 }],
]);

function member(
  memberId: string,
  topics: string[],
  current: Record<string, number[]> = {},
): AssignorMember {
  return {
    memberId,
    instanceId: null,
    rackId: null,
    subscribedTopicIds: new Set(topics.map((t) => `id-${t}`)),
    current: new Map(Object.entries(current).map(([t, ps]) => [`id-${t}`, new Set(ps)])),
  };
}

function spec(members: AssignorMember[], topics = TOPICS): AssignmentSpec {
  return { members, topics };
}

/** member → "topic:partition" list, sorted, for readable comparisons. */
function flat(r: Map<string, TopicPartitionSet>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [m, a] of r) {
    out[m] = [...a].flatMap(([t, ps]) => [...ps].map((p) => `${t.slice(3)}${p}`)).sort();
  }
  return out;
}

function count(a: TopicPartitionSet | undefined): number {
  let n = 0;
  for (const ps of a?.values() ?? []) n += ps.size;
  return n;
}

/** Every partition of the subscribed topics exactly once, only to subscribed members. */
function assertValid(s: AssignmentSpec, r: Map<string, TopicPartitionSet>): void {
  const seen = new Set<string>();
  for (const m of s.members) {
    for (const [t, ps] of r.get(m.memberId) ?? []) {
      assert.ok(m.subscribedTopicIds.has(t), `${m.memberId} got ${t} it does not subscribe to`);
      for (const p of ps) {
        const k = `${t}:${p}`;
        assert.ok(!seen.has(k), `${k} assigned twice`);
        assert.ok(p < s.topics.get(t)!.partitions, `${k} does not exist`);
        seen.add(k);
      }
    }
  }
  const subscribed = new Set(s.members.flatMap((m) => [...m.subscribedTopicIds]));
  for (const t of subscribed) {
    const topic = s.topics.get(t);
    if (!topic) continue;
    for (let p = 0; p < topic.partitions; p++) {
      assert.ok(seen.has(`${t}:${p}`), `${t}:${p} left out`);
    }
  }
}

Deno.test("uniform: identical subscriptions split evenly, every partition once", () => {
  const s = spec([member("m1", ["a", "b"]), member("m2", ["a", "b"]), member("m3", ["a", "b"])]);
  const r = new UniformAssignor().assign(s);
  assertValid(s, r);
  const counts = [...r.values()].map(count).sort();
  assert.deepEqual(counts, [3, 3, 4]);
  // Deterministic: the same input gives the same output.
  assert.deepEqual(flat(new UniformAssignor().assign(s)), flat(r));
});

Deno.test("uniform: members joining and leaving move as few partitions as needed", () => {
  const u = new UniformAssignor();
  const two = u.assign(spec([member("m1", ["a"]), member("m2", ["a"])]));
  assert.deepEqual(flat(two), { m1: ["a0", "a2", "a4"], m2: ["a1", "a3", "a5"] });
  const cur = (m: string) => ({ a: [...two.get(m)!.get("id-a")!] });
  // A third member takes one partition from each: the others keep two of theirs.
  const three = u.assign(spec([
    member("m1", ["a"], cur("m1")),
    member("m2", ["a"], cur("m2")),
    member("m3", ["a"]),
  ]));
  assertValid(spec([member("m1", ["a"]), member("m2", ["a"]), member("m3", ["a"])]), three);
  for (const m of ["m1", "m2"]) {
    assert.equal(count(three.get(m)), 2);
    for (const p of three.get(m)!.get("id-a")!) assert.ok(two.get(m)!.get("id-a")!.has(p));
  }
  assert.equal(count(three.get("m3")), 2);
  // m2 leaves: m1 and m3 keep theirs and share m2's.
  const after = u.assign(spec([
    member("m1", ["a"], { a: [...three.get("m1")!.get("id-a")!] }),
    member("m3", ["a"], { a: [...three.get("m3")!.get("id-a")!] }),
  ]));
  assert.equal(count(after.get("m1")), 3);
  assert.equal(count(after.get("m3")), 3);
  for (const m of ["m1", "m3"]) {
    for (const p of three.get(m)!.get("id-a")!) assert.ok(after.get(m)!.get("id-a")!.has(p));
  }
});

Deno.test("uniform: different subscriptions are respected and balanced where possible", () => {
  const s = spec([
    member("m1", ["a"]),
    member("m2", ["a", "b"]),
    member("m3", ["b", "c"]),
    member("m4", ["c"]),
  ]);
  const r = new UniformAssignor().assign(s);
  assertValid(s, r);
  // 13 partitions over 4 members: the least loaded has 3, the most 4.
  const counts = [...r.values()].map(count);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${counts}`);
  // A member whose topics do not exist, and a current assignment of a topic no longer
  // subscribed to or no longer existing, are ignored.
  const s2 = spec([
    member("m1", ["a", "zzz"], { b: [0], a: [5, 9] }),
    member("m2", ["zzz"]),
  ]);
  const r2 = new UniformAssignor().assign(s2);
  assertValid(s2, r2);
  assert.deepEqual(flat(r2), { m1: ["a0", "a1", "a2", "a3", "a4", "a5"], m2: [] });
});

Deno.test("uniform: no members, no topics", () => {
  assert.equal(new UniformAssignor().assign(spec([])).size, 0);
  const r = new UniformAssignor().assign(spec([member("m1", [])]));
  assert.deepEqual(flat(r), { m1: [] });
});

Deno.test("range: contiguous ranges, extras to the first members, co-partitioned", () => {
  const topics = new Map([
    ["id-a", { name: "a", partitions: 5 }],
    ["id-b", { name: "b", partitions: 5 }],
  ]);
  const s = spec([member("m2", ["a", "b"]), member("m1", ["a", "b"])], topics);
  const r = new RangeAssignor().assign(s);
  assertValid(s, r);
  assert.deepEqual(flat(r), {
    m1: ["a0", "a1", "a2", "b0", "b1", "b2"],
    m2: ["a3", "a4", "b3", "b4"],
  });
});

Deno.test("range: members only get topics they subscribe to", () => {
  const s = spec([member("m1", ["a"]), member("m2", ["a", "c"]), member("m3", ["c"])]);
  const r = new RangeAssignor().assign(s);
  assertValid(s, r);
  assert.deepEqual(flat(r), {
    m1: ["a0", "a1", "a2"],
    m2: ["a3", "a4", "a5", "c0", "c1"],
    m3: ["c2"],
  });
  // More members than partitions: the last ones get nothing of that topic.
  const many = spec(["m1", "m2", "m3", "m4"].map((m) => member(m, ["c"])));
  assert.deepEqual(flat(new RangeAssignor().assign(many)), {
    m1: ["c0"],
    m2: ["c1"],
    m3: ["c2"],
    m4: [],
  });
});

Deno.test("group.consumer.assignors: short names and Kafka class names", () => {
  assert.equal(assignorName("uniform"), "uniform");
  assert.equal(assignorName(" range "), "range");
  assert.equal(
    assignorName("org.apache.kafka.coordinator.group.assignor.UniformAssignor"),
    "uniform",
  );
  assert.equal(assignorName("org.apache.kafka.coordinator.group.assignor.RangeAssignor"), "range");
  assert.equal(assignorName("sticky"), undefined);
  assert.deepEqual(parseConsumerAssignors(["range", "uniform", "range"]), ["range", "uniform"]);
  assert.throws(() => parseConsumerAssignors(["cooperative-sticky"]), ConfigError);
  assert.throws(() => parseConsumerAssignors([]), ConfigError);
});
