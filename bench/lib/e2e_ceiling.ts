/**
 * The end-to-end benchmark's raw TCP ceiling: bench/tcp_sink.ts fed the same record files by a
 * Deno client, produce (TCP to file) and consume (file to TCP), best of several runs.
 */
import { receiveFile, sendFile } from "../tcp_sink.ts";
import { settle } from "./e2e_kcat.ts";
import { type Server, startServer, stopChild } from "./e2e_processes.ts";
import { sizeLabel } from "./e2e_report.ts";
import type { E2ERun } from "./e2e_run.ts";

const SINK = new URL("../tcp_sink.ts", import.meta.url).pathname;
const LOOPBACK = "127.0.0.1";

export async function runCeiling(run: E2ERun): Promise<void> {
  const { say, tmp, budgetMs, workloads, files, remaining, stepTimeout, row, scen } = run;
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
          seconds: runsMs.length ? (kind === "consume" ? Math.min(...runsMs) : total) / 1000 : null,
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
}
