/**
 * Scale and latency measurements (README "Performance"), every figure set against a
 * baseline measured in the same run where one makes sense, else against the performance target.
 * Targets are reported as "target met" / "MISSED"; nothing here fails the run on a miss.
 *
 *   deno run -A bench/scale.ts [--quick] [--skip-reference]
 *
 * 1. Produce→consume latency at 1,000 records/s (python confluent_kafka producer with
 *    linger.ms=0 stamping perf_counter_ns into the value, a consumer with default settings
 *    in the same process computing receive − send): p50/p99 for Tributary and for
 *    librdkafka's mock cluster (the reference). Target p99 ≤ 1 ms.
 * 2. 10,000 partitions (100 topics × 100 partitions, CreateTopics): Metadata for all topics
 *    (vs Metadata for one 1-partition topic; target ≤ 50 ms), idle RSS (vs the empty broker;
 *    target ≤ 512 MB), 1,000 idle connections' added RSS (target ≤ 100 MB), start-up over the
 *    10,000 segments (vs start-up on an empty data dir; target ≤ 2 s), and a produce flood
 *    (60 s, --quick 15 s) whose RSS must stay within 10% of its level at 10 s (--quick 5 s).
 * 3. Append and fetch-by-offset cost as one partition grows from 100 MB to 2 GB (--quick 50 MB
 *    to 400 MB), PartitionLog in this process: time per 16 KiB append and per random-offset
 *    fetch (64 KiB) at each size, as a ratio to the smallest size (target: flat, ≤ 1.5×).
 *    Before each size is timed the fill is synced to disk and 200 untimed fetches touch the
 *    segments' indexes: without the sync, the OS writing back the last gigabyte slowed the
 *    2 GB fetches 2× in one run, which says nothing about the log's data structures. At each
 *    size the file system alone is timed too (16 KiB writes to a scratch file, 64 KiB preads
 *    at random positions of the segment files); a miss that the raw operation shares is
 *    marked so.
 *
 * Results: a table on stdout and bench/out/scale.json.
 */
import { parseArgs } from "node:util";
import { closeSync, openSync, readdirSync, readSync, statSync, writeSync } from "node:fs";
import { readResponseHeader, writeRequestHeader } from "../protocol/headers.ts";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../protocol/messages/mod.ts";
import { Reader, Writer } from "../protocol/primitives.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import { codecFor, isFlexible, type MessageSchema, type Msg } from "../protocol/schema.ts";
import { logConfig } from "../storage/log_config.ts";
import { PartitionLog } from "../storage/partition_log.ts";

const ROOT = new URL("../", import.meta.url);
const CLI = new URL("src/cli.ts", ROOT).pathname;
const PYTHON = "/usr/bin/python3";
const LOOPBACK = "127.0.0.1";

export interface ScaleOptions {
  quick?: boolean;
  skipReference?: boolean;
  outFile?: string;
  log?: (line: string) => void;
}

/** One line of the result table. */
export interface ScaleRow {
  section: string;
  measure: string;
  target: string;
  value: string;
  /** Ratio to the baseline named in `baseline`, when there is one. */
  ratio: number | null;
  baseline: string;
  /** "target met", "MISSED", "-" (no target) or "error: ...". */
  verdict: string;
  raw?: Record<string, number | string | null>;
}

export interface ScaleResult {
  startedAt: string;
  quick: boolean;
  rows: ScaleRow[];
  elapsedSeconds: number;
}

// ---------------------------------------------------------------------------------------
// Child processes (all registered, all stopped at the end).

const live = new Set<Deno.ChildProcess>();

function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

async function waitExit(child: Deno.ChildProcess, ms: number): Promise<Deno.CommandStatus | null> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<null>((r) => (id = setTimeout(() => r(null), ms)));
  const s = await Promise.race([child.status, t]);
  clearTimeout(id);
  return s;
}

export async function killAllScale(): Promise<void> {
  const all = [...live];
  for (const c of all) killQuietly(c, "SIGKILL");
  await Promise.all(all.map((c) => waitExit(c, 5_000)));
  live.clear();
}

interface Broker {
  child: Deno.ChildProcess;
  port: number;
  /** Spawn to the "listening on" line, ms. */
  startMs: number;
  lines: string[];
}

/** Starts src/cli.ts on `dataDir`; times spawn → "listening on". */
export async function startBroker(
  dataDir: string,
  timeoutMs = 120_000,
  extraArgs: string[] = [],
): Promise<Broker> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "--host",
      LOOPBACK,
      "--port",
      "0",
      "--data-dir",
      dataDir,
      ...extraArgs,
    ],
    env: { TRIBUTARY_LOG_LEVEL: "info" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const lines: string[] = [];
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000_000 && Date.now() < deadline; i++) {
    const r = await reader.read();
    if (r.done) break;
    buf += r.value;
    const m = /listening on [^:]+:(\d+)/.exec(buf);
    if (m) {
      const startMs = performance.now() - t0;
      lines.push(...buf.split("\n"));
      (async () => {
        for (let j = 0; j < 10_000_000; j++) {
          const x = await reader.read().catch(() => ({ done: true as const, value: "" }));
          if (x.done) break;
          lines.push(...(x.value ?? "").split("\n"));
          if (lines.length > 4000) lines.splice(0, 2000);
        }
      })();
      return { child, port: Number(m[1]), startMs, lines };
    }
  }
  killQuietly(child, "SIGKILL");
  live.delete(child);
  throw new Error(`broker did not start: ${buf.slice(0, 2000)}`);
}

export async function stopBroker(b: Broker): Promise<number> {
  killQuietly(b.child, "SIGTERM");
  let s = await waitExit(b.child, 60_000);
  if (!s) {
    killQuietly(b.child, "SIGKILL");
    s = await b.child.status;
  }
  live.delete(b.child);
  return s.code;
}

/** VmRSS of a process in MiB, or null. */
async function rssMiB(pid: number): Promise<number | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const m = /VmRSS:\s*(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// A minimal client: one connection, one request at a time, timing up to the last response
// byte (decoding happens after the clock stops).

export class Client {
  private correlationId = 0;
  private buf = new Uint8Array(1 << 20);
  private start = 0;
  private end = 0;

  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number): Promise<Client> {
    const conn = await Deno.connect({ hostname: LOOPBACK, port });
    conn.setNoDelay(true);
    return new Client(conn);
  }

  /** Sends a request, returns the decoded response and the ms until its last byte arrived. */
  async timed(
    req: MessageSchema,
    resp: MessageSchema,
    version: number,
    body: Msg,
  ): Promise<{ msg: Msg; ms: number }> {
    const flexible = isFlexible(req, version);
    const correlationId = ++this.correlationId;
    const w = new Writer(256);
    w.int32(0);
    writeRequestHeader(
      w,
      { apiKey: req.apiKey!, apiVersion: version, correlationId, clientId: "scale" },
      flexible,
    );
    codecFor(req, version).encode(w, body);
    w.patchInt32AtStart(w.length - 4);
    const out = w.finish();
    const t0 = performance.now();
    for (let off = 0; off < out.length;) off += await this.conn.write(out.subarray(off));
    const frame = await this.frame();
    const ms = performance.now() - t0;
    const r = new Reader(frame);
    const headerV1 = flexible && req.apiKey !== 18;
    if (readResponseHeader(r, headerV1) !== correlationId) throw new Error("correlation mismatch");
    return { msg: codecFor(resp, version).decode(r), ms };
  }

  call(req: MessageSchema, resp: MessageSchema, version: number, body: Msg): Promise<Msg> {
    return this.timed(req, resp, version, body).then((x) => x.msg);
  }

  private async frame(): Promise<Uint8Array> {
    for (let i = 0; i < 1_000_000; i++) {
      const have = this.end - this.start;
      if (have >= 4) {
        const b = this.buf;
        const s = this.start;
        const size = ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0;
        if (have >= 4 + size) {
          const f = this.buf.slice(s + 4, s + 4 + size);
          this.start += 4 + size;
          return f;
        }
        if (4 + size > this.buf.length - this.start) {
          const next = new Uint8Array(Math.max(this.buf.length, 4 + size + 65536));
          next.set(this.buf.subarray(this.start, this.end));
          this.buf = next;
          this.end = have;
          this.start = 0;
        }
      }
      if (this.end === this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      const n = await this.conn.read(this.buf.subarray(this.end));
      if (n === null) throw new Error("connection closed");
      this.end += n;
    }
    throw new Error("frame too long in coming");
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // gone
    }
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 0.5);
}

// ---------------------------------------------------------------------------------------
// 1. Latency.

const LATENCY_SCRIPT = `
import json, os, sys, threading, time
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_END
bootstrap, topic, rate, seconds, warm, mock = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6] == "1"
threading.Timer(seconds + warm + 60, lambda: os._exit(3)).start()
common = {"log_level": 3}
if mock:
    p = Producer({"test.mock.num.brokers": 1, "linger.ms": 0, **common})
    md = p.list_topics(timeout=10)
    b = list(md.brokers.values())[0]
    bootstrap = "%s:%d" % (b.host, b.port)
else:
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, **common})
# Make the topic exist (auto-created by Metadata on both), then wait for a leader.
for _ in range(100):
    md = p.list_topics(topic, timeout=5)
    t = md.topics.get(topic)
    if t is not None and t.error is None and 0 in t.partitions:
        break
    time.sleep(0.1)
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "latency-bench", "enable.auto.commit": False, **common})
c.assign([TopicPartition(topic, 0, OFFSET_END)])
acks = []
def on_delivery(err, msg, sent):
    if err is None:
        acks.append(time.perf_counter_ns() - sent)
done = threading.Event()
def produce():
    interval = 1e9 / rate
    start = time.perf_counter_ns()
    total = int((warm + seconds) * rate)
    for i in range(total):
        due = start + i * interval
        for _ in range(1000):
            now = time.perf_counter_ns()
            if now >= due:
                break
            p.poll((due - now) / 1e9)
        sent = time.perf_counter_ns()
        p.produce(topic, value=b"%d:%d" % (i, sent), partition=0,
                  on_delivery=lambda err, msg, s=sent: on_delivery(err, msg, s))
        p.poll(0)
    p.flush(10)
    done.set()
# The consumer must be fetching before the clock matters: the warm-up covers that.
th = threading.Thread(target=produce)
th.start()
lat = []
warm_n = int(warm * rate)
deadline = time.time() + warm + seconds + 30
while time.time() < deadline:
    m = c.poll(0.5)
    now = time.perf_counter_ns()
    if m is None:
        if done.is_set():
            # Drain what is still in flight, then stop.
            m2 = c.poll(1.0)
            if m2 is None:
                break
            m, now = m2, time.perf_counter_ns()
        else:
            continue
    if m.error():
        continue
    i, sent = m.value().split(b":")
    if int(i) >= warm_n:
        lat.append(now - int(sent))
th.join(5)
c.close()
lat.sort()
acks = acks[warm_n:]
acks.sort()
def pct(xs, q):
    return xs[min(len(xs) - 1, int(q * len(xs)))] / 1e6 if xs else None
print(json.dumps({"n": len(lat), "expected": int(seconds * rate), "p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "max": pct(lat, 1.0),
                  "ack_p50": pct(acks, 0.5), "ack_p99": pct(acks, 0.99)}), flush=True)
os._exit(0)
`;

interface LatencyResult {
  n: number;
  expected: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  ack_p50: number | null;
  ack_p99: number | null;
}

async function latencyRun(
  bootstrap: string,
  mock: boolean,
  seconds: number,
): Promise<LatencyResult> {
  const child = new Deno.Command(PYTHON, {
    args: [
      "-c",
      LATENCY_SCRIPT,
      bootstrap,
      `latency-${Date.now()}`,
      "1000",
      String(seconds),
      "2",
      mock ? "1" : "0",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const out = await child.output();
  live.delete(child);
  const text = new TextDecoder().decode(out.stdout).trim();
  const line = text.split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(
      `latency client failed (exit ${out.code}): ${text.slice(0, 500)} ${
        new TextDecoder().decode(out.stderr).slice(0, 1000)
      }`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// 2. Many partitions.

async function createTopics(c: Client, topics: number, partitions: number, prefix: string) {
  const perRequest = 10;
  for (let t = 0; t < topics; t += perRequest) {
    const list = [];
    for (let i = t; i < Math.min(topics, t + perRequest); i++) {
      list.push({
        name: `${prefix}${String(i).padStart(3, "0")}`,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      });
    }
    const r = await c.call(CreateTopicsRequest, CreateTopicsResponse, 7, {
      topics: list,
      timeoutMs: 120_000,
      validateOnly: false,
    });
    for (const x of r.topics as Msg[]) {
      if (x.errorCode !== 0) throw new Error(`CreateTopics ${x.name}: error ${x.errorCode}`);
    }
  }
}

function metadataBody(topics: string[] | null): Msg {
  return {
    topics: topics === null
      ? null
      : topics.map((name) => ({ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  };
}

/** Median and max ms of `n` Metadata calls. */
async function metadataLatency(
  c: Client,
  topics: string[] | null,
  n: number,
): Promise<{ median: number; max: number; partitions: number }> {
  const ms: number[] = [];
  let partitions = 0;
  for (let i = 0; i < n; i++) {
    const r = await c.timed(MetadataRequest, MetadataResponse, 12, metadataBody(topics));
    ms.push(r.ms);
    partitions = (r.msg.topics as Msg[]).reduce((s, t) => s + (t.partitions as Msg[]).length, 0);
  }
  return { median: median(ms), max: Math.max(...ms), partitions };
}

/** One small batch (1 record) into every partition of every topic. */
async function touchAll(c: Client, topics: string[], partitions: number): Promise<void> {
  const batch = encodeRecordBatch({ records: [{ key: null, value: "x".repeat(100) }] });
  for (const name of topics) {
    const partitionData = [];
    for (let p = 0; p < partitions; p++) partitionData.push({ index: p, records: batch });
    const r = await c.call(ProduceRequest, ProduceResponse, 9, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 30_000,
      topicData: [{ name, partitionData }],
    });
    for (const t of r.responses as Msg[]) {
      for (const p of t.partitionResponses as Msg[]) {
        if (p.errorCode !== 0) throw new Error(`produce ${name}-${p.index}: ${p.errorCode}`);
      }
    }
  }
}

/** Opens `n` connections, each answered one ApiVersions (so the broker set it up). */
async function openIdle(port: number, n: number): Promise<Client[]> {
  const out: Client[] = [];
  for (let i = 0; i < n; i += 50) {
    const group = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, () => Client.connect(port)),
    );
    await Promise.all(group.map((c) =>
      c.call(ApiVersionsRequest, ApiVersionsResponse, 3, {
        clientSoftwareName: "scale",
        clientSoftwareVersion: "1",
      })
    ));
    out.push(...group);
  }
  return out;
}

/**
 * Produce flood: `conns` connections each sending 256 KiB batches (1 KiB records) acks=1 to
 * its own partition as fast as the broker answers, for `seconds`; RSS sampled every second.
 */
async function flood(
  port: number,
  pid: number,
  topic: string,
  seconds: number,
  conns: number,
): Promise<{ samples: number[]; bytes: number }> {
  const value = new Uint8Array(1024).map((_, i) => 97 + (i % 26));
  const batch = encodeRecordBatch({
    records: Array.from({ length: 256 }, () => ({ key: null, value })),
  });
  const clients = await Promise.all(Array.from({ length: conns }, () => Client.connect(port)));
  let stop = false;
  let bytes = 0;
  const workers = clients.map(async (c, i) => {
    for (let k = 0; k < 10_000_000 && !stop; k++) {
      const r = await c.call(ProduceRequest, ProduceResponse, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 30_000,
        topicData: [{ name: topic, partitionData: [{ index: i, records: batch }] }],
      });
      const pr = (r.responses as Msg[])[0].partitionResponses as Msg[];
      if (pr[0].errorCode !== 0) throw new Error(`flood produce error ${pr[0].errorCode}`);
      bytes += batch.length;
    }
  });
  const samples: number[] = [];
  const t0 = performance.now();
  for (let s = 1; s <= seconds; s++) {
    await sleep(Math.max(0, t0 + s * 1000 - performance.now()));
    samples.push((await rssMiB(pid)) ?? NaN);
  }
  stop = true;
  await Promise.all(workers);
  for (const c of clients) c.close();
  return { samples, bytes };
}

// ---------------------------------------------------------------------------------------
// 3. Partition growth.

async function growth(
  dir: string,
  sizesMB: number[],
  say: (l: string) => void,
): Promise<
  { sizeMB: number; appendUs: number; fetchUs: number; rawAppendUs: number; rawFetchUs: number }[]
> {
  const log = await PartitionLog.open(dir, logConfig({}));
  const value = new Uint8Array(1024).map((_, i) => (i * 31) & 0xff);
  const big = encodeRecordBatch({
    records: Array.from({ length: 64 }, (_, i) => ({ key: null, value, timestamp: i })),
  });
  const small = encodeRecordBatch({
    records: Array.from({ length: 16 }, (_, i) => ({ key: `k${i}`, value, timestamp: i })),
  });
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const out = [];
  let written = 0;
  try {
    // Untimed warm-up, so the first size does not pay for JIT compilation.
    for (let i = 0; i < 500; i++) await log.append(small);
    for (let i = 0; i < 500; i++) await log.read(i * 16, 65536, { minOneBatch: true });
    written += 500 * small.length;
    for (const mb of sizesMB) {
      const target = mb * 1e6;
      for (let g = 0; written < target && g < 100_000; g++) {
        await log.append(big);
        written += big.length;
      }
      // Untimed: let the fill reach the disk (`sync`), so the OS writing back a gigabyte of
      // dirty pages does not land in one size's timing and not another's, and touch the
      // index of every segment once (an index is loaded on its first lookup).
      await log.flush();
      await new Deno.Command("sync").output();
      const warmEnd = log.logEndOffset;
      for (let i = 0; i < 200; i++) await log.read(rnd() % warmEnd, 65536, { minOneBatch: true });
      // Timed: 300 appends of 16 KiB, then 1,000 fetches of 64 KiB at random offsets.
      const appends = 300;
      let t = performance.now();
      for (let i = 0; i < appends; i++) await log.append(small);
      const appendUs = (performance.now() - t) * 1000 / appends;
      written += appends * small.length;
      const end = log.logEndOffset;
      const fetches = 1000;
      let got = 0;
      t = performance.now();
      for (let i = 0; i < fetches; i++) {
        got += (await log.read(rnd() % end, 65536, { minOneBatch: true })).length;
      }
      const fetchUs = (performance.now() - t) * 1000 / fetches;
      if (got === 0) throw new Error("random fetches returned nothing");
      // Baselines at the same size: the file system alone. 300 16 KiB writes at the end of a
      // scratch file in the same directory, and 1,000 64 KiB preads at random positions of the
      // partition's segment files.
      const raw = openSync(`${dir}/raw-append.bin`, "a");
      const chunk = new Uint8Array(16 * 1024).fill(1);
      t = performance.now();
      for (let i = 0; i < appends; i++) writeSync(raw, chunk);
      const rawAppendUs = (performance.now() - t) * 1000 / appends;
      closeSync(raw);
      const files = readdirSync(dir).filter((f) => f.endsWith(".log")).map((f) => {
        const path = `${dir}/${f}`;
        return { fd: openSync(path, "r"), size: statSync(path).size };
      });
      const buf = new Uint8Array(65536);
      t = performance.now();
      for (let i = 0; i < fetches; i++) {
        const f = files[rnd() % files.length];
        readSync(f.fd, buf, 0, buf.length, rnd() % Math.max(1, f.size - buf.length));
      }
      const rawFetchUs = (performance.now() - t) * 1000 / fetches;
      for (const f of files) closeSync(f.fd);
      say(
        `  partition at ${mb} MB: append ${appendUs.toFixed(1)} µs, fetch ${
          fetchUs.toFixed(1)
        } µs (raw write ${rawAppendUs.toFixed(1)} µs, raw pread ${rawFetchUs.toFixed(1)} µs)`,
      );
      out.push({ sizeMB: mb, appendUs, fetchUs, rawAppendUs, rawFetchUs });
    }
  } finally {
    await log.close();
  }
  return out;
}

// ---------------------------------------------------------------------------------------

const fmt = (n: number | null | undefined, d = 1) =>
  n === null || n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(d);

/** Runs everything; returns (and writes) the rows. */
export async function runScale(opts: ScaleOptions = {}): Promise<ScaleResult> {
  const quick = !!opts.quick;
  const say = opts.log ?? ((l: string) => console.log(l));
  const t0 = performance.now();
  const rows: ScaleRow[] = [];
  const verdict = (ok: boolean) => (ok ? "target met" : "MISSED");
  const tmp = await Deno.makeTempDir({ prefix: "tributary-scale-" });
  const err = (section: string, measure: string, e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    say(`scale: ${section} / ${measure} failed: ${msg}`);
    rows.push({
      section,
      measure,
      target: "-",
      value: "-",
      ratio: null,
      baseline: "-",
      verdict: `error: ${msg.slice(0, 160)}`,
    });
  };

  try {
    // ---------------------------------------------------------------- 1. latency
    const latSeconds = quick ? 4 : 15;
    say(`scale: produce→consume latency at 1,000 records/s for ${latSeconds} s`);
    let mockLat: LatencyResult | null = null;
    if (!opts.skipReference) {
      try {
        mockLat = await latencyRun("", true, latSeconds);
      } catch (e) {
        err("latency", "mock", e);
      }
    }
    try {
      const dir = `${tmp}/latency`;
      await Deno.mkdir(dir);
      const b = await startBroker(dir);
      let lat: LatencyResult;
      try {
        lat = await latencyRun(`${LOOPBACK}:${b.port}`, false, latSeconds);
      } finally {
        await stopBroker(b);
      }
      const base = (k: "p50" | "p99") => mockLat?.[k] ? lat[k]! / mockLat[k]! : null;
      for (const k of ["p50", "p99"] as const) {
        if (mockLat) {
          rows.push({
            section: "latency 1,000 rec/s",
            measure: `produce→consume ${k}, mock`,
            target: k === "p99" ? "≤ 1 ms" : "-",
            value: `${fmt(mockLat[k], 2)} ms`,
            ratio: 1,
            baseline: "mock",
            verdict: k === "p99" ? verdict(mockLat[k]! <= 1) : "-",
            raw: { ...mockLat },
          });
        }
        rows.push({
          section: "latency 1,000 rec/s",
          measure: `produce→consume ${k}, tributary`,
          target: k === "p99" ? "≤ 1 ms" : "-",
          value: `${fmt(lat[k], 2)} ms`,
          ratio: base(k),
          baseline: mockLat ? "mock" : "-",
          verdict: k === "p99" ? verdict(lat[k] !== null && lat[k]! <= 1) : "-",
          raw: { ...lat },
        });
      }
      rows.push({
        section: "latency 1,000 rec/s",
        measure: "produce ack (send→delivery report) p50 / p99, tributary",
        target: "-",
        value: `${fmt(lat.ack_p50, 2)} / ${fmt(lat.ack_p99, 2)} ms`,
        ratio: mockLat?.ack_p99 && lat.ack_p99 ? lat.ack_p99 / mockLat.ack_p99 : null,
        baseline: mockLat
          ? `mock ${fmt(mockLat.ack_p50, 2)} / ${fmt(mockLat.ack_p99, 2)} ms (p99 ratio)`
          : "-",
        verdict: "-",
      });
      if (lat.n < lat.expected * 0.99) {
        rows.push({
          section: "latency 1,000 rec/s",
          measure: "records received",
          target: String(lat.expected),
          value: String(lat.n),
          ratio: null,
          baseline: "-",
          verdict: "MISSED",
        });
      }
    } catch (e) {
      err("latency", "tributary", e);
    }

    // ---------------------------------------------------------------- 2. 10k partitions
    const section = "10,000 partitions";
    const dir = `${tmp}/many`;
    await Deno.mkdir(dir);
    let b: Broker | null = null;
    try {
      say("scale: 10,000 partitions: empty broker baseline");
      b = await startBroker(dir);
      const emptyStartMs = b.startMs;
      await sleep(1000);
      const emptyRss = (await rssMiB(b.child.pid))!;
      let c = await Client.connect(b.port);
      await createTopics(c, 1, 1, "one-");
      const one = await metadataLatency(c, ["one-000"], 50);
      say("scale: creating 100 topics × 100 partitions");
      const tc = performance.now();
      await createTopics(c, 100, 100, "scale-");
      const createMs = performance.now() - tc;
      const names = Array.from({ length: 100 }, (_, i) => `scale-${String(i).padStart(3, "0")}`);
      await touchAll(c, names, 100);
      const all = await metadataLatency(c, null, quick ? 10 : 30);
      rows.push({
        section,
        measure: `Metadata, all topics (${all.partitions} partitions), median of ${
          quick ? 10 : 30
        }`,
        target: "≤ 50 ms",
        value: `${fmt(all.median, 2)} ms (max ${fmt(all.max, 1)})`,
        ratio: all.median / one.median,
        baseline: `1 topic × 1 partition: ${fmt(one.median, 3)} ms`,
        verdict: verdict(all.median <= 50),
        raw: { medianMs: all.median, maxMs: all.max, oneMs: one.median, createMs },
      });
      c.close();
      await sleep(2000);
      const idleRss = (await rssMiB(b.child.pid))!;
      rows.push({
        section,
        measure: "idle RSS with 10,000 partitions (VmRSS)",
        target: "≤ 512 MB",
        value: `${fmt(idleRss, 0)} MiB`,
        ratio: idleRss / emptyRss,
        baseline: `empty broker: ${fmt(emptyRss, 0)} MiB`,
        verdict: verdict(idleRss * 1.048576 <= 512),
        raw: { idleRssMiB: idleRss, emptyRssMiB: emptyRss, createMs },
      });

      say("scale: 1,000 idle connections");
      const conns = await openIdle(b.port, 1000);
      await sleep(2000);
      const connRss = (await rssMiB(b.child.pid))!;
      for (const x of conns) x.close();
      const added = connRss - idleRss;
      rows.push({
        section,
        measure: "RSS added by 1,000 idle connections",
        target: "≤ 100 MB",
        value: `${fmt(added, 1)} MiB (${fmt((added * 1024) / 1000, 1)} KiB each)`,
        ratio: connRss / idleRss,
        baseline: `RSS before: ${fmt(idleRss, 0)} MiB`,
        verdict: verdict(added * 1.048576 <= 100),
        raw: { beforeMiB: idleRss, afterMiB: connRss },
      });

      say("scale: restart over 10,000 segments");
      await sleep(500);
      const code = await stopBroker(b);
      b = null;
      if (code !== 0) say(`scale: broker exited with ${code} after SIGTERM`);
      b = await startBroker(dir);
      const restartMs = b.startMs;
      rows.push({
        section,
        measure: "start-up over 10,000 segments (spawn → listening)",
        target: "≤ 2 s",
        value: `${fmt(restartMs / 1000, 2)} s`,
        ratio: restartMs / emptyStartMs,
        baseline: `empty data dir: ${fmt(emptyStartMs / 1000, 2)} s`,
        verdict: verdict(restartMs <= 2000),
        raw: { restartMs, emptyStartMs },
      });

      // Flood: one more topic, 4 partitions, one connection each.
      const floodS = quick ? 15 : 60;
      const settleS = quick ? 5 : 10;
      say(`scale: ${floodS} s produce flood`);
      c = await Client.connect(b.port);
      await createTopics(c, 1, 4, "flood-");
      c.close();
      const f = await flood(b.port, b.child.pid, "flood-000", floodS, 4);
      const ref = f.samples[settleS - 1];
      const later = f.samples.slice(settleS);
      const peak = Math.max(...later);
      const growthPct = (peak / ref - 1) * 100;
      rows.push({
        section,
        measure: `RSS during a ${floodS} s produce flood (${
          fmt(f.bytes / 1e6 / floodS, 0)
        } MB/s), peak after ${settleS} s`,
        target: "within 10%",
        value: `${fmt(peak, 0)} MiB (${growthPct >= 0 ? "+" : ""}${fmt(growthPct, 1)}%)`,
        ratio: peak / ref,
        baseline: `at ${settleS} s: ${fmt(ref, 0)} MiB`,
        verdict: verdict(growthPct <= 10),
        raw: { samples: f.samples.map((x) => Math.round(x)).join(","), bytes: f.bytes },
      });
    } catch (e) {
      err(section, "run", e);
    } finally {
      if (b) await stopBroker(b);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }

    // ---------------------------------------------------------------- 3. growth
    const sizes = quick ? [50, 100, 200, 400] : [100, 250, 500, 1000, 2000];
    say(`scale: partition growth ${sizes[0]} MB → ${sizes[sizes.length - 1]} MB`);
    try {
      const g = await growth(`${tmp}/growth`, sizes, say);
      for (const x of g) {
        for (const kind of ["append", "fetch"] as const) {
          const v = kind === "append" ? x.appendUs : x.fetchUs;
          const first = kind === "append" ? g[0].appendUs : g[0].fetchUs;
          const rawV = kind === "append" ? x.rawAppendUs : x.rawFetchUs;
          const rawFirst = kind === "append" ? g[0].rawAppendUs : g[0].rawFetchUs;
          // When the file system itself slowed down by as much, say so: the growth is the
          // disk's (page cache), not the log's index or segment lookups.
          const ours = (v / rawV) / (first / rawFirst);
          rows.push({
            section: "partition growth",
            measure: kind === "append"
              ? `append 16 KiB batch at ${x.sizeMB} MB (raw write ${fmt(rawV, 1)} µs)`
              : `fetch 64 KiB at a random offset at ${x.sizeMB} MB (raw pread ${fmt(rawV, 1)} µs)`,
            target: "flat (≤ 1.5×)",
            value: `${fmt(v, 1)} µs`,
            ratio: v / first,
            baseline: `at ${g[0].sizeMB} MB: ${fmt(first, 1)} µs`,
            verdict: v / first <= 1.5
              ? verdict(true)
              : ours <= 1.5
              ? `MISSED (raw ${kind === "append" ? "write" : "pread"} ×${
                fmt(rawV / rawFirst, 1)
              } too)`
              : verdict(false),
            raw: { rawUs: rawV, rawFirstUs: rawFirst, relativeToRaw: ours },
          });
        }
      }
    } catch (e) {
      err("partition growth", "run", e);
    } finally {
      await Deno.remove(`${tmp}/growth`, { recursive: true }).catch(() => {});
    }
  } finally {
    await killAllScale();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }

  const result: ScaleResult = {
    startedAt: new Date(Date.now() - (performance.now() - t0)).toISOString(),
    quick,
    rows,
    elapsedSeconds: (performance.now() - t0) / 1000,
  };
  const outFile = opts.outFile ?? new URL("out/scale.json", import.meta.url).pathname;
  await Deno.mkdir(outFile.slice(0, outFile.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(outFile, JSON.stringify(result, null, 2) + "\n");
  return result;
}

/** Prints the table. */
export function printScale(res: ScaleResult, say: (l: string) => void = console.log): void {
  const head = ["section", "measure", "value", "baseline", "ratio", "target", "verdict"];
  const body = res.rows.map((r) => [
    r.section,
    r.measure,
    r.value,
    r.baseline,
    r.ratio === null ? "-" : `${r.ratio.toFixed(r.ratio < 0.1 ? 4 : 2)}x`,
    r.target,
    r.verdict,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => (i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(
      " | ",
    ) + " |";
  say("");
  say(`Scale and latency${res.quick ? " (--quick)" : ""}`);
  say(line(head));
  say(
    "|" + widths.map((w, i) => (i === 4 ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join(
      "|",
    ) + "|",
  );
  for (const b of body) say(line(b));
  say(
    "Latency: python confluent_kafka producer (linger.ms=0) and consumer (default settings:\n" +
      "fetch.wait.max.ms=500, fetch.min.bytes=1) in one process, receive − send per record.\n" +
      "librdkafka's mock cluster answers a Fetch with no data only after fetch.wait.max.ms (no\n" +
      "wake-up on append), so its latency is bounded by that timer, not by its data path.",
  );
  const missed = res.rows.filter((r) => r.verdict.startsWith("MISSED")).length;
  const met = res.rows.filter((r) => r.verdict === "target met").length;
  say(
    `ratio: value over the baseline column (same run). Targets: ${met} met, ${missed} missed. ` +
      `Results in bench/out/scale.json (${res.elapsedSeconds.toFixed(1)} s).`,
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { quick: { type: "boolean" }, "skip-reference": { type: "boolean" } },
    strict: true,
  });
  const onSignal = async () => {
    await killAllScale();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let code = 0;
  try {
    printScale(await runScale({ quick: values.quick, skipReference: values["skip-reference"] }));
  } catch (e) {
    console.error(`scale failed: ${e instanceof Error ? e.stack : e}`);
    code = 1;
  } finally {
    await killAllScale();
  }
  Deno.exit(code);
}
