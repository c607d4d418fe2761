/**
 * CRC-32C in pure TypeScript: table layouts, word widths and unrolling, against the
 * implementation in protocol/crc32c.ts (slicing-by-32, the baseline of each group). Each
 * variant is checked against it before it is timed. GB/s = bytes per iteration / time per
 * iteration; on a loaded machine compare the minimum times, not the averages.
 * Run: deno bench bench/crc32c_layouts_bench.ts
 * or, for GB/s from the best of 15 interleaved rounds per variant and size (less sensitive to
 * other processes than deno bench's averages): deno run bench/crc32c_layouts_bench.ts
 */
import { crc32cTables, crc32cTs } from "../protocol/crc32c.ts";

const T16 = crc32cTables(16);
const T8 = T16.subarray(0, 8 * 256);
const S = Array.from({ length: 16 }, (_, j) => T16.slice(j * 256, (j + 1) * 256));
const U16 = new Uint32Array(T16);

function tail(data: Uint8Array, c: number, i: number, end: number): number {
  while (i < end) c = T16[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function head(data: Uint8Array, c: number, i: number): [number, number] {
  while (((data.byteOffset + i) & 3) !== 0) c = T16[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  return [c, i];
}

/** Slicing-by-8: two words per step. */
function slicing8(data: Uint8Array, start: number, end: number): number {
  let [c, i] = head(data, ~0, start);
  const words = ((end - i) >>> 3) << 1;
  const w = new Int32Array(data.buffer, data.byteOffset + i, words);
  const T = T8;
  for (let j = 0; j < words; j += 2) {
    const a = w[j] ^ c;
    const b = w[j + 1];
    c = T[1792 + (a & 0xff)] ^ T[1536 + ((a >>> 8) & 0xff)] ^
      T[1280 + ((a >>> 16) & 0xff)] ^ T[1024 + (a >>> 24)] ^
      T[768 + (b & 0xff)] ^ T[512 + ((b >>> 8) & 0xff)] ^
      T[256 + ((b >>> 16) & 0xff)] ^ T[b >>> 24];
  }
  return tail(data, c, i + (words << 2), end);
}

/** Slicing-by-16 with sixteen separate tables (no index offsets to add). */
function slicing16Split(data: Uint8Array, start: number, end: number): number {
  let [c, i] = head(data, ~0, start);
  const words = ((end - i) >>> 4) << 2;
  const w = new Int32Array(data.buffer, data.byteOffset + i, words);
  const [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15] = S;
  for (let j = 0; j < words; j += 4) {
    const a = w[j] ^ c;
    const b = w[j + 1];
    const d = w[j + 2];
    const e = w[j + 3];
    c = s15[a & 0xff] ^ s14[(a >>> 8) & 0xff] ^ s13[(a >>> 16) & 0xff] ^ s12[a >>> 24] ^
      s11[b & 0xff] ^ s10[(b >>> 8) & 0xff] ^ s9[(b >>> 16) & 0xff] ^ s8[b >>> 24] ^
      s7[d & 0xff] ^ s6[(d >>> 8) & 0xff] ^ s5[(d >>> 16) & 0xff] ^ s4[d >>> 24] ^
      s3[e & 0xff] ^ s2[(e >>> 8) & 0xff] ^ s1[(e >>> 16) & 0xff] ^ s0[e >>> 24];
  }
  return tail(data, c, i + (words << 2), end);
}

/** Slicing-by-16 over a Uint32Array table (values above 2^31 are heap numbers). */
function slicing16Unsigned(data: Uint8Array, start: number, end: number): number {
  let [c, i] = head(data, ~0, start);
  const words = ((end - i) >>> 4) << 2;
  const w = new Uint32Array(data.buffer, data.byteOffset + i, words);
  const T = U16;
  for (let j = 0; j < words; j += 4) {
    const a = (w[j] ^ c) >>> 0;
    const b = w[j + 1];
    const d = w[j + 2];
    const e = w[j + 3];
    c = T[3840 + (a & 0xff)] ^ T[3584 + ((a >>> 8) & 0xff)] ^
      T[3328 + ((a >>> 16) & 0xff)] ^ T[3072 + (a >>> 24)] ^
      T[2816 + (b & 0xff)] ^ T[2560 + ((b >>> 8) & 0xff)] ^
      T[2304 + ((b >>> 16) & 0xff)] ^ T[2048 + (b >>> 24)] ^
      T[1792 + (d & 0xff)] ^ T[1536 + ((d >>> 8) & 0xff)] ^
      T[1280 + ((d >>> 16) & 0xff)] ^ T[1024 + (d >>> 24)] ^
      T[768 + (e & 0xff)] ^ T[512 + ((e >>> 8) & 0xff)] ^
      T[256 + ((e >>> 16) & 0xff)] ^ T[e >>> 24];
  }
  return tail(data, c, i + (words << 2), end);
}

/** Slicing-by-16, two steps (32 bytes) per loop iteration. */
function slicing16x2(data: Uint8Array, start: number, end: number): number {
  let [c, i] = head(data, ~0, start);
  const words = ((end - i) >>> 5) << 3;
  const w = new Int32Array(data.buffer, data.byteOffset + i, words);
  const T = T16;
  for (let j = 0; j < words; j += 8) {
    let a = w[j] ^ c;
    let b = w[j + 1];
    let d = w[j + 2];
    let e = w[j + 3];
    c = T[3840 + (a & 0xff)] ^ T[3584 + ((a >>> 8) & 0xff)] ^
      T[3328 + ((a >>> 16) & 0xff)] ^ T[3072 + (a >>> 24)] ^
      T[2816 + (b & 0xff)] ^ T[2560 + ((b >>> 8) & 0xff)] ^
      T[2304 + ((b >>> 16) & 0xff)] ^ T[2048 + (b >>> 24)] ^
      T[1792 + (d & 0xff)] ^ T[1536 + ((d >>> 8) & 0xff)] ^
      T[1280 + ((d >>> 16) & 0xff)] ^ T[1024 + (d >>> 24)] ^
      T[768 + (e & 0xff)] ^ T[512 + ((e >>> 8) & 0xff)] ^
      T[256 + ((e >>> 16) & 0xff)] ^ T[e >>> 24];
    a = w[j + 4] ^ c;
    b = w[j + 5];
    d = w[j + 6];
    e = w[j + 7];
    c = T[3840 + (a & 0xff)] ^ T[3584 + ((a >>> 8) & 0xff)] ^
      T[3328 + ((a >>> 16) & 0xff)] ^ T[3072 + (a >>> 24)] ^
      T[2816 + (b & 0xff)] ^ T[2560 + ((b >>> 8) & 0xff)] ^
      T[2304 + ((b >>> 16) & 0xff)] ^ T[2048 + (b >>> 24)] ^
      T[1792 + (d & 0xff)] ^ T[1536 + ((d >>> 8) & 0xff)] ^
      T[1280 + ((d >>> 16) & 0xff)] ^ T[1024 + (d >>> 24)] ^
      T[768 + (e & 0xff)] ^ T[512 + ((e >>> 8) & 0xff)] ^
      T[256 + ((e >>> 16) & 0xff)] ^ T[e >>> 24];
  }
  return tail(data, c, i + (words << 2), end);
}

/** Slicing-by-16, one table (the layout protocol/crc32c.ts used before slicing-by-32). */
function slicing16(data: Uint8Array, start: number, end: number): number {
  let [c, i] = head(data, ~0, start);
  const words = ((end - i) >>> 4) << 2;
  const w = new Int32Array(data.buffer, data.byteOffset + i, words);
  const T = T16;
  for (let j = 0; j < words; j += 4) {
    const a = w[j] ^ c;
    const b = w[j + 1];
    const d = w[j + 2];
    const e = w[j + 3];
    c = T[3840 + (a & 0xff)] ^ T[3584 + ((a >>> 8) & 0xff)] ^
      T[3328 + ((a >>> 16) & 0xff)] ^ T[3072 + (a >>> 24)] ^
      T[2816 + (b & 0xff)] ^ T[2560 + ((b >>> 8) & 0xff)] ^
      T[2304 + ((b >>> 16) & 0xff)] ^ T[2048 + (b >>> 24)] ^
      T[1792 + (d & 0xff)] ^ T[1536 + ((d >>> 8) & 0xff)] ^
      T[1280 + ((d >>> 16) & 0xff)] ^ T[1024 + (d >>> 24)] ^
      T[768 + (e & 0xff)] ^ T[512 + ((e >>> 8) & 0xff)] ^
      T[256 + ((e >>> 16) & 0xff)] ^ T[e >>> 24];
  }
  return tail(data, c, i + (words << 2), end);
}

/** Slicing-by-64: one table step per 64 bytes (64 tables, 64 KiB: more than L1 holds). */
const T64 = crc32cTables(64);
function slicing64(data: Uint8Array, start: number, end: number): number {
  let [c, i] = head(data, ~0, start);
  const words = ((end - i) >>> 6) << 4;
  const w = new Int32Array(data.buffer, data.byteOffset + i, words);
  const T = T64;
  for (let j = 0; j < words; j += 16) {
    const w0 = w[j] ^ c;
    const w1 = w[j + 1];
    const w2 = w[j + 2];
    const w3 = w[j + 3];
    const w4 = w[j + 4];
    const w5 = w[j + 5];
    const w6 = w[j + 6];
    const w7 = w[j + 7];
    const w8 = w[j + 8];
    const w9 = w[j + 9];
    const w10 = w[j + 10];
    const w11 = w[j + 11];
    const w12 = w[j + 12];
    const w13 = w[j + 13];
    const w14 = w[j + 14];
    const w15 = w[j + 15];
    c = T[16128 + (w0 & 0xff)] ^
      T[15872 + ((w0 >>> 8) & 0xff)] ^
      T[15616 + ((w0 >>> 16) & 0xff)] ^
      T[15360 + (w0 >>> 24)] ^
      T[15104 + (w1 & 0xff)] ^
      T[14848 + ((w1 >>> 8) & 0xff)] ^
      T[14592 + ((w1 >>> 16) & 0xff)] ^
      T[14336 + (w1 >>> 24)] ^
      T[14080 + (w2 & 0xff)] ^
      T[13824 + ((w2 >>> 8) & 0xff)] ^
      T[13568 + ((w2 >>> 16) & 0xff)] ^
      T[13312 + (w2 >>> 24)] ^
      T[13056 + (w3 & 0xff)] ^
      T[12800 + ((w3 >>> 8) & 0xff)] ^
      T[12544 + ((w3 >>> 16) & 0xff)] ^
      T[12288 + (w3 >>> 24)] ^
      T[12032 + (w4 & 0xff)] ^
      T[11776 + ((w4 >>> 8) & 0xff)] ^
      T[11520 + ((w4 >>> 16) & 0xff)] ^
      T[11264 + (w4 >>> 24)] ^
      T[11008 + (w5 & 0xff)] ^
      T[10752 + ((w5 >>> 8) & 0xff)] ^
      T[10496 + ((w5 >>> 16) & 0xff)] ^
      T[10240 + (w5 >>> 24)] ^
      T[9984 + (w6 & 0xff)] ^
      T[9728 + ((w6 >>> 8) & 0xff)] ^
      T[9472 + ((w6 >>> 16) & 0xff)] ^
      T[9216 + (w6 >>> 24)] ^
      T[8960 + (w7 & 0xff)] ^
      T[8704 + ((w7 >>> 8) & 0xff)] ^
      T[8448 + ((w7 >>> 16) & 0xff)] ^
      T[8192 + (w7 >>> 24)] ^
      T[7936 + (w8 & 0xff)] ^
      T[7680 + ((w8 >>> 8) & 0xff)] ^
      T[7424 + ((w8 >>> 16) & 0xff)] ^
      T[7168 + (w8 >>> 24)] ^
      T[6912 + (w9 & 0xff)] ^
      T[6656 + ((w9 >>> 8) & 0xff)] ^
      T[6400 + ((w9 >>> 16) & 0xff)] ^
      T[6144 + (w9 >>> 24)] ^
      T[5888 + (w10 & 0xff)] ^
      T[5632 + ((w10 >>> 8) & 0xff)] ^
      T[5376 + ((w10 >>> 16) & 0xff)] ^
      T[5120 + (w10 >>> 24)] ^
      T[4864 + (w11 & 0xff)] ^
      T[4608 + ((w11 >>> 8) & 0xff)] ^
      T[4352 + ((w11 >>> 16) & 0xff)] ^
      T[4096 + (w11 >>> 24)] ^
      T[3840 + (w12 & 0xff)] ^
      T[3584 + ((w12 >>> 8) & 0xff)] ^
      T[3328 + ((w12 >>> 16) & 0xff)] ^
      T[3072 + (w12 >>> 24)] ^
      T[2816 + (w13 & 0xff)] ^
      T[2560 + ((w13 >>> 8) & 0xff)] ^
      T[2304 + ((w13 >>> 16) & 0xff)] ^
      T[2048 + (w13 >>> 24)] ^
      T[1792 + (w14 & 0xff)] ^
      T[1536 + ((w14 >>> 8) & 0xff)] ^
      T[1280 + ((w14 >>> 16) & 0xff)] ^
      T[1024 + (w14 >>> 24)] ^
      T[768 + (w15 & 0xff)] ^
      T[512 + ((w15 >>> 8) & 0xff)] ^
      T[256 + ((w15 >>> 16) & 0xff)] ^
      T[0 + (w15 >>> 24)];
  }
  return tail(data, c, i + (words << 2), end);
}

/** Slicing-by-16 over the bytes (no word view: four byte loads per word). */
function slicing16Bytes(data: Uint8Array, start: number, end: number): number {
  let c = ~0;
  let i = start;
  const T = T16;
  const end16 = end - ((end - i) & 15);
  for (; i < end16; i += 16) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ c;
    c = T[3840 + (a & 0xff)] ^ T[3584 + ((a >>> 8) & 0xff)] ^
      T[3328 + ((a >>> 16) & 0xff)] ^ T[3072 + (a >>> 24)] ^
      T[2816 + data[i + 4]] ^ T[2560 + data[i + 5]] ^ T[2304 + data[i + 6]] ^
      T[2048 + data[i + 7]] ^ T[1792 + data[i + 8]] ^ T[1536 + data[i + 9]] ^
      T[1280 + data[i + 10]] ^ T[1024 + data[i + 11]] ^ T[768 + data[i + 12]] ^
      T[512 + data[i + 13]] ^ T[256 + data[i + 14]] ^ T[data[i + 15]];
  }
  return tail(data, c, i, end);
}

export const VARIANTS: [string, (d: Uint8Array, s: number, e: number) => number][] = [
  ["slicing-8, 2 words/step", slicing8],
  ["slicing-16, 4 words/step", slicing16],
  ["slicing-16, 16 split tables", slicing16Split],
  ["slicing-16, Uint32Array table", slicing16Unsigned],
  ["slicing-16, 2 steps/iteration", slicing16x2],
  ["slicing-64, 16 words/step", slicing64],
  ["slicing-16, byte loads", slicing16Bytes],
];

const data = new Uint8Array((1 << 20) + 64).map((_, i) => (Math.imul(i, 2654435761) >>> 24) & 0xff);
for (const [name, fn] of VARIANTS) {
  for (const [s, e] of [[0, 100], [1, 1025], [3, 100_003], [0, 1 << 20]]) {
    if (fn(data, s, e) !== crc32cTs(data, 0, s, e)) {
      throw new Error(`${name} is wrong at ${s}-${e}`);
    }
  }
}
let sink = 0;
for (const [label, size] of [["1 KiB", 1024], ["100 KiB", 102_400], ["1 MiB", 1 << 20]] as const) {
  // Batches sit at arbitrary offsets of the request buffer: start one byte in.
  Deno.bench({
    name: `slicing-32, 8 words/step (protocol/crc32c.ts) ${label}`,
    group: label,
    baseline: true,
    fn: () => {
      sink ^= crc32cTs(data, 0, 1, 1 + size);
    },
  });
  for (const [name, fn] of VARIANTS) {
    Deno.bench({
      name: `${name} ${label}`,
      group: label,
      fn: () => {
        sink ^= fn(data, 1, 1 + size);
      },
    });
  }
}
globalThis.addEventListener("unload", () => {
  if (sink === 0.5) console.log(sink);
});

/** Best-of-rounds GB/s per variant, the variants interleaved so load hits them alike. */
function bestRates(): void {
  const all: [string, (d: Uint8Array, s: number, e: number) => number][] = [
    ["slicing-32 (protocol/crc32c.ts)", (d, s, e) => crc32cTs(d, 0, s, e)],
    ...VARIANTS,
  ];
  for (const size of [1024, 102_400, 1 << 20]) {
    const best = new Map<string, number>();
    const reps = Math.max(1, Math.floor((4 << 20) / size));
    for (let round = 0; round < 15; round++) {
      for (const [name, fn] of all) {
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) sink ^= fn(data, 1, 1 + size);
        const ms = (performance.now() - t0) / reps;
        best.set(name, Math.min(best.get(name) ?? Infinity, ms));
      }
    }
    for (const [name, ms] of best) {
      console.log(`${size} B\t${(size / ms / 1e6).toFixed(2)} GB/s\t${name}`);
    }
  }
}

if (import.meta.main) bestRates();
