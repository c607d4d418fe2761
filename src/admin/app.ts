/**
 * The admin HTTP API as a Hono app built from a Broker: JSON endpoints under `/v1`,
 * Prometheus text at `/metrics`, `/healthz` and `/readyz`, the OpenAPI document at
 * `/openapi.json` and the web console at `/` (also `/console`).
 *
 * With a token configured, every endpoint except `/healthz` and `/readyz` needs
 * `Authorization: Bearer <token>` (401 otherwise). A browser opens the console once as
 * `/?token=<token>`: the token is checked, kept in an HttpOnly SameSite=Strict cookie that
 * the console's own API calls then carry, and stripped from the address bar. With
 * `tributary.admin.api.auth=sasl` callers log in as the broker's users instead (admin_auth.ts).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { AdminHost } from "./admin_host.ts";
import { type AdminAuthenticator, adminAuthMiddleware } from "./admin_auth.ts";
import { consoleHtml } from "./console.ts";
import { getCookie, setCookie } from "./hono.ts";
import { type Context, errorResponse, Hono } from "./http.ts";
import { openApiDocument } from "./openapi.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";
import { clusterRoutes } from "./routes_cluster.ts";
import { faultRoutes } from "./routes_faults.ts";
import { groupLagSamples, groupRoutes } from "./routes_groups.ts";
import { recordRoutes } from "./routes_records.ts";
import { topicRoutes } from "./routes_topics.ts";

export interface AdminOptions {
  /** Bearer token required on every endpoint but /healthz and /readyz; unset: open. */
  token?: string;
  /** Log in with the broker's users and check their ACLs instead (admin_auth.ts). */
  auth?: AdminAuthenticator;
}

export const TOKEN_COOKIE = "tributary_admin_token";
const PUBLIC_PATHS = new Set(["/healthz", "/readyz"]);
const CONSOLE_PATHS = new Set(["/", "/console"]);

function digest(s: string): Uint8Array {
  return createHash("sha256").update(s).digest();
}

/** Constant-time comparison of a presented token with the configured one. */
function tokenMatches(presented: string | undefined, expected: Uint8Array): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), expected);
}

function bearer(c: Context): string | undefined {
  const h = c.req.header("authorization");
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

const LOGIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tributary admin: sign in</title>
<style>body{font:15px system-ui,sans-serif;margin:4rem auto;max-width:28rem;color:#1d2733}
input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin:.5rem 0}
button{font:inherit;padding:.4rem 1rem}</style></head>
<body><h1>Tributary admin</h1><p>This broker's admin API needs a token
(<code>--admin-token</code>).</p>
<form method="get"><input type="password" name="token" placeholder="admin token" autofocus>
<button type="submit">Open console</button></form></body></html>`;

/** Builds the admin app for `broker`. */
export function createAdminApp(broker: AdminHost, options: AdminOptions = {}): Hono {
  const app = new Hono();
  const expected = options.token ? digest(options.token) : undefined;

  app.onError((e, c) => errorResponse(c, e));
  app.notFound((c) =>
    c.json({ error: "NOT_FOUND", message: `no route for ${c.req.method} ${c.req.path}` }, 404)
  );

  // ---- authentication ------------------------------------------------------------------
  if (options.auth) app.use("*", adminAuthMiddleware(options.auth));
  app.use("*", async (c, next) => {
    if (options.auth || !expected || PUBLIC_PATHS.has(c.req.path)) return await next();
    if (tokenMatches(bearer(c), expected)) return await next();
    if (tokenMatches(getCookie(c, TOKEN_COOKIE), expected)) return await next();
    const isConsole = CONSOLE_PATHS.has(c.req.path) && c.req.method === "GET";
    const q = c.req.query("token");
    if (isConsole && q !== undefined && tokenMatches(q, expected)) {
      setCookie(c, TOKEN_COOKIE, q, {
        httpOnly: true,
        sameSite: "Strict",
        path: "/",
        secure: new URL(c.req.url).protocol === "https:",
      });
      const u = new URL(c.req.url);
      u.searchParams.delete("token");
      return c.redirect(c.req.path + u.search, 303);
    }
    if (isConsole && (c.req.header("accept") ?? "").includes("text/html")) {
      return c.html(LOGIN_PAGE, 401, { "WWW-Authenticate": 'Bearer realm="tributary-admin"' });
    }
    return c.json(
      {
        error: "UNAUTHORIZED",
        message: bearer(c) === undefined && c.req.header("authorization") === undefined
          ? "this endpoint needs Authorization: Bearer <admin token>"
          : "the admin token given is not valid",
      },
      401,
      { "WWW-Authenticate": 'Bearer realm="tributary-admin"' },
    );
  });

  // ---- health --------------------------------------------------------------------------
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get(
    "/readyz",
    (c) =>
      broker.isClosing
        ? c.json({ status: "closing" }, 503)
        : c.json({ status: "ready", clusterId: broker.clusterId, nodeId: broker.nodeId }),
  );

  // ---- metrics, docs, console --------------------------------------------------------------
  app.get("/metrics", async (c) => {
    const text = await renderPrometheus(broker, await groupLagSamples(broker));
    return c.body(text, 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
  });
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  const serveConsole = (c: Context) =>
    c.html(consoleHtml, 200, {
      // Everything is inline; nothing may load from elsewhere.
      "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; " +
        "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
    });
  app.get("/", serveConsole);
  app.get("/console", serveConsole);

  // ---- JSON API ----------------------------------------------------------------------
  app.route("/v1", clusterRoutes(broker));
  app.route("/v1/topics", topicRoutes(broker));
  app.route("/v1/topics", recordRoutes(broker));
  app.route("/v1/groups", groupRoutes(broker));
  app.route("/v1/faults", faultRoutes(broker));

  return app;
}
