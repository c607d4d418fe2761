/**
 * One conformance suite for every MetadataStore implementation: the in-memory twin and the
 * etcd store must agree on revisions, compare-and-swap, leases, watches and unavailability,
 * or an in-process cluster test would prove nothing about a cluster on etcd.
 */
import assert from "node:assert/strict";
import {
  LeaseLost,
  type MetadataStore,
  MetadataStoreUnavailable,
  valueText,
  WatchCompacted,
  type WatchEvent,
  type WatchHandle,
} from "../../src/cluster/metadata_store.ts";

/** A client the test can disconnect on its own, while the store and other clients stay up. */
export interface FlakyClient {
  store: MetadataStore;
  /** Drops this client's open connections (streams end; new ones may be made at once). */
  cut(): void;
  /** Drops them and refuses new ones until heal(). */
  partition(): void;
  heal(): void;
}

export interface StoreFixture {
  /** A new client of the shared store, its keys under `prefix` within the fixture's space. */
  open(opts?: { prefix?: string }): Promise<MetadataStore>;
  openFlaky(): Promise<FlakyClient>;
  /** Lets store time pass: a manual clock is advanced, a real store's time just passes. */
  passTime(ms: number): Promise<void>;
  /** The shortest lease TTL the store grants (etcd's is one second). */
  minLeaseTtlMs: number;
  /** Takes the store down for every client; startServer brings it back with its data. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  close(): Promise<void>;
}

/** Guards awaits against a hang; it is not a timing assertion. */
const HANG_GUARD_MS = 60_000;

function until<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what}`)), HANG_GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

interface Recorder {
  events: WatchEvent[];
  handle: WatchHandle;
  /** Resolves once `pred` holds over the events received so far. */
  wait(what: string, pred: (events: WatchEvent[]) => boolean): Promise<void>;
  /** Resolves with the watch's fatal error. */
  error(): Promise<Error>;
}

function record(store: MetadataStore, prefix: string, from: number): Recorder {
  const events: WatchEvent[] = [];
  const waiters: (() => void)[] = [];
  let failed: (e: Error) => void;
  const error = new Promise<Error>((resolve) => failed = resolve);
  const handle = store.watch(prefix, from, {
    onEvents(batch) {
      events.push(...batch);
      for (const w of waiters.splice(0)) w();
    },
    onError: (e) => failed(e),
  });
  const wait = (what: string, pred: (events: WatchEvent[]) => boolean) =>
    until(
      what,
      new Promise<void>((resolve) => {
        const check = () => pred(events) ? resolve() : waiters.push(check);
        check();
      }),
    );
  return { events, handle, wait, error: () => until("a watch error", error) };
}

/** The events as "type key=value@modRevision" lines, for exact comparisons. */
function lines(events: WatchEvent[]): string[] {
  return events.map((e) =>
    `${e.type} ${e.kv.key}${e.type === "put" ? "=" + valueText(e.kv) : ""}@${e.kv.modRevision}`
  );
}

export function runMetadataStoreConformance(
  name: string,
  makeFixture: () => Promise<StoreFixture>,
): void {
  Deno.test(`${name}: metadata store conformance`, async (t) => {
    const fx = await makeFixture();
    try {
      const a = await fx.open();
      const b = await fx.open();
      const ttl = fx.minLeaseTtlMs;

      await t.step("put, get, delete and range keep etcd's revision bookkeeping", async () => {
        const r1 = await a.put("kv/x", "one");
        const x1 = await a.get("kv/x");
        assert.ok(x1);
        assert.equal(valueText(x1), "one");
        assert.deepEqual(
          [x1.createRevision, x1.modRevision, x1.version, x1.lease],
          [r1.revision, r1.revision, 1, "0"],
        );
        const r2 = await a.put("kv/x", "two");
        assert.ok(r2.revision > r1.revision);
        const x2 = (await b.get("kv/x"))!;
        assert.deepEqual(
          [valueText(x2), x2.createRevision, x2.modRevision, x2.version],
          ["two", r1.revision, r2.revision, 2],
        );
        const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
        await a.put("kv/bin", binary);
        assert.deepEqual((await b.get("kv/bin"))!.value, binary);
        await a.put("kv/a", "A");
        await a.put("kvx", "outside the prefix");
        const range = await b.range("kv/");
        assert.deepEqual(range.kvs.map((kv) => kv.key), ["kv/a", "kv/bin", "kv/x"]);
        assert.ok(range.revision >= r2.revision);
        assert.equal(await a.get("kv/missing"), undefined);
        const d = await a.delete("kv/x");
        assert.equal(d.deleted, 1);
        assert.ok(d.revision > r2.revision);
        assert.equal((await a.delete("kv/x")).deleted, 0);
        assert.equal(await b.get("kv/x"), undefined);
        const again = await a.put("kv/x", "three");
        const x3 = (await a.get("kv/x"))!;
        assert.deepEqual([x3.createRevision, x3.version], [again.revision, 1]);
      });

      await t.step("the prefix namespaces a client's keys", async () => {
        const n1 = await fx.open({ prefix: "ns1/" });
        const n2 = await fx.open({ prefix: "ns2/" });
        try {
          await n1.put("k", "in ns1");
          await n2.put("k", "in ns2");
          assert.equal(valueText((await n1.get("k"))!), "in ns1");
          assert.equal(valueText((await n2.get("k"))!), "in ns2");
          assert.deepEqual((await n1.range("")).kvs.map((kv) => kv.key), ["k"]);
          assert.equal(valueText((await a.get("ns2/k"))!), "in ns2");
        } finally {
          await n1.close();
          await n2.close();
        }
      });

      await t.step("casPut writes only over the expected modRevision", async () => {
        const first = await a.put("cas/p", "v1");
        const ok = await a.casPut("cas/p", "v2", first.revision);
        assert.equal(ok.succeeded, true);
        const stale = await b.casPut("cas/p", "v3", first.revision);
        assert.equal(stale.succeeded, false);
        assert.equal(valueText(stale.current!), "v2");
        assert.equal(stale.current!.modRevision, ok.revision);
        assert.equal(valueText((await a.get("cas/p"))!), "v2");
        assert.equal((await a.casPut("cas/new", "n", 0)).succeeded, true);
        assert.equal((await a.casPut("cas/new", "n2", 0)).succeeded, false);
      });

      await t.step("createIfAbsent: of two racing clients exactly one wins", async () => {
        for (let i = 0; i < 5; i++) {
          const key = `race/${i}`;
          const [ra, rb] = await Promise.all([
            a.createIfAbsent(key, "from a"),
            b.createIfAbsent(key, "from b"),
          ]);
          assert.equal([ra, rb].filter((r) => r.succeeded).length, 1, `race ${i}`);
          const winner = ra.succeeded ? "from a" : "from b";
          const loser = ra.succeeded ? rb : ra;
          assert.equal(valueText(loser.current!), winner);
          assert.equal(valueText((await a.get(key))!), winner);
        }
      });

      await t.step("txn compares value, version, modRevision and createRevision", async () => {
        const p = await a.put("txn/k", "v1");
        const byValue = await a.txn({
          compare: [{ key: "txn/k", target: "value", result: "equal", value: "v1" }],
          success: [{ put: { key: "txn/k", value: "v2" } }],
          failure: [{ get: { key: "txn/k" } }],
        });
        assert.equal(byValue.succeeded, true);
        const again = await b.txn({
          compare: [{ key: "txn/k", target: "value", result: "equal", value: "v1" }],
          success: [{ put: { key: "txn/k", value: "never" } }],
          failure: [{ get: { key: "txn/k" } }],
        });
        assert.equal(again.succeeded, false);
        assert.equal(valueText(again.responses[0].kvs![0]), "v2");
        assert.equal(again.revision, byValue.revision);

        const holds = async (c: Parameters<MetadataStore["txn"]>[0]["compare"][number]) =>
          (await a.txn({ compare: [c], success: [] })).succeeded;
        assert.equal(
          await holds({ key: "txn/k", target: "version", result: "equal", version: 2 }),
          true,
        );
        assert.equal(
          await holds({ key: "txn/k", target: "version", result: "greater", version: 2 }),
          false,
        );
        assert.equal(
          await holds({
            key: "txn/k",
            target: "modRevision",
            result: "equal",
            modRevision: byValue.revision,
          }),
          true,
        );
        assert.equal(
          await holds({
            key: "txn/k",
            target: "modRevision",
            result: "less",
            modRevision: byValue.revision,
          }),
          false,
        );
        assert.equal(
          await holds({
            key: "txn/k",
            target: "createRevision",
            result: "equal",
            createRevision: p.revision,
          }),
          true,
        );
        assert.equal(
          await holds({ key: "txn/k", target: "value", result: "notEqual", value: "v1" }),
          true,
        );
        assert.equal(
          await holds({ key: "txn/k", target: "value", result: "greater", value: "v1" }),
          true,
        );
        // A missing key has version 0, and no value to compare.
        assert.equal(
          await holds({ key: "txn/none", target: "version", result: "equal", version: 0 }),
          true,
        );
        assert.equal(
          await holds({
            key: "txn/none",
            target: "createRevision",
            result: "equal",
            createRevision: 0,
          }),
          true,
        );
        assert.equal(
          await holds({ key: "txn/none", target: "value", result: "notEqual", value: "x" }),
          false,
        );

        // Every write of one transaction lands at one revision.
        const multi = await a.txn({
          compare: [{ key: "txn/k", target: "version", result: "equal", version: 2 }],
          success: [
            { put: { key: "txn/m1", value: "1" } },
            { put: { key: "txn/m2", value: "2" } },
            { delete: { key: "txn/k" } },
          ],
        });
        assert.equal(multi.succeeded, true);
        assert.equal(multi.responses[2].deleted, 1);
        assert.equal((await a.get("txn/m1"))!.modRevision, multi.revision);
        assert.equal((await a.get("txn/m2"))!.modRevision, multi.revision);
        const wipe = await a.txn({
          compare: [],
          success: [{ delete: { key: "txn/m", prefix: true } }],
        });
        assert.equal(wipe.responses[0].deleted, 2);
        assert.deepEqual((await a.range("txn/")).kvs, []);
      });

      await t.step("revoking a lease deletes its keys, with delete events", async () => {
        const lease = await a.grantLease(ttl * 10);
        const put = await a.put("lease1/k", "leased", { lease: lease.id });
        assert.equal((await b.get("lease1/k"))!.lease, lease.id);
        const w = record(b, "lease1/", put.revision + 1);
        await b.revokeLease(lease.id);
        await w.wait("the delete event", (es) => es.length === 1);
        assert.equal(w.events[0].type, "delete");
        assert.equal(w.events[0].kv.key, "lease1/k");
        assert.equal(await a.get("lease1/k"), undefined);
        await a.revokeLease(lease.id); // revoking twice is fine
        await assert.rejects(a.put("lease1/k2", "x", { lease: lease.id }), LeaseLost);
        await w.handle.cancel();
      });

      await t.step("a leased key expires with its lease, with a delete event", async () => {
        const lease = await a.grantLease(ttl);
        assert.ok(lease.ttlMs >= ttl);
        const put = await a.put("lease2/k", "short-lived", { lease: lease.id });
        const w = record(b, "lease2/", put.revision + 1);
        await fx.passTime(lease.ttlMs);
        await w.wait("the expiry's delete event", (es) => es.length === 1);
        assert.deepEqual(w.events.map((e) => [e.type, e.kv.key]), [["delete", "lease2/k"]]);
        assert.equal(await a.get("lease2/k"), undefined);
        await w.handle.cancel();
      });

      await t.step("keepAlive keeps a lease past its TTL; stopping lets it expire", async () => {
        const lease = await a.grantLease(ttl);
        const put = await a.put("lease3/k", "kept", { lease: lease.id });
        let lost: LeaseLost | undefined;
        const ka = a.keepAlive(lease, (e) => lost = e);
        for (let i = 0; i < 6; i++) await fx.passTime(lease.ttlMs / 2);
        assert.equal(valueText((await b.get("lease3/k"))!), "kept");
        assert.equal(lost, undefined);
        const w = record(b, "lease3/", put.revision + 1);
        ka.stop();
        await fx.passTime(lease.ttlMs);
        await w.wait("the expiry after keepAlive stopped", (es) => es.length === 1);
        assert.equal(w.events[0].type, "delete");
        assert.equal(lost, undefined);
        await w.handle.cancel();
      });

      await t.step("keepAlive reports a lease revoked elsewhere as lost", async () => {
        const lease = await a.grantLease(ttl * 3);
        const lost = new Promise<LeaseLost>((resolve) => a.keepAlive(lease, resolve));
        await b.revokeLease(lease.id);
        await fx.passTime(lease.ttlMs / 2);
        const err = await until("LeaseLost", lost);
        assert.ok(err instanceof LeaseLost);
        assert.equal(err.leaseId, lease.id);
      });

      await t.step("keepAlive reports loss when it cannot renew within the TTL", async () => {
        const flaky = await fx.openFlaky();
        try {
          const lease = await flaky.store.grantLease(ttl);
          const put = await flaky.store.put("lease4/k", "partitioned", { lease: lease.id });
          const lost = new Promise<LeaseLost>((resolve) => flaky.store.keepAlive(lease, resolve));
          const w = record(b, "lease4/", put.revision + 1);
          flaky.partition();
          await fx.passTime(lease.ttlMs * 2);
          const err = await until("LeaseLost", lost);
          assert.equal(err.leaseId, lease.id);
          // Nobody renewed it, so the store expired it too.
          await w.wait("the expiry's delete event", (es) => es.length === 1);
          assert.equal(w.events[0].type, "delete");
          await w.handle.cancel();
        } finally {
          flaky.heal();
          await flaky.store.close();
        }
      });

      await t.step(
        "watch delivers a prefix's events in revision order from a revision",
        async () => {
          const r1 = await a.put("w/a", "1");
          await a.put("other/x", "not watched");
          const r2 = await a.put("w/b", "2");
          await a.put("wx", "not under w/");
          const r3 = await a.delete("w/a");
          const r4 = await b.put("w/c", "3");
          const past = record(b, "w/", r1.revision);
          await past.wait("four events", (es) => es.length >= 4);
          assert.deepEqual(lines(past.events), [
            `put w/a=1@${r1.revision}`,
            `put w/b=2@${r2.revision}`,
            `delete w/a@${r3.revision}`,
            `put w/c=3@${r4.revision}`,
          ]);
          const later = record(a, "w/", r3.revision);
          await later.wait("two events", (es) => es.length >= 2);
          assert.deepEqual(lines(later.events), [
            `delete w/a@${r3.revision}`,
            `put w/c=3@${r4.revision}`,
          ]);
          // A watch from now (revision 0) sees only writes after it is under way: write
          // markers until one arrives, then check nothing older came through.
          const fromNow = record(a, "w/", 0);
          for (let n = 0; fromNow.events.length === 0; n++) {
            assert.ok(n < 1000, "the watch from now never delivered a marker");
            await b.put("w/d", String(n));
            await new Promise((r) => setTimeout(r, 20));
          }
          const revs = fromNow.events.map((e) => e.kv.modRevision);
          assert.ok(revs.every((rev, i) => rev > r4.revision && (i === 0 || rev > revs[i - 1])));
          assert.ok(fromNow.events.every((e) => e.type === "put" && e.kv.key === "w/d"));
          assert.equal(fromNow.handle.lastRevision, revs[revs.length - 1]);
          for (const w of [past, later, fromNow]) await w.handle.cancel();
        },
      );

      await t.step("a watch resumes after its stream is cut, with no gap or repeat", async () => {
        const flaky = await fx.openFlaky();
        try {
          const start = await a.put("cut/e1", "1");
          const w = record(flaky.store, "cut/", start.revision);
          await w.wait("e1", (es) => es.length === 1);
          flaky.partition();
          const r2 = await a.put("cut/e2", "2");
          const r3 = await a.delete("cut/e1");
          flaky.heal();
          await w.wait("e2 and the delete", (es) => es.length >= 3);
          flaky.cut();
          const r4 = await a.put("cut/e3", "3");
          await w.wait("e3", (es) => es.length >= 4);
          const r5 = await a.put("cut/e4", "4");
          await w.wait("e4", (es) => es.length >= 5);
          assert.deepEqual(lines(w.events), [
            `put cut/e1=1@${start.revision}`,
            `put cut/e2=2@${r2.revision}`,
            `delete cut/e1@${r3.revision}`,
            `put cut/e3=3@${r4.revision}`,
            `put cut/e4=4@${r5.revision}`,
          ]);
          assert.equal(w.handle.lastRevision, r5.revision);
          await w.handle.cancel();
        } finally {
          flaky.heal();
          await flaky.store.close();
        }
      });

      await t.step("a watch from a compacted revision ends with WatchCompacted", async () => {
        const r1 = await a.put("compact/a", "1");
        await a.put("compact/a", "2");
        const r3 = await a.put("compact/a", "3");
        await a.compact(r3.revision);
        const w = record(b, "compact/", r1.revision);
        const err = await w.error();
        assert.ok(err instanceof WatchCompacted, String(err));
        assert.equal(err.compactRevision, r3.revision);
        assert.deepEqual(w.events, []);
        const fromCompacted = record(b, "compact/", r3.revision);
        await fromCompacted.wait("the compaction revision's event", (es) => es.length === 1);
        assert.deepEqual(lines(fromCompacted.events), [`put compact/a=3@${r3.revision}`]);
        await fromCompacted.handle.cancel();
      });

      await t.step(
        "store down: calls fail with MetadataStoreUnavailable; back: all resumes",
        async () => {
          const before = await a.put("down/before", "1");
          const w = record(b, "down/", before.revision);
          await w.wait("the first event", (es) => es.length === 1);
          await fx.stopServer();
          await assert.rejects(a.get("down/before"), MetadataStoreUnavailable);
          await assert.rejects(a.put("down/during", "x"), MetadataStoreUnavailable);
          await assert.rejects(a.createIfAbsent("down/during", "x"), MetadataStoreUnavailable);
          await assert.rejects(a.grantLease(ttl), MetadataStoreUnavailable);
          await fx.startServer();
          const after = await a.put("down/after", "2");
          await w.wait("the write after the restart", (es) => es.length === 2);
          assert.deepEqual(lines(w.events), [
            `put down/before=1@${before.revision}`,
            `put down/after=2@${after.revision}`,
          ]);
          assert.equal(valueText((await b.get("down/before"))!), "1");
          await w.handle.cancel();
        },
      );

      await a.close();
      await b.close();
    } finally {
      await fx.close();
    }
  });
}
