/**
 * The cold tier's contract, after Kafka's KIP-405 RemoteStorageManager, and the metadata the
 * RemoteLogManager keeps about every tiered segment (RemoteLogSegmentMetadata).
 *
 * A RemoteStorageManager stores immutable objects per remote log segment: the segment's `.log`
 * bytes, its `.index` and its `.timeindex`, named by the segment's unique id (a fresh one per
 * upload attempt, so a retried or crashed upload never overwrites or mixes with another). It
 * knows nothing about which segments count as data: that is the metadata's job, and the
 * RemoteLogManager only treats a segment as tiered once its copy was verified through
 * `describeLogSegment` and the metadata says COPY_SEGMENT_FINISHED.
 *
 * Object keys (both back ends): `<prefix><topic>-<topicId>/<partition>/<20-digit start
 * offset>-<segment id>.<log|index|timeindex>`, and per partition the metadata its leader
 * publishes, `<prefix><topic>-<topicId>/<partition>/remote_log_segment_metadata.json`.
 *
 * Implementations: DirectoryRemoteStorageManager (storage/remote_storage_fs.ts, the embedded
 * default) and S3RemoteStorageManager (storage/remote_storage_s3.ts). Both pass the shared
 * conformance suite in tests/e2e/remote_storage_test.ts.
 */
import { createHash } from "node:crypto";

/** Kafka's TopicIdPartition. */
export interface TopicIdPartition {
  topic: string;
  topicId: string;
  partition: number;
}

/** Kafka's RemoteLogSegmentState. */
export type RemoteLogSegmentState =
  | "COPY_SEGMENT_STARTED"
  | "COPY_SEGMENT_FINISHED"
  | "DELETE_SEGMENT_STARTED"
  | "DELETE_SEGMENT_FINISHED";

/** The files of one remote segment. */
export type RemoteFileType = "log" | "index" | "timeindex";
export const REMOTE_FILE_TYPES: readonly RemoteFileType[] = ["log", "index", "timeindex"];

/** Size and MD5 (hex) of one stored object; what verification compares. */
export interface RemoteObjectInfo {
  size: number;
  md5: string;
}

/** Kafka's RemoteLogSegmentMetadata. */
export interface RemoteLogSegmentMetadata {
  /** The RemoteLogSegmentId's uuid; unique per upload attempt. */
  segmentId: string;
  topicIdPartition: TopicIdPartition;
  /** First offset the segment covers (its base offset). */
  startOffset: number;
  /** Last offset it covers: the next segment's base offset - 1. */
  endOffset: number;
  /** Largest record timestamp in the segment (-1 when none). */
  maxTimestampMs: number;
  /** Timestamp of the segment's first batch (-1 when none). */
  firstBatchTimestampMs: number;
  /** When this state was recorded. */
  eventTimestampMs: number;
  brokerId: number;
  /** Size of the .log object. */
  segmentSizeInBytes: number;
  /** Leader epoch → its first offset in the segment, as in Kafka (the log's epoch cache). */
  segmentLeaderEpochs: Record<string, number>;
  state: RemoteLogSegmentState;
  /** Per file: size and MD5 of the bytes uploaded, verified against the store. */
  files: Record<RemoteFileType, RemoteObjectInfo>;
}

/** What copyLogSegmentData uploads (Kafka's LogSegmentData, without the optional indexes). */
export interface LogSegmentData {
  log: Uint8Array;
  offsetIndex: Uint8Array;
  timeIndex: Uint8Array;
}

/** Kafka's RemoteStorageException: the store failed or is unreachable (worth a retry). */
export class RemoteStorageException extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RemoteStorageException";
  }
}

/** Kafka's RemoteResourceNotFoundException: the object does not exist. */
export class RemoteResourceNotFoundException extends RemoteStorageException {
  constructor(message: string) {
    super(message);
    this.name = "RemoteResourceNotFoundException";
  }
}

export interface RemoteStorageManager {
  /** Where the tier lives, for logs ("file:///…", "s3://bucket/prefix"). */
  readonly description: string;
  /**
   * Stores the segment's three objects under `metadata.segmentId`. May leave some objects
   * behind when it fails; they are found by listRemoteLogSegmentIds and deleted by id.
   */
  copyLogSegmentData(metadata: RemoteLogSegmentMetadata, data: LogSegmentData): Promise<void>;
  /**
   * Bytes [startPosition, endPosition) of the segment's .log object (to the end when
   * `endPosition` is omitted or past it). Throws RemoteResourceNotFoundException if absent.
   */
  fetchLogSegment(
    metadata: RemoteLogSegmentMetadata,
    startPosition: number,
    endPosition?: number,
  ): Promise<Uint8Array>;
  /** The whole `.index` or `.timeindex` object. */
  fetchIndex(metadata: RemoteLogSegmentMetadata, type: "index" | "timeindex"): Promise<Uint8Array>;
  /**
   * Size and MD5 of each stored object as the store holds it (for verification), or null
   * when any of them is missing.
   */
  describeLogSegment(
    metadata: RemoteLogSegmentMetadata,
  ): Promise<Record<RemoteFileType, RemoteObjectInfo> | null>;
  /** Deletes the segment's objects; missing ones are fine (idempotent). */
  deleteLogSegmentData(metadata: RemoteLogSegmentMetadata): Promise<void>;
  /** Ids of every segment with at least one object stored for the partition. */
  listRemoteLogSegmentIds(
    tp: TopicIdPartition,
  ): Promise<{ segmentId: string; startOffset: number }[]>;
  /**
   * The partition's remote log metadata as its leader last published it (see
   * remote_log_metadata.ts: Kafka shares it through the `__remote_log_metadata` topic; here
   * one object per partition beside its segments, so a follower and the next leader read
   * what the leader tiered), or null when none was published.
   */
  fetchPartitionMetadata(tp: TopicIdPartition): Promise<Uint8Array | null>;
  /** Replaces that object whole (a reader sees the old one or the new one). */
  putPartitionMetadata(tp: TopicIdPartition, data: Uint8Array): Promise<void>;
  /** Deletes it (topic deletion); absent is fine. */
  deletePartitionMetadata(tp: TopicIdPartition): Promise<void>;
  close(): Promise<void>;
}

/** The name of the published metadata object in a partition's key prefix. */
export const PARTITION_METADATA_OBJECT = "remote_log_segment_metadata.json";

/** The key of a partition's published metadata object, relative to the tier's root/prefix. */
export function partitionMetadataKey(tp: TopicIdPartition): string {
  return `${partitionKeyPrefix(tp)}${PARTITION_METADATA_OBJECT}`;
}

/** The key prefix of a partition: `<topic>-<topicId>/<partition>/`. */
export function partitionKeyPrefix(tp: TopicIdPartition): string {
  return `${tp.topic}-${tp.topicId}/${tp.partition}/`;
}

/** The object key of one file of a segment, relative to the tier's root/prefix. */
export function remoteObjectKey(
  tp: TopicIdPartition,
  startOffset: number,
  segmentId: string,
  type: RemoteFileType,
): string {
  return `${partitionKeyPrefix(tp)}${String(startOffset).padStart(20, "0")}-${segmentId}.${type}`;
}

/** Parses a file name `<20 digits>-<id>.<type>` back, or null. */
export function parseRemoteObjectName(
  name: string,
): { startOffset: number; segmentId: string; type: RemoteFileType } | null {
  const m = /^(\d{20})-([A-Za-z0-9_-]+)\.(log|index|timeindex)$/.exec(name);
  if (!m) return null;
  return { startOffset: Number(m[1]), segmentId: m[2], type: m[3] as RemoteFileType };
}

/** MD5 in hex (what S3 puts in a single-part ETag, so both back ends report the same). */
export function md5Hex(data: Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/** MD5 in base64 (the Content-MD5 header). */
export function md5Base64(data: Uint8Array): string {
  return createHash("md5").update(data).digest("base64");
}

/** The size and MD5 of each file to upload. */
export function describeSegmentData(
  data: LogSegmentData,
): Record<RemoteFileType, RemoteObjectInfo> {
  return {
    log: { size: data.log.length, md5: md5Hex(data.log) },
    index: { size: data.offsetIndex.length, md5: md5Hex(data.offsetIndex) },
    timeindex: { size: data.timeIndex.length, md5: md5Hex(data.timeIndex) },
  };
}

/** The bytes of `type` in `data`. */
export function segmentFile(data: LogSegmentData, type: RemoteFileType): Uint8Array {
  return type === "log" ? data.log : type === "index" ? data.offsetIndex : data.timeIndex;
}
