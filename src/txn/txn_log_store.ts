/**
 * The coordinator's two ways into storage, for the broker:
 * - LogTxnStore: `__transaction_state`, an internal compacted topic in the same log storage.
 *   Created on first write (Kafka creates it on the first FindCoordinator for a transaction)
 *   with `transaction.state.log.num.partitions` partitions and
 *   `transaction.state.log.segment.bytes` segments; an existing topic's partition count wins,
 *   as in Kafka. One record per batch, appended with origin "coordinator".
 * - LogMarkerWriter: transaction markers, i.e. control batches (attributes transactional +
 *   control, one record: key = version 0 + type, value = version 0 + coordinator epoch) with
 *   the producer's id and epoch, appended with origin "coordinator" so the partition's
 *   producer state closes the transaction and the last stable offset moves.
 */
import { currentLeaderEpoch } from "../replication/replica_log.ts";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { forEachBatch, isControl, totalSize } from "../../protocol/record_batch.ts";
import {
  ControlType,
  decodeRecords,
  encodeRecordBatch,
  endTxnMarker,
} from "../../protocol/records.ts";
import type { InternalTopicHost } from "../internal_topic.ts";
import type { TxnMarkerWriter } from "./transaction_coordinator.ts";
import { TRANSACTION_STATE_TOPIC } from "./transaction_log.ts";
import type { TopicPartition } from "./transaction_metadata.ts";
import type { TxnLogStore } from "./transaction_state_manager.ts";

const LOAD_READ_BYTES = 4 * 1024 * 1024;

export class LogTxnStore implements TxnLogStore {
  private ready?: Promise<void>;

  constructor(
    private readonly host: InternalTopicHost,
    private readonly numPartitions: number,
    private readonly segmentBytes: number,
  ) {}

  partitionCount(): number {
    return this.host.topic(TRANSACTION_STATE_TOPIC)?.partitions ?? this.numPartitions;
  }

  /** Creates the topic unless it exists (once; a failure is retried by the next call). */
  ensureTopic(): Promise<void> {
    this.ready ??= (async () => {
      if (this.host.topic(TRANSACTION_STATE_TOPIC)) return;
      try {
        // The broker creates it as an internal topic (src/internal_topic.ts).
        await this.host.createTopic(TRANSACTION_STATE_TOPIC, this.numPartitions, []);
      } catch (e) {
        if (!(e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw e;
      }
    })();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  async append(partition: number, key: Uint8Array, value: Uint8Array | null): Promise<void> {
    await this.ensureTopic();
    const log = this.host.partition(TRANSACTION_STATE_TOPIC, partition);
    if (!log) {
      throw new KafkaError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `${TRANSACTION_STATE_TOPIC}-${partition} missing`,
      );
    }
    const batch = encodeRecordBatch({ records: [{ key, value, timestamp: Date.now() }] });
    const appended = await log.append(batch, {
      origin: "coordinator",
      leaderEpoch: currentLeaderEpoch(log),
    });
    await this.host.awaitReplication?.(TRANSACTION_STATE_TOPIC, partition, appended.lastOffset + 1);
  }

  async *readAll(): AsyncIterable<
    { partition: number; key: Uint8Array; value: Uint8Array | null }
  > {
    const t = this.host.topic(TRANSACTION_STATE_TOPIC);
    if (!t) return;
    for (let p = 0; p < t.partitions; p++) yield* this.readPartition(p);
  }

  async *readPartition(p: number): AsyncIterable<
    { partition: number; key: Uint8Array; value: Uint8Array | null }
  > {
    const log = this.host.partition(TRANSACTION_STATE_TOPIC, p);
    if (!log) return;
    let offset = log.logStartOffset;
    const end = log.logEndOffset;
    while (offset < end) {
      const buf = await log.read(offset, LOAD_READ_BYTES, { minOneBatch: true });
      if (buf.length === 0) break;
      const out: { partition: number; key: Uint8Array; value: Uint8Array | null }[] = [];
      let next = offset;
      forEachBatch(buf, (pos, h) => {
        next = h.baseOffset + h.lastOffsetDelta + 1;
        if (isControl(h)) return;
        const { records } = decodeRecords(buf.subarray(pos, pos + totalSize(h)));
        for (const r of records) {
          if (h.baseOffset + r.offsetDelta < offset || r.key === null) continue;
          out.push({ partition: p, key: r.key.slice(), value: r.value?.slice() ?? null });
        }
      });
      yield* out;
      if (next <= offset) break;
      offset = next;
    }
  }
}

/** Where markers go: any partition, wherever its log is open (with workers, its owner). */
export interface MarkerHost {
  hasPartition(topic: string, partition: number): boolean;
  /** Appends a control batch as the coordinator; throws a KafkaError on failure. */
  appendMarker(topic: string, partition: number, batch: Uint8Array): Promise<void>;
}

/** One COMMIT or ABORT marker of a producer as a control batch, ready to append. */
export function endTxnMarkerBatch(
  producerId: number,
  producerEpoch: number,
  commit: boolean,
  coordinatorEpoch: number,
): Uint8Array {
  const { key, value } = endTxnMarker(
    commit ? ControlType.COMMIT : ControlType.ABORT,
    coordinatorEpoch,
  );
  return encodeRecordBatch({
    isControl: true,
    isTransactional: true,
    producerId,
    producerEpoch,
    baseSequence: -1,
    records: [{ key, value, timestamp: Date.now() }],
  });
}

/** Writes markers into the broker's partition logs. */
export class LogMarkerWriter implements TxnMarkerWriter {
  constructor(private readonly host: MarkerHost) {}

  async writeMarker(
    tp: TopicPartition,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<boolean> {
    if (!this.host.hasPartition(tp.topic, tp.partition)) return false; // deleted since added
    const batch = endTxnMarkerBatch(producerId, producerEpoch, commit, coordinatorEpoch);
    try {
      await this.host.appendMarker(tp.topic, tp.partition, batch);
    } catch (e) {
      // The topic was deleted while the marker waited for the partition's append queue.
      if (!this.host.hasPartition(tp.topic, tp.partition)) return false;
      throw e;
    }
    return true;
  }
}
