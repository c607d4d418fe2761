/**
 * PrefixMirror (src/cluster/prefix_mirror.ts) over the in-memory metadata store: a change
 * computed from a stale copy loses its compare-and-swap and is recomputed from the current
 * state; a malformed value is skipped; a watch that cannot resume (history compacted) reloads
 * the prefix and tells its listeners.
 */
import assert from "node:assert/strict";
import {
  ManualClock,
  MemoryMetadataBackend,
  MemoryMetadataStore,
} from "../../src/cluster/memory_store.ts";
import {
  type KeyValue,
  type MetadataStore,
  valueText,
  type WatchCallbacks,
  type WatchEvent,
} from "../../src/cluster/metadata_store.ts";
import { type MirrorCodec, PrefixMirror } from "../../src/cluster/prefix_mirror.ts";
import { waitFor } from "../support/wait.ts";

const NUMBER: MirrorCodec<number> = {
  encode: (v) => JSON.stringify({ n: v }),
  decode(kv: KeyValue) {
    try {
      const n = (JSON.parse(valueText(kv)) as { n?: unknown }).n;
      return typeof n === "number" ? n : undefined;
    } catch {
      return undefined;
    }
  },
};

/** A client whose watch events wait while `held` (a watch stream that lags). */
function laggingClient(store: MetadataStore): { store: MetadataStore; hold(on: boolean): void } {
  let held = false;
  const queued: (() => void)[] = [];
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === "watch") {
        return (prefix: string, from: number, cb: WatchCallbacks) =>
          target.watch(prefix, from, {
            ...cb,
            onEvents: (ev: WatchEvent[]) =>
              held ? queued.push(() => cb.onEvents(ev)) : cb.onEvents(ev),
          });
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return {
    store: proxy,
    hold(on) {
      held = on;
      if (!on) { for (const f of queued.splice(0)) f(); }
    },
  };
}

Deno.test("PrefixMirror: a change from a stale copy is recomputed after its CAS fails", async () => {
  const backend = new MemoryMetadataBackend();
  const lagging = laggingClient(new MemoryMetadataStore(backend, { prefix: "/c/" }));
  const other = new MemoryMetadataStore(backend, { prefix: "/c/" });
  const mirror = new PrefixMirror(lagging.store, "counters/", NUMBER);
  await mirror.start();
  try {
    lagging.hold(true);
    await other.put("counters/x", NUMBER.encode(5));
    assert.equal(mirror.get("x"), undefined, "the copy has not seen it");
    const seen: (number | undefined)[] = [];
    const result = await mirror.update((current) => {
      seen.push(current.get("x"));
      return { set: new Map([["x", (current.get("x") ?? 0) + 1]]), result: "done" };
    });
    assert.equal(result, "done");
    // First from the stale copy (no x), then, the CAS having failed, from the store's 5.
    assert.deepEqual(seen, [undefined, 5]);
    assert.equal(mirror.get("x"), 6);
    assert.equal(NUMBER.decode((await other.get("counters/x"))!), 6);
    // Deletion, and a change of nothing writes nothing.
    const before = (await other.get("counters/x"))!.modRevision;
    await mirror.update(() => ({ set: new Map(), result: null }));
    assert.equal((await other.get("counters/x"))!.modRevision, before);
    await mirror.update(() => ({ set: new Map([["x", null]]), result: null }));
    assert.equal(await other.get("counters/x"), undefined);
    assert.equal(mirror.get("x"), undefined);
    lagging.hold(false);
    assert.equal(mirror.get("x"), undefined, "late events of older revisions are ignored");
  } finally {
    await mirror.close();
    await lagging.store.close();
    await other.close();
  }
});

Deno.test("PrefixMirror: malformed values are skipped; a compacted watch reloads", async () => {
  const backend = new MemoryMetadataBackend({ clock: new ManualClock(0) });
  const client = new MemoryMetadataStore(backend, { prefix: "/c/" });
  const other = new MemoryMetadataStore(backend, { prefix: "/c/" });
  const mirror = new PrefixMirror(client, "counters/", NUMBER);
  let changes = 0;
  mirror.onChange(() => changes++);
  await mirror.start();
  try {
    await other.put("counters/bad", "not json");
    await other.put("counters/a", NUMBER.encode(1));
    await waitFor("a to arrive", () => mirror.get("a") === 1);
    assert.equal(mirror.get("bad"), undefined);
    assert.deepEqual([...mirror.values().keys()], ["a"]);
    assert.ok(changes >= 1);
    // The client is cut off while b is written and the history compacted past it.
    client.setPartitioned(true);
    await other.put("counters/b", NUMBER.encode(2));
    const { revision } = await other.put("unrelated", "x");
    await other.compact(revision);
    const before = changes;
    client.setPartitioned(false);
    await waitFor("b after the reload", () => mirror.get("b") === 2);
    assert.ok(changes > before, "listeners are told of the reload");
    // And it follows on from there.
    await other.put("counters/c", NUMBER.encode(3));
    await waitFor("c after the new watch", () => mirror.get("c") === 3);
  } finally {
    await mirror.close();
    await client.close();
    await other.close();
  }
});
