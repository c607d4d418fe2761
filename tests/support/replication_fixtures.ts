/**
 * Test harness for replication: three (or more) in-process brokers over a real etcd, each
 * with its own data directory, that a test stops and starts again by node id, and whose
 * partition logs it reads directly (to compare replicas byte for byte); a replicated topic
 * written straight into the metadata store (its partition state records name the replicas);
 * acks-controlled produce over the project's own client.
 */
import { ProduceRequest, ProduceResponse } from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { BrokerConnection } from "../../src/client/connection.ts";
import { EtcdMetadataStore } from "../../src/cluster/etcd_store.ts";
import {
  jsonOf,
  partitionKey,
  type PartitionState,
  topicKey,
  type TopicRecord,
} from "../../src/cluster/cluster_records.ts";
import type { TxnOp } from "../../src/cluster/metadata_store.ts";
import { randomUuid } from "../../storage/log_manager.ts";
import type { PartitionLog } from "../../storage/partition_log.ts";
import type { EtcdServer } from "./etcd.ts";
import { testBroker } from "./helpers.ts";
import { until } from "./wait.ts";

type Handle = Awaited<ReturnType<typeof testBroker>>;

export class ReplicatedCluster {
  readonly brokers = new Map<number, Handle>();
  readonly dirs = new Map<number, string>();
  readonly prefix = `/tributary-repl-${crypto.randomUUID()}`;
  readonly store: EtcdMetadataStore;

  constructor(readonly etcd: EtcdServer, readonly config: Record<string, string | number> = {}) {
    this.store = new EtcdMetadataStore({ endpoints: [etcd.endpoint], prefix: this.prefix });
  }

  async start(id: number): Promise<Handle> {
    let dir = this.dirs.get(id);
    if (!dir) this.dirs.set(id, dir = await Deno.makeTempDir({ prefix: `tributary-r${id}-` }));
    const h = await testBroker({
      dataDir: dir,
      keepDir: true,
      config: {
        "etcd.endpoints": this.etcd.endpoint,
        "etcd.prefix": this.prefix,
        "node.id": id,
        "broker.session.timeout.ms": 3000,
        "broker.heartbeat.interval.ms": 500,
        "replica.fetch.wait.max.ms": 100,
        "replica.fetch.backoff.ms": 100,
        ...this.config,
      },
    });
    this.brokers.set(id, h);
    return h;
  }

  async stop(id: number): Promise<void> {
    await this.brokers.get(id)?.close();
    this.brokers.delete(id);
  }

  address(id: number): string {
    return this.brokers.get(id)!.address;
  }

  log(id: number, topic: string, p: number): PartitionLog | undefined {
    return this.brokers.get(id)?.broker.partition(topic, p);
  }

  /** Waits until every running broker sees all of them live. */
  async allLive(): Promise<void> {
    const n = this.brokers.size;
    await until(
      `${n} brokers live everywhere`,
      () =>
        [...this.brokers.values()].every((h) => h.broker.clusterNode!.cache.liveBrokers.size === n),
    );
  }

  /**
   * A topic whose partitions have the given replicas (the first leads), written as the
   * controller would; resolves once every running replica has its logs open.
   */
  async createTopic(
    name: string,
    replicas: number[][],
    configs: Record<string, string | number | boolean> = {},
  ): Promise<void> {
    const record: TopicRecord = {
      name,
      topicId: randomUuid(),
      partitions: replicas.length,
      configs,
    };
    const ops: TxnOp[] = [{ put: { key: topicKey(name), value: JSON.stringify(record) } }];
    replicas.forEach((r, p) => {
      const state: PartitionState = {
        leader: r[0],
        leaderEpoch: 0,
        replicas: r,
        isr: r,
        partitionEpoch: 0,
      };
      ops.push({ put: { key: partitionKey(name, p), value: JSON.stringify(state) } });
    });
    const r = await this.store.txn({ compare: [], success: ops });
    if (!r.succeeded) throw new Error("topic write failed");
    await until(
      `${name} open on its replicas`,
      () =>
        replicas.every((rs, p) =>
          rs.every((id) => !this.brokers.has(id) || this.log(id, name, p) !== undefined)
        ),
    );
  }

  async partitionState(topic: string, p: number): Promise<PartitionState> {
    const kv = await this.store.get(partitionKey(topic, p));
    return jsonOf<PartitionState>(kv!);
  }

  /** Waits until the store's ISR of `topic`-`p` is exactly `isr` (in any order). */
  async isrIs(topic: string, p: number, isr: number[]): Promise<PartitionState> {
    const want = [...isr].sort().join(",");
    let last: PartitionState | undefined;
    return await until(() => `ISR ${want} (last ${JSON.stringify(last)})`, async () => {
      last = await this.partitionState(topic, p);
      return [...last.isr].sort().join(",") === want ? last : undefined;
    });
  }

  /**
   * Moves leadership as the controller's election would: `leader` at the next leader epoch,
   * the record's partition epoch bumped, written only over the record as read.
   */
  async electLeader(topic: string, p: number, leader: number): Promise<PartitionState> {
    const key = partitionKey(topic, p);
    const kv = (await this.store.get(key))!;
    const s = jsonOf<PartitionState>(kv);
    const next = {
      ...s,
      leader,
      leaderEpoch: s.leaderEpoch + 1,
      partitionEpoch: s.partitionEpoch + 1,
    };
    const r = await this.store.txn({
      compare: [{ key, target: "modRevision", result: "equal", modRevision: kv.modRevision }],
      success: [{ put: { key, value: JSON.stringify(next) } }],
    });
    if (!r.succeeded) throw new Error(`${topic}-${p} changed meanwhile`);
    return next;
  }

  async close(): Promise<void> {
    for (const id of [...this.brokers.keys()]) await this.stop(id);
    await this.store.close();
    for (const d of this.dirs.values()) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
}

/** Every byte of a log, from its start to its end (whole batches, as stored). */
export function logBytes(log: PartitionLog): Uint8Array {
  const out: Uint8Array[] = [];
  let offset = log.logStartOffset;
  let size = 0;
  while (offset < log.logEndOffset) {
    const chunk = log.readLocal(offset, 1 << 20, { upperBound: log.logEndOffset });
    if (chunk.length === 0) break;
    out.push(chunk.slice());
    size += chunk.length;
    // The next batch starts after the last one read: its base offset + last offset delta + 1.
    let pos = 0;
    let next = offset;
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (pos + 61 <= chunk.length) {
      const base = Number(view.getBigInt64(pos));
      const len = view.getInt32(pos + 8);
      const lastDelta = view.getInt32(pos + 23);
      next = base + lastDelta + 1;
      pos += 12 + len;
    }
    offset = next;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of out) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/** One batch of `values` to `topic`-`p` with `acks`; the partition's answer. */
export async function produce(
  address: string,
  topic: string,
  p: number,
  values: string[],
  acks: number,
  timeoutMs = 10_000,
): Promise<{ errorCode: number; baseOffset: number }> {
  return (await producePartitions(address, topic, [p], () => values, acks, timeoutMs))[0];
}

/**
 * One Produce naming every partition of `parts`, each with one batch of `valuesOf(p)`: the
 * partitions' answers in the order of `parts` (one request, so acks=all waits on them all).
 */
export async function producePartitions(
  address: string,
  topic: string,
  parts: number[],
  valuesOf: (p: number) => string[],
  acks = -1,
  timeoutMs = 10_000,
): Promise<{ errorCode: number; baseOffset: number }[]> {
  const conn = await BrokerConnection.connect(address, { clientId: "repl-test" });
  try {
    const r = await conn.request(ProduceRequest, ProduceResponse, {
      transactionalId: null,
      acks,
      timeoutMs,
      topicData: [{
        name: topic,
        partitionData: parts.map((index) => ({
          index,
          records: encodeRecordBatch({ records: valuesOf(index).map((value) => ({ value })) }),
        })),
      }],
    });
    return r.responses[0].partitionResponses.map((pr) => ({
      errorCode: pr.errorCode,
      baseOffset: Number(pr.baseOffset),
    }));
  } finally {
    conn.close();
  }
}
