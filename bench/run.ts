/**
 * `deno task bench`: micro benchmarks, then the end-to-end benchmark.
 *
 *   deno task bench [-- --quick] [--skip-micro] [--skip-reference] [--skip-scale] ...
 *
 * 1. `deno bench --allow-all --json bench/` (every bench/*_bench.ts), printed as a table with
 *    MB/s wherever the benchmark name states its payload size (`[N B]`, `16 KiB`, `1 MiB`) and
 *    the speed relative to the group's baseline. Raw results: bench/out/micro.json.
 * 2. bench/e2e.ts: kcat against Tributary, librdkafka's mock cluster and a raw TCP ceiling
 *    (acks=1, acks=all, and an idempotent producer for 100 B records; table on stdout,
 *    results in bench/out/e2e.json).
 * 3. bench/scale.ts: produce→consume latency at 1,000 records/s (Tributary and the mock),
 *    10,000 partitions (Metadata latency, idle RSS, 1,000 idle connections, start-up, RSS
 *    under a produce flood) and append/fetch cost as a partition grows; ratios to baselines
 *    from the same run and "target met" / "MISSED" against the performance targets (never a
 *    failure). Results: bench/out/scale.json.
 * 4. bench/workers.ts: two producers on two partitions with --workers 1 and --workers 2
 *    (kcat and a cheap replaying generator), the 2-worker speed-up against the 1-worker run
 *    (target ≥ 1.6×). Results: bench/out/workers.json.
 * 5. bench/fetch_replay.ts: the broker's CPU per partition of an empty 1,000-partition Fetch,
 *    with 1 and 2 workers (target ≤ 1 µs). Results: bench/out/fetch_replay.json.
 * 6. bench/partition_spread.ts: the broker's CPU per 1 KiB record (/proc) produced (replayed
 *    Produce requests, one connection) and fetched back (kcat) spread over 1,000 partitions of
 *    one topic against the same records into one partition (target ≤ 1.2×).
 *    Results: bench/out/partition_spread.json.
 * 7. bench/quotas.ts: a producer under a `producer_byte_rate` quota, its steady achieved rate
 *    against the configured one. Results: bench/out/quotas.json.
 * 8. bench/cluster.ts (its own process): three brokers over a real etcd, metadata propagation
 *    (topic created on one broker → in Metadata on all, p50/p99) and controller failover time.
 *    Results: bench/out/cluster.json.
 * 9. bench/replication.ts (its own process): three brokers over a real etcd, acks=all produce
 *    with replication factor 3 against 1 (ratio, same run), a restarted follower's catch-up
 *    rate, and leader failover (kill -9 → first acknowledged acks=all produce) p50/p99.
 *    Results: bench/out/replication.json.
 * 10. bench/latency.ts (its own process): produce→consume p50/p99/p999 at 1,000 records/s,
 *    unloaded and beside a 20,000 records/s loading producer, 1 and 2 workers, and consumer
 *    fairness under 8 flooding producers, each against the mock in the same run.
 *    Results: bench/out/latency.json.
 * 11. bench/metadata_scale.ts (its own process): 100 topics of 1,000 partitions on one broker
 *    (minutes; about 15 under heavy load), each CreateTopics timed, a full Metadata, start-up after a restart,
 *    idle RSS; with --quick 10 topics (10,000 partitions, the targets table says so).
 *    Results: bench/out/metadata_scale.json.
 * 12. The performance targets in one table (bench/lib/targets_summary.ts), from the files
 *    steps 2–11 wrote in this run; a target no step measured reads "not measured".
 *    Results: bench/out/targets.md.
 *
 * --quick          smaller end-to-end workloads (a smoke test, well under a minute)
 * --skip-micro     skip step 1
 * --skip-reference skip the mock-cluster reference in steps 2 and 3
 * --skip-scale     skip step 3
 * --skip-workers   skip step 4
 * --skip-fetch     skip step 5
 * --skip-spread    skip step 6
 * --skip-quotas    skip step 7
 * --skip-cluster   skip step 8
 * --skip-replication skip step 9
 * --skip-latency   skip step 10
 * --skip-metadata-scale skip step 11
 * --write-readme   replace README.md's targets table with this run's (bench/lib/readme_targets.ts)
 *
 * Exits non-zero when a micro benchmark fails or an end-to-end check fails.
 */
import { parseArgs } from "node:util";
import { benchArgs } from "./lib/bench_args.ts";
import { abortAll, killAll, printResult, runE2E } from "./e2e.ts";
import { killAllScale, printScale, runScale } from "./scale.ts";
import { printWorkers, runWorkers } from "./workers.ts";
import { printFetchReplay, runFetchReplay } from "./fetch_replay.ts";
import { printQuotas, runQuotas } from "./quotas.ts";
import { printPartitionSpread, runPartitionSpread } from "./partition_spread.ts";
import { formatTargets, readOutputs, targetRows } from "./lib/targets_summary.ts";
import { writeReadmeTargets } from "./lib/readme_targets.ts";

const BENCH_DIR = new URL("./", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;
const OUT_DIR = new URL("./out/", import.meta.url).pathname;

/** The running `deno bench`, so Ctrl-C can stop it. */
let microChild: Deno.ChildProcess | null = null;

interface BenchResult {
  origin: string;
  group: string | null;
  name: string;
  baseline: boolean;
  results: { ok?: { n: number; avg: number; min: number; p75: number; p99: number } }[];
}

/** Payload bytes a benchmark name declares: "[16391 B]", "16 KiB", "1 MiB"; else null. */
export function payloadBytes(name: string): number | null {
  const exact = /\[(\d+) B\]/.exec(name);
  if (exact) return Number(exact[1]);
  const m = /(\d+(?:\.\d+)?) ?(KiB|MiB|GiB)\b/.exec(name);
  if (!m) return null;
  const unit = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] as "KiB"];
  return Number(m[1]) * unit;
}

function fmtTime(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

function table(head: string[], rows: string[][], right: Set<number>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])).join(
      " | ",
    ) + " |";
  const sep = "|" +
    widths.map((w, i) => right.has(i) ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2)).join("|") +
    "|";
  return [line(head), sep, ...rows.map(line)].join("\n");
}

/** Runs `deno bench --json bench/`, prints a table; returns false when something failed. */
async function runMicro(timeoutMs: number): Promise<boolean> {
  console.log("== micro benchmarks: deno bench --allow-all bench/ ==");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["bench", "--allow-all", "--json", BENCH_DIR],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  microChild = child;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  microChild = null;
  const text = new TextDecoder().decode(out.stdout);
  if (timedOut) console.log(`micro benchmarks killed after ${timeoutMs / 1000} s`);

  // Anything a bench file printed comes before the JSON document.
  const start = text.search(/^\{\s*"version"/m);
  if (start > 0) console.log(text.slice(0, start).trimEnd());
  let benches: BenchResult[] = [];
  try {
    benches = start >= 0 ? JSON.parse(text.slice(start)).benches ?? [] : [];
  } catch (e) {
    console.log(`could not parse deno bench --json output: ${e instanceof Error ? e.message : e}`);
    console.log(text.slice(start, start + 2000));
  }
  await Deno.mkdir(OUT_DIR, { recursive: true });
  if (start >= 0) await Deno.writeTextFile(`${OUT_DIR}micro.json`, text.slice(start));

  let failed = !out.success || timedOut || benches.length === 0;
  const byFile = new Map<string, BenchResult[]>();
  for (const b of benches) {
    const file = b.origin.slice(b.origin.lastIndexOf("/") + 1);
    byFile.set(file, [...(byFile.get(file) ?? []), b]);
  }
  for (const [file, list] of byFile) {
    const rows: string[][] = [];
    for (const b of list) {
      const ok = b.results[0]?.ok;
      if (!ok) {
        failed = true;
        rows.push([b.group ?? "", b.name, "FAILED", "-", "-", "-", "-"]);
        continue;
      }
      const base = list.find((x) => x.group !== null && x.group === b.group && x.baseline)
        ?.results[0]?.ok;
      const bytes = payloadBytes(b.name);
      rows.push([
        b.group ?? "",
        b.name,
        fmtTime(ok.avg),
        fmtTime(ok.p99),
        Math.round(1e9 / ok.avg).toLocaleString("en-US"),
        bytes === null ? "-" : (bytes * 1e3 / ok.avg).toFixed(1),
        base ? `${(base.avg / ok.avg).toFixed(2)}x` : "-",
      ]);
    }
    console.log(`\n${file}`);
    console.log(
      table(
        ["group", "benchmark", "avg", "p99", "iter/s", "MB/s", "vs baseline"],
        rows,
        new Set([2, 3, 4, 5, 6]),
      ),
    );
  }
  console.log(
    "\nMB/s: declared payload bytes (10^6 B/s) per average iteration; vs baseline: the group " +
      "baseline's time over this one's (>1 = faster).",
  );
  if (!out.success) console.log(`deno bench exited with code ${out.code}`);
  return !failed;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: benchArgs(),
      options: {
        quick: { type: "boolean" },
        "skip-micro": { type: "boolean" },
        "skip-reference": { type: "boolean" },
        "skip-scale": { type: "boolean" },
        "skip-workers": { type: "boolean" },
        "skip-fetch": { type: "boolean" },
        "skip-spread": { type: "boolean" },
        "skip-quotas": { type: "boolean" },
        "skip-cluster": { type: "boolean" },
        "skip-replication": { type: "boolean" },
        "skip-latency": { type: "boolean" },
        "write-readme": { type: "boolean" },
        "skip-metadata-scale": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    return 2;
  }
  if (values.help) {
    console.log(
      "usage: deno task bench [-- --quick] [--skip-micro] [--skip-reference] [--skip-scale] " +
        "[--skip-workers] [--skip-fetch] [--skip-spread] [--skip-quotas] [--skip-cluster]" +
        " [--skip-replication] [--skip-latency] [--skip-metadata-scale] [--write-readme]",
    );
    return 0;
  }
  const quick = !!values.quick;
  let ok = true;
  const t0 = performance.now();
  const startedAt = Date.now();
  if (!values["skip-micro"]) {
    ok = await runMicro(quick ? 60_000 : 180_000) && ok;
  }
  console.log("\n== end-to-end: bench/e2e.ts ==");
  // Whatever the micro step used is taken off the end-to-end budget (5 min / 1 min overall).
  const spent = performance.now() - t0;
  const budgetMs = Math.max(20_000, (quick ? 55_000 : 280_000) - spent);
  try {
    const res = await runE2E({ quick, skipReference: values["skip-reference"], budgetMs });
    printResult(res);
    ok = res.ok && ok;
  } catch (e) {
    console.error(`e2e failed: ${e instanceof Error ? e.stack : e}`);
    ok = false;
  }
  if (!values["skip-scale"]) {
    console.log("\n== scale and latency: bench/scale.ts ==");
    try {
      printScale(await runScale({ quick, skipReference: values["skip-reference"] }));
    } catch (e) {
      console.error(`scale failed: ${e instanceof Error ? e.stack : e}`);
      ok = false;
    }
  }
  if (!values["skip-workers"]) {
    console.log("\n== workers: bench/workers.ts ==");
    try {
      printWorkers(await runWorkers({ quick }));
    } catch (e) {
      console.error(`workers failed: ${e instanceof Error ? e.stack : e}`);
      ok = false;
    }
  }
  if (!values["skip-fetch"]) {
    console.log("\n== fetch cost per partition: bench/fetch_replay.ts ==");
    try {
      printFetchReplay(await runFetchReplay({ quick }));
    } catch (e) {
      console.error(`fetch replay failed: ${e instanceof Error ? e.stack : e}`);
      ok = false;
    }
  }
  if (!values["skip-spread"]) {
    console.log("\n== 1,000 partitions vs 1, CPU per record: bench/partition_spread.ts ==");
    try {
      const res = await runPartitionSpread({ quick });
      printPartitionSpread(res);
      ok = res.check === "ok" && ok;
    } catch (e) {
      console.error(`partition spread failed: ${e instanceof Error ? e.stack : e}`);
      ok = false;
    }
  }
  if (!values["skip-quotas"]) {
    console.log("\n== client quotas: bench/quotas.ts ==");
    try {
      printQuotas(await runQuotas({ quick }));
    } catch (e) {
      console.error(`quotas failed: ${e instanceof Error ? e.stack : e}`);
      ok = false;
    }
  }
  if (!values["skip-cluster"]) {
    console.log("\n== cluster: bench/cluster.ts ==");
    const args = quick ? ["--rounds", "10", "--failovers", "1"] : [];
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", `${BENCH_DIR}cluster.ts`, ...args],
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const status = await child.status;
    if (!status.success) {
      console.error(`cluster bench failed (exit ${status.code})`);
      ok = false;
    }
  }
  if (!values["skip-replication"]) {
    console.log("\n== replication: bench/replication.ts ==");
    // Modest by default: 200 batches per replication factor, 100k records to catch up,
    // 3 failovers (each bounded below by the 3 s session timeout).
    ok = await benchProcess("replication", quick ? ["--quick"] : ["--failovers", "3"]) && ok;
  }
  if (!values["skip-latency"]) {
    console.log("\n== tail latency and fairness: bench/latency.ts ==");
    const args = ["--seconds", quick ? "4" : "10"];
    if (values["skip-reference"]) args.push("--skip-reference");
    ok = await benchProcess("latency", args) && ok;
  }
  if (!values["skip-metadata-scale"]) {
    console.log("\n== metadata scale: bench/metadata_scale.ts ==");
    ok = await benchProcess("metadata_scale", quick ? ["--topics", "10"] : []) && ok;
  }
  console.log("\n== performance targets (this run's figures only) ==");
  const targets = formatTargets(targetRows(await readOutputs(OUT_DIR, startedAt)));
  for (const line of targets) console.log(line);
  await Deno.mkdir(OUT_DIR, { recursive: true });
  await Deno.writeTextFile(`${OUT_DIR}targets.md`, targets.join("\n") + "\n");
  if (values["write-readme"]) {
    await writeReadmeTargets(`${ROOT}README.md`, `${OUT_DIR}targets.md`);
    console.log("README.md: Performance targets table regenerated from this run");
  }
  console.log(
    `\nbench: ${ok ? "done" : "FAILED"} in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
      `(results in bench/out/)`,
  );
  return ok ? 0 : 1;
}

/** Runs `bench/<name>.ts` as its own process; false (reported) when it fails. */
async function benchProcess(name: string, args: string[]): Promise<boolean> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${BENCH_DIR}${name}.ts`, ...args],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  if (!status.success) console.error(`${name} bench failed (exit ${status.code})`);
  return status.success;
}

if (import.meta.main) {
  const onSignal = async () => {
    try {
      microChild?.kill("SIGKILL");
    } catch {
      // already exited
    }
    await abortAll();
    await killAllScale();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let code = 1;
  try {
    code = await main();
  } finally {
    await killAll();
    await killAllScale();
  }
  Deno.exit(code);
}
