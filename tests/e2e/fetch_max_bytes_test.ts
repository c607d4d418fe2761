/**
 * fetch.max.bytes: the broker caps a Fetch's max_bytes, whatever the client asks (Kafka:
 * min(request max_bytes, fetch.max.bytes)); the first batch is still returned whole when it
 * alone exceeds the cap (KIP-74).
 */
import assert from "node:assert/strict";
import {
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { decodeBatchHeader, encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { RawClient } from "../support/raw_client.ts";
import { testBroker } from "../support/helpers.ts";

/** Batch lengths (log overhead included) of a records blob, in order. */
function batchSizes(records: Uint8Array): number[] {
  const out: number[] = [];
  for (let off = 0; off < records.length;) {
    const h = decodeBatchHeader(records.subarray(off));
    const size = 12 + h.batchLength;
    assert.ok(off + size <= records.length, "a partial batch");
    out.push(size);
    off += size;
  }
  return out;
}

async function fetchAll(c: RawClient, topic: string, partition: number): Promise<Msg> {
  const r = await c.call(FetchRequest, FetchResponse, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 0x7fffffff,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic,
      partitions: [{
        partition,
        currentLeaderEpoch: -1,
        fetchOffset: 0,
        lastFetchedEpoch: -1,
        logStartOffset: -1,
        partitionMaxBytes: 0x7fffffff,
      }],
    }],
    forgottenTopicsData: [],
    rackId: "",
  });
  assert.equal(r.errorCode, 0);
  return r.responses[0].partitions[0];
}

Deno.test("a Fetch asking for 2 GiB gets at most fetch.max.bytes", async () => {
  const cap = 10_000;
  const b = await testBroker({ config: { "fetch.max.bytes": cap } });
  const c = await RawClient.connect(b.port);
  try {
    await b.broker.createTopic("capped", 2);
    const produce = async (partition: number, valueBytes: number) => {
      const r = await c.call(ProduceRequest, ProduceResponse, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{
          name: "capped",
          partitionData: [{
            index: partition,
            records: encodeRecordBatch({ records: [{ value: new Uint8Array(valueBytes) }] }),
          }],
        }],
      });
      assert.equal(r.responses[0].partitionResponses[0].errorCode, 0);
    };
    for (let i = 0; i < 10; i++) await produce(0, 3000);
    const p = await fetchAll(c, "capped", 0);
    const sizes = batchSizes(p.records);
    const total = sizes.reduce((a, s) => a + s, 0);
    // Whole batches only, as many as fit in the cap: three of about 3 KB each.
    assert.equal(sizes.length, Math.floor(cap / sizes[0]));
    assert.ok(total <= cap, `${total} bytes returned, cap ${cap}`);
    assert.equal(p.highWatermark, 10);

    // One batch larger than the cap still comes whole, alone (KIP-74).
    await produce(1, 25_000);
    await produce(1, 100);
    const big = await fetchAll(c, "capped", 1);
    const bigSizes = batchSizes(big.records);
    assert.equal(bigSizes.length, 1);
    assert.ok(bigSizes[0] > cap);
  } finally {
    c.close();
    await b.stop();
  }
});
