/**
 * Admin HTTP API login with the broker's own users, and the ACL check of each action
 * (`tributary.admin.api.auth=sasl`). Who calls:
 *
 *   - `Authorization: Basic` with a SCRAM user's password, checked against the stored SCRAM
 *     credential (the salted password's StoredKey, as the SCRAM exchange proves it), or a
 *     PLAIN user's, checked by the PLAIN server of a SASL listener enabling PLAIN (its users
 *     file or JAAS users). The password is never kept.
 *   - `Authorization: Bearer` with an OAUTHBEARER token, validated by the OAUTHBEARER server
 *     of a SASL listener enabling it (JWKS, or unsecured tokens in development), exactly as a
 *     Kafka client's token; or with the admin token, when one is set (allowed everything).
 *
 * The principal is `User:<name>`, as the SASL listener makes it, and every action is then
 * authorized as the Kafka API doing the same would be (`requiredPermission`): `super.users`
 * may do everything, and without `authorizer.class.name` every authenticated user may.
 * Unauthenticated: 401 with `WWW-Authenticate: Basic` and `Bearer` challenges; denied: 403
 * naming the operation and resource missing.
 */
import { createHash } from "node:crypto";
import type { Context } from "./hono.ts";
import { readBoundedBody } from "./http.ts";
import type { AuthorizableRequest, AuthorizerApi } from "../security/authorizer.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import type { SaslListener } from "../security/sasl_listener.ts";
import { constantTimeEqual, utf8, utf8Strict } from "../security/sasl/sasl_server.ts";
import type { ScramCredentialSource } from "../security/sasl/scram.ts";
import {
  clientKey,
  hash,
  saltedPassword,
  SCRAM_SHA_256,
  SCRAM_SHA_512,
} from "../security/sasl/scram_formatter.ts";
import type { Session } from "../security/session.ts";
import { log } from "../log.ts";
import { ConfigError } from "../config.ts";

/** `tributary.admin.api.auth`: no login, the admin token, or the broker's users and ACLs. */
export type AdminAuthMode = "none" | "token" | "sasl";

export const ADMIN_AUTH_MODES: readonly AdminAuthMode[] = ["none", "token", "sasl"];

/** The realm the challenges name. */
const REALM = "tributary-admin";

/** What an action needs: an operation on a resource (the resource's name may come later). */
export interface Permission {
  operation: number;
  resourceType: number;
  /** null: any resource of the type will do (a listing, as authorizeByResourceType). */
  resourceName: string | null;
  /** CreateTopics's rule: CREATE on the cluster also allows it. */
  orClusterCreate?: boolean;
}

const cluster = (operation: number): Permission => ({
  operation,
  resourceType: ResourceType.CLUSTER,
  resourceName: CLUSTER_NAME,
});
const topic = (operation: number, name: string): Permission => ({
  operation,
  resourceType: ResourceType.TOPIC,
  resourceName: name,
});
const group = (operation: number, name: string): Permission => ({
  operation,
  resourceType: ResourceType.GROUP,
  resourceName: name,
});

function seg(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * What the Kafka API behind an admin action checks: null for what only needs a login (the
 * console page, the OpenAPI document). `bodyName` is the topic a POST /v1/topics creates.
 */
export function requiredPermission(
  method: string,
  path: string,
  bodyName?: string,
): Permission | null {
  const read = method === "GET" || method === "HEAD";
  if (path === "/" || path === "/console" || path === "/openapi.json") return null;
  // Metrics and cluster pages: DescribeCluster's DESCRIBE on the cluster.
  if (path === "/metrics" || path === "/v1/cluster" || path === "/v1/stats") {
    return cluster(AclOperation.DESCRIBE);
  }
  // Listings need only a login: they show what the user may DESCRIBE (describable()).
  let m = /^\/v1\/topics\/?$/.exec(path);
  if (m) {
    if (read) return null;
    return { ...topic(AclOperation.CREATE, bodyName ?? ""), orClusterCreate: true };
  }
  m = /^\/v1\/topics\/([^/]+)(\/.*)?$/.exec(path);
  if (m) {
    const name = seg(m[1]);
    const rest = m[2] ?? "";
    if (rest === "" || rest === "/") {
      return topic(read ? AclOperation.DESCRIBE : AclOperation.DELETE, name);
    }
    if (rest === "/configs") {
      return topic(read ? AclOperation.DESCRIBE_CONFIGS : AclOperation.ALTER_CONFIGS, name);
    }
    // Producing is Produce's WRITE; browsing and searching records is Fetch's READ.
    if (rest === "/records") return topic(read ? AclOperation.READ : AclOperation.WRITE, name);
    if (/^\/partitions\/[^/]+\/records$/.test(rest) || rest === "/records/search") {
      return topic(AclOperation.READ, name);
    }
    if (/^\/partitions(\/[^/]+)?$/.test(rest)) return topic(AclOperation.DESCRIBE, name);
    return topic(read ? AclOperation.DESCRIBE : AclOperation.ALTER, name);
  }
  if (/^\/v1\/groups\/?$/.test(path)) return read ? null : cluster(AclOperation.ALTER);
  m = /^\/v1\/groups\/([^/]+)(\/.*)?$/.exec(path);
  if (m) {
    const name = seg(m[1]);
    const rest = m[2] ?? "";
    if (read) return group(AclOperation.DESCRIBE, name);
    // DeleteGroups's DELETE; resetting offsets is OffsetCommit's READ on the group.
    if (method === "DELETE" && (rest === "" || rest === "/")) {
      return group(AclOperation.DELETE, name);
    }
    return group(AclOperation.READ, name);
  }
  // Quotas, ACLs, faults and anything else: DESCRIBE or ALTER on the cluster, as
  // DescribeClientQuotas / AlterClientQuotas and DescribeAcls / CreateAcls check.
  return cluster(read ? AclOperation.DESCRIBE : AclOperation.ALTER);
}

const NAMES = {
  operation: Object.fromEntries(Object.entries(AclOperation).map(([k, v]) => [v, k])),
  resourceType: Object.fromEntries(Object.entries(ResourceType).map(([k, v]) => [v, k])),
};

export interface AdminAuthSettings {
  mode: AdminAuthMode;
  /** The admin token; in `sasl` mode it still works, as a super user. */
  token?: string;
  scramCredentials: ScramCredentialSource;
  /** The broker's SASL listeners: PLAIN and OAUTHBEARER logins use the first enabling each. */
  saslListeners: readonly SaslListener[];
  authorizer: AuthorizerApi;
}

type Login = { principal: string; mechanism: string; everything: boolean } | { failed: string };

export class AdminAuthenticator {
  constructor(private readonly settings: AdminAuthSettings) {}

  get mode(): AdminAuthMode {
    return this.settings.mode;
  }

  private listenerWith(mechanism: string): SaslListener | undefined {
    return this.settings.saslListeners.find((l) => l.enabledMechanisms.includes(mechanism));
  }

  /** The caller of a request, null when it presents no credentials. */
  async authenticate(header: string | undefined): Promise<Login | null> {
    if (!header) return null;
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (basic) {
      let text: string;
      try {
        text = utf8Strict.decode(Uint8Array.from(atob(basic[1]), (ch) => ch.charCodeAt(0)));
      } catch {
        return { failed: "malformed Basic credentials" };
      }
      const colon = text.indexOf(":");
      if (colon <= 0) return { failed: "malformed Basic credentials" };
      return await this.password(text.slice(0, colon), text.slice(colon + 1));
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (bearer) return await this.bearer(bearer[1]);
    return { failed: "unsupported Authorization scheme (use Basic or Bearer)" };
  }

  /** A SCRAM user's password against its StoredKey, else a PLAIN user's. */
  private async password(user: string, password: string): Promise<Login> {
    const scram = this.settings.scramCredentials;
    for (const m of [SCRAM_SHA_512, SCRAM_SHA_256]) {
      const c = await scram.credential(user, m);
      if (!c) continue;
      const salted = await saltedPassword(m, password, c.salt, c.iterations);
      const storedKey = await hash(m, await clientKey(m, salted));
      if (constantTimeEqual(storedKey, c.storedKey)) {
        return { principal: `User:${user}`, mechanism: m.name, everything: false };
      }
    }
    const plain = this.listenerWith("PLAIN");
    if (plain) {
      const step = await plain.createServer("PLAIN").evaluate(
        utf8.encode(`\0${user}\0${password}`),
      );
      if (step.kind === "complete") {
        return { principal: `User:${step.authorizationId}`, mechanism: "PLAIN", everything: false };
      }
    }
    return { failed: "invalid username or password" };
  }

  private async bearer(token: string): Promise<Login> {
    const admin = this.settings.token;
    // Digests: equal lengths, so the comparison time says nothing about the token.
    if (admin !== undefined && constantTimeEqual(sha256(token), sha256(admin))) {
      return { principal: "admin-token", mechanism: "token", everything: true };
    }
    const oauth = this.listenerWith("OAUTHBEARER");
    if (!oauth) return { failed: "the bearer token is not valid" };
    const step = await oauth.createServer("OAUTHBEARER").evaluate(
      utf8.encode(`n,,\x01auth=Bearer ${token}\x01\x01`),
    );
    if (step.kind === "complete") {
      return {
        principal: `User:${step.authorizationId}`,
        mechanism: "OAUTHBEARER",
        everything: false,
      };
    }
    return {
      failed: step.kind === "challenge"
        ? `the bearer token was refused: ${new TextDecoder().decode(step.token)}`
        : step.clientMessage,
    };
  }

  /** Whether `who` holds `p` (name filled in), else the 403's description of what is missing. */
  check(who: AuthorizableRequest, p: Permission): string | null {
    const a = this.settings.authorizer;
    if (
      p.orClusterCreate &&
      a.authorize(who, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME, true)
    ) {
      return null;
    }
    const ok = p.resourceName === null
      ? a.authorizeByResourceType(who, p.operation, p.resourceType)
      : a.authorize(who, p.operation, p.resourceType, p.resourceName);
    if (ok) return null;
    const op = NAMES.operation[p.operation];
    const type = NAMES.resourceType[p.resourceType];
    return p.resourceName === null
      ? `${who.session.principal} may not ${op} any ${type}`
      : `${who.session.principal} may not ${op} on ${type} ${p.resourceName}`;
  }
}

/** The logged-in user of a request, for actions run as Kafka requests and for listings. */
const callers = new WeakMap<Request, AuthorizableRequest>();

/** The logged-in user's session (sasl mode), else undefined (the admin API's own). */
export function adminSessionOf(c: Context): Session | undefined {
  return callers.get(c.req.raw)?.session as Session | undefined;
}

/**
 * The names of a listing the logged-in user may DESCRIBE (as Metadata and ListGroups filter
 * theirs); every name when no user logged in (token or no login).
 */
export function describable(
  c: Context,
  authorizer: AuthorizerApi,
  resourceType: number,
  names: Iterable<string>,
): Set<string> {
  const who = callers.get(c.req.raw);
  if (!who) return new Set(names);
  return authorizer.filterAuthorized(who, AclOperation.DESCRIBE, resourceType, names, true);
}

/** The client address Deno.serve passes to the handler (Hono's env). */
function clientHost(c: Context): string {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "127.0.0.1";
}

const PUBLIC_PATHS = new Set(["/healthz", "/readyz"]);

function sha256(s: string): Uint8Array {
  return createHash("sha256").update(s).digest();
}

/**
 * The `name` of a topic-creation body, read from a copy (the route reads the original);
 * "" when there is none. Bounded as the route bounds it: a larger body is the route's 413.
 */
async function topicNameOf(req: Request): Promise<string> {
  const body = req.clone().body;
  if (!body) return "";
  try {
    const all = await readBoundedBody(body);
    if (all === null) return "";
    const doc = JSON.parse(new TextDecoder().decode(all)) as { name?: unknown } | null;
    return typeof doc?.name === "string" ? doc.name : "";
  } catch {
    return "";
  }
}

function challenge(c: Context, message: string) {
  c.header("WWW-Authenticate", `Basic realm="${REALM}", charset="UTF-8"`);
  c.header("WWW-Authenticate", `Bearer realm="${REALM}"`, { append: true });
  return c.json({ error: "UNAUTHORIZED", message }, 401);
}

/** The Hono middleware of `sasl` mode: log in, then authorize the action. */
export function adminAuthMiddleware(auth: AdminAuthenticator) {
  return async (c: Context, next: () => Promise<void>) => {
    if (PUBLIC_PATHS.has(c.req.path)) return await next();
    const login = await auth.authenticate(c.req.header("authorization"));
    if (login === null) {
      return challenge(c, "this endpoint needs Authorization: Basic (a SASL user) or Bearer");
    }
    if ("failed" in login) {
      log.info(`admin API: authentication failed from ${clientHost(c)}: ${login.failed}`);
      return challenge(c, `authentication failed: ${login.failed}`);
    }
    if (login.everything) return await next();
    const session: Session = {
      listenerName: "ADMIN_HTTP",
      securityProtocol: new URL(c.req.url).protocol === "https:" ? "SASL_SSL" : "SASL_PLAINTEXT",
      principal: login.principal,
      saslMechanism: login.mechanism,
    };
    const who: AuthorizableRequest = { session, clientHost: clientHost(c) };
    callers.set(c.req.raw, who);
    let bodyName: string | undefined;
    if (c.req.method === "POST" && /^\/v1\/topics\/?$/.test(c.req.path)) {
      bodyName = await topicNameOf(c.req.raw);
    }
    const p = requiredPermission(c.req.method, c.req.path, bodyName);
    if (p === null) return await next();
    const missing = auth.check(who, p);
    if (missing !== null) {
      return c.json({
        error: "FORBIDDEN",
        message: missing,
        missing: {
          operation: NAMES.operation[p.operation],
          resourceType: NAMES.resourceType[p.resourceType],
          resourceName: p.resourceName,
        },
      }, 403);
    }
    return await next();
  };
}

/**
 * The admin server's login from `tributary.admin.api.auth` and the admin token: the token to
 * require (token mode), or the authenticator (sasl mode), or neither (none).
 */
export function adminLogin(
  mode: string,
  token: string | undefined,
  sasl: Omit<AdminAuthSettings, "mode" | "token">,
): { token?: string; auth?: AdminAuthenticator } {
  const m = (mode === "" ? (token ? "token" : "none") : mode) as AdminAuthMode;
  if (m === "none") return {};
  if (m === "token") {
    if (!token) {
      throw new ConfigError(
        "tributary.admin.api.auth",
        "token needs an admin token (--admin-token or tributary.admin.api.token)",
      );
    }
    return { token };
  }
  if (m !== "sasl") throw new ConfigError("tributary.admin.api.auth", `unknown mode ${mode}`);
  return { auth: new AdminAuthenticator({ mode: m, token, ...sasl }) };
}
