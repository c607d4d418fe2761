/** The end-to-end benchmark's workload files and kcat runs (produce, consume, checks). */
import { countNewlines } from "../tcp_sink.ts";
import { Client } from "./bench_client.ts";
import { DeleteTopicsRequest, DeleteTopicsResponse } from "../../protocol/messages/mod.ts";
import { killQuietly, live, spawn, timeout, waitExit } from "./e2e_processes.ts";

/** A workload file: `count` lines of exactly `size` bytes plus "\n", record i starting with i. */
export async function writeRecordFile(path: string, count: number, size: number): Promise<number> {
  if (size < 16) throw new Error("record size must be at least 16 bytes");
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const fill = new Uint8Array(65536);
  let s = 0x2545f491;
  for (let i = 0; i < fill.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    fill[i] = alphabet.charCodeAt((s >>> 16) % alphabet.length);
  }
  const line = size + 1;
  const perChunk = Math.max(1, Math.floor((4 << 20) / line));
  const buf = new Uint8Array(perChunk * line);
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  let bytes = 0;
  try {
    for (let i = 0; i < count;) {
      const n = Math.min(perChunk, count - i);
      for (let j = 0; j < n; j++, i++) {
        const at = j * line;
        buf.set(fill.subarray((i * 131) % (65536 - size), ((i * 131) % (65536 - size)) + size), at);
        let v = i;
        for (let d = 9; d >= 0; d--) {
          buf[at + d] = 48 + (v % 10);
          v = Math.floor(v / 10);
        }
        buf[at + 10] = 45; // "-"
        buf[at + size] = 10;
      }
      const part = buf.subarray(0, n * line);
      let off = 0;
      for (let g = 0; off < part.length && g < 1_000_000; g++) {
        off += await file.write(part.subarray(off));
      }
      bytes += part.length;
    }
  } finally {
    file.close();
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------
// kcat runs.

export interface KcatRun {
  code: number | null;
  ms: number;
  /** Lines and bytes kcat wrote to stdout (consume runs). */
  lines: number;
  bytes: number;
  stderr: string;
  timedOut: boolean;
}

/** Lines ("\n") and bytes of a file, read in 1 MiB chunks. */
export async function countFile(path: string): Promise<{ lines: number; bytes: number }> {
  const file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  let lines = 0;
  let bytes = 0;
  try {
    for (let i = 0; i < 0x7fffffff; i++) {
      const got = await file.read(buf);
      if (got === null) break;
      bytes += got;
      lines += countNewlines(buf, got);
    }
  } finally {
    file.close();
  }
  return { lines, bytes };
}

/**
 * Runs kcat, timed from spawn to exit. With `outFile`, kcat's stdout goes straight to that file
 * (through `sh -c exec`, as `> file` would), and is counted after the clock stops: a pipe into
 * this process would make the reader part of what is measured.
 */
export async function kcat(
  args: string[],
  opts: { timeoutMs: number; outFile?: string },
): Promise<KcatRun> {
  const [cmd, cmdArgs] = opts.outFile
    ? ["/bin/sh", ["-c", 'out="$1"; shift; exec kcat "$@" > "$out"', "sh", opts.outFile, ...args]]
    : ["kcat", args];
  const started = performance.now();
  const child = spawn(cmd, { args: cmdArgs, stdin: "null", stdout: "null", stderr: "piped" });
  const errText = new Response(child.stderr).text().catch(() => "");
  let timedOut = false;
  const t = timeout(opts.timeoutMs, null);
  let status = await Promise.race([child.status, t.promise]);
  t.cancel();
  if (!status) {
    timedOut = true;
    killQuietly(child, "SIGKILL");
    status = await child.status;
  }
  const ms = performance.now() - started;
  live.delete(child);
  let lines = 0;
  let bytes = 0;
  if (opts.outFile) {
    ({ lines, bytes } = await countFile(opts.outFile).catch(() => ({ lines: -1, bytes: -1 })));
    await Deno.remove(opts.outFile).catch(() => {});
  }
  return { code: status.code, ms, lines, bytes, stderr: (await errText).slice(0, 4000), timedOut };
}

/** kcat's produce arguments; `idempotent` adds `enable.idempotence=true` (needs acks=all). */
export const produceArgs = (
  addr: string,
  topic: string,
  acks: string,
  file: string,
  idempotent = false,
) => [
  "-P",
  "-b",
  addr,
  "-t",
  topic,
  "-p",
  "0",
  "-X",
  "linger.ms=5",
  "-X",
  "batch.num.messages=10000",
  "-X",
  `acks=${acks}`,
  ...(idempotent ? ["-X", "enable.idempotence=true"] : []),
  "-l",
  file,
];

/**
 * Client settings that keep librdkafka's own timers out of the measurement (they apply to
 * every target alike):
 * - `-o 0` rather than `-o beginning`: with `beginning` the consumer's ListOffsets lookup is
 *   sometimes issued before the partition leader is known and retried by a 500 ms timer.
 * - queued.min.messages / queued.max.messages.kbytes raised: otherwise fetching pauses once
 *   100,000 messages (or 64 MiB) are queued and resumes on a ~1 s broker-thread wakeup.
 * - fetch.wait.max.ms=20: shortens the final empty long-poll that tells kcat it reached the
 *   end (500 ms by default), which would otherwise dominate the small windowed runs.
 * All topics here start at offset 0 (the windows fit the mock's retention).
 */
export const consumeArgs = (
  addr: string,
  topic: string,
  /** `partition: null` reads every partition; `format` is kcat's -f (the value per line). */
  opts: { partition?: number | null; format?: string } = {},
) => [
  "-C",
  "-b",
  addr,
  "-t",
  topic,
  ...(opts.partition === null ? [] : ["-p", String(opts.partition ?? 0)]),
  "-o",
  "0",
  "-e",
  "-q",
  "-X",
  "fetch.wait.max.ms=20",
  "-X",
  "queued.min.messages=10000000",
  "-X",
  "queued.max.messages.kbytes=2097151",
  "-f",
  opts.format ?? "%s\\n",
];

/** End offset of partition 0 (ListOffsets latest), or null. */
export async function endOffset(
  addr: string,
  topic: string,
  timeoutMs: number,
): Promise<number | null> {
  const child = spawn("kcat", {
    args: ["-Q", "-b", addr, "-t", `${topic}:0:-1`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const t = timeout(timeoutMs, null);
  const s = await Promise.race([child.output(), t.promise]);
  t.cancel();
  if (!s) killQuietly(child, "SIGKILL");
  await child.status;
  live.delete(child);
  if (!s) return null;
  const m = /\[0\] offset (-?\d+)/.exec(new TextDecoder().decode(s.stdout));
  return m ? Number(m[1]) : null;
}

/**
 * `sync` (untimed) before a measured run, so no run pays for the write-back of the previous
 * one's gigabyte of dirty pages. Bounded by `timeoutMs`.
 */
export async function settle(timeoutMs: number): Promise<void> {
  let child: Deno.ChildProcess;
  try {
    child = spawn("sync", { stdin: "null", stdout: "null", stderr: "null" });
  } catch {
    return; // aborted, or no sync(1)
  }
  if (!(await waitExit(child, timeoutMs))) killQuietly(child, "SIGKILL");
  await child.status;
  live.delete(child);
}

/**
 * Deletes a topic (DeleteTopics v4) so its files leave the page cache: on the machines here,
 * writes slow down about fivefold once a few GB of recently written files are cached (dd of
 * 1 GB after sync: 0.24 s, 0.50 s, then 2.4 s per file; fast again once they are deleted), so
 * without this whichever target writes last would be measured against a slower disk.
 */
export async function deleteTopic(addr: string, topic: string): Promise<void> {
  const c = await Client.connect(Number(addr.slice(addr.lastIndexOf(":") + 1)));
  try {
    await c.call(DeleteTopicsRequest, DeleteTopicsResponse, 4, {
      topicNames: [topic],
      timeoutMs: 30_000,
    });
  } finally {
    c.close();
  }
}
