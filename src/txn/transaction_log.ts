/**
 * The record format of `__transaction_state`, Kafka's own (TransactionLogKey and
 * TransactionLogValue from Kafka's coordinator message definitions), so the topic reads the
 * same as a Kafka broker's:
 *
 *   key   = int16 version (0) + TransactionLogKey   { transactional_id: string }
 *   value = int16 version (0 or 1) + TransactionLogValue
 *           { producer_id int64, producer_epoch int16, transaction_timeout_ms int32,
 *             transaction_status int8 (TxnState id), transaction_partitions
 *             [topic string, partition_ids []int32] (null when Empty),
 *             transaction_last_update_timestamp_ms int64, transaction_start_timestamp_ms
 *             int64 }  — v1 is flexible and adds tagged fields (previous/next producer id,
 *             client transaction version), read but not written here.
 *   value = null: tombstone (the transactional id expired).
 *
 * Values are written at version 0, as Kafka 3.x does. The last epoch (lastProducerEpoch) is
 * not part of the record, as in Kafka: it lives in memory only.
 * One record per batch, uncompressed, no producer id: the topic is compacted by key.
 */
import { ProtocolError } from "../../protocol/errors.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { codecFor, type MessageSchema } from "../../protocol/schema.ts";
import {
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  type TopicPartition,
  TxnState,
  type TxnTransitMetadata,
} from "./transaction_metadata.ts";

export const TRANSACTION_STATE_TOPIC = "__transaction_state";

export const TransactionLogKey: MessageSchema = {
  name: "TransactionLogKey",
  type: "data",
  validVersions: "0",
  flexibleVersions: "none",
  fields: [{ name: "transactionalId", type: "string", versions: "0" }],
};

export const TransactionLogValue: MessageSchema = {
  name: "TransactionLogValue",
  type: "data",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    { name: "producerId", type: "int64", versions: "0+" },
    {
      name: "previousProducerId",
      type: "int64",
      versions: "1+",
      taggedVersions: "1+",
      tag: 0,
      default: "-1",
    },
    {
      name: "nextProducerId",
      type: "int64",
      versions: "1+",
      taggedVersions: "1+",
      tag: 1,
      default: "-1",
    },
    { name: "producerEpoch", type: "int16", versions: "0+" },
    { name: "transactionTimeoutMs", type: "int32", versions: "0+" },
    { name: "transactionStatus", type: "int8", versions: "0+" },
    {
      name: "transactionPartitions",
      type: "[]PartitionsSchema",
      versions: "0+",
      nullableVersions: "0+",
      fields: [
        { name: "topic", type: "string", versions: "0+" },
        { name: "partitionIds", type: "[]int32", versions: "0+" },
      ],
    },
    { name: "transactionLastUpdateTimestampMs", type: "int64", versions: "0+" },
    { name: "transactionStartTimestampMs", type: "int64", versions: "0+" },
    {
      name: "clientTransactionVersion",
      type: "int16",
      versions: "1+",
      taggedVersions: "1+",
      tag: 2,
      default: "0",
    },
  ],
};

const VALUE_VERSION = 0;

export function encodeTxnKey(transactionalId: string): Uint8Array {
  const w = new Writer(16 + transactionalId.length * 3);
  w.int16(0);
  codecFor(TransactionLogKey, 0).encode(w, { transactionalId });
  return w.finishCopy();
}

export function decodeTxnKey(key: Uint8Array): string {
  const r = new Reader(key);
  const version = r.int16();
  if (version !== 0) throw new ProtocolError(`unknown transaction log key version ${version}`);
  return codecFor(TransactionLogKey, 0).decode(r).transactionalId as string;
}

/** Groups partitions by topic, sorted, as Kafka writes them. */
function partitionsByTopic(tps: TopicPartition[]): { topic: string; partitionIds: number[] }[] {
  const by = new Map<string, number[]>();
  for (const tp of tps) {
    let list = by.get(tp.topic);
    if (!list) by.set(tp.topic, list = []);
    list.push(tp.partition);
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map((
    [topic, ids],
  ) => ({ topic, partitionIds: ids.sort((a, b) => a - b) }));
}

export function encodeTxnValue(t: TxnTransitMetadata): Uint8Array {
  if (t.txnState === TxnState.PrepareEpochFence) {
    throw new Error("PrepareEpochFence is never written to the transaction log");
  }
  if (t.txnState === TxnState.Empty && t.topicPartitions.length > 0) {
    throw new Error("an Empty transaction cannot have partitions");
  }
  const w = new Writer(64);
  w.int16(VALUE_VERSION);
  codecFor(TransactionLogValue, VALUE_VERSION).encode(w, {
    producerId: t.producerId,
    producerEpoch: t.producerEpoch,
    transactionTimeoutMs: t.txnTimeoutMs,
    transactionStatus: t.txnState,
    transactionPartitions: t.txnState === TxnState.Empty
      ? null
      : partitionsByTopic(t.topicPartitions),
    transactionLastUpdateTimestampMs: t.txnLastUpdateTimestamp,
    transactionStartTimestampMs: t.txnStartTimestamp,
  });
  return w.finishCopy();
}

export function decodeTxnValue(value: Uint8Array): TxnTransitMetadata {
  const r = new Reader(value);
  const version = r.int16();
  if (version < 0 || version > 1) {
    throw new ProtocolError(`unknown transaction log value version ${version}`);
  }
  const m = codecFor(TransactionLogValue, version).decode(r);
  const state = m.transactionStatus as number;
  if (state < 0 || state > TxnState.PrepareEpochFence) {
    throw new ProtocolError(`unknown transaction status ${state}`);
  }
  const topicPartitions: TopicPartition[] = [];
  for (const p of (m.transactionPartitions ?? []) as { topic: string; partitionIds: number[] }[]) {
    for (const partition of p.partitionIds) topicPartitions.push({ topic: p.topic, partition });
  }
  return {
    producerId: m.producerId,
    lastProducerId: version >= 1 ? m.previousProducerId : NO_PRODUCER_ID,
    producerEpoch: m.producerEpoch,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    txnTimeoutMs: m.transactionTimeoutMs,
    txnState: state as TxnState,
    topicPartitions,
    txnStartTimestamp: m.transactionStartTimestampMs,
    txnLastUpdateTimestamp: m.transactionLastUpdateTimestampMs,
  };
}
