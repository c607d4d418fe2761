/**
 * The broker's lifecycle: opens storage, builds the services (ReplicaManager, TopicAdmin,
 * DynamicConfig, the coordinators), listens and accepts, wires the Deno workers, closes.
 * Handlers do not see this object: they get the narrow services of src/services.ts.
 */
import { decompress } from "../protocol/compression.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { LogManager, type TopicMetadata } from "../storage/log_manager.ts";
import { LogDirLock } from "../storage/log_dir_lock.ts";
import type { PartitionLog } from "../storage/partition_log.ts";
import { setReadBufferAllocator } from "../storage/log_segment.ts";
import { createRemoteStorageManager } from "../storage/remote_storage_s3.ts";
import type { RemoteStorageManager } from "../storage/remote_storage.ts";
import { dirname, resolve } from "node:path";
import type { AdminServer } from "./admin/server.ts";
import { BrokerConfig, ConfigError } from "./config.ts";
import { unknownConfigWarning } from "./config_suggest.ts";
import { defaultBindHost } from "./bind_address.ts";
import { logStartupSummary, startStatusReport } from "./status_report.ts";
import {
  DynamicConfig,
  loadDynamicBrokerConfigs,
  remoteLogManagerSettings,
} from "./dynamic_config.ts";
import type { Connection } from "./connection.ts";
import { KafkaApis } from "./kafka_apis.ts";
import { SocketServer } from "./socket_server.ts";
import { checkServable, type ListenerSpec, resolveListeners } from "./security/listeners.ts";
import { type ReconfigurableSaslListener, saslListeners } from "./security/sasl_listener.ts";
import {
  FileScramCredentialStore,
  type ScramCredentialStore,
} from "./security/scram_credential_store.ts";
import { TlsListener } from "./security/tls_listener.ts";
import { GroupCoordinator } from "./group/group_coordinator.ts";
import { groupConfigFrom } from "./group/group_config.ts";
import { GROUP_METADATA_TOPIC, GroupMetadataLog } from "./group/group_metadata_log.ts";
import { checkInternalTopics } from "./internal_topic.ts";
import { registerHandlers } from "./handlers/mod.ts";
import { errText, log } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { ProducerIdManager } from "./producer_id_manager.ts";
import { HandlerRegistry } from "./registry.ts";
import { ReplicaManager } from "./replica_manager.ts";
import { RequestBudget } from "./request_budget.ts";
import { ConnectionQuotas } from "./connection_quotas.ts";
import { IdleExpiryManager } from "./idle_expiry.ts";
import type { BrokerServices, MetadataCache } from "./services.ts";
import { logConfigFor, TopicAdmin } from "./topic_admin.ts";
import { brokerTransactionCoordinator, type TransactionCoordinator } from "./txn/mod.ts";
import { bufferPool } from "./buffer_pool.ts";
import { Propagation } from "./workers/propagation.ts";
import type { WorkerStats } from "./workers/peer_methods.ts";
import type { WorkerCluster } from "./workers/worker_cluster.ts";

export interface BrokerOptions {
  /** Bind address (default `::`, IPv4 and IPv6, where the host has IPv6; else 0.0.0.0). */
  host?: string;
  /** Port; 0 picks a free one (default 9092). */
  port?: number;
  /** Data directory (default ./data). */
  dataDir?: string;
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
  /** Bind address of the admin API (default: `host`). */
  adminHost?: string;
  /** Bearer token the admin API requires (except /healthz and /readyz); default: none. */
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
function remoteStorageFor(config: BrokerConfig, dataDir: string): RemoteStorageManager | null {
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

/** The broker's authentication setup, built before storage opens (its errors stop the start). */
interface BrokerSecurity {
  scramCredentials: ScramCredentialStore;
  /** By listener name, for the SASL_* listeners. */
  sasl: Map<string, ReconfigurableSaslListener>;
}

export class Broker {
  readonly registry = new HandlerRegistry();
  readonly metrics = new Metrics();
  /**
   * Bytes of requests being read or handled on this worker's connections: its share of
   * `queued.max.request.bytes` (each worker holds the requests of the connections it accepted).
   */
  requestBudget: RequestBudget;
  /** Accept and track the client connections: one per listener, in `listeners` order. */
  readonly socketServers: SocketServer[] = [];
  /** The listeners as bound: ports chosen by the system filled in. */
  listeners: ListenerSpec[] = [];
  /** The listener other brokers are to use (`inter.broker.listener.name`). */
  interBrokerListener = "PLAINTEXT";
  /** Request handling (decode, dispatch, encode), for connections and forwarded frames. */
  readonly apis: KafkaApis;
  /** Closes connections idle for connections.max.idle.ms. */
  readonly idleConnections: IdleExpiryManager;
  readonly startedAt = Date.now();
  private flushTimer?: ReturnType<typeof setInterval>;
  private stopStatusReport?: () => void;
  private closing?: Promise<void>;
  /** The data directory's lock; null with workers (the supervisor holds it). */
  private dirLock: LogDirLock | null = null;
  /** The admin HTTP server, when started with `adminPort`. */
  admin?: AdminServer;
  /** The first listener's bind address and port, and what it advertises. */
  host = "0.0.0.0";
  port = 0;
  advertisedHost = "127.0.0.1";
  advertisedPort = 0;
  /** SCRAM credentials (AlterUserScramCredentials), in the data directory. */
  readonly scramCredentials: ScramCredentialStore;
  /** What quotas and limits the socket servers share (see ConnectionQuotas). */
  private readonly connectionQuotas: ConnectionQuotas;

  /** Consumer groups and committed offsets (this broker coordinates every group). */
  readonly groups: GroupCoordinator;
  /** Transactions: this broker coordinates every transactional id. */
  readonly transactions: TransactionCoordinator;

  /** Deno workers: this worker's place among them; undefined when the broker runs alone. */
  readonly cluster?: WorkerCluster;
  /** Partition data: append and fetch routing, the long poll, transactional appends. */
  readonly replicaManager: ReplicaManager;
  /** Topic creation, deletion, growth and topic configs. */
  readonly topicAdmin: TopicAdmin;
  /** Dynamic broker configs. */
  readonly dynamicConfig: DynamicConfig;
  /** Catalogue and config changes on their way to the other workers. */
  readonly propagation: Propagation;
  /** The catalogue and this broker's identity, as handlers read them. */
  readonly metadataCache: MetadataCache;
  /** What request handlers may use (src/services.ts), instead of this object. */
  readonly services: BrokerServices;

  private constructor(
    readonly config: BrokerConfig,
    readonly logs: LogManager,
    readonly dataDir: string,
    private readonly producerIdManager: ProducerIdManager | null,
    cluster: WorkerCluster | undefined,
    private readonly security: BrokerSecurity,
  ) {
    this.cluster = cluster;
    this.scramCredentials = security.scramCredentials;
    registerHandlers(this.registry);
    // With workers each accepts its own connections (SO_REUSEPORT): it holds its share of
    // the request budget and enforces its share of max.connections.
    const budget = config.int("queued.max.request.bytes");
    this.requestBudget = new RequestBudget(
      cluster && budget >= 0 ? Math.floor(budget / cluster.count) : budget,
    );
    this.metrics.requestBudget = this.requestBudget;
    this.idleConnections = new IdleExpiryManager(config.int("connections.max.idle.ms"));
    this.connectionQuotas = new ConnectionQuotas(
      cluster
        ? Math.ceil(config.int("max.connections") / cluster.count)
        : config.int("max.connections"),
      config.int("max.connections.per.ip"),
    );
    this.apis = new KafkaApis(this);
    this.propagation = new Propagation(cluster);
    this.replicaManager = new ReplicaManager(logs, config, dataDir, cluster);
    this.topicAdmin = new TopicAdmin(config, logs, this.metrics, this.propagation, cluster);
    this.dynamicConfig = new DynamicConfig(config, logs, dataDir, this.propagation);
    // What the coordinators' logs and marker writer need of the broker.
    const host = {
      topic: (name: string) => logs.getTopic(name),
      partition: (t: string, p: number) => this.replicaManager.partition(t, p),
      createTopic: (name: string, n: number, configs: Iterable<[string, string | null]>) =>
        this.topicAdmin.createTopic(name, n, configs),
      hasPartition: (t: string, p: number) => this.replicaManager.hasPartition(t, p),
      appendMarker: (t: string, p: number, batch: Uint8Array) =>
        this.replicaManager.appendMarker(t, p, batch),
    };
    this.groups = new GroupCoordinator(
      new GroupMetadataLog(host, config.int("offsets.topic.num.partitions")),
      {
        config: groupConfigFrom(config),
        partitionExists: (t, p) => this.replicaManager.hasPartition(t, p),
        topics: {
          byName: (name) => this.topic(name),
          byId: (id) => this.topicById(id),
          all: () => this.topics(),
        },
        verifyTransaction: (transactionalId, producerId, producerEpoch, partition) =>
          this.transactions.verifyTransactionalProduce(
            transactionalId,
            producerId,
            producerEpoch,
            GROUP_METADATA_TOPIC,
            partition,
          ),
      },
    );
    this.transactions = brokerTransactionCoordinator(
      host,
      config,
      () => this.producerIds.next(),
      (producerId, partitions, commit) =>
        this.groups.onTransactionCompleted(producerId, partitions, commit),
    );
    this.replicaManager.transactions = this.transactions;
    // deno-lint-ignore no-this-alias
    const broker = this;
    this.metadataCache = {
      topic: (name) => logs.getTopic(name),
      topicById: (id) => logs.getTopicById(id),
      topics: () => logs.listTopics(),
      nodeId: config.nodeId,
      get clusterId() {
        return logs.clusterId;
      },
      get advertisedHost() {
        return broker.advertisedHost;
      },
      get advertisedPort() {
        return broker.advertisedPort;
      },
      endpoint: (listenerName) => broker.endpoint(listenerName),
    };
    this.services = {
      replicaManager: this.replicaManager,
      metadataCache: this.metadataCache,
      topicAdmin: this.topicAdmin,
      dynamicConfig: this.dynamicConfig,
      groups: this.groups,
      transactions: this.transactions,
      config,
      metrics: this.metrics,
      producerIds: { next: () => this.producerIds.next() },
      apiVersions: () => this.registry.apiVersions(),
      scramCredentials: this.scramCredentials,
    };
  }

  /**
   * The advertised host and port of listener `name`, where clients that came in on it are sent
   * (Kafka answers each listener's clients with that listener's endpoints); the first
   * listener's for a name not served here.
   */
  endpoint(name: string): { host: string; port: number } {
    const l = this.listeners.find((l) => l.name === name) ?? this.listeners[0];
    return l
      ? { host: l.advertisedHost, port: l.advertisedPort }
      : { host: this.advertisedHost, port: this.advertisedPort };
  }

  /** Producer ids: allocated by the controller (InitProducerId is forwarded there). */
  get producerIds(): ProducerIdManager {
    if (!this.producerIdManager) {
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, "producer ids are allocated by worker 0");
    }
    return this.producerIdManager;
  }

  /** Whether this broker runs the coordinators and writes the catalogue (alone, or worker 0). */
  get isController(): boolean {
    return !this.cluster || this.cluster.isController;
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get clusterId(): string {
    return this.logs.clusterId;
  }

  /** Opens storage (recovering every partition) and starts listening. */
  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const startedAt = performance.now();
    const settings = new Map<string, string>();
    for (const [k, v] of Object.entries(options.config ?? {})) settings.set(k, String(v));
    const config = new BrokerConfig(settings);
    const cluster = options.cluster;
    const controller = !cluster || cluster.isController;
    if (controller) { for (const k of config.unknown) log.warn(unknownConfigWarning(k)); }
    if (controller && config.withoutEffect.length) {
      log.info(`configs accepted with no effect here: ${config.withoutEffect.join(", ")}`);
    }
    groupConfigFrom(config); // cross-checks group.consumer.* before storage is opened
    // Listener mistakes stop the start before storage is opened, too.
    const resolved = resolveListeners(config, options);
    const listeners = options.listeners ?? resolved.listeners;
    for (const l of listeners) checkServable(l);
    const dataDir = dataDirOf(options, config);
    // SASL mistakes (GSSAPI, a bad JAAS entry or users file) too, with the dynamic SASL
    // settings of an earlier run in force (open() loads them again, for everything else).
    loadDynamicBrokerConfigs(config, dataDir);
    const scramCredentials = FileScramCredentialStore.inDataDir(dataDir);
    const security = {
      scramCredentials,
      sasl: saslListeners(config, listeners, scramCredentials),
    };
    await Deno.mkdir(dataDir, { recursive: true });
    // With workers the supervisor holds the lock for all of them.
    const dirLock = cluster ? null : LogDirLock.acquire(dataDir);
    try {
      const broker = await Broker.open({ ...options, listeners }, config, dataDir, security);
      broker.dirLock = dirLock;
      broker.interBrokerListener = resolved.interBrokerListener;
      if (controller) {
        await logStartupSummary(broker, startedAt);
        if (options.statusIntervalMs) {
          broker.stopStatusReport = startStatusReport(broker, options.statusIntervalMs);
        }
      }
      return broker;
    } catch (e) {
      dirLock?.release();
      throw e;
    }
  }

  /** Start, once the data directory is locked: storage, coordinators, listener. */
  private static async open(
    options: BrokerOptions,
    config: BrokerConfig,
    dataDir: string,
    security: BrokerSecurity,
  ): Promise<Broker> {
    const cluster = options.cluster;
    const controller = !cluster || cluster.isController;
    loadDynamicBrokerConfigs(config, dataDir);
    // TLS key material is read before storage opens: a bad certificate stops the start early.
    const tls = new Map<string, TlsListener>();
    for (const l of options.listeners!) {
      if (l.securityProtocol === "SSL" || l.securityProtocol === "SASL_SSL") {
        tls.set(l.name, new TlsListener(config, l, config.int("connections.max.idle.ms")));
      }
    }
    const remoteStorage = remoteStorageFor(config, dataDir);
    if (remoteStorage && controller) log.info(`tiered storage in ${remoteStorage.description}`);
    const logs = await LogManager.open(dataDir, {
      nodeId: config.nodeId,
      logConfigFor: (overrides) => logConfigFor(config, overrides),
      decompress: (codec, data) => decompress(codec, data),
      remoteStorage,
      remoteLogManager: remoteLogManagerSettings(config),
      cleaner: {
        enable: config.bool("log.cleaner.enable"),
        backoffMs: config.int("log.cleaner.backoff.ms"),
        dedupeBufferBytes: config.int("log.cleaner.dedupe.buffer.size"),
      },
      retentionCheckIntervalMs: config.int("log.retention.check.interval.ms"),
      onError: (m) => log.warn(m),
      owns: cluster ? (t, p) => cluster.owns(t, p) : undefined,
      catalogueWriter: controller,
      checkpointSuffix: controller ? "" : `.w${cluster!.index}`,
    });
    if (controller) {
      try {
        await checkInternalTopics(logs, config, (m) => log.warn(m));
      } catch (e) {
        await logs.close();
        throw e;
      }
    }
    options.onStorageOpen?.();
    const producerIds = controller ? await ProducerIdManager.open(dataDir) : null;
    // Consumers' reads come from the buffer pool and go back once written to the socket.
    setReadBufferAllocator((n) => bufferPool.take(n));
    const broker = new Broker(config, logs, dataDir, producerIds, cluster, security);
    const specs = options.listeners!;
    if (cluster) broker.serveWorkers(cluster);
    const bound: Deno.TcpListener[] = [];
    try {
      if (controller) {
        // With workers, creating the coordinators' internal topics here waits for the other
        // workers to take the new catalogue: they start once storage is open (above).
        await broker.groups.load();
        await broker.transactions.startup();
      }
      for (const [i, spec] of specs.entries()) {
        const hostname = spec.host === "" ? defaultBindHost() : spec.host;
        try {
          bound.push(Deno.listen({
            hostname,
            port: spec.port,
            ...(cluster ? { reusePort: true } : {}),
          } as Deno.TcpListenOptions));
        } catch (e) {
          // The first listener is the one --host/--port name; the others are named.
          if (i > 0 && e instanceof Deno.errors.AddrInUse) {
            throw new Deno.errors.AddrInUse(
              `listener ${spec.name}: port ${spec.port} on ${hostname}`,
            );
          }
          throw e;
        }
      }
    } catch (e) {
      for (const l of bound) l.close();
      broker.groups.close();
      await broker.transactions.close();
      await logs.close();
      throw e;
    }
    broker.listeners = specs.map((spec, i) => {
      const port = (bound[i].addr as Deno.NetAddr).port;
      return { ...spec, port, advertisedPort: spec.advertisedPort || port };
    });
    const first = broker.listeners[0];
    broker.host = (bound[0].addr as Deno.NetAddr).hostname;
    broker.port = first.port;
    broker.advertisedHost = first.advertisedHost;
    broker.advertisedPort = first.advertisedPort;
    if (options.adminPort !== undefined && controller) {
      try {
        const { startAdminServer } = await import("./admin/server.ts");
        broker.admin = startAdminServer(broker, {
          hostname: options.adminHost ?? broker.host,
          port: options.adminPort,
          token: options.adminToken,
        });
      } catch (e) {
        for (const l of bound) l.close();
        broker.groups.close();
        await logs.close();
        throw e;
      }
    }
    broker.listeners.forEach((spec, i) => {
      const server = new SocketServer({
        listener: spec,
        sasl: broker.security.sasl.get(spec.name),
        tls: tls.get(spec.name),
        apis: broker.apis,
        requestBudget: broker.requestBudget,
        idleConnections: broker.idleConnections,
        quotas: broker.connectionQuotas,
        metrics: broker.metrics,
        maxFrameBytes: config.int("socket.request.max.bytes"),
        isClosing: () => broker.isClosing,
      });
      broker.socketServers.push(server);
      const sasl = broker.security.sasl.get(spec.name);
      if (sasl) broker.dynamicConfig.addReconfigurable(sasl);
      const t = tls.get(spec.name);
      if (t) {
        t.start();
        broker.dynamicConfig.addReconfigurable(t);
      }
      server.start(bound[i]);
    });
    broker.startFlusher();
    logs.startBackgroundTasks();
    if (controller) broker.transactions.startScheduler();
    if (cluster) {
      cluster.started();
      // Catalogue changes made while this worker started are in topics.json by now.
      if (!controller) await logs.syncCatalogue();
    }
    return broker;
  }

  /** The methods other workers call on this one (see src/workers/). */
  private serveWorkers(cluster: WorkerCluster): void {
    this.replicaManager.serve(cluster);
    this.apis.serve(cluster);
    cluster.serve("syncCatalogue", () => this.logs.syncCatalogue());
    cluster.serve("stats", () => this.localStats());
    cluster.serve("dropTopic", (a) => this.logs.dropTopic(a.name));
    cluster.serve("syncBrokerConfigs", () => this.dynamicConfig.reload());
    if (!cluster.isController) return;
    cluster.serve("createTopic", async (a) => {
      return (await this.topicAdmin.autoCreateTopic(a.name)) !== undefined;
    });
  }

  private startFlusher(): void {
    // log.flush.interval.ms is enforced on appends by each partition; this timer catches
    // partitions that went quiet with unflushed data.
    const interval = this.config.logFlushIntervalMs;
    if (interval > 0 && interval < 2 ** 31) {
      this.flushTimer = setInterval(() => {
        this.logs.flushAll().catch((e) => log.error(`periodic flush failed: ${errText(e)}`));
      }, Math.max(interval, 10));
    }
  }

  /** The open client connections, of every listener. */
  get connections(): Set<Connection> {
    return new Set(this.socketServers.flatMap((s) => [...s.connections]));
  }

  // ---- catalogue reads, for embedders, the admin API and tests ----------------------

  topic(name: string): TopicMetadata | undefined {
    return this.logs.getTopic(name);
  }

  topicById(id: string): TopicMetadata | undefined {
    return this.logs.getTopicById(id);
  }

  topics(): TopicMetadata[] {
    return this.logs.listTopics();
  }

  /** The partition's log when it is open here (see ReplicaManager.partition). */
  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.replicaManager.partition(topic, partition);
  }

  /** Creates a topic (see TopicAdmin.createTopic). */
  createTopic(...args: Parameters<TopicAdmin["createTopic"]>): Promise<TopicMetadata | null> {
    return this.topicAdmin.createTopic(...args);
  }

  private localStats(): WorkerStats {
    return { metrics: this.metrics.snapshot(), remote: { ...this.logs.remoteLogManager.stats } };
  }

  /**
   * Request, traffic and connection counters and tiering totals of the whole broker: with
   * workers, every worker's summed (the admin API and /metrics run on worker 0).
   */
  async stats(): Promise<{ metrics: Metrics; remote: WorkerStats["remote"] }> {
    if (!this.cluster) return { metrics: this.metrics, remote: this.logs.remoteLogManager.stats };
    const all = [this.localStats(), ...await this.cluster.gather("stats")];
    const metrics = new Metrics();
    const remote = { ...all[0].remote };
    for (const s of all) metrics.add(s.metrics);
    for (const s of all.slice(1)) {
      for (const k of Object.keys(remote) as (keyof typeof remote)[]) remote[k] += s.remote[k];
    }
    return { metrics, remote };
  }

  // ---- lifecycle ----------------------------------------------------------------------

  /** True once close() has been called (the admin API's /readyz turns 503). */
  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  /** Stops the admin API and accepting, closes connections, flushes and closes every log. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopStatusReport?.();
      await this.admin?.close();
      if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
      this.idleConnections.stop();
      this.groups.close();
      await Promise.all(this.socketServers.map((s) => s.close()));
      try {
        await this.transactions.close();
        await this.logs.close();
      } finally {
        this.dirLock?.release();
      }
    })();
    return this.closing;
  }
}
