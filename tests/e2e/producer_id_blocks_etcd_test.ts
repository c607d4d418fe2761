/**
 * Producer-id blocks over a real etcd (the same checks as the in-memory run), and two brokers
 * taking their idempotent producers' ids from one store.
 */
import assert from "node:assert/strict";
import { InitProducerIdRequest, InitProducerIdResponse } from "../../protocol/messages/mod.ts";
import { EtcdMetadataStore } from "../../src/cluster/etcd_store.ts";
import { ProducerIdBlockManager } from "../../src/cluster/producer_id_blocks.ts";
import { testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { startEtcd } from "../support/etcd.ts";
import { runProducerIdBlockSuite } from "../support/producer_id_blocks_suite.ts";

runProducerIdBlockSuite("etcd", async () => {
  const etcd = await startEtcd();
  const prefix = `/pid/${crypto.randomUUID()}/`;
  const stores: EtcdMetadataStore[] = [];
  return {
    open() {
      const pair: [EtcdMetadataStore, EtcdMetadataStore] = [
        new EtcdMetadataStore({ endpoints: [etcd.endpoint], prefix }),
        new EtcdMetadataStore({ endpoints: [etcd.endpoint], prefix }),
      ];
      stores.push(...pair);
      return Promise.resolve(pair);
    },
    async close() {
      for (const s of stores) await s.close();
      await etcd.cleanup();
    },
  };
});

Deno.test("two brokers sharing an etcd store hand out distinct producer ids over InitProducerId", async () => {
  const etcd = await startEtcd();
  const prefix = `/pid-brokers/${crypto.randomUUID()}/`;
  const stores = [1, 2].map(() => new EtcdMetadataStore({ endpoints: [etcd.endpoint], prefix }));
  const blocks = stores.map((s, i) => new ProducerIdBlockManager(s, i + 1));
  const brokers = [
    await testBroker({ config: { "node.id": 1 }, producerIds: blocks[0] }),
    await testBroker({ config: { "node.id": 2 }, producerIds: blocks[1] }),
  ];
  try {
    const init = (port: number) =>
      RawClient.once(port, InitProducerIdRequest, InitProducerIdResponse, 4, {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
      }).then((r) => {
        assert.equal(r.errorCode, 0);
        return r.producerId as number;
      });
    const a = [await init(brokers[0].port), await init(brokers[0].port)];
    const b = [await init(brokers[1].port), await init(brokers[1].port)];
    // Broker 1 took the first block, broker 2 the next one.
    assert.deepEqual(a, [0, 1]);
    assert.deepEqual(b, [1000, 1001]);
  } finally {
    for (const br of brokers) await br.stop();
    for (const m of blocks) m.close();
    for (const s of stores) await s.close();
    await etcd.cleanup();
  }
});
