/**
 * LogDirectory: where a LogManager keeps what outlives a partition's log — the cluster
 * identity, the topic catalogue, log start checkpoints, one place per partition — so the
 * LogManager's rules (names, ids, create/delete order, workers' views) are one code for both
 * storage engines. FileLogDirectory is the data directory on disk (Kafka's layout, below);
 * MemoryLogDirectory (storage/memory_log_directory.ts) keeps nothing and needs no directory.
 *
 *   <dataDir>/meta/meta.properties   cluster.id, node.id (created on first start)
 *   <dataDir>/meta/topics.json       name, topicId, partition count, config overrides
 *   <dataDir>/<topic>-<p>/           one PartitionLog each, with Kafka's partition.metadata
 *   <dataDir>/meta/log-start-offset-checkpoint   every partition's log start (Kafka's format)
 *   <dataDir>/meta/cleaner-offset-checkpoint     the LogCleaner's first dirty offsets
 *
 * topics.json is replaced atomically (temp + fsync + rename). Partition directories carry the
 * topic id, so on open a directory whose id is not in the catalogue (a create or delete cut
 * short by a crash, or a deleted topic recreated under the same name) is recognised and
 * removed instead of being mistaken for the new topic's data.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { fsyncDir, writeFileAtomic } from "./file_io.ts";
import { readOffsetCheckpoints, writeOffsetCheckpoint } from "./log_cleaner.ts";
import { HIGH_WATERMARK_CHECKPOINT_FILE } from "./high_watermark_checkpoint.ts";
import {
  removeOtherLayouts,
  takeCleanShutdownRecord,
  writeCleanShutdownRecord,
} from "./clean_shutdown_record.ts";
import type { StorageEngine } from "./local_log_store.ts";
import {
  loadMetaProperties,
  readPartitionTopicId,
  writePartitionMetadata,
} from "./partition_metadata.ts";

/** A topic as the catalogue records it. */
export interface TopicMetadata {
  name: string;
  /** 16 random bytes in Kafka's text form: base64url without padding (22 chars). */
  topicId: string;
  partitions: number;
  /** Topic-level config overrides by Kafka name (values as the admin layer parsed them). */
  configs: Record<string, TopicConfigValue>;
}

/** A topic config override value; null means "use the default". */
export type TopicConfigValue = string | number | boolean | null;

export const LOG_START_OFFSET_CHECKPOINT_FILE = "log-start-offset-checkpoint";

/** Where a partition's log opens, and whether checkpointed offsets are its own. */
export interface PartitionPlace {
  dir: string;
  /** The place held this topic id's data before (so its checkpointed log start applies). */
  sameTopic: boolean;
  /** Made a moment ago, holding only partition.metadata: the log need not list it. */
  fresh?: boolean;
}

export interface LogDirectory {
  /** The engine the partitions of this directory use. */
  readonly engine: StorageEngine;
  /** The data directory, or a label for the memory engine ("(memory)"). */
  readonly path: string;
  /** Where the LogCleaner keeps its checkpoint; null: nowhere (kept in memory). */
  readonly cleanerCheckpointDir: string | null;
  /** cluster.id and node.id, created on first start. */
  /**
   * This broker's cluster id and node id (Kafka's meta.properties), made on first start from
   * `nodeId` and, in a cluster, the cluster's id `clusterId`.
   */
  identity(nodeId?: number, clusterId?: string): { clusterId: string; nodeId: number };
  readLogStartCheckpoint(): Map<string, number>;
  /** Rewrites the log start checkpoint; throws on failure (the caller logs it). */
  writeLogStartCheckpoint(entries: Map<string, number>): void;
  /** replication-offset-checkpoint: managed high watermarks (storage/high_watermark_checkpoint.ts). */
  readHighWatermarkCheckpoint(): Map<string, number>;
  /** Rewrites the high watermark checkpoint; throws on failure (the caller logs it). */
  writeHighWatermarkCheckpoint(entries: Map<string, number>): void;
  readCatalogue(): TopicMetadata[];
  /** Writes the catalogue durably; throws KAFKA_STORAGE_ERROR. */
  writeCatalogue(topics: TopicMetadata[]): void;
  /**
   * Removes what interrupted creates and deletes left (catalogue writer only), and the
   * partitions `hosted` says are no longer held here (a replica moved away meanwhile).
   * `recorded`: topic ids by directory name, as the clean-shutdown record names them (not
   * read again).
   */
  removeStrays(
    catalogue: TopicMetadata[],
    onError: (message: string) => void,
    hosted?: (topic: string, partition: number) => boolean,
    recorded?: ReadonlyMap<string, string>,
  ): void;
  /**
   * Clears whatever is at partition `p`'s place before a new topic or partition uses it:
   * at once unless `opens` (preparePartition of the same place follows, and clears it).
   */
  clearPartition(name: string, p: number, opens: boolean): void;
  /** Makes partition `p`'s place ready for topic `meta`. */
  preparePartition(meta: TopicMetadata, p: number, onError: (m: string) => void): PartitionPlace;
  /** Removes partition `p`'s place (an undone create). */
  removePartition(name: string, p: number): void;
  /** Removes a deleted topic's partition `p` (`topicId` names the doomed directory). */
  deletePartition(name: string, p: number, topicId: string): void;
  /** Makes creates and removes of partition places durable. */
  sync(): void;
  /** Start-up opened its partitions: what removeStrays read for them is forgotten. */
  opened(): void;
  /**
   * Reads and durably removes this manager's clean-shutdown record: the keys
   * (cleanShutdownKey) of the partitions its last close closed cleanly, each with the base
   * offset of its sole empty segment when its directory held nothing else, else -1.
   */
  takeCleanShutdown(): Map<string, number>;
  /** Records the partitions a close closed cleanly (cleanShutdownEntry), durably; throws. */
  writeCleanShutdown(entries: string[]): void;
  /** Whether this manager keeps a clean-shutdown record (else each partition marks itself). */
  readonly recordsCleanShutdown: boolean;
  /** Removes the records of other layouts (catalogue writer only, at open). */
  removeOtherCleanShutdowns(): void;
}

const META_DIR = "meta";
const TOPICS_FILE = "topics.json";
const DELETE_SUFFIX = "-delete";

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The data directory on disk. */
export class FileLogDirectory implements LogDirectory {
  readonly engine = "file" as const;
  readonly cleanerCheckpointDir: string;
  private readonly metaDir: string;
  /**
   * The topic ids removeStrays read from the partition directories it kept, by directory name,
   * so opening each partition does not read its partition.metadata again; each entry is used
   * once (by the partition's first preparePartition), after which the disk is asked again.
   */
  private readonly keptIds = new Map<string, string>();
  /** The place clearPartition just emptied, so preparePartition need not look at it again. */
  private cleared: string | null = null;

  /**
   * `checkpointSuffix` (".w1") gives each worker its own checkpoint files;
   * `cleanShutdownSuffix` names its clean-shutdown record ("" alone, ".w1of4"), null: none.
   */
  constructor(
    readonly path: string,
    private readonly checkpointSuffix = "",
    private readonly cleanShutdownSuffix: string | null = checkpointSuffix === "" ? "" : null,
  ) {
    this.metaDir = `${path}/${META_DIR}`;
    this.cleanerCheckpointDir = this.metaDir;
    mkdirSync(this.metaDir, { recursive: true });
  }

  identity(nodeId?: number, clusterId?: string): { clusterId: string; nodeId: number } {
    return loadMetaProperties(this.metaDir, nodeId, clusterId);
  }

  readLogStartCheckpoint(): Map<string, number> {
    return readOffsetCheckpoints(this.metaDir, LOG_START_OFFSET_CHECKPOINT_FILE);
  }
  writeLogStartCheckpoint(entries: Map<string, number>): void {
    this.writeCheckpoint(LOG_START_OFFSET_CHECKPOINT_FILE, entries);
  }

  readHighWatermarkCheckpoint(): Map<string, number> {
    return readOffsetCheckpoints(this.metaDir, HIGH_WATERMARK_CHECKPOINT_FILE);
  }
  writeHighWatermarkCheckpoint(entries: Map<string, number>): void {
    this.writeCheckpoint(HIGH_WATERMARK_CHECKPOINT_FILE, entries);
  }

  /** Writes this worker's copy of checkpoint `file`; a failure names the file. */
  private writeCheckpoint(file: string, entries: Map<string, number>): void {
    const path = `${this.metaDir}/${file}${this.checkpointSuffix}`;
    try {
      writeOffsetCheckpoint(path, entries);
    } catch (e) {
      throw new Error(`writing ${path}: ${e}`);
    }
  }

  private get topicsPath(): string {
    return `${this.metaDir}/${TOPICS_FILE}`;
  }
  readCatalogue(): TopicMetadata[] {
    if (!existsSync(this.topicsPath)) return [];
    const parsed = JSON.parse(readFileSync(this.topicsPath, "utf8")) as {
      version: number;
      topics: TopicMetadata[];
    };
    if (parsed.version !== 1 || !Array.isArray(parsed.topics)) {
      throw new Error(`unsupported ${this.topicsPath}`);
    }
    return parsed.topics;
  }
  writeCatalogue(topics: TopicMetadata[]): void {
    try {
      writeFileAtomic(this.topicsPath, JSON.stringify({ version: 1, topics }, null, 2) + "\n");
    } catch (e) {
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `cannot write ${this.topicsPath}: ${e}`);
    }
    fsyncDir(this.metaDir);
  }

  private partitionDir(name: string, p: number): string {
    return `${this.path}/${name}-${p}`;
  }

  /**
   * Deletes directories left by interrupted deletes (`*-delete`), and partition directories
   * whose topic id is not in the catalogue or whose partition number is beyond the topic's
   * count. Directories without partition.metadata are left alone. A directory the
   * clean-shutdown record names with a topic id of the catalogue's is not read: it was that
   * topic's partition when the last start closed, and nothing ran on the directory since.
   */
  removeStrays(
    catalogue: TopicMetadata[],
    onError: (message: string) => void,
    hosted?: (topic: string, partition: number) => boolean,
    recorded?: ReadonlyMap<string, string>,
  ): void {
    const byId = new Map(catalogue.map((t) => [t.topicId, t]));
    this.keptIds.clear();
    // Deno's listing says which entries are directories: no stat per partition.
    for (const entry of Deno.readDirSync(this.path)) {
      const name = entry.name;
      if (name === META_DIR) continue;
      const path = `${this.path}/${name}`;
      if (!(entry.isDirectory || (entry.isSymlink && isDir(path)))) continue;
      if (name.endsWith(DELETE_SUFFIX)) {
        onError(`removing ${path}: left by a topic deletion that did not finish`);
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      const known = recorded?.get(name);
      const id =
        known !== undefined && byId.get(known)?.name === name.slice(0, name.lastIndexOf("-"))
          ? known
          : readPartitionTopicId(path);
      if (id === null) continue;
      const topic = byId.get(id);
      const dash = name.lastIndexOf("-");
      const p = Number(name.slice(dash + 1));
      if (!topic || name.slice(0, dash) !== topic.name || !(p < topic.partitions)) {
        const why = !topic
          ? `its topic id ${id} is not in ${this.topicsPath}`
          : `topic ${topic.name} (id ${id}) has no such partition`;
        onError(`removing ${path}: ${why}`);
        rmSync(path, { recursive: true, force: true });
      } else if (hosted && !hosted(topic.name, p)) {
        onError(`removing ${path}: this broker no longer holds a replica of it`);
        rmSync(path, { recursive: true, force: true });
      } else {
        this.keptIds.set(name, id);
      }
    }
  }

  /** With `opens`, only noted: preparePartition clears what its mkdir finds there. */
  clearPartition(name: string, p: number, opens: boolean): void {
    this.keptIds.delete(`${name}-${p}`);
    const dir = this.partitionDir(name, p);
    if (opens) this.cleared = dir;
    else if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // not ours
  }

  preparePartition(meta: TopicMetadata, p: number, onError: (m: string) => void): PartitionPlace {
    const dir = this.partitionDir(meta.name, p);
    if (this.cleared === dir) {
      // To be made afresh (a new topic or partition). Usually nothing is there, so the mkdir
      // comes first, without a look; what is there is not ours and goes.
      this.cleared = null;
      try {
        Deno.mkdirSync(dir);
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        rmSync(dir, { recursive: true, force: true });
        Deno.mkdirSync(dir);
      }
      writePartitionMetadata(dir, meta.topicId, true);
      return { dir, sameTopic: false, fresh: true };
    }
    this.cleared = null;
    const kept = this.keptIds.get(`${meta.name}-${p}`);
    if (kept !== undefined) {
      this.keptIds.delete(`${meta.name}-${p}`);
      // Read at open a moment ago, and kept because it is this topic's: nothing to prepare.
      if (kept === meta.topicId) return { dir, sameTopic: true };
    }
    const existing = existsSync(dir) ? readPartitionTopicId(dir) : null;
    if (existsSync(dir) && existing !== null && existing !== meta.topicId) {
      onError(`removing ${dir}: it holds topic id ${existing}, not ${meta.topicId}`);
      rmSync(dir, { recursive: true, force: true }); // a previous incarnation of the name
    }
    mkdirSync(dir, { recursive: true });
    if (existing !== meta.topicId) {
      // Not fsynced: if it is lost, the directory is left alone on open and rewritten here.
      writePartitionMetadata(dir, meta.topicId);
    }
    return { dir, sameTopic: existing === meta.topicId };
  }

  removePartition(name: string, p: number): void {
    this.keptIds.delete(`${name}-${p}`);
    rmSync(this.partitionDir(name, p), { recursive: true, force: true });
  }

  deletePartition(name: string, p: number, topicId: string): void {
    this.keptIds.delete(`${name}-${p}`);
    const dir = this.partitionDir(name, p);
    const doomed = `${dir}.${topicId}${DELETE_SUFFIX}`;
    try {
      renameSync(dir, doomed);
      rmSync(doomed, { recursive: true, force: true });
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  sync(): void {
    fsyncDir(this.path);
  }

  opened(): void {
    this.keptIds.clear();
  }

  get recordsCleanShutdown(): boolean {
    return this.cleanShutdownSuffix !== null;
  }
  takeCleanShutdown(): Map<string, number> {
    if (this.cleanShutdownSuffix === null) return new Map();
    return takeCleanShutdownRecord(this.metaDir, this.cleanShutdownSuffix);
  }
  writeCleanShutdown(entries: string[]): void {
    if (this.cleanShutdownSuffix === null) return;
    writeCleanShutdownRecord(this.metaDir, this.cleanShutdownSuffix, entries);
  }
  removeOtherCleanShutdowns(): void {
    removeOtherLayouts(this.metaDir, this.cleanShutdownSuffix ?? "");
  }
}
