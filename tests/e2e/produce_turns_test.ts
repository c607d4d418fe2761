/**
 * Produce frames sharing the event loop's turns (src/produce_turns.ts): several connections
 * pipelining large produce requests at once, so frames wait for later turns and connections
 * drop to one request in processing, while another connection long-polls the partition.
 * Every request is acknowledged, each connection's batches land in its request order, and
 * the consumer reads back every batch byte for byte.
 */
import assert from "node:assert/strict";
import {
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { forEachBatch, totalSize } from "../../protocol/record_batch.ts";
import type { Msg } from "../support/msg.ts";
import { testBroker } from "../support/helpers.ts";
import { fetchBody } from "../support/e2e_robustness_fixtures.ts";
import { RawClient } from "../support/raw_client.ts";

const TOPIC = "turns";
const CONNECTIONS = 6;
const REQUESTS = 5;

function batchOf(conn: number, req: number): Uint8Array {
  return encodeRecordBatch({
    records: Array.from({ length: 300 }, (_, i) => ({
      key: `c${conn}-r${req}-${i}`,
      value: new Uint8Array(1200).fill((conn * 37 + req * 11 + i) & 0xff),
    })),
  });
}

Deno.test(
  "produce turns: six connections pipelining ~400 KB produces at once all land in order; a long-polling consumer reads every batch back exactly",
  async () => {
    const b = await testBroker();
    const producers = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => RawClient.connect(b.port)),
    );
    const consumer = await RawClient.connect(b.port);
    try {
      await b.broker.createTopic(TOPIC, 1, []);
      const sent = producers.map((_, c) =>
        Array.from({ length: REQUESTS }, (_, r) => batchOf(c, r))
      );
      const total = sent.length * REQUESTS;
      // The consumer long-polls while the producers flood.
      const reading = readBatches(consumer, total);
      const answers = await Promise.all(producers.map((p, c) =>
        p.pipeline(
          ProduceRequest,
          ProduceResponse,
          9,
          sent[c].map((batch) => ({
            transactionalId: null,
            acks: 1,
            timeoutMs: 10_000,
            topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch }] }],
          })),
        )
      ));
      const baseOf = new Map<number, [number, number]>();
      answers.forEach((rs, c) => {
        let last = -1;
        rs.forEach((r, i) => {
          const pr = r.responses[0].partitionResponses[0] as Msg;
          assert.equal(pr.errorCode, 0, `connection ${c} request ${i}`);
          assert.ok(pr.baseOffset > last, `connection ${c}: request ${i} after request ${i - 1}`);
          last = pr.baseOffset;
          baseOf.set(pr.baseOffset, [c, i]);
        });
      });
      const got = await reading;
      assert.equal(got.length, total);
      let next = 0;
      for (const g of got) {
        assert.equal(g.baseOffset, next, "batches are contiguous");
        const who = baseOf.get(g.baseOffset);
        assert.ok(who, `batch at ${g.baseOffset} was acknowledged to someone`);
        const [c, i] = who;
        // From the attributes on, the bytes are as sent (base offset and epoch are ours).
        assert.deepEqual(g.bytes.subarray(21), sent[c][i].subarray(21), `batch ${c}/${i}`);
        next = g.baseOffset + 300;
      }
    } finally {
      for (const p of producers) p.close();
      consumer.close();
      await b.stop();
    }
  },
);

/** Long-polls partition 0 from offset 0 until `count` batches arrived. */
async function readBatches(
  client: RawClient,
  count: number,
): Promise<{ baseOffset: number; bytes: Uint8Array }[]> {
  const got: { baseOffset: number; bytes: Uint8Array }[] = [];
  let offset = 0;
  for (let round = 0; got.length < count && round < 10_000; round++) {
    const f = await client.call(FetchRequest, FetchResponse, 11, {
      ...fetchBody(TOPIC, 0, offset),
      maxWaitMs: 5000,
      minBytes: 1,
    });
    const p = (f.responses[0] as Msg).partitions[0] as Msg;
    assert.equal(p.errorCode, 0);
    const records = p.records as Uint8Array;
    // Whole batches only: a partial one at the end is skipped and read again.
    forEachBatch(records, (pos, h) => {
      got.push({ baseOffset: h.baseOffset, bytes: records.slice(pos, pos + totalSize(h)) });
      offset = h.baseOffset + h.lastOffsetDelta + 1;
    });
  }
  return got;
}
