/**
 * The controller over the in-memory metadata store: election with a controller epoch,
 * placement of a new topic, partition state moved by compare-and-swap as brokers go and come
 * back, and a deposed controller's writes refused.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { ClusterMetadataCache } from "../../src/cluster/cluster_metadata.ts";
import {
  brokerKey,
  type BrokerRegistration,
  CONTROLLER_KEY,
  partitionKey,
  type PartitionState,
} from "../../src/cluster/cluster_records.ts";
import { ClusterController } from "../../src/cluster/controller.ts";
import { MemoryMetadataBackend, MemoryMetadataStore } from "../../src/cluster/memory_store.ts";
import { type MetadataStore, valueText } from "../../src/cluster/metadata_store.ts";

function registration(nodeId: number): string {
  const r: BrokerRegistration = {
    nodeId,
    host: "127.0.0.1",
    port: 9000 + nodeId,
    rack: null,
    listeners: [],
    incarnationId: `i${nodeId}`,
  };
  return JSON.stringify(r);
}

async function refresh(store: MetadataStore, cache: ClusterMetadataCache): Promise<void> {
  const r = await store.range("");
  cache.load(r.kvs, r.revision);
}

async function state(store: MetadataStore, topic: string, p: number): Promise<PartitionState> {
  return JSON.parse(valueText((await store.get(partitionKey(topic, p)))!));
}

Deno.test("controller: elected once, places a topic, moves leadership by CAS", async () => {
  const backend = new MemoryMetadataBackend();
  const store = new MemoryMetadataStore(backend);
  try {
    const lease = await store.grantLease(60_000);
    for (const id of [1, 2, 3]) await store.put(brokerKey(id), registration(id));
    const cache = new ClusterMetadataCache(1);
    const c1 = new ClusterController(store, cache, 1);
    await c1.campaign(lease.id);
    await refresh(store, cache);
    assert.equal(c1.isActive, true);
    assert.equal(c1.controllerEpoch, 1);
    assert.equal(cache.controllerId, 1);

    // A second candidate finds the office taken.
    const cache2 = new ClusterMetadataCache(2);
    const c2 = new ClusterController(store, cache2, 2);
    await c2.campaign(lease.id);
    await refresh(store, cache2);
    assert.equal(c2.isActive, false);

    await c1.createTopic("t", 6, { "retention.ms": 1000 });
    await refresh(store, cache);
    const leaders = [];
    for (let p = 0; p < 6; p++) {
      const s = await state(store, "t", p);
      assert.deepEqual(s.replicas, [s.leader]);
      assert.deepEqual(s.isr, [s.leader]);
      assert.equal(s.leaderEpoch, 0);
      assert.equal(s.partitionEpoch, 0);
      leaders.push(s.leader);
    }
    assert.deepEqual([...leaders].sort(), [1, 1, 2, 2, 3, 3]);
    await assert.rejects(
      c1.createTopic("t", 1, {}),
      (e) => e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS,
    );

    // Broker 3 goes: its partitions go offline at a new leader epoch.
    await store.delete(brokerKey(3));
    await refresh(store, cache);
    c1.onMetadataChanged();
    await c1.idle();
    const of3 = leaders.flatMap((l, p) => l === 3 ? [p] : []);
    for (const p of of3) {
      const s = await state(store, "t", p);
      assert.equal(s.leader, -1);
      assert.equal(s.leaderEpoch, 1);
      assert.equal(s.partitionEpoch, 1);
      assert.deepEqual(s.isr, [3]);
    }
    // It comes back: it leads them again, one epoch later.
    await store.put(brokerKey(3), registration(3));
    await refresh(store, cache);
    c1.onMetadataChanged();
    await c1.idle();
    for (const p of of3) {
      const s = await state(store, "t", p);
      assert.equal(s.leader, 3);
      assert.equal(s.leaderEpoch, 2);
      assert.equal(s.partitionEpoch, 2);
    }
    // The others never changed.
    for (let p = 0; p < 6; p++) {
      if (!of3.includes(p)) assert.equal((await state(store, "t", p)).leaderEpoch, 0);
    }

    // Controller 1's key goes (its lease lapsed); broker 2 is elected at epoch 2.
    await store.delete(CONTROLLER_KEY);
    await c2.campaign(lease.id);
    await refresh(store, cache2);
    assert.equal(c2.isActive, true);
    assert.equal(c2.controllerEpoch, 2);
    // The deposed controller, its cache still stale, cannot write any more.
    assert.equal(c1.isActive, true);
    await assert.rejects(
      c1.createTopic("u", 1, {}),
      (e) => e instanceof KafkaError && e.code === ErrorCode.NOT_CONTROLLER,
    );
    assert.equal(c1.isActive, false);
    assert.equal(await store.get("topics/u"), undefined);
    await c2.createPartitions("t", 8);
    assert.equal((await state(store, "t", 7)).leaderEpoch, 0);
  } finally {
    await store.close();
  }
});
