/**
 * Producer-id blocks over any metadata store: the checks the memory and etcd stores both
 * pass (tests/unit/producer_id_blocks_test.ts, tests/e2e/producer_id_blocks_etcd_test.ts).
 */
import assert from "node:assert/strict";
import type { MetadataStore } from "../../src/cluster/metadata_store.ts";
import { valueText } from "../../src/cluster/metadata_store.ts";
import {
  decodeBlock,
  PRODUCER_ID_BLOCK_KEY,
  ProducerIdBlockManager,
} from "../../src/cluster/producer_id_blocks.ts";

export interface BlockStoreFixture {
  /** Two clients of one store (as two brokers), under a fresh prefix. */
  open(): Promise<[MetadataStore, MetadataStore]>;
  close(): Promise<void>;
}

export function runProducerIdBlockSuite(name: string, fixture: () => Promise<BlockStoreFixture>) {
  Deno.test(`producer id blocks (${name}): one broker counts up from 0 across blocks`, async () => {
    const f = await fixture();
    try {
      const [store] = await f.open();
      const m = new ProducerIdBlockManager(store, 1, { blockSize: 10 });
      const ids: number[] = [];
      for (let i = 0; i < 25; i++) ids.push(await m.next());
      assert.deepEqual(ids, Array.from({ length: 25 }, (_, i) => i));
      // The stored block is the last taken; with prefetching at 90% the fourth (30-39) may
      // have been taken already.
      const last = decodeBlock(valueText((await store.get(PRODUCER_ID_BLOCK_KEY))!));
      assert.equal(last.assignedBrokerId, 1);
      assert.equal(last.size, 10);
      assert.ok(last.firstProducerId === 20 || last.firstProducerId === 30);
      m.close();
    } finally {
      await f.close();
    }
  });

  Deno.test(`producer id blocks (${name}): a restarted broker continues after the stored block`, async () => {
    const f = await fixture();
    try {
      const [store] = await f.open();
      const a = new ProducerIdBlockManager(store, 1, { blockSize: 1000 });
      assert.equal(await a.next(), 0);
      a.close();
      const b = new ProducerIdBlockManager(store, 1, { blockSize: 1000 });
      assert.equal(await b.next(), 1000);
      b.close();
    } finally {
      await f.close();
    }
  });

  Deno.test(`producer id blocks (${name}): two brokers allocating concurrently never share an id`, async () => {
    const f = await fixture();
    try {
      const [s1, s2] = await f.open();
      const m1 = new ProducerIdBlockManager(s1, 1, { blockSize: 50 });
      const m2 = new ProducerIdBlockManager(s2, 2, { blockSize: 50 });
      const take = (m: ProducerIdBlockManager, n: number) =>
        Promise.all(Array.from({ length: n }, () => m.next()));
      // Many concurrent callers on each broker, both brokers at once: every block is taken by
      // a CAS race between the two.
      const [a, b] = await Promise.all([take(m1, 400), take(m2, 400)]);
      const all = [...a, ...b];
      assert.equal(new Set(all).size, 800, "an id was handed out twice");
      assert.equal(new Set(a).size, 400);
      assert.equal(new Set(b).size, 400);
      // Each broker's ids come from whole blocks of its own.
      const blocksOf = (ids: number[]) => new Set(ids.map((id) => Math.floor(id / 50)));
      const shared = [...blocksOf(a)].filter((blk) => blocksOf(b).has(blk));
      assert.deepEqual(shared, []);
      m1.close();
      m2.close();
    } finally {
      await f.close();
    }
  });
}
