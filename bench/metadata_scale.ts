/**
 * Metadata scale on one broker: 100,000 partitions (100 topics of 1,000), against the
 * performance targets: each 1,000-partition CreateTopics ≤ 1 s, full Metadata ≤ 100 ms, start-up (spawn
 * to "listening on", recovering every partition) ≤ 10 s, idle RSS ≤ 1 GiB.
 *
 *   deno run -A bench/metadata_scale.ts [--topics 100] [--partitions 1000] [--workers 1]
 *     [--cpu-prof DIR]   (the broker runs under deno --cpu-prof, profiles written to DIR)
 *
 * Creation is timed per request (one topic of 1,000 partitions each, validated), next to the
 * filesystem's floor measured in the same run on the same filesystem, before every tenth
 * creation (the machine's load moves it): a directory and four empty files (partition.metadata,
 * .log, .index, .timeindex: what a new partition once got; now it gets the directory and
 * partition.metadata), created with nothing else, per 1,000 partitions (median), kept as it
 * was so that runs stay comparable. Metadata is
 * v12 for every topic, timed to the response's last byte, median and max of 5 after one
 * warm-up; RSS is VmRSS after creation and after a restart. The broker's CPU time (utime +
 * stime from /proc) per created partition and at "listening on" is reported beside the wall
 * clock, which the machine's load moves more. Results: stdout and
 * bench/out/metadata_scale.json.
 */
import { parseArgs } from "node:util";
import { dirname } from "node:path";
import { CreateTopicsRequest, CreateTopicsResponse } from "../protocol/messages/mod.ts";
import { Client, median } from "./lib/bench_client.ts";
import type { Msg } from "./lib/msg.ts";
import { metadataLatency } from "./lib/scale_partitions.ts";
import {
  CLI,
  cpuMs,
  killAllScale,
  LOOPBACK,
  rssMiB,
  sleep,
  stopBroker,
} from "./lib/scale_broker.ts";

const OUT = new URL("out/metadata_scale.json", import.meta.url).pathname;

interface Started {
  child: Deno.ChildProcess;
  port: number;
  startMs: number;
  /** The broker's CPU time when it said "listening on". */
  startCpuMs: number;
}

/** src/cli.ts as a child, optionally under --cpu-prof; spawn → "listening on" in ms. */
async function start(dataDir: string, workers: string, prof: string | undefined) {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []),
      CLI,
      "--host",
      LOOPBACK,
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--workers",
      workers,
    ],
    env: { TRIBUTARY_LOG_LEVEL: "info" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (let i = 0; i < 1_000_000; i++) {
    const r = await reader.read();
    if (r.done) throw new Error(`broker did not start: ${buf.slice(0, 2000)}`);
    buf += r.value;
    const m = /listening on [^:]+:(\d+)/.exec(buf);
    if (m) {
      const startMs = performance.now() - t0;
      const startCpuMs = await cpuMs(child.pid);
      (async () => {
        for (let j = 0; j < 10_000_000; j++) {
          const x = await reader.read().catch(() => ({ done: true as const }));
          if (x.done) break;
        }
      })();
      return { child, port: Number(m[1]), startMs, startCpuMs } satisfies Started;
    }
  }
  throw new Error("broker did not start");
}

/** ms to create `n` partition directories with four empty files each, and remove them. */
function filesystemFloor(parent: string, n: number): number {
  const dir = Deno.makeTempDirSync({ dir: parent, prefix: "floor-" });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const p = `${dir}/t-${i}`;
    Deno.mkdirSync(p);
    for (const f of ["partition.metadata", "0.log", "0.index", "0.timeindex"]) {
      Deno.openSync(`${p}/${f}`, { write: true, create: true, truncate: true }).close();
    }
  }
  const ms = performance.now() - t0;
  Deno.removeSync(dir, { recursive: true });
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      topics: { type: "string", default: "100" },
      partitions: { type: "string", default: "1000" },
      workers: { type: "string", default: "1" },
      "cpu-prof": { type: "string" },
    },
  });
  const topics = Number(values.topics);
  const partitions = Number(values.partitions);
  const prof = values["cpu-prof"];
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-metadata-scale-" });
  const stop = (b: Started) => stopBroker({ ...b, lines: [] });
  try {
    const floors: number[] = [];
    let b = await start(dataDir, values.workers!, prof);
    const c = await Client.connect(b.port);
    const createMs: number[] = [];
    const createCpuMs: number[] = [];
    const names: string[] = [];
    for (let t = 0; t < topics; t++) {
      if (t % 10 === 0) floors.push(filesystemFloor(dirname(dataDir), partitions));
      const name = `m${String(t).padStart(3, "0")}`;
      const cpu0 = await cpuMs(b.child.pid);
      const t0 = performance.now();
      const r = await c.call(CreateTopicsRequest, CreateTopicsResponse, 7, {
        topics: [{
          name,
          numPartitions: partitions,
          replicationFactor: 1,
          assignments: [],
          configs: [],
        }],
        timeoutMs: 120_000,
        validateOnly: false,
      });
      createMs.push(performance.now() - t0);
      createCpuMs.push(await cpuMs(b.child.pid) - cpu0);
      if (t < 3) {
        console.log(
          `CreateTopics ${name}: ${createMs[t].toFixed(0)} ms, broker CPU ${createCpuMs[t]} ms`,
        );
      }
      const x = (r.topics as Msg[])[0];
      if (x.errorCode !== 0) throw new Error(`CreateTopics ${name}: error ${x.errorCode}`);
      names.push(name);
      if (t % 10 === 9) console.log(`created ${(t + 1) * partitions} partitions`);
    }
    const floorMs = median(floors);
    await metadataLatency(c, null, 1);
    const md = await metadataLatency(c, null, 5);
    if (md.partitions !== topics * partitions) {
      throw new Error(
        `Metadata listed ${md.partitions} partitions, expected ${topics * partitions}`,
      );
    }
    await sleep(2000);
    const rss = await rssMiB(b.child.pid);
    c.close();
    await stop(b);

    b = await start(dataDir, values.workers!, prof);
    const c2 = await Client.connect(b.port);
    await metadataLatency(c2, null, 1);
    const md2 = await metadataLatency(c2, null, 5);
    await sleep(2000);
    const rss2 = await rssMiB(b.child.pid);
    c2.close();
    await stop(b);

    const result = {
      partitions: topics * partitions,
      filesystemFloorMs: floorMs,
      workers: Number(values.workers),
      createMs: {
        first: createMs[0],
        median: median(createMs),
        max: Math.max(...createMs),
        last: createMs[createMs.length - 1],
      },
      /** The broker's CPU (utime + stime) per created partition, median over the requests. */
      createCpuUsPerPartition: median(createCpuMs) * 1000 / partitions,
      metadataMs: { median: md.median, max: md.max, afterRestartMedian: md2.median },
      startupMs: b.startMs,
      startupCpuMs: b.startCpuMs,
      rssMiB: { afterCreate: rss, afterRestart: rss2 },
    };
    const row = (what: string, got: string, ok: boolean) =>
      console.log(`| ${what} | ${got} | ${ok ? "met" : "MISSED"} |`);
    console.log(`\n${topics * partitions} partitions, --workers ${values.workers}`);
    console.log("| target | measured | result |\n| --- | --- | --- |");
    row(
      `CreateTopics of ${partitions} partitions ≤ 1 s`,
      `median ${result.createMs.median.toFixed(0)} ms, max ${result.createMs.max.toFixed(0)} ms ` +
        `(filesystem floor ${floorMs.toFixed(0)} ms: ` +
        `${(result.createMs.median / floorMs).toFixed(2)}× the floor; broker CPU ` +
        `${result.createCpuUsPerPartition.toFixed(0)} µs per partition)`,
      result.createMs.max <= 1000,
    );
    row(
      "full Metadata ≤ 100 ms",
      `median ${md.median.toFixed(1)} ms (max ${md.max.toFixed(1)}), ` +
        `after restart ${md2.median.toFixed(1)} ms`,
      Math.max(md.median, md2.median) <= 100,
    );
    row(
      "start-up ≤ 10 s",
      `${(b.startMs / 1000).toFixed(2)} s (broker CPU ${(b.startCpuMs / 1000).toFixed(2)} s)`,
      b.startMs <= 10_000,
    );
    row(
      "idle RSS ≤ 1 GiB",
      `${rss?.toFixed(0)} MiB after creating, ${rss2?.toFixed(0)} MiB after restart`,
      Math.max(rss ?? Infinity, rss2 ?? Infinity) <= 1024,
    );
    await Deno.mkdir(new URL("out/", import.meta.url), { recursive: true });
    await Deno.writeTextFile(OUT, JSON.stringify(result, null, 2) + "\n");
  } finally {
    await killAllScale();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
