/**
 * DirectoryRemoteStorageManager: the embedded cold tier, a directory tree (another disk, a
 * network mount, or just `remote/` beside the data directory). Objects are files named by
 * their key (see remote_storage.ts).
 *
 * Each object is written to a temp name, fsynced and renamed, so an object name never points
 * at a partial file; a crash leaves at most a `.tmp-*` file, which listing ignores and the
 * next copy of the same segment id cannot collide with (ids are never reused); listing reports
 * the segment id of such a file too, so the RemoteLogManager's orphan sweep deletes it. All I/O is
 * asynchronous (node:fs/promises), so a slow mount never blocks the event loop.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
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

function isNotFound(e: unknown): boolean {
  return (e as { code?: string })?.code === "ENOENT";
}

export class DirectoryRemoteStorageManager implements RemoteStorageManager {
  readonly description: string;

  constructor(readonly root: string) {
    this.root = root.replace(/\/+$/, "");
    this.description = `file://${this.root}`;
  }

  private path(m: RemoteLogSegmentMetadata, type: RemoteFileType): string {
    return `${this.root}/${remoteObjectKey(m.topicIdPartition, m.startOffset, m.segmentId, type)}`;
  }

  private wrap(what: string, e: unknown): never {
    if (e instanceof RemoteStorageException) throw e;
    throw new RemoteStorageException(`${what}: ${e instanceof Error ? e.message : e}`, {
      cause: e,
    });
  }

  async copyLogSegmentData(m: RemoteLogSegmentMetadata, data: LogSegmentData): Promise<void> {
    try {
      const dir = `${this.root}/${partitionKeyPrefix(m.topicIdPartition)}`;
      await mkdir(dir, { recursive: true });
      for (const type of REMOTE_FILE_TYPES) {
        await writeFileDurably(this.path(m, type), segmentFile(data, type));
      }
      const dh = await open(dir, "r");
      try {
        await dh.sync();
      } catch {
        // some platforms cannot fsync a directory
      } finally {
        await dh.close();
      }
    } catch (e) {
      this.wrap(`copy ${m.segmentId}`, e);
    }
  }

  async fetchLogSegment(
    m: RemoteLogSegmentMetadata,
    startPosition: number,
    endPosition?: number,
  ): Promise<Uint8Array> {
    let fh;
    try {
      fh = await open(this.path(m, "log"), "r");
    } catch (e) {
      if (isNotFound(e)) throw new RemoteResourceNotFoundException(`segment ${m.segmentId}`);
      this.wrap(`fetch ${m.segmentId}`, e);
    }
    try {
      const size = (await fh.stat()).size;
      const end = Math.min(endPosition ?? size, size);
      const length = Math.max(0, end - startPosition);
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, startPosition + done);
        if (bytesRead <= 0) break;
        done += bytesRead;
      }
      return done === length ? buf : buf.subarray(0, done);
    } catch (e) {
      this.wrap(`fetch ${m.segmentId}`, e);
    } finally {
      await fh.close();
    }
  }

  async fetchIndex(m: RemoteLogSegmentMetadata, type: "index" | "timeindex"): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(this.path(m, type)));
    } catch (e) {
      if (isNotFound(e)) {
        throw new RemoteResourceNotFoundException(`${type} of segment ${m.segmentId}`);
      }
      this.wrap(`fetch ${type} ${m.segmentId}`, e);
    }
  }

  async describeLogSegment(
    m: RemoteLogSegmentMetadata,
  ): Promise<Record<RemoteFileType, RemoteObjectInfo> | null> {
    const out: Partial<Record<RemoteFileType, RemoteObjectInfo>> = {};
    try {
      for (const type of REMOTE_FILE_TYPES) {
        // Read back what the store holds: the MD5 is of the stored bytes, not the sent ones.
        const bytes = new Uint8Array(await readFile(this.path(m, type)));
        out[type] = { size: bytes.length, md5: md5Hex(bytes) };
      }
    } catch (e) {
      if (isNotFound(e)) return null;
      this.wrap(`describe ${m.segmentId}`, e);
    }
    return out as Record<RemoteFileType, RemoteObjectInfo>;
  }

  async deleteLogSegmentData(m: RemoteLogSegmentMetadata): Promise<void> {
    try {
      for (const type of REMOTE_FILE_TYPES) await rm(this.path(m, type), { force: true });
      // Temp files of an upload cut short.
      const dir = `${this.root}/${partitionKeyPrefix(m.topicIdPartition)}`;
      const stem = remoteObjectKey(m.topicIdPartition, m.startOffset, m.segmentId, "log")
        .slice(partitionKeyPrefix(m.topicIdPartition).length).replace(/\.log$/, ".");
      let names: string[] = [];
      try {
        names = await readdir(dir);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      for (const n of names) {
        if (n.startsWith(stem) && n.includes(".tmp-")) await rm(`${dir}/${n}`, { force: true });
      }
    } catch (e) {
      this.wrap(`delete ${m.segmentId}`, e);
    }
  }

  async listRemoteLogSegmentIds(
    tp: TopicIdPartition,
  ): Promise<{ segmentId: string; startOffset: number }[]> {
    const dir = `${this.root}/${partitionKeyPrefix(tp)}`;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (isNotFound(e)) return [];
      this.wrap(`list ${dir}`, e);
    }
    const seen = new Map<string, number>();
    for (const n of names) {
      const p = parseRemoteObjectName(n.replace(/\.tmp-[0-9a-f-]+$/, ""));
      if (p) seen.set(p.segmentId, p.startOffset);
    }
    return [...seen].map(([segmentId, startOffset]) => ({ segmentId, startOffset }));
  }

  async fetchPartitionMetadata(tp: TopicIdPartition): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(`${this.root}/${partitionMetadataKey(tp)}`));
    } catch (e) {
      if (isNotFound(e)) return null;
      this.wrap(`fetch metadata of ${tp.topic}-${tp.partition}`, e);
    }
  }

  async putPartitionMetadata(tp: TopicIdPartition, data: Uint8Array): Promise<void> {
    try {
      const dir = `${this.root}/${partitionKeyPrefix(tp)}`;
      await mkdir(dir, { recursive: true });
      await writeFileDurably(`${this.root}/${partitionMetadataKey(tp)}`, data);
    } catch (e) {
      this.wrap(`put metadata of ${tp.topic}-${tp.partition}`, e);
    }
  }

  async deletePartitionMetadata(tp: TopicIdPartition): Promise<void> {
    try {
      await rm(`${this.root}/${partitionMetadataKey(tp)}`, { force: true });
    } catch (e) {
      this.wrap(`delete metadata of ${tp.topic}-${tp.partition}`, e);
    }
  }

  /** Total bytes stored under the root (for tests and the benchmark). */
  async storedBytes(): Promise<number> {
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = `${dir}/${e.name}`;
        if (e.isDirectory()) await walk(p);
        else total += (await stat(p)).size;
      }
    };
    await walk(this.root);
    return total;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Writes `data` to `final` by way of a synced temporary file renamed over it, so a reader
 * (or a restart) sees the old content or the whole new one, never part of it.
 */
async function writeFileDurably(final: string, data: Uint8Array): Promise<void> {
  const tmp = `${final}.tmp-${crypto.randomUUID()}`;
  await writeFile(tmp, data);
  const fh = await open(tmp, "r+");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, final);
}
