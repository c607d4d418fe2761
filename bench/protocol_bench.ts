/**
 * Request/response codec throughput through the generic schema codec (protocol/schema.ts):
 * a Produce request v9 carrying a 16 KiB record batch (what a librdkafka producer sends) and
 * Fetch responses v12 carrying 16 KiB and 1 MiB of record batches (what the broker sends).
 *
 * Each name ends with the encoded message size as `[N B]`; `bench/run.ts` turns the time per
 * iteration into MB/s (10^6 bytes per second) with it.
 */
import { FetchResponse, ProduceRequest } from "../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import { codecFor, decodeMessage, encodeMessage } from "../protocol/schema.ts";
import type { Msg } from "./lib/msg.ts";

const KiB = 1024;

/** One v2 record batch of `count` records with `valueSize`-byte values, as a producer sends. */
function batchOf(count: number, valueSize: number, seed: number): Uint8Array {
  const value = new Uint8Array(valueSize);
  for (let i = 0; i < valueSize; i++) value[i] = 97 + ((i * 7 + seed) % 26);
  return encodeRecordBatch({
    baseOffset: 0,
    producerId: 1000 + seed,
    producerEpoch: 0,
    baseSequence: 0,
    records: Array.from({ length: count }, (_, i) => ({
      key: null,
      value,
      timestamp: 1_700_000_000_000 + i,
    })),
  });
}

/** A batch of 100-byte records whose encoded size is as close to `target` as possible. */
function batchNear(target: number, seed: number): Uint8Array {
  // 100-byte values cost ~108 bytes each once framed; 61 bytes of batch header.
  let count = Math.max(1, Math.floor((target - 61) / 108));
  let b = batchOf(count, 100, seed);
  for (let guard = 0; guard < 64 && b.length > target && count > 1; guard++) {
    b = batchOf(--count, 100, seed);
  }
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

// --- Produce request v9 (flexible), one topic, one partition, 16 KiB of records ----------

const produceRecords = batchNear(16 * KiB, 1);
const produceMsg: Msg = {
  transactionalId: null,
  acks: -1,
  timeoutMs: 30_000,
  topicData: [{ name: "bench-topic", partitionData: [{ index: 0, records: produceRecords }] }],
};
const produceBytes = encodeMessage(ProduceRequest, 9, produceMsg);
codecFor(ProduceRequest, 9); // compile outside the timed loop

Deno.bench({
  name: `encode ProduceRequest v9, 16 KiB records [${produceBytes.length} B]`,
  group: "produce v9",
  baseline: true,
  fn: () => {
    encodeMessage(ProduceRequest, 9, produceMsg);
  },
});
Deno.bench({
  name: `decode ProduceRequest v9, 16 KiB records [${produceBytes.length} B]`,
  group: "produce v9",
  fn: () => {
    decodeMessage(ProduceRequest, 9, produceBytes);
  },
});

// --- Fetch response v12 (flexible), one topic, one partition ------------------------------

function fetchResponse(records: Uint8Array): Msg {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [{
      topic: "bench-topic",
      partitions: [{
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 1_000_000,
        lastStableOffset: 1_000_000,
        logStartOffset: 0,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records,
      }],
    }],
  };
}

const fetchSmall = fetchResponse(batchNear(16 * KiB, 2));
const fetchSmallBytes = encodeMessage(FetchResponse, 12, fetchSmall);
// 1 MiB of records as a fetch returns them from a segment: 64 consecutive ~16 KiB batches.
const fetchLarge = fetchResponse(
  concat(Array.from({ length: 64 }, (_, i) => batchNear(16 * KiB, 3 + i))),
);
const fetchLargeBytes = encodeMessage(FetchResponse, 12, fetchLarge);

Deno.bench({
  name: `encode FetchResponse v12, 16 KiB records [${fetchSmallBytes.length} B]`,
  group: "fetch v12",
  baseline: true,
  fn: () => {
    encodeMessage(FetchResponse, 12, fetchSmall);
  },
});
Deno.bench({
  name: `decode FetchResponse v12, 16 KiB records [${fetchSmallBytes.length} B]`,
  group: "fetch v12",
  fn: () => {
    decodeMessage(FetchResponse, 12, fetchSmallBytes);
  },
});
Deno.bench({
  name: `encode FetchResponse v12, 1 MiB records [${fetchLargeBytes.length} B]`,
  group: "fetch v12",
  fn: () => {
    encodeMessage(FetchResponse, 12, fetchLarge);
  },
});
Deno.bench({
  name: `decode FetchResponse v12, 1 MiB records [${fetchLargeBytes.length} B]`,
  group: "fetch v12",
  fn: () => {
    decodeMessage(FetchResponse, 12, fetchLargeBytes);
  },
});
