/** Scale benchmark 2: many partitions (metadata latency, idle connections, floods). */
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "./msg.ts";
import { Client, median } from "./bench_client.ts";
import { rssMiB, sleep } from "./scale_broker.ts";

export async function createTopics(c: Client, topics: number, partitions: number, prefix: string) {
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

export function metadataBody(topics: string[] | null): Msg {
  return {
    topics: topics === null
      ? null
      : topics.map((name) => ({ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  };
}

/** Median and max ms of `n` Metadata calls. */
export async function metadataLatency(
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
export async function touchAll(c: Client, topics: string[], partitions: number): Promise<void> {
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
export async function openIdle(port: number, n: number): Promise<Client[]> {
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
export async function flood(
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
