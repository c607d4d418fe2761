/**
 * The admin HTTP listener: serves the Hono app of src/admin/app.ts with Deno.serve.
 * Started by Broker.start when `adminPort` is given and shut down by Broker.close.
 */
import type { AdminHost } from "./admin_host.ts";
import type { AdminAuthenticator } from "./admin_auth.ts";
import { log } from "../log.ts";
import { createAdminApp } from "./app.ts";

export interface AdminServerOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  token?: string;
  /** `tributary.admin.api.auth=sasl`: the broker's users and ACLs (src/admin/admin_auth.ts). */
  auth?: AdminAuthenticator;
}

export interface AdminServer {
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish, closes idle connections. */
  close(): Promise<void>;
}

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

export function startAdminServer(broker: AdminHost, opts: AdminServerOptions): AdminServer {
  if (!opts.token && !opts.auth && !isLoopback(opts.hostname)) {
    log.warn(
      `admin API serves ${opts.hostname}, not only loopback, without a token: anyone who ` +
        `reaches it can change this broker (set --admin-token or tributary.admin.api.token)`,
    );
  }
  const app = createAdminApp(broker, { token: opts.token, auth: opts.auth });
  const server = Deno.serve({
    hostname: opts.hostname,
    port: opts.port,
    onListen: () => {},
    onError: (e) => {
      log.error(`admin API: ${e instanceof Error ? e.stack : e}`);
      return new Response(JSON.stringify({ error: "INTERNAL_ERROR", message: String(e) }), {
        status: 500,
        headers: { "content-type": "application/json" },
      });
    },
  }, app.fetch);
  const addr = server.addr as Deno.NetAddr;
  let closing: Promise<void> | undefined;
  return {
    hostname: addr.hostname,
    port: addr.port,
    close: () => closing ??= server.shutdown(),
  };
}
