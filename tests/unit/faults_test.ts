/**
 * The fault injector's bookkeeping: faults are taken first in, first out, counted down and
 * removed; topic and partition filters; the hot-path flag; what a request names; refusals
 * when disabled or given a bad fault.
 */
import assert from "node:assert/strict";
import {
  FaultInjectionDisabledError,
  FaultInjector,
  FaultSpecError,
  namedPartitions,
} from "../../src/faults.ts";

const APIS: [string, number][] = [["Produce", 0], ["Fetch", 1], ["Metadata", 3]];

function injector(enabled = true, closed: string[] = []) {
  return new FaultInjector(enabled, {
    apiName: (k) => APIS.find(([, key]) => key === k)?.[0],
    apiKeys: () => APIS,
    connections: () => ["a", "b"].map((id) => ({ close: () => void closed.push(id) })),
  });
}

const none = () => [];

Deno.test("faults: taken in order, counted down, removed; active only while any is set", async () => {
  const f = injector();
  assert.equal(f.active, false);
  const a = f.push({ api: "produce", count: 2, errorCode: "NOT_LEADER_OR_FOLLOWER" });
  const b = f.push({ apiKey: 0, errorCode: 7 });
  assert.deepEqual([a.api, a.errorCode, a.error, b.errorCode], [
    "Produce",
    6,
    "NOT_LEADER_OR_FOLLOWER",
    7,
  ]);
  assert.equal(f.active, true);
  assert.equal(await f.take(1, none), undefined);
  assert.equal((await f.take(0, none))?.id, a.id);
  assert.equal(f.list().requests[0].remaining, 1);
  assert.equal((await f.take(0, none))?.id, a.id);
  assert.equal((await f.take(0, none))?.id, b.id);
  assert.equal(await f.take(0, none), undefined);
  assert.equal(f.active, false);
  assert.deepEqual(f.list().requests, []);
});

Deno.test("faults: a topic or partition filter matches only requests naming it", async () => {
  const f = injector();
  f.push({ api: "Produce", errorCode: 6, topic: "t", partition: 1 });
  assert.equal(await f.take(0, () => [["t", 0], ["u", 1]]), undefined);
  assert.equal(await f.take(0, () => [["t", undefined]]), undefined);
  assert.equal((await f.take(0, () => [["u", 0], ["t", 1]]))?.partition, 1);
  f.push({ api: "Metadata", errorCode: 3, topic: "t" });
  assert.equal((await f.take(3, () => [["t", undefined]]))?.topic, "t");
});

Deno.test("faults: a hang holds requests until it ends or is cleared", async () => {
  const f = injector();
  f.hang(60_000);
  let done = false;
  const held = f.take(0, none).then((r) => (done = true, r));
  await Promise.resolve();
  assert.equal(f.list().heldRequests, 1);
  assert.equal(done, false);
  f.clear();
  assert.equal(await held, undefined);
  assert.deepEqual([f.list().hangingUntil, f.active], [null, false]);
});

Deno.test("faults: dropping connections now, and the next ones accepted", async () => {
  const closed: string[] = [];
  const f = injector(true, closed);
  assert.equal(await f.dropConnections(), 2);
  assert.deepEqual(closed, ["a", "b"]);
  assert.equal(await f.dropConnections({ next: 2 }), 0);
  assert.equal(f.active, true);
  assert.deepEqual([f.dropAccepted(), f.dropAccepted(), f.dropAccepted()], [true, true, false]);
  assert.equal(f.active, false);
});

Deno.test("faults: refused when disabled, and bad faults named", async () => {
  const off = injector(false);
  for (
    const change of [
      () => off.push({ api: "Produce", errorCode: 6 }),
      () => off.hang(10),
      () => off.clear(),
    ]
  ) assert.throws(change, FaultInjectionDisabledError);
  assert.equal(off.list().enabled, false);
  const f = injector();
  const bad: [Parameters<FaultInjector["push"]>[0], RegExp][] = [
    [{ api: "Nope", errorCode: 6 }, /no API named Nope/],
    [{ apiKey: 42, errorCode: 6 }, /no API with key 42/],
    [{ errorCode: 6 }, /needs an api/],
    [{ api: "Produce", errorCode: "NOPE" }, /no Kafka error named NOPE/],
    [{ api: "Produce", errorCode: 1.5 }, /no Kafka error code/],
    [{ api: "Produce" }, /errorCode, a delayMs, or both/],
    [{ api: "Produce", errorCode: 6, count: 0 }, /count/],
    [{ api: "Produce", delayMs: -1 }, /delayMs/],
    [{ api: "Produce", errorCode: 6, partition: 0 }, /partition needs a topic/],
  ];
  for (const [spec, message] of bad) {
    assert.throws(() => f.push(spec), (e: Error) => {
      assert.ok(e instanceof FaultSpecError);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.throws(() => f.hang(0), FaultSpecError);
  await assert.rejects(f.dropConnections({ next: 0 }), FaultSpecError);
});

Deno.test("namedPartitions: topics by name or id, partitions as structs or indexes, nested", () => {
  const ids: Record<string, string> = { ID1: "by-id" };
  const byId = (id: string) => ids[id];
  // Produce: topicData[].partitionData[].index
  assert.deepEqual(
    namedPartitions({ acks: -1, topicData: [{ name: "a", partitionData: [{ index: 2 }] }] }, byId),
    [["a", undefined], ["a", 2]],
  );
  // Fetch v13: topics[].topicId, partitions[].partition
  assert.deepEqual(
    namedPartitions({ topics: [{ topicId: "ID1", partitions: [{ partition: 0 }] }] }, byId),
    [["by-id", undefined], ["by-id", 0]],
  );
  // OffsetFetch v8: groups[].topics[].partitionIndexes; DeleteTopics v0: topicNames
  assert.deepEqual(
    namedPartitions({
      groups: [{ groupId: "g", topics: [{ name: "c", partitionIndexes: [1, 3] }] }],
    }, byId),
    [["c", undefined], ["c", 1], ["c", 3]],
  );
  assert.deepEqual(namedPartitions({ topicNames: ["x", "y"] }, byId), [
    ["x", undefined],
    ["y", undefined],
  ]);
  assert.deepEqual(namedPartitions({ groupId: "g", members: [] }, byId), []);
});
