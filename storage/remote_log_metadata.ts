/**
 * Remote log metadata, after Kafka's RemoteLogMetadataManager: for one partition, the
 * RemoteLogSegmentMetadata of every segment in the cold tier and the state of its copy or
 * deletion. Kafka keeps these events in the `__remote_log_metadata` topic on the brokers' own
 * disks; a single broker keeps the same records in a file in the partition directory:
 *
 *   <dataDir>/<topic>-<p>/remote_log_segment_metadata.json
 *   { "version": 1, "segments": [RemoteLogSegmentMetadata, ...] }   (sorted by startOffset)
 *
 * The file is replaced atomically (temp, fsync, rename, directory fsync) on every state
 * change, before the change is acted on, so after a crash it describes either the state
 * before or the state after each step. Only COPY_SEGMENT_FINISHED segments are data; the
 * RemoteLogManager cleans up COPY_SEGMENT_STARTED (an upload cut short) and
 * DELETE_SEGMENT_STARTED (a deletion cut short) entries on restart.
 */
import { existsSync, readFileSync } from "node:fs";
import { fsyncDir, writeFileAtomic } from "./file_io.ts";
import type { RemoteLogSegmentMetadata, RemoteLogSegmentState } from "./remote_storage.ts";

export const REMOTE_LOG_METADATA_FILE = "remote_log_segment_metadata.json";

interface MetadataFile {
  version: 1;
  segments: RemoteLogSegmentMetadata[];
}

export class RemoteLogMetadataManager {
  private segments: RemoteLogSegmentMetadata[] = [];
  private finishedCache: RemoteLogSegmentMetadata[] | null = null;
  readonly path: string;

  /**
   * `listed` false: the directory was just listed without the file (not looked for again).
   * `onWrite`: called before the file is written (the log's directory changes).
   */
  constructor(
    readonly dir: string,
    listed: boolean | null = null,
    private readonly onWrite: () => void = () => {},
  ) {
    this.path = `${dir}/${REMOTE_LOG_METADATA_FILE}`;
    if (listed ?? existsSync(this.path)) {
      const parsed = JSON.parse(readFileSync(this.path, "utf8")) as MetadataFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.segments)) {
        throw new Error(`unsupported ${this.path}`);
      }
      this.segments = parsed.segments.sort((a, b) => a.startOffset - b.startOffset);
    }
  }

  /** Whether the file exists (the partition has had something tiered). */
  get persisted(): boolean {
    return existsSync(this.path);
  }

  private persist(): void {
    this.finishedCache = null;
    this.onWrite();
    const body: MetadataFile = { version: 1, segments: this.segments };
    writeFileAtomic(this.path, JSON.stringify(body));
    fsyncDir(this.dir);
  }

  /** Every entry, any state, by start offset. */
  all(): readonly RemoteLogSegmentMetadata[] {
    return this.segments;
  }

  /** The tiered segments (COPY_SEGMENT_FINISHED), by start offset. */
  finished(): readonly RemoteLogSegmentMetadata[] {
    this.finishedCache ??= this.segments.filter((s) => s.state === "COPY_SEGMENT_FINISHED");
    return this.finishedCache;
  }

  get(segmentId: string): RemoteLogSegmentMetadata | undefined {
    return this.segments.find((s) => s.segmentId === segmentId);
  }

  /** Kafka's addRemoteLogSegmentMetadata (state COPY_SEGMENT_STARTED). */
  add(m: RemoteLogSegmentMetadata): void {
    this.segments.push(m);
    this.segments.sort((a, b) => a.startOffset - b.startOffset);
    this.persist();
  }

  /** Kafka's updateRemoteLogSegmentMetadata: moves a segment to `state`. */
  update(segmentId: string, state: RemoteLogSegmentState, now: number = Date.now()): void {
    const i = this.segments.findIndex((s) => s.segmentId === segmentId);
    if (i < 0) throw new Error(`no remote segment ${segmentId}`);
    if (state === "DELETE_SEGMENT_FINISHED") {
      this.segments.splice(i, 1);
    } else {
      this.segments[i] = { ...this.segments[i], state, eventTimestampMs: now };
    }
    this.persist();
  }

  /**
   * A follower's view: exactly the tiered segments its leader published (Kafka's follower
   * consumes the leader's `__remote_log_metadata` events the same way). Returns whether
   * anything changed.
   */
  adopt(published: readonly RemoteLogSegmentMetadata[]): boolean {
    const next = published.filter((m) => m.state === "COPY_SEGMENT_FINISHED")
      .slice().sort((a, b) => a.startOffset - b.startOffset);
    const same = next.length === this.segments.length &&
      next.every((m, i) =>
        m.segmentId === this.segments[i].segmentId && this.segments[i].state === m.state
      );
    if (same) return false;
    this.segments = next;
    this.persist();
    return true;
  }

  /**
   * A new leader's view: its own entries plus every tiered segment the previous leader
   * published that it does not know; returns how many were added.
   */
  merge(published: readonly RemoteLogSegmentMetadata[]): number {
    const known = new Set(this.segments.map((m) => m.segmentId));
    const added = published.filter((m) =>
      m.state === "COPY_SEGMENT_FINISHED" && !known.has(m.segmentId)
    );
    if (added.length === 0) return 0;
    this.segments.push(...added);
    this.segments.sort((a, b) => a.startOffset - b.startOffset);
    this.persist();
    return added.length;
  }

  /** Drops an entry (its objects are gone). */
  remove(segmentId: string): void {
    const i = this.segments.findIndex((s) => s.segmentId === segmentId);
    if (i < 0) return;
    this.segments.splice(i, 1);
    this.persist();
  }
}
