/**
 * The performance targets in one table, read back from what the steps of `deno task bench`
 * wrote to bench/out/ in this run: each target, what was measured, its same-run baseline, the
 * ratio and whether it is met. A target no step of this run measured says so ("not
 * measured") rather than borrowing a figure from another run or another machine.
 */

import { median } from "./bench_client.ts";
import { fmtNum } from "./e2e_report.ts";

export type Verdict = "met" | "MISSED" | "not measured";

export interface TargetRow {
  target: string;
  measured: string;
  baseline: string;
  ratio: number | null;
  verdict: Verdict;
}

interface E2ERow {
  scenario: string;
  target: string;
  kind: string;
  size: number;
  acks?: string;
  idempotent?: boolean;
  recordsPerSec: number | null;
  vsMock: number | null;
  check: string;
}

interface WorkersRow {
  generator: string;
  workers: number;
  mbPerSec: number | null;
  cpuSecondsPerGB: number | null;
  check: string;
}

interface CpuPerRecordRow {
  recordBytes: number;
  workers: number;
  nsPerRecord: number | null;
  runsNs: number[];
  check: string;
}

interface FetchReplayRow {
  workers: number;
  median: number;
}

interface PartitionSpread {
  partitions: number;
  generator: string;
  rounds: { one: { totalUs: number }; spread: { totalUs: number } }[];
  ratio: number | null;
  produceRatio: number | null;
  fetchRatio: number | null;
  check: string;
  detail?: string;
}

interface LatencyFigure {
  p99: number | null;
}

interface FairnessFigure {
  produced: number;
  consumed: number;
}

interface MetadataScale {
  partitions: number;
  createMs: { median: number; max: number };
  metadataMs: { median: number; afterRestartMedian: number };
  startupMs: number;
  rssMiB: { afterCreate: number | null; afterRestart: number | null };
}

/** What this run's steps wrote; a missing or unreadable file is simply absent. */
export interface BenchOutputs {
  e2e?: { rows: E2ERow[] };
  workers?: {
    cores?: number;
    pinning?: { pinned: boolean; note: string };
    rows: WorkersRow[];
    scaling: Record<string, number | null>;
    cpuPerRecord?: CpuPerRecordRow[];
  };
  fetchReplay?: FetchReplayRow[];
  partitionSpread?: PartitionSpread;
  latency?: { results: Record<string, unknown[]> };
  metadataScale?: MetadataScale;
}

/** The median of the runs that gave a figure; null when none did. */
function medianOf<T>(runs: unknown[] | undefined, pick: (run: T) => number | null): number | null {
  const xs = ((runs ?? []) as T[]).map(pick).filter((x): x is number => x !== null);
  return xs.length === 0 ? null : median(xs);
}

const notMeasured = (target: string, why: string): TargetRow => ({
  target,
  measured: why,
  baseline: "-",
  ratio: null,
  verdict: "not measured",
});

const verdict = (ok: boolean): Verdict => ok ? "met" : "MISSED";

/** Throughput against the mock in the same run, from the end-to-end step's rows. */
function vsMock(
  o: BenchOutputs,
  target: string,
  pick: (r: E2ERow) => boolean,
  note = "",
): TargetRow {
  const rows = o.e2e?.rows.filter(pick) ?? [];
  const ours = rows.find((r) => r.target === "tributary");
  const mock = rows.find((r) => r.target === "mock");
  if (!ours || !mock || ours.recordsPerSec === null || mock.recordsPerSec === null) {
    return notMeasured(target, o.e2e ? "no tributary/mock pair in e2e.json" : "step skipped");
  }
  const ratio = ours.check === "ok" ? ours.recordsPerSec / mock.recordsPerSec : null;
  return {
    target,
    measured: `${fmtNum(ours.recordsPerSec)} rec/s${
      ours.check === "ok" ? "" : ` (${ours.check})`
    }${note}`,
    baseline: `mock ${fmtNum(mock.recordsPerSec)} rec/s`,
    ratio,
    verdict: verdict(ratio !== null && ratio >= 1),
  };
}

/** Broker CPU per record spread over 1,000 partitions against one partition, same broker. */
function spreadRow(s: PartitionSpread | undefined): TargetRow {
  const target = "1,000 partitions per record ≤ 1.2× one partition";
  if (!s) return notMeasured(target, "partition spread step skipped");
  if (s.partitions !== 1000) return notMeasured(target, `ran with ${s.partitions} partitions`);
  const med = (xs: number[]) => xs.length ? median(xs) : null;
  const spread = med(s.rounds.map((r) => r.spread.totalUs));
  const one = med(s.rounds.map((r) => r.one.totalUs));
  if (s.check !== "ok" || s.ratio === null || spread === null || one === null) {
    return {
      target,
      measured: `FAIL (${s.detail ?? "no round passed its checks"})`,
      baseline: "1 partition, same broker",
      ratio: null,
      verdict: "MISSED",
    };
  }
  const x = (n: number | null) => n === null ? "-" : `${n.toFixed(2)}×`;
  return {
    target,
    measured: `${spread.toFixed(2)} µs broker CPU per 1 KiB record produced + fetched ` +
      `(produce ${x(s.produceRatio)}, fetch ${x(s.fetchRatio)}; replayed Produce, kcat fetch)`,
    baseline: `1 partition ${one.toFixed(2)} µs, same broker`,
    ratio: s.ratio,
    verdict: verdict(s.ratio <= 1.2),
  };
}

/**
 * The 2-worker speed-up. The target holds the load generators off the broker's cores; a run
 * that could not pin them (too few cores) shows its figure but is "not measured", since the
 * generators took cores from the broker.
 */
function scalingRow(w: BenchOutputs["workers"]): TargetRow {
  const target = "2 producers, 2 workers ≥ 1.6× one worker (generators pinned off the broker)";
  const scaling = w?.scaling.replay ?? null;
  if (!w) return notMeasured(target, "workers step skipped");
  if (scaling === null) return notMeasured(target, "no passing replay runs");
  const pinned = w.pinning?.pinned ?? false;
  const note = w.pinning?.note ?? `not pinned (${w.cores ?? "?"} cores)`;
  return {
    target,
    measured: `${scaling.toFixed(2)}× (replay generator, ${note})`,
    baseline: "--workers 1, same run",
    ratio: scaling,
    verdict: pinned ? verdict(scaling >= 1.6) : "not measured",
  };
}

/** Every target, in the order the performance goals list them. */
export function targetRows(o: BenchOutputs): TargetRow[] {
  const rows: TargetRow[] = [];
  const produce = (size: number, acks: string, idempotent = false) => (r: E2ERow) =>
    r.kind === "produce" && r.size === size && r.acks === acks && !!r.idempotent === idempotent;
  rows.push(vsMock(o, "produce 100 B acks=1 ≥ 1.0× the mock", produce(100, "1")));
  rows.push(vsMock(o, "produce 1 KiB acks=1 ≥ 1.0× the mock", produce(1024, "1")));
  rows.push(vsMock(o, "produce 1 KiB acks=all ≥ 1.0× the mock", produce(1024, "all")));
  rows.push(
    vsMock(o, "idempotent produce 100 B ≥ 1.0× the mock", produce(100, "all", true)),
  );
  rows.push(
    vsMock(
      o,
      "consume 1 KiB ≥ 1.0× the mock",
      (r) => r.kind === "window" && r.size === 1024,
      " (4 MiB-window consumer; the mock serves no full-log consume row)",
    ),
  );

  // Broker CPU per record: the workers step reads the broker's CPU time from /proc while the
  // replaying generator produces 1 KiB records to one worker.
  const one = o.workers?.rows.find((r) => r.generator === "replay" && r.workers === 1);
  if (one?.cpuSecondsPerGB != null && one.check === "ok") {
    const us = one.cpuSecondsPerGB * 1024 / 1e3;
    rows.push({
      target: "broker CPU per 1 KiB record produced ≤ 1.5 µs",
      measured: `${us.toFixed(2)} µs (1 worker, replayed 1 KiB batches, the fastest of its runs)`,
      baseline: "-",
      ratio: null,
      verdict: verdict(us <= 1.5),
    });
  } else {
    rows.push(notMeasured("broker CPU per 1 KiB record produced ≤ 1.5 µs", "workers step skipped"));
  }
  // The same from produce_replay's own reading of the broker's CPU, one 100 B producer.
  const small = o.workers?.cpuPerRecord?.find((r) => r.recordBytes === 100 && r.workers === 1);
  const smallTarget = "broker CPU per 100 B record produced ≤ 150 ns";
  if (small && small.check === "ok" && small.nsPerRecord !== null) {
    rows.push({
      target: smallTarget,
      measured: `${small.nsPerRecord.toFixed(0)} ns (1 worker, replayed 100 B batches, median of ${
        small.runsNs.join(", ")
      } ns)`,
      baseline: "-",
      ratio: null,
      verdict: verdict(small.nsPerRecord <= 150),
    });
  } else {
    // A run that failed its check counts as missed, as a failed end-to-end run does.
    rows.push(
      small
        ? {
          target: smallTarget,
          measured: "run failed",
          baseline: "-",
          ratio: null,
          verdict: "MISSED",
        }
        : notMeasured(smallTarget, o.workers ? "no 100 B CPU measurement" : "workers step skipped"),
    );
  }

  const lat = o.latency?.results ?? {};
  const p99Of = (f: LatencyFigure) => f.p99;
  for (const workers of ["1 worker", "2 workers"]) {
    const target = `produce→consume p99 ≤ 1 ms at 1,000 rec/s, loaded, ${workers}`;
    const p99 = medianOf<LatencyFigure>(lat[`latency: tributary ${workers}, loaded`], p99Of);
    const mock = medianOf<LatencyFigure>(lat["latency: mock, loaded"], p99Of);
    rows.push(
      p99 === null ? notMeasured(target, o.latency ? "no run finished" : "step skipped") : {
        target,
        measured: `p99 ${p99.toFixed(2)} ms`,
        baseline: mock === null ? "-" : `mock p99 ${mock.toFixed(2)} ms (never wakes a fetch)`,
        ratio: null,
        verdict: verdict(p99 <= 1),
      },
    );
  }

  rows.push(scalingRow(o.workers));
  rows.push(spreadRow(o.partitionSpread));

  for (const r of o.fetchReplay ?? []) {
    rows.push({
      target: `empty Fetch cost per partition ≤ 1 µs, ${r.workers} worker${
        r.workers === 1 ? "" : "s"
      }`,
      measured: `${r.median.toFixed(2)} µs`,
      baseline: "1-partition Fetch, same broker",
      ratio: null,
      verdict: verdict(r.median <= 1),
    });
  }
  if (!o.fetchReplay) {
    rows.push(notMeasured("empty Fetch cost per partition ≤ 1 µs", "fetch step skipped"));
  }

  const share = (key: string) =>
    medianOf<FairnessFigure>(lat[key], (f) => f.produced > 0 ? f.consumed / f.produced : null);
  const mockShare = share("fairness: mock");
  for (const workers of ["1 worker", "2 workers"]) {
    const target = `8 producers + 8 consumers: consumers read ≥ 80%, ${workers}`;
    const s = share(`fairness: tributary ${workers}`);
    rows.push(
      s === null ? notMeasured(target, o.latency ? "no run finished" : "step skipped") : {
        target,
        measured: `${(s * 100).toFixed(1)}%`,
        baseline: mockShare === null ? "-" : `mock ${(mockShare * 100).toFixed(1)}%`,
        ratio: null,
        verdict: verdict(s >= 0.8),
      },
    );
  }

  const m = o.metadataScale;
  const scaleNote = "step skipped (--skip-metadata-scale) or no run finished";
  if (!m) {
    for (
      const t of [
        "100,000 partitions: full Metadata ≤ 100 ms",
        "100,000 partitions: start-up ≤ 10 s",
        "100,000 partitions: idle RSS ≤ 1 GiB",
        "CreateTopics of 1,000 partitions ≤ 1 s",
      ]
    ) rows.push(notMeasured(t, scaleNote));
  } else {
    const n = fmtNum(m.partitions);
    const md = Math.max(m.metadataMs.median, m.metadataMs.afterRestartMedian);
    const rss = Math.max(m.rssMiB.afterCreate ?? Infinity, m.rssMiB.afterRestart ?? Infinity);
    const row = (target: string, measured: string, ok: boolean): TargetRow => ({
      target,
      measured,
      baseline: "-",
      ratio: null,
      verdict: verdict(ok),
    });
    rows.push(row(`${n} partitions: full Metadata ≤ 100 ms`, `${md.toFixed(1)} ms`, md <= 100));
    rows.push(
      row(
        `${n} partitions: start-up ≤ 10 s`,
        `${(m.startupMs / 1000).toFixed(2)} s`,
        m.startupMs <= 10_000,
      ),
    );
    rows.push(row(`${n} partitions: idle RSS ≤ 1 GiB`, `${rss.toFixed(0)} MiB`, rss <= 1024));
    rows.push(
      row(
        "CreateTopics of 1,000 partitions ≤ 1 s",
        `median ${m.createMs.median.toFixed(0)} ms, max ${m.createMs.max.toFixed(0)} ms`,
        m.createMs.max <= 1000,
      ),
    );
  }
  return rows;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return undefined;
  }
}

/**
 * Reads the files this run wrote (those older than `since`, left by an earlier run, are
 * ignored) and returns the outputs for {@link targetRows}.
 */
export async function readOutputs(outDir: string, since: number): Promise<BenchOutputs> {
  const fresh = async <T>(name: string): Promise<T | undefined> => {
    const st = await Deno.stat(`${outDir}${name}`).catch(() => null);
    if (!st?.mtime || st.mtime.getTime() < since) return undefined;
    return await readJson<T>(`${outDir}${name}`);
  };
  return {
    e2e: await fresh("e2e.json"),
    workers: await fresh("workers.json"),
    fetchReplay: await fresh("fetch_replay.json"),
    partitionSpread: await fresh("partition_spread.json"),
    latency: await fresh("latency.json"),
    metadataScale: await fresh("metadata_scale.json"),
  };
}

/** The table as markdown lines. */
export function formatTargets(rows: TargetRow[]): string[] {
  const lines = [
    "| target | measured | same-run baseline | ratio | result |",
    "| --- | --- | --- | ---: | --- |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.target} | ${r.measured} | ${r.baseline} | ${
        r.ratio === null ? "-" : `${r.ratio.toFixed(2)}×`
      } | ${r.verdict} |`,
    );
  }
  const met = rows.filter((r) => r.verdict === "met").length;
  const missed = rows.filter((r) => r.verdict === "MISSED").length;
  lines.push(
    "",
    `${met} met, ${missed} missed, ${rows.length - met - missed} not measured in this run.`,
  );
  return lines;
}
