/**
 * The memory engine's LogDirectory: the catalogue lives only in the LogManager's own map,
 * checkpoints have nothing to survive, and no directory is created or needed. The cluster id
 * is fresh on every start, as for a new data directory.
 */
import type { LogDirectory, PartitionPlace, TopicMetadata } from "./log_directory.ts";
import { randomUuid } from "./topic_id.ts";

/** What a memory-engine broker reports as its data directory: it has none. */
export const MEMORY_DATA_DIR = "(memory)";

export class MemoryLogDirectory implements LogDirectory {
  readonly engine = "memory" as const;
  readonly path = MEMORY_DATA_DIR;
  /** The LogCleaner's first dirty offsets stay in memory. */
  readonly cleanerCheckpointDir = null;
  private readonly clusterId = randomUuid();

  identity(nodeId?: number, clusterId?: string): { clusterId: string; nodeId: number } {
    return { clusterId: clusterId ?? this.clusterId, nodeId: nodeId ?? 1 };
  }
  readLogStartCheckpoint(): Map<string, number> {
    return new Map();
  }
  writeLogStartCheckpoint(): void {}
  readHighWatermarkCheckpoint(): Map<string, number> {
    return new Map();
  }
  writeHighWatermarkCheckpoint(): void {}
  readCatalogue(): TopicMetadata[] {
    return [];
  }
  writeCatalogue(): void {}
  removeStrays(): void {}
  clearPartition(): void {}
  preparePartition(meta: TopicMetadata, p: number): PartitionPlace {
    return { dir: `${meta.name}-${p}`, sameTopic: false };
  }
  removePartition(): void {}
  deletePartition(): void {}
  sync(): void {}
  opened(): void {}
  readonly recordsCleanShutdown = false;
  takeCleanShutdown(): Map<string, number> {
    return new Map();
  }
  writeCleanShutdown(): void {}
  removeOtherCleanShutdowns(): void {}
}
