/**
 * Legacy message sets (magic 0/1): the codec against hand-built bytes and kafka-python's
 * implementation, the produce-side up-conversion rules and the fetch-side down-conversion.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { Compression, decompress } from "../../protocol/compression.ts";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  encodeLegacyMessageSet,
  innerRecords,
  legacyCrc,
  readLegacyEntries,
} from "../../protocol/legacy_records.ts";
import { decodeRecords, encodeRecordBatch, endTxnMarker } from "../../protocol/records.ts";
import { downConvert } from "../../protocol/records_conversion.ts";
import { convertLegacyMessageSet } from "../../storage/log_validator.ts";
import { python } from "../support/helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);
const hex = (u: Uint8Array) => [...u].map((x) => x.toString(16).padStart(2, "0")).join("");
const fromHex = (h: string) => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));
const cfg = { maxMessageBytes: 1 << 20, messageTimestampType: "CreateTime" as const };

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof KafkaError) return e.code;
    throw e;
  }
  return 0;
}

Deno.test("legacy CRC is CRC-32 (IEEE), not CRC-32C", () => {
  assert.equal(legacyCrc(b("123456789"), 0, 9), 0xcbf43926);
});

Deno.test("magic 0 and 1 messages are laid out as Kafka's LegacyRecord", () => {
  const v0 = encodeLegacyMessageSet(0, 0, [{
    offset: 7,
    timestamp: 123,
    key: b("k"),
    value: b("v"),
  }]);
  // offset 7 | size 16 | crc | magic 0 | attr 0 | key len 1 'k' | value len 1 'v'
  const body0 = fromHex("0000" + "00000001" + "6b" + "00000001" + "76");
  const crc0 = legacyCrc(body0, 0, body0.length).toString(16).padStart(8, "0");
  assert.equal(hex(v0), "0000000000000007" + "00000010" + crc0 + hex(body0));

  const v1 = encodeLegacyMessageSet(1, 0, [{
    offset: 1,
    timestamp: 1700000000000,
    key: null,
    value: b("x"),
  }]);
  const body1 = fromHex("0100" + "0000018bcfe56800" + "ffffffff" + "00000001" + "78");
  const crc1 = legacyCrc(body1, 0, body1.length).toString(16).padStart(8, "0");
  assert.equal(hex(v1), "0000000000000001" + "00000017" + crc1 + hex(body1));

  const [e] = readLegacyEntries(v1);
  assert.deepEqual(
    [e.offset, e.magic, e.attributes, e.timestamp, e.key, dec.decode(e.value!), e.crcValid],
    [1, 1, 0, 1700000000000, null, "x", true],
  );
  v1[v1.length - 1] ^= 1;
  assert.equal(readLegacyEntries(v1)[0].crcValid, false);
});

Deno.test("message sets built by kafka-python (magic 0/1, gzip) read back exactly", async () => {
  const out = await python(`
from kafka.record.legacy_records import LegacyRecordBatchBuilder
import sys
for magic in (0, 1):
    for codec in (0, 1):
        bld = LegacyRecordBatchBuilder(magic, codec, 1 << 20)
        for i in range(3):
            bld.append(i, 1700000000000 + i, b"k%d" % i, b"value-%d" % i)
        sys.stdout.write(bytes(bld.build()).hex() + "\\n")
`);
  const sets = out.trim().split("\n").map(fromHex);
  const expect = (magic: number) =>
    [0, 1, 2].map((i) => [i, magic === 0 ? -1 : 1700000000000 + i, `k${i}`, `value-${i}`]);
  for (const [i, set] of sets.entries()) {
    const magic = i < 2 ? 0 : 1;
    const gz = i % 2 === 1;
    const entries = readLegacyEntries(set);
    assert.ok(entries.every((e) => e.crcValid && e.magic === magic));
    const recs = gz ? innerRecords(entries[0]) : entries;
    if (gz) {
      assert.equal(entries.length, 1);
      assert.ok(recs.every((r) => r.crcValid));
    }
    assert.deepEqual(
      recs.map((r) => [r.offset, r.timestamp, dec.decode(r.key!), dec.decode(r.value!)]),
      expect(magic),
    );
    // Our encoder writes the same bytes kafka-python does for uncompressed sets.
    if (!gz) {
      assert.equal(
        hex(encodeLegacyMessageSet(
          magic as 0 | 1,
          0,
          recs.map((r) => ({
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
          })),
        )),
        hex(set),
      );
    }
  }
});

Deno.test("our compressed wrappers are read by kafka-python with absolute offsets", async () => {
  const recs = [10, 11, 12].map((o) => ({
    offset: o,
    timestamp: 1700000000000 + o,
    key: b(`k${o}`),
    value: b(`v${o}`),
  }));
  for (const magic of [0, 1] as const) {
    const set = encodeLegacyMessageSet(magic, Compression.GZIP, recs);
    const [w] = readLegacyEntries(set);
    // The wrapper carries the last offset; magic 1 inner offsets are relative.
    assert.equal(w.offset, 12);
    assert.deepEqual(
      readLegacyEntries(decompress(Compression.GZIP, w.value!)).map((e) => e.offset),
      magic === 1 ? [0, 1, 2] : [10, 11, 12],
    );
    assert.equal(w.timestamp, magic === 1 ? 1700000000012 : -1);
    const out = await python(
      `
import sys
from kafka.record.memory_records import MemoryRecords
recs = MemoryRecords(bytes.fromhex(sys.argv[1]))
while True:
    batch = recs.next_batch()
    if batch is None: break
    for r in batch:
        print(r.offset, r.timestamp, r.key.decode(), r.value.decode())
`,
      [hex(set)],
    );
    const ts = (o: number) => magic === 1 ? 1700000000000 + o : "None";
    assert.equal(out, [10, 11, 12].map((o) => `${o} ${ts(o)} k${o} v${o}\n`).join(""));
  }
});

Deno.test("magic 0 lz4 uses Kafka 0.8's frame descriptor checksum both ways", () => {
  const recs = [{ offset: 0, timestamp: -1, key: null, value: b("lz4 old") }];
  const set = encodeLegacyMessageSet(0, Compression.LZ4, recs);
  const [w] = readLegacyEntries(set);
  // The descriptor checksum covers the magic number: a standard reader refuses it.
  assert.equal(code(() => decompress(Compression.LZ4, w.value!)), ErrorCode.CORRUPT_MESSAGE);
  assert.equal(dec.decode(innerRecords(w)[0].value!), "lz4 old");
  // Magic 1 frames are standard.
  const [w1] = readLegacyEntries(encodeLegacyMessageSet(1, Compression.LZ4, recs));
  assert.equal(readLegacyEntries(decompress(Compression.LZ4, w1.value!)).length, 1);
});

Deno.test("up-conversion: one v2 batch, codec and timestamps kept, headers none", () => {
  const v0 = encodeLegacyMessageSet(0, 0, [
    { offset: 0, timestamp: 5, key: b("a"), value: b("1") },
    { offset: 1, timestamp: 5, key: null, value: null },
  ]);
  let { header, records } = decodeRecords(convertLegacyMessageSet(v0, cfg));
  assert.deepEqual(
    [header.compression, header.recordCount, header.baseTimestamp, header.maxTimestamp],
    [0, 2, -1, -1],
  );
  assert.deepEqual(records.map((r) => [r.offsetDelta, r.timestampDelta, r.key, r.value]), [
    [0, 0, b("a"), b("1")],
    [1, 0, null, null],
  ]);

  // Two gzip wrappers from one producer become one gzip batch of all their records.
  const w1 = encodeLegacyMessageSet(1, Compression.GZIP, [
    { offset: 0, timestamp: 1000, key: null, value: b("x") },
    { offset: 1, timestamp: 3000, key: null, value: b("y") },
  ]);
  const w2 = encodeLegacyMessageSet(1, Compression.GZIP, [
    { offset: 0, timestamp: 2000, key: null, value: b("z") },
  ]);
  const both = new Uint8Array(w1.length + w2.length);
  both.set(w1);
  both.set(w2, w1.length);
  ({ header, records } = decodeRecords(convertLegacyMessageSet(both, cfg)));
  assert.deepEqual(
    [header.compression, header.recordCount, header.baseTimestamp, header.maxTimestamp],
    [Compression.GZIP, 3, 1000, 3000],
  );
  assert.deepEqual(records.map((r) => [r.offsetDelta, r.timestampDelta, dec.decode(r.value!)]), [
    [0, 0, "x"],
    [1, 2000, "y"],
    [2, 1000, "z"],
  ]);
});

Deno.test("up-conversion refuses what Kafka's LogValidator refuses", () => {
  const one = (magic: 0 | 1, codec = 0) =>
    encodeLegacyMessageSet(magic, codec, [{ offset: 0, timestamp: 1, key: null, value: b("v") }]);
  // Outer CRC.
  const bad = one(1);
  bad[bad.length - 1] ^= 1;
  assert.equal(code(() => convertLegacyMessageSet(bad, cfg)), ErrorCode.CORRUPT_MESSAGE);
  // Truncated.
  assert.equal(
    code(() => convertLegacyMessageSet(one(0).subarray(0, 20), cfg)),
    ErrorCode.CORRUPT_MESSAGE,
  );
  // Larger than max.message.bytes.
  assert.equal(
    code(() => convertLegacyMessageSet(one(1), { ...cfg, maxMessageBytes: 20 })),
    ErrorCode.MESSAGE_TOO_LARGE,
  );
  // A producer may not set LogAppendTime on a message without a timestamp.
  const lat = encodeLegacyMessageSet(
    1,
    0,
    [{ offset: 0, timestamp: -1, key: null, value: b("v") }],
    0,
  );
  assert.equal(
    code(() => convertLegacyMessageSet(lat, { ...cfg, messageTimestampType: "LogAppendTime" })),
    ErrorCode.INVALID_TIMESTAMP,
  );
  // Inner message magic must match the wrapper's.
  assert.equal(
    code(() => convertLegacyMessageSet(gzipWrapper(one(0)), cfg)),
    ErrorCode.INVALID_RECORD,
  );
  // A well-formed wrapper passes.
  assert.equal(code(() => convertLegacyMessageSet(gzipWrapper(one(1)), cfg)), 0);
  // Inner messages may not be compressed again.
  const nested = gzipWrapper(one(1, Compression.GZIP));
  assert.equal(code(() => convertLegacyMessageSet(nested, cfg)), ErrorCode.INVALID_RECORD);
  // A magic 1 wrapper offset below its last inner offset.
  const two = encodeLegacyMessageSet(1, 0, [
    { offset: 0, timestamp: 1, key: null, value: b("a") },
    { offset: 5, timestamp: 1, key: null, value: b("b") },
  ]);
  const low = gzipWrapper(two, 3);
  assert.equal(code(() => convertLegacyMessageSet(low, cfg)), ErrorCode.INVALID_RECORD);
  // An inner message with a bad CRC.
  const badInner = one(1);
  badInner[badInner.length - 1] ^= 1;
  assert.equal(
    code(() => convertLegacyMessageSet(gzipWrapper(badInner), cfg)),
    ErrorCode.CORRUPT_MESSAGE,
  );
});

/** A magic 1 gzip wrapper at `offset` around the given inner message set, whatever it holds. */
function gzipWrapper(inner: Uint8Array, offset = 0): Uint8Array {
  const value = new Uint8Array(gzipSync(inner));
  const w = encodeLegacyMessageSet(1, 0, [{ offset, timestamp: 1, key: null, value }]);
  w[12 + 5] = Compression.GZIP; // attributes: codec
  new DataView(w.buffer).setUint32(12, legacyCrc(w, 16, w.length));
  return w;
}

Deno.test("down-conversion: markers dropped, earlier records skipped, codec kept", () => {
  const plain = encodeRecordBatch({
    baseOffset: 10,
    records: [
      { key: "a", value: "1", timestamp: 100, headers: [{ key: "h", value: "x" }] },
      { key: "b", value: "2", timestamp: 200 },
      { key: "c", value: "3", timestamp: 150 },
    ],
  });
  const marker = encodeRecordBatch({
    baseOffset: 13,
    isControl: true,
    isTransactional: true,
    producerId: 1,
    producerEpoch: 0,
    records: [endTxnMarker(1, 0)],
  });
  const gz = encodeRecordBatch({
    baseOffset: 14,
    compression: Compression.GZIP,
    timestampType: 1,
    maxTimestamp: 999,
    records: [{ value: "g1", timestamp: 300 }, { value: "g2", timestamp: 301 }],
  });
  const all = new Uint8Array(plain.length + marker.length + gz.length);
  all.set(plain);
  all.set(marker, plain.length);
  all.set(gz, plain.length + marker.length);

  const v1 = readLegacyEntries(downConvert(all, 1, 11));
  // Offset 10 is before the fetch offset; the marker at 13 is dropped; the gzip batch is one wrapper.
  assert.deepEqual(v1.map((e) => [e.offset, e.magic, e.attributes, e.timestamp]), [
    [11, 1, 0, 200],
    [12, 1, 0, 150],
    [15, 1, Compression.GZIP | 0x08, 999],
  ]);
  assert.deepEqual(
    innerRecords(v1[2]).map((
      r,
    ) => [r.absoluteOffset, r.timestamp, r.attributes, dec.decode(r.value!)]),
    [[14, 999, 0x08, "g1"], [15, 999, 0x08, "g2"]],
  );
  const v0 = readLegacyEntries(downConvert(all, 0, 0));
  assert.deepEqual(v0.map((e) => [e.offset, e.magic, e.timestamp, e.attributes]), [
    [10, 0, -1, 0],
    [11, 0, -1, 0],
    [12, 0, -1, 0],
    [15, 0, -1, Compression.GZIP],
  ]);
  assert.deepEqual(innerRecords(v0[3]).map((r) => r.absoluteOffset), [14, 15]);
  // A byte budget stops before the next converted batch, but the first is always whole.
  assert.equal(readLegacyEntries(downConvert(all, 1, 10, 1)).length, 3);

  const zstd = encodeRecordBatch({ compression: Compression.ZSTD, records: [{ value: "z" }] });
  assert.equal(code(() => downConvert(zstd, 1, 0)), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
});
