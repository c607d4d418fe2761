import assert from "node:assert/strict";
import { crc32c, crc32cTs, installCrc32c } from "../../protocol/crc32c.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import {
  crc32cMismatch,
  enableNativeCrc32c,
  ISAL_PATHS,
  loadIsalCrc32c,
} from "../../src/native_crc32c.ts";

// .ci/run installs Debian's libisal2, so the library is expected here.
function isal() {
  const l = loadIsalCrc32c();
  if ("reason" in l) throw new Error(`ISA-L not loadable: ${l.reason}`);
  return l;
}

Deno.test("native crc32c: ISA-L agrees with the TypeScript CRC-32C", () => {
  const { fn } = isal();
  assert.equal(fn(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(fn(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(fn(new Uint8Array(32).map((_, i) => i)), 0x46dd794e);
  assert.equal(fn(new Uint8Array(0)), 0);
  assert.equal(crc32cMismatch(fn), null);
  // Offsets inside a larger buffer, continued checksums, a 1 MiB buffer.
  const big = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24);
  assert.equal(fn(big), crc32cTs(big));
  assert.equal(fn(big, 0, 3, 100_003), crc32cTs(big, 0, 3, 100_003));
  assert.equal(fn(big.subarray(5, 777)), crc32cTs(big, 0, 5, 777));
  assert.equal(fn(big, fn(big, 0, 0, 1001), 1001), crc32cTs(big));
});

Deno.test("native crc32c: the start-up check catches a wrong convention", () => {
  const { fn } = isal();
  // Without the final inversion, and with an init of 0 instead of ~0: both must be refused.
  assert.match(crc32cMismatch((d, c, s, e) => ~fn(d, c, s, e) >>> 0) ?? "", /123456789/);
  assert.notEqual(crc32cMismatch((d, c = 0, s = 0, e = d.length) => fn(d, ~c, s, e)), null);
  // Right from aligned starts only: caught by the unaligned ones.
  const alignedOnly = (d: Uint8Array, c = 0, s = 0, e = d.length) =>
    (d.byteOffset + s) % 2 === 1 ? (fn(d, c, s, e) ^ 1) >>> 0 : fn(d, c, s, e);
  assert.match(crc32cMismatch(alignedOnly) ?? "", /^length 1 at 1:/);
});

Deno.test("native crc32c: installed behind crc32c, record batches still checked", () => {
  const input = {
    baseOffset: 0,
    records: [{
      key: new TextEncoder().encode("k"),
      value: new Uint8Array(3000).fill(7),
      timestamp: 1,
    }],
  };
  const byTs = encodeRecordBatch(input);
  try {
    assert.deepEqual(enableNativeCrc32c(), { installed: true, path: ISAL_PATHS[0] });
    assert.notEqual(crc32c, crc32cTs);
    // Written by one implementation, checked by the other, both ways.
    const byNative = encodeRecordBatch(input);
    assert.deepEqual(byNative.subarray(17, 21), byTs.subarray(17, 21));
    assert.deepEqual(decodeRecords(byTs).records[0].value, new Uint8Array(3000).fill(7));
    const bad = byTs.slice();
    bad[bad.length - 1] ^= 1;
    assert.throws(() => decodeRecords(bad), /CRC/);
  } finally {
    installCrc32c(null);
  }
  assert.equal(crc32c, crc32cTs);
});

Deno.test("native crc32c: a missing library is reported, nothing installed", () => {
  const r = enableNativeCrc32c(["/nonexistent/libisal.so.2"]);
  assert.equal(r.installed, false);
  assert.match((r as { reason: string }).reason, /not found.*\/nonexistent\/libisal\.so\.2/);
  assert.equal(crc32c, crc32cTs);
});
