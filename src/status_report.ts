/**
 * What a person watching the broker's log wants without asking: one line once start-up is
 * done (topics, partitions, bytes recovered from disk, time taken) and, with
 * `statusIntervalMs`, one line per interval (connections, partitions, bytes in/out per
 * second). Logged by the controller only (worker 0 with workers), from whole-broker numbers.
 */
import { MEMORY_DATA_DIR } from "../storage/memory_log_directory.ts";
import { join } from "node:path";
import type { Metrics } from "./metrics.ts";
import { isInternalTopic } from "./internal_topic.ts";
import { errText, log } from "./log.ts";

/**
 * Bytes of the log segments under `dir` (what recovery read back). Synchronous: it runs once,
 * before the broker listens, and with 100,000 partitions an awaited thread-pool round trip
 * per directory and per segment made it most of start-up.
 */
function logBytes(dir: string): number {
  let total = 0;
  try {
    for (const e of Deno.readDirSync(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) total += logBytes(p);
      else if (e.isFile && e.name.endsWith(".log")) total += Deno.statSync(p).size;
    }
  } catch {
    // a directory removed meanwhile (a topic deleted): counted as empty
  }
  return total;
}

/** `n` bytes as a person reads them (1.5 MiB). */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** What the reports read of the broker (kept narrow: the broker starts them). */
export interface StatusSource {
  readonly dataDir: string;
  readonly logs: { listTopics(): { name: string; partitions: number }[] };
  stats(): Promise<{ metrics: Metrics }>;
}

function topicCounts(broker: StatusSource): { topics: number; partitions: number } {
  let topics = 0;
  let partitions = 0;
  for (const t of broker.logs.listTopics()) {
    if (!isInternalTopic(t.name)) topics++;
    partitions += t.partitions;
  }
  return { topics, partitions };
}

/**
 * The start-up line: what was recovered and how long start-up took. `recoveredBytes`, when
 * the caller knows it (one process holding every partition), saves walking the data directory.
 */
export function logStartupSummary(
  broker: StatusSource,
  startedAt: number,
  recoveredBytes?: number,
): void {
  const { topics, partitions } = topicCounts(broker);
  const took = `started in ${Math.round(performance.now() - startedAt)} ms`;
  if (broker.dataDir === MEMORY_DATA_DIR) {
    log.info(`${took}: ${topics} topic(s), ${partitions} partition(s), storage in memory`);
    return;
  }
  const bytes = recoveredBytes ?? logBytes(broker.dataDir);
  log.info(
    `${took}: ${topics} topic(s), ` +
      `${partitions} partition(s), ${formatBytes(bytes)} recovered from ${broker.dataDir}`,
  );
}

function sum(entries: [string, number][]): number {
  let s = 0;
  for (const [, v] of entries) s += v;
  return s;
}

/**
 * Logs a status line every `intervalMs`; returns the function that stops it. Each line costs
 * one stats gather (one message per worker): nothing is sampled between lines.
 */
export function startStatusReport(broker: StatusSource, intervalMs: number): () => void {
  let last: { at: number; bytesIn: number; bytesOut: number } | null = null;
  let running = false;
  const report = async () => {
    if (running) return;
    running = true;
    try {
      const { metrics } = await broker.stats();
      const s = metrics.snapshot();
      const now = performance.now();
      const bytesIn = sum(s.topicBytesIn);
      const bytesOut = sum(s.topicBytesOut);
      const seconds = last ? (now - last.at) / 1000 : intervalMs / 1000;
      const inRate = last ? (bytesIn - last.bytesIn) / seconds : bytesIn / seconds;
      const outRate = last ? (bytesOut - last.bytesOut) / seconds : bytesOut / seconds;
      last = { at: now, bytesIn, bytesOut };
      const { topics, partitions } = topicCounts(broker);
      log.info(
        `status: ${s.connectionsOpen} connection(s), ${topics} topic(s), ${partitions} ` +
          `partition(s), in ${formatBytes(Math.round(inRate))}/s, out ${
            formatBytes(Math.round(outRate))
          }/s`,
      );
    } catch (e) {
      log.warn(`status report failed: ${errText(e)}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void report(), intervalMs);
  return () => clearInterval(timer);
}
