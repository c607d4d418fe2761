import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { forEachBatch, readBatchHeader } from "../../protocol/record_batch.ts";
import { encodeRecordBatch, endTxnMarker } from "../../protocol/records.ts";
import { logConfig } from "../../storage/log_config.ts";
import { CLEAN_SHUTDOWN_FILE, PartitionLog } from "../../storage/partition_log.ts";
import { inSequence, ProducerStateManager } from "../../storage/producer_state.ts";

const PID = 1000;

function idem(seq: number, n = 1, epoch = 0, pid = PID, transactional = false): Uint8Array {
  return encodeRecordBatch({
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    isTransactional: transactional,
    records: Array.from({ length: n }, (_, i) => ({ value: `s${seq + i}`, timestamp: 1000 + i })),
  });
}

function marker(type: number, epoch = 0, pid = PID): Uint8Array {
  return encodeRecordBatch({
    isControl: true,
    isTransactional: true,
    producerId: pid,
    producerEpoch: epoch,
    records: [endTxnMarker(type, 0)],
  });
}

async function rejectsWith(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof KafkaError && e.code === code);
}

async function withLog(fn: (log: PartitionLog, dir: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "producer-state-" });
  const log = await PartitionLog.open(`${root}/p-0`, logConfig());
  try {
    await fn(log, `${root}/p-0`);
  } finally {
    await log.close();
    await Deno.remove(root, { recursive: true });
  }
}

function batchCount(buf: Uint8Array): number {
  let n = 0;
  forEachBatch(buf, () => void n++);
  return n;
}

Deno.test("a retried batch is acked with its original offsets and not appended", async () => {
  await withLog(async (log) => {
    await log.append(idem(0, 3));
    const second = await log.append(idem(3, 2));
    assert.deepEqual([second.baseOffset, second.lastOffset], [3, 4]);
    await log.append(encodeRecordBatch({ records: [{ value: "plain", timestamp: 1000 }] }));
    const retry = await log.append(idem(3, 2));
    assert.equal(retry.duplicate, true);
    assert.deepEqual([retry.baseOffset, retry.lastOffset], [3, 4]);
    assert.equal(log.logEndOffset, 6);
    assert.equal(batchCount(await log.read(0, 1 << 20)), 3);
    // The oldest of the last five batches is still recognised; a sixth-oldest is not.
    for (let seq = 5; seq < 9; seq++) await log.append(idem(seq));
    assert.equal((await log.append(idem(3, 2))).duplicate, true);
    await log.append(idem(9));
    await rejectsWith(log.append(idem(3, 2)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });
});

Deno.test("an unknown producer may start at any sequence; later gaps are OUT_OF_ORDER_SEQUENCE_NUMBER", async () => {
  await withLog(async (log) => {
    // Kafka 2.5+: no state for this producer (e.g. its records expired) → accept sequence 5.
    assert.equal((await log.append(idem(5, 2))).baseOffset, 0);
    await rejectsWith(log.append(idem(8)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    await rejectsWith(log.append(idem(6)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await log.append(idem(7))).baseOffset, 2);
    assert.equal(log.logEndOffset, 3);
  });
});

Deno.test("an older epoch is fenced; a new epoch must start at sequence 0", async () => {
  await withLog(async (log) => {
    await log.append(idem(0, 1, 3));
    await rejectsWith(log.append(idem(1, 1, 2)), ErrorCode.INVALID_PRODUCER_EPOCH);
    await rejectsWith(log.append(idem(1, 1, 4)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    await log.append(idem(0, 1, 4));
    await rejectsWith(log.append(idem(1, 1, 3)), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(log.producerState.get(PID)?.producerEpoch, 4);
    // A retry from the old epoch is not a duplicate of the new one.
    await rejectsWith(log.append(idem(0, 1, 3)), ErrorCode.INVALID_PRODUCER_EPOCH);
  });
});

Deno.test("sequence numbers wrap from int32 max to 0", () => {
  const m = new ProducerStateManager();
  assert.ok(inSequence(2147483647, 0));
  assert.ok(!inSequence(2147483647, 1));
  const info = m.prepareAppend();
  const h = readBatchHeader(idem(0, 2));
  info.append(h, true);
  m.commit(info);
  // Pretend the producer is near the wrap point.
  m.get(PID)!.batches[0].lastSeq = 2147483646;
  const wrap = readBatchHeader(idem(2147483647, 2)); // 2147483647, 0
  const next = m.prepareAppend();
  assert.equal(next.append(wrap, true), null);
  m.commit(next);
  assert.equal(m.get(PID)!.batches.at(-1)!.lastSeq, 0);
  const after = m.prepareAppend();
  after.append(readBatchHeader(idem(1)), true);
});

Deno.test("producer id -1 batches bypass idempotence checks", async () => {
  await withLog(async (log) => {
    const plain = encodeRecordBatch({ records: [{ value: "a" }] });
    await log.append(plain.slice());
    const again = await log.append(plain.slice());
    assert.equal(again.duplicate, false);
    assert.equal(log.logEndOffset, 2);
    assert.equal(log.producerState.size, 0);
  });
});

Deno.test("transactions: first offset tracked, non-transactional write rejected, marker ends it", async () => {
  await withLog(async (log) => {
    await log.append(idem(0, 2, 0, PID, true));
    await log.append(idem(0, 1, 0, 7)); // another, idempotent-only producer
    assert.equal(log.producerState.get(PID)!.currentTxnFirstOffset, 0);
    assert.equal(log.lastStableOffset, 0);
    await rejectsWith(log.append(idem(2, 1, 0, PID, false)), ErrorCode.INVALID_TXN_STATE);
    await log.append(idem(2, 1, 0, PID, true));
    const m = await log.append(marker(1), { origin: "coordinator" });
    assert.equal(m.baseOffset, 4);
    assert.equal(log.producerState.get(PID)!.currentTxnFirstOffset, -1);
    assert.equal(log.lastStableOffset, 5);
    assert.deepEqual(log.abortedTransactions(0, 5), []);
    // The producer's sequence continues after the marker.
    assert.equal((await log.append(idem(3, 1, 0, PID, true))).baseOffset, 5);
    await rejectsWith(log.append(marker(0, 0), {}), ErrorCode.INVALID_RECORD);
  });
});

Deno.test("producer state survives a clean reopen and a crash (replayed from the log)", async () => {
  const root = await Deno.makeTempDir({ prefix: "producer-state-" });
  const dir = `${root}/p-0`;
  const cfg = logConfig({ segmentBytes: 400 });
  let log = await PartitionLog.open(dir, cfg);
  for (let seq = 0; seq < 12; seq++) await log.append(idem(seq));
  await log.append(idem(0, 1, 0, 55, true));
  await log.append(marker(0, 0, 55), { origin: "coordinator" });
  await log.append(idem(1, 1, 0, 55, true));
  assert.ok(log.segmentCount > 1);
  const lso = log.lastStableOffset;
  await log.close();

  for (const mode of ["clean", "crash-with-snapshots", "crash-without-snapshots"]) {
    if (mode !== "clean") await Deno.remove(`${dir}/${CLEAN_SHUTDOWN_FILE}`).catch(() => {});
    if (mode === "crash-without-snapshots") {
      for (const e of Deno.readDirSync(dir)) {
        if (e.name.endsWith(".snapshot")) Deno.removeSync(`${dir}/${e.name}`);
      }
    }
    log = await PartitionLog.open(dir, cfg);
    assert.equal(log.recovery.cleanShutdown, mode === "clean", mode);
    if (mode === "crash-without-snapshots") assert.equal(log.recovery.replayedBatches, 15);
    const dup = await log.append(idem(11));
    assert.equal(dup.duplicate, true, mode);
    assert.equal(dup.baseOffset, 11, mode);
    await rejectsWith(log.append(idem(13)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(log.lastStableOffset, lso, mode);
    assert.deepEqual(log.abortedTransactions(0, 100), [
      { producerId: 55, firstOffset: 12, lastOffset: 13 },
    ]);
    await log.close();
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("ProducerStateManager stages appends and snapshots round-trip", () => {
  const m = new ProducerStateManager();
  const info = m.prepareAppend();
  const h = readBatchHeader(idem(0, 3));
  h.baseOffset = 10;
  assert.equal(info.append(h, true), null);
  assert.equal(m.get(PID), undefined, "nothing visible before commit");
  m.commit(info);
  assert.deepEqual(m.get(PID)!.batches, [
    { firstSeq: 0, lastSeq: 2, firstOffset: 10, lastOffset: 12, timestamp: 1002 },
  ]);
  const copy = new ProducerStateManager();
  copy.loadSnapshot(JSON.parse(JSON.stringify(m.toSnapshot())));
  assert.deepEqual(copy.findDuplicate(h), { firstOffset: 10, lastOffset: 12, timestamp: 1002 });
  assert.equal(copy.removeExpiredProducers(1002 + 10, 5), 1);
  assert.equal(copy.size, 0);
});
