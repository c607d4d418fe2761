/**
 * What an append is asked to do and what it reports back, after Kafka's LogAppendInfo: the
 * offsets assigned (or, for a retried idempotent batch, the original ones), the broker time
 * stamped and the log start offset the Produce response carries.
 */

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker time stamped on the batches, -1 for CreateTime topics. */
  logAppendTime: number;
  logStartOffset: number;
  /** True when the batch was a retry already in the log; offsets are the original ones. */
  duplicate: boolean;
  recordCount: number;
}

export interface AppendOptions {
  /** Broker clock for LogAppendTime and rolling (tests inject it). */
  now?: number;
  /**
   * Who is writing: "client" appends (Produce) are fully validated and may not contain
   * control batches; "coordinator" appends (transaction markers) skip the client checks.
   */
  origin?: "client" | "coordinator";
  /** Stamped into every batch's partitionLeaderEpoch (single node: 0). */
  leaderEpoch?: number;
}
