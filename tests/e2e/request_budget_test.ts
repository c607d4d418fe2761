/**
 * queued.max.request.bytes: the bytes of requests being read or handled stay within the
 * broker-wide budget while many connections send large frames slowly; connections without
 * budget wait (their sends back up) and are all answered in the end, none closed.
 */
import assert from "node:assert/strict";
import { writeRequestHeader } from "../../protocol/headers.ts";
import {
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import { codecFor, isFlexible } from "../../protocol/schema.ts";
import type { Msg } from "../support/msg.ts";
import { RequestBudget } from "../../src/request_budget.ts";
import { RawClient } from "../support/raw_client.ts";
import { testBroker } from "../support/helpers.ts";

Deno.test("RequestBudget grants in arrival order and never beyond its limit", async () => {
  const b = new RequestBudget(100);
  assert.equal(b.acquire(60), null);
  const second = b.acquire(50)!;
  const third = b.acquire(10)!; // fits, but waits behind the second: no overtaking
  assert.ok(second && third);
  const order: string[] = [];
  second.granted.then(() => order.push("second"));
  third.granted.then(() => order.push("third"));
  await Promise.resolve();
  assert.deepEqual(order, []);
  b.release(60);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(order, ["second", "third"]);
  assert.equal(b.used, 60);
  // One frame larger than the whole budget passes when nothing else is held.
  b.release(60);
  assert.equal(b.acquire(500), null);
  assert.equal(b.used, 500);
  const queued = b.acquire(1)!;
  queued.withdraw(); // its connection closed while waiting
  await queued.granted;
  b.release(500);
  assert.equal(b.used, 0);
  assert.equal(b.peak, 500);
});

/** A Produce v9 frame of one batch holding `value` for partition 0 of `topic`. */
function produceFrame(topic: string, correlationId: number, value: Uint8Array): Uint8Array {
  const w = new Writer(value.length + 512);
  w.int32(0);
  writeRequestHeader(
    w,
    { apiKey: 0, apiVersion: 9, correlationId, clientId: "slow" },
    isFlexible(ProduceRequest, 9),
  );
  codecFor(ProduceRequest, 9).encode(w, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [{
      name: topic,
      partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value }] }) }],
    }],
  });
  const out = w.finishCopy();
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

/** Sends `frame` in small pieces with pauses, then reads one response frame. */
async function slowProduce(port: number, frame: Uint8Array): Promise<Msg> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const piece = 32 * 1024;
    for (let off = 0; off < frame.length; off += piece) {
      const end = Math.min(frame.length, off + piece);
      for (let o = off; o < end;) o += await conn.write(frame.subarray(o, end));
      await new Promise((r) => setTimeout(r, 2));
    }
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    while (buf.length < 4 || buf.length < 4 + new DataView(buf.buffer).getInt32(0)) {
      const n = await conn.read(chunk);
      if (n === null) throw new Error("broker closed the connection");
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
    }
    const r = new Reader(buf.subarray(4));
    r.int32(); // correlation id
    r.uvarint(); // header tags
    return codecFor(ProduceResponse, 9).decode(r);
  } finally {
    conn.close();
  }
}

Deno.test(
  "slowly sent large frames: buffered request bytes never exceed queued.max.request.bytes",
  async () => {
    const budget = 3 * 1024 * 1024;
    const b = await testBroker({ config: { "queued.max.request.bytes": budget } });
    try {
      await b.broker.createTopic("big", 1);
      const senders = 8;
      const size = 900 * 1024;
      const values = Array.from({ length: senders }, (_, i) => new Uint8Array(size).fill(i + 1));
      let sampling = true;
      let sawWaiting = 0;
      let maxSeen = 0;
      const sampler = (async () => {
        while (sampling) {
          maxSeen = Math.max(maxSeen, b.broker.metrics.snapshot().queuedRequestBytes);
          sawWaiting = Math.max(sawWaiting, b.broker.requestBudget.waiting);
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const responses = await Promise.all(
        values.map((v, i) => slowProduce(b.port, produceFrame("big", i + 1, v))),
      );
      sampling = false;
      await sampler;
      assert.ok(maxSeen <= budget, `${maxSeen} request bytes buffered, budget ${budget}`);
      const m = b.broker.metrics.snapshot();
      assert.ok(m.queuedRequestBytesPeak <= budget, `peak ${m.queuedRequestBytesPeak}`);
      // Eight frames of 900 KiB against 3 MiB: some connections had to wait.
      assert.ok(m.queuedRequestBytesPeak > 2 * size, `peak ${m.queuedRequestBytesPeak}`);
      assert.ok(sawWaiting > 0, "no connection ever waited for budget");
      assert.equal(m.queuedRequestBytes, 0);
      // Every produce was answered and appended: offsets 0..7, each value intact.
      const offsets = responses.map((r) => {
        const p = r.responses[0].partitionResponses[0];
        assert.equal(p.errorCode, 0);
        return Number(p.baseOffset);
      });
      assert.deepEqual([...offsets].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
      const c = await RawClient.connect(b.port);
      try {
        for (let i = 0; i < senders; i++) {
          const f = await c.call(FetchRequest, FetchResponse, 12, {
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 4 << 20,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [{
              topic: "big",
              partitions: [{
                partition: 0,
                currentLeaderEpoch: -1,
                fetchOffset: offsets[i],
                lastFetchedEpoch: -1,
                logStartOffset: -1,
                partitionMaxBytes: 2 << 20,
              }],
            }],
            forgottenTopicsData: [],
            rackId: "",
          });
          const { header, records } = decodeRecords(f.responses[0].partitions[0].records);
          assert.equal(Number(header.baseOffset), offsets[i]);
          assert.deepEqual(records[0].value, values[i]);
        }
      } finally {
        c.close();
      }
    } finally {
      await b.stop();
    }
  },
);
