/**
 * Runs the metadata store conformance suite against the in-memory twin (on a manual clock)
 * and against a real etcd started for the test, plus what only one of them has: etcd
 * endpoint failover, the gateway's streaming JSON, the harness's missing-binary error.
 */
import assert from "node:assert/strict";
import {
  runMetadataStoreConformance,
  type StoreFixture,
} from "../support/metadata_store_conformance.ts";
import {
  ManualClock,
  MemoryMetadataBackend,
  MemoryMetadataStore,
} from "../../src/cluster/memory_store.ts";
import { EtcdMetadataStore } from "../../src/cluster/etcd_store.ts";
import { jsonObjects } from "../../src/cluster/etcd_http.ts";
import { type MetadataStore, valueText } from "../../src/cluster/metadata_store.ts";
import { startEtcd } from "../support/etcd.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp_proxy.ts";

runMetadataStoreConformance("memory", () => {
  const clock = new ManualClock(1_000_000);
  const backend = new MemoryMetadataBackend({ clock });
  const clients: MetadataStore[] = [];
  const fixture: StoreFixture = {
    open(opts = {}) {
      const store = new MemoryMetadataStore(backend, { prefix: `/t/${opts.prefix ?? ""}` });
      clients.push(store);
      return Promise.resolve(store);
    },
    openFlaky() {
      const store = new MemoryMetadataStore(backend, { prefix: "/t/" });
      clients.push(store);
      return Promise.resolve({
        store,
        cut: () => store.cutStreams(),
        partition: () => store.setPartitioned(true),
        heal: () => store.setPartitioned(false),
      });
    },
    passTime: (ms) => clock.advance(ms),
    minLeaseTtlMs: 1000,
    stopServer: () => Promise.resolve(backend.setReachable(false)),
    startServer: () => Promise.resolve(backend.setReachable(true)),
    async close() {
      for (const c of clients) await c.close();
    },
  };
  return Promise.resolve(fixture);
});

/** Short enough that "etcd is down" tests finish quickly, long enough for a loaded machine. */
const ETCD_TIMEOUT_MS = 1500;

runMetadataStoreConformance("etcd", async () => {
  const etcd = await startEtcd();
  const base = `/tributary-conformance/${crypto.randomUUID()}/`;
  const clients: MetadataStore[] = [];
  const proxies: TcpProxy[] = [];
  const open = (endpoint: string, prefix: string) => {
    const store = new EtcdMetadataStore({
      endpoints: [endpoint],
      prefix: base + prefix,
      requestTimeoutMs: ETCD_TIMEOUT_MS,
    });
    clients.push(store);
    return store;
  };
  const fixture: StoreFixture = {
    open: (opts = {}) => Promise.resolve(open(etcd.endpoint, opts.prefix ?? "")),
    openFlaky() {
      const proxy = startTcpProxy(etcd.clientPort);
      proxies.push(proxy);
      return Promise.resolve({
        store: open(`http://127.0.0.1:${proxy.port}`, ""),
        cut: () => proxy.cut(),
        partition: () => proxy.block(),
        heal: () => proxy.unblock(),
      });
    },
    passTime: (ms) => new Promise((r) => setTimeout(r, ms)),
    minLeaseTtlMs: 1000,
    // SIGKILL: etcd must keep what it acknowledged without a clean shutdown.
    stopServer: () => etcd.stop("SIGKILL"),
    startServer: () => etcd.start(),
    async close() {
      for (const c of clients) await c.close();
      for (const p of proxies) await p.close();
      await etcd.cleanup();
    },
  };
  return fixture;
});

Deno.test("etcd store fails over to the next endpoint when one refuses", async () => {
  const etcd = await startEtcd();
  // A port nothing listens on: taken, then released.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dead = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  l.close();
  const store = new EtcdMetadataStore({
    endpoints: [dead, etcd.endpoint],
    prefix: "/failover/",
    requestTimeoutMs: ETCD_TIMEOUT_MS,
  });
  try {
    const put = await store.put("k", "v");
    assert.equal(valueText((await store.get("k"))!), "v");
    assert.equal((await store.createIfAbsent("k", "other")).succeeded, false);
    const kv = (await store.get("k"))!;
    assert.equal(kv.modRevision, put.revision);
  } finally {
    await store.close();
    await etcd.cleanup();
  }
});

Deno.test("gateway stream: JSON objects split anywhere across chunks are parsed whole", async () => {
  const text = '{"result":{"a":"}{\\"x"}}\n{"result":{"events":[{"kv":{"key":"Zm9v"}}]}}\n{"b":1}';
  const enc = new TextEncoder();
  for (let size = 1; size <= text.length; size += 7) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < text.length; i += size) chunks.push(enc.encode(text.slice(i, i + size)));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    });
    const out = [];
    for await (const obj of jsonObjects(body)) out.push(obj);
    assert.deepEqual(out, [
      { result: { a: '}{"x' } },
      { result: { events: [{ kv: { key: "Zm9v" } }] } },
      { b: 1 },
    ], `chunk size ${size}`);
  }
});

Deno.test("etcd harness: a missing etcd binary is a clear error, not a skip", async () => {
  // Given as an option, not through ETCD_BIN: the environment is the whole test process's,
  // and other test files start their etcd meanwhile.
  await assert.rejects(
    startEtcd({ bin: "/nonexistent/etcd" }),
    /etcd binary not found.*etcd-server/,
  );
});
