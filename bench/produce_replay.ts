/**
 * A cheap produce load generator: one Produce v9 request (acks=1, one partition, one record
 * batch of `records` × `size`-byte values, valid CRC-32C, no producer id) encoded once and
 * sent `requests` times over one connection with `inflight` requests outstanding. The broker
 * patches offsets into its own copy, so the same bytes are valid every time. Its cost per
 * request is one socket write, which leaves the cores to the broker (kcat spends more CPU per
 * record than the broker does).
 *
 *   deno run -A bench/produce_replay.ts PORT TOPIC PARTITION REQUESTS [RECORDS] [SIZE] [INFLIGHT]
 *
 * Prints one JSON line: { ms, requests, records, bytes, errors }.
 */
import { writeRequestHeader } from "../protocol/headers.ts";
import { ProduceRequest, ProduceResponse } from "../protocol/messages/mod.ts";
import { Reader, Writer } from "../protocol/primitives.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import { codecFor } from "../protocol/schema.ts";
import type { Msg } from "./lib/msg.ts";
import { readResponseHeader } from "../protocol/headers.ts";

const VERSION = 9;

function produceRequest(topic: string, partition: number, records: number, size: number) {
  const value = new Uint8Array(size).fill(0x61);
  const batch = encodeRecordBatch({
    records: Array.from({ length: records }, () => ({ key: null, value })),
  });
  const w = new Writer(batch.length + 256);
  w.int32(0);
  writeRequestHeader(
    w,
    { apiKey: 0, apiVersion: VERSION, correlationId: 0, clientId: "replay" },
    true,
  );
  codecFor(ProduceRequest, VERSION).encode(w, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
  w.patchInt32AtStart(w.length - 4);
  return w.finish();
}

export async function replay(
  port: number,
  topic: string,
  partition: number,
  requests: number,
  records = 1000,
  size = 1024,
  inflight = 4,
): Promise<{ ms: number; requests: number; records: number; bytes: number; errors: number }> {
  const req = produceRequest(topic, partition, records, size);
  // The correlation id sits right after the size (4), api key (2) and version (2).
  const view = new DataView(req.buffer, req.byteOffset, req.byteLength);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  let sent = 0;
  let received = 0;
  let errors = 0;
  let wake: (() => void) | null = null;
  const started = performance.now();
  const writer = (async () => {
    while (sent < requests) {
      while (sent - received >= inflight) await new Promise<void>((r) => wake = r);
      view.setInt32(8, ++sent);
      for (let off = 0; off < req.length;) off += await conn.write(req.subarray(off));
    }
  })();
  let buf = new Uint8Array(1 << 16);
  let have = 0;
  while (received < requests) {
    if (have === buf.length) {
      const next = new Uint8Array(buf.length * 2);
      next.set(buf);
      buf = next;
    }
    const n = await conn.read(buf.subarray(have));
    if (n === null) throw new Error("broker closed the connection");
    have += n;
    let pos = 0;
    while (have - pos >= 4) {
      const size = new DataView(buf.buffer, pos, 4).getInt32(0);
      if (have - pos - 4 < size) break;
      const r = new Reader(buf.subarray(pos + 4, pos + 4 + size));
      readResponseHeader(r, true);
      const resp: Msg = codecFor(ProduceResponse, VERSION).decode(r);
      for (const t of resp.responses as Msg[]) {
        for (const p of t.partitionResponses as Msg[]) if (p.errorCode !== 0) errors++;
      }
      received++;
      pos += 4 + size;
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
  const ms = performance.now() - started;
  conn.close();
  return { ms, requests, records: requests * records, bytes: requests * records * size, errors };
}

if (import.meta.main) {
  const [port, topic, partition, requests, records, size, inflight] = Deno.args;
  const r = await replay(
    Number(port),
    topic,
    Number(partition),
    Number(requests),
    records ? Number(records) : undefined,
    size ? Number(size) : undefined,
    inflight ? Number(inflight) : undefined,
  );
  console.log(JSON.stringify(r));
}
