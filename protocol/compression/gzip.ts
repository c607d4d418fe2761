/**
 * gzip (codec 1) through `node:zlib`, and the bounded zlib call zstd shares: the output limit
 * is handed to zlib so a lying stream fails instead of allocating.
 */
import { gunzipSync, gzipSync, zstdDecompressSync } from "node:zlib";
import { asBytes, corrupt } from "./common.ts";

/** `level`: 1–9, or -1 / undefined for zlib's default. */
export function gzipCompress(data: Uint8Array, level?: number): Uint8Array {
  return asBytes(gzipSync(data, level === undefined ? {} : { level }));
}

export function gzipDecompress(data: Uint8Array, maxOutput: number): Uint8Array {
  return zlibDecompress("gzip", data, maxOutput);
}

/** Inflates gzip or zstd with zlib's output limit set to `maxOutput` (CORRUPT_MESSAGE past it). */
export function zlibDecompress(
  kind: "gzip" | "zstd",
  data: Uint8Array,
  maxOutput: number,
): Uint8Array {
  if (data.length === 0) corrupt(`empty ${kind} input`);
  // zlib refuses a zero limit; a one-byte limit still proves the output empty or too big.
  const opts = { maxOutputLength: Math.max(1, Math.min(maxOutput, 2 ** 32)) };
  let out: Uint8Array;
  try {
    out = kind === "gzip" ? gunzipSync(data, opts) : zstdDecompressSync(data, opts);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === "ERR_BUFFER_TOO_LARGE") {
      corrupt(`${kind} output exceeds maxOutput ${maxOutput}`);
    }
    corrupt(`${kind}: ${err.message ?? String(e)}`);
  }
  if (out.length > maxOutput) corrupt(`${kind} output exceeds maxOutput ${maxOutput}`);
  return asBytes(out);
}
