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
import { receiveFile, sendFile } from "./tcp_sink.ts";
import {
  consumeArgs,
  deleteTopic,
  endOffset,
  kcat,
  produceArgs,
  settle,
  writeRecordFile,
} from "./lib/e2e_kcat.ts";
import {
  abortAll,
  killAll,
  type Server,
  startServer,
  stopChild,
  tempDirs,
} from "./lib/e2e_processes.ts";
import {
  type E2EOptions,
  type E2EResult,
  fmtNum,
  printResult,
  type Row,
  sizeLabel,
  type Target,
} from "./lib/e2e_report.ts";

export { abortAll, killAll } from "./lib/e2e_processes.ts";
export { printResult } from "./lib/e2e_report.ts";
export type { E2EOptions, E2EResult, Row, Target } from "./lib/e2e_report.ts";

const ROOT = new URL("../", import.meta.url);
const CLI = new URL("src/cli.ts", ROOT).pathname;
const SINK = new URL("bench/tcp_sink.ts", ROOT).pathname;
const PYTHON = "/usr/bin/python3";
const LOOPBACK = "127.0.0.1";
const WINDOW_BYTES = 4 * 1024 * 1024;

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
