/**
 * The transaction log in memory, for the transaction coordinator's unit tests; held to the
 * same contract as LogTxnStore by tests/unit/coordinator_logs_test.ts. Beyond the contract,
 * `failNext` makes the next appends throw `failCode`.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { decodeTxnKey, decodeTxnValue } from "../../src/txn/transaction_log.ts";
import { txnStateName } from "../../src/txn/transaction_metadata.ts";
import type { TxnLogStore } from "../../src/txn/transaction_state_manager.ts";

export interface TxnLogEntry {
  partition: number;
  key: Uint8Array;
  value: Uint8Array | null;
}

export class MemoryTxnLogStore implements TxnLogStore {
  records: TxnLogEntry[] = [];
  failNext = 0;
  failCode: number = ErrorCode.NOT_LEADER_OR_FOLLOWER;
  constructor(readonly partitions = 50) {}
  partitionCount(): number {
    return this.partitions;
  }
  append(partition: number, key: Uint8Array, value: Uint8Array | null): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new KafkaError(this.failCode, "injected"));
    }
    if (partition < 0 || partition >= this.partitions) {
      return Promise.reject(
        new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `partition ${partition} missing`),
      );
    }
    this.records.push({ partition, key, value });
    return Promise.resolve();
  }
  async *readAll(): AsyncIterable<TxnLogEntry> {
    for (let p = 0; p < this.partitions; p++) {
      for (const r of this.records) if (r.partition === p) yield r;
    }
  }
  /** State names written for one id, in order ("tombstone" for a null value). */
  states(id: string): string[] {
    return this.records.filter((r) => decodeTxnKey(r.key) === id).map((r) =>
      r.value === null ? "tombstone" : txnStateName(decodeTxnValue(r.value).txnState)
    );
  }
}
