/**
 * How a broker starts: its options (BrokerOptions) and what they resolve to before anything
 * opens — the storage engine, the data directory, the cold tier, the cluster metadata store,
 * and the native CRC-32C. src/broker.ts runs the start-up itself.
 */
import { dirname, resolve } from "node:path";
import type { StorageEngine } from "../storage/local_log_store.ts";
import { createRemoteStorageManager } from "../storage/remote_storage_s3.ts";
import type { RemoteStorageManager } from "../storage/remote_storage.ts";
import { EtcdMetadataStore } from "./cluster/etcd_store.ts";
import type { Leadership } from "./cluster/leadership.ts";
import type { MetadataStore } from "./cluster/metadata_store.ts";
import { type BrokerConfig, ConfigError } from "./config.ts";
import { errText, log } from "./log.ts";
import { enableNativeCrc32c, NativeCrcPermissionError } from "./native_crc32c.ts";
import type { ListenerSpec } from "./security/listeners.ts";
import type { WorkerCluster } from "./workers/worker_cluster.ts";

/** How a broker starts: addresses, data directory or memory storage, Kafka settings, admin API. */
export interface BrokerOptions {
  /** Bind address (default `::`, IPv4 and IPv6, where the host has IPv6; else 0.0.0.0). */
  host?: string;
  /** Port; 0 picks a free one (default 9092). */
  port?: number;
  /** Data directory (default ./data; unused with `storage: "memory"`). */
  dataDir?: string;
  /**
   * Storage engine (default: `tributary.storage.engine`, else "file"). "memory" keeps every
   * partition, the catalogue and dynamic configs in memory: no data directory is created or
   * locked, nothing survives close. One worker only; no tiered storage.
   */
  storage?: StorageEngine;
  /** Host name put in Metadata responses (default: the bind host, or 127.0.0.1 for 0.0.0.0). */
  advertisedHost?: string;
  /** Port put in Metadata responses (default: the bound port). */
  advertisedPort?: number;
  /**
   * The listeners, resolved (src/security/listeners.ts); default: from the `listeners`
   * settings, with `host`, `port` and the advertised ones applying to the first.
   */
  listeners?: ListenerSpec[];
  /** Kafka broker settings by name (`num.partitions`, `log.segment.bytes`, ...). */
  config?: Record<string, string | number | boolean>;
  /** Port of the admin HTTP API and console; 0 picks a free one (default: no admin API). */
  adminPort?: number;
  /** Bind address of the admin API (default: 127.0.0.1, loopback only). */
  adminHost?: string;
  /**
   * Bearer token the admin API requires (except /healthz and /readyz); default: the
   * `tributary.admin.api.token` setting, else none.
   */
  adminToken?: string;
  /**
   * Set by a Deno worker's entry (src/workers/worker_main.ts): this broker is one of several
   * workers sharing the port (SO_REUSEPORT) and the data directory, owning a share of the
   * partitions.
   */
  cluster?: WorkerCluster;
  /** Log a one-line status (connections, partitions, traffic) this often (default: never). */
  statusIntervalMs?: number;
  /** Called once storage is open, before coordinators load (the supervisor starts the rest). */
  onStorageOpen?: () => void;
  /**
   * Who leads each partition. Default: this broker, of everything (a single broker); cluster
   * mode passes what it learns from the metadata store, tests a fake.
   */
  leadership?: Leadership;
  /**
   * Where producer ids come from. Default: blocks recorded on disk (a single broker); cluster
   * mode passes blocks shared through the metadata store (src/cluster/producer_id_blocks.ts).
   */
  producerIds?: ProducerIdSource;
  /**
   * The cluster metadata store, for brokers of one process sharing an in-memory one
   * (startCluster); otherwise `etcd.endpoints` makes the broker a cluster member over etcd.
   */
  metadataStore?: MetadataStore;
}

/** The cluster metadata store the settings ask for, or null for a broker on its own. */
export function metadataStoreFor(
  options: BrokerOptions,
  config: BrokerConfig,
): MetadataStore | null {
  if (options.metadataStore) return options.metadataStore;
  const endpoints = config.get("etcd.endpoints") as string | null;
  if (!endpoints) return null;
  return new EtcdMetadataStore({
    endpoints: endpoints.split(","),
    prefix: config.str("etcd.prefix"),
    requestTimeoutMs: config.int("etcd.request.timeout.ms"),
  });
}

/** Hands out producer ids never given before (src/producer_id_manager.ts and the blocks). */
export interface ProducerIdSource {
  next(): Promise<number>;
}

/** The storage engine: the `storage` option, else `tributary.storage.engine`. */
export function storageEngineOf(options: BrokerOptions, config: BrokerConfig): StorageEngine {
  const engine = options.storage ?? config.get("tributary.storage.engine");
  if (engine !== "file" && engine !== "memory") {
    throw new ConfigError("storage", `unknown storage engine ${engine} (file or memory)`);
  }
  return engine;
}

/** The data directory: `dataDir`, else `log.dirs`, else `log.dir`, else ./data. */
export function dataDirOf(options: BrokerOptions, config: BrokerConfig): string {
  return options.dataDir ?? (config.get("log.dirs") as string | null) ??
    (config.get("log.dir") as string | null) ?? "./data";
}

/**
 * The cold tier for `remote.log.storage.uri` (default: `remote/` beside the data directory),
 * or null when `remote.log.storage.system.enable` is off.
 */
export function remoteStorageFor(
  config: BrokerConfig,
  dataDir: string,
): RemoteStorageManager | null {
  if (!config.bool("remote.log.storage.system.enable")) return null;
  const uri = (config.get("remote.log.storage.uri") as string | null) ??
    `file://${resolve(dirname(resolve(dataDir)), "remote")}`;
  try {
    return createRemoteStorageManager(uri, {
      endpoint: (config.get("remote.log.storage.s3.endpoint") as string | null) ?? undefined,
      region: config.str("remote.log.storage.s3.region"),
      accessKeyId: Deno.env.get("AWS_ACCESS_KEY_ID"),
      secretAccessKey: Deno.env.get("AWS_SECRET_ACCESS_KEY"),
      sessionToken: Deno.env.get("AWS_SESSION_TOKEN"),
      timeoutMs: config.int("remote.log.storage.s3.request.timeout.ms"),
    });
  } catch (e) {
    throw new ConfigError("remote.log.storage.uri", errText(e));
  }
}

/**
 * `tributary.crc32c.native.enable`: ISA-L's CRC-32C for this isolate (each worker runs this
 * too, and logs it under its own prefix). Missing FFI permission refuses the start, as an
 * invalid setting would; a missing or disagreeing library keeps the TypeScript CRC, warned.
 */
export function installNativeCrc(): void {
  let outcome;
  try {
    outcome = enableNativeCrc32c();
  } catch (e) {
    if (e instanceof NativeCrcPermissionError) {
      throw new ConfigError("tributary.crc32c.native.enable", e.message, true);
    }
    throw e;
  }
  if (outcome.installed) {
    log.info(`CRC-32C: native ISA-L crc32_iscsi (${outcome.path}), checked against TypeScript`);
  } else log.warn(`CRC-32C: TypeScript (native CRC enabled but not used: ${outcome.reason})`);
}
