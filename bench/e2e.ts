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
 * - produce idempotent (100 B only): the same with `-X enable.idempotence=true` and acks=all
 *   (InitProducerId, then sequenced batches), checked and read back like the others. kcat
 *   (librdkafka 2.0.2) keeps one ~1 MB Produce in flight per partition here, against either
 *   target (`-X debug=protocol`: a send with another in flight once in ~750), so this row is
 *   bound by each request's round trip, broker latency included, not by broker CPU.
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
 * `sync`; without --quick each produce setting runs 3 times (alternating acks=1 / acks=all /
 * idempotent) and the best run is shown. Results also go to bench/out/e2e.json (with every
 * run's time).
 */
import { parseArgs } from "node:util";
import { writeRecordFile } from "./lib/e2e_kcat.ts";
import { abortAll, killAll, tempDirs } from "./lib/e2e_processes.ts";
import {
  type E2EOptions,
  type E2EResult,
  fmtNum,
  printResult,
  type Row,
  sizeLabel,
  type Target,
} from "./lib/e2e_report.ts";

import { runCeiling } from "./lib/e2e_ceiling.ts";
import { runKafkaTargets } from "./lib/e2e_kafka_targets.ts";
import type { E2ERun } from "./lib/e2e_run.ts";

export { abortAll, killAll } from "./lib/e2e_processes.ts";
export { printResult } from "./lib/e2e_report.ts";
export type { E2EOptions, E2EResult, Row, Target } from "./lib/e2e_report.ts";

const WINDOW_BYTES = 4 * 1024 * 1024;

async function versionOf(cmd: string, args: string[]): Promise<string> {
  try {
    const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    return new TextDecoder().decode(o.stdout).trim() || new TextDecoder().decode(o.stderr).trim();
  } catch (e) {
    return `unavailable (${e instanceof Error ? e.message : e})`;
  }
}

/** Runs the whole end-to-end benchmark and returns (and writes) the results. */
export async function runE2E(opts: E2EOptions = {}): Promise<E2EResult> {
  const quick = !!opts.quick;
  const say = opts.log ?? ((l: string) => console.log(l));
  const t0 = performance.now();
  const budgetMs = opts.budgetMs ?? (quick ? 50_000 : 420_000);
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

  const run: E2ERun = {
    quick,
    skipReference: !!opts.skipReference,
    brokerArgs: opts.brokerArgs,
    say,
    budgetMs,
    remaining,
    stepTimeout,
    workloads,
    files,
    tmp,
    row,
    skipped,
    scen,
    tributaryInfo,
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
    await runCeiling(run);

    // 3. Kafka targets: the mock (reference) first, then Tributary.
    await runKafkaTargets(run);
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
      !!m.idempotent === !!r.idempotent && m.check === "ok" && m.mbPerSec !== null
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
    (a.acks ?? "").localeCompare(b.acks ?? "") || Number(!!a.idempotent) - Number(!!b.idempotent) ||
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
