import assert from "node:assert/strict";
import {
  compress,
  Compression,
  decompress,
  lz4CompressFrame,
  lz4DecompressFrame,
  snappyCompressRaw,
  snappyCompressXerial,
  snappyDecompress,
  xxhash32,
} from "../../protocol/compression.ts";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";

const enc = new TextEncoder();
const CODECS = [
  Compression.NONE,
  Compression.GZIP,
  Compression.SNAPPY,
  Compression.LZ4,
  Compression.ZSTD,
];
const MiB = 1024 * 1024;

function bytes(...parts: (number[] | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) out.push(...(typeof p === "string" ? enc.encode(p) : p));
  return new Uint8Array(out);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function assertBytes(actual: Uint8Array, expected: Uint8Array, msg?: string): void {
  if (!sameBytes(actual, expected)) {
    if (actual.length < 256 && expected.length < 256) {
      assert.deepEqual([...actual], [...expected], msg);
    }
    assert.fail(`${msg ?? "bytes differ"}: ${actual.length} vs ${expected.length} bytes`);
  }
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

function randomBytes(n: number, seed = 1): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** Text-like data: words from a small vocabulary, compressible but not trivially. */
function wordy(n: number, seed = 7): Uint8Array {
  const words = [
    "kafka",
    "broker",
    "partition",
    "offset",
    "record",
    "batch",
    "the",
    "of",
    "{",
    "}",
  ];
  const next = prng(seed);
  const out = new Uint8Array(n);
  let p = 0;
  while (p < n) {
    const w = words[next() % words.length] + (next() % 3 === 0 ? String(next() % 1000) : "") + " ";
    for (let i = 0; i < w.length && p < n; i++) out[p++] = w.charCodeAt(i);
  }
  return out;
}

const INPUTS: [string, Uint8Array][] = [
  ["empty", new Uint8Array(0)],
  ["one byte", bytes("x")],
  ["small", bytes("hello kafka, hello tributary, hello kafka")],
  ["1 MiB random", randomBytes(MiB)],
  ["1 MiB zeros", new Uint8Array(MiB)],
  ["1 MiB repetitive", enc.encode("the quick brown fox jumps over the lazy dog. ".repeat(23832))],
  ["1 MiB text-like", wordy(MiB)],
  [
    "300 KiB random+repeats",
    (() => {
      const r = randomBytes(300 * 1024, 3);
      for (let i = 70_000; i < 300 * 1024; i += 3000) r.copyWithin(i, i - 69_000, i - 68_000);
      return r;
    })(),
  ],
];

function assertCode(fn: () => unknown, code: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KafkaError, `expected KafkaError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

function assertCorrupt(fn: () => unknown): void {
  assertCode(fn, ErrorCode.CORRUPT_MESSAGE);
}

Deno.test("compression: round trips every codec over every input", () => {
  for (const [name, data] of INPUTS) {
    for (const codec of CODECS) {
      const z = compress(codec, data);
      assertBytes(decompress(codec, z), data, `${name} codec ${codec}`);
    }
  }
});

Deno.test("compression: repetitive data actually shrinks", () => {
  const data = INPUTS[5][1];
  for (const codec of CODECS.slice(1)) {
    const z = compress(codec, data);
    assert.ok(z.length < data.length / 15, `codec ${codec}: ${z.length}`);
  }
  // Random data may not grow by more than the framing overhead.
  const rnd = INPUTS[3][1];
  assert.ok(compress(Compression.LZ4, rnd).length < rnd.length + 16 * 4 + 16);
  assert.ok(compress(Compression.SNAPPY, rnd).length < rnd.length + 32 * 12 + 16);
});

Deno.test("compression: unknown codecs are UNSUPPORTED_COMPRESSION_TYPE", () => {
  for (const codec of [5, 6, 7, -1, 100]) {
    assertCode(() => compress(codec, bytes("x")), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    assertCode(() => decompress(codec, bytes("x")), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  }
});

Deno.test("compression: empty compressed input is corrupt", () => {
  for (const codec of CODECS.slice(1)) {
    assertCorrupt(() => decompress(codec, new Uint8Array(0)));
  }
});

Deno.test("compression: maxOutput is enforced exactly for every codec", () => {
  const data = wordy(200_000, 11);
  for (const codec of CODECS) {
    const z = compress(codec, data);
    assertBytes(decompress(codec, z, data.length), data, `codec ${codec} at the limit`);
    assertCorrupt(() => decompress(codec, z, data.length - 1));
    assertCorrupt(() => decompress(codec, z, 1000));
  }
});

Deno.test("compression: decompression bombs stop at maxOutput", () => {
  const zeros = new Uint8Array(16 * MiB);
  for (const codec of CODECS.slice(1)) {
    const z = compress(codec, zeros);
    assertCorrupt(() => decompress(codec, z, MiB));
  }
});

// --- xxHash32 ------------------------------------------------------------------------------

Deno.test("xxhash32: published vectors", () => {
  assert.equal(xxhash32(new Uint8Array(0)), 0x02cc5d05);
  assert.equal(xxhash32(bytes("a")), 0x550d7456);
  assert.equal(xxhash32(bytes("abc")), 0x32d153ff);
  // The LZ4 frame header checksums every LZ4 tool writes for FLG/BD 60 40 and 64 40.
  assert.equal((xxhash32(bytes([0x60, 0x40])) >>> 8) & 0xff, 0x82);
  assert.equal((xxhash32(bytes([0x64, 0x40])) >>> 8) & 0xff, 0xa7);
  // Sub-range hashing equals hashing a copy; covers the 16-byte stripe loop and tails.
  const r = randomBytes(1000, 5);
  for (const [s, e] of [[0, 1000], [3, 19], [7, 7], [1, 998], [100, 135]]) {
    assert.equal(xxhash32(r, 0, s, e), xxhash32(r.slice(s, e)));
  }
});

// --- snappy --------------------------------------------------------------------------------

const GOLDEN_INPUT = "abcdabcdabcdabcdabcd0123456789ab";
// Worked out from the snappy format description: preamble 32, literal "abcd" (tag 3<<2),
// copy offset 4 length 16 as a 2-byte-offset copy (tag (16-1)<<2 | 2 = 0x3e), literal of 12.
const GOLDEN_SNAPPY = bytes(
  [0x20, 0x0c],
  "abcd",
  [0x3e, 0x04, 0x00, 0x2c],
  "0123456789ab",
);

Deno.test("snappy: golden raw block, both directions", () => {
  assertBytes(snappyCompressRaw(bytes(GOLDEN_INPUT)), GOLDEN_SNAPPY);
  assertBytes(snappyDecompress(GOLDEN_SNAPPY), bytes(GOLDEN_INPUT));
});

Deno.test("snappy: golden xerial frame", () => {
  const framed = bytes(
    [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00],
    [0, 0, 0, 1, 0, 0, 0, 1],
    [0, 0, 0, GOLDEN_SNAPPY.length],
    [...GOLDEN_SNAPPY],
  );
  assertBytes(snappyCompressXerial(bytes(GOLDEN_INPUT)), framed);
  assertBytes(compress(Compression.SNAPPY, bytes(GOLDEN_INPUT)), framed);
  assertBytes(decompress(Compression.SNAPPY, framed), bytes(GOLDEN_INPUT));
});

Deno.test("snappy: hand-made blocks with every element kind", () => {
  // 1-byte-offset copy overlapping its own output: "ab" then copy(offset 2, len 8).
  assertBytes(snappyDecompress(bytes([10, 0x04], "ab", [0x11, 0x02])), bytes("ababababab"));
  // 4-byte-offset copy: "xyz" then copy(offset 3, len 3): tag (3-1)<<2 | 3 = 0x0b.
  assertBytes(snappyDecompress(bytes([6, 0x08], "xyz", [0x0b, 3, 0, 0, 0])), bytes("xyzxyz"));
  // Literal with a one-byte length (tag 60<<2, then length-1 = 69).
  const seventy = "0123456789".repeat(7);
  assertBytes(snappyDecompress(bytes([70, 0xf0, 69], seventy)), bytes(seventy));
  // Literal with a two-byte length (tag 61<<2): 300 bytes.
  const lit300 = randomBytes(300, 9);
  assertBytes(
    snappyDecompress(bytes([0xac, 0x02, 0xf4, 0x2b, 0x01], [...lit300])),
    lit300,
  );
  // Zero-length block.
  assertBytes(snappyDecompress(bytes([0])), new Uint8Array(0));
});

Deno.test("snappy: raw blocks larger than one 64 KiB fragment round trip", () => {
  for (const [name, data] of INPUTS) {
    assertBytes(snappyDecompress(snappyCompressRaw(data)), data, name);
    assertBytes(decompress(Compression.SNAPPY, snappyCompressRaw(data)), data, name);
  }
});

Deno.test("snappy: xerial output is 32 KiB chunks of raw blocks", () => {
  const data = wordy(100_000, 2);
  const framed = snappyCompressXerial(data);
  const view = new DataView(framed.buffer, framed.byteOffset, framed.byteLength);
  let p = 16;
  const sizes: number[] = [];
  while (p < framed.length) {
    const len = view.getInt32(p);
    const chunk = snappyDecompress(framed.subarray(p + 4, p + 4 + len));
    sizes.push(chunk.length);
    p += 4 + len;
  }
  assert.equal(p, framed.length);
  assert.deepEqual(sizes, [32768, 32768, 32768, 1696]);
});

Deno.test("snappy: corrupt and lying input is rejected", () => {
  // Preamble claims 4 GiB.
  assertCorrupt(() => snappyDecompress(bytes([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61])));
  // Preamble claims 100 MiB for a few bytes: rejected before allocating.
  assertCorrupt(() => snappyDecompress(bytes([0x80, 0x80, 0x80, 0x32, 0x00, 0x61])));
  // Six-byte preamble.
  assertCorrupt(() => snappyDecompress(bytes([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])));
  // Copy before any output.
  assertCorrupt(() => snappyDecompress(bytes([4, 0x01, 0x01])));
  // Offset 0.
  assertCorrupt(() => snappyDecompress(bytes([6, 0x04], "ab", [0x01, 0x00])));
  // Output longer than the preamble says.
  assertCorrupt(() => snappyDecompress(bytes([2, 0x08], "abc")));
  // Output shorter than the preamble says.
  assertCorrupt(() => snappyDecompress(bytes([5, 0x08], "abc")));
  // Literal running past the input.
  assertCorrupt(() => snappyDecompress(bytes([10, 0x24], "abc")));
  // Truncated copy and literal-length bytes.
  assertCorrupt(() => snappyDecompress(bytes([6, 0x04], "ab", [0x02, 0x02])));
  assertCorrupt(() => snappyDecompress(bytes([70, 0xf4, 0x01])));
  // Xerial: short header, overrunning chunk, negative chunk length, chunk length cut short.
  const framed = snappyCompressXerial(bytes(GOLDEN_INPUT));
  assertCorrupt(() => snappyDecompress(framed.subarray(0, 12)));
  assertCorrupt(() => snappyDecompress(framed.subarray(0, framed.length - 1)));
  assertCorrupt(() => snappyDecompress(framed.subarray(0, 18)));
  const neg = framed.slice();
  neg[16] = 0x80;
  assertCorrupt(() => snappyDecompress(neg));
});

// --- lz4 -----------------------------------------------------------------------------------

// Worked out from the LZ4 frame and block specs: magic, FLG 0x60 (version 1, independent
// blocks), BD 0x40 (64 KiB), HC 0x82; one 20-byte block: token 0x4c (4 literals, match 16),
// "abcd", offset 4; token 0xc0 (12 literals) "0123456789ab"; then the end mark.
const GOLDEN_LZ4 = bytes(
  [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82],
  [0x14, 0, 0, 0],
  [0x4c],
  "abcd",
  [0x04, 0x00, 0xc0],
  "0123456789ab",
  [0, 0, 0, 0],
);

Deno.test("lz4: golden frame, both directions", () => {
  assertBytes(lz4CompressFrame(bytes(GOLDEN_INPUT)), GOLDEN_LZ4);
  assertBytes(compress(Compression.LZ4, bytes(GOLDEN_INPUT)), GOLDEN_LZ4);
  assertBytes(decompress(Compression.LZ4, GOLDEN_LZ4), bytes(GOLDEN_INPUT));
});

Deno.test("lz4: golden frame with content checksum", () => {
  const withSum = lz4CompressFrame(bytes(GOLDEN_INPUT), { contentChecksum: true });
  const expected = bytes(
    [0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7],
    [...GOLDEN_LZ4.subarray(7)],
    [0, 0, 0, 0],
  );
  new DataView(expected.buffer).setUint32(expected.length - 4, xxhash32(bytes(GOLDEN_INPUT)), true);
  assertBytes(withSum, expected);
  assertBytes(lz4DecompressFrame(withSum), bytes(GOLDEN_INPUT));
  const bad = withSum.slice();
  bad[bad.length - 1] ^= 1;
  assertCorrupt(() => lz4DecompressFrame(bad));
});

/** A frame of hand-written blocks; the descriptor checksum is computed. */
function lz4Frame(flg: number, bd: number, blocks: Uint8Array): Uint8Array {
  const head = bytes([0x04, 0x22, 0x4d, 0x18, flg, bd, 0]);
  head[6] = (xxhash32(head, 0, 4, 6) >>> 8) & 0xff;
  return bytes([...head], [...blocks], [0, 0, 0, 0]);
}

// Block 1 stored ("hello ", size with the high bit set); block 2 is a match of 6 at offset 6
// (token 0x02), reaching into block 1, then token 0x50 with the literals "world".
const LINKED_BLOCKS = bytes([6, 0, 0, 0x80], "hello ", [9, 0, 0, 0, 0x02, 6, 0, 0x50], "world");

Deno.test("lz4: linked blocks may reference earlier blocks, independent ones may not", () => {
  const linked = lz4Frame(0x40, 0x40, LINKED_BLOCKS);
  assert.equal(linked[6], 0xc0);
  assertBytes(lz4DecompressFrame(linked), bytes("hello hello world"));
  assertCorrupt(() => lz4DecompressFrame(lz4Frame(0x60, 0x40, LINKED_BLOCKS)));
});

Deno.test("lz4: content size, block checksums, 4 MiB blocks and concatenated frames", () => {
  const data = wordy(3 * MiB, 4);
  for (
    const opts of [
      {},
      { contentChecksum: true },
      { blockChecksum: true },
      { blockSize: 4194304 as const, contentChecksum: true, blockChecksum: true },
    ]
  ) {
    const z = lz4CompressFrame(data, opts);
    assertBytes(lz4DecompressFrame(z), data, JSON.stringify(opts));
  }
  // Content size: FLG bit 3 and 8 bytes after BD.
  const cs = lz4Frame(
    0x68,
    0x40,
    bytes([11, 0, 0, 0x80], "hello world"),
  );
  const withSize = bytes([...cs.subarray(0, 6)], [11, 0, 0, 0, 0, 0, 0, 0, 0], [...cs.subarray(7)]);
  withSize[14] = (xxhash32(withSize, 0, 4, 14) >>> 8) & 0xff;
  assertBytes(lz4DecompressFrame(withSize), bytes("hello world"));
  const wrongSize = withSize.slice();
  wrongSize[6] = 12;
  wrongSize[14] = (xxhash32(wrongSize, 0, 4, 14) >>> 8) & 0xff;
  assertCorrupt(() => lz4DecompressFrame(wrongSize));
  // Block checksum mismatch.
  const bc = lz4CompressFrame(bytes(GOLDEN_INPUT), { blockChecksum: true });
  const badBc = bc.slice();
  badBc[badBc.length - 5] ^= 0x10;
  assertBytes(lz4DecompressFrame(bc), bytes(GOLDEN_INPUT));
  assertCorrupt(() => lz4DecompressFrame(badBc));
  // Two frames and a skippable frame in between decode as one stream.
  const two = bytes([...GOLDEN_LZ4], [0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3], [
    ...GOLDEN_LZ4,
  ]);
  assertBytes(lz4DecompressFrame(two), bytes(GOLDEN_INPUT + GOLDEN_INPUT));
});

Deno.test("lz4: incompressible blocks are stored", () => {
  const rnd = randomBytes(100_000, 8);
  const z = lz4CompressFrame(rnd);
  const view = new DataView(z.buffer, z.byteOffset, z.byteLength);
  assert.equal(view.getUint32(7, true), (0x80000000 | 65536) >>> 0);
  assertBytes(lz4DecompressFrame(z), rnd);
});

Deno.test("lz4: corrupt and lying input is rejected", () => {
  const good = lz4CompressFrame(wordy(200_000, 6));
  // Bad magic, bad version, reserved bits, dictionary id, bad header checksum.
  const mutate = (i: number, v: number, fixHc = true) => {
    const b = good.slice();
    b[i] = v;
    if (fixHc) b[6] = (xxhash32(b, 0, 4, 6) >>> 8) & 0xff;
    return b;
  };
  assertCorrupt(() => lz4DecompressFrame(mutate(0, 0x05, false)));
  assertCorrupt(() => lz4DecompressFrame(mutate(4, 0xa0)));
  assertCorrupt(() => lz4DecompressFrame(mutate(4, 0x62)));
  assertCorrupt(() => lz4DecompressFrame(mutate(4, 0x61)));
  assertCorrupt(() => lz4DecompressFrame(mutate(5, 0x41)));
  assertCorrupt(() => lz4DecompressFrame(mutate(5, 0x30)));
  assertCorrupt(() => lz4DecompressFrame(mutate(6, good[6] ^ 1, false)));
  // Block size beyond the 64 KiB maximum.
  assertCorrupt(() => lz4DecompressFrame(mutate(9, 0x02, false)));
  // Truncations anywhere.
  for (let cut = 0; cut < good.length; cut += 997) {
    assertCorrupt(() => lz4DecompressFrame(good.subarray(0, cut)));
  }
  assertCorrupt(() => lz4DecompressFrame(good.subarray(0, good.length - 1)));
  // Content size claiming 1 TiB, and claiming more than the input could ever produce.
  for (const size of [[0, 0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 1, 0, 0, 0, 0]]) {
    const f = bytes([0x04, 0x22, 0x4d, 0x18, 0x68, 0x40], size, [0], [0, 0, 0, 0]);
    f[14] = (xxhash32(f, 0, 4, 14) >>> 8) & 0xff;
    assertCorrupt(() => lz4DecompressFrame(f));
  }
  // Match offset 0; block ending in the middle of a match length.
  assertCorrupt(() =>
    lz4DecompressFrame(lz4Frame(0x60, 0x40, bytes([4, 0, 0, 0, 0x10], "a", [0, 0])))
  );
  assertCorrupt(() =>
    lz4DecompressFrame(lz4Frame(0x60, 0x40, bytes([5, 0, 0, 0, 0x1f], "a", [1, 0])))
  );
  // A match running past the 64 KiB block maximum: 4 + 15 + 255 * 260 bytes.
  const long = bytes([0x1f], "a", [1, 0], new Array(260).fill(255), [0, 0x10], "abcde");
  const longBlock = bytes([long.length & 0xff, long.length >> 8, 0, 0], [...long]);
  assertCorrupt(() => lz4DecompressFrame(lz4Frame(0x60, 0x40, longBlock)));
});

// --- gzip / zstd ---------------------------------------------------------------------------

Deno.test("zstd: truncated frames are corrupt (zlib alone would return partial output)", () => {
  const z = compress(Compression.ZSTD, wordy(300_000, 10));
  for (let cut = 1; cut < z.length; cut = Math.ceil(cut * 1.7)) {
    assertCorrupt(() => decompress(Compression.ZSTD, z.subarray(0, cut)));
  }
  assertCorrupt(() => decompress(Compression.ZSTD, z.subarray(0, z.length - 1)));
  // Concatenated frames are one stream.
  const a = compress(Compression.ZSTD, bytes("abc"));
  const b = compress(Compression.ZSTD, bytes("def"));
  assertBytes(decompress(Compression.ZSTD, bytes([...a], [...b])), bytes("abcdef"));
});

Deno.test("gzip: truncated or garbage input is corrupt; concatenated members decode", () => {
  const z = compress(Compression.GZIP, wordy(100_000, 12));
  assertCorrupt(() => decompress(Compression.GZIP, z.subarray(0, z.length - 3)));
  assertCorrupt(() => decompress(Compression.GZIP, bytes("not gzip at all")));
  const a = compress(Compression.GZIP, bytes("abc"));
  const b = compress(Compression.GZIP, bytes("def"));
  assertBytes(decompress(Compression.GZIP, bytes([...a], [...b])), bytes("abcdef"));
});

// --- fuzzing: mutated input must end in output or a KafkaError, quickly --------------------

Deno.test("compression: mutated input never escapes as a non-Kafka error", () => {
  const next = prng(42);
  const sources = [wordy(20_000, 13), randomBytes(5000, 14), new Uint8Array(30_000)];
  for (const codec of CODECS.slice(1)) {
    for (const src of sources) {
      const z = compress(codec, src);
      for (let round = 0; round < 150; round++) {
        const m = z.slice();
        const flips = 1 + (next() % 4);
        for (let f = 0; f < flips; f++) m[next() % m.length] = next() & 0xff;
        const input = round % 5 === 0 ? m.subarray(0, next() % m.length) : m;
        try {
          const out = decompress(codec, input, 4 * MiB);
          assert.ok(out.length <= 4 * MiB);
        } catch (e) {
          if (!(e instanceof KafkaError)) throw e;
          assert.equal(e.code, ErrorCode.CORRUPT_MESSAGE);
        }
      }
    }
  }
});

// --- interop with the reference lz4 and zstd command-line tools, when installed -----------

/** The interop tests run wherever the suite runs: a missing CLI is an error, not a skip. */
function requireTool(name: string): void {
  try {
    new Deno.Command(name, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
  } catch {
    throw new Error(
      `${name} not found: install Debian's ${name} package (apt-get install ${name})`,
    );
  }
}

async function pipe(cmd: string, args: string[], input: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  const [out] = await Promise.all([
    child.output(),
    writer.write(input).then(() => writer.close()),
  ]);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

Deno.test({
  name: "interop: frames from the lz4 CLI decode, and the lz4 CLI decodes ours",
  fn: async () => {
    requireTool("lz4");
    const samples = [INPUTS[2][1], INPUTS[3][1], INPUTS[6][1], INPUTS[7][1], new Uint8Array(0)];
    const flagSets = [
      ["-1"],
      ["-9", "-BD"],
      ["-B4", "-BD", "--content-size"],
      ["-B5", "-BX", "--no-frame-crc"],
      ["-B6", "-BD", "-BX", "--content-size"],
      ["-B7", "-12"],
    ];
    for (const data of samples) {
      for (const flags of flagSets) {
        const theirs = await pipe("lz4", ["-c", "-q", ...flags], data);
        assertBytes(lz4DecompressFrame(theirs), data, `lz4 ${flags.join(" ")}`);
      }
      for (
        const opts of [{}, { contentChecksum: true, blockChecksum: true }, {
          blockSize: 4194304 as const,
        }]
      ) {
        const ours = lz4CompressFrame(data, opts);
        assertBytes(await pipe("lz4", ["-d", "-c", "-q"], ours), data, JSON.stringify(opts));
      }
    }
    assertBytes(await pipe("lz4", ["-d", "-c"], GOLDEN_LZ4), bytes(GOLDEN_INPUT));
  },
});

Deno.test({
  name: "interop: frames from the zstd CLI decode, and the zstd CLI decodes ours",
  fn: async () => {
    requireTool("zstd");
    const data = INPUTS[6][1];
    for (const flags of [["-1"], ["-19", "--check"], ["--no-check", "--no-content-size"]]) {
      const theirs = await pipe("zstd", ["-c", "-q", ...flags], data);
      assertBytes(decompress(Compression.ZSTD, theirs), data, flags.join(" "));
      assertCorrupt(() => decompress(Compression.ZSTD, theirs.subarray(0, theirs.length - 2)));
    }
    const ours = compress(Compression.ZSTD, data);
    assertBytes(await pipe("zstd", ["-d", "-c", "-q"], ours), data);
  },
});
