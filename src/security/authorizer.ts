/**
 * The ACL authorizer, with Kafka's StandardAuthorizer semantics: an action (operation on a
 * resource) is allowed for a super user; otherwise denied if any DENY ACL matches, allowed if
 * an ALLOW ACL matches (READ, WRITE, DELETE and ALTER imply DESCRIBE, ALTER_CONFIGS implies
 * DESCRIBE_CONFIGS, ALL implies everything), and when no ACL names the resource at all,
 * allowed only with `allow.everyone.if.no.acl.found`. An ACL matches a resource by its literal
 * name, the literal wildcard `*`, or a prefix; a principal by name or `User:*`; a host by
 * address or `*`. Without `authorizer.class.name` the broker runs the allow-all one, as Kafka
 * does without an authorizer (and the ACL APIs answer SECURITY_DISABLED).
 */
import { KafkaError } from "../../protocol/errors.ts";
import {
  type AclBinding,
  type AclBindingFilter,
  AclOperation,
  AclPermissionType,
  filterMatches,
  PatternType,
  sameAcl,
  SUPPORTED_OPERATIONS,
  validateFilter,
  validateNewAcl,
  WILDCARD_HOST,
  WILDCARD_PRINCIPAL,
  WILDCARD_RESOURCE,
} from "./acl_binding.ts";
import type { AclChange, AclStore } from "./acl_store.ts";
import type { Session } from "./session.ts";

/** Who asks: the connection's session and the client's address (a RequestContext is one). */
export interface AuthorizableRequest {
  readonly session: Readonly<Session>;
  readonly clientHost: string;
}

/** One ACL creation's outcome: null, or the error (a KafkaError) to answer it with. */
export type AclCreateResult = KafkaError | null;

/** One delete filter's outcome: the ACLs it removed, or the error. */
export type AclDeleteResult = { error: KafkaError } | { deleted: AclBinding[] };

/** What handlers ask of the authorizer (`ctx.services.authorizer`). */
export interface AuthorizerApi {
  /** False for the allow-all authorizer of a broker without `authorizer.class.name`. */
  readonly enabled: boolean;
  /**
   * Whether `who` may do `op` on the resource. A denial is counted in the metrics unless
   * `quiet` (checks whose denial is no refusal, as Kafka's `logIfDenied = false`).
   */
  authorize(
    who: AuthorizableRequest,
    op: number,
    resourceType: number,
    name: string,
    quiet?: boolean,
  ): boolean;
  /** The names among `names` that `who` may do `op` on (Kafka's filterByAuthorized). */
  filterAuthorized(
    who: AuthorizableRequest,
    op: number,
    resourceType: number,
    names: Iterable<string>,
    quiet?: boolean,
  ): Set<string>;
  /** Whether `who` may do `op` on some resource of the type (Kafka's authorizeByResourceType). */
  authorizeByResourceType(who: AuthorizableRequest, op: number, resourceType: number): boolean;
  /** The authorized-operations bit set of a resource, as Kafka encodes it (1 << operation). */
  authorizedOperations(who: AuthorizableRequest, resourceType: number, name: string): number;
  /**
   * Creates ACLs; one result per binding, in order (an existing ACL is no error). Resolves
   * once the change is saved.
   */
  createAcls(bindings: AclBinding[]): Promise<AclCreateResult[]>;
  /**
   * Deletes the ACLs matching each filter; one result per filter, in order (an ACL two
   * filters match is reported by the first). Resolves once the change is saved.
   */
  deleteAcls(filters: AclBindingFilter[]): Promise<AclDeleteResult[]>;
  /** The ACLs matching a filter (throws INVALID_REQUEST for a bad filter). */
  describeAcls(filter: AclBindingFilter): AclBinding[];
}

/** Whether an ALLOW ACL of `aclOp` grants `op` (Kafka's implied operations). */
function allowGrants(aclOp: number, op: number): boolean {
  if (aclOp === op || aclOp === AclOperation.ALL) return true;
  if (op === AclOperation.DESCRIBE) {
    return aclOp === AclOperation.READ || aclOp === AclOperation.WRITE ||
      aclOp === AclOperation.DELETE || aclOp === AclOperation.ALTER;
  }
  return op === AclOperation.DESCRIBE_CONFIGS && aclOp === AclOperation.ALTER_CONFIGS;
}

/** Kafka's `super.users`: principals separated by semicolons. */
export function parseSuperUsers(value: string | null | undefined): Set<string> {
  return new Set((value ?? "").split(";").map((s) => s.trim()).filter((s) => s !== ""));
}

export interface StandardAuthorizerOptions {
  superUsers?: Iterable<string>;
  allowEveryoneIfNoAclFound?: boolean;
  /** Counts a denial (the broker's metrics). */
  onDenied?: (resourceType: number, op: number) => void;
  /** Called after ACLs changed and were saved (the broker tells its other workers). */
  onChanged?: () => void;
}

/** The ACLs of one resource type, indexed for lookups. */
interface TypeIndex {
  literal: Map<string, AclBinding[]>;
  prefixed: AclBinding[];
}

export class StandardAuthorizer implements AuthorizerApi {
  readonly enabled = true;
  private readonly superUsers: Set<string>;
  private readonly allowEveryone: boolean;
  private acls: AclBinding[] = [];
  private index = new Map<number, TypeIndex>();
  /** Changes one after another: each starts from the ACLs the one before saved. */
  private writes: Promise<unknown> = Promise.resolve();

  /** Holds no ACLs until `reload()`; `open()` does both. */
  constructor(
    private readonly store: AclStore,
    private readonly opts: StandardAuthorizerOptions = {},
  ) {
    this.superUsers = new Set(opts.superUsers ?? []);
    this.allowEveryone = opts.allowEveryoneIfNoAclFound ?? false;
  }

  /** An authorizer with the store's ACLs loaded. */
  static async open(
    store: AclStore,
    opts: StandardAuthorizerOptions = {},
  ): Promise<StandardAuthorizer> {
    const a = new StandardAuthorizer(store, opts);
    await a.reload();
    return a;
  }

  /** (Re-)reads the ACLs from the store: at start, and when another worker changed them. */
  async reload(): Promise<void> {
    this.setAcls(await this.store.load());
  }

  /** Every ACL, in creation order. */
  all(): AclBinding[] {
    return this.acls.map((a) => ({ ...a }));
  }

  private setAcls(acls: AclBinding[]): void {
    this.acls = acls;
    const index = new Map<number, TypeIndex>();
    for (const a of acls) {
      let t = index.get(a.resourceType);
      if (!t) index.set(a.resourceType, t = { literal: new Map(), prefixed: [] });
      if (a.patternType === PatternType.PREFIXED) t.prefixed.push(a);
      else {
        const l = t.literal.get(a.resourceName);
        if (l) l.push(a);
        else t.literal.set(a.resourceName, [a]);
      }
    }
    this.index = index;
  }

  /**
   * Applies a change to the ACLs as the store holds them now (another broker may have changed
   * them since this one last looked) and takes the saved set.
   */
  private async commit<R>(change: (current: AclBinding[]) => AclChange<R>): Promise<R> {
    let changed = false;
    const { acls, result } = await this.store.update((current) => {
      const c = change(current);
      changed = c.acls !== null;
      return c;
    });
    this.setAcls(acls);
    if (changed) this.opts.onChanged?.();
    return result;
  }

  /** Runs `change` once every change before it has been saved. */
  private serialised<T>(change: () => Promise<T>): Promise<T> {
    const next = this.writes.then(change);
    this.writes = next.catch(() => {});
    return next;
  }

  authorize(
    who: AuthorizableRequest,
    op: number,
    resourceType: number,
    name: string,
    quiet = false,
  ): boolean {
    const ok = this.check(who.session.principal, who.clientHost, op, resourceType, name);
    if (!ok && !quiet) this.opts.onDenied?.(resourceType, op);
    return ok;
  }

  private check(principal: string, host: string, op: number, type: number, name: string) {
    if (this.superUsers.has(principal)) return true;
    const t = this.index.get(type);
    let resourceHasAcls = false;
    let allowed = false;
    const visit = (acls: readonly AclBinding[] | undefined): boolean => {
      for (const a of acls ?? []) {
        resourceHasAcls = true;
        if (a.principal !== principal && a.principal !== WILDCARD_PRINCIPAL) continue;
        if (a.host !== host && a.host !== WILDCARD_HOST) continue;
        if (a.permissionType === AclPermissionType.DENY) {
          if (a.operation === op || a.operation === AclOperation.ALL) return true;
        } else if (allowGrants(a.operation, op)) allowed = true;
      }
      return false;
    };
    if (t) {
      if (visit(t.literal.get(name))) return false;
      if (name !== WILDCARD_RESOURCE && visit(t.literal.get(WILDCARD_RESOURCE))) return false;
      if (visit(t.prefixed.filter((a) => name.startsWith(a.resourceName)))) return false;
    }
    if (allowed) return true;
    return !resourceHasAcls && this.allowEveryone;
  }

  filterAuthorized(
    who: AuthorizableRequest,
    op: number,
    resourceType: number,
    names: Iterable<string>,
    quiet = false,
  ): Set<string> {
    const out = new Set<string>();
    for (const n of new Set(names)) {
      if (this.authorize(who, op, resourceType, n, quiet)) out.add(n);
    }
    return out;
  }

  authorizeByResourceType(who: AuthorizableRequest, op: number, resourceType: number): boolean {
    const principal = who.session.principal;
    // A made-up name first, so super users and allow.everyone.if.no.acl.found are honoured.
    if (this.check(principal, who.clientHost, op, resourceType, "hardcode")) return true;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allowLiteral = new Set<string>();
    const allowPrefixed = new Set<string>();
    for (const a of this.acls) {
      if (a.resourceType !== resourceType) continue;
      if (a.host !== who.clientHost && a.host !== WILDCARD_HOST) continue;
      if (a.principal !== principal && a.principal !== WILDCARD_PRINCIPAL) continue;
      if (a.operation !== op && a.operation !== AclOperation.ALL) continue;
      const literal = a.patternType === PatternType.LITERAL;
      if (a.permissionType === AclPermissionType.DENY) {
        if (literal && a.resourceName === WILDCARD_RESOURCE) return this.denied(resourceType, op);
        (literal ? denyLiteral : denyPrefixed).add(a.resourceName);
      } else {
        if (literal && a.resourceName === WILDCARD_RESOURCE) return true;
        (literal ? allowLiteral : allowPrefixed).add(a.resourceName);
      }
    }
    const dominated = (name: string) => {
      for (let i = 1; i <= name.length; i++) if (denyPrefixed.has(name.slice(0, i))) return true;
      return false;
    };
    for (const n of allowPrefixed) if (!dominated(n)) return true;
    for (const n of allowLiteral) if (!denyLiteral.has(n) && !dominated(n)) return true;
    return this.denied(resourceType, op);
  }

  private denied(resourceType: number, op: number): false {
    this.opts.onDenied?.(resourceType, op);
    return false;
  }

  authorizedOperations(who: AuthorizableRequest, resourceType: number, name: string): number {
    let bits = 0;
    for (const op of SUPPORTED_OPERATIONS[resourceType] ?? []) {
      if (this.check(who.session.principal, who.clientHost, op, resourceType, name)) {
        bits |= 1 << op;
      }
    }
    return bits;
  }

  createAcls(bindings: AclBinding[]): Promise<AclCreateResult[]> {
    return this.serialised(() => this.create(bindings));
  }

  private create(bindings: AclBinding[]): Promise<AclCreateResult[]> {
    return this.commit((current) => {
      const next = [...current];
      const results = bindings.map((b): AclCreateResult => {
        try {
          validateNewAcl(b);
        } catch (e) {
          if (e instanceof KafkaError) return e;
          throw e;
        }
        if (!next.some((a) => sameAcl(a, b))) next.push({ ...b });
        return null;
      });
      return { acls: next.length !== current.length ? next : null, result: results };
    });
  }

  deleteAcls(filters: AclBindingFilter[]): Promise<AclDeleteResult[]> {
    return this.serialised(() => this.delete(filters));
  }

  private delete(filters: AclBindingFilter[]): Promise<AclDeleteResult[]> {
    return this.commit((current) => {
      const deleted = new Set<AclBinding>();
      const results = filters.map((f): AclDeleteResult => {
        try {
          validateFilter(f);
        } catch (e) {
          if (e instanceof KafkaError) return { error: e };
          throw e;
        }
        // As Kafka's AclControlManager: an ACL is reported by the first filter matching it.
        const mine = current.filter((a) => !deleted.has(a) && filterMatches(f, a));
        for (const a of mine) deleted.add(a);
        return { deleted: mine.map((a) => ({ ...a })) };
      });
      return {
        acls: deleted.size > 0 ? current.filter((a) => !deleted.has(a)) : null,
        result: results,
      };
    });
  }

  describeAcls(filter: AclBindingFilter): AclBinding[] {
    validateFilter(filter);
    return this.acls.filter((a) => filterMatches(filter, a)).map((a) => ({ ...a }));
  }
}

/** Every operation a resource type knows, as the bit set of a broker without an authorizer. */
function allOperations(resourceType: number): number {
  let bits = 0;
  for (const op of SUPPORTED_OPERATIONS[resourceType] ?? []) bits |= 1 << op;
  return bits;
}

/** A broker without `authorizer.class.name`: everything is allowed, there are no ACLs. */
export const ALLOW_ALL_AUTHORIZER: AuthorizerApi = {
  enabled: false,
  authorize: () => true,
  filterAuthorized: (_who, _op, _type, names) => new Set(names),
  authorizeByResourceType: () => true,
  authorizedOperations: (_who, resourceType) => allOperations(resourceType),
  createAcls: () => Promise.resolve([]),
  deleteAcls: () => Promise.resolve([]),
  describeAcls: () => [],
};

/** The names `authorizer.class.name` may take to enable the ACL authorizer. */
export const STANDARD_AUTHORIZER_NAMES: readonly string[] = [
  "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
  "kafka.security.authorizer.AclAuthorizer",
  "acl",
];
