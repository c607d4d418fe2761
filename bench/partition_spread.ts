/**
 * The partition-spread target: "the broker's CPU per record with the records spread over
 * 1,000 partitions of one topic ≤ 1.2× the same records into one partition".
 *
 *   deno run -A bench/partition_spread.ts [--quick] [--partitions P] [--requests N]
 *     [--rounds R] [--records-per-partition K]
 *
 * One broker (src/cli.ts, `--workers 1`), one client connection per stream. Per round, fresh
 * topics of 1 and of P partitions, then:
 * - produce: one Produce v9 request (acks=1) encoded once and replayed N times, 4 in flight,
 *   by this process. The same P × K records of 1 KiB per request either way: one batch of
 *   P × K records to the 1-partition topic, or P batches of K records (one per partition) to
 *   the P-partition topic, the shape a client spreading its records gets from its per-partition
 *   batching. A replayed request costs the generator a socket write, so what is measured is the
 *   broker, not the client (kcat would spend more CPU per record than the broker).
 * - fetch back: `kcat -C -o 0 -e` over every partition of the topic (librdkafka's defaults for
 *   fetch sizes), its output lines counted: they must equal the records produced, and every
 *   produce response must be error-free, or the round fails and posts no figure.
 * The broker's CPU time (user + system over all its threads, /proc/<pid>/stat) over each phase
 * is divided by the records. The two shapes alternate (which goes first flips per round); the
 * topics are deleted after each round. ratio = P-partition / 1-partition CPU per record
 * (produce + fetch), the median over the rounds, each round's ratio from its own two shapes.
 *
 * Results: a table on stdout and bench/out/partition_spread.json.
 */
import { parseArgs } from "node:util";
import { Client, median } from "./lib/bench_client.ts";
import { consumeArgs, deleteTopic } from "./lib/e2e_kcat.ts";
import { createTopics } from "./lib/scale_partitions.ts";
import { produceRequest, replayFrames } from "./produce_replay.ts";
import { cpuSeconds, live, startBroker, stopBroker } from "./lib/scale_broker.ts";

const OUT = new URL("./out/partition_spread.json", import.meta.url).pathname;
const RECORD_BYTES = 1024;
/** The performance target: spread CPU per record over one-partition CPU per record. */
export const TARGET_RATIO = 1.2;

/** Broker CPU per record (µs) of one shape in one round. */
export interface SpreadShape {
  partitions: number;
  records: number;
  produceUs: number;
  fetchUs: number;
  totalUs: number;
}

export interface PartitionSpreadResult {
  partitions: number;
  recordsPerRequest: number;
  requests: number;
  generator: string;
  rounds: { one: SpreadShape; spread: SpreadShape; ratio: number }[];
  /** Median of the rounds' ratios (produce + fetch); null when no round passed its checks. */
  ratio: number | null;
  produceRatio: number | null;
  fetchRatio: number | null;
  check: "ok" | "FAIL";
  detail?: string;
}

/** `kcat -C` of every partition of `topic` from offset 0 to the end; records it printed. */
async function fetchBack(port: number, topic: string): Promise<{ lines: number; err: string }> {
  const child = new Deno.Command("kcat", {
    args: consumeArgs(`127.0.0.1:${port}`, topic, { partition: null, format: "%o\\n" }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const t = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
  }, 300_000);
  const out = await child.output();
  clearTimeout(t);
  live.delete(child);
  let lines = 0;
  for (const b of out.stdout) if (b === 10) lines++;
  const err = out.code === 0
    ? ""
    : `kcat exit ${out.code}: ${new TextDecoder().decode(out.stderr).slice(0, 300)}`;
  return { lines, err };
}

/** One shape of one round: produce then fetch back, broker CPU per record of each. */
async function shape(
  port: number,
  pid: number,
  topic: string,
  partitions: number,
  perPartition: number,
  requests: number,
): Promise<SpreadShape> {
  const c = await Client.connect(port);
  try {
    await createTopics(c, 1, partitions, topic);
  } finally {
    c.close();
  }
  const name = `${topic}000`;
  const req = produceRequest(
    name,
    Array.from({ length: partitions }, (_, p) => p),
    perPartition,
    RECORD_BYTES,
    "spread",
  );
  const records = partitions * perPartition * requests;
  const cpu0 = await cpuSeconds(pid);
  const { errors } = await replayFrames(port, req, requests);
  const cpu1 = await cpuSeconds(pid);
  const back = await fetchBack(port, name);
  const cpu2 = await cpuSeconds(pid);
  await deleteTopic(`127.0.0.1:${port}`, name).catch(() => {});
  if (errors > 0) throw new Error(`${name}: ${errors} partition errors in produce responses`);
  if (back.err || back.lines !== records) {
    throw new Error(`${name}: read back ${back.lines} records, expected ${records} ${back.err}`);
  }
  const produceUs = (cpu1 - cpu0) / records * 1e6;
  const fetchUs = (cpu2 - cpu1) / records * 1e6;
  return { partitions, records, produceUs, fetchUs, totalUs: produceUs + fetchUs };
}

export async function runPartitionSpread(
  opts: {
    quick?: boolean;
    partitions?: number;
    requests?: number;
    rounds?: number;
    recordsPerPartition?: number;
    log?: (l: string) => void;
  } = {},
): Promise<PartitionSpreadResult> {
  const say = opts.log ?? ((l: string) => console.log(l));
  const partitions = opts.partitions ?? 1000;
  const perPartition = opts.recordsPerPartition ?? 1;
  // /proc counts CPU in 10 ms ticks: even --quick needs ~100 ms of the faster shape's CPU.
  const requests = opts.requests ?? (opts.quick ? 100 : 300);
  const rounds = opts.rounds ?? (opts.quick ? 1 : 3);
  const dir = await Deno.makeTempDir({ prefix: "tributary-spread-" });
  const b = await startBroker(dir, 120_000, ["--workers", "1"]);
  const result: PartitionSpreadResult = {
    partitions,
    recordsPerRequest: partitions * perPartition,
    requests,
    generator: "replayed Produce v9 requests (this process, 1 connection), kcat -C fetch-back",
    rounds: [],
    ratio: null,
    produceRatio: null,
    fetchRatio: null,
    check: "ok",
  };
  try {
    // Untimed warm-up of both shapes (JIT, the produce and fetch paths).
    await shape(b.port, b.child.pid, "warm1-", 1, partitions * perPartition, 20);
    await shape(b.port, b.child.pid, "warmp-", partitions, perPartition, 20);
    for (let r = 0; r < rounds; r++) {
      say(`partition spread: round ${r + 1}/${rounds}`);
      const run1 = () =>
        shape(b.port, b.child.pid, `one${r}-`, 1, partitions * perPartition, requests);
      const runP = () =>
        shape(b.port, b.child.pid, `spread${r}-`, partitions, perPartition, requests);
      let one: SpreadShape, spread: SpreadShape;
      if (r % 2 === 0) {
        one = await run1();
        spread = await runP();
      } else {
        spread = await runP();
        one = await run1();
      }
      result.rounds.push({ one, spread, ratio: spread.totalUs / one.totalUs });
    }
  } catch (e) {
    result.check = "FAIL";
    result.detail = e instanceof Error ? e.message : String(e);
  } finally {
    await stopBroker(b);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  if (result.check === "ok" && result.rounds.length > 0) {
    const rs = result.rounds;
    result.ratio = median(rs.map((x) => x.ratio));
    result.produceRatio = median(rs.map((x) => x.spread.produceUs / x.one.produceUs));
    result.fetchRatio = median(rs.map((x) => x.spread.fetchUs / x.one.fetchUs));
  }
  await Deno.mkdir(new URL("./out/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(OUT, JSON.stringify(result, null, 2) + "\n");
  return result;
}

export function printPartitionSpread(
  res: PartitionSpreadResult,
  say: (l: string) => void = console.log,
): void {
  say(
    `\nBroker CPU per 1 KiB record (/proc), ${res.recordsPerRequest} records per Produce ` +
      `request × ${res.requests}, into 1 partition vs spread over ${res.partitions}`,
  );
  say("| round | 1 partition produce / fetch µs | spread produce / fetch µs | ratio |");
  say("|---:|---:|---:|---:|");
  res.rounds.forEach((r, i) => {
    const f = (s: SpreadShape) => `${s.produceUs.toFixed(2)} / ${s.fetchUs.toFixed(2)}`;
    say(`| ${i + 1} | ${f(r.one)} | ${f(r.spread)} | ${r.ratio.toFixed(2)}× |`);
  });
  if (res.check !== "ok") say(`partition spread: FAIL: ${res.detail}`);
  const x = (n: number | null) => n === null ? "-" : `${n.toFixed(2)}×`;
  say(
    `${res.partitions} partitions vs 1, per record: ${x(res.ratio)} (produce ${
      x(res.produceRatio)
    }, fetch ${x(res.fetchRatio)}; target ≤ ${TARGET_RATIO}×: ${
      res.ratio !== null && res.ratio <= TARGET_RATIO ? "target met" : "MISSED"
    })`,
  );
}

if (import.meta.main) {
  const { values: v } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean" },
      partitions: { type: "string" },
      requests: { type: "string" },
      rounds: { type: "string" },
      "records-per-partition": { type: "string" },
    },
    strict: true,
  });
  const num = (s: string | undefined) => s === undefined ? undefined : Number(s);
  Deno.addSignalListener("SIGINT", () => {
    for (const c of live) c.kill("SIGKILL");
    Deno.exit(130);
  });
  const res = await runPartitionSpread({
    quick: v.quick,
    partitions: num(v.partitions),
    requests: num(v.requests),
    rounds: num(v.rounds),
    recordsPerPartition: num(v["records-per-partition"]),
  });
  printPartitionSpread(res);
  Deno.exit(res.check === "ok" ? 0 : 1);
}
