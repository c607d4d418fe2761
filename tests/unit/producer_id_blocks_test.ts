/** Producer-id blocks over the in-memory metadata store (the etcd run is in tests/e2e/). */
import assert from "node:assert/strict";
import { MemoryMetadataBackend, MemoryMetadataStore } from "../../src/cluster/memory_store.ts";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { ProducerIdBlockManager } from "../../src/cluster/producer_id_blocks.ts";
import { runProducerIdBlockSuite } from "../support/producer_id_blocks_suite.ts";

runProducerIdBlockSuite("memory", () => {
  const backend = new MemoryMetadataBackend();
  const prefix = `/pid/${crypto.randomUUID()}/`;
  const stores: MemoryMetadataStore[] = [];
  return Promise.resolve({
    open() {
      const pair: [MemoryMetadataStore, MemoryMetadataStore] = [
        new MemoryMetadataStore(backend, { prefix }),
        new MemoryMetadataStore(backend, { prefix }),
      ];
      stores.push(...pair);
      return Promise.resolve(pair);
    },
    async close() {
      for (const s of stores) await s.close();
    },
  });
});

Deno.test("producer id blocks: a store failure is COORDINATOR_LOAD_IN_PROGRESS, then recovers", async () => {
  let fail = true;
  const backend = new MemoryMetadataBackend();
  const inner = new MemoryMetadataStore(backend, { prefix: "/p/" });
  const store = {
    get: (k: string) => fail ? Promise.reject(new Error("store down")) : inner.get(k),
    casPut: inner.casPut.bind(inner),
  };
  const m = new ProducerIdBlockManager(store, 3, { blockSize: 10 });
  await assert.rejects(
    m.next(),
    (e) => e instanceof KafkaError && e.code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  );
  fail = false;
  assert.equal(await m.next(), 0);
  await inner.close();
});
