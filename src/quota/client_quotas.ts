/**
 * The client quota table (KIP-546): quota values per entity (a user, a client id, both, or an
 * IP), the validation AlterClientQuotas applies, the filters DescribeClientQuotas matches, and
 * Kafka's precedence for which entity's value limits a connection (DefaultQuotaCallback):
 *
 *   /users/<u>/clients/<c>  >  /users/<u>/clients/<default>  >  /users/<u>
 *   >  /users/<default>/clients/<c>  >  /users/<default>/clients/<default>  >  /users/<default>
 *   >  /clients/<c>  >  /clients/<default>
 *
 * A name of null is the `<default>` entity. The table is plain data; the store
 * (quota_store.ts) keeps it durable, the manager (client_quota_manager.ts) enforces it.
 */
import { ErrorCode } from "../../protocol/errors.ts";

export const USER = "user";
export const CLIENT_ID = "client-id";
export const IP = "ip";
const ENTITY_TYPES = [USER, CLIENT_ID, IP];

type ValueType = "long" | "int" | "double";

/** The quota keys Kafka defines (QuotaConfigs), with the value type each takes. */
const CLIENT_KEYS: Record<string, ValueType> = {
  producer_byte_rate: "long",
  consumer_byte_rate: "long",
  request_percentage: "double",
  controller_mutation_rate: "double",
};
/** IP entities take only the connection rate, stored here but not enforced. */
const IP_KEYS: Record<string, ValueType> = { connection_creation_rate: "int" };

/** The keys this broker enforces (src/quota/client_quota_manager.ts). */
export type QuotaType = "producer_byte_rate" | "consumer_byte_rate" | "request_percentage";

/** An entity: entity type to name, null for `<default>`. */
export type QuotaEntity = Record<string, string | null>;

/** A quota failure with Kafka's code, as AlterClientQuotas / DescribeClientQuotas answer it. */
export class QuotaError extends Error {
  constructor(readonly errorCode: number, message: string) {
    super(message);
  }
}

/** One entity and its values, as stored and described. */
export interface QuotaEntry {
  entity: QuotaEntity;
  values: Record<string, number>;
}

/** One alteration: set `value` under `key`, or remove the key. */
export interface QuotaOp {
  key: string;
  value: number;
  remove: boolean;
}

/** A DescribeClientQuotas filter component: 0 exact name, 1 the default, 2 any name given. */
export interface QuotaFilterComponent {
  entityType: string;
  matchType: number;
  match: string | null;
}

const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_SPECIFIED = 2;

/** A canonical key of an entity: its types sorted, each with its name or the default. */
export function entityKey(entity: QuotaEntity): string {
  return Object.keys(entity).sort().map((t) => `${t}=${JSON.stringify(entity[t])}`).join("/");
}

/** Checks an entity as Kafka's controller does before altering its quotas. */
export function validateEntity(entity: QuotaEntity): void {
  const types = Object.keys(entity);
  if (types.length === 0) {
    throw new QuotaError(ErrorCode.INVALID_REQUEST, "Invalid empty client quota entity");
  }
  for (const t of types) {
    if (!ENTITY_TYPES.includes(t)) {
      throw new QuotaError(ErrorCode.INVALID_REQUEST, `Unhandled client quota entity type: ${t}`);
    }
    if (entity[t] === "") {
      throw new QuotaError(ErrorCode.INVALID_REQUEST, `Empty ${t} not supported`);
    }
  }
  if (IP in entity && types.length > 1) {
    throw new QuotaError(
      ErrorCode.INVALID_REQUEST,
      "Invalid quota entity combination, IP entity should not be combined with User or " +
        "ClientId entities.",
    );
  }
}

/** Checks one key and value for an entity (QuotaConfigs' keys and types). */
export function validateOp(entity: QuotaEntity, op: QuotaOp): void {
  const keys = IP in entity ? IP_KEYS : CLIENT_KEYS;
  const type = keys[op.key];
  if (type === undefined) {
    throw new QuotaError(ErrorCode.INVALID_REQUEST, `Invalid configuration key ${op.key}`);
  }
  if (op.remove) return;
  if (!Number.isFinite(op.value)) {
    throw new QuotaError(ErrorCode.INVALID_REQUEST, `Invalid value for ${op.key}: ${op.value}`);
  }
  if (type !== "double" && !Number.isInteger(op.value)) {
    throw new QuotaError(
      ErrorCode.INVALID_REQUEST,
      `Configuration ${op.key} must be a ${type === "long" ? "Long" : "Int"} value`,
    );
  }
  if (op.value <= 0) {
    throw new QuotaError(
      ErrorCode.INVALID_REQUEST,
      `Quota ${op.key} must be greater than 0, got ${op.value}`,
    );
  }
}

/** Checks a describe filter as Kafka does (known types, each at most once, IP alone). */
export function validateFilter(components: QuotaFilterComponent[]): void {
  const seen = new Set<string>();
  for (const c of components) {
    if (!ENTITY_TYPES.includes(c.entityType)) {
      throw new QuotaError(
        ErrorCode.INVALID_REQUEST,
        `Custom entity type ${c.entityType} not supported`,
      );
    }
    if (seen.has(c.entityType)) {
      throw new QuotaError(
        ErrorCode.INVALID_REQUEST,
        `Entity type ${c.entityType} cannot appear more than once in the filter.`,
      );
    }
    seen.add(c.entityType);
    if (c.matchType === MATCH_EXACT && c.match === null) {
      throw new QuotaError(
        ErrorCode.INVALID_REQUEST,
        `Request specified no match for ${c.entityType}`,
      );
    }
    if (c.matchType !== MATCH_EXACT && c.match !== null) {
      throw new QuotaError(
        ErrorCode.INVALID_REQUEST,
        `Request specified a match for ${c.entityType} with match type ${c.matchType}`,
      );
    }
    if (![MATCH_EXACT, MATCH_DEFAULT, MATCH_SPECIFIED].includes(c.matchType)) {
      throw new QuotaError(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
    }
  }
  if (seen.has(IP) && seen.size > 1) {
    throw new QuotaError(
      ErrorCode.INVALID_REQUEST,
      "Invalid entity filter component combination, IP filter component should not be " +
        "used with user or clientId filter component.",
    );
  }
}

/** Whether `entity` matches the filter (`strict`: it has no other entity types). */
function matches(entity: QuotaEntity, components: QuotaFilterComponent[], strict: boolean) {
  for (const c of components) {
    if (!(c.entityType in entity)) return false;
    const name = entity[c.entityType];
    if (c.matchType === MATCH_EXACT && name !== c.match) return false;
    if (c.matchType === MATCH_DEFAULT && name !== null) return false;
    if (c.matchType === MATCH_SPECIFIED && name === null) return false;
  }
  return !strict || Object.keys(entity).length === components.length;
}

/** The quota of one type that limits a connection, and whose names its rate is kept under. */
export interface ResolvedQuota {
  bound: number;
  /** The sensor's key: the user and client id the quota is counted per (Kafka's tags). */
  sensor: string;
}

/** The quota table: entries by entity key. */
export class ClientQuotas {
  private readonly entries = new Map<string, QuotaEntry>();

  constructor(entries: QuotaEntry[] = []) {
    for (const e of entries) this.entries.set(entityKey(e.entity), e);
  }

  /** Every entry, for the store. */
  all(): QuotaEntry[] {
    return [...this.entries.values()];
  }

  /** Applies validated ops to one entity; an entity left without values is dropped. */
  apply(entity: QuotaEntity, ops: QuotaOp[]): void {
    const key = entityKey(entity);
    const values = { ...this.entries.get(key)?.values };
    for (const op of ops) {
      if (op.remove) delete values[op.key];
      else values[op.key] = op.value;
    }
    if (Object.keys(values).length === 0) this.entries.delete(key);
    else this.entries.set(key, { entity: { ...entity }, values });
  }

  /** The entries a DescribeClientQuotas filter selects (validated first). */
  describe(components: QuotaFilterComponent[], strict: boolean): QuotaEntry[] {
    validateFilter(components);
    return this.all().filter((e) => matches(e.entity, components, strict));
  }

  /** Whether any entity sets `type` (no sensor is kept otherwise). */
  has(type: QuotaType): boolean {
    for (const e of this.entries.values()) if (type in e.values) return true;
    return false;
  }

  /**
   * The quota of `type` for a user and client id, by Kafka's precedence; null when none
   * applies. A default entity limits each user (client id) on its own, not all together.
   */
  resolve(type: QuotaType, user: string, clientId: string): ResolvedQuota | null {
    const candidates: [QuotaEntity, string | null, string | null][] = [
      [{ [USER]: user, [CLIENT_ID]: clientId }, user, clientId],
      [{ [USER]: user, [CLIENT_ID]: null }, user, clientId],
      [{ [USER]: user }, user, null],
      [{ [USER]: null, [CLIENT_ID]: clientId }, user, clientId],
      [{ [USER]: null, [CLIENT_ID]: null }, user, clientId],
      [{ [USER]: null }, user, null],
      [{ [CLIENT_ID]: clientId }, null, clientId],
      [{ [CLIENT_ID]: null }, null, clientId],
    ];
    for (const [entity, u, c] of candidates) {
      const bound = this.entries.get(entityKey(entity))?.values[type];
      if (bound !== undefined) return { bound, sensor: JSON.stringify([u, c]) };
    }
    return null;
  }
}
