/**
 * Fetching records: one Fetch per leader for the partitions it leads (no fetch session, as a
 * simple consumer may), record batches decoded and checked with protocol/records.ts, control
 * batches skipped, and records before a partition's position dropped (a fetch returns whole
 * batches, which may start before the offset asked for).
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import { FetchRequest, FetchResponse } from "../../protocol/messages/mod.ts";
import { decodeRecords } from "../../protocol/records.ts";
import { type KafkaClient, sleep } from "./client.ts";
import { RETRIABLE_CODES } from "./errors.ts";
import { type TopicPartition, tpKey } from "./offsets.ts";

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: "CreateTime" | "LogAppendTime";
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
}

export interface FetchOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitionMaxBytes: number;
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number;
}

const LOG_OVERHEAD = 12;

/** Decodes every complete batch in a fetched records field. */
export function decodeFetched(
  topic: string,
  partition: number,
  data: Uint8Array | null,
  from: number,
): { records: ConsumerRecord[]; next: number } {
  const records: ConsumerRecord[] = [];
  let next = from;
  if (!data) return { records, next };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  while (pos + LOG_OVERHEAD <= data.length) {
    const size = LOG_OVERHEAD + view.getInt32(pos + 8);
    if (pos + size > data.length) break; // a partial batch at the end of the response
    const { header, records: recs } = decodeRecords(data.subarray(pos, pos + size));
    pos += size;
    const batchEnd = header.baseOffset + header.lastOffsetDelta + 1;
    if (!header.isControl) {
      for (const r of recs) {
        const offset = header.baseOffset + r.offsetDelta;
        if (offset < from) continue;
        records.push({
          topic,
          partition,
          offset,
          timestamp: header.timestampType === 1
            ? header.maxTimestamp
            : header.baseTimestamp + r.timestampDelta,
          timestampType: header.timestampType === 1 ? "LogAppendTime" : "CreateTime",
          key: r.key && r.key.slice(),
          value: r.value && r.value.slice(),
          headers: r.headers.map((h) => ({ key: h.key, value: h.value && h.value.slice() })),
        });
      }
    }
    if (batchEnd > next) next = batchEnd;
  }
  return { records, next };
}

export class Fetcher {
  /** Next offset to fetch per "topic:partition". */
  readonly positions = new Map<string, number>();
  private topicIds = new Map<string, string>();

  constructor(private readonly client: KafkaClient, private readonly opts: FetchOptions) {}

  seek(tp: TopicPartition, offset: number): void {
    this.positions.set(tpKey(tp), offset);
  }

  /** Partitions being fetched. */
  assigned(): TopicPartition[] {
    return [...this.positions.keys()].map((k) => {
      const i = k.lastIndexOf(":");
      return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
    });
  }

  /**
   * One round of fetches; OFFSET_OUT_OF_RANGE partitions are handed to `onOutOfRange`, which
   * returns the offset to resume at.
   */
  async poll(
    onOutOfRange: (tp: TopicPartition) => Promise<number>,
  ): Promise<ConsumerRecord[]> {
    const byLeader = new Map<number, TopicPartition[]>();
    for (const tp of this.assigned()) {
      const l = await this.client.leaderOf(tp.topic, tp.partition);
      let list = byLeader.get(l);
      if (!list) byLeader.set(l, list = []);
      list.push(tp);
    }
    const results = await Promise.all(
      [...byLeader].map(([leader, tps]) => this.fetchFrom(leader, tps, onOutOfRange)),
    );
    return results.flat();
  }

  private async topicId(topic: string): Promise<string> {
    let id = this.topicIds.get(topic);
    if (id === undefined) {
      id = (await this.client.topic(topic)).topicId;
      this.topicIds.set(topic, id);
    }
    return id;
  }

  private async fetchFrom(
    leader: number,
    tps: TopicPartition[],
    onOutOfRange: (tp: TopicPartition) => Promise<number>,
  ): Promise<ConsumerRecord[]> {
    const conn = await this.client.broker(leader);
    const topics = new Map<string, number[]>();
    for (const tp of tps) {
      let ps = topics.get(tp.topic);
      if (!ps) topics.set(tp.topic, ps = []);
      ps.push(tp.partition);
    }
    const ids = new Map<string, string>();
    for (const t of topics.keys()) ids.set(t, await this.topicId(t));
    const names = new Map([...ids].map(([n, id]) => [id, n]));
    const { version, response: r } = await conn.requestVersioned(
      FetchRequest,
      FetchResponse,
      () => ({
        replicaId: -1,
        maxWaitMs: this.opts.maxWaitMs,
        minBytes: this.opts.minBytes,
        maxBytes: this.opts.maxBytes,
        isolationLevel: this.opts.isolationLevel,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...topics].map(([topic, ps]) => ({
          topic,
          topicId: ids.get(topic),
          partitions: ps.map((p) => ({
            partition: p,
            currentLeaderEpoch: -1,
            fetchOffset: this.positions.get(`${topic}:${p}`)!,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: this.opts.partitionMaxBytes,
          })),
        })),
        forgottenTopicsData: [],
        rackId: "",
      }),
      { extraTimeoutMs: this.opts.maxWaitMs },
    );
    if (r.errorCode !== 0) {
      throw new KafkaError(r.errorCode, `${errorName(r.errorCode)} (Fetch from ${conn.address})`);
    }
    const out: ConsumerRecord[] = [];
    let refresh = false;
    for (const t of r.responses) {
      const topic: string = version >= 13 ? names.get(t.topicId)! : t.topic;
      for (const p of t.partitions) {
        const key = `${topic}:${p.partitionIndex}`;
        const from = this.positions.get(key);
        if (from === undefined) continue;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          this.positions.set(key, await onOutOfRange({ topic, partition: p.partitionIndex }));
          continue;
        }
        if (RETRIABLE_CODES.has(p.errorCode) || p.errorCode === ErrorCode.UNKNOWN_TOPIC_ID) {
          refresh = true;
          continue;
        }
        if (p.errorCode !== 0) {
          throw new KafkaError(
            p.errorCode,
            `${errorName(p.errorCode)} (Fetch ${topic}-${p.partitionIndex})`,
          );
        }
        const { records, next } = decodeFetched(topic, p.partitionIndex, p.records, from);
        out.push(...records);
        this.positions.set(key, next);
      }
    }
    if (refresh) {
      this.client.invalidateLeaders();
      this.topicIds.clear();
      await sleep(100);
    }
    return out;
  }
}
