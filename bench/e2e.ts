/**
 * End-to-end throughput: a real client (kcat / librdkafka) against Tributary, every figure
 * set against baselines measured in the same run on the same machine.
 *
 *   deno run -A bench/e2e.ts [--quick] [--skip-reference]
 *
 * Targets:
 * - tributary: the broker as a child process (src/cli.ts), fresh temporary data directory.
 * - mock: librdkafka's built-in mock cluster (`test.mock.num.brokers=1`), opened by Debian's
 *   python3-confluent-kafka and kept alive for the run. In-memory and written in C: a
 *   reference for protocol + client overhead, not for durability. It keeps at most 5 MiB per
 *   partition (hard-coded in librdkafka), so it can only take part in the windowed consume.
 * - ceiling: bench/tcp_sink.ts, a raw TCP-to-file sink and file-to-TCP source in Deno fed the
 *   same bytes (the prepared record file) by a Deno client using 64 KiB writes/reads.
 *
 * Scenarios, per record size (100 B and 1 KiB payloads, no compression, partition 0):
 * - produce acks=1 / acks=all: `kcat -P -l FILE -X linger.ms=5 -X batch.num.messages=10000`,
 *   timed from spawn to exit (kcat exits once every message is acknowledged).
 * - consume: `kcat -C -o 0 -e -f '%s\n' > file` of each produced topic right after its
 *   produce run, timed to exit; the output's lines and bytes are counted afterwards and must
 *   match what was produced. The topic is then deleted, so no run meets a page cache full of
 *   earlier runs' files (this machine slows writes about fivefold when it is; see deleteTopic).
 * - consume window ×R: a topic of ~4 MiB (fits the mock's retention) consumed R times.
 *
 * Every produce is checked: the partition's end offset (ListOffsets via `kcat -Q`) must equal
 * the records sent and, on Tributary, consuming the topic must return exactly those records
 * and bytes. A row whose check fails is printed as FAIL without a rate, so a broken broker
 * cannot post a fast number. Produce and full-consume runs each start after an untimed
 * `sync`; without --quick each produce setting runs 3 times (alternating acks=1 / acks=all) and
 * the best run is shown. Results also go to bench/out/e2e.json (with every run's time).
 */
import { parseArgs } from "node:util";
import { countNewlines, receiveFile, sendFile } from "./tcp_sink.ts";
import { Client } from "./scale.ts";
import { DeleteTopicsRequest, DeleteTopicsResponse } from "../protocol/messages/mod.ts";

export interface E2EOptions {
  quick?: boolean;
  skipReference?: boolean;
  /** Where to write the JSON results (default bench/out/e2e.json). */
  outFile?: string;
  /** Total time budget in ms; later steps are skipped once it is spent. */
  budgetMs?: number;
  log?: (line: string) => void;
  /** Extra src/cli.ts arguments for Tributary, e.g. ["--set", "log.flush.interval.messages=1"]. */
  brokerArgs?: string[];
}

export type Target = "tributary" | "mock" | "ceiling";

export interface Row {
  scenario: string;
  kind: "produce" | "consume" | "window";
  size: number;
  acks?: "1" | "all";
  target: Target;
  /** Records moved (expected count). */
  records: number;
  seconds: number | null;
  recordsPerSec: number | null;
  /** Payload MB/s (10^6 bytes of record values per second). */
  mbPerSec: number | null;
  vsMock: number | null;
  vsCeiling: number | null;
  check: "ok" | "FAIL" | "n/a" | "skipped" | "error";
  detail?: string;
  /** Per-run milliseconds where a row sums or picks from several runs. */
  runsMs?: number[];
}

export interface E2EResult {
  startedAt: string;
  quick: boolean;
  environment: Record<string, string | number>;
  workloads: {
    size: number;
    records: number;
    runs: number;
    windowRecords: number;
    windowRepeats: number;
  }[];
  rows: Row[];
  tributary: { peakRssMiB: number | null; exitCode: number | null; warnings: string[] };
  ok: boolean;
  elapsedSeconds: number;
}

const ROOT = new URL("../", import.meta.url);
const CLI = new URL("src/cli.ts", ROOT).pathname;
const SINK = new URL("bench/tcp_sink.ts", ROOT).pathname;
const PYTHON = "/usr/bin/python3";
const LOOPBACK = "127.0.0.1";
const WINDOW_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------
// Child processes: every one is registered, and stopped at the end or on error / Ctrl-C.

interface Server {
  name: string;
  child: Deno.ChildProcess;
  match: RegExpExecArray;
  /** Recent output lines (bounded), both streams. */
  lines: string[];
  stdin: WritableStreamDefaultWriter<Uint8Array> | null;
}

const live = new Set<Deno.ChildProcess>();
const tempDirs = new Set<string>();
let aborted = false;

/** Spawns and registers a child; refuses once the run is being aborted. */
function spawn(cmd: string, options: Deno.CommandOptions): Deno.ChildProcess {
  if (aborted) throw new Error("benchmark aborted");
  const child = new Deno.Command(cmd, options).spawn();
  live.add(child);
  return child;
}

function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

function timeout<T>(ms: number, value: T): { promise: Promise<T>; cancel(): void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<T>((resolve) => {
    id = setTimeout(() => resolve(value), Math.max(0, ms));
  });
  return { promise, cancel: () => clearTimeout(id) };
}

/** Waits for exit up to `ms`; returns the status or null. */
async function waitExit(child: Deno.ChildProcess, ms: number): Promise<Deno.CommandStatus | null> {
  const t = timeout(ms, null);
  const s = await Promise.race([child.status, t.promise]);
  t.cancel();
  return s;
}

/** Polite stop (stdin EOF or `signal`), then SIGKILL after `graceMs`. */
async function stopChild(
  child: Deno.ChildProcess,
  opts: { signal?: Deno.Signal; stdin?: WritableStreamDefaultWriter<Uint8Array> | null } = {},
  graceMs = 10_000,
): Promise<Deno.CommandStatus> {
  if (opts.stdin) await opts.stdin.close().catch(() => {});
  if (opts.signal) killQuietly(child, opts.signal);
  let s = await waitExit(child, graceMs);
  if (!s) {
    killQuietly(child, "SIGKILL");
    s = await child.status;
  }
  live.delete(child);
  return s;
}

/** Kills everything still running (end of run, errors). */
export async function killAll(): Promise<void> {
  const all = [...live];
  for (const c of all) killQuietly(c, "SIGKILL");
  await Promise.all(all.map((c) => waitExit(c, 5_000)));
  live.clear();
}

/** Ctrl-C / SIGTERM: no new children, kill the running ones, remove temporary files. */
export async function abortAll(): Promise<void> {
  aborted = true;
  await killAll();
  for (const d of tempDirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  tempDirs.clear();
}

/** Appends decoded lines of `stream` to `lines` (keeping the last 2000) until it ends. */
async function drain(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
  onText?: (text: string) => void,
): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let partial = "";
  // Bounded by the child's lifetime (every child is killed at the end) and a count guard.
  for (let i = 0; i < 10_000_000; i++) {
    const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (r.done) break;
    onText?.(r.value);
    const parts = (partial + r.value).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    if (lines.length > 4000) lines.splice(0, lines.length - 2000);
  }
  if (partial) lines.push(partial);
}

/** Spawns a long-running server and waits until its output matches `ready`. */
async function startServer(
  name: string,
  cmd: string,
  args: string[],
  ready: RegExp,
  timeoutMs: number,
  env?: Record<string, string>,
): Promise<Server> {
  const child = spawn(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped", env });
  const stdin = child.stdin.getWriter();
  const lines: string[] = [];
  let seen = "";
  let resolveReady: (m: RegExpExecArray) => void = () => {};
  const matched = new Promise<RegExpExecArray>((r) => (resolveReady = r));
  const onText = (t: string) => {
    if (seen.length > 65536) return;
    seen += t;
    const m = ready.exec(seen);
    if (m) resolveReady(m);
  };
  drain(child.stdout, lines, onText);
  drain(child.stderr, lines, onText);
  const t = timeout(timeoutMs, "timeout" as const);
  const first = await Promise.race([
    matched,
    child.status.then(() => "exited" as const),
    t.promise,
  ]);
  t.cancel();
  if (typeof first === "string") {
    await stopChild(child, { signal: "SIGKILL" }, 2_000);
    throw new Error(`${name} did not start (${first}): ${seen.slice(0, 2000)}`);
  }
  return { name, child, match: first, lines, stdin };
}

// ---------------------------------------------------------------------------------------
// Workload files: `count` lines of exactly `size` bytes plus "\n", record i starting with i.

async function writeRecordFile(path: string, count: number, size: number): Promise<number> {
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

interface KcatRun {
  code: number | null;
  ms: number;
  /** Lines and bytes kcat wrote to stdout (consume runs). */
  lines: number;
  bytes: number;
  stderr: string;
  timedOut: boolean;
}

/** Lines ("\n") and bytes of a file, read in 1 MiB chunks. */
async function countFile(path: string): Promise<{ lines: number; bytes: number }> {
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
async function kcat(
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

const produceArgs = (addr: string, topic: string, acks: string, file: string) => [
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
const consumeArgs = (addr: string, topic: string) => [
  "-C",
  "-b",
  addr,
  "-t",
  topic,
  "-p",
  "0",
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
  "%s\\n",
];

/** End offset of partition 0 (ListOffsets latest), or null. */
async function endOffset(addr: string, topic: string, timeoutMs: number): Promise<number | null> {
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
async function settle(timeoutMs: number): Promise<void> {
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
async function deleteTopic(addr: string, topic: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------

function fmtNum(n: number | null, digits = 0): string {
  if (n === null || !Number.isFinite(n)) return "-";
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function fmtRatio(n: number | null): string {
  return n === null || !Number.isFinite(n) ? "-" : n.toFixed(2);
}

function sizeLabel(size: number): string {
  return size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`;
}

/** The results table as text. */
export function formatTable(rows: Row[]): string {
  const head = [
    "scenario",
    "target",
    "runs",
    "records",
    "seconds",
    "records/s",
    "MB/s",
    "vs mock",
    "vs raw TCP",
    "check",
  ];
  const body = rows.map((r) => [
    r.scenario,
    r.target,
    r.runsMs ? String(r.runsMs.length) : "-",
    fmtNum(r.records),
    r.seconds === null ? "-" : r.seconds.toFixed(3),
    fmtNum(r.recordsPerSec),
    fmtNum(r.mbPerSec, 1),
    fmtRatio(r.vsMock),
    fmtRatio(r.vsCeiling),
    r.check === "ok" || r.check === "n/a"
      ? r.check
      : `${r.check}${r.detail ? `: ${r.detail}` : ""}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = new Set([2, 3, 4, 5, 6, 7, 8]);
  const line = (cells: string[]) =>
    "| " +
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(
      " | ",
    ) + " |";
  const sep = "|" +
    widths.map((w, i) => (right.has(i) ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2)))
      .join("|") +
    "|";
  return [line(head), sep, ...body.map(line)].join("\n");
}

async function versionOf(cmd: string, args: string[]): Promise<string> {
  try {
    const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    return new TextDecoder().decode(o.stdout).trim() || new TextDecoder().decode(o.stderr).trim();
  } catch (e) {
    return `unavailable (${e instanceof Error ? e.message : e})`;
  }
}

const MOCK_SCRIPT = `
import os, sys, threading
limit = float(sys.argv[1])
threading.Timer(limit, lambda: os._exit(3)).start()
try:
    from confluent_kafka import Producer
    p = Producer({"test.mock.num.brokers": 1, "log_level": 3})
    md = p.list_topics(timeout=10)
    b = list(md.brokers.values())[0]
    print("mock listening on %s:%d" % (b.host, b.port), flush=True)
except Exception as e:
    print("mock failed: %r" % (e,), file=sys.stderr, flush=True)
    os._exit(1)
sys.stdin.read()
os._exit(0)
`;

/** Runs the whole end-to-end benchmark and returns (and writes) the results. */
export async function runE2E(opts: E2EOptions = {}): Promise<E2EResult> {
  const quick = !!opts.quick;
  const say = opts.log ?? ((l: string) => console.log(l));
  const t0 = performance.now();
  const budgetMs = opts.budgetMs ?? (quick ? 50_000 : 270_000);
  const deadline = t0 + budgetMs;
  const remaining = () => deadline - performance.now();
  const stepTimeout = (cap: number) => Math.max(1_000, Math.min(cap, remaining()));

  const workloads = [
    { size: 100, records: quick ? 500_000 : 5_000_000 },
    { size: 1024, records: quick ? 100_000 : 1_000_000 },
  ].map((w) => ({
    ...w,
    /** Produce runs per acks setting (each to a fresh topic); rows show the best. */
    runs: quick ? 1 : 3,
    windowRecords: Math.floor(WINDOW_BYTES / (w.size + 24)),
    windowRepeats: quick ? 3 : 10,
  }));

  const environment: Record<string, string | number> = {
    cpus: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    kcat: "?",
  };
  const kv = await versionOf("kcat", ["-V"]);
  const km = /Version (\S+).*?librdkafka (\S+)/s.exec(kv);
  environment.kcat = km ? `kcat ${km[1]} (librdkafka ${km[2]})` : kv.split("\n")[0];
  try {
    const cpu = await Deno.readTextFile("/proc/cpuinfo");
    environment.cpu = /model name\s*:\s*(.*)/.exec(cpu)?.[1] ?? "unknown";
  } catch {
    // not Linux
  }

  const rows: Row[] = [];
  const tributaryInfo = {
    peakRssMiB: null as number | null,
    exitCode: null as number | null,
    warnings: [] as string[],
  };
  const tmp = await Deno.makeTempDir({ prefix: "tributary-bench-" });
  tempDirs.add(tmp);
  const files = new Map<number, { full: string; window: string; bytes: number }>();

  const row = (r: Omit<Row, "recordsPerSec" | "mbPerSec" | "vsMock" | "vsCeiling">): Row => {
    const recordsPerSec = r.seconds ? r.records / r.seconds : null;
    const mbPerSec = r.seconds ? (r.records * r.size) / r.seconds / 1e6 : null;
    const full: Row = { ...r, recordsPerSec, mbPerSec, vsMock: null, vsCeiling: null };
    rows.push(full);
    const rate = full.mbPerSec === null ? "" : ` ${fmtNum(full.mbPerSec, 1)} MB/s`;
    say(
      `  ${r.target.padEnd(9)} ${r.scenario}:${rate} ${r.check}${r.detail ? ` (${r.detail})` : ""}`,
    );
    return full;
  };
  const skipped = (
    target: Target,
    kind: Row["kind"],
    size: number,
    scenario: string,
    records: number,
    detail: string,
    acks?: "1" | "all",
  ) =>
    row({ scenario, kind, size, acks, target, records, seconds: null, check: "skipped", detail });

  const scen = {
    produce: (size: number, acks: string) => `produce ${sizeLabel(size)} acks=${acks}`,
    consume: (size: number) => `consume ${sizeLabel(size)}`,
    window: (size: number, reps: number) => `consume ${sizeLabel(size)} 4 MiB window x${reps}`,
  };

  try {
    // 1. Workload files.
    say(`e2e: preparing workload files in ${tmp}`);
    for (const w of workloads) {
      const full = `${tmp}/records-${w.size}.txt`;
      const window = `${tmp}/window-${w.size}.txt`;
      const bytes = await writeRecordFile(full, w.records, w.size);
      await writeRecordFile(window, w.windowRecords, w.size);
      files.set(w.size, { full, window, bytes });
    }

    // 2. Raw TCP ceiling.
    say("e2e: raw TCP ceiling (bench/tcp_sink.ts)");
    let sink: Server | null = null;
    try {
      const sinkDir = await Deno.makeTempDir({ dir: tmp, prefix: "sink-" });
      sink = await startServer(
        "tcp_sink",
        Deno.execPath(),
        [
          "run",
          "-A",
          SINK,
          "--dir",
          sinkDir,
          "--timeout-s",
          String(Math.ceil(budgetMs / 1000) + 60),
        ],
        /sink listening on [\d.]+:(\d+)[\s\S]*source listening on [\d.]+:(\d+)/,
        30_000,
      );
      const sinkAddr = { hostname: LOOPBACK, port: Number(sink.match[1]) };
      const sourceAddr = { hostname: LOOPBACK, port: Number(sink.match[2]) };
      for (const w of workloads) {
        const f = files.get(w.size)!;
        // Best of 2 (at least as many runs as the kcat rows get): a ceiling is the best this
        // machine does.
        const reps = Math.max(2, w.runs);
        const runsMs: number[] = [];
        const problems: string[] = [];
        for (let rep = 0; rep < reps && remaining() > 0; rep++) {
          await settle(stepTimeout(60_000));
          const r = await sendFile(sinkAddr, f.full, stepTimeout(60_000));
          if (r.acked !== f.bytes || r.bytes !== f.bytes) {
            problems.push(`sent ${r.bytes} B, acked ${r.acked} of ${f.bytes} B`);
          }
          runsMs.push(r.ms);
        }
        row({
          scenario: `produce ${sizeLabel(w.size)} (raw TCP to file)`,
          kind: "produce",
          size: w.size,
          target: "ceiling",
          records: w.records,
          seconds: runsMs.length ? Math.min(...runsMs) / 1000 : null,
          check: problems.length ? "FAIL" : runsMs.length ? "ok" : "skipped",
          detail: problems.length ? problems.join("; ") : undefined,
          runsMs: runsMs.map((ms) => Math.round(ms * 10) / 10),
        });
        for (
          const [kind, path, records, n] of [
            ["consume", f.full, w.records, Math.max(2, 2 * w.runs)],
            ["window", f.window, w.windowRecords, w.windowRepeats],
          ] as const
        ) {
          const runsMs: number[] = [];
          const problems: string[] = [];
          // consume: best of `n` single reads; window: the total of `n` reads.
          for (let rep = 0; rep < n && remaining() > 0; rep++) {
            const r = await receiveFile(sourceAddr, path, false, stepTimeout(60_000));
            if (r.bytes !== records * (w.size + 1)) {
              problems.push(`got ${r.bytes} B of ${records * (w.size + 1)}`);
            }
            runsMs.push(r.ms);
          }
          const total = runsMs.reduce((a, b) => a + b, 0);
          row({
            scenario: kind === "consume"
              ? `${scen.consume(w.size)} (raw file to TCP)`
              : `${scen.window(w.size, n)} (raw)`,
            kind,
            size: w.size,
            target: "ceiling",
            records: kind === "consume" ? records : records * runsMs.length,
            seconds: runsMs.length
              ? (kind === "consume" ? Math.min(...runsMs) : total) / 1000
              : null,
            check: problems.length ? "FAIL" : runsMs.length ? "ok" : "skipped",
            detail: problems.length ? problems.join("; ") : undefined,
            runsMs: runsMs.map((ms) => Math.round(ms * 10) / 10),
          });
        }
      }
    } catch (e) {
      say(`e2e: ceiling failed: ${e instanceof Error ? e.message : e}`);
    } finally {
      if (sink) await stopChild(sink.child, { stdin: sink.stdin }, 5_000);
    }

    // 3. Kafka targets: the mock (reference) first, then Tributary.
    const targets: Target[] = opts.skipReference ? ["tributary"] : ["mock", "tributary"];
    for (const target of targets) {
      say(`e2e: ${target}`);
      let server: Server | null = null;
      let addr = "";
      const dataDir = `${tmp}/tributary-data`;
      try {
        if (target === "mock") {
          server = await startServer(
            "mock cluster",
            PYTHON,
            ["-c", MOCK_SCRIPT, String(Math.ceil(budgetMs / 1000) + 60)],
            /mock listening on ([\d.]+):(\d+)/,
            30_000,
          );
        } else {
          await Deno.mkdir(dataDir, { recursive: true });
          server = await startServer(
            "tributary",
            Deno.execPath(),
            [
              "run",
              "-A",
              CLI,
              "--host",
              LOOPBACK,
              "--port",
              "0",
              "--data-dir",
              dataDir,
              ...(opts.brokerArgs ?? []),
            ],
            /listening on ([\d.]+):(\d+)/,
            60_000,
          );
        }
        addr = `${server.match[1]}:${server.match[2]}`;
        say(`  ${target} at ${addr}`);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        say(`e2e: ${target} failed to start: ${msg}`);
        for (const w of workloads) {
          for (const acks of ["1", "all"] as const) {
            row({
              scenario: scen.produce(w.size, acks),
              kind: "produce",
              size: w.size,
              acks,
              target,
              records: w.records,
              seconds: null,
              check: "error",
              detail: `did not start: ${msg.slice(0, 200)}`,
            });
          }
        }
        continue;
      }

      try {
        for (const w of workloads) {
          const f = files.get(w.size)!;
          const expectBytes = w.records * (w.size + 1);
          // Produce: `runs` fresh topics per acks setting, the settings alternating so both
          // meet the same page-cache state; each run starts after a sync. Rows show the best.
          const ackModes = ["1", "all"] as const;
          /** Tributary's read-back of each produced topic (the consume row). */
          const consumed = { runsMs: [] as number[], problems: [] as string[] };
          const acc = new Map(
            ackModes.map((
              a,
            ) => [a, { runsMs: [] as number[], problems: [] as string[], topics: [] as string[] }]),
          );
          for (let rep = 0; rep < w.runs; rep++) {
            for (const acks of ackModes) {
              if (remaining() < 2_000) continue;
              const a = acc.get(acks)!;
              const topic = `bench-${w.size}-acks${acks}-${rep}`;
              await settle(stepTimeout(60_000));
              const k = await kcat(produceArgs(addr, topic, acks, f.full), {
                timeoutMs: stepTimeout(120_000),
              });
              const end = await endOffset(addr, topic, stepTimeout(15_000));
              if (k.timedOut) a.problems.push("kcat timed out");
              else if (k.code !== 0) a.problems.push(`kcat exit ${k.code}`);
              if (/fail|error/i.test(k.stderr)) a.problems.push(k.stderr.trim().split("\n")[0]);
              if (end !== w.records) a.problems.push(`end offset ${end}, expected ${w.records}`);
              if (!k.timedOut) a.runsMs.push(k.ms);
              a.topics.push(topic);
              if (target === "tributary") {
                // Read it back (timed, checked), then delete it before the next run.
                await settle(stepTimeout(60_000));
                const c = await kcat(consumeArgs(addr, topic), {
                  timeoutMs: stepTimeout(120_000),
                  outFile: `${tmp}/consumed.txt`,
                });
                const bad: string[] = [];
                if (c.timedOut) bad.push("kcat timed out");
                else if (c.code !== 0) bad.push(`kcat exit ${c.code}`);
                if (c.lines !== w.records || c.bytes !== expectBytes) {
                  bad.push(
                    `${topic}: consumed ${c.lines} records / ${c.bytes} B, expected ${w.records}`,
                  );
                }
                if (bad.length) a.problems.push(`read back: ${bad.join("; ")}`);
                consumed.problems.push(...bad);
                if (!c.timedOut) consumed.runsMs.push(c.ms);
                await deleteTopic(addr, topic).catch((e) =>
                  say(`  could not delete ${topic}: ${e instanceof Error ? e.message : e}`)
                );
              }
            }
          }
          for (const acks of ackModes) {
            const scenario = scen.produce(w.size, acks);
            const { runsMs, problems, topics } = acc.get(acks)!;
            if (topics.length === 0) {
              skipped(target, "produce", w.size, scenario, w.records, "time budget spent", acks);
              continue;
            }
            row({
              scenario,
              kind: "produce",
              size: w.size,
              acks,
              target,
              records: w.records,
              seconds: runsMs.length ? Math.min(...runsMs) / 1000 : null,
              check: problems.length ? "FAIL" : "ok",
              detail: problems.length ? problems.join("; ") : undefined,
              runsMs: runsMs.map((ms) => Math.round(ms * 10) / 10),
            });
          }

          // Consume: every topic Tributary stored was read back (timed, checked) right after
          // it was produced, then deleted; the row shows the best read. The mock keeps only
          // 5 MiB per partition.
          if (target === "mock") {
            row({
              scenario: scen.consume(w.size),
              kind: "consume",
              size: w.size,
              target,
              records: w.records,
              seconds: null,
              check: "n/a",
              detail: "mock keeps only 5 MiB per partition",
            });
          } else {
            const { runsMs, problems } = consumed;
            if (runsMs.length === 0 && problems.length === 0) {
              skipped(target, "consume", w.size, scen.consume(w.size), w.records, "budget");
            } else {
              row({
                scenario: scen.consume(w.size),
                kind: "consume",
                size: w.size,
                target,
                records: w.records,
                seconds: runsMs.length ? Math.min(...runsMs) / 1000 : null,
                check: problems.length ? "FAIL" : "ok",
                detail: problems.length ? problems.join("; ") : undefined,
                runsMs: runsMs.map((ms) => Math.round(ms * 10) / 10),
              });
            }
          }

          // Windowed consume: ~4 MiB topic, read R times.
          const scenario = scen.window(w.size, w.windowRepeats);
          const total = w.windowRecords * w.windowRepeats;
          if (remaining() < 2_000) {
            skipped(target, "window", w.size, scenario, total, "time budget spent");
            continue;
          }
          const topic = `bench-${w.size}-window`;
          const pk = await kcat(produceArgs(addr, topic, "1", f.window), {
            timeoutMs: stepTimeout(60_000),
          });
          const problems: string[] = [];
          if (pk.code !== 0) problems.push(`window produce: kcat exit ${pk.code}`);
          let ms = 0;
          const runsMs: number[] = [];
          for (let rep = 0; rep < w.windowRepeats && !problems.length; rep++) {
            const k = await kcat(consumeArgs(addr, topic), {
              timeoutMs: stepTimeout(60_000),
              outFile: `${tmp}/consumed.txt`,
            });
            if (k.timedOut) problems.push("kcat timed out");
            else if (k.code !== 0) problems.push(`kcat exit ${k.code}`);
            if (k.lines !== w.windowRecords || k.bytes !== w.windowRecords * (w.size + 1)) {
              problems.push(
                `consumed ${k.lines} records / ${k.bytes} B, expected ${w.windowRecords}`,
              );
            }
            ms += k.ms;
            runsMs.push(Math.round(k.ms * 10) / 10);
          }
          row({
            runsMs,
            scenario,
            kind: "window",
            size: w.size,
            target,
            records: total,
            seconds: problems.length ? null : ms / 1000,
            check: problems.length ? "FAIL" : "ok",
            detail: problems.length ? problems.join("; ") : undefined,
          });
        }
      } catch (e) {
        say(`e2e: ${target}: ${e instanceof Error ? e.stack : e}`);
        row({
          scenario: "(run)",
          kind: "produce",
          size: 0,
          target,
          records: 0,
          seconds: null,
          check: "error",
          detail: e instanceof Error ? e.message : String(e),
        });
      } finally {
        if (target === "tributary") {
          try {
            const status = await Deno.readTextFile(`/proc/${server.child.pid}/status`);
            const hwm = /VmHWM:\s*(\d+) kB/.exec(status);
            if (hwm) tributaryInfo.peakRssMiB = Math.round(Number(hwm[1]) / 1024);
          } catch {
            // not Linux, or already gone
          }
          const s = await stopChild(server.child, { signal: "SIGTERM" }, 15_000);
          tributaryInfo.exitCode = s.code;
          tributaryInfo.warnings = server.lines.filter((l) => /\b(WARN|ERROR)\b/.test(l)).slice(
            0,
            50,
          );
          if (s.code !== 0) {
            tributaryInfo.warnings.push(`broker exited with code ${s.code} after SIGTERM`);
          }
        } else {
          await stopChild(server.child, { stdin: server.stdin }, 5_000);
        }
      }
    }
  } finally {
    await killAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    tempDirs.delete(tmp);
  }

  // Ratios: same scenario kind, size and (for produce) any acks against the mock's row with
  // the same acks, and against the ceiling row of the same kind and size.
  for (const r of rows) {
    // A row that failed its checks posts no rate at all.
    if (r.check !== "ok") r.recordsPerSec = r.mbPerSec = null;
  }
  for (const r of rows) {
    if (r.mbPerSec === null) continue;
    const mock = rows.find((m) =>
      m.target === "mock" && m.kind === r.kind && m.size === r.size && m.acks === r.acks &&
      m.check === "ok" && m.mbPerSec !== null
    );
    const ceil = rows.find((c) =>
      c.target === "ceiling" && c.kind === r.kind && c.size === r.size && c.check === "ok" &&
      c.mbPerSec !== null
    );
    if (mock?.mbPerSec && r.target !== "ceiling") r.vsMock = r.mbPerSec / mock.mbPerSec;
    if (ceil?.mbPerSec) r.vsCeiling = r.mbPerSec / ceil.mbPerSec;
  }
  // Keep the table grouped by scenario: produce, consume, window; per size; ceiling, mock, T.
  const order = { produce: 0, consume: 1, window: 2 };
  const torder = { ceiling: 0, mock: 1, tributary: 2 };
  rows.sort((a, b) =>
    a.size - b.size || order[a.kind] - order[b.kind] ||
    (a.acks ?? "").localeCompare(b.acks ?? "") ||
    torder[a.target] - torder[b.target]
  );

  const result: E2EResult = {
    startedAt: new Date(Date.now() - (performance.now() - t0)).toISOString(),
    quick,
    environment,
    workloads,
    rows,
    tributary: tributaryInfo,
    ok: rows.every((r) => r.check === "ok" || r.check === "n/a" || r.check === "skipped") &&
      tributaryInfo.exitCode === 0,
    elapsedSeconds: (performance.now() - t0) / 1000,
  };
  const outFile = opts.outFile ?? new URL("out/e2e.json", import.meta.url).pathname;
  await Deno.mkdir(outFile.slice(0, outFile.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(outFile, JSON.stringify(result, null, 2) + "\n");
  return result;
}

/** Prints the table and notes for a result. */
export function printResult(res: E2EResult, say: (l: string) => void = console.log): void {
  say("");
  say(
    `End-to-end, ${res.environment.cpus} CPUs (${res.environment.cpu ?? "?"}), ` +
      `Deno ${res.environment.deno}${
        res.quick ? ", --quick" : ""
      }; client: ${res.environment.kcat}`,
  );
  for (const w of res.workloads) {
    say(
      `  ${sizeLabel(w.size)} records: ${fmtNum(w.records)} per produce run, ${w.runs} run(s) ` +
        `per acks setting; window ${fmtNum(w.windowRecords)} records x${w.windowRepeats}`,
    );
  }
  say("");
  say(formatTable(res.rows));
  say("");
  for (
    const note of [
      "MB/s: record payload bytes (10^6 B/s). vs mock / vs raw TCP: this row's rate over the",
      "mock's / the raw ceiling's rate in the same scenario. runs: each produce run goes to a",
      "fresh topic and every produced topic is read back (counts and bytes checked); the row",
      "shows the best run, window rows the total of all runs. Per-run times: bench/out/e2e.json.",
      "Ceiling: Deno writes the record file over TCP in 64 KiB chunks to a Deno process that",
      "writes it to a file and acks at EOF; consume ceiling serves the file back over TCP.",
      "It bounds what one Deno process persisting the bytes can do; the in-memory C mock can",
      "beat it.",
    ]
  ) say(note);
  const t = res.tributary;
  say(
    `Tributary: peak RSS ${t.peakRssMiB ?? "?"} MiB, exit code after SIGTERM ${t.exitCode ?? "?"}` +
      `${t.warnings.length ? `, ${t.warnings.length} warning/error line(s):` : ", no warnings"}`,
  );
  for (const w of t.warnings.slice(0, 20)) say(`  ${w}`);
  say(
    `e2e: ${res.ok ? "all checks passed" : "SOME CHECKS FAILED"} in ${
      res.elapsedSeconds.toFixed(1)
    } s`,
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { quick: { type: "boolean" }, "skip-reference": { type: "boolean" } },
    strict: true,
  });
  const onSignal = async () => {
    await abortAll();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let code = 0;
  try {
    const res = await runE2E({ quick: values.quick, skipReference: values["skip-reference"] });
    printResult(res);
    code = res.ok ? 0 : 1;
  } catch (e) {
    console.error(`e2e failed: ${e instanceof Error ? e.stack : e}`);
    code = 1;
  } finally {
    await killAll();
  }
  Deno.exit(code);
}
