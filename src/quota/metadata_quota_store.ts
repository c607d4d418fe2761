/**
 * The client quota table of a cluster, in the shared metadata store, one key per entity in
 * ZooKeeper-era Kafka's paths (under `config/quotas/` so the entity paths do not mix with the
 * SCRAM credentials of `config/users/`):
 *
 *   config/quotas/users/<user>                  {"version":1,"config":{"producer_byte_rate":…}}
 *   config/quotas/users/<user>/clients/<id>
 *   config/quotas/clients/<id>
 *   config/quotas/ips/<ip>
 *
 * `<default>` names the default entity; other names are URI-encoded (so a user literally
 * named `<default>` is `%3Cdefault%3E`). Every broker mirrors the prefix through a watch and
 * writes with compare-and-swap on the entity keys it changes (PrefixMirror).
 */
import { valueText } from "../cluster/metadata_store.ts";
import type { MirrorCodec, PrefixMirror } from "../cluster/prefix_mirror.ts";
import { CLIENT_ID, IP, type QuotaEntity, type QuotaEntry, USER } from "./client_quotas.ts";
import type { ClientQuotaStore } from "./quota_store.ts";

export const QUOTAS_PREFIX = "config/quotas/";

const DEFAULT = "<default>";
/** Entity types in path order, with their path segment. */
const SEGMENTS: [string, string][] = [[USER, "users"], [CLIENT_ID, "clients"], [IP, "ips"]];

/** An entity's key under config/quotas/. */
export function entityPath(entity: QuotaEntity): string {
  const parts: string[] = [];
  for (const [type, segment] of SEGMENTS) {
    if (!(type in entity)) continue;
    const name = entity[type];
    parts.push(segment, name === null ? DEFAULT : encodeURIComponent(name));
  }
  // Entity types this broker does not know (validation refuses them) keep their own name.
  for (const type of Object.keys(entity).sort()) {
    if (SEGMENTS.some(([t]) => t === type)) continue;
    const name = entity[type];
    parts.push(encodeURIComponent(type), name === null ? DEFAULT : encodeURIComponent(name));
  }
  return parts.join("/");
}

/** The entity of a key under config/quotas/, or undefined. */
export function parseEntityPath(path: string): QuotaEntity | undefined {
  const parts = path.split("/");
  if (parts.length === 0 || parts.length % 2 !== 0) return undefined;
  const entity: QuotaEntity = {};
  for (let i = 0; i < parts.length; i += 2) {
    const type = SEGMENTS.find(([, s]) => s === parts[i])?.[0] ?? decodeURIComponent(parts[i]);
    entity[type] = parts[i + 1] === DEFAULT ? null : decodeURIComponent(parts[i + 1]);
  }
  return entity;
}

type Values = Record<string, number>;

export const QUOTA_VALUES_CODEC: MirrorCodec<Values> = {
  encode: (values) => JSON.stringify({ version: 1, config: values }),
  decode(kv) {
    try {
      const doc = JSON.parse(valueText(kv)) as { config?: Record<string, unknown> };
      const out: Values = {};
      for (const [k, v] of Object.entries(doc.config ?? {})) {
        if (typeof v !== "number" || !Number.isFinite(v)) return undefined;
        out[k] = v;
      }
      return out;
    } catch {
      return undefined;
    }
  },
};

export class MetadataClientQuotaStore implements ClientQuotaStore {
  constructor(private readonly mirror: PrefixMirror<Values>) {}

  /** Calls `listener` when another broker changed the table (the manager reloads). */
  onChange(listener: () => void): void {
    this.mirror.onChange(listener);
  }

  private entries(current: Map<string, Values>): QuotaEntry[] {
    const out: QuotaEntry[] = [];
    for (const [path, values] of current) {
      const entity = parseEntityPath(path);
      if (entity) out.push({ entity, values: { ...values } });
    }
    return out;
  }

  load(): QuotaEntry[] {
    return this.entries(this.mirror.values());
  }

  async update(change: (current: QuotaEntry[]) => QuotaEntry[]): Promise<QuotaEntry[]> {
    await this.mirror.update((current) => {
      const next = new Map<string, Values>();
      for (const e of change(this.entries(current))) {
        if (Object.keys(e.values).length > 0) next.set(entityPath(e.entity), e.values);
      }
      const set = new Map<string, Values | null>();
      for (const k of new Set([...current.keys(), ...next.keys()])) {
        const after = next.get(k);
        if (!after) set.set(k, null);
        else if (JSON.stringify(current.get(k)) !== JSON.stringify(after)) set.set(k, after);
      }
      return { set, result: undefined };
    });
    return this.load();
  }

  async refresh(): Promise<void> {
    await this.mirror.refresh();
  }
}
