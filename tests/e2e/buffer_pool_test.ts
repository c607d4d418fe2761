/**
 * BufferPool, and the reuse of connection read buffers: large produce requests in pooled
 * buffers read back byte for byte, and the bytes of a request whose decoded body is kept
 * (JoinGroup's member metadata) are never handed out again; a buffer goes back to the pool only
 * once no request in it is still being handled (appends waiting on fsync here).
 */
import assert from "node:assert/strict";
import {
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  FetchRequest,
  FetchResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  ProduceRequest,
  ProduceResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { decodeRecords } from "../../protocol/records.ts";
import { forEachBatch, totalSize } from "../../protocol/record_batch.ts";
import type { Msg } from "../support/msg.ts";
import { BufferPool, bufferPool } from "../../src/buffer_pool.ts";
import { testBroker } from "../support/helpers.ts";
import { fetchBody } from "../support/e2e_robustness_fixtures.ts";
import { RawClient } from "../support/raw_client.ts";

Deno.test("BufferPool: power-of-two classes, reuse, no double hand-out, bounded", () => {
  const pool = new BufferPool(4 * 1024 * 1024);
  assert.equal(BufferPool.classOf(1), 256 * 1024);
  assert.equal(BufferPool.classOf(256 * 1024 + 1), 512 * 1024);
  assert.equal(BufferPool.classOf(16 * 1024 * 1024), 16 * 1024 * 1024);
  assert.equal(BufferPool.classOf(16 * 1024 * 1024 + 1), 0);

  const small = pool.take(1000); // not pooled: fresh and exact
  assert.equal(small.buffer.byteLength, 1000);
  const a = pool.take(300_000);
  assert.equal(a.length, 300_000);
  assert.equal(a.buffer.byteLength, 512 * 1024);
  assert.deepEqual(pool.stats, { reused: 0, fresh: 1 });
  pool.give(a.buffer);
  pool.give(a.buffer); // twice: held once
  assert.equal(pool.size, 512 * 1024);
  const b = pool.take(400_000);
  assert.equal(b.buffer, a.buffer);
  const c = pool.take(400_000);
  assert.notEqual(c.buffer, a.buffer, "a buffer given twice is handed out once");
  assert.deepEqual(pool.stats, { reused: 1, fresh: 2 });

  pool.give(new ArrayBuffer(300_000)); // not a class size
  pool.give(small.buffer);
  assert.equal(pool.size, 0);
  for (let i = 0; i < 20; i++) pool.give(new ArrayBuffer(1024 * 1024));
  assert.equal(pool.size, 4 * 1024 * 1024, "bounded by maxBytes");

  const moved = pool.take(1_000_000); // one of the 1 MiB buffers
  assert.equal(pool.size, 3 * 1024 * 1024);
  structuredClone(moved, { transfer: [moved.buffer as ArrayBuffer] });
  pool.give(moved.buffer); // detached by the transfer: refused
  assert.equal(pool.size, 3 * 1024 * 1024);
});

function bigBatch(seed: number, records: number, size: number): Uint8Array {
  return encodeRecordBatch({
    records: Array.from({ length: records }, (_, i) => ({
      key: `k${seed}-${i}`,
      value: new Uint8Array(size).fill((seed * 31 + i) & 0xff),
    })),
  });
}

Deno.test(
  "pooled buffers: pipelined big produces land exactly while appends wait on fsync; fetches on two connections read them back exactly",
  async () => {
    const b = await testBroker({ config: { "group.initial.rebalance.delay.ms": 0 } });
    const c = await RawClient.connect(b.port);
    const other = await RawClient.connect(b.port);
    try {
      // Small segments and an fsync per append: appends wait on the disk, so pipelined
      // requests are still in flight when the connection moves to another read buffer.
      await b.broker.createTopic("pool", 1, [["segment.bytes", "1048576"], [
        "flush.messages",
        "1",
      ]]);
      const produce = (batch: Uint8Array) =>
        c.call(ProduceRequest, ProduceResponse, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 10_000,
          topicData: [{ name: "pool", partitionData: [{ index: 0, records: batch }] }],
        });
      // A large request first: the connection moves to a pooled read buffer.
      const batches: Uint8Array[] = [];
      batches.push(bigBatch(0, 300, 1000));
      assert.equal((await produce(batches[0])).responses[0].partitionResponses[0].errorCode, 0);

      // A JoinGroup in that buffer: the group keeps its protocol metadata as received.
      const metadata = new Uint8Array(3000).map((_, i) => (i * 7 + 3) & 0xff);
      const joined = await c.call(JoinGroupRequest, JoinGroupResponse, 3, {
        groupId: "pool-group",
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 30_000,
        memberId: "",
        protocolType: "consumer",
        protocols: [{ name: "range", metadata }],
      });
      assert.equal(joined.errorCode, 0);
      const synced = await c.call(SyncGroupRequest, SyncGroupResponse, 1, {
        groupId: "pool-group",
        generationId: joined.generationId,
        memberId: joined.memberId,
        assignments: [{ memberId: joined.memberId, assignment: new Uint8Array(8) }],
      });
      assert.equal(synced.errorCode, 0); // Stable: DescribeGroups shows member metadata

      // Many more large requests: read buffers are retired and reused over and over.
      const reusedBefore = bufferPool.stats.reused;
      for (let i = 1; i <= 40; i++) {
        const batch = bigBatch(i, 150 + (i % 7) * 40, 1000 + (i % 5) * 300);
        batches.push(batch);
        const r = await produce(batch);
        assert.equal(r.responses[0].partitionResponses[0].errorCode, 0, `produce ${i}`);
      }
      // Pipelined: several requests in flight at once in the same read buffers.
      for (let round = 0; round < 6; round++) {
        const group = Array.from({ length: 5 }, (_, j) => {
          const i = 41 + round * 5 + j;
          return bigBatch(i, 100 + ((i * 13) % 9) * 30, 900 + (i % 4) * 400);
        });
        batches.push(...group);
        const rs = await c.pipeline(
          ProduceRequest,
          ProduceResponse,
          9,
          group.map((batch) => ({
            transactionalId: null,
            acks: -1,
            timeoutMs: 10_000,
            topicData: [{ name: "pool", partitionData: [{ index: 0, records: batch }] }],
          })),
        );
        for (const r of rs) assert.equal(r.responses[0].partitionResponses[0].errorCode, 0);
      }
      assert.ok(bufferPool.stats.reused > reusedBefore, "read buffers were reused");

      // The member's metadata is still exactly what was sent.
      const described = await other.call(DescribeGroupsRequest, DescribeGroupsResponse, 0, {
        groups: ["pool-group"],
      });
      const member = (described.groups as Msg[])[0].members[0] as Msg;
      assert.deepEqual([...(member.memberMetadata as Uint8Array)], [...metadata]);

      // Every batch reads back byte for byte (offsets aside), in order, twice over on two
      // connections at once: fetched buffers go back to the pool once written and serve the
      // next fetches.
      const reusedBeforeReads = bufferPool.stats.reused;
      const third = await RawClient.connect(b.port);
      try {
        const [x, y] = await Promise.all([
          readAll(other, batches.length),
          readAll(third, batches.length),
        ]);
        for (const got of [x, y]) {
          assert.equal(got.length, batches.length);
          for (let i = 0; i < batches.length; i++) {
            // From the attributes on, bytes are as sent (base offset and leader epoch are ours).
            assert.deepEqual(got[i].subarray(21), batches[i].subarray(21), `batch ${i}`);
            assert.equal(
              decodeRecords(got[i]).records.length,
              decodeRecords(batches[i]).records.length,
            );
          }
        }
      } finally {
        third.close();
      }
      assert.ok(bufferPool.stats.reused > reusedBeforeReads, "fetch buffers were reused");
    } finally {
      c.close();
      other.close();
      await b.stop();
    }
  },
);

/** Every batch of partition "pool" 0 from offset 0, fetched in 1 MiB steps. */
async function readAll(client: RawClient, batchCount: number): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  let offset = 0;
  while (got.length < batchCount) {
    const f = await client.call(FetchRequest, FetchResponse, 11, fetchBody("pool", 0, offset));
    const records = (f.responses as Msg[])[0].partitions[0].records as Uint8Array;
    assert.ok(records.length > 0, `fetch at ${offset} returned data`);
    forEachBatch(records, (pos, h) => {
      got.push(records.slice(pos, pos + totalSize(h)));
      offset = h.baseOffset + h.lastOffsetDelta + 1;
    });
  }
  return got;
}
