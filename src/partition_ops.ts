/**
 * Everything a request may do to one partition, as named operations that run where the
 * partition's log is open. With Deno workers (src/workers/) each partition has one owning
 * worker; a handler on any worker calls
 * `replicaManager.partitionOp(topic, partition, name, args)`,
 * which runs the operation here directly when the partition is local and sends it to the
 * owner otherwise. Arguments and results are plain data (structured-clonable) so both paths
 * are the same code; errors travel as Kafka error codes.
 */
import { ErrorCode } from "../protocol/errors.ts";
import { forEachBatch, lastOffset } from "../protocol/record_batch.ts";
import { legacyOffsetsBefore } from "../storage/legacy_offsets.ts";
import type { AppendOptions, PartitionLog } from "../storage/partition_log.ts";
import { peekRecords, type PeekResult } from "./record_peek.ts";
import { currentLeaderEpoch, replicaLog } from "./replication/replica_log.ts";
import { type PartitionTiers, partitionTiers } from "./partition_tiers.ts";
import { bufferPool } from "./buffer_pool.ts";
import { errorCodeOf, errorMessageOf } from "./handlers/util.ts";
import { type RecordError, RecordValidationError } from "../storage/record_validation.ts";

export const EARLIEST = -2;
export const LATEST = -1;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL = -4;
export const LATEST_TIERED = -5;

const EMPTY = new Uint8Array(0);

/** The outcome of an append, as Produce reports it per partition. */
export interface AppendOutcome {
  errorCode: number;
  errorMessage: string | null;
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
  recordCount: number;
  duplicate: boolean;
  /** The last offset appended (or of the duplicate); what acks=all waits for. */
  lastOffset?: number;
  /** The records that failed the append (KIP-467), by index in their batch. */
  recordErrors?: RecordError[];
}

/** One partition's part of a Fetch response. */
export interface FetchOutcome {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** null: a cold-tier read did not finish within `remoteWaitMs` (it goes on in the owner). */
  records: Uint8Array | null;
  abortedTransactions: { producerId: number; firstOffset: number }[] | null;
  /**
   * The records are a non-empty fresh read of a local segment: they own their buffer, which
   * may be transferred and, once written out, pooled.
   */
  freshBuffer: boolean;
}

/** A partition's offsets, sizes and tiers (admin API, metrics, DescribeLogDirs). */
export interface PartitionStatus extends PartitionTiers {
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
  lastStableOffset: number;
  segmentCount: number;
}

/** Resolves to the read's result, or null if it takes longer than `ms` (it keeps running). */
function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  p.catch(() => {}); // a late failure is the retry's business
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Aborted transactions overlapping [fetchOffset, end of the returned batches). */
function abortedIn(log: PartitionLog, fetchOffset: number, records: Uint8Array) {
  let end = fetchOffset;
  forEachBatch(records, (_pos, h) => {
    end = lastOffset(h) + 1;
  });
  return log.abortedTransactions(fetchOffset, end).map((a) => ({
    producerId: a.producerId,
    firstOffset: a.firstOffset,
  }));
}

/** A producer with state on a partition, as DescribeProducers reports it. */
export interface ProducerSummary {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  currentTxnStartOffset: number;
}

/** The fetch op's arguments for one partition. */
export interface FetchOpArgs {
  offset: number;
  maxBytes: number;
  minOneBatch: boolean;
  committed: boolean;
  remoteWaitMs: number;
}

/**
 * The fetch op on an open log. A read of local segments is synchronous, so a Fetch of many
 * partitions (mostly empty, for a caught-up consumer) costs no promise per partition; only a
 * cold-tier read returns a promise. Nothing of `a` is kept, so a caller may reuse it.
 */
export function fetchPartition(
  log: PartitionLog,
  a: FetchOpArgs,
): FetchOutcome | Promise<FetchOutcome> {
  const out: FetchOutcome = {
    errorCode: 0,
    highWatermark: log.highWatermark,
    lastStableOffset: log.lastStableOffset,
    logStartOffset: log.logStartOffset,
    records: EMPTY,
    abortedTransactions: a.committed ? [] : null,
    freshBuffer: false,
  };
  const upperBound = a.committed ? out.lastStableOffset : out.highWatermark;
  const maxBytes = Math.max(a.maxBytes, 0);
  if (log.isRemoteOffset(a.offset)) {
    // The cold-tier read may go on past remoteWaitMs: it gets options of its own.
    const { offset, committed } = a;
    return within(
      log.read(offset, maxBytes, { minOneBatch: a.minOneBatch, upperBound }),
      a.remoteWaitMs,
    ).then(
      (records) => fetched(log, offset, committed, out, records, false),
      (e) => failed(log, out, e),
    );
  }
  // readLocal keeps nothing of its options: one object serves every synchronous read.
  LOCAL_READ.minOneBatch = a.minOneBatch;
  LOCAL_READ.upperBound = upperBound;
  try {
    return fetched(
      log,
      a.offset,
      a.committed,
      out,
      log.readLocal(a.offset, maxBytes, LOCAL_READ),
      true,
    );
  } catch (e) {
    return failed(log, out, e);
  }
}

const LOCAL_READ = { minOneBatch: false, upperBound: 0 };

function fetched(
  log: PartitionLog,
  offset: number,
  committed: boolean,
  out: FetchOutcome,
  records: Uint8Array | null,
  local: boolean,
): FetchOutcome {
  out.records = records;
  out.freshBuffer = records !== null && local && records.byteLength > 0;
  if (out.freshBuffer) FRESH_READS.add(records!.buffer);
  if (records && records.length > 0 && committed) {
    out.abortedTransactions = abortedIn(log, offset, records);
  }
  return out;
}

function failed(log: PartitionLog, out: FetchOutcome, e: unknown): FetchOutcome {
  out.errorCode = errorCodeOf(e, `fetch ${log.topic}-${log.partition}`);
  out.records = EMPTY;
  out.freshBuffer = false;
  return out;
}

/** What an operation may ask of the broker around the partition (the ReplicaManager). */
export interface PartitionOpHost {
  /** Whether a cold tier is configured (remote.log.storage.system.enable). */
  readonly remoteStorageEnabled: boolean;
}

/**
 * The operations, spelled out (the table below implements it): a named type keeps the
 * peer-call types (PartitionOpArgs, PartitionOpResult) explicit for JSR's type checks.
 */
export interface PartitionOps {
  append(
    host: PartitionOpHost,
    log: PartitionLog,
    a: { records: Uint8Array; opts?: AppendOptions },
  ): Promise<AppendOutcome>;
  fetch(
    host: PartitionOpHost,
    log: PartitionLog,
    a: {
      offset: number;
      maxBytes: number;
      minOneBatch: boolean;
      committed: boolean;
      remoteWaitMs: number;
    },
  ): Promise<FetchOutcome>;
  listOffset(
    host: PartitionOpHost,
    log: PartitionLog,
    a: { timestamp: number; committed: boolean },
  ): Promise<{ errorCode: number; offset: number; timestamp: number; leaderEpoch: number }>;
  legacyOffsets(
    host: PartitionOpHost,
    log: PartitionLog,
    a: { timestamp: number; maxNumOffsets: number; fromConsumer: boolean },
  ): Promise<number[]>;
  deleteRecordsBefore(
    host: PartitionOpHost,
    log: PartitionLog,
    a: { offset: number },
  ): Promise<number>;
  producers(
    host: PartitionOpHost,
    log: PartitionLog,
    a: Record<string, never>,
  ): Promise<ProducerSummary[]>;
  status(
    host: PartitionOpHost,
    log: PartitionLog,
    a: Record<string, never>,
  ): Promise<PartitionStatus>;
  peek(
    host: PartitionOpHost,
    log: PartitionLog,
    a: { offset?: number; limit?: number; maxBytes?: number },
  ): Promise<PeekResult>;
  endOffsetForEpoch(
    host: PartitionOpHost,
    log: PartitionLog,
    a: { epoch: number; currentEpoch: number },
  ): Promise<{ epoch: number; endOffset: number }>;
}

export const PARTITION_OPS: PartitionOps = {
  /**
   * Produce: validate and append record batches as received (see storage/partition_log.ts).
   * One `then` on the log's promise, no async frame: a request may carry a thousand of these.
   */
  append(
    _host: PartitionOpHost,
    log: PartitionLog,
    a: { records: Uint8Array; opts?: AppendOptions },
  ): Promise<AppendOutcome> {
    return log.append(a.records, a.opts).then((r) => ({
      errorCode: 0,
      errorMessage: null,
      baseOffset: r.baseOffset,
      logAppendTime: r.logAppendTime,
      logStartOffset: r.logStartOffset,
      recordCount: r.recordCount,
      duplicate: r.duplicate,
      lastOffset: r.lastOffset,
    }), (e) => ({
      errorCode: errorCodeOf(e, `append to ${log.topic}-${log.partition}`),
      errorMessage: errorMessageOf(e),
      baseOffset: -1,
      logAppendTime: -1,
      logStartOffset: log.logStartOffset,
      recordCount: 0,
      duplicate: false,
      ...(e instanceof RecordValidationError ? { recordErrors: e.recordErrors } : {}),
    }));
  },

  /** Fetch: whole batches from `offset`, up to the high watermark (or the LSO). */
  fetch(_host: PartitionOpHost, log: PartitionLog, a: FetchOpArgs): Promise<FetchOutcome> {
    return Promise.resolve(fetchPartition(log, a));
  },

  /** ListOffsets: one timestamp (or -1..-5 special) to an offset. */
  async listOffset(
    _host: PartitionOpHost,
    log: PartitionLog,
    a: { timestamp: number; committed: boolean },
  ): Promise<{ errorCode: number; offset: number; timestamp: number; leaderEpoch: number }> {
    const out = { errorCode: 0, offset: -1, timestamp: -1, leaderEpoch: -1 };
    try {
      const ts = a.timestamp;
      if (ts === EARLIEST) {
        out.offset = log.logStartOffset;
        out.leaderEpoch = 0;
      } else if (ts === EARLIEST_LOCAL) {
        out.offset = log.localLogStartOffset;
        out.leaderEpoch = 0;
      } else if (ts === LATEST) {
        out.offset = a.committed ? log.lastStableOffset : log.highWatermark;
        // Kafka answers the latest epoch of the epoch cache (clients validate with it later).
        out.leaderEpoch = currentLeaderEpoch(log) ?? 0;
      } else if (ts === LATEST_TIERED) {
        out.offset = log.highestOffsetInRemoteStorage;
        if (out.offset >= 0) out.leaderEpoch = 0;
      } else if (ts < 0 && ts !== MAX_TIMESTAMP) {
        out.errorCode = ErrorCode.INVALID_REQUEST;
      } else {
        const m = ts === MAX_TIMESTAMP
          ? await log.maxTimestampAndOffset()
          : await log.offsetForTimestamp(ts);
        if (m) {
          out.offset = m.offset;
          out.timestamp = m.timestamp;
          out.leaderEpoch = 0;
        }
      }
    } catch (e) {
      out.errorCode = errorCodeOf(e, `list offsets ${log.topic}-${log.partition}`);
    }
    return out;
  },

  /** ListOffsets v0: up to `maxNumOffsets` segment-granular offsets (storage/legacy_offsets.ts). */
  legacyOffsets(
    _host: PartitionOpHost,
    log: PartitionLog,
    a: { timestamp: number; maxNumOffsets: number; fromConsumer: boolean },
  ): Promise<number[]> {
    return Promise.resolve(
      legacyOffsetsBefore(
        log.segmentTimes(),
        log,
        a.timestamp,
        a.maxNumOffsets,
        Date.now(),
        a.fromConsumer,
      ),
    );
  },

  /** DeleteRecords: moves the log start offset; returns the new low watermark. */
  deleteRecordsBefore(
    _host: PartitionOpHost,
    log: PartitionLog,
    a: { offset: number },
  ): Promise<number> {
    return log.deleteRecordsBefore(a.offset);
  },

  /** DescribeProducers: the idempotent and transactional producers with state here. */
  producers(
    _host: PartitionOpHost,
    log: PartitionLog,
    _a: Record<string, never>,
  ): Promise<ProducerSummary[]> {
    return Promise.resolve(
      log.producerState.activeProducers().map((p) => ({
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        lastSequence: p.batches.length > 0 ? p.batches[p.batches.length - 1].lastSeq : -1,
        lastTimestamp: p.lastTimestamp,
        coordinatorEpoch: p.coordinatorEpoch,
        currentTxnStartOffset: p.currentTxnFirstOffset,
      })),
    );
  },

  /** Offsets, sizes and tiers. */
  status(
    host: PartitionOpHost,
    log: PartitionLog,
    _a: Record<string, never>,
  ): Promise<PartitionStatus> {
    const tiers = partitionTiers(log, host.remoteStorageEnabled);
    return Promise.resolve({
      logStartOffset: log.logStartOffset,
      highWatermark: log.highWatermark,
      logEndOffset: log.logEndOffset,
      lastStableOffset: log.lastStableOffset,
      segmentCount: log.segmentCount,
      ...tiers,
    });
  },

  /** The admin API's record peek. */
  peek(
    _host: PartitionOpHost,
    log: PartitionLog,
    a: { offset?: number; limit?: number; maxBytes?: number },
  ): Promise<PeekResult> {
    return peekRecords(log, a);
  },

  /**
   * OffsetForLeaderEpoch: the leader epoch cache's end offset for an epoch. A cache with no
   * entry (an empty log, or a leader that never assigned one: no replication here) answers
   * as Kafka's leader does, whose cache starts `currentEpoch` at the log end when it leads.
   */
  endOffsetForEpoch(
    _host: PartitionOpHost,
    log: PartitionLog,
    a: { epoch: number; currentEpoch: number },
  ): Promise<{ epoch: number; endOffset: number }> {
    const l = replicaLog(log);
    if (l.leaderEpochCache.latestEpoch < 0 && a.epoch >= 0 && a.epoch <= a.currentEpoch) {
      return Promise.resolve({ epoch: a.epoch, endOffset: l.logEndOffset });
    }
    const r = l.endOffsetForEpoch(a.epoch);
    return Promise.resolve({ epoch: r.epoch, endOffset: r.endOffset });
  },
};

export type PartitionOpName = keyof PartitionOps;
export type PartitionOpArgs<K extends PartitionOpName> = Parameters<PartitionOps[K]>[2];
export type PartitionOpResult<K extends PartitionOpName> = Awaited<ReturnType<PartitionOps[K]>>;

/**
 * Buffers read from local segments for one fetch: nothing else refers to them, so they may be
 * transferred to another worker rather than copied (cold-tier reads may share a cache's).
 */
const FRESH_READS = new WeakSet<ArrayBufferLike>();

/** Whether `buf` is a fresh read that only one response refers to (see FRESH_READS). */
export function isFreshRead(buf: ArrayBufferLike): boolean {
  return FRESH_READS.has(buf);
}

/** Marks a fresh read that arrived from another worker (transferred: now only ours). */
export function markFreshRead(buf: ArrayBufferLike): void {
  FRESH_READS.add(buf);
}

/**
 * The response holding a fresh read has been written: its buffer goes back to the pool (and
 * stops counting as a fresh read, as the pool will hand it out for other uses).
 */
export function releaseFreshRead(buf: ArrayBufferLike): void {
  if (FRESH_READS.delete(buf)) bufferPool.give(buf);
}

/** Buffers an op's result can hand over instead of copying (fresh reads of local segments). */
export function transferablesOf(name: PartitionOpName, result: unknown): ArrayBuffer[] {
  if (name !== "fetch") return [];
  const f = result as FetchOutcome;
  // Only reads of local segments own a fresh buffer; cold-tier reads may share a cache's.
  return f.freshBuffer ? [f.records!.buffer as ArrayBuffer] : [];
}
