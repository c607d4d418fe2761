/**
 * S3RemoteStorageManager: the cold tier in S3-compatible object storage (AWS S3, MinIO, Ceph,
 * s3rver, ...), through the small client in s3_client.ts.
 *
 * Every object is one PUT with Content-MD5, so the store rejects bytes damaged in transit;
 * describeLogSegment HEADs the objects and reports the ETag (the MD5 of a single-part upload)
 * or, where the store's ETag is not an MD5 (e.g. SSE-KMS), the MD5 sent with the object. A PUT
 * is atomic in S3: an object is either absent or whole.
 */
import {
  type LogSegmentData,
  md5Hex,
  parseRemoteObjectName,
  partitionKeyPrefix,
  partitionMetadataKey,
  REMOTE_FILE_TYPES,
  type RemoteFileType,
  type RemoteLogSegmentMetadata,
  type RemoteObjectInfo,
  remoteObjectKey,
  RemoteResourceNotFoundException,
  RemoteStorageException,
  type RemoteStorageManager,
  segmentFile,
  type TopicIdPartition,
} from "./remote_storage.ts";
import { DirectoryRemoteStorageManager } from "./remote_storage_fs.ts";
import { S3Client, type S3ClientOptions } from "./s3_client.ts";

export interface S3RemoteStorageOptions extends S3ClientOptions {
  /** Key prefix inside the bucket ("" or ending in "/"). */
  prefix?: string;
}

export class S3RemoteStorageManager implements RemoteStorageManager {
  readonly description: string;
  readonly client: S3Client;
  private readonly prefix: string;

  constructor(opts: S3RemoteStorageOptions) {
    this.client = new S3Client(opts);
    const p = (opts.prefix ?? "").replace(/^\/+/, "");
    this.prefix = p === "" || p.endsWith("/") ? p : `${p}/`;
    this.description = `s3://${opts.bucket}/${this.prefix}`;
  }

  private key(m: RemoteLogSegmentMetadata, type: RemoteFileType): string {
    return this.prefix + remoteObjectKey(m.topicIdPartition, m.startOffset, m.segmentId, type);
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof RemoteStorageException) throw e;
      throw new RemoteStorageException(
        `${this.description} ${what}: ${e instanceof Error ? e.message : e}`,
        { cause: e },
      );
    }
  }

  copyLogSegmentData(m: RemoteLogSegmentMetadata, data: LogSegmentData): Promise<void> {
    return this.guard(`copy ${m.segmentId}`, async () => {
      // Indexes first and the .log last, so a listing that shows the .log saw a whole set.
      for (const type of ["index", "timeindex", "log"] as RemoteFileType[]) {
        const bytes = segmentFile(data, type);
        await this.client.put(this.key(m, type), bytes, md5Hex(bytes));
      }
    });
  }

  fetchLogSegment(
    m: RemoteLogSegmentMetadata,
    startPosition: number,
    endPosition?: number,
  ): Promise<Uint8Array> {
    return this.guard(`fetch ${m.segmentId}`, async () => {
      const bytes = await this.client.get(this.key(m, "log"), startPosition, endPosition);
      if (bytes === null) throw new RemoteResourceNotFoundException(`segment ${m.segmentId}`);
      return bytes;
    });
  }

  fetchIndex(m: RemoteLogSegmentMetadata, type: "index" | "timeindex"): Promise<Uint8Array> {
    return this.guard(`fetch ${type} ${m.segmentId}`, async () => {
      const bytes = await this.client.get(this.key(m, type));
      if (bytes === null) {
        throw new RemoteResourceNotFoundException(`${type} of segment ${m.segmentId}`);
      }
      return bytes;
    });
  }

  describeLogSegment(
    m: RemoteLogSegmentMetadata,
  ): Promise<Record<RemoteFileType, RemoteObjectInfo> | null> {
    return this.guard(`describe ${m.segmentId}`, async () => {
      const out: Partial<Record<RemoteFileType, RemoteObjectInfo>> = {};
      for (const type of REMOTE_FILE_TYPES) {
        const h = await this.client.head(this.key(m, type));
        if (h === null) return null;
        const md5 = /^[0-9a-f]{32}$/.test(h.etag) ? h.etag : (h.meta["md5"] ?? "");
        out[type] = { size: h.size, md5 };
      }
      return out as Record<RemoteFileType, RemoteObjectInfo>;
    });
  }

  deleteLogSegmentData(m: RemoteLogSegmentMetadata): Promise<void> {
    return this.guard(`delete ${m.segmentId}`, async () => {
      for (const type of REMOTE_FILE_TYPES) await this.client.delete(this.key(m, type));
    });
  }

  listRemoteLogSegmentIds(
    tp: TopicIdPartition,
  ): Promise<{ segmentId: string; startOffset: number }[]> {
    return this.guard(`list ${tp.topic}-${tp.partition}`, async () => {
      const prefix = this.prefix + partitionKeyPrefix(tp);
      const seen = new Map<string, number>();
      for (const o of await this.client.list(prefix)) {
        const p = parseRemoteObjectName(o.key.slice(prefix.length));
        if (p) seen.set(p.segmentId, p.startOffset);
      }
      return [...seen].map(([segmentId, startOffset]) => ({ segmentId, startOffset }));
    });
  }

  fetchPartitionMetadata(tp: TopicIdPartition): Promise<Uint8Array | null> {
    return this.guard(
      `fetch metadata of ${tp.topic}-${tp.partition}`,
      () => this.client.get(this.prefix + partitionMetadataKey(tp)),
    );
  }

  putPartitionMetadata(tp: TopicIdPartition, data: Uint8Array): Promise<void> {
    return this.guard(`put metadata of ${tp.topic}-${tp.partition}`, async () => {
      // One PUT: S3 replaces an object atomically.
      await this.client.put(this.prefix + partitionMetadataKey(tp), data, md5Hex(data));
    });
  }

  deletePartitionMetadata(tp: TopicIdPartition): Promise<void> {
    return this.guard(
      `delete metadata of ${tp.topic}-${tp.partition}`,
      () => this.client.delete(this.prefix + partitionMetadataKey(tp)),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Builds the RemoteStorageManager for `remote.log.storage.uri`: `file:///path` (or a plain
 * path) → directory; `s3://bucket/prefix` → S3 with the given endpoint, region and
 * credentials.
 */
export function createRemoteStorageManager(
  uri: string,
  s3: {
    endpoint?: string;
    region?: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    sessionToken?: string;
    timeoutMs?: number;
  } = {},
): RemoteStorageManager {
  if (uri.startsWith("s3://")) {
    const rest = uri.slice(5);
    const slash = rest.indexOf("/");
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? "" : rest.slice(slash + 1);
    if (!bucket) throw new Error(`remote.log.storage.uri ${uri} names no bucket`);
    if (!s3.accessKeyId || !s3.secretAccessKey) {
      throw new Error(
        `remote.log.storage.uri ${uri} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
      );
    }
    return new S3RemoteStorageManager({
      bucket,
      prefix,
      endpoint: s3.endpoint,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      sessionToken: s3.sessionToken,
      timeoutMs: s3.timeoutMs,
    });
  }
  if (uri.startsWith("file://")) {
    return new DirectoryRemoteStorageManager(decodeURIComponent(new URL(uri).pathname));
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw new Error(`remote.log.storage.uri ${uri}: only file:// and s3:// are supported`);
  }
  return new DirectoryRemoteStorageManager(uri);
}
