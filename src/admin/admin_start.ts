/**
 * Starts the admin HTTP API (Hono, src/admin/server.ts) beside a broker, with the login mode
 * `tributary.admin.api.auth` names. Loaded on demand: a broker without `--admin-port` never
 * imports the admin code.
 */
import type { Broker } from "../broker.ts";
import type { BrokerConfig } from "../config.ts";
import type { AdminServer } from "./server.ts";

export async function startBrokerAdmin(
  broker: Broker,
  config: BrokerConfig,
  opts: { host: string; port: number; token?: string },
): Promise<AdminServer> {
  const { startAdminServer } = await import("./server.ts");
  const { adminLogin } = await import("./admin_auth.ts");
  // Loopback unless an address is given: the admin API can change everything.
  return startAdminServer(broker, {
    hostname: opts.host,
    port: opts.port,
    ...adminLogin(
      config.str("tributary.admin.api.auth"),
      opts.token ?? (config.get("tributary.admin.api.token") as string | null) ?? undefined,
      {
        scramCredentials: broker.scramCredentials,
        saslListeners: broker.saslListeners,
        authorizer: broker.services.authorizer,
      },
    ),
  });
}
