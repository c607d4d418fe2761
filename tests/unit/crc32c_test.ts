import assert from "node:assert/strict";
import { crc32c } from "../../protocol/crc32c.ts";

/** Bit-at-a-time CRC-32C straight from the definition, to check the table-driven one. */
function slowCrc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function randomBytes(n: number, seed: number): Uint8Array {
  let s = seed;
  return new Uint8Array(n).map(() => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 24;
  });
}

Deno.test("crc32c: known vectors", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  // RFC 3720 B.4: 32 bytes counting up, and counting down.
  assert.equal(crc32c(new Uint8Array(32).map((_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(new Uint8Array(32).map((_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

Deno.test("crc32c: matches the bitwise definition at every length and alignment", () => {
  const data = randomBytes(300, 1);
  // Up to three 32-byte steps with every remainder of the 8-byte and bytewise loops after.
  for (let len = 0; len <= 170; len++) {
    for (const start of [0, 1, 3, 7]) {
      const slice = data.subarray(start, start + len);
      assert.equal(crc32c(slice), slowCrc32c(slice), `len ${len} start ${start}`);
      assert.equal(crc32c(data, 0, start, start + len), slowCrc32c(slice));
    }
  }
});

Deno.test("crc32c: incremental continuation equals one-shot", () => {
  const data = randomBytes(100_000, 2);
  const whole = crc32c(data);
  for (const cut of [0, 1, 7, 8, 9, 4096, 65_537, 99_999, 100_000]) {
    const a = crc32c(data.subarray(0, cut));
    assert.equal(crc32c(data.subarray(cut), a), whole, `cut ${cut}`);
    assert.equal(crc32c(data, a, cut), whole);
  }
  // Many small pieces.
  let c = 0;
  for (let p = 0; p < data.length; p += 1013) {
    c = crc32c(data, c, p, Math.min(data.length, p + 1013));
  }
  assert.equal(c, whole);
});

Deno.test("crc32c: random buffers at random offsets match the bitwise definition", () => {
  const data = randomBytes(20_000, 3);
  let s = 7;
  const next = (n: number) => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n;
  for (let k = 0; k < 200; k++) {
    const start = next(4096);
    const len = next(16_000);
    const slice = data.subarray(start, start + len);
    assert.equal(crc32c(slice), slowCrc32c(slice), `start ${start} len ${len}`);
  }
});
