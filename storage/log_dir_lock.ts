/**
 * The data directory's `.lock` (Kafka's per-log-dir lock file): one broker at a time. A second
 * broker on the same directory would append at the offsets the first already acknowledged,
 * rewrite topics.json over it and, on its next start, remove partition directories it does
 * not know. The lock is an exclusive flock on `<dataDir>/.lock`, taken without waiting; the
 * brokers of this process are also kept in a registry, so two in one process are refused even
 * where the OS would let one process take its own lock twice.
 */
import { realpathSync } from "node:fs";

export const LOCK_FILE = ".lock";

/** Data directories (real paths) locked by this process. */
const held = new Set<string>();

/** Another broker holds the data directory. */
export class LogDirLockedError extends Error {
  /** `lockPath` is the `.lock` file of `dataDir` that another process holds. */
  constructor(readonly lockPath: string, readonly dataDir: string) {
    super(
      `failed to acquire lock on ${lockPath}: another broker is using the data directory ` +
        `${dataDir}`,
    );
    this.name = "LogDirLockedError";
  }
}

export class LogDirLock {
  private released = false;

  private constructor(
    private readonly file: Deno.FsFile,
    private readonly key: string,
  ) {}

  /** Locks `dataDir` (which must exist); throws LogDirLockedError when another broker has it. */
  static acquire(dataDir: string): LogDirLock {
    const key = realpathSync(dataDir);
    const lockPath = `${dataDir}/${LOCK_FILE}`;
    if (held.has(key)) throw new LogDirLockedError(lockPath, dataDir);
    const file = Deno.openSync(lockPath, { read: true, write: true, create: true });
    let locked = false;
    try {
      locked = file.tryLockSync(true);
    } finally {
      if (!locked) file.close();
    }
    if (!locked) throw new LogDirLockedError(lockPath, dataDir);
    held.add(key);
    return new LogDirLock(file, key);
  }

  /** Unlocks (closing the file releases the flock); idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.key);
    try {
      this.file.close();
    } catch {
      // already closed
    }
  }
}
