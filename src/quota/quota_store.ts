/**
 * Where the client quota table is kept. A broker on its own keeps one JSON file in the data
 * directory, `meta/client-quotas.json`, replaced atomically (temp file, fsync, rename) on every
 * change, so a crash leaves the old table or the new one, never a torn file; a cluster member
 * keeps the table in the shared metadata store (metadata_quota_store.ts), for every broker.
 */
import { join } from "node:path";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { fsyncDir, writeFileAtomic } from "../../storage/file_io.ts";
import type { QuotaEntry } from "./client_quotas.ts";

export interface ClientQuotaStore {
  /** The table as last read (synchronous: the request path consults it). */
  load(): QuotaEntry[];
  /**
   * Computes the new table from the one saved now and saves it, as one atomic step even
   * against other brokers' writers. Resolves with the table then saved.
   */
  update(change: (current: QuotaEntry[]) => QuotaEntry[]): Promise<QuotaEntry[]>;
  /** Re-reads a shared table (another worker changed it); absent for a local file. */
  refresh?(): Promise<void>;
}

/** update() of a store with one writer: load, change, save. */
function loadAndSave(
  store: { load(): QuotaEntry[]; save(entries: QuotaEntry[]): void },
  change: (current: QuotaEntry[]) => QuotaEntry[],
): Promise<QuotaEntry[]> {
  return Promise.resolve().then(() => {
    const next = change(store.load());
    store.save(next);
    return next;
  });
}

/** The table's file in a data directory. */
export const CLIENT_QUOTAS_FILE = "meta/client-quotas.json";

/** The file under the data directory. */
export class FileClientQuotaStore implements ClientQuotaStore {
  private readonly path: string;

  constructor(private readonly dataDir: string) {
    this.path = join(dataDir, CLIENT_QUOTAS_FILE);
  }

  load(): QuotaEntry[] {
    if (!existsSync(this.path)) return [];
    const doc = JSON.parse(readFileSync(this.path, "utf8")) as { entries?: QuotaEntry[] };
    return doc.entries ?? [];
  }

  save(entries: QuotaEntry[]): void {
    const dir = join(this.dataDir, "meta");
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(this.path, JSON.stringify({ version: 1, entries }, null, 2) + "\n");
    fsyncDir(dir);
  }

  update(change: (current: QuotaEntry[]) => QuotaEntry[]): Promise<QuotaEntry[]> {
    return loadAndSave(this, change);
  }
}

/** A store that keeps nothing beyond the process (tests, embedders without a data dir). */
export class MemoryClientQuotaStore implements ClientQuotaStore {
  private entries: QuotaEntry[] = [];
  load(): QuotaEntry[] {
    return structuredClone(this.entries);
  }
  save(entries: QuotaEntry[]): void {
    this.entries = structuredClone(entries);
  }
  update(change: (current: QuotaEntry[]) => QuotaEntry[]): Promise<QuotaEntry[]> {
    return loadAndSave(this, change);
  }
}
