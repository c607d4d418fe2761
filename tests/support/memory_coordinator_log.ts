/**
 * The group coordinator's log in memory, shared by every coordinator unit test and held to
 * the same contract as GroupMetadataLog by tests/unit/coordinator_logs_test.ts. Beyond the
 * contract it can fail appends (`failWith`), hold them until released (`hold`), write a
 * transaction marker, and compact the way `cleanup.policy=compact` would.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type {
  CoordinatorAppendOptions,
  CoordinatorLog,
  LogRecord,
} from "../../src/group/group_metadata_log.ts";
import { partitionFor } from "../../src/internal_topic.ts";

/** A stored record (or, with `marker` set, a transaction marker: true commits). */
export interface MemoryLogEntry extends LogRecord {
  groupId: string;
  producerId: number;
  marker?: boolean;
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

export class MemoryCoordinatorLog implements CoordinatorLog {
  records: MemoryLogEntry[] = [];
  /** Every append rejects with this error while set. */
  failWith?: KafkaError;
  /** While true, appends wait for `release`. */
  hold = false;
  private held: ((e?: KafkaError) => void)[] = [];

  /** `partitions` only decides which partition `beforeAppend` is told. */
  constructor(readonly partitions = 1) {}

  append(groupId: string, records: LogRecord[], opts: CoordinatorAppendOptions = {}) {
    if (records.length === 0) return Promise.resolve();
    if (this.failWith) return Promise.reject(this.failWith);
    const code = opts.beforeAppend?.(partitionFor(groupId, this.partitions)) ?? ErrorCode.NONE;
    if (code !== ErrorCode.NONE) return Promise.reject(new KafkaError(code, "append cancelled"));
    const producerId = opts.transactional?.producerId ?? -1;
    const store = () => {
      for (const r of records) this.records.push({ groupId, producerId, ...r });
    };
    if (!this.hold) {
      store();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) =>
      this.held.push((e) => {
        if (e) return reject(e);
        store();
        resolve();
      })
    );
  }

  /** Completes the held appends in order; the first `failFirst` fail with `e`. */
  release(e?: KafkaError, failFirst = 0): void {
    this.held.splice(0).forEach((f, i) => f(i < failFirst ? e : undefined));
  }

  /** A transaction marker of `producerId` (commit or abort). */
  marker(producerId: number, commit: boolean, groupId = ""): void {
    const key = new Uint8Array(0);
    this.records.push({ groupId, producerId, key, value: null, marker: commit });
  }

  load(
    fn: (key: Uint8Array, value: Uint8Array | null, producerId: number) => void,
    onMarker?: (producerId: number, commit: boolean) => void,
  ): Promise<void> {
    for (const r of this.records) {
      if (r.marker !== undefined) onMarker?.(r.producerId, r.marker);
      else fn(r.key, r.value, r.producerId);
    }
    return Promise.resolve();
  }

  /** While set, partition loads wait for it (a slow load, in cluster-mode tests). */
  loadGate: Promise<void> | null = null;

  async loadPartition(
    partition: number,
    fn: (key: Uint8Array, value: Uint8Array | null, producerId: number) => void,
    onMarker?: (producerId: number, commit: boolean) => void,
  ): Promise<void> {
    if (this.loadGate) await this.loadGate;
    for (const r of this.records) {
      if (partitionFor(r.groupId, this.partitions) !== partition) continue;
      if (r.marker !== undefined) onMarker?.(r.producerId, r.marker);
      else fn(r.key, r.value, r.producerId);
    }
  }

  partitionCount(): number {
    return this.partitions;
  }

  /** What compaction leaves: the last record per key, tombstones removed. */
  compact(): void {
    const last = new Map<string, MemoryLogEntry>();
    for (const r of this.records) {
      if (r.marker !== undefined) continue;
      const k = hex(r.key);
      last.delete(k);
      last.set(k, r);
    }
    this.records = [...last.values()].filter((r) => r.value !== null);
  }
}
