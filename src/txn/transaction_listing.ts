/**
 * DescribeTransactions and ListTransactions over the coordinator's cache: what
 * `kafka-transactions.sh describe` and `list` show, with Kafka's filters.
 */
import type { TransactionStateManager } from "./transaction_state_manager.ts";
import {
  type TopicPartition,
  type TransactionMetadata,
  TxnState,
  txnStateFromName,
  txnStateName,
} from "./transaction_metadata.ts";

export interface TransactionDescription {
  transactionalId: string;
  state: string;
  timeoutMs: number;
  startTimeMs: number;
  producerId: number;
  producerEpoch: number;
  partitions: TopicPartition[];
}

function description(md: TransactionMetadata): TransactionDescription {
  return {
    transactionalId: md.transactionalId,
    state: txnStateName(md.state),
    timeoutMs: md.txnTimeoutMs,
    startTimeMs: md.txnStartTimestamp,
    producerId: md.producerId,
    producerEpoch: md.producerEpoch,
    partitions: md.partitions,
  };
}

/** The id's transaction, or undefined when unknown (or expired). */
export function describeTransaction(
  stateManager: TransactionStateManager,
  transactionalId: string,
): TransactionDescription | undefined {
  const md = stateManager.get(transactionalId);
  if (!md || md.state === TxnState.Dead) return undefined;
  return description(md);
}

/** ListTransactions: filters as Kafka applies them; unknown state names are reported. */
export function listTransactions(
  stateManager: TransactionStateManager,
  now: number,
  stateFilters: string[],
  producerIdFilters: number[],
  durationFilterMs: number,
): { unknownStateFilters: string[]; transactions: TransactionDescription[] } {
  const unknownStateFilters: string[] = [];
  const states = new Set<TxnState>();
  for (const name of stateFilters) {
    const s = txnStateFromName(name);
    if (s === undefined) unknownStateFilters.push(name);
    else states.add(s);
  }
  const pids = new Set(producerIdFilters);
  const transactions: TransactionDescription[] = [];
  for (const md of stateManager.all()) {
    if (md.state === TxnState.Dead) continue;
    if (pids.size > 0 && !pids.has(md.producerId)) continue;
    if (stateFilters.length > 0 && !states.has(md.state)) continue;
    if (durationFilterMs >= 0 && now - md.txnStartTimestamp <= durationFilterMs) continue;
    transactions.push(description(md));
  }
  return { unknownStateFilters, transactions };
}
