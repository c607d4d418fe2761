/**
 * Codec throughput: CRC-32C, xxHash32, each compression codec over 1 MiB of text-like data,
 * and record-batch encode/decode. Each group has a baseline so Deno prints ratios;
 * MB/s = 1.048576 / (time per iteration in ms) * 1000 for the 1 MiB cases.
 */
import zlib from "node:zlib";
import { compress, Compression, decompress, xxhash32 } from "../protocol/compression.ts";
import { crc32c } from "../protocol/crc32c.ts";
import { type BatchInput, decodeRecords, encodeRecordBatch } from "../protocol/records.ts";

const MiB = 1024 * 1024;

/** Deterministic text-like data: compressible, but not trivially. */
function textLike(n: number): Uint8Array {
  const words = ["kafka", "broker", "partition", "offset", "record", "batch", "the", "of", "{"];
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8;
  const out = new Uint8Array(n);
  let p = 0;
  while (p < n) {
    const w = words[next() % words.length] + (next() % 3 === 0 ? String(next() % 1000) : "") + " ";
    for (let i = 0; i < w.length && p < n; i++) out[p++] = w.charCodeAt(i);
  }
  return out;
}

const data = textLike(MiB);
const random = crypto.getRandomValues(new Uint8Array(65536));
const randomMiB = new Uint8Array(MiB).map((_, i) => random[i & 0xffff] ^ (i >>> 16));

const codecs: [string, number][] = [
  ["gzip", Compression.GZIP],
  ["snappy", Compression.SNAPPY],
  ["lz4", Compression.LZ4],
  ["zstd", Compression.ZSTD],
];

Deno.bench({
  name: "crc32c 1 MiB",
  group: "checksum",
  baseline: true,
  fn: () => {
    crc32c(data);
  },
});
for (const size of [1024, 16 * 1024]) {
  const slice = data.subarray(0, size);
  Deno.bench({
    name: `crc32c ${size / 1024} KiB`,
    group: "checksum",
    fn: () => {
      crc32c(slice);
    },
  });
}
// The native ceiling for comparison: node:zlib's crc32 is CRC-32 (IEEE), not Castagnoli, so it
// cannot check Kafka batches; neither node:crypto nor Web Crypto offers CRC-32C.
Deno.bench({
  name: "node:zlib crc32 (IEEE, native) 1 MiB",
  group: "checksum",
  fn: () => {
    zlib.crc32(data);
  },
});
Deno.bench({
  name: "xxhash32 1 MiB",
  group: "checksum",
  fn: () => {
    xxhash32(data);
  },
});

for (const [name, codec] of codecs) {
  const compressed = compress(codec, data);
  const ratio = (data.length / compressed.length).toFixed(1);
  Deno.bench({
    name: `compress ${name} 1 MiB text (ratio ${ratio})`,
    group: "compress 1 MiB text",
    baseline: codec === Compression.GZIP,
    fn: () => {
      compress(codec, data);
    },
  });
  Deno.bench({
    name: `decompress ${name} 1 MiB text`,
    group: "decompress 1 MiB text",
    baseline: codec === Compression.GZIP,
    fn: () => {
      decompress(codec, compressed);
    },
  });
  Deno.bench({
    name: `compress ${name} 1 MiB incompressible`,
    group: "compress 1 MiB incompressible",
    baseline: codec === Compression.GZIP,
    fn: () => {
      compress(codec, randomMiB);
    },
  });
}

const batchInput: BatchInput = {
  baseOffset: 1000,
  producerId: 7,
  producerEpoch: 0,
  baseSequence: 0,
  records: Array.from({ length: 100 }, (_, i) => ({
    key: `user-${i}`,
    value: `{"id":${i},"name":"user ${i}","tags":["a","b","c"],"score":${i * 17}}`,
    headers: [{ key: "trace", value: `t-${i}` }],
    timestamp: 1_700_000_000_000 + i,
  })),
};
const batch = encodeRecordBatch(batchInput);
const lz4Batch = encodeRecordBatch({ ...batchInput, compression: Compression.LZ4 });

Deno.bench({
  name: "encodeRecordBatch 100 records",
  group: "records",
  baseline: true,
  fn: () => {
    encodeRecordBatch(batchInput);
  },
});
Deno.bench({
  name: "decodeRecords 100 records",
  group: "records",
  fn: () => {
    decodeRecords(batch);
  },
});
Deno.bench({
  name: "encodeRecordBatch 100 records lz4",
  group: "records",
  fn: () => {
    encodeRecordBatch({ ...batchInput, compression: Compression.LZ4 });
  },
});
Deno.bench({
  name: "decodeRecords 100 records lz4",
  group: "records",
  fn: () => {
    decodeRecords(lz4Batch);
  },
});
