/**
 * A cheap produce load generator: one Produce v9 request (acks=1, one partition, one record
 * batch of `records` × `size`-byte values, valid CRC-32C, no producer id) encoded once and
 * sent `requests` times over one connection with `inflight` requests outstanding. The broker
 * patches offsets into its own copy, so the same bytes are valid every time. Its cost per
 * request is one socket write, which leaves the cores to the broker (kcat spends more CPU per
 * record than the broker does).
 *
 *   deno run -A bench/produce_replay.ts PORT TOPIC PARTITION REQUESTS [RECORDS] [SIZE] [INFLIGHT]
 *     [--record-bytes N] [--records N] [--inflight N] [--warmup N] [--broker-pid PID]
 *
 * `--record-bytes` is each record's value size (overrides SIZE; default 1024), `--records` the
 * records per request (default 1000). `--warmup N` first sends N requests that are neither
 * timed nor counted, so the broker's JIT is warm when the measured part starts. With
 * `--broker-pid` the broker's own CPU time (user + system of all its threads, /proc) over the
 * measured requests is reported per record.
 *
 * Prints one JSON line with these fields (other steps read them by name):
 *   ms                 wall time of the measured requests
 *   requests, records  measured requests and the records in them (warm-up excluded)
 *   recordBytes        value bytes per record
 *   bytes              value bytes of the measured records
 *   warmupRequests     requests sent before the measured part
 *   errors             partition responses with a non-zero error code (warm-up included)
 *   brokerCpuSeconds   broker CPU over the measured part, or null without --broker-pid
 *   brokerUserSeconds, brokerSystemSeconds   the same split into user and kernel time
 *   brokerNsPerRecord  brokerCpuSeconds per measured record in ns, or null
 */
import { parseArgs } from "node:util";
import { writeRequestHeader } from "../protocol/headers.ts";
import { ProduceRequest, ProduceResponse } from "../protocol/messages/mod.ts";
import { Reader, Writer } from "../protocol/primitives.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import { codecFor } from "../protocol/schema.ts";
import type { Msg } from "./lib/msg.ts";
import { processCpuSeconds } from "./lib/scale_broker.ts";
import { readResponseHeader } from "../protocol/headers.ts";

const VERSION = 9;

/**
 * A Produce v9 request (acks=1, size prefix included) with one batch of `records` ×
 * `size`-byte values for each of `partitions`, the same batch bytes in each.
 */
export function produceRequest(
  topic: string,
  partitions: number[],
  records: number,
  size: number,
  clientId = "replay",
): Uint8Array {
  const value = new Uint8Array(size).fill(0x61);
  const batch = encodeRecordBatch({
    records: Array.from({ length: records }, () => ({ key: null, value })),
  });
  const w = new Writer(partitions.length * (batch.length + 16) + 256);
  w.int32(0);
  writeRequestHeader(w, { apiKey: 0, apiVersion: VERSION, correlationId: 0, clientId }, true);
  codecFor(ProduceRequest, VERSION).encode(w, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 30_000,
    topicData: [{
      name: topic,
      partitionData: partitions.map((index) => ({ index, records: batch })),
    }],
  });
  w.patchInt32AtStart(w.length - 4);
  return w.finish();
}

export interface ReplayOptions {
  /** Records per request (default 1000). */
  records?: number;
  /** Value bytes per record (default 1024). */
  recordBytes?: number;
  /** Requests outstanding at once (default 4). */
  inflight?: number;
  /** Requests sent (and answered) before the measured part. */
  warmup?: number;
  /** The broker's pid: its CPU time over the measured part is reported. */
  brokerPid?: number;
}

export interface ReplayResult {
  ms: number;
  requests: number;
  records: number;
  recordBytes: number;
  bytes: number;
  warmupRequests: number;
  errors: number;
  brokerCpuSeconds: number | null;
  brokerUserSeconds: number | null;
  brokerSystemSeconds: number | null;
  brokerNsPerRecord: number | null;
}

/** What {@link replayFrames} measured: wall time, partition errors, the broker's CPU. */
export interface FramesResult {
  ms: number;
  errors: number;
  user: number | null;
  system: number | null;
}

/**
 * Sends the encoded Produce request `req` (v9, size prefix included) `requests` times over one
 * connection, `inflight` outstanding, after `warmup` untimed ones, patching the correlation id
 * each time; counts partition errors and reads the broker's CPU over the measured part.
 */
export async function replayFrames(
  port: number,
  req: Uint8Array,
  requests: number,
  opts: { inflight?: number; warmup?: number; brokerPid?: number } = {},
): Promise<FramesResult> {
  const inflight = opts.inflight ?? 4;
  const warmup = opts.warmup ?? 0;
  // The correlation id sits right after the size (4), api key (2) and version (2).
  const view = new DataView(req.buffer, req.byteOffset, req.byteLength);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  let correlation = 0;
  let errors = 0;
  let buf = new Uint8Array(1 << 16);
  let have = 0;
  const codec = codecFor(ProduceResponse, VERSION);
  /** Sends `n` requests, `inflight` at a time, and reads their responses. */
  const phase = async (n: number) => {
    let sent = 0;
    let received = 0;
    let wake: (() => void) | null = null;
    const writer = (async () => {
      while (sent < n) {
        while (sent - received >= inflight) await new Promise<void>((r) => wake = r);
        sent++;
        view.setInt32(8, ++correlation);
        for (let off = 0; off < req.length;) off += await conn.write(req.subarray(off));
      }
    })();
    while (received < n) {
      if (have === buf.length) {
        const next = new Uint8Array(buf.length * 2);
        next.set(buf);
        buf = next;
      }
      const got = await conn.read(buf.subarray(have));
      if (got === null) throw new Error("broker closed the connection");
      have += got;
      let pos = 0;
      while (have - pos >= 4) {
        const len = new DataView(buf.buffer, pos, 4).getInt32(0);
        if (have - pos - 4 < len) break;
        const r = new Reader(buf.subarray(pos + 4, pos + 4 + len));
        readResponseHeader(r, true);
        const resp: Msg = codec.decode(r);
        for (const t of resp.responses as Msg[]) {
          for (const p of t.partitionResponses as Msg[]) if (p.errorCode !== 0) errors++;
        }
        received++;
        pos += 4 + len;
      }
      if (wake) {
        const w = wake;
        wake = null;
        w();
      }
      buf.copyWithin(0, pos, have);
      have -= pos;
    }
    await writer;
  };
  if (warmup > 0) await phase(warmup);
  const pid = opts.brokerPid;
  const cpu0 = pid ? await processCpuSeconds(pid) : null;
  const started = performance.now();
  await phase(requests);
  const ms = performance.now() - started;
  const cpu1 = pid ? await processCpuSeconds(pid) : null;
  conn.close();
  return {
    ms,
    errors,
    user: cpu0 && cpu1 ? cpu1.user - cpu0.user : null,
    system: cpu0 && cpu1 ? cpu1.system - cpu0.system : null,
  };
}

export async function replay(
  port: number,
  topic: string,
  partition: number,
  requests: number,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const records = opts.records ?? 1000;
  const size = opts.recordBytes ?? 1024;
  const warmup = opts.warmup ?? 0;
  const req = produceRequest(topic, [partition], records, size);
  const { ms, errors, user, system } = await replayFrames(port, req, requests, {
    inflight: opts.inflight,
    warmup,
    brokerPid: opts.brokerPid,
  });
  const cpu = user === null || system === null ? null : user + system;
  const measured = requests * records;
  return {
    ms,
    requests,
    records: measured,
    recordBytes: size,
    bytes: measured * size,
    warmupRequests: warmup,
    errors,
    brokerCpuSeconds: cpu,
    brokerUserSeconds: user,
    brokerSystemSeconds: system,
    brokerNsPerRecord: cpu === null || measured === 0 ? null : cpu * 1e9 / measured,
  };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
    allowPositionals: true,
    options: {
      "record-bytes": { type: "string" },
      records: { type: "string" },
      inflight: { type: "string" },
      warmup: { type: "string" },
      "broker-pid": { type: "string" },
    },
  });
  const [port, topic, partition, requests, records, size, inflight] = positionals;
  const num = (flag: string | undefined, positional: string | undefined) => {
    const v = flag ?? positional;
    return v === undefined ? undefined : Number(v);
  };
  const r = await replay(Number(port), topic, Number(partition), Number(requests), {
    records: num(values.records, records),
    recordBytes: num(values["record-bytes"], size),
    inflight: num(values.inflight, inflight),
    warmup: num(values.warmup, undefined),
    brokerPid: num(values["broker-pid"], undefined),
  });
  console.log(JSON.stringify(r));
}
