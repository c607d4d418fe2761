/**
 * The controller's replication duties over the in-memory metadata store: placement with a
 * replication factor or assignments, dead replicas leaving the ISR and offline partition
 * election in replica order (clean, then unclean when the topic allows it), ElectLeaders
 * (preferred and unclean), reassignments started, listed, completed once their new replicas
 * are in the ISR (written here as a leader would), cancelled, the compare-and-swap retried
 * when a leader writes the ISR meanwhile, and the auto leader rebalance.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { ClusterMetadataCache } from "../../src/cluster/cluster_metadata.ts";
import {
  brokerKey,
  type BrokerRegistration,
  partitionKey,
  type PartitionState,
} from "../../src/cluster/cluster_records.ts";
import { ClusterController, type ControllerSettings } from "../../src/cluster/controller.ts";
import {
  alterPartitionReassignments,
  ElectionType,
  electLeaders,
  listPartitionReassignments,
} from "../../src/cluster/controller_operations.ts";
import { MemoryMetadataBackend, MemoryMetadataStore } from "../../src/cluster/memory_store.ts";
import {
  type MetadataStore,
  type TxnRequest,
  valueText,
} from "../../src/cluster/metadata_store.ts";
import { reconcileLiveness } from "../../src/cluster/partition_election.ts";
import { until } from "../support/wait.ts";

function registration(nodeId: number, rack: string | null = null, incarnation = "a"): string {
  const r: BrokerRegistration = {
    nodeId,
    host: "127.0.0.1",
    port: 9000 + nodeId,
    rack,
    listeners: [],
    incarnationId: `i${nodeId}-${incarnation}`,
  };
  return JSON.stringify(r);
}

const SETTINGS: ControllerSettings = {
  uncleanLeaderElectionEnable: () => false,
  autoLeaderRebalanceEnable: false,
  leaderImbalanceCheckIntervalMs: 300_000,
  leaderImbalancePerBrokerPercentage: 10,
};

interface Harness {
  store: MetadataStore;
  cache: ClusterMetadataCache;
  controller: ClusterController;
  /** Re-reads the store into the cache and lets the controller react, as the watch does. */
  settle(): Promise<void>;
  state(topic: string, p: number): Promise<PartitionState>;
  /** Writes a partition's record as its leader would (an ISR change), partition epoch + 1. */
  leaderWrites(topic: string, p: number, change: Partial<PartitionState>): Promise<void>;
  close(): Promise<void>;
}

async function harness(
  brokers: number[],
  racks?: string[],
  settings: ControllerSettings = SETTINGS,
): Promise<Harness> {
  const store = new MemoryMetadataStore(new MemoryMetadataBackend());
  const lease = await store.grantLease(60_000);
  for (const [i, id] of brokers.entries()) {
    await store.put(brokerKey(id), registration(id, racks?.[i] ?? null));
  }
  const cache = new ClusterMetadataCache(1);
  const controller = new ClusterController(store, cache, 1, settings);
  const refresh = async () => {
    const r = await store.range("");
    cache.load(r.kvs, r.revision);
  };
  await controller.campaign(lease.id);
  await refresh();
  assert.equal(controller.isActive, true);
  const state = async (topic: string, p: number): Promise<PartitionState> =>
    JSON.parse(valueText((await store.get(partitionKey(topic, p)))!));
  return {
    store,
    cache,
    controller,
    async settle() {
      await refresh();
      controller.onMetadataChanged();
      await controller.idle();
      await refresh();
    },
    state,
    async leaderWrites(topic, p, change) {
      const s = await state(topic, p);
      await store.put(
        partitionKey(topic, p),
        JSON.stringify({ ...s, ...change, partitionEpoch: s.partitionEpoch + 1 }),
      );
    },
    async close() {
      controller.resign();
      await store.close();
    },
  };
}

const code = (c: number) => (e: unknown) => e instanceof KafkaError && e.code === c;

Deno.test("controller: replication factor and assignments place replicas over the live brokers", async () => {
  const h = await harness([1, 2, 3]);
  try {
    await h.controller.createTopic("t", 6, {}, { replicationFactor: 3 });
    await h.settle();
    const leaders: number[] = [];
    for (let p = 0; p < 6; p++) {
      const s = await h.state("t", p);
      assert.equal(new Set(s.replicas).size, 3);
      assert.deepEqual(s.isr, s.replicas);
      assert.equal(s.leader, s.replicas[0]);
      leaders.push(s.leader);
    }
    assert.deepEqual(leaders.sort(), [1, 1, 2, 2, 3, 3]);

    await assert.rejects(
      h.controller.createTopic("u", 1, {}, { replicationFactor: 4 }),
      (e) =>
        code(ErrorCode.INVALID_REPLICATION_FACTOR)(e) &&
        (e as Error).message === "Replication factor: 4 larger than available brokers: 3.",
    );
    await assert.rejects(
      h.controller.createTopic("u", -1, {}, { replicationFactor: -1, assignments: [[1, 4]] }),
      (e) =>
        code(ErrorCode.INVALID_REPLICA_ASSIGNMENT)(e) &&
        (e as Error).message ===
          "The manual partition assignment includes broker 4, but no such broker is registered.",
    );
    await assert.rejects(
      h.controller.createTopic("u", -1, {}, { replicationFactor: -1, assignments: [[1, 1]] }),
      code(ErrorCode.INVALID_REPLICA_ASSIGNMENT),
    );
    await h.controller.createTopic("a", -1, {}, {
      replicationFactor: -1,
      assignments: [[3, 1], [2, 3]],
    });
    // Internal topics: a factor above the live brokers is capped to them.
    await h.controller.createTopic("__consumer_offsets", 2, {}, {
      replicationFactor: 5,
      capToLiveBrokers: true,
    });
    await h.settle();
    assert.deepEqual((await h.state("a", 0)).replicas, [3, 1]);
    assert.equal((await h.state("a", 1)).leader, 2);
    assert.equal(h.cache.topicRecords.get("a")!.partitions, 2);
    assert.equal((await h.state("__consumer_offsets", 0)).replicas.length, 3);

    // New partitions take partition 0's factor, or their assignments.
    await h.controller.createPartitions("t", 8);
    await h.controller.createPartitions("a", 3, [[1, 2]]);
    await h.settle();
    assert.equal((await h.state("t", 7)).replicas.length, 3);
    assert.deepEqual((await h.state("a", 2)).replicas, [1, 2]);
    // Without assignments, new partitions continue the round-robin from partition 0's leader.
    await h.controller.createTopic("g", -1, {}, { replicationFactor: -1, assignments: [[2]] });
    await h.settle();
    await h.controller.createPartitions("g", 4);
    await h.settle();
    const g = [];
    for (let p = 1; p < 4; p++) g.push((await h.state("g", p)).replicas);
    assert.deepEqual(g, [[3], [1], [2]]);
    await assert.rejects(
      h.controller.createPartitions("a", 4, [[1]]),
      (e) =>
        code(ErrorCode.INVALID_REPLICA_ASSIGNMENT)(e) &&
        (e as Error).message ===
          "Inconsistent replication factor between partitions, partition 0 has 2 while " +
            "partitions [0] have replication factors [1], respectively.",
    );
  } finally {
    await h.close();
  }
});

Deno.test("controller: rack-aware placement puts each partition's replicas on distinct racks", async () => {
  const h = await harness([1, 2, 3, 4], ["a", "a", "b", "b"]);
  try {
    await h.controller.createTopic("r", 8, {}, { replicationFactor: 2 });
    await h.settle();
    const rackOf = (id: number) => (id <= 2 ? "a" : "b");
    for (let p = 0; p < 8; p++) {
      const s = await h.state("r", p);
      assert.deepEqual(new Set(s.replicas.map(rackOf)), new Set(["a", "b"]), `partition ${p}`);
    }
  } finally {
    await h.close();
  }
});

Deno.test("controller: broker loss shrinks the ISR and elects the next live in-sync replica", async () => {
  const h = await harness([1, 2, 3]);
  try {
    await h.controller.createTopic("t", -1, {}, {
      replicationFactor: -1,
      assignments: [[2, 3, 1], [3, 2, 1]],
    });
    await h.settle();
    await h.store.delete(brokerKey(2));
    await h.settle();
    let s = await h.state("t", 0);
    assert.equal(s.leader, 3);
    assert.deepEqual(s.isr, [3, 1]);
    assert.equal(s.leaderEpoch, 1);
    assert.equal(s.partitionEpoch, 1);
    // Partition 1 keeps its leader: only the ISR shrinks, at the same leader epoch.
    s = await h.state("t", 1);
    assert.equal(s.leader, 3);
    assert.deepEqual(s.isr, [3, 1]);
    assert.equal(s.leaderEpoch, 0);
    assert.equal(s.partitionEpoch, 1);

    // The leader shrank the ISR to itself; then it dies: no clean leader, the ISR keeps it.
    await h.leaderWrites("t", 0, { isr: [3] });
    await h.store.delete(brokerKey(3));
    await h.settle();
    s = await h.state("t", 0);
    assert.equal(s.leader, -1);
    assert.deepEqual(s.isr, [3]);
    assert.equal(s.leaderEpoch, 2);
    // Partition 1 had broker 1 in sync: it leads.
    s = await h.state("t", 1);
    assert.equal(s.leader, 1);
    assert.deepEqual(s.isr, [1]);

    // Broker 2 returns, out of sync: no clean election; the ISR member's return is awaited.
    await h.store.put(brokerKey(2), registration(2));
    await h.settle();
    assert.equal((await h.state("t", 0)).leader, -1);
    await h.store.put(brokerKey(3), registration(3));
    await h.settle();
    s = await h.state("t", 0);
    assert.equal(s.leader, 3);
    assert.equal(s.leaderEpoch, 3);
  } finally {
    await h.close();
  }
});

Deno.test("controller: unclean election when the topic allows it, and by ElectLeaders UNCLEAN", async () => {
  const h = await harness([1, 2, 3]);
  try {
    await h.controller.createTopic("dirty", -1, { "unclean.leader.election.enable": true }, {
      replicationFactor: -1,
      assignments: [[1, 2]],
    });
    await h.controller.createTopic("clean", -1, {}, {
      replicationFactor: -1,
      assignments: [[1, 2]],
    });
    await h.settle();
    await h.leaderWrites("dirty", 0, { isr: [1] });
    await h.leaderWrites("clean", 0, { isr: [1] });
    await h.store.delete(brokerKey(1));
    await h.settle();
    let s = await h.state("dirty", 0);
    assert.equal(s.leader, 2);
    assert.deepEqual(s.isr, [2]);
    assert.equal(s.leaderEpoch, 1);
    s = await h.state("clean", 0);
    assert.equal(s.leader, -1);
    assert.deepEqual(s.isr, [1]);

    const { results } = await electLeaders(h.controller, ElectionType.UNCLEAN, [
      { topic: "clean", partition: 0 },
      { topic: "dirty", partition: 0 },
      { topic: "nope", partition: 0 },
    ]);
    assert.deepEqual(results.map((r) => r.errorCode), [
      0,
      ErrorCode.ELECTION_NOT_NEEDED,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    await h.settle();
    s = await h.state("clean", 0);
    assert.equal(s.leader, 2);
    assert.deepEqual(s.isr, [2]);
  } finally {
    await h.close();
  }
});

Deno.test("controller: ElectLeaders PREFERRED moves leadership back when the preferred replica is in sync", async () => {
  const h = await harness([1, 2, 3]);
  try {
    await h.controller.createTopic("t", -1, {}, {
      replicationFactor: -1,
      assignments: [[1, 2, 3], [2, 3, 1]],
    });
    await h.settle();
    await h.store.delete(brokerKey(1));
    await h.settle();
    assert.equal((await h.state("t", 0)).leader, 2);
    await h.store.put(brokerKey(1), registration(1));
    await h.settle();
    // Back, but not in the ISR yet.
    let r = await electLeaders(h.controller, ElectionType.PREFERRED, [{
      topic: "t",
      partition: 0,
    }]);
    assert.equal(r.results[0].errorCode, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
    assert.equal(
      r.results[0].errorMessage,
      "Failed to elect leader for partition t-0 under strategy " +
        "PreferredReplicaPartitionLeaderElectionStrategy",
    );
    // The leader adds it to the ISR once caught up.
    await h.leaderWrites("t", 0, { isr: [2, 3, 1] });
    await h.settle();
    r = await electLeaders(h.controller, ElectionType.PREFERRED, [
      { topic: "t", partition: 0 },
      { topic: "t", partition: 1 },
    ]);
    assert.deepEqual(r.results.map((x) => x.errorCode), [0, ErrorCode.ELECTION_NOT_NEEDED]);
    const s = await h.state("t", 0);
    assert.equal(s.leader, 1);
    assert.equal(s.leaderEpoch, 2);
    // All partitions asked for: only those that needed an election are answered.
    r = await electLeaders(h.controller, ElectionType.PREFERRED, null);
    assert.deepEqual(r.results, []);
  } finally {
    await h.close();
  }
});

Deno.test("controller: a reassignment is written, listed, completed once in sync, and cancellable", async () => {
  const h = await harness([1, 2, 3]);
  try {
    await h.controller.createTopic("t", -1, {}, {
      replicationFactor: -1,
      assignments: [[1], [1], [1]],
    });
    await h.settle();
    let r = await alterPartitionReassignments(h.controller, [
      { topic: "t", partition: 0, replicas: [2, 3] },
      { topic: "t", partition: 1, replicas: [1, 5] },
      { topic: "t", partition: 2, replicas: null },
      { topic: "t", partition: 9, replicas: [1] },
      { topic: "t", partition: 1, replicas: [2, 2] },
    ]);
    assert.deepEqual(r.results.map((x) => x.errorCode), [
      0,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
    ]);
    assert.equal(
      r.results[1].errorMessage,
      "Replica assignment has brokers that are not alive. Replica list: List(5), " +
        "live broker list: Set(1, 2, 3)",
    );
    await h.settle();
    let s = await h.state("t", 0);
    assert.deepEqual(s.replicas, [2, 3, 1]);
    assert.deepEqual(s.addingReplicas, [2, 3]);
    assert.deepEqual(s.removingReplicas, [1]);
    assert.equal(s.leader, 1);
    assert.deepEqual(listPartitionReassignments(h.cache, null), [{
      topic: "t",
      partition: 0,
      replicas: [2, 3, 1],
      addingReplicas: [2, 3],
      removingReplicas: [1],
    }]);
    assert.deepEqual(listPartitionReassignments(h.cache, [{ topic: "t", partition: 1 }]), []);

    // One new replica in sync: not yet complete.
    await h.leaderWrites("t", 0, { isr: [1, 2] });
    await h.settle();
    assert.deepEqual((await h.state("t", 0)).addingReplicas, [2, 3]);
    const epochBefore = (await h.state("t", 0)).leaderEpoch;
    // Both: the target becomes the assignment, the leader moves into it.
    await h.leaderWrites("t", 0, { isr: [1, 2, 3] });
    await h.settle();
    s = await h.state("t", 0);
    assert.deepEqual(s.replicas, [2, 3]);
    assert.deepEqual(s.isr, [2, 3]);
    assert.equal(s.leader, 2);
    assert.equal(s.leaderEpoch, epochBefore + 1);
    assert.equal(s.addingReplicas, undefined);
    assert.deepEqual(listPartitionReassignments(h.cache, null), []);

    // A reassignment under way is cancelled back to the original replicas.
    r = await alterPartitionReassignments(h.controller, [
      { topic: "t", partition: 1, replicas: [3] },
    ]);
    assert.equal(r.results[0].errorCode, 0);
    assert.deepEqual((await h.state("t", 1)).replicas, [3, 1]);
    r = await alterPartitionReassignments(h.controller, [
      { topic: "t", partition: 1, replicas: null },
    ]);
    assert.equal(r.results[0].errorCode, 0);
    s = await h.state("t", 1);
    assert.deepEqual(s.replicas, [1]);
    assert.equal(s.leader, 1);
    assert.equal(s.removingReplicas, undefined);

    // Reordering in-sync replicas completes at once.
    await h.controller.createTopic("o", -1, {}, { replicationFactor: -1, assignments: [[1, 2]] });
    await h.settle();
    r = await alterPartitionReassignments(h.controller, [
      { topic: "o", partition: 0, replicas: [2, 1] },
    ]);
    assert.equal(r.results[0].errorCode, 0);
    s = await h.state("o", 0);
    assert.deepEqual(s.replicas, [2, 1]);
    assert.equal(s.addingReplicas, undefined);
    assert.equal(s.leader, 1);
  } finally {
    await h.close();
  }
});

Deno.test("controller: a partition write lost to a leader's ISR change is re-read and retried", async () => {
  const h = await harness([1, 2, 3]);
  try {
    await h.controller.createTopic("t", -1, {}, {
      replicationFactor: -1,
      assignments: [[1, 2, 3]],
    });
    await h.settle();
    // The leader shrinks the ISR between the controller's read and its write.
    const txn = h.store.txn.bind(h.store);
    let raced = false;
    h.store.txn = async (req: TxnRequest) => {
      if (!raced && req.success.some((op) => "put" in op && op.put.key === partitionKey("t", 0))) {
        raced = true;
        const s = await h.state("t", 0);
        await h.store.put(
          partitionKey("t", 0),
          JSON.stringify({ ...s, isr: [1, 3], partitionEpoch: s.partitionEpoch + 1 }),
        );
      }
      return txn(req);
    };
    await h.store.delete(brokerKey(1));
    await h.settle();
    assert.equal(raced, true);
    const s = await h.state("t", 0);
    // Elected from the ISR the leader wrote (2 had left it), both epochs moved on from it.
    assert.equal(s.leader, 3);
    assert.deepEqual(s.isr, [3]);
    assert.equal(s.leaderEpoch, 1);
    assert.equal(s.partitionEpoch, 2);
  } finally {
    await h.close();
  }
});

Deno.test("controller: auto leader rebalance elects preferred replicas past the imbalance ratio", async () => {
  const h = await harness([1, 2]);
  try {
    await h.controller.createTopic("t", -1, {}, {
      replicationFactor: -1,
      assignments: [[1, 2], [1, 2], [2, 1]],
    });
    await h.settle();
    await h.store.delete(brokerKey(1));
    await h.settle();
    await h.store.put(brokerKey(1), registration(1));
    await h.settle();
    assert.equal((await h.state("t", 0)).leader, 2);
    // Not in the ISR yet: nothing moves.
    assert.deepEqual(await h.controller.rebalanceLeaders(), []);
    await h.leaderWrites("t", 0, { isr: [2, 1] });
    await h.leaderWrites("t", 1, { isr: [2, 1] });
    await h.settle();
    const moved = await h.controller.rebalanceLeaders();
    assert.deepEqual(moved, [{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }]);
    assert.equal((await h.state("t", 0)).leader, 1);
    assert.equal((await h.state("t", 1)).leader, 1);
    assert.equal((await h.state("t", 2)).leader, 2);
  } finally {
    await h.close();
  }
});

Deno.test("reconcileLiveness: the ISR is never emptied, and an unchanged partition is left alone", () => {
  const s: PartitionState = {
    leader: 1,
    leaderEpoch: 4,
    replicas: [1, 2],
    isr: [2, 1],
    partitionEpoch: 7,
  };
  assert.equal(reconcileLiveness(s, () => true, false), null);
  const gone = reconcileLiveness(s, () => false, false)!;
  assert.deepEqual(gone, { ...s, leader: -1, isr: [1], leaderEpoch: 5, partitionEpoch: 8 });
  assert.equal(reconcileLiveness(gone, () => false, false), null);
});

Deno.test("controller: unclean election enabled at runtime (broker default) takes effect on its next check", async () => {
  let unclean = false;
  const h = await harness([1, 2], undefined, {
    ...SETTINGS,
    uncleanLeaderElectionEnable: () => unclean,
    uncleanLeaderElectionIntervalMs: 10,
  });
  try {
    await h.controller.createTopic("t", -1, {}, { replicationFactor: -1, assignments: [[1, 2]] });
    await h.settle();
    await h.leaderWrites("t", 0, { isr: [1] });
    await h.store.delete(brokerKey(1));
    await h.settle();
    assert.equal((await h.state("t", 0)).leader, -1);
    unclean = true;
    const s = await until("unclean election of t-0", async () => {
      const s = await h.state("t", 0);
      return s.leader === 2 ? s : null;
    });
    assert.deepEqual(s.isr, [2]);
  } finally {
    await h.close();
  }
});

Deno.test("controller: a broker's loss moves every one of its partitions (writes in flight together)", async () => {
  const h = await harness([1, 2, 3]);
  try {
    await h.controller.createTopic("many", 300, {}, { replicationFactor: 2 });
    await h.settle();
    const before: PartitionState[] = [];
    for (let p = 0; p < 300; p++) before.push(await h.state("many", p));
    await h.store.delete(brokerKey(1));
    await h.settle();
    for (let p = 0; p < 300; p++) {
      const s = await h.state("many", p);
      const b = before[p];
      assert.notEqual(s.leader, 1, `partition ${p}`);
      assert.ok(!s.isr.includes(1) && s.isr.length === (b.replicas.includes(1) ? 1 : 2));
      assert.equal(s.leaderEpoch, b.leader === 1 ? 1 : 0, `partition ${p}`);
      assert.equal(s.partitionEpoch, b.replicas.includes(1) ? 1 : 0, `partition ${p}`);
    }
  } finally {
    await h.close();
  }
});

Deno.test("controller: a broker restarted between two passes is failed, then a follower", async () => {
  const h = await harness([1, 2, 3]);
  try {
    await h.controller.createTopic("t", -1, {}, { replicationFactor: -1, assignments: [[2, 3]] });
    await h.controller.createTopic("u", -1, {}, { replicationFactor: -1, assignments: [[2]] });
    await h.settle();
    // Killed and registered again before the controller saw it gone: a new incarnation.
    await h.store.put(brokerKey(2), registration(2, null, "b"));
    await h.settle();
    let s = await h.state("t", 0);
    assert.deepEqual([s.leader, s.isr, s.leaderEpoch], [3, [3], 1]);
    // Where it is the only replica: offline for one pass, then led by it at a new epoch.
    s = await h.state("u", 0);
    assert.deepEqual([s.leader, s.isr, s.leaderEpoch], [-1, [2], 1]);
    // The next pass (the watch brings the writes of this one) sees it as a live broker.
    await h.settle();
    s = await h.state("u", 0);
    assert.deepEqual([s.leader, s.isr, s.leaderEpoch], [2, [2], 2]);
    assert.equal((await h.state("t", 0)).leader, 3);
  } finally {
    await h.close();
  }
});

Deno.test("controller: a leader registered again since its partition was written is failed (even across controller failover)", async () => {
  const h = await harness([1, 2, 3]);
  try {
    await h.controller.createTopic("t", -1, {}, {
      replicationFactor: -1,
      assignments: [[3, 1, 2]],
    });
    await h.controller.createTopic("u", -1, {}, { replicationFactor: -1, assignments: [[3]] });
    await h.controller.createTopic("v", -1, {}, { replicationFactor: -1, assignments: [[1, 3]] });
    await h.settle();
    // Broker 3's session ends and it registers again before any controller pass sees it gone
    // (as when it was the controller itself): same incarnation text, a new registration.
    await h.store.delete(brokerKey(3));
    await h.store.put(brokerKey(3), registration(3));
    await h.settle();
    let s = await h.state("t", 0);
    assert.deepEqual([s.leader, s.isr, s.leaderEpoch], [1, [1, 2], 1]);
    s = await h.state("v", 0);
    assert.deepEqual([s.leader, s.isr, s.leaderEpoch], [1, [1], 0]);
    s = await h.state("u", 0);
    assert.deepEqual([s.leader, s.isr, s.leaderEpoch], [-1, [3], 1]);
    // The next pass: the partition waiting for its only in-sync replica gets it back.
    await h.settle();
    s = await h.state("u", 0);
    assert.deepEqual([s.leader, s.isr, s.leaderEpoch], [3, [3], 2]);
    assert.equal((await h.state("t", 0)).leaderEpoch, 1);
    // Rejoined (the leader's ISR write is newer than its registration): left alone.
    await h.leaderWrites("t", 0, { isr: [1, 2, 3] });
    await h.settle();
    s = await h.state("t", 0);
    assert.deepEqual([s.leader, s.isr, s.leaderEpoch], [1, [1, 2, 3], 1]);
  } finally {
    await h.close();
  }
});
