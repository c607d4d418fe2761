/**
 * What every TxnLogStore must do, as one suite run against the transaction coordinator's
 * in-memory fake and against LogTxnStore over real partition logs, so the fake cannot drift
 * from `__transaction_state` unnoticed.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { TxnLogStore } from "../../src/txn/transaction_state_manager.ts";

export interface TxnLogStoreHarness {
  store: TxnLogStore;
  /** The partition count the store was configured with. */
  partitions: number;
  /** The same storage through a fresh instance, as after a restart. */
  reopen(): Promise<TxnLogStore>;
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

async function read(store: TxnLogStore): Promise<[number, string, string | null][]> {
  const out: [number, string, string | null][] = [];
  for await (const r of store.readAll()) {
    out.push([r.partition, dec.decode(r.key), r.value === null ? null : dec.decode(r.value)]);
  }
  return out;
}

export function runTxnLogStoreConformance(
  name: string,
  make: () => Promise<TxnLogStoreHarness>,
): void {
  const test = (what: string, fn: (h: TxnLogStoreHarness) => Promise<void>) =>
    Deno.test(`TxnLogStore (${name}): ${what}`, async () => {
      const h = await make();
      try {
        await fn(h);
      } finally {
        await h.cleanup();
      }
    });

  test("before any write: the configured partition count, nothing to read", async (h) => {
    assert.equal(h.store.partitionCount(), h.partitions);
    assert.deepEqual(await read(h.store), []);
  });

  test("records read back partition by partition, in offset order", async (h) => {
    const put = (p: number, k: string, v: string | null) =>
      h.store.append(p, enc.encode(k), v === null ? null : enc.encode(v));
    await put(2, "b", "1");
    await put(0, "a", "1");
    await put(2, "b", "2");
    await put(0, "a", null);
    await put(1, "c", "1");
    assert.deepEqual(await read(h.store), [
      [0, "a", "1"],
      [0, "a", null],
      [1, "c", "1"],
      [2, "b", "1"],
      [2, "b", "2"],
    ]);
    assert.equal(h.store.partitionCount(), h.partitions);
  });

  test("a partition beyond the count is refused", async (h) => {
    await assert.rejects(
      h.store.append(h.partitions, enc.encode("x"), enc.encode("y")),
      (e) => e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.deepEqual(await read(h.store), []);
  });

  test("after a restart the store reads what was appended", async (h) => {
    await h.store.append(1, enc.encode("t1"), enc.encode("ongoing"));
    await h.store.append(1, enc.encode("t1"), null);
    await h.store.append(0, enc.encode("t0"), enc.encode("empty"));
    const before = await read(h.store);
    assert.equal(before.length, 3);
    const again = await h.reopen();
    assert.deepEqual(await read(again), before);
    assert.equal(again.partitionCount(), h.partitions);
  });
}
