/**
 * CRC-32C: the TypeScript implementation against ISA-L's `crc32_iscsi` through Deno FFI
 * (tributary.crc32c.native.enable), per call, so the FFI call overhead is included. Each size
 * is a group with TypeScript as the baseline; the native case is absent when libisal.so.2 is.
 * Run: deno bench --allow-ffi --allow-read bench/crc32c_native_bench.ts
 */
import { crc32cTs } from "../protocol/crc32c.ts";
import { crc32cMismatch, loadIsalCrc32c } from "../src/native_crc32c.ts";

const loaded = loadIsalCrc32c();
if ("reason" in loaded) console.error(`native CRC-32C not benchmarked: ${loaded.reason}`);
else if (crc32cMismatch(loaded.fn)) throw new Error(crc32cMismatch(loaded.fn)!);

const data = new Uint8Array(1 << 20).map((_, i) => (Math.imul(i, 2654435761) >>> 24) & 0xff);
let sink = 0;

for (const [label, size] of [["1 KiB", 1024], ["16 KiB", 16384], ["1 MiB", 1 << 20]] as const) {
  // A batch sits at an arbitrary offset of the request buffer: start one byte in.
  const start = size === data.length ? 0 : 1;
  Deno.bench({
    name: `crc32c ts ${label}`,
    group: label,
    baseline: true,
    fn: () => {
      sink ^= crc32cTs(data, 0, start, start + size);
    },
  });
  if (!("reason" in loaded)) {
    const fn = loaded.fn;
    Deno.bench({
      name: `crc32c isa-l ffi ${label}`,
      group: label,
      fn: () => {
        sink ^= fn(data, 0, start, start + size);
      },
    });
  }
}

globalThis.addEventListener("unload", () => {
  if (sink === 0.5) console.log(sink);
});
