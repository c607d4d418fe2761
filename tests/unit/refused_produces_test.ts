import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { logConfig } from "../../storage/log_config.ts";
import { PartitionLog } from "../../storage/partition_log.ts";
import {
  producedBatch,
  REFUSAL_HOLD_MS,
  RefusedProduces,
} from "../../src/replication/refused_produces.ts";

const PID = 4242;
const TOPIC = "orders";

function idem(seq: number, n = 1, epoch = 0): Uint8Array {
  return encodeRecordBatch({
    producerId: PID,
    producerEpoch: epoch,
    baseSequence: seq,
    records: Array.from({ length: n }, (_, i) => ({ value: `s${seq + i}`, timestamp: 1000 + i })),
  });
}

async function withLog(fn: (log: PartitionLog) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "refused-produces-" });
  const log = await PartitionLog.open(`${root}/${TOPIC}-0`, logConfig(), {
    topic: TOPIC,
    partition: 0,
  });
  try {
    await fn(log);
  } finally {
    await log.close();
    await Deno.remove(root, { recursive: true });
  }
}

/** seq 0..last-1 in batches of one, as a new leader holds them from replication. */
async function fill(log: PartitionLog, upTo: number): Promise<void> {
  for (let s = 0; s < upTo; s++) await log.append(idem(s));
}

Deno.test("a batch pipelined behind a refused one fails OUT_OF_ORDER without the fence", async () => {
  // The failure the fence exists for: batch 5 was refused (not leader yet), the broker became
  // leader, batch 6 arrives next on the connection.
  await withLog(async (log) => {
    await fill(log, 5);
    await assert.rejects(
      log.append(idem(6)),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
  });
});

Deno.test("batches behind a refused one are held back until its retry, then continue in order", async () => {
  await withLog(async (log) => {
    await fill(log, 5);
    const fence = new RefusedProduces();
    fence.refuse(TOPIC, 0, idem(5, 2)); // seq 5..6 refused
    fence.refuse(TOPIC, 0, idem(7, 3)); // its successor refused too: the gap still starts at 5
    // Leader now: 10..11 and 7..9 were sent before the producer saw the refusals.
    assert.equal(fence.holdsBackAppend(log, idem(10, 2)), true);
    assert.equal(fence.holdsBackAppend(log, idem(7, 3)), true);
    // The producer resends from the refused batch: it clears the entry and is appended.
    assert.equal(fence.holdsBackAppend(log, idem(5, 2)), false);
    assert.equal(fence.size, 0);
    const first = await log.append(idem(5, 2));
    const second = await log.append(idem(7, 3));
    assert.deepEqual([first.baseOffset, first.lastOffset], [5, 6]);
    assert.deepEqual([second.baseOffset, second.lastOffset], [7, 9]);
    assert.equal(log.producerState.get(PID)!.batches.at(-1)!.lastSeq, 9);
  });
});

Deno.test("a refusal the log has since caught up with holds nothing back", async () => {
  await withLog(async (log) => {
    await fill(log, 5);
    const fence = new RefusedProduces();
    fence.refuse(TOPIC, 0, idem(5)); // refused here; written through another leader
    await log.append(idem(5)); // (replicated here)
    await log.append(idem(6));
    assert.equal(fence.holdsBackAppend(log, idem(7)), false);
    assert.equal(fence.size, 0);
    assert.equal((await log.append(idem(7))).baseOffset, 7);
  });
});

Deno.test("a new producer epoch, another partition or a plain producer is never held back", async () => {
  await withLog(async (log) => {
    await fill(log, 3);
    const fence = new RefusedProduces();
    fence.refuse(TOPIC, 1, idem(3));
    assert.equal(fence.holdsBackAppend(log, idem(4)), false, "other partition");
    fence.refuse(TOPIC, 0, idem(3));
    const plain = encodeRecordBatch({ records: [{ value: "x", timestamp: 1 }] });
    assert.equal(producedBatch(plain), null);
    assert.equal(fence.holdsBackAppend(log, plain), false, "no producer id");
    assert.equal(fence.holdsBackAppend(log, idem(0, 1, 1)), false, "epoch bumped");
    assert.equal(fence.holdsBackAppend(log, idem(4)), false, "entry cleared by the new epoch");
  });
});

Deno.test("a refusal holds successors back for a bounded time only", async () => {
  await withLog(async (log) => {
    await fill(log, 3);
    const fence = new RefusedProduces();
    fence.refuse(TOPIC, 0, idem(3), 1_000);
    assert.equal(fence.holdsBackAppend(log, idem(4), 1_000 + REFUSAL_HOLD_MS - 1), true);
    // The refused batch was acknowledged elsewhere and lost: the producer never resends it.
    assert.equal(fence.holdsBackAppend(log, idem(4), 1_000 + REFUSAL_HOLD_MS), false);
    assert.equal(fence.size, 0);
  });
});
