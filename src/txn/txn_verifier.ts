/**
 * Produce verification against a transaction coordinator on another broker (Kafka's
 * AddPartitionsToTxnManager, KIP-890 part 1): the partition's leader sends
 * AddPartitionsToTxn v4 with `verifyOnly` for the producer's partition to the broker that
 * coordinates the transactional id, and gets one error code back. Verifications queued for
 * one coordinator in one turn of the event loop go out as one request (one entry per
 * transactional id and producer).
 *
 * What cannot be asked (the coordinator not alive, unreachable, timed out, an answer without
 * the partition) is NOT_COORDINATOR or REQUEST_TIMED_OUT, which the produce path turns into
 * the retriable NOT_ENOUGH_REPLICAS, so the producer retries as Kafka's does.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  type AddPartitionsToTxnTransaction,
} from "../../protocol/messages/mod.ts";
import type { BrokerConnections } from "../cluster/broker_connections.ts";
import { log } from "../log.ts";

/** The first AddPartitionsToTxn version with `verifyOnly` and batched transactions. */
const VERIFY_ONLY_VERSION = 4;

interface Pending {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  topic: string;
  partition: number;
  resolve(code: number): void;
}

/** What the produce path needs of a verifier (tests give a scripted one). */
export interface RemoteTxnVerification {
  verify(
    coordinatorId: number,
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): Promise<number>;
}

export class TxnVerifier implements RemoteTxnVerification {
  private readonly queues = new Map<number, Pending[]>();

  constructor(private readonly connections: BrokerConnections) {}

  /**
   * The coordinator's answer for one partition of a producer's transaction: NONE when it is
   * in the ongoing transaction, else its error (INVALID_TXN_STATE, PRODUCER_FENCED,
   * INVALID_PRODUCER_ID_MAPPING, NOT_COORDINATOR, ...). Never rejects.
   */
  verify(
    coordinatorId: number,
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): Promise<number> {
    return new Promise((resolve) => {
      let q = this.queues.get(coordinatorId);
      if (!q) {
        this.queues.set(coordinatorId, q = []);
        setTimeout(() => this.flush(coordinatorId), 0);
      }
      q.push({ transactionalId, producerId, producerEpoch, topic, partition, resolve });
    });
  }

  private async flush(coordinatorId: number): Promise<void> {
    const batch = this.queues.get(coordinatorId) ?? [];
    this.queues.delete(coordinatorId);
    // One entry per transactional id; a second producer (id or epoch) for the same id waits
    // for the next request, as the entry carries one producer.
    const entries = new Map<string, { txn: AddPartitionsToTxnTransaction; of: Pending[] }>();
    const later: Pending[] = [];
    for (const p of batch) {
      const e = entries.get(p.transactionalId);
      if (e && (e.txn.producerId !== p.producerId || e.txn.producerEpoch !== p.producerEpoch)) {
        later.push(p);
        continue;
      }
      const entry = e ?? {
        txn: {
          transactionalId: p.transactionalId,
          producerId: p.producerId,
          producerEpoch: p.producerEpoch,
          verifyOnly: true,
          topics: [],
        },
        of: [],
      };
      entries.set(p.transactionalId, entry);
      entry.of.push(p);
      let t = entry.txn.topics.find((x) => x.name === p.topic);
      if (!t) entry.txn.topics.push(t = { name: p.topic, partitions: [] });
      if (!t.partitions.includes(p.partition)) t.partitions.push(p.partition);
    }
    for (const p of later) {
      this.verify(
        coordinatorId,
        p.transactionalId,
        p.producerId,
        p.producerEpoch,
        p.topic,
        p.partition,
      ).then(p.resolve);
    }
    if (entries.size === 0) return;
    const all = [...entries.values()].flatMap((e) => e.of);
    try {
      const conn = await this.connections.get(coordinatorId);
      const version = conn.versionFor(AddPartitionsToTxnRequest);
      if (version < VERIFY_ONLY_VERSION) {
        throw new KafkaError(
          ErrorCode.UNSUPPORTED_VERSION,
          `broker ${coordinatorId} cannot verify transactions (AddPartitionsToTxn v${version})`,
        );
      }
      const r = await conn.send(AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, version, {
        transactions: [...entries.values()].map((e) => e.txn),
      });
      const codes = new Map<string, number>();
      for (const t of r.resultsByTransaction) {
        for (const topic of t.topicResults) {
          for (const p of topic.resultsByPartition) {
            codes.set(
              `${t.transactionalId}\u0000${topic.name}\u0000${p.partitionIndex}`,
              p.partitionErrorCode,
            );
          }
        }
      }
      for (const p of all) {
        const code = codes.get(`${p.transactionalId}\u0000${p.topic}\u0000${p.partition}`);
        // A request-level error (v4+ has one) applies to every partition.
        p.resolve(r.errorCode !== ErrorCode.NONE ? r.errorCode : code ?? ErrorCode.NOT_COORDINATOR);
      }
    } catch (e) {
      if (!(e instanceof KafkaError)) this.connections.drop(coordinatorId);
      const code = e instanceof KafkaError && e.code === ErrorCode.LEADER_NOT_AVAILABLE
        ? ErrorCode.NOT_COORDINATOR
        : e instanceof KafkaError
        ? e.code
        : ErrorCode.REQUEST_TIMED_OUT;
      log.debug(
        `verifying transactions with broker ${coordinatorId} failed: ${(e as Error).message}`,
      );
      for (const p of all) p.resolve(code);
    }
  }
}
