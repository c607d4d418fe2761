/** The scale benchmark's result shape and its printed report. */

export interface ScaleOptions {
  quick?: boolean;
  skipReference?: boolean;
  outFile?: string;
  log?: (line: string) => void;
}

/** One line of the result table. */
export interface ScaleRow {
  section: string;
  measure: string;
  target: string;
  value: string;
  /** Ratio to the baseline named in `baseline`, when there is one. */
  ratio: number | null;
  baseline: string;
  /** "target met", "MISSED", "-" (no target) or "error: ...". */
  verdict: string;
  raw?: Record<string, number | string | null>;
}

export interface ScaleResult {
  startedAt: string;
  quick: boolean;
  rows: ScaleRow[];
  elapsedSeconds: number;
}

export const fmt = (n: number | null | undefined, d = 1) =>
  n === null || n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(d);

/** Runs everything; returns (and writes) the rows. */

export function printScale(res: ScaleResult, say: (l: string) => void = console.log): void {
  const head = ["section", "measure", "value", "baseline", "ratio", "target", "verdict"];
  const body = res.rows.map((r) => [
    r.section,
    r.measure,
    r.value,
    r.baseline,
    r.ratio === null ? "-" : `${r.ratio.toFixed(r.ratio < 0.1 ? 4 : 2)}x`,
    r.target,
    r.verdict,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => (i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(
      " | ",
    ) + " |";
  say("");
  say(`Scale and latency${res.quick ? " (--quick)" : ""}`);
  say(line(head));
  say(
    "|" + widths.map((w, i) => (i === 4 ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join(
      "|",
    ) + "|",
  );
  for (const b of body) say(line(b));
  say(
    "Latency: python confluent_kafka producer (linger.ms=0) and consumer (default settings:\n" +
      "fetch.wait.max.ms=500, fetch.min.bytes=1) in one process, receive − send per record.\n" +
      "librdkafka's mock cluster answers a Fetch with no data only after fetch.wait.max.ms (no\n" +
      "wake-up on append), so its latency is bounded by that timer, not by its data path.",
  );
  const missed = res.rows.filter((r) => r.verdict.startsWith("MISSED")).length;
  const met = res.rows.filter((r) => r.verdict === "target met").length;
  say(
    `ratio: value over the baseline column (same run). Targets: ${met} met, ${missed} missed. ` +
      `Results in bench/out/scale.json (${res.elapsedSeconds.toFixed(1)} s).`,
  );
}
