/**
 * A topic's `compression.type` as Kafka's LogValidator applies it: a named codec (or
 * `uncompressed`) stores every batch in that codec, recompressing what producers sent
 * otherwise, with records, producer id, epoch, sequence and transactional flag unchanged;
 * `producer` stores batches as sent. Also `segment.jitter.ms`, drawn per segment.
 */
import assert from "node:assert/strict";
import { decompress } from "../../protocol/compression.ts";
import {
  compression,
  CompressionType,
  forEachBatch,
  isControl,
  isCrcValid,
  isTransactional,
  totalSize,
} from "../../protocol/record_batch.ts";
import { decodeRecords, encodeRecordBatch, endTxnMarker } from "../../protocol/records.ts";
import {
  type CompressionTypeConfig,
  type LogConfig,
  logConfig,
  logConfigFromProperties,
} from "../../storage/log_config.ts";
import { PartitionLog } from "../../storage/partition_log.ts";
import { decoder, kcat, python, testBroker } from "../support/helpers.ts";

const CODECS: [CompressionTypeConfig, number][] = [
  ["uncompressed", CompressionType.NONE],
  ["gzip", CompressionType.GZIP],
  ["snappy", CompressionType.SNAPPY],
  ["lz4", CompressionType.LZ4],
  ["zstd", CompressionType.ZSTD],
];

async function withLog(
  config: Partial<LogConfig>,
  fn: (log: PartitionLog) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "recompression-" });
  const log = await PartitionLog.open(`${root}/t-0`, logConfig(config), {
    topic: "t",
    partition: 0,
    decompress,
  });
  try {
    await fn(log);
  } finally {
    await log.close();
    await Deno.remove(root, { recursive: true });
  }
}

interface Stored {
  codec: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  transactional: boolean;
  control: boolean;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  values: string[];
  keys: string[];
  timestamps: number[];
  headers: string[];
}

function stored(buf: Uint8Array): Stored[] {
  const out: Stored[] = [];
  forEachBatch(buf, (pos, h) => {
    assert.ok(isCrcValid(buf, pos, totalSize(h)), "stored batch CRC");
    const { records } = decodeRecords(buf.subarray(pos, pos + totalSize(h)));
    out.push({
      codec: compression(h),
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      transactional: isTransactional(h),
      control: isControl(h),
      baseOffset: h.baseOffset,
      lastOffset: h.baseOffset + h.lastOffsetDelta,
      maxTimestamp: h.maxTimestamp,
      values: records.map((r) => r.value ? decoder.decode(r.value) : "<null>"),
      keys: records.map((r) => r.key ? decoder.decode(r.key) : "<null>"),
      timestamps: records.map((r) => r.timestampDelta),
      headers: records.map((r) =>
        r.headers.map((x) => `${x.key}=${x.value ? decoder.decode(x.value) : ""}`).join(",")
      ),
    });
  });
  return out;
}

/** Every batch of the log, read batch by batch. */
async function readAll(log: PartitionLog): Promise<Stored[]> {
  const out: Stored[] = [];
  while (true) {
    const next = out.length ? out[out.length - 1].lastOffset + 1 : 0;
    if (next >= log.logEndOffset) return out;
    out.push(...stored(await log.read(next, 1 << 22)));
  }
}

function batch(
  codec: number,
  tag: string,
  extra: Partial<Parameters<typeof encodeRecordBatch>[0]> = {},
) {
  return encodeRecordBatch({
    compression: codec,
    records: Array.from({ length: 20 }, (_, i) => ({
      key: i % 3 === 0 ? undefined : `k${i}`,
      value: `${tag}-${i}-${"v".repeat(i * 7)}`,
      timestamp: 1_000 + i,
      headers: i === 1 ? [{ key: "h", value: "hv" }] : undefined,
    })),
    ...extra,
  });
}

Deno.test("compression.type stores every batch in the topic's codec, records unchanged", async () => {
  for (const [type, target] of CODECS) {
    await withLog(
      { compressionType: type, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER },
      async (log) => {
        const expected: Stored[] = [];
        let offset = 0;
        for (const [, source] of CODECS) {
          const sent = batch(source, `${type}-from-${source}`);
          const r = await log.append(sent);
          assert.equal(r.baseOffset, offset);
          const [orig] = stored(sent);
          expected.push({ ...orig, codec: target, baseOffset: offset, lastOffset: offset + 19 });
          offset += 20;
        }
        const got = await readAll(log);
        assert.deepEqual(got, expected, type);
      },
    );
  }
});

Deno.test("compression.type=producer keeps each batch's own codec, bytes as sent", async () => {
  await withLog(
    { compressionType: "producer", timestampAfterMaxMs: Number.MAX_SAFE_INTEGER },
    async (log) => {
      const sent = CODECS.map(([, c]) => batch(c, `p${c}`));
      for (const b of sent) await log.append(b.slice());
      const got = await readAll(log);
      assert.deepEqual(got.map((s) => s.codec), CODECS.map(([, c]) => c));
      const buf = await log.read(0, 1 << 22);
      let pos = 0;
      for (const b of sent) {
        // Past the base offset and leader epoch (assigned by the log) the bytes are the producer's.
        assert.deepEqual(buf.subarray(pos + 16, pos + b.length), b.subarray(16));
        pos += b.length;
      }
    },
  );
});

Deno.test("recompressed idempotent and transactional batches keep producer id, epoch and sequence", async () => {
  await withLog(
    { compressionType: "zstd", timestampAfterMaxMs: Number.MAX_SAFE_INTEGER },
    async (log) => {
      const idem = { producerId: 7, producerEpoch: 3, baseSequence: 0 };
      await log.append(batch(CompressionType.NONE, "i0", idem));
      await log.append(batch(CompressionType.GZIP, "i1", { ...idem, baseSequence: 20 }));
      // A retry of the last batch is recognised after recompression, and not stored again.
      const retry = await log.append(
        batch(CompressionType.GZIP, "i1", { ...idem, baseSequence: 20 }),
      );
      assert.equal(retry.duplicate, true);
      assert.equal(retry.baseOffset, 20);
      // An out-of-order sequence is still refused.
      await assert.rejects(
        log.append(batch(CompressionType.NONE, "gap", { ...idem, baseSequence: 99 })),
      );

      const txn = { producerId: 9, producerEpoch: 1, baseSequence: 0, isTransactional: true };
      await log.append(batch(CompressionType.LZ4, "t0", txn));
      const marker = encodeRecordBatch({
        isControl: true,
        isTransactional: true,
        producerId: 9,
        producerEpoch: 1,
        records: [endTxnMarker(1, 0)],
      });
      await log.append(marker, { origin: "coordinator" });
      const got = await readAll(log);
      assert.deepEqual(
        got.map((
          s,
        ) => [s.codec, s.producerId, s.producerEpoch, s.baseSequence, s.transactional, s.control]),
        [
          [CompressionType.ZSTD, 7, 3, 0, false, false],
          [CompressionType.ZSTD, 7, 3, 20, false, false],
          [CompressionType.ZSTD, 9, 1, 0, true, false],
          // Control batches written uncompressed stay uncompressed, as in Kafka.
          [CompressionType.NONE, 9, 1, -1, true, true],
        ],
      );
      assert.equal(log.lastStableOffset, log.logEndOffset);
    },
  );
});

Deno.test("a batch that recompression makes larger than max.message.bytes is refused", async () => {
  // Random bytes do not compress: gzip makes the batch a little larger than sent.
  const random = crypto.getRandomValues(new Uint8Array(4000));
  const plain = encodeRecordBatch({ records: [{ value: random, timestamp: 1 }] });
  await withLog(
    {
      compressionType: "gzip",
      maxMessageBytes: plain.length,
      timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
    },
    async (log) => {
      await assert.rejects(log.append(plain), /exceeds the maximum/);
      assert.equal(log.logEndOffset, 0);
    },
  );
});

Deno.test("compression.type and segment.jitter.ms are read from topic properties", () => {
  const c = logConfigFromProperties({ "compression.type": "lz4", "segment.jitter.ms": "500" });
  assert.equal(c.compressionType, "lz4");
  assert.equal(c.segmentJitterMs, 500);
  assert.throws(() => logConfigFromProperties({ "compression.type": "brotli" }), /invalid value/);
});

Deno.test("segment.jitter.ms takes a per-segment random time off segment.ms", async () => {
  const random = Math.random;
  Math.random = () => 0.5; // jitter = 0.5 * min(segment.jitter.ms, segment.ms) = 30 s
  try {
    await withLog(
      { segmentMs: 60_000, segmentJitterMs: 60_000, messageTimestampType: "LogAppendTime" },
      async (log) => {
        await log.append(batch(CompressionType.NONE, "a"), { now: 1_000_000 });
        await log.append(batch(CompressionType.NONE, "b"), { now: 1_029_000 });
        assert.deepEqual(log.segmentBaseOffsets(), [0]);
        await log.append(batch(CompressionType.NONE, "c"), { now: 1_031_000 });
        assert.deepEqual(log.segmentBaseOffsets(), [0, 40]);
      },
    );
  } finally {
    Math.random = random;
  }
});

Deno.test("kcat produces uncompressed to a gzip topic: gzip batches on disk, records exact", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("gz", 1, [["compression.type", "gzip"]]);
    const lines = Array.from(
      { length: 500 },
      (_, i) => `key-${i}\tvalue-${i}-${"x".repeat(i % 40)}`,
    );
    await kcat(b.address, [
      "-P",
      "-t",
      "gz",
      "-p",
      "0",
      "-K",
      "\t",
      "-z",
      "none",
      "-X",
      "linger.ms=5",
    ], { stdin: lines.join("\n") + "\n" });
    const out = decoder.decode(
      await kcat(b.address, [
        "-C",
        "-t",
        "gz",
        "-p",
        "0",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%o\t%k\t%s\n",
      ]),
    );
    assert.deepEqual(out.split("\n").filter((l) => l), lines.map((l, i) => `${i}\t${l}`));

    const dir = [...Deno.readDirSync(b.dataDir)].find((e) => e.name === "gz-0");
    assert.ok(dir, "partition directory");
    const segment = [...Deno.readDirSync(`${b.dataDir}/gz-0`)].find((e) =>
      e.name.endsWith(".log")
    )!;
    const bytes = Deno.readFileSync(`${b.dataDir}/gz-0/${segment.name}`);
    const codecs = new Set<number>();
    forEachBatch(bytes, (_pos, h) => void codecs.add(compression(h)));
    assert.deepEqual([...codecs], [CompressionType.GZIP]);
  } finally {
    await b.stop();
  }
});

Deno.test("compression.gzip.level and compression.zstd.level set the recompression level", async () => {
  const words = Array.from({ length: 4000 }, (_, i) => (i * 2654435761 % 100003).toString(36));
  const sent = encodeRecordBatch({ records: [{ value: words.join(" "), timestamp: 1 }] });
  const sizes: Record<string, number> = {};
  for (
    const cfg of [
      { compressionType: "gzip", compressionGzipLevel: 1 },
      { compressionType: "gzip", compressionGzipLevel: 9 },
      { compressionType: "zstd", compressionZstdLevel: -5 },
      { compressionType: "zstd", compressionZstdLevel: 19 },
    ] as Partial<LogConfig>[]
  ) {
    await withLog({ ...cfg, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER }, async (log) => {
      await log.append(sent.slice());
      const [s] = await readAll(log);
      assert.deepEqual(s.values, [words.join(" ")]);
      const level = cfg.compressionGzipLevel ?? cfg.compressionZstdLevel;
      sizes[`${cfg.compressionType}${level}`] = (await log.read(0, 1 << 22)).length;
    });
  }
  assert.ok(sizes.gzip9 < sizes.gzip1, JSON.stringify(sizes));
  assert.ok(sizes["zstd19"] < sizes["zstd-5"], JSON.stringify(sizes));
  const c = logConfigFromProperties({
    "compression.gzip.level": "9",
    "compression.zstd.level": "-1",
  });
  assert.deepEqual([c.compressionGzipLevel, c.compressionZstdLevel], [9, -1]);
  assert.throws(() => logConfigFromProperties({ "compression.gzip.level": "0" }), /invalid value/);
  assert.throws(() => logConfigFromProperties({ "compression.zstd.level": "23" }), /invalid value/);
});

const IDEMPOTENT_LZ4 = `
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "enable.idempotence": True, "acks": "all",
              "compression.type": "lz4", "linger.ms": 5})
for i in range(2000):
    p.produce("zt", key=f"k{i}", value=f"v{i}-" + "y" * (i % 30), partition=0)
p.flush(30)
`;

Deno.test("an idempotent librdkafka producer's lz4 batches are stored as zstd, ids kept", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("zt", 1, [["compression.type", "zstd"]]);
    await python(IDEMPOTENT_LZ4, [b.address]);
    const out = decoder.decode(
      await kcat(b.address, [
        "-C",
        "-t",
        "zt",
        "-p",
        "0",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%k=%s\n",
      ]),
    );
    assert.deepEqual(
      out.split("\n").filter((l) => l),
      Array.from({ length: 2000 }, (_, i) => `k${i}=v${i}-${"y".repeat(i % 30)}`),
    );
    const segment = [...Deno.readDirSync(`${b.dataDir}/zt-0`)].find((e) =>
      e.name.endsWith(".log")
    )!;
    const bytes = Deno.readFileSync(`${b.dataDir}/zt-0/${segment.name}`);
    let next = 0;
    forEachBatch(bytes, (_pos, h) => {
      assert.equal(compression(h), CompressionType.ZSTD);
      assert.ok(h.producerId >= 0 && h.producerEpoch >= 0, "idempotent batch keeps its producer");
      assert.equal(h.baseSequence, next, "sequences run on unbroken");
      next += h.recordCount;
    });
    assert.equal(next, 2000);
  } finally {
    await b.stop();
  }
});

Deno.test("a batch that recompression makes larger than segment.bytes is refused whole", async () => {
  const text = "z".repeat(20_000);
  const sent = encodeRecordBatch({
    compression: CompressionType.GZIP,
    records: [{ value: text, timestamp: 1 }],
  });
  await withLog(
    {
      compressionType: "uncompressed",
      segmentBytes: 10_000,
      timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
    },
    async (log) => {
      await assert.rejects(log.append(sent), /exceed segment.bytes/);
      assert.equal(log.logEndOffset, 0);
    },
  );
});

Deno.test("the broker's compression.type (static or dynamic) is the default of every topic", async () => {
  const b = await testBroker({ config: { "compression.type": "snappy" } });
  try {
    await b.broker.createTopic("d", 1);
    await kcat(b.address, ["-P", "-t", "d", "-p", "0", "-z", "none"], { stdin: "a\nb\n" });
    b.broker.dynamicConfig.alterBrokerConfigs([["compression.type", "lz4"]], "default");
    await kcat(b.address, ["-P", "-t", "d", "-p", "0", "-z", "none"], { stdin: "c\n" });
    const segment = [...Deno.readDirSync(`${b.dataDir}/d-0`)].find((e) => e.name.endsWith(".log"))!;
    const bytes = Deno.readFileSync(`${b.dataDir}/d-0/${segment.name}`);
    // By offset: kcat may send a and b in one batch or two.
    const codecs: number[] = [];
    forEachBatch(bytes, (_pos, h) => {
      for (let i = 0; i < h.recordCount; i++) codecs.push(compression(h));
    });
    assert.deepEqual(codecs, [CompressionType.SNAPPY, CompressionType.SNAPPY, CompressionType.LZ4]);
  } finally {
    await b.stop();
  }
});

Deno.test("a payload of several batches in mixed codecs is stored batch by batch in the topic's", async () => {
  await withLog(
    { compressionType: "lz4", timestampAfterMaxMs: Number.MAX_SAFE_INTEGER },
    async (log) => {
      const parts = [CompressionType.GZIP, CompressionType.NONE, CompressionType.LZ4].map((c) =>
        batch(c, `m${c}`)
      );
      const payload = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        payload.set(p, at);
        at += p.length;
      }
      const r = await log.append(payload);
      assert.deepEqual([r.baseOffset, r.lastOffset, r.recordCount], [0, 59, 60]);
      const got = await readAll(log);
      assert.deepEqual(got.map((s) => [s.codec, s.baseOffset]), [
        [CompressionType.LZ4, 0],
        [CompressionType.LZ4, 20],
        [CompressionType.LZ4, 40],
      ]);
      assert.deepEqual(got.map((s) => s.values), parts.map((p) => stored(p)[0].values));
    },
  );
});
