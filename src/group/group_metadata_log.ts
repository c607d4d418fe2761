/**
 * The internal compacted topic `__consumer_offsets`: where the group coordinator writes
 * committed offsets and group metadata (records from coordinator_records.ts) and from which
 * it rebuilds its state when the broker starts.
 *
 * Like Kafka, a group lives on partition `abs(groupId.hashCode()) % partitions` (Java's
 * String.hashCode), so each group's records are totally ordered in one partition. The topic
 * is created on the first write (Kafka creates it on the first FindCoordinator) with
 * `cleanup.policy=compact`, `offsets.topic.segment.bytes` segments and
 * `offsets.topic.num.partitions` partitions (src/internal_topic.ts; a start with another count
 * than the existing topic's is refused). Writes go through PartitionLog.append, so a
 * commit is acknowledged only once its batch is in the log (durable exactly as produced data
 * is: see README "Durability").
 */
import { currentLeaderEpoch } from "../replication/replica_log.ts";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  ControlType,
  controlType,
  decodeRecords,
  encodeRecordBatch,
} from "../../protocol/records.ts";
import type { PartitionLog } from "../../storage/partition_log.ts";
import { type InternalTopicHost, partitionFor } from "../internal_topic.ts";

export const GROUP_METADATA_TOPIC = "__consumer_offsets";
const LOAD_READ_BYTES = 4 * 1024 * 1024;

/** One key/value pair for the log; a null value is a tombstone. */
export interface LogRecord {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** How a batch is appended (TxnOffsetCommit: one transactional batch of the producer). */
export interface CoordinatorAppendOptions {
  /** Written as a transactional batch of this producer (sequence -1, as Kafka does). */
  transactional?: { producerId: number; producerEpoch: number };
  /**
   * Called synchronously right before the batch is enqueued to its partition (nothing can
   * come between this call and the append in the partition's order), with that partition.
   * A code other than NONE cancels the append, which rejects with a KafkaError of that code.
   */
  beforeAppend?(partition: number): number;
}

/**
 * Where the coordinator persists records (the topic in the broker, memory in unit tests).
 * Implementations must call `opts.beforeAppend` as documented there.
 */
export interface CoordinatorLog {
  /** Appends `records` of one group, resolving once they are in the log. */
  append(groupId: string, records: LogRecord[], opts?: CoordinatorAppendOptions): Promise<void>;
  /**
   * Calls `fn` for every stored record, in log order per partition, with the producer id of a
   * transactional batch (-1 otherwise), and `onMarker` for every transaction marker.
   */
  load(
    fn: (key: Uint8Array, value: Uint8Array | null, producerId: number) => void,
    onMarker?: (producerId: number, commit: boolean) => void,
  ): Promise<void>;
  /** As load, for one partition (a coordinator that gained it, in cluster mode). */
  loadPartition?(
    partition: number,
    fn: (key: Uint8Array, value: Uint8Array | null, producerId: number) => void,
    onMarker?: (producerId: number, commit: boolean) => void,
  ): Promise<void>;
  /** The partitions of the log (the topic's, else the configured count). */
  partitionCount?(): number;
}

export class GroupMetadataLog implements CoordinatorLog {
  private ready?: Promise<number>;

  constructor(private readonly host: InternalTopicHost, private readonly numPartitions: number) {}

  /** Partition count once the topic exists (creating it on first call). */
  private ensureTopic(): Promise<number> {
    this.ready ??= (async () => {
      const existing = this.host.topic(GROUP_METADATA_TOPIC);
      if (existing) return existing.partitions;
      try {
        // The broker creates it as an internal topic (src/internal_topic.ts).
        await this.host.createTopic(GROUP_METADATA_TOPIC, this.numPartitions, []);
      } catch (e) {
        if (!(e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw e;
      }
      const t = this.host.topic(GROUP_METADATA_TOPIC);
      if (!t) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, "offsets topic missing");
      return t.partitions;
    })();
    // A failed creation is retried by the next write instead of failing every later one.
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  async append(
    groupId: string,
    records: LogRecord[],
    opts: CoordinatorAppendOptions = {},
  ): Promise<void> {
    if (records.length === 0) return;
    // Deleted by an admin since it was created: create it again.
    if (this.ready && !this.host.topic(GROUP_METADATA_TOPIC)) this.ready = undefined;
    const partitions = await this.ensureTopic();
    const p = partitionFor(groupId, partitions);
    const log = this.host.partition(GROUP_METADATA_TOPIC, p);
    if (!log) {
      throw new KafkaError(
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        `${GROUP_METADATA_TOPIC}-${p} missing`,
      );
    }
    const now = Date.now();
    const txn = opts.transactional;
    const batch = encodeRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value, timestamp: now })),
      ...(txn
        ? {
          isTransactional: true,
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          baseSequence: -1,
        }
        : {}),
    });
    const code = opts.beforeAppend?.(p) ?? ErrorCode.NONE;
    if (code !== ErrorCode.NONE) throw new KafkaError(code, "append cancelled");
    const appended = await log.append(batch, {
      origin: "coordinator",
      leaderEpoch: currentLeaderEpoch(log),
    });
    await this.host.awaitReplication?.(GROUP_METADATA_TOPIC, p, appended.lastOffset + 1);
  }

  /**
   * Records of transactional batches are passed with their producer id: the coordinator keeps
   * them pending until that producer's marker (COMMIT applies them, ABORT drops them; without
   * a marker by the end of the log the transaction is still open and they stay pending).
   */
  async load(
    fn: (key: Uint8Array, value: Uint8Array | null, producerId: number) => void,
    onMarker?: (producerId: number, commit: boolean) => void,
  ): Promise<void> {
    const t = this.host.topic(GROUP_METADATA_TOPIC);
    if (!t) return;
    this.ready = Promise.resolve(t.partitions);
    for (let p = 0; p < t.partitions; p++) {
      const log = this.host.partition(GROUP_METADATA_TOPIC, p);
      if (log) await replayPartition(log, fn, onMarker);
    }
  }

  async loadPartition(
    partition: number,
    fn: (key: Uint8Array, value: Uint8Array | null, producerId: number) => void,
    onMarker?: (producerId: number, commit: boolean) => void,
  ): Promise<void> {
    const log = this.host.partition(GROUP_METADATA_TOPIC, partition);
    if (log) await replayPartition(log, fn, onMarker);
  }

  partitionCount(): number {
    return this.host.topic(GROUP_METADATA_TOPIC)?.partitions ?? this.numPartitions;
  }
}

/** Feeds every record of one partition, from the log start to the log end, to `fn`. */
async function replayPartition(
  log: PartitionLog,
  fn: (key: Uint8Array, value: Uint8Array | null, producerId: number) => void,
  onMarker?: (producerId: number, commit: boolean) => void,
): Promise<void> {
  let offset = log.logStartOffset;
  const end = log.logEndOffset;
  while (offset < end) {
    const buf = await log.read(offset, LOAD_READ_BYTES, { minOneBatch: true });
    if (buf.length === 0) break;
    let pos = 0;
    let next = offset;
    while (pos + 12 <= buf.length) {
      const view = new DataView(buf.buffer, buf.byteOffset + pos, 12);
      const size = 12 + view.getInt32(8);
      if (pos + size > buf.length) break;
      const { header, records } = decodeRecords(buf.subarray(pos, pos + size));
      next = header.baseOffset + header.lastOffsetDelta + 1;
      const producerId = header.isTransactional ? header.producerId : -1;
      if (header.isControl) {
        const r = records[0];
        if (r && header.baseOffset + r.offsetDelta >= offset && producerId >= 0) {
          const type = controlType(r.key);
          if (type === ControlType.COMMIT || type === ControlType.ABORT) {
            onMarker?.(producerId, type === ControlType.COMMIT);
          }
        }
      } else {
        for (const r of records) {
          if (header.baseOffset + r.offsetDelta < offset || r.key === null) continue;
          fn(r.key, r.value, producerId);
        }
      }
      pos += size;
    }
    if (next <= offset) break;
    offset = next;
  }
}
