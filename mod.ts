/**
 * Tributary: a Kafka-wire-compatible broker for Deno.
 *
 * ```ts
 * import { startBroker } from "./mod.ts";
 * const broker = await startBroker({ port: 0, dataDir: await Deno.makeTempDir() });
 * console.log(broker.address); // "127.0.0.1:40123": give it to any Kafka client
 * // With `adminPort: 0` the admin HTTP API and console also listen: broker.adminUrl
 * await broker.close();
 * ```
 */
import { Broker, type BrokerOptions } from "./src/broker.ts";

export type { BrokerOptions } from "./src/broker.ts";
export { Broker } from "./src/broker.ts";
export { ErrorCode, KafkaError } from "./protocol/errors.ts";
/** Thrown by startBroker when another broker holds the data directory's `.lock`. */
export { LogDirLockedError } from "./storage/log_dir_lock.ts";

export interface BrokerHandle {
  /** `host:port` a client should bootstrap from (the advertised address). */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly broker: Broker;
  /** Bound port of the admin HTTP API (started with `adminPort`), else undefined. */
  readonly adminPort?: number;
  /** `http://host:port` of the admin API and console, else undefined. */
  readonly adminUrl?: string;
  /** Flushes and closes every log and connection. */
  close(): Promise<void>;
}

/** Starts a broker (storage recovered, listener bound) and returns a handle to it. */
export async function startBroker(options: BrokerOptions = {}): Promise<BrokerHandle> {
  const broker = await Broker.start(options);
  const admin = broker.admin;
  let adminUrl: string | undefined;
  if (admin) {
    const h = admin.hostname === "0.0.0.0" || admin.hostname === "::"
      ? "127.0.0.1"
      : admin.hostname.includes(":")
      ? `[${admin.hostname}]`
      : admin.hostname;
    adminUrl = `http://${h}:${admin.port}`;
  }
  return {
    address: `${broker.advertisedHost}:${broker.advertisedPort}`,
    host: broker.advertisedHost,
    port: broker.port,
    broker,
    adminPort: admin?.port,
    adminUrl,
    close: () => broker.close(),
  };
}
