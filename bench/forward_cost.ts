/**
 * What a forwarded Produce costs each worker: the broker with `--workers 2`, one replay
 * producer (bench/produce_replay.ts: 1,000 × 1 KiB records per request, 4 in flight) at a time,
 * alternating between partitions 0 and 1 (different owners). The kernel puts each connection
 * on either worker, so some runs land on the partition's owner (local) and some on the other
 * worker (forwarded). Each worker thread's CPU time (/proc/PID/task/TID/schedstat, ns) over
 * the run tells which: a forwarded run costs CPU on two workers.
 *
 *   deno run -A bench/forward_cost.ts [--runs 8] [--requests 200]
 *
 * Prints one row per run (µs of broker CPU per request on the accepting and the owning
 * worker) and the medians for local and forwarded runs. Wall-clock rates are not reported:
 * on a shared machine CPU time is the figure to compare, before and after, in alternation.
 */
import { parseArgs } from "node:util";
import { startBroker, stopBroker } from "./lib/scale_broker.ts";
import { replay } from "./produce_replay.ts";
import { median } from "./lib/bench_client.ts";

/** CPU ns of every thread of `pid` whose name is a Deno worker's ("worker-N"). */
async function workerThreads(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const e of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const comm = (await Deno.readTextFile(`/proc/${pid}/task/${e.name}/comm`)).trim();
      if (!comm.startsWith("worker-")) continue;
      const ns = Number(
        (await Deno.readTextFile(`/proc/${pid}/task/${e.name}/schedstat`))
          .split(" ")[0],
      );
      out.set(comm, ns);
    } catch {
      // the thread ended
    }
  }
  return out;
}

export interface ForwardRun {
  partition: number;
  forwarded: boolean;
  /** Broker worker CPU µs per request: the worker with the connection, and the owner. */
  acceptingUs: number;
  owningUs: number;
  errors: number;
}

export async function forwardCost(runs: number, requests: number): Promise<ForwardRun[]> {
  const dir = await Deno.makeTempDir({ prefix: "tributary-forward-" });
  const b = await startBroker(dir, 60_000, ["--workers", "2", "--set", "num.partitions=2"]);
  const rows: ForwardRun[] = [];
  try {
    // Creates the topic (auto-creation by kcat's Metadata), then warms both partitions up.
    for (const p of [0, 1]) {
      const kcat = await new Deno.Command("/bin/sh", {
        args: ["-c", `echo warm | kcat -P -b 127.0.0.1:${b.port} -t w -p ${p} -X acks=1`],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (kcat.code !== 0) throw new Error(new TextDecoder().decode(kcat.stderr).slice(0, 500));
      await replay(b.port, "w", p, 20, { inflight: 4 });
    }
    for (let i = 0; i < runs; i++) {
      const partition = i % 2;
      const before = await workerThreads(b.child.pid);
      const r = await replay(b.port, "w", partition, requests, { inflight: 4, warmup: 10 });
      const after = await workerThreads(b.child.pid);
      const us = [...after].map(([k, v]) => (v - (before.get(k) ?? v)) / 1e3 / requests)
        .sort((x, y) => y - x);
      // A local run keeps one worker busy; a forwarded one two (the owner does the appends).
      const forwarded = us.length > 1 && us[1] > 0.2 * us[0];
      rows.push({
        partition,
        forwarded,
        acceptingUs: forwarded ? us[1] : us[0],
        owningUs: us[0],
        errors: r.errors,
      });
    }
  } finally {
    await stopBroker(b);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string" }, requests: { type: "string" } },
  });
  const rows = await forwardCost(Number(values.runs ?? 8), Number(values.requests ?? 200));
  console.log("| partition | landed | accepting worker µs/req | owning worker µs/req | errors |");
  console.log("|---:|---|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.partition} | ${r.forwarded ? "forwarded" : "local"} | ${
        r.forwarded ? r.acceptingUs.toFixed(0) : "-"
      } | ${r.owningUs.toFixed(0)} | ${r.errors} |`,
    );
  }
  const local = rows.filter((r) => !r.forwarded).map((r) => r.owningUs);
  const fwd = rows.filter((r) => r.forwarded);
  const fmt = (xs: number[]) => (xs.length ? median(xs).toFixed(0) : "-");
  console.log(
    `local: ${fmt(local)} µs/req (n=${local.length}); forwarded: accepting ${
      fmt(fwd.map((r) => r.acceptingUs))
    } + owning ${fmt(fwd.map((r) => r.owningUs))} µs/req (n=${fwd.length})`,
  );
}
