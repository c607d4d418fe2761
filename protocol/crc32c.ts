/**
 * CRC-32C (Castagnoli), as Kafka uses for record batch v2 checksums.
 * Pure TypeScript, slicing-by-8 tables: eight table lookups per 8 input bytes keep it
 * well above 1 GB/s on V8 without WebAssembly.
 */
const POLY = 0x82f63b78;

const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n];
  for (let k = 1; k < 8; k++) {
    c = T[c & 0xff] ^ (c >>> 8);
    T[k * 256 + n] = c;
  }
}

/**
 * CRC-32C of `data[start, end)`. `crc` continues a previous result (0 to start), so a
 * checksum can be computed over several buffers.
 */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  let c = ~crc;
  let i = start;
  // Align to 4 bytes for the 32-bit reads below? Not needed: we read bytes directly.
  const end8 = end - ((end - i) & 7);
  while (i < end8) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ c;
    c = T[1792 + (a & 0xff)] ^ T[1536 + ((a >>> 8) & 0xff)] ^
      T[1280 + ((a >>> 16) & 0xff)] ^ T[1024 + (a >>> 24)] ^
      T[768 + data[i + 4]] ^ T[512 + data[i + 5]] ^
      T[256 + data[i + 6]] ^ T[data[i + 7]];
    i += 8;
  }
  while (i < end) c = T[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
