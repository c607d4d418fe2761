/**
 * zstd (codec 4) through `node:zlib`, with the frame walk that makes truncated and
 * multi-frame input behave (zlib alone returns partial output for the former).
 */
import { constants, zstdCompressSync } from "node:zlib";
import { asBytes, concat, corrupt, readLE32 } from "./common.ts";
import { zlibDecompress } from "./gzip.ts";

/** `level`: zstd's compression level (undefined: zstd's default). */
export function zstdCompress(data: Uint8Array, level?: number): Uint8Array {
  const params = level === undefined ? {} : { [constants.ZSTD_c_compressionLevel]: level };
  return asBytes(zstdCompressSync(data, { params }));
}

/**
 * node:zlib returns a partial result for a truncated zstd stream instead of failing, and
 * stops after the first frame, so frames are delimited and checked for completeness here and
 * handed to zstd one by one.
 */
export function zstdDecompress(data: Uint8Array, maxOutput: number): Uint8Array {
  const frames = zstdFrames(data, maxOutput);
  if (frames.length === 1) return zlibDecompress("zstd", data.subarray(...frames[0]), maxOutput);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [s, e] of frames) {
    const part = zlibDecompress("zstd", data.subarray(s, e), maxOutput - total);
    parts.push(part);
    total += part.length;
  }
  return concat(parts, total);
}

/** Walks zstd frame and block headers; returns the [start, end) of each non-skippable frame. */
function zstdFrames(data: Uint8Array, maxOutput: number): [number, number][] {
  const end = data.length;
  if (end === 0) corrupt("empty zstd input");
  const frames: [number, number][] = [];
  let p = 0;
  let declared = 0;
  while (p < end) {
    const frameStart = p;
    if (p + 4 > end) corrupt("zstd: truncated magic");
    const magic = readLE32(data, p);
    p += 4;
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      if (p + 4 > end) corrupt("zstd: truncated skippable frame");
      const size = readLE32(data, p);
      p += 4 + size;
      if (p > end) corrupt("zstd: truncated skippable frame");
      continue;
    }
    if (magic !== 0xfd2fb528) corrupt("zstd: bad frame magic");
    if (p >= end) corrupt("zstd: truncated frame header");
    const fhd = data[p++];
    if (fhd & 0x08) corrupt("zstd: reserved header bit set");
    const single = (fhd >> 5) & 1;
    const fcsFlag = fhd >> 6;
    const fcsSize = fcsFlag === 0 ? single : 1 << fcsFlag;
    const dictSize = [0, 1, 2, 4][fhd & 3];
    const hasChecksum = (fhd >> 2) & 1;
    const headerRest = (single ? 0 : 1) + dictSize + fcsSize;
    if (p + headerRest > end) corrupt("zstd: truncated frame header");
    p += (single ? 0 : 1) + dictSize;
    if (fcsSize > 0) {
      let fcs = 0;
      for (let i = fcsSize - 1; i >= 0; i--) fcs = fcs * 256 + data[p + i];
      if (fcsSize === 2) fcs += 256;
      declared += fcs;
      if (declared > maxOutput) corrupt(`zstd content size exceeds maxOutput ${maxOutput}`);
      p += fcsSize;
    }
    for (;;) {
      if (p + 3 > end) corrupt("zstd: truncated block header");
      const bh = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16);
      p += 3;
      const type = (bh >> 1) & 3;
      if (type === 3) corrupt("zstd: reserved block type");
      const size = bh >>> 3;
      if (size > 128 * 1024) corrupt("zstd: block larger than 128 KiB");
      p += type === 1 ? 1 : size;
      if (p > end) corrupt("zstd: truncated block");
      if (bh & 1) break;
    }
    if (hasChecksum) {
      p += 4;
      if (p > end) corrupt("zstd: truncated content checksum");
    }
    frames.push([frameStart, p]);
  }
  if (frames.length === 0) corrupt("zstd: no data frame");
  return frames;
}
