/**
 * Shared by the `--workers 3` end-to-end tests: the broker as a child process on three
 * workers, clients (kafkajs, kcat) and checks that partitions span workers.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { ownerOf } from "../../src/workers/ownership.ts";
import { BrokerProcess, decoder, kcat } from "./helpers.ts";
import { waitFor } from "./wait.ts";

/** Shared with every other test (tests/support/wait.ts). */
export { waitFor };

export const WORKERS = 3;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts `--workers 3` on a fresh data directory, runs `fn`, then kills it and cleans up. */
export async function withBroker(
  prefix: string,
  extra: string[],
  fn: (b: BrokerProcess) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: `tributary-workers-${prefix}-` });
  try {
    const b = await BrokerProcess.start(dataDir, ["--workers", String(WORKERS), ...extra], env);
    try {
      assert.ok(
        b.lines.some((l) => l.includes(`${WORKERS} workers`)),
        `not on ${WORKERS} workers: ${b.lines.join("\n")}`,
      );
      await fn(b);
    } finally {
      await b.kill("SIGKILL");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

export function client(address: string, clientId = "workers-test"): Kafka {
  return new Kafka({
    clientId,
    brokers: [address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
    connectionTimeout: 5000,
    requestTimeout: 30_000,
  });
}

/** Which worker owns each partition of `topic` (partitions 0..n-1). */
export function owners(topic: string, n: number): number[] {
  return Array.from({ length: n }, (_, p) => ownerOf(topic, p, WORKERS));
}

/** Asserts that partitions `parts` of `topic` are owned by every worker. */
export function assertSpansWorkers(topic: string, parts: number[]): void {
  const o = new Set(parts.map((p) => ownerOf(topic, p, WORKERS)));
  assert.equal(o.size, WORKERS, `${topic} partitions ${parts} are owned by workers ${[...o]}`);
}

/** Produces `key\tvalue` lines to one partition with kcat, acks=all. */
export async function kcatProduce(
  address: string,
  topic: string,
  partition: number,
  records: [string, string][],
  extra: string[] = [],
): Promise<void> {
  await kcat(address, [
    "-P",
    "-t",
    topic,
    "-p",
    String(partition),
    "-K",
    "\t",
    "-X",
    "acks=all",
    "-X",
    "linger.ms=5",
    ...extra,
  ], { stdin: records.map(([k, v]) => `${k}\t${v}`).join("\n") + "\n", timeoutMs: 60_000 });
}

/** Every record of one partition (or of the whole topic when `partition` is null) as lines. */
export async function kcatRead(
  address: string,
  topic: string,
  partition: number | null,
  format: string,
  extra: string[] = [],
  timeoutMs = 60_000,
): Promise<string[]> {
  const out = await kcat(address, [
    "-C",
    "-t",
    topic,
    ...(partition === null ? [] : ["-p", String(partition)]),
    "-o",
    "beginning",
    "-e",
    "-q",
    "-f",
    format,
    ...extra,
  ], { timeoutMs });
  return decoder.decode(out).split("\n").filter((l) => l !== "");
}

/** kcat -Q: the offset of `timestamp` (-1 latest, -2 earliest) for partitions 0..n-1. */
export async function kcatOffsets(
  address: string,
  topic: string,
  n: number,
  timestamp: number,
  extra: string[] = [],
): Promise<number[]> {
  const args = ["-Q", ...extra];
  for (let p = 0; p < n; p++) args.push("-t", `${topic}:${p}:${timestamp}`);
  const out = decoder.decode(await kcat(address, args, { timeoutMs: 30_000 }));
  const got: number[] = Array(n).fill(NaN);
  for (const line of out.split("\n")) {
    const m = /^(\S+) \[(\d+)\] offset (-?\d+)$/.exec(line.trim());
    if (m && m[1] === topic) got[Number(m[2])] = Number(m[3]);
  }
  return got;
}

/** Waits for a log line matching `re` and returns it. */
export async function logged(b: BrokerProcess, re: RegExp, ms = 30_000): Promise<string> {
  let found: string | undefined;
  await waitFor(`log line ${re}`, () => {
    found = b.lines.find((l) => re.test(l));
    return found !== undefined;
  }, ms).catch((e: Error) => {
    throw new Error(`${e.message}; log:\n${b.lines.join("\n")}`);
  });
  return found!;
}
