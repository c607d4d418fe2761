/**
 * SCRAM credentials and ACLs of a cluster, in the shared metadata store under the cluster's
 * prefix (layout in src/cluster/cluster_records.ts), as ZooKeeper-era Kafka kept them:
 *
 *   config/users/<user>                          {"version":1,"config":{"SCRAM-SHA-256":
 *                                                 "salt=…,stored_key=…,server_key=…,iterations=…"}}
 *   kafka-acl/<Literal|Prefixed>/<Type>/<name>   {"version":1,"acls":[{"principal":"User:a",
 *                                                 "permissionType":"Allow","operation":"Read",
 *                                                 "host":"*"}]}
 *
 * Names are URI-encoded in keys. Every broker (every worker) mirrors both prefixes through a
 * watch and reads its copy; any broker writes, with compare-and-swap on the keys it changes
 * (see PrefixMirror), so no write is lost to another made at the same time. Only the salt,
 * StoredKey and ServerKey of a password are stored, never the password.
 */
import type { KeyValue } from "../cluster/metadata_store.ts";
import { valueText } from "../cluster/metadata_store.ts";
import type { MirrorCodec, PrefixMirror } from "../cluster/prefix_mirror.ts";
import {
  type AclBinding,
  AclOperation,
  AclPermissionType,
  PatternType,
  ResourceType,
} from "./acl_binding.ts";
import type { AclChange, AclStore, AclUpdate } from "./acl_store.ts";
import {
  base64,
  SCRAM_MECHANISMS,
  type ScramCredential,
  type ScramMechanism,
  scramMechanismByName,
  unbase64,
} from "./sasl/scram_formatter.ts";
import type { ScramCredentialChange, ScramCredentialStore } from "./scram_credential_store.ts";

export const SCRAM_USERS_PREFIX = "config/users/";
export const ACLS_PREFIX = "kafka-acl/";

// ---- SCRAM credentials ---------------------------------------------------------------------

/** A user's credentials by mechanism name. */
export type UserCredentials = Map<string, ScramCredential>;

/** Kafka's ScramCredentialUtils form: `salt=…,stored_key=…,server_key=…,iterations=…`. */
function credentialText(c: ScramCredential): string {
  return `salt=${base64(c.salt)},stored_key=${base64(c.storedKey)},` +
    `server_key=${base64(c.serverKey)},iterations=${c.iterations}`;
}

function parseCredential(m: ScramMechanism, text: string): ScramCredential | undefined {
  const f = new Map<string, string>();
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) f.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const salt = unbase64(f.get("salt") ?? "");
  const storedKey = unbase64(f.get("stored_key") ?? "");
  const serverKey = unbase64(f.get("server_key") ?? "");
  const iterations = Number(f.get("iterations"));
  if (
    !salt || !storedKey || !serverKey || !Number.isInteger(iterations) ||
    storedKey.length !== m.keyBytes || serverKey.length !== m.keyBytes
  ) return undefined;
  return { salt, storedKey, serverKey, iterations };
}

export const USER_CREDENTIALS_CODEC: MirrorCodec<UserCredentials> = {
  encode(v) {
    const config: Record<string, string> = {};
    for (const [mech, c] of v) config[mech] = credentialText(c);
    return JSON.stringify({ version: 1, config });
  },
  decode(kv: KeyValue) {
    try {
      const doc = JSON.parse(valueText(kv)) as { config?: Record<string, string> };
      const out: UserCredentials = new Map();
      for (const [mech, text] of Object.entries(doc.config ?? {})) {
        const m = scramMechanismByName(mech);
        const c = m && typeof text === "string" ? parseCredential(m, text) : undefined;
        if (!c) return undefined;
        out.set(m!.name, c);
      }
      return out;
    } catch {
      return undefined;
    }
  },
};

const userKey = (user: string) => encodeURIComponent(user);

/** SCRAM credentials of the whole cluster, read from the local mirror of config/users/. */
export class MetadataScramCredentialStore implements ScramCredentialStore {
  constructor(
    private readonly mirror: PrefixMirror<UserCredentials>,
    /** After a change is saved and seen here (the broker tells its other workers). */
    private readonly onAltered?: () => Promise<void>,
  ) {}

  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.mirror.get(userKey(user))?.get(mechanism.name);
  }

  users(): Map<string, { mechanism: ScramMechanism; iterations: number }[]> {
    const out = new Map<string, { mechanism: ScramMechanism; iterations: number }[]>();
    for (const [key, byMech] of this.mirror.values()) {
      const list = SCRAM_MECHANISMS.filter((m) => byMech.has(m.name)).map((m) => ({
        mechanism: m,
        iterations: byMech.get(m.name)!.iterations,
      }));
      if (list.length > 0) out.set(decodeURIComponent(key), list);
    }
    return out;
  }

  async alter(changes: ScramCredentialChange[]): Promise<void> {
    await this.mirror.update((current) => {
      const set = new Map<string, UserCredentials | null>();
      for (const c of changes) {
        const key = userKey(c.user);
        const byMech = new Map(set.get(key) ?? current.get(key) ?? []);
        if (c.op === "upsert") byMech.set(c.mechanism.name, c.credential);
        else byMech.delete(c.mechanism.name);
        set.set(key, byMech.size > 0 ? byMech : null);
      }
      // A deletion of what is not there changes nothing.
      for (const [k, v] of set) if (v === null && !current.has(k)) set.delete(k);
      return { set, result: undefined };
    });
    await this.onAltered?.();
  }

  /** Re-reads the credentials (another worker changed them). */
  async refresh(): Promise<void> {
    await this.mirror.refresh();
  }
}

// ---- ACLs ----------------------------------------------------------------------------------

/** Kafka's PascalCase names of an enum's constants: CLUSTER_ACTION → ClusterAction. */
function pascalNames(codes: Record<string, number>): Map<number, string> {
  return new Map(
    Object.entries(codes).map(([k, v]) => [
      v,
      k.split("_").map((w) => w[0] + w.slice(1).toLowerCase()).join(""),
    ]),
  );
}

const RESOURCE_NAMES = pascalNames(ResourceType);
const OPERATION_NAMES = pascalNames(AclOperation);
const PERMISSION_NAMES = pascalNames(AclPermissionType);
const PATTERN_NAMES = pascalNames(PatternType);
const codeOf = (names: Map<number, string>, name: unknown) =>
  [...names].find(([, n]) => n === name)?.[0];

/** One resource's entries, as a ZooKeeper-era /kafka-acl znode held them. */
interface StoredAce {
  principal: string;
  permissionType: string;
  operation: string;
  host: string;
}

type ResourceAcls = AclBinding[];

function resourceKey(a: AclBinding): string {
  return `${PATTERN_NAMES.get(a.patternType)}/${RESOURCE_NAMES.get(a.resourceType)}/` +
    encodeURIComponent(a.resourceName);
}

/** Parses a key (relative to kafka-acl/) and its value back into bindings. */
function decodeResource(key: string, text: string): ResourceAcls | undefined {
  const [pattern, type, ...rest] = key.split("/");
  const patternType = codeOf(PATTERN_NAMES, pattern);
  const resourceType = codeOf(RESOURCE_NAMES, type);
  if (patternType === undefined || resourceType === undefined || rest.length !== 1) return;
  const resourceName = decodeURIComponent(rest[0]);
  const doc = JSON.parse(text) as { acls?: StoredAce[] };
  if (!Array.isArray(doc.acls)) return;
  const out: AclBinding[] = [];
  for (const e of doc.acls) {
    const operation = codeOf(OPERATION_NAMES, e?.operation);
    const permissionType = codeOf(PERMISSION_NAMES, e?.permissionType);
    if (
      operation === undefined || permissionType === undefined ||
      typeof e.principal !== "string" || typeof e.host !== "string"
    ) return;
    out.push({
      resourceType,
      resourceName,
      patternType,
      principal: e.principal,
      host: e.host,
      operation,
      permissionType,
    });
  }
  return out;
}

export function aclsCodec(): MirrorCodec<ResourceAcls> {
  return {
    encode: (acls) =>
      JSON.stringify({
        version: 1,
        acls: acls.map((a): StoredAce => ({
          principal: a.principal,
          permissionType: PERMISSION_NAMES.get(a.permissionType)!,
          operation: OPERATION_NAMES.get(a.operation)!,
          host: a.host,
        })),
      }),
    decode: (kv) => {
      try {
        return decodeResource(kv.key.slice(ACLS_PREFIX.length), valueText(kv));
      } catch {
        return undefined;
      }
    },
  };
}

/** The cluster's ACLs: one key per resource pattern under kafka-acl/. */
export class MetadataAclStore implements AclStore {
  constructor(private readonly mirror: PrefixMirror<ResourceAcls>) {}

  /** Calls `listener` when another broker changed the ACLs (the authorizer reloads). */
  onChange(listener: () => void): void {
    this.mirror.onChange(listener);
  }

  private current(): AclBinding[] {
    return [...this.mirror.values().values()].flat().map((a) => ({ ...a }));
  }

  /** The ACLs as the metadata store holds them now. */
  async load(): Promise<AclBinding[]> {
    await this.mirror.refresh();
    return this.current();
  }

  async save(acls: readonly AclBinding[]): Promise<void> {
    await this.update(() => ({ acls: [...acls], result: undefined }));
  }

  async update<R>(change: (current: AclBinding[]) => AclChange<R>): Promise<AclUpdate<R>> {
    const result = await this.mirror.update((byResource) => {
      const current = [...byResource.values()].flat().map((a) => ({ ...a }));
      const c = change(current);
      const set = new Map<string, ResourceAcls | null>();
      if (c.acls === null) return { set, result: c.result };
      const next = new Map<string, ResourceAcls>();
      for (const a of c.acls) {
        const k = resourceKey(a);
        const list = next.get(k);
        if (list) list.push({ ...a });
        else next.set(k, [{ ...a }]);
      }
      const codec = aclsCodec();
      for (const k of new Set([...byResource.keys(), ...next.keys()])) {
        const before = byResource.get(k);
        const after = next.get(k);
        if (!after) set.set(k, null);
        else if (!before || codec.encode(before) !== codec.encode(after)) set.set(k, after);
      }
      return { set, result: c.result };
    });
    return { acls: this.current(), result };
  }
}
