/** Scale benchmark 3: partition growth (open logs, memory and time as partitions grow). */
import { closeSync, openSync, readdirSync, readSync, statSync, writeSync } from "node:fs";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { logConfig } from "../../storage/log_config.ts";
import { PartitionLog } from "../../storage/partition_log.ts";

export async function growth(
  dir: string,
  sizesMB: number[],
  say: (l: string) => void,
): Promise<
  { sizeMB: number; appendUs: number; fetchUs: number; rawAppendUs: number; rawFetchUs: number }[]
> {
  const log = await PartitionLog.open(dir, logConfig({}));
  const value = new Uint8Array(1024).map((_, i) => (i * 31) & 0xff);
  const big = encodeRecordBatch({
    records: Array.from({ length: 64 }, (_, i) => ({ key: null, value, timestamp: i })),
  });
  const small = encodeRecordBatch({
    records: Array.from({ length: 16 }, (_, i) => ({ key: `k${i}`, value, timestamp: i })),
  });
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const out = [];
  let written = 0;
  try {
    // Untimed warm-up, so the first size does not pay for JIT compilation.
    for (let i = 0; i < 500; i++) await log.append(small);
    for (let i = 0; i < 500; i++) await log.read(i * 16, 65536, { minOneBatch: true });
    written += 500 * small.length;
    for (const mb of sizesMB) {
      const target = mb * 1e6;
      for (let g = 0; written < target && g < 100_000; g++) {
        await log.append(big);
        written += big.length;
      }
      // Untimed: let the fill reach the disk (`sync`), so the OS writing back a gigabyte of
      // dirty pages does not land in one size's timing and not another's, and touch the
      // index of every segment once (an index is loaded on its first lookup).
      await log.flush();
      await new Deno.Command("sync").output();
      const warmEnd = log.logEndOffset;
      for (let i = 0; i < 200; i++) await log.read(rnd() % warmEnd, 65536, { minOneBatch: true });
      // Timed: 300 appends of 16 KiB, then 1,000 fetches of 64 KiB at random offsets.
      const appends = 300;
      let t = performance.now();
      for (let i = 0; i < appends; i++) await log.append(small);
      const appendUs = (performance.now() - t) * 1000 / appends;
      written += appends * small.length;
      const end = log.logEndOffset;
      const fetches = 1000;
      let got = 0;
      t = performance.now();
      for (let i = 0; i < fetches; i++) {
        got += (await log.read(rnd() % end, 65536, { minOneBatch: true })).length;
      }
      const fetchUs = (performance.now() - t) * 1000 / fetches;
      if (got === 0) throw new Error("random fetches returned nothing");
      // Baselines at the same size: the file system alone. 300 16 KiB writes at the end of a
      // scratch file in the same directory, and 1,000 64 KiB preads at random positions of the
      // partition's segment files.
      const raw = openSync(`${dir}/raw-append.bin`, "a");
      const chunk = new Uint8Array(16 * 1024).fill(1);
      t = performance.now();
      for (let i = 0; i < appends; i++) writeSync(raw, chunk);
      const rawAppendUs = (performance.now() - t) * 1000 / appends;
      closeSync(raw);
      const files = readdirSync(dir).filter((f) => f.endsWith(".log")).map((f) => {
        const path = `${dir}/${f}`;
        return { fd: openSync(path, "r"), size: statSync(path).size };
      });
      const buf = new Uint8Array(65536);
      t = performance.now();
      for (let i = 0; i < fetches; i++) {
        const f = files[rnd() % files.length];
        readSync(f.fd, buf, 0, buf.length, rnd() % Math.max(1, f.size - buf.length));
      }
      const rawFetchUs = (performance.now() - t) * 1000 / fetches;
      for (const f of files) closeSync(f.fd);
      say(
        `  partition at ${mb} MB: append ${appendUs.toFixed(1)} µs, fetch ${
          fetchUs.toFixed(1)
        } µs (raw write ${rawAppendUs.toFixed(1)} µs, raw pread ${rawFetchUs.toFixed(1)} µs)`,
      );
      out.push({ sizeMB: mb, appendUs, fetchUs, rawAppendUs, rawFetchUs });
    }
  } finally {
    await log.close();
  }
  return out;
}
