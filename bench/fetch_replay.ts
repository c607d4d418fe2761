/**
 * Fetch cost per partition in one request: an empty Fetch (v12, no session, max_wait_ms 0,
 * every partition at its log end) of P partitions replayed against a broker, against the
 * same request for one partition, alternated in one run. The broker's CPU time (user +
 * system over all its threads, /proc) per request is what is compared, never wall time:
 *
 *   per partition = (cpu per P-partition request − cpu per 1-partition request) / (P − 1)
 *
 *   deno run -A bench/fetch_replay.ts [--workers N] [--partitions P] [--seconds S] [--rounds R]
 *
 * Prints one JSON line: { workers, partitions, rounds: [...µs per partition], median }.
 * `deno task bench` runs it with 1 and 2 workers (runFetchReplay) against the target of at
 * most 1 µs per partition; results in bench/out/fetch_replay.json.
 */
import { parseArgs } from "node:util";
import { FetchRequest, FetchResponse } from "../protocol/messages/mod.ts";
import { Client, median } from "./lib/bench_client.ts";
import type { Msg } from "./lib/msg.ts";
import { createTopics } from "./lib/scale_partitions.ts";
import { cpuSeconds, startBroker, stopBroker } from "./lib/scale_broker.ts";

const OUT = new URL("./out/fetch_replay.json", import.meta.url).pathname;
/** The performance target: fetch cost per partition in one request, in every worker mode. */
const TARGET_US = 1;

function fetchBody(topic: string, partitions: number): Msg {
  return {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1 },
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 50 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic,
      topicId: "AAAAAAAAAAAAAAAAAAAAAA",
      partitions: Array.from({ length: partitions }, (_, p) => ({
        partition: p,
        currentLeaderEpoch: -1,
        fetchOffset: 0,
        lastFetchedEpoch: -1,
        logStartOffset: -1,
        partitionMaxBytes: 1 << 20,
        replicaDirectoryId: "AAAAAAAAAAAAAAAAAAAAAA",
      })),
    }],
    forgottenTopicsData: [],
    rackId: "",
  };
}

/** Broker CPU seconds per request over about `seconds` of fetching `body`. */
async function cpuPerRequest(c: Client, pid: number, body: Msg, seconds: number) {
  const cpu0 = await cpuSeconds(pid);
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const r = await c.call(FetchRequest, FetchResponse, 12, body);
    for (const t of r.responses as Msg[]) {
      for (const p of t.partitions as Msg[]) {
        if (p.errorCode !== 0) throw new Error(`fetch: error ${p.errorCode}`);
      }
    }
    n++;
  }
  return (await cpuSeconds(pid) - cpu0) / n;
}

/** Per-partition µs for each round, against the broker on `port` (process `pid`). */
async function measure(
  port: number,
  pid: number,
  partitions: number,
  seconds: number,
  rounds: number,
) {
  const c = await Client.connect(port);
  try {
    await createTopics(c, 1, partitions, "f");
    const many = fetchBody("f000", partitions);
    const one = fetchBody("f000", 1);
    // Warm up both shapes (JIT, fetch paths on every worker).
    await cpuPerRequest(c, pid, many, Math.min(1, seconds));
    await cpuPerRequest(c, pid, one, Math.min(1, seconds));
    const perPartitionUs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const m = await cpuPerRequest(c, pid, many, seconds);
      const s = await cpuPerRequest(c, pid, one, seconds);
      perPartitionUs.push(((m - s) / (partitions - 1)) * 1e6);
    }
    return perPartitionUs;
  } finally {
    c.close();
  }
}

export async function fetchReplay(
  workers: number,
  partitions: number,
  seconds: number,
  rounds: number,
): Promise<{ workers: number; partitions: number; rounds: number[]; median: number }> {
  const dir = await Deno.makeTempDir({ prefix: "fetch-replay-" });
  const b = await startBroker(dir, 120_000, ["--workers", String(workers)]);
  try {
    const perPartitionUs = await measure(b.port, b.child.pid, partitions, seconds, rounds);
    return { workers, partitions, rounds: perPartitionUs, median: median(perPartitionUs) };
  } finally {
    await stopBroker(b);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

export type FetchReplayResult = Awaited<ReturnType<typeof fetchReplay>>;

/** Both worker modes, for `deno task bench`. */
export async function runFetchReplay(opts: { quick?: boolean }): Promise<FetchReplayResult[]> {
  const seconds = opts.quick ? 1 : 2;
  const rounds = opts.quick ? 1 : 3;
  const rows = [];
  for (const workers of [1, 2]) rows.push(await fetchReplay(workers, 1000, seconds, rounds));
  await Deno.mkdir(new URL("./out/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(OUT, JSON.stringify(rows, null, 2) + "\n");
  return rows;
}

export function printFetchReplay(
  rows: FetchReplayResult[],
  say: (l: string) => void = console.log,
): void {
  say("\nEmpty Fetch of 1,000 partitions vs 1 partition, broker CPU per partition (/proc)");
  say("| workers | µs per partition (median) | rounds | target ≤ 1 µs |");
  say("|---:|---:|---|---|");
  for (const r of rows) {
    say(
      `| ${r.workers} | ${r.median.toFixed(2)} | ${
        r.rounds.map((x) => x.toFixed(2)).join(", ")
      } | ${r.median <= TARGET_US ? "target met" : "MISSED"} |`,
    );
  }
}

if (import.meta.main) {
  const { values: v } = parseArgs({
    args: Deno.args,
    options: {
      workers: { type: "string", default: "1" },
      partitions: { type: "string", default: "1000" },
      seconds: { type: "string", default: "2" },
      rounds: { type: "string", default: "3" },
      // A broker already running (e.g. under --cpu-prof): its port and process id.
      port: { type: "string" },
      pid: { type: "string" },
    },
  });
  const partitions = Number(v.partitions);
  const seconds = Number(v.seconds);
  const rounds = Number(v.rounds);
  if (v.port !== undefined) {
    const us = await measure(Number(v.port), Number(v.pid), partitions, seconds, rounds);
    console.log(JSON.stringify({ partitions, rounds: us, median: median(us) }));
  } else {
    console.log(JSON.stringify(await fetchReplay(Number(v.workers), partitions, seconds, rounds)));
  }
}
