/**
 * Tributary: a Kafka-wire-compatible broker for Deno.
 *
 * ```ts
 * import { startBroker } from "./mod.ts";
 * await using broker = await startBroker({
 *   dev: true, // no initial rebalance delay, short session timeouts, a temp data dir
 *   storage: "memory", // or "file" (the default): nothing on disk, gone on close
 *   port: 0,
 *   topics: [{ name: "orders", partitions: 3, configs: { "cleanup.policy": "compact" } }],
 * });
 * console.log(broker.address); // "127.0.0.1:40123": give it to any Kafka client
 * // With `adminPort: 0` the admin HTTP API and console also listen: broker.adminUrl
 * // Dev mode allows fault injection: the next 2 Produce requests fail, clients retry.
 * broker.faults.push({ api: "Produce", count: 2, errorCode: "NOT_LEADER_OR_FOLLOWER" });
 * // Leaving the scope closes it (or call `await broker.close()`).
 * ```
 */
import { Broker, type BrokerOptions } from "./src/broker.ts";
import { ConfigError } from "./src/config.ts";
import { makeDevDataDir, withDevModeConfig } from "./src/dev_mode.ts";
import { setLogLevel } from "./src/log.ts";
import { ErrorCode, KafkaError } from "./protocol/errors.ts";
import type { FaultInjector } from "./src/faults.ts";
import type { StorageEngine } from "./storage/local_log_store.ts";
import { MemoryMetadataBackend, MemoryMetadataStore } from "./src/cluster/memory_store.ts";

export type { BrokerOptions } from "./src/broker.ts";
/** Where partition data lives: "file" (the data directory) or "memory" (nothing on disk). */
export type { StorageEngine } from "./storage/local_log_store.ts";
export { Broker } from "./src/broker.ts";
export { ErrorCode, KafkaError } from "./protocol/errors.ts";
/** Thrown by startBroker when another broker holds the data directory's `.lock`. */
export { LogDirLockedError } from "./storage/log_dir_lock.ts";
export { DEV_MODE_CONFIG } from "./src/dev_mode.ts";
export {
  FaultInjectionDisabledError,
  FaultInjector,
  FaultSpecError,
  type FaultsState,
  type RequestFault,
  type RequestFaultSpec,
} from "./src/faults.ts";

/** A topic startBroker creates before it resolves (kept as it is when it already exists). */
export interface TopicSpec {
  /** The topic's name. */
  name: string;
  /** Partition count (default: `num.partitions`). */
  partitions?: number;
  /** Topic configs by Kafka name (`cleanup.policy`, `retention.ms`, ...). */
  configs?: Record<string, string | number | boolean>;
}

/** startBroker's options: the broker's, plus dev mode, logging, workers and topics. */
export interface StartBrokerOptions extends BrokerOptions {
  /**
   * Dev mode: no initial rebalance delay, short group session timeouts, one partition per
   * internal topic (see DEV_MODE_CONFIG; explicit `config` keys win) and, unless `dataDir`
   * is given, a temp data directory that close() removes.
   */
  dev?: boolean;
  /** Log level of the process's logger: debug, info, warn, error, off. */
  logLevel?: "debug" | "info" | "warn" | "error" | "off";
  /**
   * Deno workers. Only 1 (everything on the caller's thread) is supported from a library
   * call; the CLI's `--workers N` runs the multi-worker supervisor.
   */
  workers?: number;
  /** Topics created before startBroker resolves. */
  topics?: TopicSpec[];
}

/** A started broker: where clients connect, the Broker itself, and close (or `await using`). */
export interface BrokerHandle extends AsyncDisposable {
  /** `host:port` a client should bootstrap from (the advertised address). */
  readonly address: string;
  /** The advertised host. */
  readonly host: string;
  /** The bound port. */
  readonly port: number;
  /** The broker (its topics, partitions, config and metrics). */
  readonly broker: Broker;
  /**
   * Fault injection on this broker (on in dev mode, else with
   * `tributary.fault.injection.enable=true`): `faults.push({ api: "Produce", count: 2,
   * errorCode: "NOT_LEADER_OR_FOLLOWER" })`, `dropConnections()`, `hang(ms)`, `clear()`,
   * `list()`.
   */
  readonly faults: FaultInjector;
  /**
   * The data directory (dev mode's temp directory when it made one); `"(memory)"`, not a path,
   * with `storage: "memory"`.
   */
  readonly dataDir: string;
  /** The storage engine in use. */
  readonly storage: StorageEngine;
  /** Bound port of the admin HTTP API (started with `adminPort`), else undefined. */
  readonly adminPort?: number;
  /** `http://host:port` of the admin API and console, else undefined. */
  readonly adminUrl?: string;
  /** Flushes and closes every log and connection (and removes dev mode's temp dir). */
  close(): Promise<void>;
}

/** Starts a broker (storage recovered, listener bound) and returns a handle to it. */
export async function startBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
  const { dev, logLevel, workers, topics, ...brokerOptions } = options;
  if (workers !== undefined && workers !== 1) {
    throw new ConfigError(
      "workers",
      `${workers} workers are not supported by startBroker (only 1); run the CLI with --workers`,
    );
  }
  if (logLevel !== undefined) setLogLevel(logLevel);
  let tempDir: string | null = null;
  const inMemory = (brokerOptions.storage ?? brokerOptions.config?.["tributary.storage.engine"]) ===
    "memory";
  if (dev) {
    brokerOptions.config = withDevModeConfig(brokerOptions.config);
    const c = brokerOptions.config;
    if (
      !inMemory && brokerOptions.dataDir === undefined && c["log.dirs"] === undefined &&
      c["log.dir"] === undefined
    ) {
      tempDir = await makeDevDataDir();
      brokerOptions.dataDir = tempDir;
    }
  }
  let broker: Broker;
  try {
    broker = await Broker.start(brokerOptions);
  } catch (e) {
    if (tempDir) await Deno.remove(tempDir, { recursive: true }).catch(() => {});
    throw e;
  }
  let closed: Promise<void> | null = null;
  const close = () =>
    closed ??= (async () => {
      await broker.close();
      if (tempDir) await Deno.remove(tempDir, { recursive: true });
    })();
  try {
    for (const t of topics ?? []) {
      const configs = Object.entries(t.configs ?? {}).map(([k, v]): [string, string] => [
        k,
        String(v),
      ]);
      try {
        await broker.createTopic(t.name, t.partitions ?? -1, configs);
      } catch (e) {
        if (!(e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw e;
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
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
    faults: broker.faults,
    dataDir: broker.dataDir,
    storage: broker.logs.engine,
    adminPort: admin?.port,
    adminUrl,
    close,
    [Symbol.asyncDispose]: close,
  };
}

export interface StartClusterOptions {
  /** Number of brokers (node ids 1..n). */
  brokers: number;
  /** Kafka broker settings given to every broker. */
  config?: Record<string, string | number | boolean>;
  /** Parent of the brokers' data directories (`<dataDir>/broker-<id>`); default: a temp dir. */
  dataDir?: string;
  /** Bind and advertised host (default 127.0.0.1); each broker gets a free port. */
  host?: string;
  logLevel?: StartBrokerOptions["logLevel"];
}

export interface ClusterHandle extends AsyncDisposable {
  /** Every broker's handle, node id i at index i - 1. */
  readonly brokers: BrokerHandle[];
  /** `host:port,host:port,...`: a bootstrap list naming every broker. */
  readonly bootstrap: string;
  /** The metadata store's backend, shared by the brokers (for tests that inspect it). */
  readonly store: MemoryMetadataBackend;
  /** Closes every broker (and removes the data directories of a temp parent). */
  close(): Promise<void>;
}

/**
 * Starts `brokers` brokers in this process, sharing an in-memory metadata store (the same
 * interface as the etcd one): a cluster for tests and embedding, without etcd.
 */
export async function startCluster(options: StartClusterOptions): Promise<ClusterHandle> {
  const n = options.brokers;
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError("brokers", `'${n}' is not a broker count`);
  }
  if (options.logLevel !== undefined) setLogLevel(options.logLevel);
  const parent = options.dataDir ?? await Deno.makeTempDir({ prefix: "tributary-cluster-" });
  const backend = new MemoryMetadataBackend();
  const brokers: BrokerHandle[] = [];
  const close = async () => {
    for (const b of brokers.splice(0).reverse()) await b.close().catch(() => {});
    if (!options.dataDir) await Deno.remove(parent, { recursive: true }).catch(() => {});
  };
  try {
    for (let id = 1; id <= n; id++) {
      brokers.push(
        await startBroker({
          host: options.host ?? "127.0.0.1",
          port: 0,
          dataDir: `${parent}/broker-${id}`,
          config: { ...options.config, "node.id": id },
          metadataStore: new MemoryMetadataStore(backend),
        }),
      );
    }
  } catch (e) {
    await close();
    throw e;
  }
  const all = [...brokers];
  return {
    brokers: all,
    bootstrap: all.map((b) => b.address).join(","),
    store: backend,
    close,
    [Symbol.asyncDispose]: close,
  };
}
