/**
 * Producing records: one v2 batch per partition per send (CRC-32C and compression from
 * protocol/records.ts), routed to each partition's leader, with Kafka's default partitioning
 * (murmur2 for keys, one sticky partition per send for records without a key).
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import { ProduceRequest, ProduceResponse } from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { type KafkaClient, sleep } from "./client.ts";
import { RETRIABLE_CODES } from "./errors.ts";
import { partitionForKey } from "./partitioner.ts";

export interface ProducerRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
  /** Explicit partition; otherwise chosen by the partitioner. */
  partition?: number;
  timestamp?: number;
}

export interface ProduceResult {
  partition: number;
  baseOffset: number;
  count: number;
}

/** Compression codec names as Kafka's compression.type spells them. */
export const COMPRESSION_CODECS: Record<string, number> = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};

export class Producer {
  private partitions = 0;

  constructor(
    private readonly client: KafkaClient,
    readonly topic: string,
    private readonly opts: { acks: number; compression: number; timeoutMs: number },
  ) {}

  /** Sends `records`, retrying retriable partition errors; returns each partition's base offset. */
  async send(records: ProducerRecord[]): Promise<ProduceResult[]> {
    if (records.length === 0) return [];
    if (this.partitions === 0) {
      this.partitions = (await this.client.topic(this.topic, true)).partitions.length;
    }
    const sticky = Math.floor(Math.random() * this.partitions);
    const byPartition = new Map<number, ProducerRecord[]>();
    for (const r of records) {
      const p = r.partition ??
        (r.key !== null ? partitionForKey(r.key, this.partitions) : sticky);
      if (p < 0 || p >= this.partitions) {
        throw new KafkaError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `UNKNOWN_TOPIC_OR_PARTITION: topic '${this.topic}' has no partition ${p} (it has ${this.partitions})`,
        );
      }
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, list = []);
      list.push(r);
    }
    const out: ProduceResult[] = [];
    let todo = [...byPartition.keys()];
    for (let attempt = 0; todo.length > 0; attempt++) {
      const byLeader = new Map<number, number[]>();
      for (const p of todo) {
        const leader = await this.client.leaderOf(this.topic, p);
        let list = byLeader.get(leader);
        if (!list) byLeader.set(leader, list = []);
        list.push(p);
      }
      const retry: number[] = [];
      for (const [leader, parts] of byLeader) {
        const conn = await this.client.broker(leader);
        const body = {
          transactionalId: null,
          acks: this.opts.acks,
          timeoutMs: this.opts.timeoutMs,
          topicData: [{
            name: this.topic,
            partitionData: parts.map((p) => ({
              index: p,
              records: encodeRecordBatch({
                compression: this.opts.compression,
                records: byPartition.get(p)!.map((r) => ({
                  key: r.key,
                  value: r.value,
                  headers: r.headers,
                  timestamp: r.timestamp,
                })),
              }),
            })),
          }],
        };
        if (this.opts.acks === 0) {
          // No response comes for acks=0; a sent request is all there is to know.
          await conn.sendNoResponse(ProduceRequest, body);
          for (const p of parts) {
            out.push({ partition: p, baseOffset: -1, count: byPartition.get(p)!.length });
          }
          continue;
        }
        const r = await conn.request(ProduceRequest, ProduceResponse, body, {
          extraTimeoutMs: this.opts.timeoutMs,
        });
        for (const t of r.responses) {
          for (const pr of t.partitionResponses) {
            if (pr.errorCode === 0) {
              out.push({
                partition: pr.index,
                baseOffset: pr.baseOffset,
                count: byPartition.get(pr.index)!.length,
              });
            } else if (RETRIABLE_CODES.has(pr.errorCode) && attempt < 10) {
              retry.push(pr.index);
            } else {
              const why = pr.errorMessage ??
                pr.recordErrors?.[0]?.batchIndexErrorMessage;
              throw new KafkaError(
                pr.errorCode,
                `${errorName(pr.errorCode)}${
                  why ? `: ${why}` : ""
                } (produce to ${this.topic}-${pr.index})`,
              );
            }
          }
        }
      }
      if (retry.length > 0) {
        this.client.invalidateLeaders();
        await sleep(100 * (attempt + 1));
      }
      todo = retry;
    }
    return out.sort((a, b) => a.partition - b.partition);
  }
}
