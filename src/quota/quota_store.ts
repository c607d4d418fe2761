/**
 * Where the client quota table is kept. Behind an interface so that the cluster work can keep
 * it in the shared metadata store (etcd) instead; today it is one JSON file in the data
 * directory, `meta/client-quotas.json`, replaced atomically (temp file, fsync, rename) on every
 * change, so a crash leaves the old table or the new one, never a torn file.
 */
import { join } from "node:path";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { fsyncDir, writeFileAtomic } from "../../storage/file_io.ts";
import type { QuotaEntry } from "./client_quotas.ts";

export interface ClientQuotaStore {
  load(): QuotaEntry[];
  save(entries: QuotaEntry[]): void;
}

/** The file under the data directory. */
export class FileClientQuotaStore implements ClientQuotaStore {
  private readonly path: string;

  constructor(private readonly dataDir: string) {
    this.path = join(dataDir, "meta", "client-quotas.json");
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
}
