/**
 * The workers target: "two producers on two partitions with 2 workers: ≥ 1.6× one worker".
 *
 *   deno run -A bench/workers.ts [--quick]
 *
 * For W = 1 and W = 2 (in alternation, best of the runs per W): a fresh data directory, the
 * broker as a child process with `--workers W`, a topic of two partitions (with 2 workers,
 * partitions 0 and 1 have different owners), then two producers at once, one per partition,
 * timed from start to the last acknowledgement. Each run is checked: both partitions' end
 * offsets must equal the records sent, or the row is FAIL without a rate. The broker's CPU
 * time (user + system, /proc) over the timed part is recorded too.
 *
 * Two load generators:
 * - kcat ×2 (librdkafka) producing a prepared file of 1 KiB records, linger.ms=5, acks=1: the
 *   target's load. On a 2-core machine the two kcat processes need about as much CPU as the
 *   broker, so this measures the machine as much as the broker.
 * - replay ×2 (bench/produce_replay.ts): one pre-encoded Produce request (1,000 × 1 KiB
 *   records) sent over and over, 4 in flight: the generators cost a socket write per MiB, so
 *   the broker gets the cores.
 *
 * With at least 4 cores the broker is pinned (taskset, all its threads) to half the cores and
 * the generators to the other half, so the load generator does not share the broker's cores;
 * with fewer the runs are not pinned and the result says so (`pinning.note`).
 *
 * Broker CPU per record: one replay producer of 100 B records (1,000 per request) to one
 * partition with 1 worker; produce_replay reads the broker's CPU time from /proc over the
 * requests after an untimed warm-up and reports it per record (`cpuPerRecord`, the median of
 * the runs).
 *
 * Results: a table on stdout and bench/out/workers.json.
 */
import { parseArgs } from "node:util";
import { median } from "./lib/bench_client.ts";
import { cpuSeconds, startBroker, stopBroker } from "./lib/scale_broker.ts";
import { machinePinning, pinnedCommand, type Pinning, pinProcess } from "./lib/cpu_pinning.ts";

const ROOT = new URL("../", import.meta.url);
const REPLAY = new URL("bench/produce_replay.ts", ROOT).pathname;
const OUT = new URL("bench/out/workers.json", ROOT).pathname;
export interface WorkersRow {
  generator: "kcat" | "replay";
  workers: number;
  records: number;
  bytes: number;
  seconds: number | null;
  mbPerSec: number | null;
  /** Broker CPU seconds (all threads) per GB produced. */
  cpuSecondsPerGB: number | null;
  check: "ok" | "FAIL";
  runsMs: number[];
  detail?: string;
}

/** Broker CPU per record produced, one replay producer, one partition. */
export interface CpuPerRecordRow {
  recordBytes: number;
  workers: number;
  /** Records measured per run (warm-up excluded). */
  records: number;
  /** Median over the runs of broker CPU ns per record; null when no run checked out. */
  nsPerRecord: number | null;
  runsNs: number[];
  check: "ok" | "FAIL";
  detail?: string;
}

export interface WorkersResult {
  cores: number;
  /** Whether broker and generators ran on separate cores (taskset). */
  pinning: Pinning;
  rows: WorkersRow[];
  cpuPerRecord?: CpuPerRecordRow[];
  /** MB/s with 2 workers over MB/s with 1, per generator (target ≥ 1.6). */
  scaling: Record<string, number | null>;
}

const live = new Set<Deno.ChildProcess>();

function kill(child: Deno.ChildProcess, signal: Deno.Signal = "SIGKILL"): void {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

async function run(cmd: string, args: string[], timeoutMs = 300_000) {
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  live.add(child);
  const t = setTimeout(() => kill(child), timeoutMs);
  const out = await child.output();
  clearTimeout(t);
  live.delete(child);
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function endOffsets(port: number): Promise<number[]> {
  const r = await run("kcat", ["-Q", "-b", `127.0.0.1:${port}`, "-t", "w:0:-1", "-t", "w:1:-1"]);
  const out = [-1, -1];
  for (const m of r.stdout.matchAll(/\[(\d)\] offset (\d+)/g)) out[Number(m[1])] = Number(m[2]);
  return out;
}

async function writeRecordFile(path: string, count: number, size: number): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  const line = new Uint8Array(size + 1).fill(0x62);
  line[size] = 0x0a;
  const chunk = new Uint8Array(line.length * 1000);
  for (let i = 0; i < 1000; i++) chunk.set(line, i * line.length);
  for (let left = count; left > 0; left -= 1000) {
    const n = Math.min(1000, left);
    const part = chunk.subarray(0, n * line.length);
    for (let off = 0; off < part.length;) off += await f.write(part.subarray(off));
  }
  f.close();
}

/** One timed run: returns ms, broker CPU seconds and whether the offsets check out. */
async function oneRun(
  tmp: string,
  generator: "kcat" | "replay",
  workers: number,
  perPartition: { records: number; file?: string; requests?: number },
  pinning: Pinning,
): Promise<{ ms: number; cpu: number; ok: boolean; detail?: string }> {
  const dir = await Deno.makeTempDir({ dir: tmp, prefix: `w${workers}-` });
  const b = await startBroker(dir, 60_000, [
    "--workers",
    String(workers),
    "--set",
    "num.partitions=2",
  ]);
  try {
    if (pinning.pinned) await pinProcess(b.child.pid, pinning.brokerCpus!);
    // Create the topic (auto-creation by Metadata) and warm both partitions up.
    for (const p of [0, 1]) {
      const w = await run("/bin/sh", [
        "-c",
        `echo warm | kcat -P -b 127.0.0.1:${b.port} -t w -p ${p} -X acks=1`,
      ]);
      if (w.code !== 0) throw new Error(`warm-up failed: ${w.stderr.slice(0, 500)}`);
    }
    await run("sync", []);
    const cpu0 = await cpuSeconds(b.child.pid);
    const t0 = performance.now();
    const loads = [0, 1].map((p) =>
      generator === "kcat"
        ? run(...pinnedCommand(pinning, "kcat", [
          "-P",
          "-b",
          `127.0.0.1:${b.port}`,
          "-t",
          "w",
          "-p",
          String(p),
          "-X",
          "linger.ms=5",
          "-X",
          "batch.num.messages=10000",
          "-X",
          "acks=1",
          "-l",
          perPartition.file!,
        ]))
        : run(...pinnedCommand(pinning, Deno.execPath(), [
          "run",
          "-A",
          REPLAY,
          String(b.port),
          "w",
          String(p),
          String(perPartition.requests),
          "1000",
          "1024",
          "4",
        ]))
    );
    const results = await Promise.all(loads);
    const ms = performance.now() - t0;
    const cpu = await cpuSeconds(b.child.pid) - cpu0;
    const ends = await endOffsets(b.port);
    const want = perPartition.records + 1;
    const ok = results.every((r) => r.code === 0) && ends[0] === want && ends[1] === want;
    return {
      ms,
      cpu,
      ok,
      detail: ok
        ? undefined
        : `end offsets ${ends} (want ${want}); ${
          results.map((r) => r.stderr.slice(0, 200)).join(" | ")
        }`,
    };
  } finally {
    await stopBroker(b);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Warm-up requests produce_replay sends before it starts counting broker CPU. */
const CPU_WARMUP_REQUESTS = 50;

/**
 * One replay producer of `recordBytes`-byte records to partition 0 of a fresh broker with
 * `workers` workers: the broker CPU ns per record produce_replay measured, if the end offset
 * checks out.
 */
async function cpuPerRecordRun(
  tmp: string,
  workers: number,
  recordBytes: number,
  requests: number,
): Promise<{ ns: number | null; detail?: string }> {
  const dir = await Deno.makeTempDir({ dir: tmp, prefix: `cpu${recordBytes}-` });
  const b = await startBroker(dir, 60_000, ["--workers", String(workers)]);
  try {
    const w = await run("/bin/sh", [
      "-c",
      `echo warm | kcat -P -b 127.0.0.1:${b.port} -t w -p 0 -X acks=1`,
    ]);
    if (w.code !== 0) throw new Error(`warm-up failed: ${w.stderr.slice(0, 500)}`);
    const r = await run(Deno.execPath(), [
      "run",
      "-A",
      REPLAY,
      String(b.port),
      "w",
      "0",
      String(requests),
      "--records",
      "1000",
      "--record-bytes",
      String(recordBytes),
      "--warmup",
      String(CPU_WARMUP_REQUESTS),
      "--broker-pid",
      String(b.child.pid),
    ]);
    const want = 1 + (requests + CPU_WARMUP_REQUESTS) * 1000;
    const [end] = await endOffsets(b.port);
    let out: { errors?: number; brokerNsPerRecord?: number | null } = {};
    try {
      out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
    } catch {
      // reported below
    }
    if (r.code !== 0 || end !== want || out.errors !== 0 || out.brokerNsPerRecord == null) {
      return {
        ns: null,
        detail: `end offset ${end} (want ${want}), errors ${out.errors}; ${r.stderr.slice(0, 200)}`,
      };
    }
    return { ns: out.brokerNsPerRecord };
  } finally {
    await stopBroker(b);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The median of `runs` CPU-per-record runs, each on a fresh broker, one after another. */
export async function cpuPerRecord(
  tmp: string,
  recordBytes: number,
  runs: number,
  requests: number,
  say: (l: string) => void,
): Promise<CpuPerRecordRow> {
  const ns: number[] = [];
  let detail: string | undefined;
  for (let i = 0; i < runs; i++) {
    say(`workers: broker CPU per ${recordBytes} B record, --workers 1, run ${i + 1}/${runs}`);
    try {
      const r = await cpuPerRecordRun(tmp, 1, recordBytes, requests);
      if (r.ns === null) detail = r.detail;
      else ns.push(r.ns);
    } catch (e) {
      detail = e instanceof Error ? e.message : String(e);
    }
  }
  const failed = detail !== undefined || ns.length === 0;
  return {
    recordBytes,
    workers: 1,
    records: requests * 1000,
    nsPerRecord: failed ? null : median(ns),
    runsNs: ns.map((x) => Math.round(x)),
    check: failed ? "FAIL" : "ok",
    detail,
  };
}

export async function runWorkers(
  opts: { quick?: boolean; log?: (l: string) => void } = {},
): Promise<WorkersResult> {
  const say = opts.log ?? ((l: string) => console.log(l));
  const quick = !!opts.quick;
  const runs = quick ? 2 : 3;
  const kcatRecords = quick ? 150_000 : 400_000;
  const replayRequests = quick ? 200 : 600;
  const tmp = await Deno.makeTempDir({ prefix: "tributary-workers-" });
  const file = `${tmp}/records-1k.txt`;
  await writeRecordFile(file, kcatRecords, 1024);
  const rows: WorkersRow[] = [];
  const pinning = await machinePinning();
  say(`workers: ${pinning.note}`);
  const cpuRows: CpuPerRecordRow[] = [];
  try {
    for (const generator of ["kcat", "replay"] as const) {
      const records = generator === "kcat" ? kcatRecords : replayRequests * 1000;
      const per = { records, file, requests: replayRequests };
      const runsBy = new Map<number, { ms: number; cpu: number }[]>([[1, []], [2, []]]);
      const fails = new Map<number, string>();
      for (let i = 0; i < runs; i++) {
        for (const workers of [1, 2]) {
          say(`workers: ${generator} ×2, --workers ${workers}, run ${i + 1}/${runs}`);
          try {
            const r = await oneRun(tmp, generator, workers, per, pinning);
            if (r.ok) runsBy.get(workers)!.push(r);
            else fails.set(workers, r.detail ?? "check failed");
          } catch (e) {
            fails.set(workers, e instanceof Error ? e.message : String(e));
          }
        }
      }
      for (const workers of [1, 2]) {
        const list = runsBy.get(workers)!;
        const bytes = 2 * records * 1024;
        const best = list.length ? list.reduce((a, b) => (b.ms < a.ms ? b : a)) : null;
        const failed = fails.has(workers);
        rows.push({
          generator,
          workers,
          records: 2 * records,
          bytes,
          seconds: best && !failed ? best.ms / 1000 : null,
          mbPerSec: best && !failed ? bytes / 1e6 / (best.ms / 1000) : null,
          cpuSecondsPerGB: best && !failed ? best.cpu / (bytes / 1e9) : null,
          check: failed ? "FAIL" : "ok",
          runsMs: list.map((r) => Math.round(r.ms)),
          detail: fails.get(workers),
        });
      }
    }
    cpuRows.push(await cpuPerRecord(tmp, 100, runs, quick ? 1500 : 4000, say));
  } finally {
    for (const c of live) kill(c);
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  const scaling: Record<string, number | null> = {};
  for (const g of ["kcat", "replay"]) {
    const one = rows.find((r) => r.generator === g && r.workers === 1)?.mbPerSec;
    const two = rows.find((r) => r.generator === g && r.workers === 2)?.mbPerSec;
    scaling[g] = one && two ? two / one : null;
  }
  const result: WorkersResult = {
    cores: navigator.hardwareConcurrency,
    pinning,
    rows,
    cpuPerRecord: cpuRows,
    scaling,
  };
  await Deno.mkdir(new URL("bench/out/", ROOT).pathname, { recursive: true });
  await Deno.writeTextFile(OUT, JSON.stringify(result, null, 2) + "\n");
  return result;
}

export function printWorkers(res: WorkersResult, say: (l: string) => void = console.log): void {
  const how = `${res.cores} cores, ${res.pinning.note}`;
  say(`\nTwo producers on two partitions, 1 KiB records, acks=1 (${how})`);
  say("| generator | workers | MB/s | broker CPU s/GB | runs (ms) | check |");
  say("|---|---:|---:|---:|---|---|");
  for (const r of res.rows) {
    say(
      `| ${r.generator} ×2 | ${r.workers} | ${r.mbPerSec?.toFixed(0) ?? "-"} | ${
        r.cpuSecondsPerGB?.toFixed(2) ?? "-"
      } | ${r.runsMs.join(", ")} | ${r.check}${r.detail ? `: ${r.detail.slice(0, 200)}` : ""} |`,
    );
  }
  for (const c of res.cpuPerRecord ?? []) {
    say(
      `Broker CPU per ${c.recordBytes} B record, ${c.workers} worker, one replay producer: ${
        c.nsPerRecord === null ? "-" : `${c.nsPerRecord.toFixed(0)} ns`
      } (median of ${c.runsNs.join(", ")} ns) ${c.check}${
        c.detail ? `: ${c.detail.slice(0, 200)}` : ""
      }`,
    );
  }
  for (const [g, s] of Object.entries(res.scaling)) {
    say(
      `2 workers vs 1, ${g}: ${s === null ? "-" : `${s.toFixed(2)}×`} (target ≥ 1.6×: ${
        s !== null && s >= 1.6 ? "target met" : "MISSED"
      })`,
    );
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" } } });
  Deno.addSignalListener("SIGINT", () => {
    for (const c of live) kill(c);
    Deno.exit(130);
  });
  printWorkers(await runWorkers({ quick: values.quick }));
}
