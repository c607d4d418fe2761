/**
 * Where the authorizer keeps its ACLs. A small asynchronous interface with two backends: a
 * broker on its own keeps them in the data directory, one JSON file replaced atomically on
 * every change (a crash leaves the old set or the new one); a cluster member keeps them in
 * the shared metadata store (src/security/metadata_security_store.ts), for every broker.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { fsyncDir, writeFileAtomic } from "../../storage/file_io.ts";
import type { AclBinding } from "./acl_binding.ts";

export interface AclStore {
  /** Every ACL saved so far. */
  load(): Promise<AclBinding[]>;
  /** Replaces the saved ACLs with `acls`; durable when it resolves. */
  save(acls: readonly AclBinding[]): Promise<void>;
  /**
   * Computes a change from the ACLs as saved now (`acls` null: no change) and saves it, as
   * one atomic step even against other brokers' writers. Resolves with the ACLs then saved.
   */
  update<R>(change: (current: AclBinding[]) => AclChange<R>): Promise<AclUpdate<R>>;
}

/** What an ACL change makes of the current ACLs: the new set (null: unchanged). */
export interface AclChange<R> {
  acls: AclBinding[] | null;
  result: R;
}

export interface AclUpdate<R> {
  acls: AclBinding[];
  result: R;
}

/** update() for a store with one writer (the authorizer serialises its changes): load, save. */
async function loadAndSave<R>(
  store: AclStore,
  change: (current: AclBinding[]) => AclChange<R>,
): Promise<AclUpdate<R>> {
  const current = await store.load();
  const { acls, result } = change(current);
  if (acls === null) return { acls: current, result };
  await store.save(acls);
  return { acls, result };
}

/** The ACL file in a data directory. */
export const ACL_FILE = "meta/acls.json";

const FIELDS = [
  "resourceType",
  "resourceName",
  "patternType",
  "principal",
  "host",
  "operation",
  "permissionType",
] as const;

/** ACLs in `<dataDir>/meta/acls.json`. */
export class FileAclStore implements AclStore {
  readonly path: string;

  constructor(private readonly dataDir: string) {
    this.path = `${dataDir}/${ACL_FILE}`;
  }

  /**
   * Throws on a file that cannot be read: starting without the ACLs would silently change who
   * may do what.
   */
  load(): Promise<AclBinding[]> {
    return Promise.resolve().then(() => this.read());
  }

  private read(): AclBinding[] {
    if (!existsSync(this.path)) return [];
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(this.path, "utf8"));
    } catch (e) {
      throw new Error(`cannot read ACLs from ${this.path}: ${(e as Error).message}`);
    }
    const acls = (saved as { acls?: unknown })?.acls;
    if (!Array.isArray(acls) || !acls.every(isBinding)) {
      throw new Error(`cannot read ACLs from ${this.path}: not an ACL list`);
    }
    return acls.map((a) =>
      Object.fromEntries(FIELDS.map((f) => [f, a[f]])) as unknown as AclBinding
    );
  }

  save(acls: readonly AclBinding[]): Promise<void> {
    return Promise.resolve().then(() => {
      mkdirSync(`${this.dataDir}/meta`, { recursive: true });
      writeFileAtomic(this.path, JSON.stringify({ version: 1, acls }, null, 1));
      fsyncDir(`${this.dataDir}/meta`);
    });
  }

  update<R>(change: (current: AclBinding[]) => AclChange<R>): Promise<AclUpdate<R>> {
    return loadAndSave(this, change);
  }
}

function isBinding(a: unknown): a is AclBinding {
  if (typeof a !== "object" || a === null) return false;
  const r = a as Record<string, unknown>;
  return typeof r.resourceName === "string" && typeof r.principal === "string" &&
    typeof r.host === "string" && typeof r.resourceType === "number" &&
    typeof r.patternType === "number" && typeof r.operation === "number" &&
    typeof r.permissionType === "number";
}

/** ACLs in memory: tests, and memory storage (nothing written). */
export class MemoryAclStore implements AclStore {
  private acls: AclBinding[] = [];
  load(): Promise<AclBinding[]> {
    return Promise.resolve(this.acls.map((a) => ({ ...a })));
  }
  save(acls: readonly AclBinding[]): Promise<void> {
    this.acls = acls.map((a) => ({ ...a }));
    return Promise.resolve();
  }
  update<R>(change: (current: AclBinding[]) => AclChange<R>): Promise<AclUpdate<R>> {
    return loadAndSave(this, change);
  }
}
