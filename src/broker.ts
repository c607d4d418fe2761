/**
 * The broker's lifecycle: opens storage, builds the services (ReplicaManager, TopicAdmin,
 * DynamicConfig, the coordinators), listens and accepts, wires the Deno workers, closes.
 * Handlers do not see this object: they get the narrow services of src/services.ts.
 */
import { ALLOW_ALL_AUTHORIZER, type StandardAuthorizer } from "./security/authorizer_config.ts";
import { accessControl, clientQuotaService } from "./security/access_control.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { LogManager, TopicMetadata } from "../storage/log_manager.ts";
import type { StorageEngine } from "../storage/local_log_store.ts";
import { MEMORY_DATA_DIR } from "../storage/memory_log_directory.ts";
import { LogDirLock } from "../storage/log_dir_lock.ts";
import type { PartitionLog } from "../storage/partition_log.ts";
import { setReadBufferAllocator } from "../storage/log_segment.ts";
import type { AdminServer } from "./admin/server.ts";
import { BrokerConnections } from "./cluster/broker_connections.ts";
import type { BrokerEndpoint, Leadership } from "./cluster/leadership.ts";
import { ProducerIdBlockManager } from "./cluster/producer_id_blocks.ts";
import { BrokerConfig, ConfigError } from "./config.ts";
import { unknownConfigWarning } from "./config_suggest.ts";
import { logStartupSummary, startStatusReport } from "./status_report.ts";
import { DynamicConfig, loadDynamicBrokerConfigs } from "./dynamic_config.ts";
import type { Connection } from "./connection.ts";
import { FaultInjector } from "./faults.ts";
import { serveFaults } from "./fault_workers.ts";
import { CONTROLLER_WORKER } from "./workers/ownership.ts";
import { KafkaApis } from "./kafka_apis.ts";
import { SocketServer } from "./socket_server.ts";
import { type BrokerSecurity, brokerSecurity } from "./security/broker_security.ts";
import { joinCluster } from "./cluster/cluster_join.ts";
import { bindListeners } from "./listener_binding.ts";
import { openBrokerLogs } from "./broker_logs.ts";
import { checkServable, type ListenerSpec, resolveListeners } from "./security/listeners.ts";
import type { ReconfigurableSaslListener } from "./security/sasl_listener.ts";
import type { ScramCredentialStore } from "./security/scram_credential_store.ts";
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
import type { ClientQuotaManager, QuotaAccounting } from "./quota/client_quota_manager.ts";
import type { BrokerServices, MetadataCache } from "./services.ts";
import { TopicAdmin } from "./topic_admin.ts";
import { ClusterReplicaAdmin, SingleBrokerReplicaAdmin } from "./replica_admin.ts";
import { brokerTransactionCoordinator, type TransactionCoordinator } from "./txn/mod.ts";
import { TxnVerifier } from "./txn/txn_verifier.ts";
import { bufferPool } from "./buffer_pool.ts";
import { Propagation } from "./workers/propagation.ts";
import type { WorkerStats } from "./workers/peer_methods.ts";
import type { WorkerCluster } from "./workers/worker_cluster.ts";
import type { ClusterNode } from "./cluster/cluster_node.ts";
import { registeredListeners } from "./cluster/listener_endpoints.ts";
import { countIsrChanges } from "./cluster/isr_change_counter.ts";
import { followLeadershipForTiering } from "./cluster/remote_log_leadership.ts";
import { coordinatorReplication, startReplication } from "./replication/replication_manager.ts";
import {
  ClusterLeadership,
  GivenLeadership,
  type PartitionLeadership,
  SingleBrokerLeadership,
} from "./cluster/partition_leadership.ts";
import {
  type BrokerOptions,
  dataDirOf,
  installNativeCrc,
  metadataStoreFor,
  type ProducerIdSource,
  remoteStorageFor,
  storageEngineOf,
} from "./broker_options.ts";

/** Where the admin API listens unless told otherwise: loopback only. */
export const DEFAULT_ADMIN_HOST = "127.0.0.1";

export { dataDirOf, MEMORY_DATA_DIR, storageEngineOf };
export type { BrokerOptions, ProducerIdSource };

/**
 * One broker: storage, coordinators, the Kafka listener and optionally the admin API. Start it
 * with startBroker() (mod.ts) or Broker.start(); close() flushes and closes everything.
 */
export class Broker {
  /** Every API this broker serves, with its versions (what ApiVersions advertises). */
  readonly registry: HandlerRegistry = new HandlerRegistry();
  /** Request, traffic and connection counters (the admin API and /metrics read them). */
  readonly metrics: Metrics = new Metrics();
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
  /**
   * Fault injection on this broker (src/faults.ts): failed or delayed requests, dropped
   * connections, a hang. Refuses changes unless `tributary.fault.injection.enable`.
   */
  readonly faults: FaultInjector;
  /** When this broker object was made (ms since the epoch). */
  readonly startedAt: number = Date.now();
  private flushTimer?: ReturnType<typeof setInterval>;
  private stopStatusReport?: () => void;
  private stopFollowingLeadership?: () => void;
  private closing?: Promise<void>;
  /** The data directory's lock; null with workers (the supervisor holds it). */
  private dirLock: LogDirLock | null = null;
  /** The admin HTTP server, when started with `adminPort`. */
  admin?: AdminServer;
  /** The first listener's bind address and port, and what it advertises. */
  host = "0.0.0.0";
  /** The bound port (the real one when 0 was asked for). */
  port = 0;
  /** The host name Metadata responses give clients. */
  advertisedHost = "127.0.0.1";
  /** The port Metadata responses give clients. */
  advertisedPort = 0;
  /** SCRAM credentials (AlterUserScramCredentials), in the data directory. */
  readonly scramCredentials: ScramCredentialStore;
  /** What quotas and limits the socket servers share (see ConnectionQuotas). */
  private readonly connectionQuotas: ConnectionQuotas;

  /** Consumer groups and committed offsets (this broker coordinates every group). */
  readonly groups: GroupCoordinator;
  /** Transactions: this broker coordinates every transactional id. */
  readonly transactions: TransactionCoordinator;
  /** Connections to the other brokers (markers, produce verification). */
  private readonly brokerConnections: BrokerConnections;

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
  /** The ACL authorizer; undefined without `authorizer.class.name` (everything allowed). */
  readonly authorizer?: StandardAuthorizer;
  /** Client quotas: the table (meta/client-quotas.json) and, on worker 0, the rates. */
  readonly clientQuotas: ClientQuotaManager;
  /** Where quota rates are kept: here, or on worker 0 for the whole broker. */
  readonly quotaAccounting: QuotaAccounting;
  /** Who leads what: this broker everything, the cluster's metadata, or a given view. */
  readonly leadership: PartitionLeadership;
  private stopReplication?: () => Promise<void>;

  private constructor(
    readonly config: BrokerConfig,
    readonly logs: LogManager,
    readonly dataDir: string,
    private readonly producerIdManager: ProducerIdSource | null,
    cluster: WorkerCluster | undefined,
    /** Membership of a multi-broker cluster; undefined for a broker on its own. */
    readonly clusterNode: ClusterNode | undefined,
    /** A leadership view given by the embedder (tests); else this broker's or the cluster's. */
    leadership: Leadership | undefined,
    private readonly security: BrokerSecurity,
  ) {
    this.cluster = cluster;
    this.scramCredentials = security.scramCredentials;
    // deno-lint-ignore no-this-alias
    const broker = this;
    const self: BrokerEndpoint = {
      nodeId: config.nodeId,
      get host() {
        return broker.advertisedHost;
      },
      get port() {
        return broker.advertisedPort;
      },
      rack: (config.get("broker.rack") as string | null) ?? null,
    };
    this.leadership = clusterNode
      ? new ClusterLeadership(clusterNode)
      : leadership
      ? new GivenLeadership(leadership)
      : new SingleBrokerLeadership(() => self);
    if (clusterNode && (!cluster || cluster.isController)) {
      countIsrChanges(clusterNode.cache, this.metrics);
    }
    if (clusterNode) followLeadershipForTiering(logs.remoteLogManager, this.leadership);
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
    this.faults = new FaultInjector(config.bool("tributary.fault.injection.enable"), {
      apiName: (key) => this.registry.get(key)?.name,
      apiKeys: () => this.registry.apiVersions().map((a) => [a.name, a.apiKey]),
      connections: () => this.socketServers.flatMap((s) => [...s.connections]),
    });
    this.apis = new KafkaApis(this);
    this.propagation = new Propagation(cluster);
    this.replicaManager = new ReplicaManager(logs, config, dataDir, cluster);
    this.topicAdmin = new TopicAdmin(
      config,
      logs,
      this.metrics,
      this.propagation,
      cluster,
      clusterNode,
    );
    this.dynamicConfig = new DynamicConfig(
      config,
      logs,
      logs.engine === "file" ? dataDir : null,
      this.propagation,
    );
    // What the coordinators' logs and marker writer need of the broker.
    const host = {
      topic: (name: string) => logs.getTopic(name),
      partition: (t: string, p: number) => this.replicaManager.partition(t, p),
      createTopic: (name: string, n: number, configs: Iterable<[string, string | null]>) =>
        this.topicAdmin.createTopic(name, n, configs),
      hasPartition: (t: string, p: number) => this.replicaManager.hasPartition(t, p),
      appendMarker: (t: string, p: number, batch: Uint8Array) =>
        this.replicaManager.appendMarker(t, p, batch),
      awaitReplication: (t: string, p: number, offset: number) =>
        coordinatorReplication(this.replicaManager, t, p, offset, config),
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
        transactionVerification: (transactionalId, producerId, producerEpoch, partition) =>
          this.replicaManager.transactionVerification(
            transactionalId,
            GROUP_METADATA_TOPIC,
            partition,
            producerId,
            producerEpoch,
          ),
      },
    );
    this.brokerConnections = new BrokerConnections(this.leadership, {
      clientId: `tributary-broker-${config.nodeId}`,
      interBroker: security.interBroker,
    });
    this.transactions = brokerTransactionCoordinator(
      host,
      config,
      this.leadership,
      this.brokerConnections,
      () => this.producerIds.next(),
      (producerId, partitions, commit) =>
        this.groups.onTransactionCompleted(producerId, partitions, commit),
    );
    this.replicaManager.transactions = this.transactions;
    this.replicaManager.remoteTxn = {
      leadership: this.leadership,
      verifier: new TxnVerifier(this.brokerConnections),
    };
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
    const access = accessControl(config, dataDir, this.metrics, this.propagation, {
      shared: security.cluster,
      cluster,
    });
    this.authorizer = access.authorizer;
    this.clientQuotas = access.clientQuotas;
    this.quotaAccounting = access.quotaAccounting;
    this.services = {
      authorizer: this.authorizer ?? ALLOW_ALL_AUTHORIZER,
      replicaManager: this.replicaManager,
      metadataCache: this.metadataCache,
      leadership: this.leadership,
      topicAdmin: this.topicAdmin,
      replicaAdmin: clusterNode
        ? new ClusterReplicaAdmin(clusterNode)
        : new SingleBrokerReplicaAdmin((name) => logs.getTopic(name), config.nodeId),
      dynamicConfig: this.dynamicConfig,
      groups: this.groups,
      transactions: this.transactions,
      clientQuotas: clientQuotaService(this.clientQuotas, this.propagation),
      config,
      metrics: this.metrics,
      producerIds: { next: () => this.producerIds.next() },
      apiVersions: () => this.registry.apiVersions(),
      scramCredentials: this.scramCredentials,
    };
  }

  /** The SASL servers of the SASL_* listeners (the admin API logs users in with them). */
  get saslListeners(): ReconfigurableSaslListener[] {
    return [...this.security.sasl.values()];
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
  get producerIds(): ProducerIdSource {
    if (!this.producerIdManager) {
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, "producer ids are allocated by worker 0");
    }
    return this.producerIdManager;
  }

  /** Whether this broker runs the coordinators and writes the catalogue (alone, or worker 0). */
  get isController(): boolean {
    return !this.cluster || this.cluster.isController;
  }

  /** node.id, as Metadata reports it. */
  get nodeId(): number {
    return this.config.nodeId;
  }

  /** The cluster id (meta.properties; fresh on every start with memory storage). */
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
    if (config.bool("tributary.crc32c.native.enable")) installNativeCrc();
    const engine = storageEngineOf(options, config);
    if (engine === "memory" && cluster) {
      throw new ConfigError("storage", "the memory engine runs one worker (use --workers 1)");
    }
    // Listener mistakes stop the start before storage is opened, too.
    const resolved = resolveListeners(config, options);
    const listeners = options.listeners ?? resolved.listeners;
    for (const l of listeners) checkServable(l);
    const dataDir = engine === "memory" ? MEMORY_DATA_DIR : dataDirOf(options, config);
    const durable = engine === "file";
    // SASL mistakes (GSSAPI, a bad JAAS entry or users file) too, with the dynamic SASL
    // settings of an earlier run in force (open() loads them again, for everything else).
    if (durable) loadDynamicBrokerConfigs(config, dataDir);
    const metadataStore = metadataStoreFor(options, config);
    const security = brokerSecurity(config, listeners, {
      dataDir: durable ? dataDir : null,
      metadataStore,
      controller,
      interBrokerListener: options.metadataStore || config.get("etcd.endpoints")
        ? resolved.interBrokerListener
        : undefined,
    });
    if (durable) await Deno.mkdir(dataDir, { recursive: true });
    // With workers the supervisor holds the lock for all of them.
    const dirLock = cluster || engine === "memory" ? null : LogDirLock.acquire(dataDir);
    try {
      const broker = await Broker.open(
        { ...options, listeners, metadataStore: metadataStore ?? undefined },
        config,
        dataDir,
        engine,
        security,
      );
      broker.dirLock = dirLock;
      broker.interBrokerListener = resolved.interBrokerListener;
      if (controller) {
        // With workers the others' partitions are not here: the summary walks the directory.
        logStartupSummary(broker, startedAt, cluster ? undefined : broker.logs.localBytes());
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
    engine: StorageEngine,
    security: BrokerSecurity,
  ): Promise<Broker> {
    const cluster = options.cluster;
    const controller = !cluster || cluster.isController;
    const durable = engine === "file";
    if (durable) loadDynamicBrokerConfigs(config, dataDir);
    if (!durable && config.bool("remote.log.storage.system.enable")) {
      throw new ConfigError(
        "remote.log.storage.system.enable",
        "tiered storage copies segment files; the memory engine has none",
      );
    }
    const store = metadataStoreFor(options, config);
    const joined = store
      ? await joinCluster(store, config, {
        cluster,
        interBroker: security.interBroker,
        dataDir: durable ? dataDir : null,
        security: security.cluster,
      })
      : undefined;
    const clusterNode = joined?.node;
    const clusterId = joined?.clusterId;
    const snapshotRevision = joined?.snapshotRevision ?? 0;
    // TLS key material is read before storage opens: a bad certificate stops the start early.
    const tls = new Map<string, TlsListener>();
    for (const l of options.listeners!) {
      if (l.securityProtocol === "SSL" || l.securityProtocol === "SASL_SSL") {
        tls.set(l.name, new TlsListener(config, l, config.int("connections.max.idle.ms")));
      }
    }
    const remoteStorage = durable ? remoteStorageFor(config, dataDir) : null;
    if (remoteStorage && controller) log.info(`tiered storage in ${remoteStorage.description}`);
    const node = clusterNode;
    const logs = await openBrokerLogs(config, dataDir, engine, {
      clusterId,
      remoteStorage,
      node,
      cluster,
      controller,
    });
    try {
      // A cluster member's catalogue is the cluster's; internal topics are checked alone.
      if (node) await node.attach(logs, snapshotRevision);
      else if (controller) await checkInternalTopics(logs, config, (m) => log.warn(m));
    } catch (e) {
      await node?.close();
      await logs.close();
      throw e;
    }
    options.onStorageOpen?.();
    // In a cluster producer ids come in blocks shared through the metadata store, so no two
    // brokers hand out the same id; alone, blocks are recorded in the data dir.
    const producerIds = !controller ? null : options.producerIds ??
      (store && node
        ? new ProducerIdBlockManager(store, config.nodeId)
        : await ProducerIdManager.open(durable ? dataDir : null));
    // Consumers' reads come from the buffer pool and go back once written to the socket.
    setReadBufferAllocator((n) => bufferPool.take(n));
    const broker = new Broker(
      config,
      logs,
      dataDir,
      producerIds,
      cluster,
      node,
      options.leadership,
      security,
    );
    const specs = options.listeners!;
    if (cluster) broker.serveWorkers(cluster);
    const bound: Deno.TcpListener[] = [];
    try {
      // The ACLs are loaded before the first request: an authorizer without them would
      // answer as if none were set.
      await broker.authorizer?.reload();
      if (controller) {
        // With workers, creating the coordinators' internal topics here waits for the other
        // workers to take the new catalogue: they start once storage is open (above).
        // In a cluster (or given a Leadership), coordinate only the partitions led here.
        if (node || options.leadership) {
          const stopGroups = await broker.groups.followLeadership(broker.leadership);
          const stopTxns = broker.transactions.followLeadership(broker.leadership);
          broker.stopFollowingLeadership = () => {
            stopGroups();
            stopTxns();
          };
        } else {
          await broker.groups.load();
        }
        await broker.transactions.startup();
      }
      bound.push(...bindListeners(specs, cluster !== undefined));
    } catch (e) {
      for (const l of bound) l.close();
      broker.groups.close();
      await broker.transactions.close();
      await node?.close();
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
        // Loaded on demand: a broker without the admin API never imports it.
        const { startBrokerAdmin } = await import("./admin/admin_start.ts");
        broker.admin = await startBrokerAdmin(broker, config, {
          host: options.adminHost ?? DEFAULT_ADMIN_HOST,
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
    if (node) {
      // The cluster knows each broker by its first listener's advertised address.
      try {
        await node.register(
          { host: broker.advertisedHost, port: broker.advertisedPort },
          registeredListeners(broker.listeners),
        );
      } catch (e) {
        for (const l of bound) l.close();
        broker.groups.close();
        await broker.transactions.close();
        await node.close();
        await logs.close();
        throw e;
      }
    }
    if (node) {
      broker.stopReplication = startReplication(node, logs, config, broker.replicaManager, cluster);
      broker.metrics.followerLagSource = () =>
        broker.replicaManager.replication?.followerLag?.() ?? [];
    }
    broker.listeners.forEach((spec, i) => {
      const server = new SocketServer({
        listener: spec,
        sasl: broker.security.sasl.get(spec.name),
        tls: tls.get(spec.name),
        faults: broker.faults,
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
      if (!controller) {
        await logs.syncCatalogue();
        node?.catalogueSynced();
      }
      // A worker (re)started while faults are set asks about them from the start.
      if (!controller && broker.faults.enabled) {
        const set = await cluster.call(CONTROLLER_WORKER, "faultsSet", null).catch(() => false);
        if (set) broker.faults.setActive(true);
      }
    }
    return broker;
  }

  /** The methods other workers call on this one (see src/workers/). */
  private serveWorkers(cluster: WorkerCluster): void {
    this.replicaManager.serve(cluster);
    this.apis.serve(cluster);
    cluster.serve("syncCatalogue", async () => {
      // A cluster member's worker places partitions by its own view of the cluster: it must
      // have seen what worker 0 wrote the catalogue from.
      await this.clusterNode?.caughtUpWithStore().catch((e) =>
        log.warn(`worker catalogue sync without the latest cluster metadata: ${errText(e)}`)
      );
      await this.logs.syncCatalogue();
      // Partitions opened here now take their replication roles.
      this.clusterNode?.catalogueSynced();
    });
    cluster.serve("stats", () => this.localStats());
    cluster.serve("dropTopic", (a) => this.logs.dropTopic(a.name));
    cluster.serve("syncBrokerConfigs", () => this.dynamicConfig.reload());
    cluster.serve("syncClientQuotas", () => this.clientQuotas.reload());
    serveFaults(this.faults, cluster);
    cluster.serve("syncAcls", () => this.authorizer?.reload());
    cluster.serve("syncScramCredentials", () => this.security.cluster?.scramCredentials.refresh());
    if (!cluster.isController) return;
    cluster.serve("quotaBefore", (a) => this.clientQuotas.beforeRequest(a));
    cluster.serve("quotaAfter", (a) => this.clientQuotas.afterRequest(a));
    cluster.serve("createTopic", async (a) => {
      return (await this.topicAdmin.autoCreateTopic(a.name)) !== undefined;
    });
  }

  /** Starts the periodic flush of partitions that went quiet (log.flush.interval.ms). */
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

  /** A topic by name, or undefined. */
  topic(name: string): TopicMetadata | undefined {
    return this.logs.getTopic(name);
  }

  /** A topic by its id (Kafka's base64url text form), or undefined. */
  topicById(id: string): TopicMetadata | undefined {
    return this.logs.getTopicById(id);
  }

  /** Every topic, internal ones included. */
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

  /** This worker's counters and tiering totals. */
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
      this.faults.close();
      this.groups.close();
      this.stopFollowingLeadership?.();
      await this.security.cluster?.close();
      await this.stopReplication?.();
      // Leaving first: the controller moves this broker's partitions at once.
      await this.clusterNode?.close();
      await Promise.all(this.socketServers.map((s) => s.close()));
      try {
        await this.transactions.close();
        this.brokerConnections.close();
        await this.logs.close();
      } finally {
        this.dirLock?.release();
      }
    })();
    return this.closing;
  }
}
