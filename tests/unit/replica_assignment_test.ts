/** Replica placement: Kafka's round-robin from a start, and its rack-aware variant. */
import assert from "node:assert/strict";
import { assignReplicas, rackAlternated } from "../../src/cluster/replica_assignment.ts";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";

const fixed = (values: number[]) => {
  let i = 0;
  return (_n: number) => values[i++];
};

Deno.test("round-robin from the random start, one replica", () => {
  const brokers = [3, 1, 2].map((nodeId) => ({ nodeId, rack: null }));
  assert.deepEqual(assignReplicas(brokers, 6, 1, { random: fixed([1, 0]) }), [
    [2],
    [3],
    [1],
    [2],
    [3],
    [1],
  ]);
});

Deno.test("round-robin with followers shifted as Kafka's AdminUtils does", () => {
  // Kafka's own example (AdminUtils doc): 5 brokers, 10 partitions, rf 3, start 0, shift 0.
  const brokers = [0, 1, 2, 3, 4].map((nodeId) => ({ nodeId, rack: null }));
  assert.deepEqual(assignReplicas(brokers, 10, 3, { random: fixed([0, 0]) }), [
    [0, 1, 2],
    [1, 2, 3],
    [2, 3, 4],
    [3, 4, 0],
    [4, 0, 1],
    [0, 2, 3],
    [1, 3, 4],
    [2, 4, 0],
    [3, 0, 1],
    [4, 1, 2],
  ]);
});

Deno.test("CreatePartitions continues the numbering from the first new partition", () => {
  const brokers = [1, 2, 3].map((nodeId) => ({ nodeId, rack: null }));
  assert.deepEqual(
    assignReplicas(brokers, 3, 1, { random: fixed([0, 0]), startPartition: 4 }),
    [[2], [3], [1]],
  );
});

Deno.test("rack-aware: brokers alternated by rack, replicas on distinct racks", () => {
  const brokers = [
    { nodeId: 0, rack: "rack1" },
    { nodeId: 1, rack: "rack3" },
    { nodeId: 2, rack: "rack3" },
    { nodeId: 3, rack: "rack2" },
    { nodeId: 4, rack: "rack2" },
    { nodeId: 5, rack: "rack1" },
  ];
  // Kafka's doc example: rack1 rack2 rack3 in turn gives 0, 3, 1, 5, 4, 2.
  assert.deepEqual(rackAlternated(brokers).map((b) => b.nodeId), [0, 3, 1, 5, 4, 2]);
  const leaders = assignReplicas(brokers, 6, 1, { random: fixed([0, 0]) });
  assert.deepEqual(leaders, [[0], [3], [1], [5], [4], [2]]);
  const rackOf = new Map(brokers.map((b) => [b.nodeId, b.rack]));
  for (const replicas of assignReplicas(brokers, 12, 3, { random: fixed([2, 1]) })) {
    assert.equal(new Set(replicas.map((id) => rackOf.get(id))).size, 3, `${replicas}`);
  }
});

Deno.test("too few brokers or partial rack information is refused with Kafka's codes", () => {
  const two = [1, 2].map((nodeId) => ({ nodeId, rack: null }));
  assert.throws(
    () => assignReplicas(two, 1, 3),
    (e) => e instanceof KafkaError && e.code === ErrorCode.INVALID_REPLICATION_FACTOR,
  );
  assert.throws(
    () => assignReplicas([{ nodeId: 1, rack: "a" }, { nodeId: 2, rack: null }], 1, 1),
    (e) => e instanceof KafkaError && e.code === ErrorCode.INVALID_REPLICA_ASSIGNMENT,
  );
});
