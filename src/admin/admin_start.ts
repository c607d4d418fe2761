/**
 * Starts the admin HTTP API (Hono, src/admin/server.ts) beside a broker, with the login mode
 * `tributary.admin.api.auth` names. The broker imports this file on demand: one without
 * `--admin-port` never loads the admin code.
 */
import type { AdminHost } from "./admin_host.ts";
import type { ScramCredentialStore } from "../security/scram_credential_store.ts";
import type { ReconfigurableSaslListener } from "../security/sasl_listener.ts";
import type { BrokerConfig } from "../config.ts";
import type { AdminServer } from "./server.ts";

/** What the login needs of the broker beside what the API serves. */
export interface AdminStartHost extends AdminHost {
  readonly scramCredentials: ScramCredentialStore;
  readonly saslListeners: ReconfigurableSaslListener[];
}

export async function startBrokerAdmin(
  broker: AdminStartHost,
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
