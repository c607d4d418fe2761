/** Producer-id blocks over a real etcd (the same checks as the in-memory run). */
import { EtcdMetadataStore } from "../../src/cluster/etcd_store.ts";
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
