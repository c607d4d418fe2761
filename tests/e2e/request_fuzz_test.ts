/**
 * Fuzzed requests of every API and version (tests/support/request_fuzzer.ts, a fixed seed): each is
 * answered with its correlation id or its connection is closed, none goes silent, the broker
 * ends up holding no connection of the fuzzer's, and a bystander producing and fetching
 * throughout sees exactly its own records.
 */
import assert from "node:assert/strict";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import { fuzz } from "../support/request_fuzzer.ts";
import { RawClient } from "../support/raw_client.ts";
import { BrokerProcess, decoder, testBroker } from "../support/helpers.ts";

/** Produces `value` to bystander-0 and fetches it back at `offset`, exactly. */
async function roundTrip(c: RawClient, offset: number, value: string): Promise<void> {
  const p = await c.call(ProduceRequest, ProduceResponse, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [{
      name: "bystander",
      partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value }] }) }],
    }],
  });
  const pr = p.responses[0].partitionResponses[0];
  assert.equal(pr.errorCode, 0, `produce ${value}`);
  assert.equal(Number(pr.baseOffset), offset);
  const f = await c.call(FetchRequest, FetchResponse, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic: "bystander",
      partitions: [{
        partition: 0,
        currentLeaderEpoch: -1,
        fetchOffset: offset,
        lastFetchedEpoch: -1,
        logStartOffset: -1,
        partitionMaxBytes: 1 << 20,
      }],
    }],
    forgottenTopicsData: [],
    rackId: "",
  });
  const fp = f.responses[0].partitions[0];
  assert.equal(fp.errorCode, 0);
  assert.equal(Number(fp.highWatermark), offset + 1);
  const { header, records } = decodeRecords(fp.records);
  assert.equal(Number(header.baseOffset), offset);
  assert.equal(records.length, 1);
  assert.equal(decoder.decode(records[0].value!), value);
}

Deno.test(
  "fuzzed requests of every API are answered or closed; a bystander stays exact",
  async () => {
    const b = await testBroker({
      config: {
        // Group waits bounded by the broker, well inside the fuzzer's patience.
        "group.initial.rebalance.delay.ms": 50,
        "group.min.session.timeout.ms": 100,
        "group.max.session.timeout.ms": 2000,
      },
    });
    const bystander = await RawClient.connect(b.port);
    try {
      await b.broker.createTopic("fuzz", 2);
      await b.broker.createTopic("bystander", 1);
      let rounds = 0;
      let fuzzing = true;
      const steady = (async () => {
        while (fuzzing || rounds < 3) {
          await roundTrip(bystander, rounds, `record ${rounds}`);
          rounds++;
        }
      })();
      const result = await fuzz({
        port: b.port,
        seed: 20261202,
        count: 8000,
        connections: 4,
        // Kafka clients' request.timeout.ms: a heavy admin request (thousands of partitions)
        // may take seconds here, which is slow, not silent.
        patienceMs: 30_000,
        uuids: [b.broker.topic("fuzz")!.topicId],
        apis: b.broker.registry.apiVersions(),
      }).finally(() => fuzzing = false);
      await steady;
      assert.deepEqual(result.stalls, [], JSON.stringify(result.stalls.slice(0, 5), null, 1));
      assert.deepEqual(result.mismatches, []);
      assert.equal(result.answered + result.closed + result.unanswered, result.sent);
      assert.equal(result.sent, 8000);
      // Both outcomes happen: the mix holds valid requests as well as malformed ones.
      assert.ok(result.answered > 500 && result.closed > 500, JSON.stringify(result));
      // Every fuzzing connection is released: only the bystander's remains.
      while (b.broker.connections.size > 1) await new Promise((r) => setTimeout(r, 10));
      assert.equal(b.broker.connections.size, 1);
      await roundTrip(bystander, rounds, "after");
    } finally {
      bystander.close();
      await b.stop();
    }
  },
);

Deno.test("request metrics stay bounded whatever versions clients invent", async () => {
  const b = await testBroker();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
  try {
    // ApiVersions of 500 unsupported versions: each is answered (KIP-511) and counted.
    const all = new Uint8Array(500 * 14);
    const view = new DataView(all.buffer);
    for (let i = 0; i < 500; i++) {
      const o = i * 14;
      view.setInt32(o, 10); // size: key, version, correlation id, null client id
      view.setInt16(o + 4, 18);
      view.setInt16(o + 6, i % 2 === 0 ? 100 + i : -1 - i);
      view.setInt32(o + 8, i);
      view.setInt16(o + 12, -1);
    }
    for (let off = 0; off < all.length;) off += await conn.write(all.subarray(off));
    let got = 0;
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    while (got < 500) {
      const n = await conn.read(chunk);
      assert.ok(n !== null, "broker closed the connection");
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
      while (buf.length >= 4 && buf.length >= 4 + new DataView(buf.buffer).getInt32(0)) {
        const size = new DataView(buf.buffer).getInt32(0);
        assert.equal(new DataView(buf.buffer).getInt32(4), got, "correlation id");
        buf = buf.slice(4 + size);
        got++;
      }
    }
    const keys = [...b.broker.metrics.requests.keys()].filter((k) => k.startsWith("18:"));
    const max = b.broker.registry.get(18)!.maxVersion;
    assert.deepEqual(keys, [`18:${max + 1}`]);
    assert.equal(b.broker.metrics.requests.get(`18:${max + 1}`)!.count, 500);
    assert.deepEqual(
      [...b.broker.metrics.errors.keys()].filter((k) => k.startsWith("18:")),
      [`18:${max + 1}:35`],
    );
  } finally {
    conn.close();
    await b.stop();
  }
});

Deno.test(
  "fuzzed requests against two Deno workers: answered or closed, bystander exact",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "tributary-fuzz-" });
    const p = await BrokerProcess.start(dir, [
      "--workers",
      "2",
      "--set",
      "group.initial.rebalance.delay.ms=50",
      "--set",
      "group.min.session.timeout.ms=100",
      "--set",
      "group.max.session.timeout.ms=2000",
    ]);
    const bystander = await RawClient.connect(p.port);
    try {
      const created = await bystander.call(CreateTopicsRequest, CreateTopicsResponse, 7, {
        topics: ["fuzz", "bystander"].map((name) => ({
          name,
          numPartitions: name === "fuzz" ? 4 : 1,
          replicationFactor: 1,
          assignments: [],
          configs: [],
        })),
        timeoutMs: 10000,
        validateOnly: false,
      });
      assert.deepEqual(created.topics.map((t: { errorCode: number }) => t.errorCode), [0, 0]);
      const av = await bystander.call(ApiVersionsRequest, ApiVersionsResponse, 2, {});
      let rounds = 0;
      let fuzzing = true;
      const steady = (async () => {
        while (fuzzing || rounds < 3) {
          await roundTrip(bystander, rounds, `record ${rounds}`);
          rounds++;
        }
      })();
      const result = await fuzz({
        port: p.port,
        seed: 4242,
        count: 4000,
        connections: 4,
        pipeline: 2,
        patienceMs: 30_000,
        uuids: [created.topics[0].topicId],
        apis: av.apiKeys,
      }).finally(() => fuzzing = false);
      await steady;
      assert.deepEqual(result.stalls, [], JSON.stringify(result.stalls.slice(0, 5), null, 1));
      assert.deepEqual(result.mismatches, []);
      assert.equal(result.answered + result.closed + result.unanswered, result.sent);
      assert.ok(result.answered > 500 && result.closed > 500, JSON.stringify(result));
      await roundTrip(bystander, rounds, "after");
      assert.ok(
        !p.lines.some((l) => / ERROR /.test(l)),
        p.lines.filter((l) => / ERROR /.test(l)).slice(0, 5).join("\n"),
      );
    } finally {
      bystander.close();
      await p.kill("SIGTERM");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
