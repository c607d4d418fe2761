/**
 * Kafka's ReplicaFetcherThread (with AbstractFetcherThread's loop): one per source broker,
 * fetching every partition this broker follows there. Each round is one Fetch (v12: topic
 * names, `last_fetched_epoch`, diverging epochs) with `replica_id` = this broker,
 * `replica.fetch.wait.max.ms`, `replica.fetch.min.bytes`, `replica.fetch.response.max.bytes`
 * and `replica.fetch.max.bytes` per partition. Per partition in the answer:
 * - a diverging epoch: the log is truncated to where it and the leader agree (Kafka's
 *   truncateOnFetchResponse: the leader's end offset for the epoch, bounded by this log's own
 *   end offset for that epoch) and fetched again from there;
 * - records: appended as they are (appendAsFollower), then the follower's high watermark is
 *   min(leader's HW, own log end) and its log start follows the leader's;
 * - OFFSET_OUT_OF_RANGE (Kafka's handleOutOfRangeError, asking the leader with ListOffsets as
 *   a replica): ahead of the leader's end, the log is truncated to it; behind its log start,
 *   the log restarts empty there;
 * - NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH and the like: the
 *   partition waits (`replica.fetch.backoff.ms`) until the metadata changes.
 * A failed connection backs the whole fetcher off for `replica.fetch.backoff.ms`.
 */
import { ErrorCode, errorName } from "../../protocol/errors.ts";
import {
  FetchRequest,
  FetchResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
} from "../../protocol/messages/mod.ts";
import type { BrokerConnections } from "../cluster/broker_connections.ts";
import { errText, log } from "../log.ts";
import type { ReplicaLog } from "./replica_log.ts";

/** A partition this fetcher replicates. */
export interface FetchedPartition {
  topic: string;
  partition: number;
  /** The leader epoch this broker follows at (the request's current_leader_epoch). */
  leaderEpoch: number;
  log: ReplicaLog;
  /** No fetching before this time (an error backs the partition off). */
  delayedUntil: number;
  /** The leader answered it knows none of this log's epochs: fetch by offset only. */
  ignoreEpochs?: boolean;
}

export interface ReplicaFetcherSettings {
  nodeId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitionMaxBytes: number;
  backoffMs: number;
}

/** What the fetcher reports back to the replication manager. */
export interface ReplicaFetcherEvents {
  /** After records were appended or truncated here (the log moved). */
  onProgress?(fp: FetchedPartition): void;
}

const FETCH_VERSION = 12;
const EARLIEST = -2;
const LATEST = -1;

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

const sleep = (ms: number, signal: { wake?: () => void }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.wake = undefined;
      resolve();
    }
    signal.wake = done;
  });

export class ReplicaFetcher {
  readonly partitions = new Map<string, FetchedPartition>();
  private running = false;
  private stopped = false;
  private readonly signal: { wake?: () => void } = {};
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    readonly sourceId: number,
    private readonly connections: BrokerConnections,
    private readonly settings: ReplicaFetcherSettings,
    private readonly events: ReplicaFetcherEvents = {},
  ) {}

  /** Starts (or restarts) fetching a partition at `leaderEpoch`. */
  add(topic: string, partition: number, leaderEpoch: number, log: ReplicaLog): void {
    this.partitions.set(key(topic, partition), {
      topic,
      partition,
      leaderEpoch,
      log,
      delayedUntil: 0,
    });
    this.start();
    this.signal.wake?.();
  }

  remove(topic: string, partition: number): void {
    this.partitions.delete(key(topic, partition));
  }

  has(topic: string, partition: number): FetchedPartition | undefined {
    return this.partitions.get(key(topic, partition));
  }

  private start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.signal.wake?.();
    // Closing the connection ends a long poll in flight.
    this.connections.close();
    await this.loopDone;
  }

  /** Fetches while there is something to fetch; `running` drops in the same turn it ends. */
  private async loop(): Promise<void> {
    try {
      await this.fetchWhileAny();
    } finally {
      this.running = false;
    }
  }

  private async fetchWhileAny(): Promise<void> {
    while (!this.stopped && this.partitions.size > 0) {
      const now = Date.now();
      const ready = [...this.partitions.values()].filter((p) => p.delayedUntil <= now);
      if (ready.length === 0) {
        const next = Math.min(...[...this.partitions.values()].map((p) => p.delayedUntil));
        await sleep(Math.max(10, next - now), this.signal);
        continue;
      }
      try {
        await this.fetchOnce(ready);
      } catch (e) {
        if (this.stopped) return;
        log.info(
          `replica fetcher ${this.settings.nodeId} <- ${this.sourceId}: ${errText(e)}; ` +
            `backing off ${this.settings.backoffMs} ms`,
        );
        this.connections.drop(this.sourceId);
        await sleep(this.settings.backoffMs, this.signal);
      }
    }
  }

  /** One Fetch round for `ready` partitions. */
  private async fetchOnce(ready: FetchedPartition[]): Promise<void> {
    const s = this.settings;
    const byTopic = new Map<string, FetchedPartition[]>();
    for (const p of ready) {
      const list = byTopic.get(p.topic);
      if (list) list.push(p);
      else byTopic.set(p.topic, [p]);
    }
    const sent = new Map<string, { fp: FetchedPartition; fetchOffset: number }>();
    const topics = [...byTopic].map(([topic, parts]) => ({
      topic,
      partitions: parts.map((fp) => {
        const fetchOffset = fp.log.logEndOffset;
        sent.set(key(fp.topic, fp.partition), { fp, fetchOffset });
        const lastFetchedEpoch = fp.ignoreEpochs ? -1 : fp.log.leaderEpochCache.latestEpoch;
        return {
          partition: fp.partition,
          currentLeaderEpoch: fp.leaderEpoch,
          fetchOffset,
          lastFetchedEpoch,
          logStartOffset: fp.log.logStartOffset,
          partitionMaxBytes: s.partitionMaxBytes,
        };
      }),
    }));
    const conn = await this.connections.get(this.sourceId);
    const response = await conn.request(FetchRequest, FetchResponse, {
      replicaId: s.nodeId,
      replicaState: { replicaId: s.nodeId, replicaEpoch: -1 },
      maxWaitMs: s.maxWaitMs,
      minBytes: s.minBytes,
      maxBytes: s.maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics,
      forgottenTopicsData: [],
      rackId: "",
    }, { cap: FETCH_VERSION, extraTimeoutMs: s.maxWaitMs });
    if (response.errorCode !== 0) {
      throw new Error(`fetch failed: ${errorName(response.errorCode)}`);
    }
    for (const t of response.responses) {
      for (const pd of t.partitions) {
        const entry = sent.get(key(t.topic, pd.partitionIndex));
        if (!entry) continue;
        const { fp, fetchOffset } = entry;
        // Removed or re-added (a new epoch) while the fetch was out: its answer is stale.
        if (this.partitions.get(key(fp.topic, fp.partition)) !== fp) continue;
        if (fp.log.logEndOffset !== fetchOffset) continue;
        try {
          await this.processPartition(fp, fetchOffset, pd);
        } catch (e) {
          log.warn(
            `replica fetcher ${s.nodeId}: ${fp.topic}-${fp.partition} from ${this.sourceId}: ` +
              `${errText(e)}; backing off`,
          );
          fp.delayedUntil = Date.now() + s.backoffMs;
        }
      }
    }
  }

  private async processPartition(
    fp: FetchedPartition,
    fetchOffset: number,
    pd: FetchResponse["responses"][number]["partitions"][number],
  ): Promise<void> {
    const l = fp.log;
    switch (pd.errorCode) {
      case ErrorCode.NONE:
        break;
      case ErrorCode.OFFSET_OUT_OF_RANGE:
        await this.handleOutOfRange(fp);
        return;
      default:
        // Not the leader (any more), a fenced or unknown epoch, the partition gone: wait
        // for the metadata change that re-adds it.
        log.info(
          `replica fetcher ${this.settings.nodeId}: ${fp.topic}-${fp.partition} from ` +
            `${this.sourceId}: ${errorName(pd.errorCode)}; waiting for new metadata`,
        );
        fp.delayedUntil = Date.now() + this.settings.backoffMs;
        return;
    }
    const diverging = pd.divergingEpoch;
    if (diverging && diverging.endOffset < 0) {
      // The leader knows no epoch at or below ours (its log starts past all of them): go by
      // offsets alone from here on; an offset out of its range is handled as such.
      log.warn(
        `replica ${this.settings.nodeId}: ${fp.topic}-${fp.partition}: leader ${this.sourceId} ` +
          `knows no epoch up to ${fp.log.leaderEpochCache.latestEpoch}; fetching by offset`,
      );
      fp.ignoreEpochs = true;
      return;
    }
    if (diverging && diverging.epoch >= -1) {
      const offset = this.truncationOffset(l, diverging.epoch, diverging.endOffset);
      log.info(
        `replica ${this.settings.nodeId}: ${fp.topic}-${fp.partition} diverged from leader ` +
          `${this.sourceId} at epoch ${diverging.epoch}: truncating ${l.logEndOffset} -> ${offset}`,
      );
      if (offset < l.logEndOffset) await l.truncateTo(offset);
      // As Kafka's truncateTo at the log end: an epoch entry past the data (a leader that
      // was deposed before appending) goes, else the leader would answer the same again.
      else l.leaderEpochCache.truncateFromEnd(offset);
      this.events.onProgress?.(fp);
      return;
    }
    const records = pd.records;
    if (records && records.length > 0) {
      await l.appendAsFollower(records);
    }
    // Kafka's maybeUpdateHighWatermark: a follower's HW only moves forward (a new leader's
    // may lag behind what this replica already knew).
    const hw = Math.min(pd.highWatermark, l.logEndOffset);
    if (hw > l.highWatermark) l.updateHighWatermark(hw);
    if (pd.logStartOffset > l.logStartOffset && pd.logStartOffset <= l.logEndOffset) {
      await l.advanceLogStartOffset(pd.logStartOffset);
    }
    if (l.logEndOffset !== fetchOffset || (records?.length ?? 0) > 0) this.events.onProgress?.(fp);
  }

  /**
   * Kafka's getOffsetTruncationState: where this log agrees with the leader's answer
   * (`epoch`, `endOffset`): its own end of the largest epoch at most the leader's, bounded by
   * the leader's end offset when both know the epoch.
   */
  private truncationOffset(l: ReplicaLog, epoch: number, leaderEnd: number): number {
    if (epoch < 0) return Math.min(leaderEnd, l.logEndOffset);
    const mine = l.endOffsetForEpoch(epoch);
    if (mine.epoch < 0 || mine.endOffset < 0) return Math.min(leaderEnd, l.logEndOffset);
    if (mine.epoch !== epoch) return Math.min(mine.endOffset, l.logEndOffset);
    return Math.min(leaderEnd, mine.endOffset, l.logEndOffset);
  }

  /** One offset of the leader's (ListOffsets as a replica): EARLIEST or LATEST. */
  private async leaderOffset(fp: FetchedPartition, timestamp: number): Promise<number | null> {
    const conn = await this.connections.get(this.sourceId);
    const r = await conn.request(ListOffsetsRequest, ListOffsetsResponse, {
      replicaId: this.settings.nodeId,
      isolationLevel: 0,
      topics: [{
        name: fp.topic,
        partitions: [{
          partitionIndex: fp.partition,
          currentLeaderEpoch: fp.leaderEpoch,
          timestamp,
          maxNumOffsets: 1,
        }],
      }],
      timeoutMs: 30_000,
    });
    const p = r.topics[0]?.partitions[0];
    return p && p.errorCode === 0 ? Number(p.offset) : null;
  }

  /**
   * Kafka's handleOutOfRangeError: the fetch offset is outside the leader's log. Ahead of the
   * leader's end (no epoch told where they part): truncate to it; behind its log start: start
   * the log over there.
   */
  private async handleOutOfRange(fp: FetchedPartition): Promise<void> {
    const l = fp.log;
    const leaderEnd = await this.leaderOffset(fp, LATEST);
    if (leaderEnd !== null && leaderEnd < l.logEndOffset) {
      log.info(
        `replica ${this.settings.nodeId}: ${fp.topic}-${fp.partition} is ahead of leader ` +
          `${this.sourceId}: truncating ${l.logEndOffset} -> ${leaderEnd}`,
      );
      await l.truncateTo(leaderEnd);
      this.events.onProgress?.(fp);
      return;
    }
    const leaderStart = await this.leaderOffset(fp, EARLIEST);
    if (leaderStart === null) {
      fp.delayedUntil = Date.now() + this.settings.backoffMs;
      return;
    }
    if (l.logEndOffset < leaderStart || l.logStartOffset > leaderStart) {
      log.info(
        `replica ${this.settings.nodeId}: ${fp.topic}-${fp.partition} restarts at the ` +
          `leader's log start ${leaderStart} (log end was ${l.logEndOffset})`,
      );
      await l.truncateFullyAndStartAt(leaderStart);
      this.events.onProgress?.(fp);
    } else {
      fp.delayedUntil = Date.now() + this.settings.backoffMs;
    }
  }
}
