/**
 * What every CoordinatorLog must do, as one suite run against the in-memory fake the
 * coordinator unit tests use and against GroupMetadataLog over real partition logs (the way
 * runRemoteStorageConformance holds both remote tiers to one contract). A fake that drifts
 * from the real log fails here instead of letting unit tests pass against wrong behaviour.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { CoordinatorLog, LogRecord } from "../../src/group/group_metadata_log.ts";
import { partitionFor } from "../../src/internal_topic.ts";

export interface CoordinatorLogHarness {
  log: CoordinatorLog;
  /** Partitions of the log, deciding which one `beforeAppend` is told. */
  partitions: number;
  /** Writes a transaction marker of `producerId` into `groupId`'s partition. */
  marker(groupId: string, producerId: number, commit: boolean): Promise<void>;
  /** The same storage through a fresh instance, as after a restart. */
  reopen(): Promise<CoordinatorLog>;
  cleanup(): Promise<void>;
}

type Loaded = [string, string | null, number] | ["marker", number, boolean];

const enc = new TextEncoder();
const dec = new TextDecoder();
const rec = (k: string, v: string | null): LogRecord => ({
  key: enc.encode(k),
  value: v === null ? null : enc.encode(v),
});

async function loaded(log: CoordinatorLog): Promise<Loaded[]> {
  const out: Loaded[] = [];
  await log.load(
    (k, v, pid) => out.push([dec.decode(k), v === null ? null : dec.decode(v), pid]),
    (pid, commit) => out.push(["marker", pid, commit]),
  );
  return out;
}

export function runCoordinatorLogConformance(
  name: string,
  make: () => Promise<CoordinatorLogHarness>,
): void {
  const test = (what: string, fn: (h: CoordinatorLogHarness) => Promise<void>) =>
    Deno.test(`CoordinatorLog (${name}): ${what}`, async () => {
      const h = await make();
      try {
        await fn(h);
      } finally {
        await h.cleanup();
      }
    });

  test("an empty log loads nothing", async (h) => {
    assert.deepEqual(await loaded(h.log), []);
  });

  test("a group's records load in append order, tombstones as null", async (h) => {
    await h.log.append("g", [rec("a", "1"), rec("b", "2")]);
    await h.log.append("g", [rec("a", null)]);
    await h.log.append("g", [rec("c", "3")]);
    assert.deepEqual(await loaded(h.log), [
      ["a", "1", -1],
      ["b", "2", -1],
      ["a", null, -1],
      ["c", "3", -1],
    ]);
  });

  test("each group keeps its own order", async (h) => {
    for (let i = 0; i < 3; i++) {
      await h.log.append("left", [rec(`l${i}`, "x")]);
      await h.log.append("right", [rec(`r${i}`, "y")]);
    }
    const all = await loaded(h.log);
    assert.deepEqual(all.map((x) => x[0]).filter((k) => String(k).startsWith("l")), [
      "l0",
      "l1",
      "l2",
    ]);
    assert.deepEqual(all.map((x) => x[0]).filter((k) => String(k).startsWith("r")), [
      "r0",
      "r1",
      "r2",
    ]);
  });

  test("transactional records load with their producer id, markers in place", async (h) => {
    const transactional = { producerId: 7, producerEpoch: 0 };
    await h.log.append("g", [rec("o1", "a"), rec("o2", "b")], { transactional });
    await h.marker("g", 7, true);
    await h.log.append("g", [rec("o3", "c")]);
    await h.log.append("g", [rec("o4", "d")], { transactional });
    await h.marker("g", 7, false);
    assert.deepEqual(await loaded(h.log), [
      ["o1", "a", 7],
      ["o2", "b", 7],
      ["marker", 7, true],
      ["o3", "c", -1],
      ["o4", "d", 7],
      ["marker", 7, false],
    ]);
  });

  test("beforeAppend is told the group's partition once; a code cancels the append", async (h) => {
    const told: number[] = [];
    await h.log.append("g", [rec("k", "v")], {
      beforeAppend: (p) => {
        told.push(p);
        return ErrorCode.NONE;
      },
    });
    assert.deepEqual(told, [partitionFor("g", h.partitions)]);
    await assert.rejects(
      h.log.append("g", [rec("never", "v")], { beforeAppend: () => ErrorCode.NOT_COORDINATOR }),
      (e) => e instanceof KafkaError && e.code === ErrorCode.NOT_COORDINATOR,
    );
    assert.deepEqual(await loaded(h.log), [["k", "v", -1]]);
  });

  test("an empty append writes nothing and asks nothing", async (h) => {
    let asked = false;
    await h.log.append("g", [], {
      beforeAppend: () => {
        asked = true;
        return ErrorCode.NONE;
      },
    });
    assert.equal(asked, false);
    assert.deepEqual(await loaded(h.log), []);
  });

  test("after a restart the log loads what was appended", async (h) => {
    await h.log.append("g", [rec("a", "1")]);
    await h.log.append("h", [rec("b", null)], {
      transactional: { producerId: 3, producerEpoch: 1 },
    });
    await h.marker("h", 3, true);
    const before = await loaded(h.log);
    assert.equal(before.length, 3);
    assert.deepEqual(await loaded(await h.reopen()), before);
  });
}
