/** The end-to-end benchmark's result shape, its table and its printed report. */

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
  /** An idempotent producer (`enable.idempotence=true`, so acks=all). */
  idempotent?: boolean;
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

export function fmtNum(n: number | null, digits = 0): string {
  if (n === null || !Number.isFinite(n)) return "-";
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function fmtRatio(n: number | null): string {
  return n === null || !Number.isFinite(n) ? "-" : n.toFixed(2);
}

export function sizeLabel(size: number): string {
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
