/**
 * Opt-in native CRC-32C: Intel ISA-L's `crc32_iscsi` (Debian `libisal2`) through Deno FFI.
 * The pure-TS CRC bounds produce throughput (it is most of the broker's CPU for 1 KiB
 * records); a hardware CRC is several times faster. Off unless
 * `tributary.crc32c.native.enable` is set and the library loads; once loaded it is checked
 * against the TypeScript implementation before it is installed, so a wrong library (or a
 * wrong reading of its convention) can only cost speed, never a checksum.
 *
 * ISA-L's `crc32_iscsi(buf, len, init)` is the raw reflected Castagnoli register update with
 * neither the initial nor the final inversion, so Kafka's CRC-32C continuing `crc` is
 * `~crc32_iscsi(buf, len, ~crc)`.
 */
import { type Crc32cFn, crc32cTs, installCrc32c } from "../protocol/crc32c.ts";

/** Where `libisal.so.2` is looked for: the loader's own search first, then the usual dirs. */
export const ISAL_PATHS = [
  "libisal.so.2",
  "/usr/lib/x86_64-linux-gnu/libisal.so.2",
  "/usr/lib/aarch64-linux-gnu/libisal.so.2",
  "/usr/local/lib/libisal.so.2",
  "/usr/lib64/libisal.so.2",
  "/usr/lib/libisal.so.2",
  "/opt/homebrew/lib/libisal.2.dylib",
  "/usr/local/lib/libisal.2.dylib",
];

const SYMBOLS = {
  crc32_iscsi: { parameters: ["buffer", "i32", "u32"], result: "u32" },
} as const;

/** Enabled, but the process may not load native code: start-up stops with this. */
export class NativeCrcPermissionError extends Error {
  override name = "NativeCrcPermissionError";
}

/** What `enableNativeCrc32c` did, for the start-up log. */
export type NativeCrcOutcome =
  | { installed: true; path: string }
  | { installed: false; reason: string };

/** The loaded library as a `crc32c`-compatible function, or why it is not usable. */
export function loadIsalCrc32c(
  paths: readonly string[] = ISAL_PATHS,
): { fn: Crc32cFn; path: string; close(): void } | { reason: string } {
  const failures: string[] = [];
  for (const path of paths) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw new NativeCrcPermissionError(ffiPermissionMessage());
      }
      failures.push(`${path}: ${e instanceof Error ? e.message : e}`);
      continue;
    }
    const raw = lib.symbols.crc32_iscsi;
    const fn: Crc32cFn = (data, crc = 0, start = 0, end = data.length) => {
      const view = start === 0 && end === data.length ? data : data.subarray(start, end);
      return ~raw(view, end - start, ~crc >>> 0) >>> 0;
    };
    return { fn, path, close: () => lib.close() };
  }
  return { reason: `libisal.so.2 not found (${failures.join("; ")})` };
}

function ffiPermissionMessage(): string {
  return "tributary.crc32c.native.enable=true needs Deno's --allow-ffi permission, which " +
    "`deno task start` does not grant: run `deno run --allow-net --allow-read --allow-write " +
    "--allow-env --allow-sys --allow-ffi src/cli.ts ...`, or leave the setting false";
}

/**
 * Compares `fn` with `crc32cTs` on known vectors and on random data at odd lengths, unaligned
 * starts, continued checksums and the sizes batches come in; the first difference, or null.
 */
export function crc32cMismatch(fn: Crc32cFn): string | null {
  const check = (what: string, got: number, want: number): string | null =>
    got === want ? null : `${what}: ${got.toString(16)}, expected ${want.toString(16)}`;
  const digits = new TextEncoder().encode("123456789");
  const known = check("CRC-32C of 123456789", fn(digits), 0xe3069283) ??
    check("CRC-32C of nothing", fn(new Uint8Array(0)), 0);
  if (known) return known;
  const data = new Uint8Array(70_000);
  let s = 0x2545f491;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  const lengths = [1, 2, 3, 7, 8, 15, 16, 17, 31, 63, 64, 65, 255, 1000, 1023, 4097, 65_537];
  for (const len of lengths) {
    for (const start of [0, 1, 3, 5, 8]) {
      const end = start + len;
      const want = crc32cTs(data, 0, start, end);
      const m = check(`length ${len} at ${start}`, fn(data, 0, start, end), want) ??
        check(`subarray length ${len} at ${start}`, fn(data.subarray(start, end)), want) ??
        check(
          `length ${len} at ${start} continued`,
          fn(data, fn(data, 0, start, start + (len >> 1)), start + (len >> 1), end),
          want,
        ) ??
        check(
          `length ${len} at ${start} from 0x1234567`,
          fn(data, 0x1234567, start, end),
          crc32cTs(data, 0x1234567, start, end),
        );
      if (m) return m;
    }
  }
  return null;
}

/**
 * Start-up: with the setting on, loads ISA-L, checks it and installs it behind `crc32c` for
 * this isolate (the main thread, or one worker). Throws `NativeCrcPermissionError` when FFI is
 * not permitted; a missing or failing library leaves the TypeScript CRC in place.
 */
export function enableNativeCrc32c(paths: readonly string[] = ISAL_PATHS): NativeCrcOutcome {
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    throw new NativeCrcPermissionError(ffiPermissionMessage());
  }
  const loaded = loadIsalCrc32c(paths);
  if ("reason" in loaded) return { installed: false, reason: loaded.reason };
  const mismatch = crc32cMismatch(loaded.fn);
  if (mismatch) {
    loaded.close();
    return {
      installed: false,
      reason: `${loaded.path} disagrees with the TypeScript CRC-32C (${mismatch})`,
    };
  }
  installCrc32c(loaded.fn);
  return { installed: true, path: loaded.path };
}
