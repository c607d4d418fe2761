/**
 * The users SASL/PLAIN checks passwords against, from two places:
 *  - the users file (`sasl.plain.users.file`): `name = pbkdf2-sha512$<iterations>$<salt>$<hash>`
 *    lines in java.util.Properties syntax (`#` comments; `deno task tributary hash-password`
 *    prints a hash), so the broker never holds a password it could leak;
 *  - the `user_<name>="<password>"` options of PlainLoginModule in `sasl.jaas.config`, as
 *    Kafka's PlainServerCallbackHandler reads them (plain text, as in Kafka).
 * A user in both must match the file's hash (the file wins). The file is reread when it
 * changes, so users can be added without a restart.
 */
import { readFileSync, statSync } from "node:fs";
import { parseProperties } from "../properties.ts";
import { log } from "../log.ts";
import type { JaasEntry } from "./jaas.ts";
import { parsePasswordHash, verifyPassword } from "./password_hash.ts";
import type { PlainCredentials } from "./sasl/plain.ts";
import { constantTimeEqual, utf8 } from "./sasl/sasl_server.ts";

export const PLAIN_LOGIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule";

/** Reads a users file; throws Error naming the line's user when a hash is malformed. */
export function parseUsersFile(text: string, path = "users file"): Map<string, string> {
  const users = parseProperties(text);
  for (const [user, hash] of users) {
    if (!parsePasswordHash(hash)) {
      throw new Error(
        `${path}: the password of user '${user}' is not a pbkdf2-sha512$iterations$salt$hash ` +
          "hash (deno task tributary hash-password makes one)",
      );
    }
  }
  return users;
}

/** The `user_<name>` passwords of a PlainLoginModule entry. */
export function jaasPlainUsers(entry: JaasEntry | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!entry) return out;
  for (const [k, v] of entry.options) if (k.startsWith("user_")) out.set(k.slice(5), v);
  return out;
}

export class PlainUsers implements PlainCredentials {
  private fileUsers = new Map<string, string>();
  private seen = "";

  constructor(
    private readonly file: string | null,
    private readonly jaasUsers: Map<string, string> = new Map(),
  ) {
    // A broken file at start is a start-up error; later, the last good contents stay.
    if (file) this.fileUsers = parseUsersFile(readFileSync(file, "utf8"), file);
    this.seen = this.stamp();
  }

  async authenticate(user: string, password: string): Promise<boolean> {
    this.reloadIfChanged();
    const hash = this.fileUsers.get(user);
    if (hash !== undefined) return await verifyPassword(hash, password);
    const plain = this.jaasUsers.get(user);
    if (plain === undefined) return false;
    return constantTimeEqual(utf8.encode(plain), utf8.encode(password));
  }

  private stamp(): string {
    if (!this.file) return "";
    try {
      const s = statSync(this.file);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return "";
    }
  }

  private reloadIfChanged(): void {
    if (!this.file) return;
    const stamp = this.stamp();
    if (stamp === this.seen) return;
    this.seen = stamp;
    try {
      this.fileUsers = parseUsersFile(readFileSync(this.file, "utf8"), this.file);
    } catch (e) {
      log.warn(`${this.file}: not reloaded, keeping the previous users: ${(e as Error).message}`);
    }
  }
}
