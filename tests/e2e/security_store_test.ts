/**
 * Runs the security store conformance suite over the three backends: a broker's data
 * directory files, the in-memory metadata store and a real etcd.
 */
import { MemoryMetadataBackend, MemoryMetadataStore } from "../../src/cluster/memory_store.ts";
import { EtcdMetadataStore } from "../../src/cluster/etcd_store.ts";
import { type MetadataStore, valueText } from "../../src/cluster/metadata_store.ts";
import { ClusterSecurityState } from "../../src/security/cluster_security.ts";
import { FileAclStore } from "../../src/security/acl_store.ts";
import { FileScramCredentialStore } from "../../src/security/scram_credential_store.ts";
import { FileClientQuotaStore } from "../../src/quota/quota_store.ts";
import {
  runSecurityStoreConformance,
  type SecurityStoreFixture,
} from "../support/security_store_conformance.ts";
import { startEtcd } from "../support/etcd.ts";

runSecurityStoreConformance("data-directory files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tributary-secstore-" });
  const fixture: SecurityStoreFixture = {
    view: () =>
      Promise.resolve({
        scram: FileScramCredentialStore.inDataDir(dir),
        acls: new FileAclStore(dir),
        quotas: new FileClientQuotaStore(dir),
      }),
    separateWriters: false,
    async storedText() {
      let text = "";
      for await (const e of Deno.readDir(`${dir}/meta`)) {
        text += await Deno.readTextFile(`${dir}/meta/${e.name}`);
      }
      return text;
    },
    close: () => Deno.remove(dir, { recursive: true }),
  };
  return fixture;
});

/** A fixture over metadata store clients made by `open` (one per view). */
function metadataFixture(
  open: () => MetadataStore,
  cleanup: () => Promise<void> = () => Promise.resolve(),
): SecurityStoreFixture {
  const states: ClusterSecurityState[] = [];
  const clients: MetadataStore[] = [];
  return {
    async view() {
      const store = open();
      clients.push(store);
      const s = new ClusterSecurityState(store);
      states.push(s);
      await s.start();
      return { scram: s.scramCredentials, acls: s.acls, quotas: s.clientQuotas };
    },
    separateWriters: true,
    async storedText() {
      const store = open();
      clients.push(store);
      const r = await store.range("");
      return r.kvs.map((kv) => `${kv.key}=${valueText(kv)}`).join("\n");
    },
    async close() {
      for (const s of states) await s.close();
      for (const c of clients) await c.close();
      await cleanup();
    },
  };
}

runSecurityStoreConformance("memory metadata store", () => {
  const backend = new MemoryMetadataBackend();
  return Promise.resolve(
    metadataFixture(() => new MemoryMetadataStore(backend, { prefix: "/cluster-a/" })),
  );
});

runSecurityStoreConformance("etcd", async () => {
  const etcd = await startEtcd();
  const prefix = `/tributary-secstore/${crypto.randomUUID()}/`;
  return metadataFixture(
    () => new EtcdMetadataStore({ endpoints: [etcd.endpoint], prefix, requestTimeoutMs: 5000 }),
    () => etcd.cleanup(),
  );
});
