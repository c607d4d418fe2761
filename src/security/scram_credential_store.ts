/**
 * SCRAM credentials: per user and mechanism, the salt, iteration count, StoredKey and
 * ServerKey (RFC 5802), never the password. The SCRAM server reads them; the admin APIs
 * (AlterUserScramCredentials, DescribeUserScramCredentials) change and list them.
 *
 * The store is an interface: a cluster member keeps credentials in the shared metadata store
 * (metadata_security_store.ts); `FileScramCredentialStore` keeps them in
 * `<dataDir>/meta/scram-credentials.json`, replaced atomically (temp file, fsync, rename) like
 * the topic catalogue. Every worker opens
 * the same file and rereads it when it changed, so a credential altered on the controller is
 * seen by the worker that authenticates the next connection.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDir, writeFileAtomic } from "../../storage/file_io.ts";
import { log } from "../log.ts";
import {
  base64,
  SCRAM_MECHANISMS,
  type ScramCredential,
  type ScramMechanism,
  scramMechanismByName,
  unbase64,
} from "./sasl/scram_formatter.ts";
import type { ScramCredentialSource } from "./sasl/scram.ts";

export const SCRAM_CREDENTIALS_FILE = "meta/scram-credentials.json";

/** One change of an AlterUserScramCredentials request, already validated. */
export type ScramCredentialChange =
  | { op: "upsert"; user: string; mechanism: ScramMechanism; credential: ScramCredential }
  | { op: "delete"; user: string; mechanism: ScramMechanism };

export interface ScramCredentialStore extends ScramCredentialSource {
  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined;
  /** Every user with at least one credential, with their mechanisms and iteration counts. */
  users(): Map<string, { mechanism: ScramMechanism; iterations: number }[]>;
  /** Applies all changes, or none (one durable write). */
  alter(changes: ScramCredentialChange[]): Promise<void>;
}

type Users = Map<string, Map<string, ScramCredential>>;

interface StoredCredential {
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

export class FileScramCredentialStore implements ScramCredentialStore {
  private data: Users = new Map();
  /** mtime and size of the file as last read, to notice another worker's write. */
  private seen = "";

  constructor(readonly path: string) {
    this.reloadIfChanged();
  }

  /** The store of a data directory. */
  static inDataDir(dataDir: string): FileScramCredentialStore {
    return new FileScramCredentialStore(`${dataDir}/${SCRAM_CREDENTIALS_FILE}`);
  }

  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    this.reloadIfChanged();
    return this.data.get(user)?.get(mechanism.name);
  }

  users(): Map<string, { mechanism: ScramMechanism; iterations: number }[]> {
    this.reloadIfChanged();
    const out = new Map<string, { mechanism: ScramMechanism; iterations: number }[]>();
    for (const [user, byMech] of this.data) {
      const list = SCRAM_MECHANISMS.filter((m) => byMech.has(m.name)).map((m) => ({
        mechanism: m,
        iterations: byMech.get(m.name)!.iterations,
      }));
      if (list.length > 0) out.set(user, list);
    }
    return out;
  }

  alter(changes: ScramCredentialChange[]): Promise<void> {
    this.reloadIfChanged();
    const next: Users = new Map([...this.data].map(([u, m]) => [u, new Map(m)]));
    for (const c of changes) {
      const byMech = next.get(c.user) ?? new Map<string, ScramCredential>();
      if (c.op === "upsert") byMech.set(c.mechanism.name, c.credential);
      else byMech.delete(c.mechanism.name);
      if (byMech.size > 0) next.set(c.user, byMech);
      else next.delete(c.user);
    }
    this.write(next);
    this.data = next;
    return Promise.resolve();
  }

  private write(users: Users): void {
    const out: Record<string, Record<string, StoredCredential>> = {};
    for (const [user, byMech] of users) {
      out[user] = {};
      for (const [mech, c] of byMech) {
        out[user][mech] = {
          salt: base64(c.salt),
          storedKey: base64(c.storedKey),
          serverKey: base64(c.serverKey),
          iterations: c.iterations,
        };
      }
    }
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(this.path, JSON.stringify({ version: 1, users: out }, null, 1) + "\n");
    fsyncDir(dir);
    this.seen = this.stamp();
  }

  private stamp(): string {
    try {
      const s = statSync(this.path);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return "";
    }
  }

  private reloadIfChanged(): void {
    const stamp = this.stamp();
    if (stamp === this.seen) return;
    this.seen = stamp;
    this.data = existsSync(this.path) ? this.read() : new Map();
  }

  /** Reads the file; an entry that does not parse is skipped with a warning, not fatal. */
  private read(): Users {
    const users: Users = new Map();
    let parsed: { users?: Record<string, Record<string, StoredCredential>> };
    try {
      parsed = JSON.parse(readFileSync(this.path, "utf8"));
    } catch (e) {
      log.warn(`${this.path}: unreadable, no SCRAM credentials loaded: ${(e as Error).message}`);
      return users;
    }
    for (const [user, byMech] of Object.entries(parsed.users ?? {})) {
      for (const [mech, c] of Object.entries(byMech ?? {})) {
        const m = scramMechanismByName(mech);
        const salt = unbase64(String(c?.salt));
        const storedKey = unbase64(String(c?.storedKey));
        const serverKey = unbase64(String(c?.serverKey));
        if (
          !m || !salt || !storedKey || !serverKey || !Number.isInteger(c.iterations) ||
          storedKey.length !== m.keyBytes || serverKey.length !== m.keyBytes
        ) {
          log.warn(`${this.path}: skipping a malformed ${mech} credential of user ${user}`);
          continue;
        }
        const entry = users.get(user) ?? new Map<string, ScramCredential>();
        entry.set(m.name, { salt, storedKey, serverKey, iterations: c.iterations });
        users.set(user, entry);
      }
    }
    return users;
  }
}

/** An in-memory store (tests, and a broker without a data directory). */
export class MemoryScramCredentialStore implements ScramCredentialStore {
  private readonly data: Users = new Map();

  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.data.get(user)?.get(mechanism.name);
  }

  users(): Map<string, { mechanism: ScramMechanism; iterations: number }[]> {
    const out = new Map<string, { mechanism: ScramMechanism; iterations: number }[]>();
    for (const [user, byMech] of this.data) {
      out.set(
        user,
        SCRAM_MECHANISMS.filter((m) => byMech.has(m.name)).map((m) => ({
          mechanism: m,
          iterations: byMech.get(m.name)!.iterations,
        })),
      );
    }
    return out;
  }

  alter(changes: ScramCredentialChange[]): Promise<void> {
    for (const c of changes) {
      const byMech = this.data.get(c.user) ?? new Map<string, ScramCredential>();
      if (c.op === "upsert") byMech.set(c.mechanism.name, c.credential);
      else byMech.delete(c.mechanism.name);
      if (byMech.size > 0) this.data.set(c.user, byMech);
      else this.data.delete(c.user);
    }
    return Promise.resolve();
  }
}
