/**
 * The transaction coordinator's way to its markers on every broker (Kafka's
 * TransactionMarkerChannelManager): a partition this broker leads gets its marker appended
 * here; one led by another broker gets it through a WriteTxnMarkers request to that broker,
 * over the project's own client (src/client/). Requests to one broker are batched: the
 * markers queued in one turn of the event loop go out as one request, one entry per
 * producer.
 *
 * A retriable answer (not the leader any more, no leader yet, the broker unreachable, ...)
 * rejects the write, and the coordinator retries it with a backoff, asking Leadership again,
 * until the marker is written: only then is the transaction completed. As in Kafka, a
 * partition whose topic is gone needs no marker, and UNSUPPORTED_FOR_MESSAGE_FORMAT (an old
 * log format) drops the partition from the transaction.
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import {
  WriteTxnMarkersRequest,
  type WriteTxnMarkersRequestWritableTxnMarker,
  WriteTxnMarkersResponse,
} from "../../protocol/messages/mod.ts";
import type { BrokerConnections } from "../cluster/broker_connections.ts";
import type { Leadership } from "../cluster/leadership.ts";
import { log } from "../log.ts";
import type { TxnMarkerWriter } from "./transaction_coordinator.ts";
import type { TopicPartition } from "./transaction_metadata.ts";

export interface TxnMarkerChannelOptions {
  /** Whether the topic still exists anywhere (a deleted topic needs no marker). */
  partitionExists(topic: string, partition: number): boolean;
}

interface QueuedMarker {
  tp: TopicPartition;
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  resolve(errorCode: number): void;
  reject(e: Error): void;
}

/** Markers waiting to go to one broker. */
interface Destination {
  nodeId: number;
  queue: QueuedMarker[];
  flushing: boolean;
}

export class TxnMarkerChannelManager implements TxnMarkerWriter {
  private readonly destinations = new Map<number, Destination>();
  private closed = false;

  constructor(
    private readonly local: TxnMarkerWriter,
    private readonly leadership: Leadership,
    private readonly connections: BrokerConnections,
    private readonly opts: TxnMarkerChannelOptions,
  ) {}

  async writeMarker(
    tp: TopicPartition,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<boolean> {
    const leader = this.leadership.leaderOf(tp.topic, tp.partition);
    // Unknown to the metadata (deleted) or led here: the local writer knows what to do.
    if (!leader || leader.leaderId === this.leadership.localNodeId) {
      return this.local.writeMarker(tp, producerId, producerEpoch, commit, coordinatorEpoch);
    }
    if (!this.opts.partitionExists(tp.topic, tp.partition)) return false;
    if (leader.leaderId < 0) {
      throw new KafkaError(
        ErrorCode.LEADER_NOT_AVAILABLE,
        `${tp.topic}-${tp.partition} has no leader`,
      );
    }
    const code = await this.sendRemote(leader.leaderId, {
      tp,
      producerId,
      producerEpoch,
      commit,
      coordinatorEpoch,
    });
    switch (code) {
      case ErrorCode.NONE:
        return true;
      case ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT:
      case ErrorCode.UNSUPPORTED_VERSION:
        log.warn(
          `${tp.topic}-${tp.partition} cannot take transaction markers (${errorName(code)}); ` +
            `it is dropped from the transaction of producer ${producerId}`,
        );
        return true;
      case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
        if (!this.opts.partitionExists(tp.topic, tp.partition)) return false;
        break;
    }
    throw new KafkaError(
      code,
      `broker ${leader.leaderId} answered ${errorName(code)} for the marker of producer ` +
        `${producerId} on ${tp.topic}-${tp.partition}`,
    );
  }

  /** Queued markers fail (the coordinator is closing; its restart completes them). */
  close(): void {
    this.closed = true;
    for (const d of this.destinations.values()) {
      for (const q of d.queue.splice(0)) q.reject(new Error("transaction coordinator closed"));
    }
    this.destinations.clear();
  }

  private sendRemote(
    nodeId: number,
    m: Omit<QueuedMarker, "resolve" | "reject">,
  ): Promise<number> {
    if (this.closed) return Promise.reject(new Error("transaction coordinator closed"));
    let d = this.destinations.get(nodeId);
    if (!d) this.destinations.set(nodeId, d = { nodeId, queue: [], flushing: false });
    const dest = d;
    return new Promise<number>((resolve, reject) => {
      dest.queue.push({ ...m, resolve, reject });
      if (!dest.flushing) {
        dest.flushing = true;
        setTimeout(() => this.flush(dest), 0);
      }
    });
  }

  /** Sends everything queued for `d`, one request at a time, each producer once a request. */
  private async flush(d: Destination): Promise<void> {
    try {
      while (d.queue.length > 0 && !this.closed) {
        const batch: QueuedMarker[] = [];
        const later: QueuedMarker[] = [];
        const producers = new Map<number, QueuedMarker>();
        for (const q of d.queue.splice(0)) {
          const first = producers.get(q.producerId);
          const same = first && first.producerEpoch === q.producerEpoch &&
            first.commit === q.commit && first.coordinatorEpoch === q.coordinatorEpoch;
          if (first && !same) later.push(q);
          else {
            producers.set(q.producerId, first ?? q);
            batch.push(q);
          }
        }
        d.queue.unshift(...later);
        await this.sendBatch(d, batch);
      }
    } finally {
      d.flushing = false;
      if (d.queue.length > 0 && !this.closed) {
        d.flushing = true;
        setTimeout(() => this.flush(d), 0);
      }
    }
  }

  private async sendBatch(d: Destination, batch: QueuedMarker[]): Promise<void> {
    const markers = new Map<number, WriteTxnMarkersRequestWritableTxnMarker>();
    for (const q of batch) {
      let m = markers.get(q.producerId);
      if (!m) {
        markers.set(
          q.producerId,
          m = {
            producerId: q.producerId,
            producerEpoch: q.producerEpoch,
            transactionResult: q.commit,
            topics: [],
            coordinatorEpoch: q.coordinatorEpoch,
          },
        );
      }
      let t = m.topics.find((x) => x.name === q.tp.topic);
      if (!t) m.topics.push(t = { name: q.tp.topic, partitionIndexes: [] });
      if (!t.partitionIndexes.includes(q.tp.partition)) t.partitionIndexes.push(q.tp.partition);
    }
    try {
      const conn = await this.connections.get(d.nodeId);
      const resp = await conn.request(WriteTxnMarkersRequest, WriteTxnMarkersResponse, {
        markers: [...markers.values()],
      });
      const codes = new Map<string, number>();
      for (const m of resp.markers) {
        for (const t of m.topics) {
          for (const p of t.partitions) {
            codes.set(`${m.producerId}\u0000${t.name}\u0000${p.partitionIndex}`, p.errorCode);
          }
        }
      }
      for (const q of batch) {
        const code = codes.get(`${q.producerId}\u0000${q.tp.topic}\u0000${q.tp.partition}`);
        if (code === undefined) {
          q.reject(
            new KafkaError(
              ErrorCode.UNKNOWN_SERVER_ERROR,
              `broker ${d.nodeId} gave no answer for ${q.tp.topic}-${q.tp.partition}`,
            ),
          );
        } else q.resolve(code);
      }
    } catch (e) {
      // Unreachable, closed or timed out: the connection is dropped and the writes retried.
      if (!(e instanceof KafkaError)) this.connections.drop(d.nodeId);
      for (const q of batch) q.reject(e as Error);
    }
  }
}
