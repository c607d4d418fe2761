/**
 * RemoteLogManager (KIP-405): moves closed segments of `remote.storage.enable` topics to the
 * cold tier through a RemoteStorageManager, applies the cold tier's retention, and serves
 * reads of offsets that only the cold tier holds.
 *
 * Copy protocol, per partition, one segment at a time, oldest first (Kafka's RLMCopyTask):
 *   1. pick the oldest closed segment above highestOffsetInRemoteStorage that ends below the
 *      last stable offset (the active segment is never copied, so it is always local);
 *   2. read its .log/.index/.timeindex and compute each file's size and MD5;
 *   3. record COPY_SEGMENT_STARTED with a fresh segment id (fsynced metadata);
 *   4. copyLogSegmentData under that id;
 *   5. verify: describeLogSegment must report the same size and MD5 for every file;
 *   6. record COPY_SEGMENT_FINISHED (fsynced). Only now is the segment tiered: it counts
 *      toward highestOffsetInRemoteStorage, which is what lets local retention delete it.
 *   A failure in 4–5 deletes the objects (best effort) and the entry, and the partition backs
 *   off (remote.log.manager.task.retry.backoff.ms, doubling up to .backoff.max.ms, ±20%);
 *   hot traffic never waits on any of this.
 *
 * Delete protocol (retention.ms/bytes over the whole log, or everything below the log start):
 *   the log start offset moves past the segment first (checkpointed), then
 *   DELETE_SEGMENT_STARTED, then deleteLogSegmentData, then the entry is dropped.
 *
 * Restart: COPY_SEGMENT_STARTED entries (a copy cut short) and DELETE_SEGMENT_STARTED ones
 * have their objects deleted and are dropped; objects whose segment id has no entry at all
 * (orphans) are deleted. Neither was ever counted as data, and the local copy of a segment
 * whose copy did not finish was never deleted, so nothing is lost and nothing counted twice.
 *
 * Reads (storage/remote_partition.ts, through storage/remote_read_cache.ts): the offset
 * index and time index of a remote segment, and its bytes in chunks of
 * `chunkBytes`, go through one LRU cache bounded by `cacheBytes`; concurrent reads of the
 * same chunk share one request, and a sequential reader's next chunk is prefetched.
 */
import { deletePolicy } from "./log_config.ts";
import type { Decompressor } from "./log_segment.ts";
import type { PartitionLog } from "./partition_log.ts";
import { RemotePartition } from "./remote_partition.ts";
import { RemoteReadCache } from "./remote_read_cache.ts";
import {
  describeSegmentData,
  REMOTE_FILE_TYPES,
  type RemoteLogSegmentMetadata,
  type RemoteStorageManager,
  type TopicIdPartition,
} from "./remote_storage.ts";

export interface RemoteLogManagerConfig {
  brokerId: number;
  /** remote.log.manager.task.interval.ms: how often each partition is looked at. */
  taskIntervalMs: number;
  /** remote.log.manager.task.retry.backoff.ms: first retry delay after a failure. */
  retryBackoffMs: number;
  /** remote.log.manager.task.retry.backoff.max.ms: longest retry delay. */
  retryBackoffMaxMs: number;
  /** Bound of the read cache (indexes and segment chunks), bytes. */
  cacheBytes: number;
  /** Size of the segment chunks fetched and cached (default 1 MiB). */
  chunkBytes?: number;
  decompress?: Decompressor;
  /** Called with a message when a task fails (for the broker's log). */
  onError?: (message: string) => void;
}

/** A Kafka Uuid in its text form (base64url of 16 random bytes). */
export function newSegmentId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Per partition status, for the admin API and tests. */
export interface RemotePartitionStatus {
  topic: string;
  partition: number;
  remoteSegments: number;
  remoteBytes: number;
  highestOffsetInRemoteStorage: number;
  failures: number;
  lastError: string | null;
}

export class RemoteLogManager {
  readonly cache: RemoteReadCache;
  readonly chunkBytes: number;
  readonly decompress?: Decompressor;
  private readonly partitions = new Map<PartitionLog, RemotePartition>();
  private timer?: ReturnType<typeof setTimeout>;
  private running: Promise<void> | null = null;
  private stopped = false;
  private wakeRequested = false;
  /** Segments copied, deleted, and failures since start (for tests and metrics). */
  readonly stats = { copied: 0, copiedBytes: 0, deleted: 0, failures: 0, orphansDeleted: 0 };

  constructor(
    readonly rsm: RemoteStorageManager | null,
    readonly config: RemoteLogManagerConfig,
  ) {
    this.cache = new RemoteReadCache(config.cacheBytes);
    this.chunkBytes = config.chunkBytes ?? 1 << 20;
    this.decompress = config.decompress;
  }

  /** Loads a partition's remote metadata and attaches the cold tier to the log. */
  attach(log: PartitionLog): RemotePartition {
    let rp = this.partitions.get(log);
    if (rp) return rp;
    rp = new RemotePartition(log, this);
    this.partitions.set(log, rp);
    log.attachRemote(rp);
    return rp;
  }

  partition(log: PartitionLog): RemotePartition | undefined {
    return this.partitions.get(log);
  }

  /**
   * Forgets a partition. With `deleteRemote` (topic deletion) its objects are deleted in the
   * background, best effort: if the store is unreachable they stay behind as orphans under
   * the deleted topic id, never read again.
   */
  detach(log: PartitionLog, deleteRemote: boolean): void {
    const rp = this.partitions.get(log);
    if (!rp) return;
    rp.detach();
    this.partitions.delete(log);
    const rsm = this.rsm;
    if (!deleteRemote || !rsm) return;
    const doomed = rp.metadata.all().slice();
    (async () => {
      for (const m of doomed) {
        this.cache.invalidate(`${m.segmentId}:`);
        await rsm.deleteLogSegmentData(m);
      }
      for (const o of await rsm.listRemoteLogSegmentIds(rp.tp)) {
        await rsm.deleteLogSegmentData(this.stub(rp.tp, o.segmentId, o.startOffset));
      }
    })().catch((e) => this.config.onError?.(`deleting tiered data of ${rp.tp.topic}: ${e}`));
  }

  status(): RemotePartitionStatus[] {
    return [...this.partitions.values()].map((rp) => ({
      topic: rp.tp.topic,
      partition: rp.tp.partition,
      remoteSegments: rp.segmentCount(),
      remoteBytes: rp.sizeInBytes(),
      highestOffsetInRemoteStorage: rp.highestOffset(),
      failures: rp.failures,
      lastError: rp.lastError,
    }));
  }

  /** Starts the periodic task. */
  start(): void {
    if (!this.rsm || this.stopped) return;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const tick = Math.max(10, Math.min(this.config.taskIntervalMs, this.config.retryBackoffMs));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runOnce().finally(() => this.schedule());
    }, this.wakeRequested ? 0 : tick);
    this.wakeRequested = false;
  }

  /** Asks for a pass soon (a segment was rolled). */
  wake(): void {
    if (this.stopped || !this.rsm) return;
    if (this.timer !== undefined && this.running === null) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.wakeRequested = true;
      this.schedule();
    } else {
      this.wakeRequested = true;
    }
  }

  /**
   * One pass over every partition that is due: recovery, copies, cold-tier retention.
   * Passes never overlap; `force` ignores intervals and backoff (tests).
   */
  runOnce(force = false): Promise<void> {
    if (this.running) {
      return force ? this.running.then(() => this.runOnce(true)) : this.running;
    }
    const pass = (async () => {
      for (const rp of [...this.partitions.values()]) {
        if (this.stopped) break;
        const now = Date.now();
        if (!this.involved(rp)) continue;
        if (!force) {
          if (rp.failures > 0 && now < rp.nextAttemptAt) continue;
          if (
            rp.failures === 0 && !rp.pending && !rp.needsRecovery &&
            now - rp.lastRunAt < this.config.taskIntervalMs
          ) continue;
        }
        rp.pending = false;
        rp.lastRunAt = now;
        try {
          await this.runPartition(rp);
          rp.failures = 0;
          rp.lastError = null;
        } catch (e) {
          rp.failures++;
          this.stats.failures++;
          rp.pending = true;
          const exp = Math.min(
            this.config.retryBackoffMaxMs,
            this.config.retryBackoffMs * 2 ** Math.min(rp.failures - 1, 30),
          );
          rp.nextAttemptAt = Date.now() + exp * (0.8 + Math.random() * 0.4);
          rp.lastError = e instanceof Error ? e.message : String(e);
          this.config.onError?.(
            `tiering ${rp.tp.topic}-${rp.tp.partition} failed (attempt ${rp.failures}, retry in ${
              Math.round(rp.nextAttemptAt - Date.now())
            } ms): ${rp.lastError}`,
          );
        }
      }
    })();
    // Cleared in a callback, not in the pass itself: a pass with nothing to await finishes
    // before the assignment below.
    this.running = pass;
    pass.finally(() => {
      if (this.running === pass) this.running = null;
    }).catch(() => {});
    return pass;
  }

  private async runPartition(rp: RemotePartition): Promise<void> {
    const rsm = this.rsm;
    if (!rsm || !this.involved(rp)) return;
    if (rp.needsRecovery) await this.recover(rp, rsm);
    if (rp.log.config.remoteStorageEnable) await this.copySegments(rp, rsm);
    await this.applyRetention(rp, rsm);
  }

  /** Whether the partition is tiered or has tiered data (others cost nothing per pass). */
  private involved(rp: RemotePartition): boolean {
    return rp.log.config.remoteStorageEnable || rp.metadata.all().length > 0;
  }

  /** A metadata stub naming a segment's objects (for deleting what has no entry). */
  private stub(
    tp: TopicIdPartition,
    segmentId: string,
    startOffset: number,
  ): RemoteLogSegmentMetadata {
    const empty = { size: 0, md5: "" };
    return {
      segmentId,
      topicIdPartition: tp,
      startOffset,
      endOffset: startOffset,
      maxTimestampMs: -1,
      firstBatchTimestampMs: -1,
      eventTimestampMs: Date.now(),
      brokerId: this.config.brokerId,
      segmentSizeInBytes: 0,
      segmentLeaderEpochs: { "0": startOffset },
      state: "DELETE_SEGMENT_STARTED",
      files: { log: empty, index: empty, timeindex: empty },
    };
  }

  /** Cleans up what a crash (or a failed attempt) left: unfinished entries and orphans. */
  private async recover(rp: RemotePartition, rsm: RemoteStorageManager): Promise<void> {
    for (const m of rp.metadata.all().slice()) {
      if (m.state === "COPY_SEGMENT_FINISHED") continue;
      await rsm.deleteLogSegmentData(m);
      this.cache.invalidate(`${m.segmentId}:`);
      rp.metadata.remove(m.segmentId);
    }
    const known = new Set(rp.metadata.all().map((m) => m.segmentId));
    for (const o of await rsm.listRemoteLogSegmentIds(rp.tp)) {
      if (known.has(o.segmentId)) continue;
      await rsm.deleteLogSegmentData(this.stub(rp.tp, o.segmentId, o.startOffset));
      this.stats.orphansDeleted++;
    }
    rp.needsRecovery = false;
  }

  /** Copies every eligible closed segment, oldest first. */
  private async copySegments(rp: RemotePartition, rsm: RemoteStorageManager): Promise<void> {
    const log = rp.log;
    for (;;) {
      if (this.stopped) return;
      const highest = rp.highestOffset();
      const lso = log.lastStableOffset;
      const candidate = log.closedSegments().find((c) =>
        c.baseOffset > highest && c.endOffset >= log.logStartOffset && c.endOffset < lso
      );
      if (!candidate) return;
      const data = await log.readSegmentFiles(candidate.segment);
      const files = describeSegmentData(data);
      const seg = candidate.segment;
      const m: RemoteLogSegmentMetadata = {
        segmentId: newSegmentId(),
        topicIdPartition: rp.tp,
        startOffset: candidate.baseOffset,
        endOffset: candidate.endOffset,
        maxTimestampMs: seg.largestTimestamp,
        firstBatchTimestampMs: seg.size > 0 ? seg.rollingBasedTimestamp() : -1,
        eventTimestampMs: Date.now(),
        brokerId: this.config.brokerId,
        segmentSizeInBytes: data.log.length,
        segmentLeaderEpochs: segmentLeaderEpochs(
          log.leaderEpochCache.epochEntries(),
          candidate.baseOffset,
          candidate.endOffset,
        ),
        state: "COPY_SEGMENT_STARTED",
        files,
      };
      rp.metadata.add(m);
      try {
        await rsm.copyLogSegmentData(m, data);
        const stored = await rsm.describeLogSegment(m);
        for (const type of REMOTE_FILE_TYPES) {
          const s = stored?.[type];
          if (!s || s.size !== files[type].size || s.md5 !== files[type].md5) {
            throw new Error(
              `verification of ${m.segmentId} failed: ${type} stored as ${
                JSON.stringify(s)
              }, sent ${JSON.stringify(files[type])}`,
            );
          }
        }
      } catch (e) {
        try {
          await rsm.deleteLogSegmentData(m);
          rp.metadata.remove(m.segmentId);
        } catch {
          rp.needsRecovery = true; // the entry stays COPY_SEGMENT_STARTED until cleaned up
        }
        throw e;
      }
      if (!log.holdsClosedSegment(seg)) {
        // Truncated (or compacted) away while it was copied: the copy describes nothing.
        await rsm.deleteLogSegmentData(m);
        rp.metadata.remove(m.segmentId);
        continue;
      }
      rp.metadata.update(m.segmentId, "COPY_SEGMENT_FINISHED");
      this.stats.copied++;
      this.stats.copiedBytes += data.log.length;
    }
  }

  /**
   * The cold tier's retention (Kafka's RLM expiration task): segments wholly below the log
   * start; with a delete policy, segments past retention.ms (by their largest timestamp) and
   * the oldest while the whole log (tiered + local-only bytes) exceeds retention.bytes.
   */
  private async applyRetention(rp: RemotePartition, rsm: RemoteStorageManager): Promise<void> {
    const log = rp.log;
    const cfg = log.config;
    const finished = rp.metadata.finished().slice();
    if (finished.length === 0) return;
    const now = Date.now();
    const doomed: RemoteLogSegmentMetadata[] = [];
    let i = 0;
    while (i < finished.length && finished[i].endOffset < log.logStartOffset) {
      doomed.push(finished[i++]);
    }
    if (deletePolicy(cfg)) {
      if (cfg.retentionMs >= 0) {
        while (i < finished.length) {
          const m = finished[i];
          const ts = m.maxTimestampMs >= 0 ? m.maxTimestampMs : m.eventTimestampMs;
          if (now - ts <= cfg.retentionMs) break;
          doomed.push(m);
          i++;
        }
      }
      if (cfg.retentionBytes >= 0) {
        const highest = rp.highestOffset();
        let localOnly = 0;
        for (const c of log.closedSegments()) if (c.baseOffset > highest) localOnly += c.size;
        const active = log.localBytes - log.closedSegments().reduce((n, c) => n + c.size, 0);
        let remaining = rp.sizeInBytes() + localOnly + active - cfg.retentionBytes;
        for (const m of doomed) remaining -= m.segmentSizeInBytes;
        while (i < finished.length && remaining - finished[i].segmentSizeInBytes >= 0) {
          remaining -= finished[i].segmentSizeInBytes;
          doomed.push(finished[i++]);
        }
      }
    }
    for (const m of doomed) {
      // The log start moves first: no reader is sent to a segment about to disappear.
      await log.advanceLogStartOffset(m.endOffset + 1);
      rp.metadata.update(m.segmentId, "DELETE_SEGMENT_STARTED");
      this.cache.invalidate(`${m.segmentId}:`);
      await rsm.deleteLogSegmentData(m);
      rp.metadata.update(m.segmentId, "DELETE_SEGMENT_FINISHED");
      this.stats.deleted++;
    }
  }

  /**
   * Stops the task. A pass in progress gets a few seconds to finish; one stuck on a hung
   * store is abandoned: its copy stays COPY_SEGMENT_STARTED and is cleaned up on restart.
   */
  async close(graceMs = 3000): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.running?.catch(() => {}),
      new Promise((r) => (t = setTimeout(r, graceMs))),
    ]);
    clearTimeout(t);
    for (const rp of this.partitions.values()) rp.detach();
    this.partitions.clear();
    await this.rsm?.close();
  }
}

/**
 * Kafka's RemoteLogSegmentMetadata.segmentLeaderEpochs: each leader epoch with batches in
 * [startOffset, endOffset] and the first offset it holds there (from the epoch cache; epoch 0
 * at the start when the cache knows none).
 */
export function segmentLeaderEpochs(
  entries: readonly { epoch: number; startOffset: number }[],
  startOffset: number,
  endOffset: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const next = entries[i + 1]?.startOffset ?? Number.MAX_SAFE_INTEGER;
    if (e.startOffset > endOffset || next <= startOffset) continue;
    out[String(e.epoch)] = Math.max(e.startOffset, startOffset);
  }
  return Object.keys(out).length > 0 ? out : { "0": startOffset };
}
