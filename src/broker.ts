/**
 * The broker: wires configuration, the log manager (storage) and the handler registry to a
 * TCP listener. Handlers reach everything they need through this object.
 */
import { decompress } from "../protocol/compression.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { LogManager, type TopicMetadata } from "../storage/log_manager.ts";
import { LogDirLock } from "../storage/log_dir_lock.ts";
import type { LogConfig } from "../storage/log_config.ts";
import { type PartitionLog, writeFileAtomic } from "../storage/partition_log.ts";
import { setReadBufferAllocator } from "../storage/log_segment.ts";
import { createRemoteStorageManager } from "../storage/remote_storage_s3.ts";
import type { RemoteStorageManager } from "../storage/remote_storage.ts";
import type { RemoteLogManager } from "../storage/remote_log_manager.ts";
import { dirname, resolve } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import type { AdminServer } from "./admin/server.ts";
import { BrokerConfig, type ConfigValue, parseTopicConfigs, topicConfigValue } from "./config.ts";
import { ConfigError, DYNAMIC_BROKER_CONFIGS, TOPIC_DEFS } from "./config.ts";
import { validateDynamicBrokerChanges } from "./dynamic_broker_config.ts";
import { Connection, errText } from "./connection.ts";
import { GroupCoordinator } from "./group/group_coordinator.ts";
import { groupConfigFrom } from "./group/group_config.ts";
import { GROUP_METADATA_TOPIC, GroupMetadataLog } from "./group/group_metadata_log.ts";
import {
  checkInternalTopics,
  internalTopicCreation,
  internalTopicSpec,
  isInternalTopic,
} from "./internal_topic.ts";
import { registerHandlers } from "./handlers/mod.ts";
import { log } from "./log.ts";
import { Metrics, type MetricsSnapshot } from "./metrics.ts";
import { ProducerIdManager } from "./producer_id_manager.ts";
import { HandlerRegistry } from "./registry.ts";
import { RequestBudget } from "./request_budget.ts";
import { ConnectionQuotas } from "./connection_quotas.ts";
import { IdleExpiryManager } from "./idle_expiry.ts";
import { brokerTransactionCoordinator, type TransactionCoordinator } from "./txn/mod.ts";
import { checkTransactionalProduce } from "./txn/produce_verification.ts";
import {
  type AppendOutcome,
  type FetchOutcome,
  isFreshRead,
  markFreshRead,
  PARTITION_OPS,
  type PartitionOpArgs,
  type PartitionOpName,
  type PartitionOpResult,
  transferablesOf,
} from "./partition_ops.ts";
import { CloseConnection, handleRequestFrame } from "./connection.ts";
import { bufferPool, POOL_SAFE_APIS } from "./buffer_pool.ts";
import { MAX_PARTITIONS_PER_REQUEST, tooManyPartitions } from "./partition_limits.ts";
import { CONTROLLER_WORKER } from "./workers/ownership.ts";
import { Transfer } from "./workers/peer_link.ts";
import type { FetchSessionView } from "./fetch_session.ts";
import type { WorkerCluster } from "./workers/worker_cluster.ts";

export interface BrokerOptions {
  /** Bind address (default 0.0.0.0). */
  host?: string;
  /** Port; 0 picks a free one (default 9092). */
  port?: number;
  /** Data directory (default ./data). */
  dataDir?: string;
  /** Host name put in Metadata responses (default: the bind host, or 127.0.0.1 for 0.0.0.0). */
  advertisedHost?: string;
  /** Port put in Metadata responses (default: the bound port). */
  advertisedPort?: number;
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
  /** Called once storage is open, before coordinators load (the supervisor starts the rest). */
  onStorageOpen?: () => void;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

let nextWatchId = 1;

/** A partition a fetch waits on: topic, partition, the high watermark its last read saw. */
export type WatchedPartition = [string, number, number];

/** One worker's counters, as sent to the worker serving the admin API. */
interface WorkerStats {
  metrics: MetricsSnapshot;
  remote: RemoteLogManager["stats"];
}

function unknownPartition(topic: string, partition: number): KafkaError {
  return new KafkaError(
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    `unknown partition ${topic}-${partition}`,
  );
}

/** Kafka's topic name rules: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". */
export function validateTopicName(name: string): void {
  if (!name || name.length > 249 || name === "." || name === ".." || !TOPIC_NAME.test(name)) {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `invalid topic name '${name}'`);
  }
}

/** "delete,compact" and "compact,delete" are the same policy. */
function normalizePolicy(p: string): LogConfig["cleanupPolicy"] {
  const parts = new Set(p.split(","));
  if (parts.has("compact") && parts.has("delete")) return "compact,delete";
  return parts.has("compact") ? "compact" : "delete";
}

/** The LogConfig of a topic with these overrides, from the broker's defaults. */
export function logConfigFor(
  config: BrokerConfig,
  overrides: Record<string, ConfigValue>,
): LogConfig {
  const v = (k: string) => topicConfigValue(config, overrides, k);
  return {
    segmentBytes: v("segment.bytes") as number,
    segmentMs: v("segment.ms") as number,
    indexIntervalBytes: v("index.interval.bytes") as number,
    maxIndexEntries: Math.max(1, Math.floor((v("segment.index.bytes") as number) / 8)),
    flushIntervalMessages: v("flush.messages") as number,
    flushIntervalMs: v("flush.ms") as number,
    messageTimestampType: v("message.timestamp.type") as "CreateTime" | "LogAppendTime",
    maxMessageBytes: v("max.message.bytes") as number,
    timestampBeforeMaxMs: v("message.timestamp.before.max.ms") as number,
    timestampAfterMaxMs: v("message.timestamp.after.max.ms") as number,
    retentionMs: v("retention.ms") as number,
    retentionBytes: v("retention.bytes") as number,
    cleanupPolicy: normalizePolicy(v("cleanup.policy") as string),
    remoteStorageEnable: v("remote.storage.enable") as boolean,
    localRetentionMs: v("local.retention.ms") as number,
    localRetentionBytes: v("local.retention.bytes") as number,
    deleteRetentionMs: v("delete.retention.ms") as number,
    minCompactionLagMs: v("min.compaction.lag.ms") as number,
    maxCompactionLagMs: v("max.compaction.lag.ms") as number,
    minCleanableDirtyRatio: v("min.cleanable.dirty.ratio") as number,
  };
}

/** The data directory: `dataDir`, else `log.dirs`, else `log.dir`, else ./data. */
export function dataDirOf(options: BrokerOptions, config: BrokerConfig): string {
  return options.dataDir ?? (config.get("log.dirs") as string | null) ??
    (config.get("log.dir") as string | null) ?? "./data";
}

/** Where dynamic broker configs (AlterConfigs on the broker resource) are kept. */
const DYNAMIC_CONFIG_FILE = "meta/dynamic-broker-configs.json";

/** Loads dynamic broker configs persisted by an earlier run (invalid entries are skipped). */
function loadDynamicBrokerConfigs(config: BrokerConfig, dataDir: string): void {
  const path = `${dataDir}/${DYNAMIC_CONFIG_FILE}`;
  config.dynamicBroker.clear();
  config.dynamicDefault.clear();
  if (!existsSync(path)) return;
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as {
      broker?: Record<string, string>;
      default?: Record<string, string>;
    };
    for (const [scope, values] of [["broker", saved.broker], ["default", saved.default]] as const) {
      for (const [k, v] of Object.entries(values ?? {})) {
        try {
          config.setDynamic(k, v, scope);
        } catch (e) {
          log.warn(`ignoring saved dynamic config ${k}: ${errText(e)}`);
        }
      }
    }
  } catch (e) {
    log.warn(`cannot read ${path}: ${errText(e)}`);
  }
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

/** RemoteLogManager settings from the broker config. */
function remoteLogManagerSettings(config: BrokerConfig) {
  return {
    taskIntervalMs: config.int("remote.log.manager.task.interval.ms"),
    retryBackoffMs: config.int("remote.log.manager.task.retry.backoff.ms"),
    retryBackoffMaxMs: config.int("remote.log.manager.task.retry.backoff.max.ms"),
    cacheBytes: config.int("remote.log.reader.cache.size.bytes"),
  };
}

export class Broker {
  readonly registry = new HandlerRegistry();
  readonly metrics = new Metrics();
  /**
   * Bytes of requests being read or handled on this worker's connections: its share of
   * `queued.max.request.bytes` (each worker holds the requests of the connections it accepted).
   */
  requestBudget: RequestBudget;
  readonly connections = new Set<Connection>();
  /** Closes connections idle for connections.max.idle.ms. */
  readonly idleConnections: IdleExpiryManager;
  /** max.connections and max.connections.per.ip (this worker's share), accept failures. */
  private quotas: ConnectionQuotas;
  readonly startedAt = Date.now();
  private listener?: Deno.TcpListener;
  private acceptLoop?: Promise<void>;
  private flushTimer?: ReturnType<typeof setInterval>;
  private closing?: Promise<void>;
  /** The data directory's lock; null with workers (the supervisor holds it). */
  private dirLock: LogDirLock | null = null;
  /** The admin HTTP server, when started with `adminPort`. */
  admin?: AdminServer;
  host = "0.0.0.0";
  port = 0;
  advertisedHost = "127.0.0.1";
  advertisedPort = 0;

  /** Consumer groups and committed offsets (this broker coordinates every group). */
  readonly groups: GroupCoordinator;
  /** Transactions: this broker coordinates every transactional id (issue 7). */
  readonly transactions: TransactionCoordinator;

  /** Deno workers: this worker's place among them; undefined when the broker runs alone. */
  cluster?: WorkerCluster;
  /** Fetches waiting on appends here, for other workers (see waitForAppend). */
  private readonly watches = new Map<string, () => void>();
  /** Catalogue and config changes still being applied by the other workers. */
  private propagation: Promise<void> = Promise.resolve();

  private constructor(
    readonly config: BrokerConfig,
    readonly logs: LogManager,
    readonly dataDir: string,
    private readonly producerIdManager: ProducerIdManager | null,
  ) {
    registerHandlers(this.registry);
    this.requestBudget = new RequestBudget(config.int("queued.max.request.bytes"));
    this.metrics.requestBudget = this.requestBudget;
    this.idleConnections = new IdleExpiryManager(config.int("connections.max.idle.ms"));
    this.quotas = new ConnectionQuotas(
      config.int("max.connections"),
      config.int("max.connections.per.ip"),
    );
    this.groups = new GroupCoordinator(
      new GroupMetadataLog(this, config.int("offsets.topic.num.partitions")),
      {
        config: groupConfigFrom(config),
        partitionExists: (t, p) => this.hasPartition(t, p),
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
      this,
      config,
      () => this.producerIds.next(),
      (producerId, partitions, commit) =>
        this.groups.onTransactionCompleted(producerId, partitions, commit),
    );
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
    const settings = new Map<string, string>();
    for (const [k, v] of Object.entries(options.config ?? {})) settings.set(k, String(v));
    const config = new BrokerConfig(settings);
    const cluster = options.cluster;
    const controller = !cluster || cluster.isController;
    if (controller) { for (const k of config.unknown) log.warn(`unknown config '${k}' ignored`); }
    if (controller && config.withoutEffect.length) {
      log.info(`configs accepted with no effect here: ${config.withoutEffect.join(", ")}`);
    }
    groupConfigFrom(config); // cross-checks group.consumer.* before storage is opened
    const dataDir = dataDirOf(options, config);
    await Deno.mkdir(dataDir, { recursive: true });
    // With workers the supervisor holds the lock for all of them.
    const dirLock = cluster ? null : LogDirLock.acquire(dataDir);
    try {
      const broker = await Broker.open(options, config, dataDir);
      broker.dirLock = dirLock;
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
  ): Promise<Broker> {
    const cluster = options.cluster;
    const controller = !cluster || cluster.isController;
    loadDynamicBrokerConfigs(config, dataDir);
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
    const broker = new Broker(config, logs, dataDir, producerIds);
    broker.host = options.host ?? "0.0.0.0";
    broker.cluster = cluster;
    if (cluster) {
      const limit = config.int("queued.max.request.bytes");
      broker.requestBudget = new RequestBudget(
        limit < 0 ? limit : Math.floor(limit / cluster.count),
      );
      broker.metrics.requestBudget = broker.requestBudget;
      // Each worker accepts its own connections (SO_REUSEPORT): it enforces its share.
      broker.quotas = new ConnectionQuotas(
        Math.ceil(config.int("max.connections") / cluster.count),
        config.int("max.connections.per.ip"),
      );
      broker.serveWorkers(cluster);
    }
    try {
      if (controller) {
        // With workers, creating the coordinators' internal topics here waits for the other
        // workers to take the new catalogue: they start once storage is open (above).
        await broker.groups.load();
        await broker.transactions.startup();
      }
      broker.listener = Deno.listen({
        hostname: broker.host,
        port: options.port ?? 9092,
        ...(cluster ? { reusePort: true } : {}),
      } as Deno.TcpListenOptions);
    } catch (e) {
      broker.groups.close();
      await broker.transactions.close();
      await logs.close();
      throw e;
    }
    const addr = broker.listener.addr as Deno.NetAddr;
    broker.port = addr.port;
    broker.advertisedHost = options.advertisedHost ??
      (broker.host === "0.0.0.0" || broker.host === "::" ? "127.0.0.1" : broker.host);
    broker.advertisedPort = options.advertisedPort ?? broker.port;
    if (options.adminPort !== undefined && controller) {
      try {
        const { startAdminServer } = await import("./admin/server.ts");
        broker.admin = startAdminServer(broker, {
          hostname: options.adminHost ?? broker.host,
          port: options.adminPort,
          token: options.adminToken,
        });
      } catch (e) {
        broker.listener?.close();
        broker.groups.close();
        await logs.close();
        throw e;
      }
    }
    broker.acceptLoop = broker.accept();
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
    cluster.serve(
      "op",
      async (a: { topic: string; partition: number; name: PartitionOpName; args: any }) => {
        const log = this.logs.getPartition(a.topic, a.partition);
        if (!log) {
          throw new KafkaError(
            ErrorCode.NOT_LEADER_OR_FOLLOWER,
            `${a.topic}-${a.partition} is not open on worker ${cluster.index}`,
          );
        }
        const result = await (PARTITION_OPS[a.name] as any)(this, log, a.args);
        const transfer = transferablesOf(a.name, result);
        if (a.name === "append") {
          // The appended copy is written out: hand it back to the sender's buffer pool.
          const records = (a.args as PartitionOpArgs<"append">).records;
          return new Transfer({ result, returned: records }, [records.buffer as ArrayBuffer]);
        }
        return new Transfer({ result }, transfer);
      },
    );
    cluster.serve(
      "watch",
      (a: { key: string; parts: WatchedPartition[]; ms: number }) =>
        this.watchLocal(a.key, a.parts, a.ms),
    );
    cluster.serve("unwatch", (a: { key: string }) => {
      this.watches.get(a.key)?.();
    });
    cluster.serve("syncCatalogue", () => this.logs.syncCatalogue());
    cluster.serve("stats", () => this.localStats());
    cluster.serve("dropTopic", (a: { name: string }) => this.logs.dropTopic(a.name));
    cluster.serve("syncBrokerConfigs", () => {
      loadDynamicBrokerConfigs(this.config, this.dataDir);
      this.applyBrokerConfigs();
    });
    cluster.serve(
      "request",
      async (
        a: {
          frame: Uint8Array;
          clientHost: string;
          connectionId: number;
          fetchSession?: FetchSessionView;
        },
      ) => {
        let chunks: Uint8Array[] | null;
        try {
          chunks = await handleRequestFrame(
            this,
            a.frame,
            a.clientHost,
            a.connectionId,
            false,
            a.fetchSession,
          );
        } catch (e) {
          if (e instanceof CloseConnection) return { close: e.message, closeLevel: e.level };
          throw e;
        }
        // Requests that keep no view of their bytes give the copy back to the sender's pool.
        const reusable = POOL_SAFE_APIS.has((a.frame[0] << 8) | a.frame[1]);
        const returned = reusable ? { returned: a.frame } : {};
        const back: ArrayBuffer[] = reusable ? [a.frame.buffer as ArrayBuffer] : [];
        // A fetch session's answer goes back to the worker keeping the session.
        const session = a.fetchSession ? { fetchSession: a.fetchSession.result } : {};
        if (!chunks) return new Transfer({ response: null, ...returned, ...session }, back);
        // Fetched segment bytes change hands; the rest (headers, cold-tier cache views) is
        // copied, byte for byte of each view.
        const response: Uint8Array[] = [];
        const transfer = new Set<ArrayBuffer>();
        /** Which chunks are fresh reads: the receiver may pool them once written. */
        const fresh: number[] = [];
        for (const c of chunks) {
          if (isFreshRead(c.buffer)) {
            fresh.push(response.length);
            response.push(c);
            transfer.add(c.buffer as ArrayBuffer);
          } else response.push(c.slice());
        }
        return new Transfer({ response, fresh, ...returned, ...session }, [
          ...transfer,
          ...back,
        ]);
      },
    );
    if (!cluster.isController) return;
    cluster.serve("createTopic", async (a: { name: string }) => {
      return (await this.autoCreateTopic(a.name)) !== undefined;
    });
    cluster.serve(
      "txnAppend",
      (a: {
        transactionalId: string;
        topic: string;
        partition: number;
        records: Uint8Array;
        apiVersion: number;
      }) =>
        this.transactionalAppend(a.transactionalId, a.topic, a.partition, a.records, a.apiVersion)
          .then((result) =>
            new Transfer({ result, returned: a.records }, [a.records.buffer as ArrayBuffer])
          ),
    );
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

  private async accept(): Promise<void> {
    const listener = this.listener!;
    while (true) {
      let conn: Deno.TcpConn;
      try {
        await this.quotas.slot();
        conn = await listener.accept();
      } catch (e) {
        if (this.closing) return;
        if (e instanceof Deno.errors.BadResource) return;
        // At the descriptor limit every accept fails at once: back off, log once a while.
        const wait = this.quotas.acceptFailed(errText(e));
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      try {
        const c = new Connection(conn, this);
        if (!this.quotas.add(c.remote)) {
          c.close();
          continue;
        }
        this.idleConnections.touch(c);
        this.connections.add(c);
        this.metrics.connectionsOpen++;
        this.metrics.connectionsTotal++;
        c.serve();
      } catch (e) {
        log.error(`could not set up a connection: ${errText(e)}`);
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    }
  }

  connectionClosed(c: Connection): void {
    if (this.connections.delete(c)) {
      this.metrics.connectionsOpen--;
      this.quotas.remove(c.remote);
    }
    this.idleConnections.remove(c);
  }

  // ---- topics -------------------------------------------------------------------------

  topic(name: string): TopicMetadata | undefined {
    return this.logs.getTopic(name);
  }

  topicById(id: string): TopicMetadata | undefined {
    return this.logs.getTopicById(id);
  }

  topics(): TopicMetadata[] {
    return this.logs.listTopics();
  }

  /**
   * The partition's log when it is open here: always when the broker runs alone; with
   * workers, only on its owner (the internal topics' partitions are all on the controller).
   * Requests go through partitionOp, which works wherever the owner is.
   */
  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.getPartition(topic, partition);
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
    const all = [this.localStats(), ...await this.cluster.gather<WorkerStats>("stats")];
    const metrics = new Metrics();
    const remote = { ...all[0].remote };
    for (const s of all) metrics.add(s.metrics);
    for (const s of all.slice(1)) {
      for (const k of Object.keys(remote) as (keyof typeof remote)[]) remote[k] += s.remote[k];
    }
    return { metrics, remote };
  }

  /** Appends a transaction marker (a control batch) as the coordinator, on the owner. */
  async appendMarker(topic: string, partition: number, batch: Uint8Array): Promise<void> {
    const r = await this.partitionOp(topic, partition, "append", {
      records: batch,
      opts: { origin: "coordinator" },
    });
    if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? "");
  }

  /** Whether the catalogue has this partition (wherever its log is open). */
  hasPartition(topic: string, partition: number): boolean {
    const t = this.logs.getTopic(topic);
    return t !== undefined && Number.isInteger(partition) && partition >= 0 &&
      partition < t.partitions;
  }

  /**
   * Runs a partition operation (src/partition_ops.ts) on the partition's owner: here, or on
   * the worker that owns it. Rejects with UNKNOWN_TOPIC_OR_PARTITION when it does not exist.
   */
  partitionOp<K extends PartitionOpName>(
    topic: string,
    partition: number,
    name: K,
    args: PartitionOpArgs<K>,
  ): Promise<PartitionOpResult<K>> {
    const cluster = this.cluster;
    if (cluster && !cluster.owns(topic, partition)) {
      if (!this.hasPartition(topic, partition)) {
        return Promise.reject(unknownPartition(topic, partition));
      }
      let transfer: ArrayBuffer[] = [];
      if (name === "append") {
        // The records are a view into the connection's read buffer: copy them once into a
        // buffer of their own and hand that over.
        const a = args as PartitionOpArgs<"append">;
        const records = bufferPool.take(a.records.length);
        records.set(a.records);
        args = { ...a, records } as PartitionOpArgs<K>;
        transfer = [records.buffer as ArrayBuffer];
      }
      return cluster.call<{ result: PartitionOpResult<K>; returned?: Uint8Array }>(
        cluster.ownerOf(topic, partition),
        "op",
        { topic, partition, name, args },
        transfer,
      ).then((r) => {
        if (r.returned) bufferPool.give(r.returned.buffer);
        if (name === "fetch") {
          const f = r.result as FetchOutcome;
          if (f.freshBuffer) markFreshRead(f.records!.buffer);
        }
        return r.result;
      });
    }
    const log = this.logs.getPartition(topic, partition);
    if (!log) return Promise.reject(unknownPartition(topic, partition));
    return (PARTITION_OPS[name] as any)(this, log, args);
  }

  /**
   * Resolves on the first append to any of `parts`, or after `ms`: the Fetch long poll. Each
   * part carries the high watermark its last read saw; one that has moved since resolves at
   * once, so an append landing between the read and the wait is not slept through. With
   * workers, partitions owned elsewhere are watched by their owners, which answer on the
   * first append; the first answer (or the timeout) cancels the rest.
   */
  waitForAppend(parts: WatchedPartition[], ms: number): Promise<void> {
    const cluster = this.cluster;
    const local: WatchedPartition[] = [];
    const remote = new Map<number, WatchedPartition[]>();
    for (const tp of parts) {
      const owner = cluster ? cluster.ownerOf(tp[0], tp[1]) : 0;
      if (!cluster || owner === cluster.index) local.push(tp);
      else {
        const list = remote.get(owner);
        if (list) list.push(tp);
        else remote.set(owner, [tp]);
      }
    }
    if (remote.size === 0) return this.watchLocal(null, local, ms);
    const key = `${cluster!.index}:${nextWatchId++}`;
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.watches.get(key)?.();
        for (const owner of remote.keys()) {
          cluster!.call(owner, "unwatch", { key }).catch(() => {});
        }
        resolve();
      };
      this.watchLocal(key, local, ms).then(finish);
      for (const [owner, list] of remote) {
        cluster!.call(owner, "watch", { key, parts: list, ms }).then(finish, finish);
      }
    });
  }

  /** Resolves on the first append to a local partition of `parts`, after `ms`, or on unwatch. */
  private watchLocal(key: string | null, parts: WatchedPartition[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const unsubs: (() => void)[] = [];
      const done = () => {
        clearTimeout(timer);
        for (const u of unsubs) u();
        if (key !== null) this.watches.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (key !== null) this.watches.set(key, done);
      for (const [t, p, seen] of parts) {
        const log = this.logs.getPartition(t, p);
        if (!log) continue;
        if (log.highWatermark > seen) {
          done();
          return;
        }
        unsubs.push(log.onAppend(done));
      }
    });
  }

  /**
   * Appends a transactional producer's batch once the transaction coordinator has checked
   * that the partition is in the producer's ongoing transaction (Produce's verification).
   * The check and the hand-over to the partition's owner happen in one turn of the
   * controller's event loop, and markers leave the controller by the same ordered channel, so
   * a batch checked before EndTxn lands before that transaction's marker.
   */
  transactionalAppend(
    transactionalId: string,
    topic: string,
    partition: number,
    records: Uint8Array,
    apiVersion: number,
  ): Promise<AppendOutcome> {
    const cluster = this.cluster;
    if (cluster && !cluster.isController) {
      const copy = bufferPool.take(records.length);
      copy.set(records);
      return cluster.call<{ result: AppendOutcome; returned: Uint8Array }>(
        CONTROLLER_WORKER,
        "txnAppend",
        { transactionalId, topic, partition, records: copy, apiVersion },
        [copy.buffer as ArrayBuffer],
      ).then((r) => {
        bufferPool.give(r.returned.buffer);
        return r.result;
      });
    }
    const rejected = checkTransactionalProduce(
      this.transactions,
      transactionalId,
      topic,
      partition,
      records,
      apiVersion,
    );
    if (rejected) {
      return Promise.resolve({
        errorCode: rejected.code,
        errorMessage: rejected.message,
        baseOffset: -1,
        logAppendTime: -1,
        logStartOffset: -1,
        recordCount: 0,
        duplicate: false,
      });
    }
    return this.partitionOp(topic, partition, "append", { records });
  }

  /**
   * Creates a topic after validating its name, partition count (at most `maxPartitions`: what
   * is left of the request's MAX_PARTITIONS_PER_REQUEST) and configs.
   */
  async createTopic(
    name: string,
    numPartitions: number,
    configs: Iterable<[string, string | null]> = [],
    validateOnly = false,
    maxPartitions = MAX_PARTITIONS_PER_REQUEST,
  ): Promise<TopicMetadata | null> {
    validateTopicName(name);
    if (this.topic(name)) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${name}' already exists`);
    }
    const internal = internalTopicSpec(this.config, name);
    if (internal) {
      // Whoever asks (a coordinator, Metadata's auto-creation, CreateTopics), an internal
      // topic gets its own partition count and a compacted log.
      ({ partitions: numPartitions, configs } = internalTopicCreation(
        internal,
        name,
        numPartitions,
        configs,
      ));
    }
    if (numPartitions === -1) numPartitions = this.config.int("num.partitions");
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `invalid partition count ${numPartitions}`,
      );
    }
    if (numPartitions > maxPartitions) throw tooManyPartitions(numPartitions);
    let overrides: Map<string, ConfigValue>;
    try {
      overrides = parseTopicConfigs(configs);
    } catch (e) {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, errText(e));
    }
    this.validateTopicConfigs(Object.fromEntries(overrides));
    if (validateOnly) return null;
    const t = await this.logs.createTopic(name, numPartitions, Object.fromEntries(overrides));
    await this.cluster?.broadcast("syncCatalogue");
    log.info(`created topic ${name} with ${numPartitions} partition(s)`);
    return t;
  }

  /** Creates `name` with broker defaults if auto-creation is on; undefined otherwise. */
  async autoCreateTopic(name: string): Promise<TopicMetadata | undefined> {
    const existing = this.topic(name);
    if (existing) return existing;
    if (!this.config.bool("auto.create.topics.enable")) return undefined;
    if (!this.isController) {
      // The controller creates it; its broadcast has reached this worker when it answers.
      validateTopicName(name);
      await this.cluster!.call(CONTROLLER_WORKER, "createTopic", { name });
      return this.topic(name);
    }
    try {
      return (await this.createTopic(name, -1)) ?? undefined;
    } catch (e) {
      if (e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS) {
        return this.topic(name);
      }
      throw e;
    }
  }

  async deleteTopic(name: string): Promise<void> {
    if (!this.config.bool("delete.topic.enable")) {
      throw new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED);
    }
    if (!this.topic(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (isInternalTopic(name)) {
      // Deleting it would drop every group's committed offsets or every transaction's state.
      throw new KafkaError(
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        `topic ${name} is an internal topic and is not allowed to be deleted`,
      );
    }
    // The catalogue is rewritten first; only then do the other workers close their partitions
    // and the directories go (a failed write leaves the topic as it was).
    await this.logs.deleteTopic(name, () => this.cluster?.broadcast("dropTopic", { name }));
    this.metrics.topicDeleted(name);
    log.info(`deleted topic ${name}`);
  }

  // ---- runtime configuration (AlterConfigs, IncrementalAlterConfigs) -------------------

  /** `remote.fetch.max.wait.ms`: how long a fetch waits on the cold tier. */
  get remoteFetchMaxWaitMs(): number {
    return this.config.int("remote.fetch.max.wait.ms");
  }

  /**
   * Cross-key rules for a topic's overrides (Kafka's LogConfig.validate); throws
   * INVALID_CONFIG naming the key. `previous` are the topic's current overrides, if any.
   */
  validateTopicConfigs(
    overrides: Record<string, ConfigValue>,
    previous?: Record<string, ConfigValue>,
  ): void {
    const bad = (key: string, why: string): never => {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, `${key}: ${why}`);
    };
    const c = logConfigFor(this.config, overrides);
    if (c.minCompactionLagMs > c.maxCompactionLagMs) {
      throw new KafkaError(
        ErrorCode.INVALID_CONFIG,
        `conflict topic config setting min.compaction.lag.ms (${c.minCompactionLagMs}) > ` +
          `max.compaction.lag.ms (${c.maxCompactionLagMs})`,
      );
    }
    if ("message.format.version" in overrides) {
      // Kafka 3.x keeps the deprecated setting but ignores it from inter-broker protocol 3.0.
      log.warn(
        `topic configuration message.format.version with value ` +
          `\`${overrides["message.format.version"]}\` is ignored: records are always stored ` +
          "in message format v2 (the inter-broker protocol version is 3.0 or later)",
      );
    }
    if (c.remoteStorageEnable) {
      if (!this.config.bool("remote.log.storage.system.enable")) {
        bad(
          "remote.storage.enable",
          "tiered storage is disabled on this broker (remote.log.storage.system.enable=false)",
        );
      }
      if (c.cleanupPolicy !== "delete") {
        bad("remote.storage.enable", "tiered storage is not supported for compacted topics");
      }
    }
    if (
      previous && logConfigFor(this.config, previous).remoteStorageEnable && !c.remoteStorageEnable
    ) {
      bad("remote.storage.enable", "tiered storage cannot be disabled once enabled on a topic");
    }
    if (c.localRetentionMs !== -2 && c.retentionMs !== -1) {
      if (c.localRetentionMs === -1 || c.localRetentionMs > c.retentionMs) {
        bad(
          "local.retention.ms",
          `${c.localRetentionMs} must not be more than retention.ms (${c.retentionMs})`,
        );
      }
    }
    if (c.localRetentionBytes !== -2 && c.retentionBytes !== -1) {
      if (c.localRetentionBytes === -1 || c.localRetentionBytes > c.retentionBytes) {
        bad(
          "local.retention.bytes",
          `${c.localRetentionBytes} must not be more than retention.bytes (${c.retentionBytes})`,
        );
      }
    }
  }

  /**
   * Replaces a topic's overrides (AlterConfigs semantics: keys not given return to their
   * defaults), validated, persisted in topics.json and applied to the open partitions at once.
   */
  alterTopicConfigs(
    name: string,
    entries: Iterable<[string, string | null]>,
    validateOnly = false,
  ): TopicMetadata | null {
    const t = this.topic(name);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    let overrides: Map<string, ConfigValue>;
    try {
      overrides = parseTopicConfigs(entries);
    } catch (e) {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, errText(e));
    }
    const next = Object.fromEntries(overrides);
    this.validateTopicConfigs(next, t.configs);
    if (validateOnly) return null;
    const updated = this.logs.updateTopicConfig(name, next);
    this.propagate("syncCatalogue");
    log.info(`topic ${name} configs: ${JSON.stringify(next)}`);
    return updated;
  }

  /**
   * Sets (value) or removes (null) dynamic broker configs for this broker ("broker") or as
   * cluster default ("default"), persists them and applies them: every topic's effective
   * config is re-derived, and the retention, cleaner and tiering tasks take the new values.
   * Throws INVALID_CONFIG for a topic config sent to a broker resource, INVALID_REQUEST for
   * what Kafka refuses (settings that change only at start, bad values, per-broker settings
   * as cluster default, thread pools resized beyond half or double, ...), with its messages.
   */
  alterBrokerConfigs(
    changes: [string, string | null][],
    scope: "broker" | "default",
    validateOnly = false,
  ): void {
    for (const [k] of changes) {
      if (TOPIC_DEFS.has(k) && !DYNAMIC_BROKER_CONFIGS.has(k) && !k.startsWith("log.")) {
        // e.g. retention.ms sent to a broker resource: name the right resource.
        throw new KafkaError(
          ErrorCode.INVALID_CONFIG,
          `${k}: a topic config; set it on the topic or as its broker default`,
        );
      }
    }
    validateDynamicBrokerChanges(this.config, changes, scope);
    if (validateOnly) return;
    const layer = scope === "broker" ? this.config.dynamicBroker : this.config.dynamicDefault;
    const before = new Map(layer);
    for (const [k, v] of changes) this.config.setDynamic(k, v, scope);
    try {
      this.saveDynamicBrokerConfigs();
    } catch (e) {
      // Not persisted: not applied either.
      layer.clear();
      for (const [k, v] of before) layer.set(k, v);
      throw new KafkaError(
        ErrorCode.KAFKA_STORAGE_ERROR,
        `cannot write ${DYNAMIC_CONFIG_FILE}: ${errText(e)}`,
      );
    }
    this.applyBrokerConfigs();
    this.propagate("syncBrokerConfigs");
    log.info(`dynamic broker configs (${scope}): ${JSON.stringify(changes)}`);
  }

  /** Re-derives every topic's config and the background tasks' settings from `config`. */
  private applyBrokerConfigs(): void {
    for (const t of this.logs.listTopics()) this.logs.updateTopicConfig(t.name, t.configs);
    this.logs.retentionCheckIntervalMs = this.config.int("log.retention.check.interval.ms");
    if (this.logs.cleaner) {
      this.logs.cleaner.config.backoffMs = this.config.int("log.cleaner.backoff.ms");
      this.logs.cleaner.config.dedupeBufferBytes = this.config.int(
        "log.cleaner.dedupe.buffer.size",
      );
    }
    Object.assign(this.logs.remoteLogManager.config, remoteLogManagerSettings(this.config));
  }

  /** Grows a topic (CreatePartitions); the owners of the new partitions open them. */
  async createPartitions(
    name: string,
    count: number,
    maxPartitions = MAX_PARTITIONS_PER_REQUEST,
  ): Promise<TopicMetadata> {
    const internal = internalTopicSpec(this.config, name);
    if (internal) {
      // A group's or transactional id's partition depends on the count: growing the topic
      // would move them away from their committed state.
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `${name} is an internal topic; its partition count is ${internal.partitionsKey}`,
      );
    }
    const now = this.topic(name)?.partitions ?? 0;
    if (count - now > maxPartitions) throw tooManyPartitions(count - now);
    const t = await this.logs.createPartitions(name, count);
    await this.cluster?.broadcast("syncCatalogue");
    return t;
  }

  /** Tells the other workers to re-read the catalogue or the broker configs, in order. */
  propagate(method: "syncCatalogue" | "syncBrokerConfigs"): void {
    const cluster = this.cluster;
    if (!cluster) return;
    this.propagation = this.propagation.then(() => cluster.broadcast(method));
  }

  /** Resolves once every change made so far has reached the other workers. */
  propagated(): Promise<void> {
    return this.propagation;
  }

  private saveDynamicBrokerConfigs(): void {
    const asText = (m: Map<string, ConfigValue>) =>
      Object.fromEntries([...m].map(([k, v]) => [k, String(v)]));
    writeFileAtomic(
      `${this.dataDir}/${DYNAMIC_CONFIG_FILE}`,
      JSON.stringify({
        broker: asText(this.config.dynamicBroker),
        default: asText(this.config.dynamicDefault),
      }),
    );
  }

  // ---- lifecycle ----------------------------------------------------------------------

  /** True once close() has been called (the admin API's /readyz turns 503). */
  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  /** Stops the admin API and accepting, closes connections, flushes and closes every log. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.admin?.close();
      if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
      this.idleConnections.stop();
      this.groups.close();
      try {
        this.listener?.close();
      } catch {
        // already closed
      }
      for (const c of this.connections) c.close();
      await this.acceptLoop;
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
