/**
 * Tail latency under load and consumer fairness under saturation, every Tributary figure set
 * against librdkafka's mock cluster measured in the same run by the same client code
 * (bench/lib/latency_scripts.ts). Targets are reported, never failed on.
 *
 *   deno run -A bench/latency.ts [--runs N] [--seconds S] [--skip-reference] [--only latency|fairness]
 *     [--case SUBSTRING]
 *
 * 1. Produce→consume latency at 1,000 records/s: a paced confluent_kafka producer
 *    (linger.ms=0) stamping the send time, a consumer with librdkafka's defaults computing
 *    receive − send; p50 / p99 / p999, and the producer's ack (delivery report) p50 / p99.
 *    Unloaded, and while a second producer loads the same broker at a fixed 20,000 records/s
 *    of 1 KiB (≈ 20 MB/s, librdkafka defaults), with 1 and with 2 workers. Target: p99 ≤ 1 ms.
 *    The mock (librdkafka 2.0.2 here) does not wake a waiting Fetch on an append: its
 *    produce→consume figures sit near half of fetch.wait.max.ms (500 ms), so for latency its
 *    produce-ack figures are the reference and the target is absolute. Beside every run an idle
 *    Deno process measures how late its 1 ms timer fires: the machine's own scheduling noise,
 *    under which no process can answer faster.
 * 2. Fairness: 8 kcat producers flooding 4 topics × 4 partitions, 8 consumers (librdkafka
 *    defaults) with 2 partitions each reading from offset 0; after a fixed window, the share of
 *    the records produced in it that the consumers had read (consumed / produced), for the
 *    mock and for Tributary with 1 and 2 workers.
 *
 * With --runs N every scenario runs N times, interleaved (mock, tributary, mock, …), and the
 * table shows medians; every run's figures go to bench/out/latency.json.
 */
import { parseArgs } from "node:util";
import { FAIRNESS_SCRIPT, LATENCY_SCRIPT, LOADER_SCRIPT } from "./lib/latency_scripts.ts";
import {
  killAllScale,
  live,
  LOOPBACK,
  runPythonJson,
  startBroker,
  stopBroker,
} from "./lib/scale_broker.ts";

const LOAD_RATE = 20_000;
const LOAD_SIZE = 1024;

interface LatencyFigures {
  n: number;
  expected: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  ack_p50: number | null;
  ack_p99: number | null;
  load_acked_per_s: number | null;
  /** An idle Deno process's 1 ms timer lag p99 during the run (the machine's noise). */
  idle_loop_p99?: number | null;
}

interface FairnessFigures {
  produced: number;
  consumed: number;
  per_consumer: number[];
  producers_running_at_end: number;
  seconds: number;
}

/**
 * The machine's own scheduling noise: an idle Deno process's 1 ms timer, how late it fires
 * (p50 / p99, ms) over `ms`. A broker cannot answer faster than the machine runs it.
 */
const IDLE_LOOP = `
const lags = [];
let last = performance.now();
const iv = setInterval(() => { const n = performance.now(); lags.push(n - last - 1); last = n; }, 1);
setTimeout(() => {
  clearInterval(iv);
  lags.sort((a, b) => a - b);
  const q = (f) => lags[Math.min(lags.length - 1, Math.floor(f * lags.length))];
  console.log(JSON.stringify({ p50: q(0.5), p99: q(0.99) }));
}, Number(Deno.args[0]));
`;

async function idleLoopLag(ms: number): Promise<{ p50: number; p99: number } | null> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", IDLE_LOOP, String(ms)],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  live.add(child);
  const out = await child.output();
  live.delete(child);
  try {
    return JSON.parse(new TextDecoder().decode(out.stdout).trim());
  } catch {
    return null;
  }
}

function python(args: string[]): Promise<unknown> {
  return runPythonJson(args, "client");
}

/** Runs `fn` against the mock ("mock") or a fresh Tributary started with `brokerArgs`. */
async function onTarget<T>(
  target: "mock" | { workers: number; set?: string[] },
  fn: (bootstrap: string) => Promise<T>,
): Promise<T> {
  if (target === "mock") return fn("mock");
  const dir = await Deno.makeTempDir({ prefix: "tributary-latency-" });
  const args = ["--workers", String(target.workers)];
  for (const s of target.set ?? []) args.push("--set", s);
  const b = await startBroker(dir, 120_000, args);
  try {
    return await fn(`${LOOPBACK}:${b.port}`);
  } finally {
    await stopBroker(b);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const median = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

const fmt = (n: number | null | undefined, d = 2) =>
  n === null || n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(d);

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => "| " + c.map((x, i) => x.padEnd(w[i])).join(" | ") + " |";
  return [line(head), "|" + w.map((x) => "-".repeat(x + 2)).join("|") + "|", ...rows.map(line)]
    .join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "1" },
      seconds: { type: "string", default: "10" },
      "skip-reference": { type: "boolean" },
      only: { type: "string" },
      case: { type: "string" },
    },
    strict: true,
  });
  const runs = Math.max(1, Number(values.runs));
  const seconds = Math.max(2, Number(values.seconds));
  const onSignal = async () => {
    await killAllScale();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const say = (l: string) => console.log(l);
  const tmp = await Deno.makeTempDir({ prefix: "tributary-latency-bench-" });
  const out: Record<string, unknown[]> = {};
  const record = (k: string, v: unknown) => (out[k] ??= []).push(v);
  try {
    type Case = { name: string; target: "mock" | { workers: number }; load: boolean };
    const latencyCases: Case[] = [
      { name: "mock, unloaded", target: "mock", load: false },
      { name: "mock, loaded", target: "mock", load: true },
      { name: "tributary 1 worker, unloaded", target: { workers: 1 }, load: false },
      { name: "tributary 1 worker, loaded", target: { workers: 1 }, load: true },
      { name: "tributary 2 workers, unloaded", target: { workers: 2 }, load: false },
      { name: "tributary 2 workers, loaded", target: { workers: 2 }, load: true },
    ].filter((c) => !(values["skip-reference"] && c.target === "mock"))
      .filter((c) => !values.case || c.name.includes(values.case)) as Case[];
    if (values.only !== "fairness") {
      for (let r = 0; r < runs; r++) {
        for (const c of latencyCases) {
          say(`latency: ${c.name} (run ${r + 1}/${runs})`);
          try {
            const idle = idleLoopLag((seconds + 2) * 1000);
            const f = await onTarget(c.target, (bootstrap) =>
              python([
                "-c",
                LATENCY_SCRIPT,
                bootstrap,
                `latency-${Date.now()}`,
                "1000",
                String(seconds),
                "2",
                String(c.load ? LOAD_RATE : 0),
                String(LOAD_SIZE),
                LOADER_SCRIPT,
              ])) as LatencyFigures;
            const lag = await idle;
            f.idle_loop_p99 = lag?.p99 ?? null;
            say(
              `  p50 ${fmt(f.p50)} p99 ${fmt(f.p99)} p999 ${fmt(f.p999)} ms, ack p99 ${
                fmt(f.ack_p99)
              } ms, ${f.n}/${f.expected} records${
                c.load ? `, load ${fmt(f.load_acked_per_s, 0)} rec/s` : ""
              }; an idle Deno timer's lag meanwhile p99 ${fmt(f.idle_loop_p99)} ms`,
            );
            record(`latency: ${c.name}`, f);
          } catch (e) {
            say(`  failed: ${e instanceof Error ? e.message : e}`);
          }
        }
      }
    }
    const fairCases: { name: string; target: "mock" | { workers: number; set: string[] } }[] = [
      { name: "mock", target: "mock" as const },
      { name: "tributary 1 worker", target: { workers: 1, set: ["num.partitions=4"] } },
      { name: "tributary 2 workers", target: { workers: 2, set: ["num.partitions=4"] } },
    ].filter((c) => !(values["skip-reference"] && c.target === "mock"))
      .filter((c) => !values.case || c.name.includes(values.case));
    if (values.only !== "latency") {
      for (let r = 0; r < runs; r++) {
        for (const c of fairCases) {
          say(`fairness: ${c.name} (run ${r + 1}/${runs})`);
          try {
            const f = await onTarget(c.target, (bootstrap) =>
              python([
                "-c",
                FAIRNESS_SCRIPT,
                bootstrap,
                `fair-${Date.now()}`,
                "4",
                "8",
                "8",
                String(seconds),
                "100",
              ])) as FairnessFigures;
            say(
              `  consumed ${f.consumed} / produced ${f.produced} = ${
                fmt((100 * f.consumed) / f.produced, 1)
              }% (per consumer ${
                f.per_consumer.join(" ")
              }; producers still running ${f.producers_running_at_end}/8)`,
            );
            record(`fairness: ${c.name}`, f);
          } catch (e) {
            say(`  failed: ${e instanceof Error ? e.message : e}`);
          }
        }
      }
    }
  } finally {
    await killAllScale();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }

  // Medians.
  const rows: string[][] = [];
  for (const [k, v] of Object.entries(out)) {
    if (k.startsWith("latency: ")) {
      const fs = v as LatencyFigures[];
      const m = (f: (x: LatencyFigures) => number | null) => median(fs.map(f));
      rows.push([
        k,
        `p50 ${fmt(m((x) => x.p50))} / p99 ${fmt(m((x) => x.p99))} / p999 ${
          fmt(m((x) => x.p999))
        } ms`,
        `ack p50 ${fmt(m((x) => x.ack_p50))} / p99 ${fmt(m((x) => x.ack_p99))} ms`,
        m((x) => x.load_acked_per_s) === null
          ? "-"
          : `${fmt(m((x) => x.load_acked_per_s), 0)} rec/s`,
        fmt(m((x) => x.idle_loop_p99 ?? null)),
        (m((x) => x.p99) ?? Infinity) <= 1 ? "p99 target met" : "p99 MISSED",
      ]);
    } else {
      const fs = v as FairnessFigures[];
      const share = median(fs.map((f) => f.consumed / f.produced));
      rows.push([
        k,
        `consumed/produced ${fmt(share === null ? null : share * 100, 1)}%`,
        `produced ${fmt(median(fs.map((f) => f.produced / f.seconds)), 0)} rec/s`,
        "-",
        "-",
        "-",
      ]);
    }
  }
  say("");
  say(`Latency and fairness, medians of ${runs} run(s), ${seconds} s each`);
  say(
    table(
      ["scenario", "result", "", "load achieved", "idle timer lag p99 (ms)", "verdict"],
      rows,
    ),
  );
  const outFile = new URL("out/latency.json", import.meta.url).pathname;
  await Deno.mkdir(outFile.slice(0, outFile.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(
    outFile,
    JSON.stringify({ startedAt: new Date().toISOString(), runs, seconds, results: out }, null, 2) +
      "\n",
  );
  Deno.exit(0);
}
