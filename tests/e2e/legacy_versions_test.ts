/**
 * The API versions Kafka 3.9 still serves and 4.0 removed (KIP-896), over the wire: legacy
 * message sets produced with Produce v0–2 and fetched with Fetch v0–3, ListOffsets v0,
 * OffsetCommit v0–1, OffsetFetch v0, CreateTopics v0–1, DeleteTopics v0, DescribeConfigs v0,
 * DescribeLogDirs v0. The request sequences of packaged clients are in legacy_clients_test.ts.
 */
import assert from "node:assert/strict";
import { Compression } from "../../protocol/compression.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { encodeLegacyMessageSet, readLegacyEntries } from "../../protocol/legacy_records.ts";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from "../../protocol/messages/mod.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { python, testBroker } from "../support/helpers.ts";
import { b, contents, dec, fetch, listOffsetsV0, produce, TS } from "../support/legacy_wire.ts";
import { RawClient } from "../support/raw_client.ts";

Deno.test("ApiVersions advertises Kafka 3.9's minimum versions", async () => {
  const br = await testBroker();
  try {
    const r = await RawClient.once(br.port, ApiVersionsRequest, ApiVersionsResponse, 0, {});
    const min = new Map((r.apiKeys as Msg[]).map((k) => [k.apiKey, k.minVersion]));
    // Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch, CreateTopics, DeleteTopics,
    // DescribeConfigs, DescribeLogDirs.
    for (const key of [0, 1, 2, 8, 9, 19, 20, 32, 35]) assert.equal(min.get(key), 0, `api ${key}`);
  } finally {
    await br.stop();
  }
});

Deno.test(
  "Produce v0–2 store legacy message sets as v2 batches; Fetch v0–3 read them back",
  async () => {
    const br = await testBroker();
    const c = await RawClient.connect(br.port);
    try {
      await br.broker.createTopic("old", 1);
      // v0: magic 0, two messages (a producer's offsets are ignored).
      const v0 = encodeLegacyMessageSet(0, 0, [
        { offset: 0, timestamp: -1, key: b("k0"), value: b("zero") },
        { offset: 0, timestamp: -1, key: null, value: b("one") },
      ]);
      let p = await produce(c, 0, "old", v0);
      assert.deepEqual([p.errorCode, p.baseOffset], [0, 0]);
      // v1: magic 0 gzip wrapper.
      p = await produce(
        c,
        1,
        "old",
        encodeLegacyMessageSet(0, Compression.GZIP, [
          { offset: 0, timestamp: -1, key: null, value: b("two") },
          { offset: 1, timestamp: -1, key: null, value: b("three") },
        ]),
      );
      assert.deepEqual([p.errorCode, p.baseOffset], [0, 2]);
      // v2: magic 1 with timestamps, and a magic 1 gzip wrapper (offset 0, as librdkafka sends).
      p = await produce(
        c,
        2,
        "old",
        encodeLegacyMessageSet(1, 0, [{
          offset: 0,
          timestamp: TS,
          key: b("k4"),
          value: b("four"),
        }]),
      );
      assert.deepEqual([p.errorCode, p.baseOffset, p.logAppendTimeMs], [0, 4, -1]);
      const wrapped = encodeLegacyMessageSet(1, Compression.GZIP, [
        { offset: 0, timestamp: TS + 5, key: null, value: b("five") },
        { offset: 1, timestamp: TS + 6, key: null, value: b("six") },
      ]);
      new DataView(wrapped.buffer).setBigInt64(0, 0n); // wrapper offset 0
      p = await produce(c, 2, "old", wrapped);
      assert.deepEqual([p.errorCode, p.baseOffset], [0, 5]);

      // Stored as four v2 batches with the producer's codec and timestamps.
      const log = br.broker.partition("old", 0)!;
      assert.equal(log.logEndOffset, 7);
      const stored = await log.read(0, 1 << 20);
      const batches: [number, number, number, number][] = [];
      for (let pos = 0; pos < stored.length;) {
        const { header } = decodeRecords(stored.subarray(pos));
        batches.push([
          header.baseOffset,
          header.recordCount,
          header.compression,
          header.maxTimestamp,
        ]);
        pos += header.batchLength + 12;
      }
      assert.deepEqual(batches, [[0, 2, 0, -1], [2, 2, 1, -1], [4, 1, 0, TS], [5, 2, 1, TS + 6]]);

      // Fetch v2–3: magic 1, each batch as it was produced (the gzip one as a wrapper).
      for (const v of [2, 3]) {
        const f = await fetch(c, v, "old", 0);
        assert.deepEqual([f.errorCode, f.highWatermark], [0, 7]);
        assert.deepEqual(contents(f.records), [
          [0, 1, -1, "k0", "zero"],
          [1, 1, -1, null, "one"],
          [2, 1, -1, null, "two"],
          [3, 1, -1, null, "three"],
          [4, 1, TS, "k4", "four"],
          [5, 1, TS + 5, null, "five"],
          [6, 1, TS + 6, null, "six"],
        ]);
      }
      // Fetch v0–1: magic 0, no timestamps; from offset 1 the uncompressed offset 0 is left out,
      // a wrapper is whole (the consumer skips what it did not ask for).
      for (const v of [0, 1]) {
        const f = await fetch(c, v, "old", 1);
        assert.deepEqual([f.errorCode, f.highWatermark], [0, 7]);
        assert.deepEqual(contents(f.records).map((r) => [r[0], r[1], r[2], r[4]]), [
          [1, 0, -1, "one"],
          [2, 0, -1, "two"],
          [3, 0, -1, "three"],
          [4, 0, -1, "four"],
          [5, 0, -1, "five"],
          [6, 0, -1, "six"],
        ]);
        const f3 = await fetch(c, v, "old", 3);
        assert.deepEqual(contents(f3.records).map((r) => r[0]), [2, 3, 4, 5, 6]);
      }
      // An offset past the end.
      assert.equal((await fetch(c, 2, "old", 8)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    } finally {
      c.close();
      await br.stop();
    }
  },
);

Deno.test("legacy produce errors: CRC, v3+ magic 1, LogAppendTime topics", async () => {
  const br = await testBroker();
  const c = await RawClient.connect(br.port);
  try {
    await br.broker.createTopic("errs", 1);
    const one = encodeLegacyMessageSet(1, 0, [{
      offset: 0,
      timestamp: TS,
      key: null,
      value: b("v"),
    }]);
    const bad = one.slice();
    bad[bad.length - 1] ^= 1;
    let p = await produce(c, 2, "errs", bad);
    assert.deepEqual([p.errorCode, p.baseOffset], [ErrorCode.CORRUPT_MESSAGE, -1]);
    p = await produce(c, 3, "errs", one);
    assert.deepEqual([p.errorCode, p.baseOffset], [ErrorCode.INVALID_RECORD, -1]);
    assert.equal(br.broker.partition("errs", 0)!.logEndOffset, 0);
    // Produce v2 with a v2 batch is fine too.
    p = await produce(
      c,
      2,
      "errs",
      encodeRecordBatch({ records: [{ value: "v2", timestamp: TS }] }),
    );
    assert.deepEqual([p.errorCode, p.baseOffset], [0, 0]);

    // LogAppendTime: the broker's time on the stored batch, in the v2 response and on fetch.
    await br.broker.createTopic("lat", 1, [["message.timestamp.type", "LogAppendTime"]]);
    const before = Date.now();
    p = await produce(c, 2, "lat", one);
    assert.equal(p.errorCode, 0);
    assert.ok(p.logAppendTimeMs >= before, `logAppendTime ${p.logAppendTimeMs}`);
    const [e] = readLegacyEntries((await fetch(c, 2, "lat", 0)).records);
    assert.deepEqual([e.offset, e.attributes, e.timestamp], [0, 0x08, p.logAppendTimeMs]);
    // v1 has no logAppendTime field: the v1 response decodes to its default.
    p = await produce(c, 1, "lat", one);
    assert.deepEqual([p.errorCode, p.baseOffset, p.logAppendTimeMs], [0, 1, -1]);
  } finally {
    c.close();
    await br.stop();
  }
});

Deno.test(
  "zstd: Fetch v0–3 of zstd batches, Fetch below v10 of a zstd topic: UNSUPPORTED_COMPRESSION_TYPE",
  async () => {
    const br = await testBroker();
    const c = await RawClient.connect(br.port);
    try {
      await br.broker.createTopic("z", 1);
      const z = encodeRecordBatch({ compression: Compression.ZSTD, records: [{ value: "zz" }] });
      assert.equal((await produce(c, 7, "z", z)).errorCode, 0);
      for (const v of [0, 1, 2, 3]) {
        const f = await fetch(c, v, "z", 0);
        assert.deepEqual([f.errorCode, f.records.length], [
          ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
          0,
        ]);
      }
      const f = await fetch(c, 10, "z", 0);
      assert.deepEqual([f.errorCode, f.records.length], [0, z.length]);
      // A topic configured compression.type=zstd is refused to consumers below Fetch v10,
      // whatever its batches hold, as Kafka does.
      await br.broker.createTopic("zt", 1, [["compression.type", "zstd"]]);
      const plain = encodeRecordBatch({ records: [{ value: "p" }] });
      assert.equal((await produce(c, 9, "zt", plain)).errorCode, 0);
      for (const v of [2, 4, 9]) {
        const r = await fetch(c, v, "zt", 0);
        assert.deepEqual(
          [r.errorCode, r.records.length],
          [ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 0],
        );
      }
      // The topic's codec applies: the plain batch is stored recompressed to zstd.
      const r10 = await fetch(c, 10, "zt", 0);
      assert.equal(r10.errorCode, 0);
      const stored = decodeRecords(r10.records);
      assert.equal(stored.header.compression, Compression.ZSTD);
      assert.deepEqual(stored.records.map((r) => dec.decode(r.value!)), ["p"]);
    } finally {
      c.close();
      await br.stop();
    }
  },
);

Deno.test(
  "message.downconversion.enable=false: Fetch v0–3 get UNSUPPORTED_VERSION",
  async () => {
    const br = await testBroker();
    const c = await RawClient.connect(br.port);
    try {
      await br.broker.createTopic("nodc", 1, [["message.downconversion.enable", "false"]]);
      await br.broker.createTopic("dc", 1);
      const batch = encodeRecordBatch({ records: [{ value: "x", timestamp: TS }] });
      for (const t of ["nodc", "dc"]) assert.equal((await produce(c, 9, t, batch)).errorCode, 0);
      for (const v of [0, 1, 2, 3]) {
        const f = await fetch(c, v, "nodc", 0);
        assert.deepEqual([f.errorCode, f.records.length], [ErrorCode.UNSUPPORTED_VERSION, 0]);
        assert.equal((await fetch(c, v, "dc", 0)).errorCode, 0);
      }
      const f4 = await fetch(c, 4, "nodc", 0);
      assert.deepEqual([f4.errorCode, f4.records.length], [0, batch.length]);
      assert.equal(dec.decode(decodeRecords(f4.records).records[0].value!), "x");
    } finally {
      c.close();
      await br.stop();
    }
  },
);

Deno.test(
  "Fetch v2 of transactions: markers dropped, committed and aborted records as stored",
  async () => {
    const br = await testBroker();
    const c = await RawClient.connect(br.port);
    try {
      await br.broker.createTopic("txn", 1);
      // confluent-kafka (librdkafka): a committed transaction of two records, then an aborted one.
      await python(
        `
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "legacy-txn", "linger.ms": 1})
p.init_transactions(15)
for outcome, vals in (("commit", ["c0", "c1"]), ("abort", ["a0"])):
    p.begin_transaction()
    for v in vals:
        p.produce("txn", value=v, partition=0)
    p.flush(15)
    (p.commit_transaction if outcome == "commit" else p.abort_transaction)(15)
`,
        [br.address],
      );
      // Stored: c0 c1 (0, 1), COMMIT marker (2), a0 (3), ABORT marker (4).
      const log = br.broker.partition("txn", 0)!;
      assert.equal(log.logEndOffset, 5);
      const f = await fetch(c, 2, "txn", 0);
      assert.deepEqual([f.errorCode, f.highWatermark], [0, 5]);
      // Old consumers have no isolation level: they read everything but the markers.
      assert.deepEqual(contents(f.records).map((r) => [r[0], r[4]]), [[0, "c0"], [1, "c1"], [
        3,
        "a0",
      ]]);
      // From the offset of a marker: only what follows it.
      assert.deepEqual(contents((await fetch(c, 1, "txn", 2)).records).map((r) => r[0]), [3]);
    } finally {
      c.close();
      await br.stop();
    }
  },
);

Deno.test("ListOffsets v0: maxNumOffsets offsets at segment granularity", async () => {
  const br = await testBroker({ config: { "log.segment.bytes": "200" } });
  const c = await RawClient.connect(br.port);
  try {
    await br.broker.createTopic("lo", 1);
    // Empty log: latest and earliest are both 0.
    let r = await listOffsetsV0(c, "lo", -1, 10);
    assert.deepEqual([r.errorCode, r.oldStyleOffsets], [0, [0]]);
    assert.deepEqual((await listOffsetsV0(c, "lo", -2, 10)).oldStyleOffsets, [0]);
    // Three batches of about 150 bytes: each roll starts a segment (bases 0, 1, 2).
    for (let i = 0; i < 3; i++) {
      const p = await produce(
        c,
        2,
        "lo",
        encodeRecordBatch({ records: [{ value: "x".repeat(80) }] }),
      );
      assert.equal(p.errorCode, 0);
    }
    const log = br.broker.partition("lo", 0)!;
    assert.deepEqual(log.segmentBaseOffsets(), [0, 1, 2]);
    r = await listOffsetsV0(c, "lo", -1, 10);
    assert.deepEqual(r.oldStyleOffsets, [3, 2, 1, 0]);
    assert.deepEqual((await listOffsetsV0(c, "lo", -1, 1)).oldStyleOffsets, [3]);
    assert.deepEqual((await listOffsetsV0(c, "lo", -1, 2)).oldStyleOffsets, [3, 2]);
    assert.deepEqual((await listOffsetsV0(c, "lo", -2, 5)).oldStyleOffsets, [0]);
    // A timestamp before every segment was written: none.
    assert.deepEqual((await listOffsetsV0(c, "lo", 1000, 5)).oldStyleOffsets, []);
    // A time after everything: the log end offset and the segments before it.
    assert.deepEqual((await listOffsetsV0(c, "lo", Date.now() + 60_000, 2)).oldStyleOffsets, [
      3,
      2,
    ]);
    // DeleteRecords moves the log start: segment bases below it read as the log start.
    await log.deleteRecordsBefore(2);
    assert.deepEqual((await listOffsetsV0(c, "lo", -2, 5)).oldStyleOffsets, [2]);
    assert.equal(
      (await listOffsetsV0(c, "nope", -1, 1)).errorCode,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
  } finally {
    c.close();
    await br.stop();
  }
});

Deno.test("OffsetCommit v0–1 and OffsetFetch v0", async () => {
  const br = await testBroker();
  const c = await RawClient.connect(br.port);
  try {
    await br.broker.createTopic("oc", 2);
    // v0: no generation or member.
    let r = await c.call(OffsetCommitRequest, OffsetCommitResponse, 0, {
      groupId: "g0",
      topics: [{
        name: "oc",
        partitions: [
          { partitionIndex: 0, committedOffset: 42, committedMetadata: "m0" },
          { partitionIndex: 5, committedOffset: 1, committedMetadata: null },
        ],
      }],
    });
    assert.deepEqual(
      r.topics[0].partitions.map((p: Msg) => [p.partitionIndex, p.errorCode]),
      [[0, 0], [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
    );
    // v1: generation -1 and no member (a simple consumer), with a commit timestamp.
    r = await c.call(OffsetCommitRequest, OffsetCommitResponse, 1, {
      groupId: "g0",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      topics: [{
        name: "oc",
        partitions: [{
          partitionIndex: 1,
          committedOffset: 7,
          commitTimestamp: TS,
          committedMetadata: "m1",
        }],
      }],
    });
    assert.equal(r.topics[0].partitions[0].errorCode, 0);
    // v1 with a member the group does not have: UNKNOWN_MEMBER_ID.
    r = await c.call(OffsetCommitRequest, OffsetCommitResponse, 1, {
      groupId: "g0",
      generationIdOrMemberEpoch: 3,
      memberId: "m",
      topics: [{
        name: "oc",
        partitions: [{
          partitionIndex: 1,
          committedOffset: 8,
          commitTimestamp: -1,
          committedMetadata: "",
        }],
      }],
    });
    assert.equal(r.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);

    for (const v of [0, 1]) {
      const f = await c.call(OffsetFetchRequest, OffsetFetchResponse, v, {
        groupId: "g0",
        topics: [{ name: "oc", partitionIndexes: [0, 1] }, {
          name: "other",
          partitionIndexes: [0],
        }],
      });
      assert.deepEqual(
        f.topics.map((
          t: Msg,
        ) => [
          t.name,
          t.partitions.map((
            p: Msg,
          ) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]),
        ]),
        [["oc", [[0, 42, "m0", 0], [1, 7, "m1", 0]]], ["other", [[0, -1, "", 0]]]],
      );
    }
    // The v1 commit timestamp is the one stored.
    assert.equal(br.broker.groups.offsets.get("g0", "oc", 1)!.commitTimestamp, TS);
    assert.ok(br.broker.groups.offsets.get("g0", "oc", 0)!.commitTimestamp > TS);
  } finally {
    c.close();
    await br.stop();
  }
});

Deno.test(
  "CreateTopics v0–1, DeleteTopics v0, DescribeConfigs v0, DescribeLogDirs v0",
  async () => {
    const br = await testBroker();
    const c = await RawClient.connect(br.port);
    try {
      let r = await c.call(CreateTopicsRequest, CreateTopicsResponse, 0, {
        topics: [
          {
            name: "ct0",
            numPartitions: 3,
            replicationFactor: 1,
            assignments: [],
            configs: [{ name: "retention.ms", value: "1000" }],
          },
          { name: "ct-bad", numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] },
        ],
        timeoutMs: 5000,
      });
      assert.deepEqual(r.topics.map((t: Msg) => [t.name, t.errorCode]), [
        ["ct0", 0],
        ["ct-bad", ErrorCode.INVALID_REPLICATION_FACTOR],
      ]);
      assert.equal(br.broker.topic("ct0")!.partitions, 3);
      r = await c.call(CreateTopicsRequest, CreateTopicsResponse, 1, {
        topics: [
          { name: "ct0", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
          { name: "ct1", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] },
        ],
        timeoutMs: 5000,
        validateOnly: true,
      });
      assert.deepEqual(r.topics.map((t: Msg) => [t.name, t.errorCode]), [
        ["ct0", ErrorCode.TOPIC_ALREADY_EXISTS],
        ["ct1", 0],
      ]);
      assert.equal(br.broker.topic("ct1"), undefined);

      const dc = await c.call(DescribeConfigsRequest, DescribeConfigsResponse, 0, {
        resources: [{
          resourceType: 2,
          resourceName: "ct0",
          configurationKeys: ["retention.ms", "cleanup.policy"],
        }],
      });
      assert.equal(dc.results[0].errorCode, 0);
      assert.deepEqual(
        Object.fromEntries(dc.results[0].configs.map((e: Msg) => [e.name, [e.value, e.isDefault]])),
        { "cleanup.policy": ["delete", true], "retention.ms": ["1000", false] },
      );

      const dl = await c.call(DescribeLogDirsRequest, DescribeLogDirsResponse, 0, {
        topics: [{ topic: "ct0", partitions: [0, 2] }],
      });
      assert.equal(dl.results.length, 1);
      assert.deepEqual(
        dl.results[0].topics.map((t: Msg) => [
          t.name,
          t.partitions.map((p: Msg) => p.partitionIndex),
        ]),
        [["ct0", [0, 2]]],
      );

      const dt = await c.call(DeleteTopicsRequest, DeleteTopicsResponse, 0, {
        topicNames: ["ct0", "missing"],
        timeoutMs: 5000,
      });
      assert.deepEqual(dt.responses.map((t: Msg) => [t.name, t.errorCode]), [
        ["ct0", 0],
        ["missing", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ]);
      assert.equal(br.broker.topic("ct0"), undefined);
    } finally {
      c.close();
      await br.stop();
    }
  },
);
