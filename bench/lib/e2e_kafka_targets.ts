/**
 * The end-to-end benchmark's Kafka targets: librdkafka's mock cluster (the reference) and
 * Tributary as a child process, each produced to with kcat at acks=1 and acks=all (and, for
 * 100 B records, by an idempotent producer), read back (Tributary) and consumed through a
 * ~4 MiB window.
 */
import { consumeArgs, deleteTopic, endOffset, kcat, produceArgs, settle } from "./e2e_kcat.ts";
import { type Server, startServer, stopChild } from "./e2e_processes.ts";
import type { Target } from "./e2e_report.ts";
import type { E2ERun } from "./e2e_run.ts";

const ROOT = new URL("../../", import.meta.url);
const CLI = new URL("src/cli.ts", ROOT).pathname;
const PYTHON = "/usr/bin/python3";
const LOOPBACK = "127.0.0.1";

/** One produce setting of a workload: kcat's acks, and whether the producer is idempotent. */
interface ProduceMode {
  key: string;
  acks: "1" | "all";
  idempotent: boolean;
}

/**
 * acks=1 and acks=all for every size; the idempotent producer (acks=all implied) for 100 B,
 * where the per-batch sequence bookkeeping weighs most per record.
 */
function produceModes(size: number): ProduceMode[] {
  const modes: ProduceMode[] = [
    { key: "1", acks: "1", idempotent: false },
    { key: "all", acks: "all", idempotent: false },
  ];
  if (size === 100) modes.push({ key: "idempotent", acks: "all", idempotent: true });
  return modes;
}

const modeScenario = (scen: E2ERun["scen"], size: number, m: ProduceMode) =>
  scen.produce(size, m.acks) + (m.idempotent ? " idempotent" : "");

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

export async function runKafkaTargets(run: E2ERun): Promise<void> {
  const { say, tmp, budgetMs, workloads, files, row, skipped, scen } = run;
  const { tributaryInfo } = run;
  const opts = { skipReference: run.skipReference, brokerArgs: run.brokerArgs };
  // 3. Kafka targets: the mock (reference) first, then Tributary.
  const targets: Target[] = opts.skipReference ? ["tributary"] : ["mock", "tributary"];
  for (const [i, target] of targets.entries()) {
    say(`e2e: ${target}`);
    // The reference gets 40% of what is left, so a slow mock (a loaded machine) cannot spend
    // the budget Tributary's own rows, with their read-backs, need.
    const share = i === targets.length - 1 ? 1 : 0.4;
    const targetDeadline = performance.now() + run.remaining() * share;
    const remaining = () => Math.min(run.remaining(), targetDeadline - performance.now());
    const stepTimeout = (cap: number) => Math.max(1_000, Math.min(cap, remaining()));
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
        for (const m of produceModes(w.size)) {
          row({
            scenario: modeScenario(scen, w.size, m),
            kind: "produce",
            size: w.size,
            acks: m.acks,
            idempotent: m.idempotent || undefined,
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
        const modes = produceModes(w.size);
        /** Tributary's read-back of each produced topic (the consume row). */
        const consumed = { runsMs: [] as number[], problems: [] as string[] };
        const acc = new Map(
          modes.map((
            m,
          ) => [m.key, {
            runsMs: [] as number[],
            problems: [] as string[],
            topics: [] as string[],
          }]),
        );
        for (let rep = 0; rep < w.runs; rep++) {
          for (const m of modes) {
            if (remaining() < 2_000) continue;
            const a = acc.get(m.key)!;
            const topic = `bench-${w.size}-${m.idempotent ? "idem" : `acks${m.acks}`}-${rep}`;
            await settle(stepTimeout(60_000));
            const k = await kcat(produceArgs(addr, topic, m.acks, f.full, m.idempotent), {
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
        for (const m of modes) {
          const scenario = modeScenario(scen, w.size, m);
          const { runsMs, problems, topics } = acc.get(m.key)!;
          const idempotent = m.idempotent || undefined;
          if (topics.length === 0) {
            row({
              scenario,
              kind: "produce",
              size: w.size,
              acks: m.acks,
              idempotent,
              target,
              records: w.records,
              seconds: null,
              check: "skipped",
              detail: "time budget spent",
            });
            continue;
          }
          row({
            scenario,
            kind: "produce",
            size: w.size,
            acks: m.acks,
            idempotent,
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
}
