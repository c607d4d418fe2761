/**
 * A broker's membership of an etcd-backed cluster (Kafka's BrokerLifecycleManager and
 * KafkaZkClient's broker side, in one place): the cluster identity, the registration under a
 * lease, the watch that keeps the ClusterMetadataCache current, the local catalogue kept in
 * step with it (a broker opens the logs of the partitions placed on it and drops deleted
 * topics), the controller candidacy, and topic changes sent to whichever broker is the
 * controller (Kafka's forwarding): the controller is the one writer of topic and partition
 * state.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { LogManager, TopicConfigValue, TopicMetadata } from "../../storage/log_manager.ts";
import { randomUuid } from "../../storage/log_manager.ts";
import * as admin from "../client/admin.ts";
import * as replicaAdmin from "../client/replication_admin.ts";
import { KafkaClient } from "../client/client.ts";
import { hostPort } from "../client/client.ts";
import { errText, log } from "../log.ts";
import { ClusterMetadataCache } from "./cluster_metadata.ts";
import { brokerKey, type BrokerRegistration, CLUSTER_ID_KEY } from "./cluster_records.ts";
import type { InterBrokerClient } from "./inter_broker_client.ts";
import { endpointOn } from "./listener_endpoints.ts";
import { ClusterController, type ControllerSettings } from "./controller.ts";
import {
  alterPartitionReassignments,
  electLeaders,
  type PartitionResult,
} from "./controller_operations.ts";
import type { TopicPlacement } from "./topic_placement.ts";
import {
  type KeepAliveHandle,
  type Lease,
  type MetadataStore,
  MetadataStoreUnavailable,
  valueText,
  type WatchHandle,
} from "./metadata_store.ts";

export interface ClusterNodeSettings {
  nodeId: number;
  rack: string | null;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /**
   * With Deno workers, worker 0 is the broker's member of the cluster (it registers, stands
   * for controller and writes the local catalogue, then tells the other workers); the others
   * only watch, for their own view of leadership. Default: member.
   */
  follower?: boolean;
  /** Whether the broker runs Deno workers (a partition's log is open on its owner worker). */
  workers?: boolean;
  /** How many Deno workers the broker runs (registered when more than one). */
  workerCount?: number;
  /** Called once a change of the local catalogue is written (the other workers follow it). */
  onCatalogueChanged?: () => Promise<unknown>;
  /** The listener (and its security) forwarding reaches the controller on. */
  interBroker?: InterBrokerClient;
  /** What the controller acts on (unclean election default, auto leader rebalance). */
  controller?: ControllerSettings;
}

/** Kafka's InconsistentClusterIdException: the data directory is another cluster's. */
export class InconsistentClusterIdError extends Error {
  constructor(clusterId: string, stored: string) {
    super(
      `InconsistentClusterIdException: The Cluster ID ${clusterId} doesn't match stored ` +
        `clusterId Some(${stored}) in meta.properties. The broker is trying to join the wrong ` +
        `cluster. Configured etcd.endpoints or etcd.prefix may be wrong.`,
    );
    this.name = "InconsistentClusterIdError";
  }
}

/** Another live broker is registered with this node id. */
export class DuplicateNodeIdError extends Error {
  constructor(nodeId: number, other: string) {
    super(`node.id ${nodeId} is registered by another live broker (${other}): refusing to start`);
    this.name = "DuplicateNodeIdError";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ClusterNode {
  readonly cache: ClusterMetadataCache;
  readonly controller: ClusterController;
  readonly incarnationId = randomUuid();
  private logs?: LogManager;
  private watchHandle?: WatchHandle;
  private lease?: Lease;
  private keepAliveHandle?: KeepAliveHandle;
  private registration?: BrokerRegistration;
  /** Registered under a live lease: only then does this broker act as a leader. */
  private registered = false;
  private closed = false;
  /** Catalogue follow-up of watch events, one batch after the other. */
  private syncChain: Promise<void> = Promise.resolve();
  /** The revision the local catalogue has caught up with. */
  private syncedRevision = 0;
  private waiters: { revision: number; resolve: () => void }[] = [];
  private controllerClient?: { nodeId: number; address: string; client: KafkaClient };
  /** Told after each batch of metadata changes reached the local logs, and on lease loss. */
  private readonly syncedListeners = new Set<() => void>();

  constructor(
    readonly store: MetadataStore,
    readonly settings: ClusterNodeSettings,
  ) {
    this.cache = new ClusterMetadataCache(settings.nodeId);
    this.controller = new ClusterController(
      store,
      this.cache,
      settings.nodeId,
      settings.controller,
    );
  }

  get nodeId(): number {
    return this.settings.nodeId;
  }

  /** Registered under a live lease: only then may this broker lead (replication asks). */
  get isRegistered(): boolean {
    return this.registered;
  }

  /** Calls `listener` after each metadata change is applied locally (replication's hook). */
  onSynced(listener: () => void): () => void {
    this.syncedListeners.add(listener);
    return () => this.syncedListeners.delete(listener);
  }

  /** The local catalogue changed outside the watch (a Deno worker's sync from worker 0). */
  catalogueSynced(): void {
    this.notifySynced();
  }

  private notifySynced(): void {
    for (const l of this.syncedListeners) {
      try {
        l();
      } catch (e) {
        log.warn(`cluster metadata listener failed: ${errText(e)}`);
      }
    }
  }

  /**
   * The cluster id: created in the store by the first broker, adopted by the others (Kafka's
   * getOrGenerateClusterId). A data directory that already belongs to a cluster must belong to
   * this one.
   */
  async resolveClusterId(local: string | null): Promise<string> {
    const r = await this.store.createIfAbsent(CLUSTER_ID_KEY, randomUuid());
    const id = valueText(r.succeeded ? (await this.store.get(CLUSTER_ID_KEY))! : r.current!);
    if (local !== null && local !== id) throw new InconsistentClusterIdError(id, local);
    return id;
  }

  /** Reads the whole cluster state: before the local logs open, so each knows its placement. */
  async loadSnapshot(): Promise<number> {
    const r = await this.store.range("");
    this.cache.load(r.kvs, r.revision);
    return r.revision;
  }

  /** Brings the local catalogue in step and follows the store from `revision` on. */
  async attach(logs: LogManager, revision: number, initial = true): Promise<void> {
    this.logs = logs;
    // At start the other workers start after this and read the catalogue as written here.
    if (!initial) await this.syncCatalogue();
    else if (!this.settings.follower) await this.applyToCatalogue(logs);
    this.syncedRevision = revision;
    this.watchHandle = this.store.watch("", revision + 1, {
      onEvents: (events) => {
        this.cache.apply(events);
        const rev = this.cache.revision;
        this.syncChain = this.syncChain.then(() => this.syncCatalogue()).catch((e) => {
          log.error(`applying cluster metadata to the local logs failed: ${errText(e)}`);
        }).then(() => {
          this.syncedRevision = Math.max(this.syncedRevision, rev);
          this.waiters = this.waiters.filter((w) => {
            if (w.revision > this.syncedRevision) return true;
            w.resolve();
            return false;
          });
          this.notifySynced();
          this.afterChange();
        });
      },
      onError: (e) => {
        log.error(`cluster metadata watch ended: ${errText(e)}; reloading`);
        if (!this.closed) void this.rewatch();
      },
    });
  }

  private async rewatch(): Promise<void> {
    for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 5000)) {
      try {
        const rev = await this.loadSnapshot();
        await this.attach(this.logs!, rev, false);
        return;
      } catch (e) {
        log.warn(`cluster metadata reload failed: ${errText(e)}`);
        await sleep(delay);
      }
    }
  }

  /** Resolves once the local catalogue reflects store revision `revision`. */
  caughtUp(revision: number, timeoutMs = 30_000): Promise<void> {
    if (this.syncedRevision >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new KafkaError(
            ErrorCode.REQUEST_TIMED_OUT,
            `cluster metadata revision ${revision} not seen within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ revision, resolve: done });
    });
  }

  /** Resolves once the local catalogue reflects every change the store holds now. */
  async caughtUpWithStore(): Promise<void> {
    const r = await this.store.range(CLUSTER_ID_KEY);
    await this.caughtUp(r.revision);
  }

  /**
   * Makes the local catalogue what the cluster says: topics created, grown, reconfigured or
   * deleted elsewhere are created, grown, reconfigured or deleted here (a topic's logs open
   * only on the broker holding its replica).
   */
  private async syncCatalogue(): Promise<void> {
    const logs = this.logs;
    if (!logs) return;
    // A follower worker's catalogue comes from worker 0's topics.json, when it says so; the
    // replicas it gains or loses it follows itself too, as its own view may be the later one.
    if (this.settings.follower) {
      for (const name of this.cache.takeHostedChanges()) await logs.syncOwnedPartitions(name);
      return;
    }
    let changed = false;
    try {
      changed = await this.applyToCatalogue(logs);
    } finally {
      if (changed) await this.settings.onCatalogueChanged?.();
    }
  }

  /** Applies the cluster's topics to the local catalogue; true if anything changed. */
  private async applyToCatalogue(logs: LogManager): Promise<boolean> {
    let changed = false;
    const records = this.cache.topicRecords;
    for (const local of logs.listTopics()) {
      const rec = records.get(local.name);
      if (!rec || rec.topicId !== local.topicId) {
        changed = true;
        await logs.deleteTopic(local.name);
        log.info(`cluster: topic ${local.name} deleted`);
      }
    }
    for (const rec of records.values()) {
      const local = logs.getTopic(rec.name);
      if (!local) {
        changed = true;
        await logs.createTopic(rec.name, rec.partitions, rec.configs, { topicId: rec.topicId });
        continue;
      }
      if (rec.partitions > local.partitions) {
        changed = true;
        await logs.createPartitions(rec.name, rec.partitions);
      }
      if (JSON.stringify(rec.configs) !== JSON.stringify(local.configs)) {
        changed = true;
        logs.updateTopicConfig(rec.name, rec.configs);
      }
    }
    // Replicas moved here or away (reassignments): open or drop those logs; with workers the
    // partition's owner worker does it on the broadcast that follows.
    for (const name of this.cache.takeHostedChanges()) {
      if (!records.has(name)) continue;
      if (await logs.syncOwnedPartitions(name) || this.settings.workers) changed = true;
    }
    return changed;
  }

  /** What follows every change: controller duties, or standing for election. */
  private afterChange(): void {
    if (this.closed || this.settings.follower) return;
    if (this.controller.isActive) this.controller.onMetadataChanged();
    else if (this.cache.controller === null && this.registered && this.lease) {
      void this.controller.campaign(this.lease.id).then(() => this.controller.onMetadataChanged());
    }
  }

  /**
   * Registers this broker under a fresh lease. A registration of this node id left by a
   * previous run (killed) expires within the session timeout: it is waited for; one still
   * renewed after that belongs to a live broker, and start-up is refused.
   */
  async register(
    endpoint: { host: string; port: number },
    /** Every listener, `NAME://host:port` (default: the endpoint as PLAINTEXT). */
    listeners = [`PLAINTEXT://${hostPort(endpoint.host, endpoint.port)}`],
  ): Promise<void> {
    if (this.settings.follower) return;
    this.registration = {
      nodeId: this.nodeId,
      host: endpoint.host,
      port: endpoint.port,
      rack: this.settings.rack,
      listeners,
      incarnationId: this.incarnationId,
      ...((this.settings.workerCount ?? 1) > 1 ? { workers: this.settings.workerCount } : {}),
    };
    const deadline = Date.now() + this.settings.sessionTimeoutMs + 2000;
    for (;;) {
      const other = await this.tryRegister();
      if (other === null) break;
      if (Date.now() > deadline) throw new DuplicateNodeIdError(this.nodeId, other);
      log.info(`node.id ${this.nodeId} still registered by ${other}; waiting for it to expire`);
      await sleep(Math.min(500, this.settings.heartbeatIntervalMs));
    }
    log.info(`registered broker ${this.nodeId} in the cluster (incarnation ${this.incarnationId})`);
    this.afterChange();
  }

  /** One registration attempt: null once registered, else who holds the key. */
  private async tryRegister(): Promise<string | null> {
    const lease = await this.store.grantLease(this.settings.sessionTimeoutMs);
    const r = await this.store.createIfAbsent(
      brokerKey(this.nodeId),
      JSON.stringify(this.registration),
      { lease: lease.id },
    );
    if (!r.succeeded) {
      await this.store.revokeLease(lease.id).catch(() => {});
      const held = r.current ? JSON.parse(valueText(r.current)) as BrokerRegistration : null;
      return held
        ? `${hostPort(held.host, held.port)}, incarnation ${held.incarnationId}`
        : "unknown";
    }
    this.lease = lease;
    this.registered = true;
    this.keepAliveHandle = this.renew(lease);
    return null;
  }

  /** Renews the registration lease every `broker.heartbeat.interval.ms`. */
  private renew(lease: Lease): KeepAliveHandle {
    return this.store.keepAlive(lease, (e) => this.onLeaseLost(e.message), {
      intervalMs: this.settings.heartbeatIntervalMs,
    });
  }

  /**
   * The lease could not be renewed. If the store says it is gone, this broker was declared
   * dead: it stops leading and registers again. If the store cannot be reached at all, no
   * one can change the metadata either, so it keeps serving what it leads meanwhile.
   */
  private async onLeaseLost(why: string): Promise<void> {
    if (this.closed) return;
    log.warn(`broker ${this.nodeId} registration lease: ${why}`);
    for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 2000)) {
      try {
        const kv = await this.store.get(brokerKey(this.nodeId));
        if (kv && kv.lease === this.lease?.id) {
          // Still ours (the store was away and kept it): renew again.
          this.keepAliveHandle = this.renew(this.lease!);
          return;
        }
        this.registered = false;
        this.controller.resign();
        this.notifySynced();
        const other = await this.tryRegister();
        if (other === null) {
          log.info(`broker ${this.nodeId} registered again`);
          this.notifySynced();
          this.afterChange();
          return;
        }
      } catch (e) {
        if (!(e instanceof MetadataStoreUnavailable)) log.warn(`re-registration: ${errText(e)}`);
      }
      await sleep(delay);
    }
  }

  /**
   * Kafka's answer for a partition request here: 0 when this broker leads at the given epoch
   * (-1: any), else NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, FENCED_LEADER_EPOCH (an older
   * epoch) or UNKNOWN_LEADER_EPOCH (a newer one).
   */
  leaderError(topic: string, partition: number, currentLeaderEpoch: number): number {
    const s = this.cache.partition(topic, partition)?.state;
    if (!s) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < s.leaderEpoch) {
      return ErrorCode.FENCED_LEADER_EPOCH;
    }
    if (currentLeaderEpoch > s.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
    if (s.leader === -1) return ErrorCode.LEADER_NOT_AVAILABLE;
    if (s.leader !== this.nodeId) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    // A follower worker cannot see the registration; the partition's owner worker serves it.
    if (this.settings.follower) return 0;
    if (!this.registered) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (!this.settings.workers && !this.logs?.getPartition(topic, partition)) {
      return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    }
    return 0;
  }

  // ---- topic changes: applied by the controller, forwarded to it from elsewhere ----------

  /** A client of the current controller, for forwarding; NOT_CONTROLLER while there is none. */
  private controllerConnection(): KafkaClient {
    const id = this.cache.controllerId;
    const b = this.cache.broker(id);
    if (id === -1 || !b) {
      throw new KafkaError(ErrorCode.NOT_CONTROLLER, "no controller is elected at the moment");
    }
    const inter = this.settings.interBroker;
    const on = inter ? endpointOn(b, inter.listener) : b;
    if (!on) {
      throw new KafkaError(
        ErrorCode.NOT_CONTROLLER,
        `controller ${id} has no listener ${inter!.listener} (inter.broker.listener.name)`,
      );
    }
    const address = hostPort(on.host, on.port);
    if (this.controllerClient?.nodeId !== id || this.controllerClient.address !== address) {
      this.controllerClient?.client.close();
      this.controllerClient = {
        nodeId: id,
        address,
        client: new KafkaClient([address], {
          clientId: `tributary-broker-${this.nodeId}`,
          requestTimeoutMs: 30_000,
          ...inter?.connection,
        }),
      };
    }
    return this.controllerClient.client;
  }

  /** Runs `forwarded` against the controller; a dropped connection is dropped from the cache. */
  private async forward(fn: (c: KafkaClient) => Promise<void>): Promise<void> {
    const client = this.controllerConnection();
    try {
      await fn(client);
    } catch (e) {
      const authFailed = e instanceof KafkaError &&
        e.code === ErrorCode.SASL_AUTHENTICATION_FAILED;
      if (!(e instanceof KafkaError) || authFailed) {
        client.close();
        const where = this.controllerClient;
        this.controllerClient = undefined;
        // The inter-broker listener's security is the usual cause: said plainly, once a try.
        const inter = this.settings.interBroker;
        log.warn(
          `forwarding to controller ${this.cache.controllerId} at ${where?.address ?? "?"} ` +
            `(inter-broker listener ${inter?.listener ?? "PLAINTEXT"}, ${
              inter?.describe ?? "PLAINTEXT"
            }) failed: ${errText(e)}`,
        );
        throw new KafkaError(
          ErrorCode.NOT_CONTROLLER,
          `forwarding to controller ${this.cache.controllerId} failed: ${errText(e)}`,
        );
      }
      throw e;
    }
    await this.caughtUpWithStore();
  }

  async createTopic(
    name: string,
    partitions: number,
    overrides: Record<string, TopicConfigValue>,
    raw: [string, string | null][],
    placement: TopicPlacement = { replicationFactor: 1 },
  ): Promise<TopicMetadata> {
    if (this.controller.isActive) {
      const { revision } = await this.controller.createTopic(
        name,
        partitions,
        overrides,
        placement,
      );
      await this.caughtUp(revision);
    } else {
      const configs: Record<string, string> = {};
      for (const [k, v] of raw) if (v !== null) configs[k] = v;
      // An internal topic's factor is the controller's to resolve (and cap).
      const rf = placement.capToLiveBrokers ? -1 : placement.replicationFactor;
      await this.forward((c) =>
        admin.createTopic(c, name, partitions, rf, configs, placement.assignments ?? [])
      );
    }
    return this.topicOrFail(name);
  }

  async deleteTopic(name: string): Promise<void> {
    if (this.controller.isActive) await this.caughtUp(await this.controller.deleteTopic(name));
    else await this.forward((c) => admin.deleteTopic(c, name));
  }

  async createPartitions(
    name: string,
    total: number,
    assignments: number[][] | null = null,
  ): Promise<TopicMetadata> {
    if (this.controller.isActive) {
      await this.caughtUp(await this.controller.createPartitions(name, total, assignments));
    } else await this.forward((c) => admin.createPartitions(c, name, total, assignments));
    return this.topicOrFail(name);
  }

  /** ElectLeaders, by the controller (forwarded to it from elsewhere). */
  async electLeaders(
    type: number,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<PartitionResult[]> {
    if (this.controller.isActive) {
      const { results, revision } = await electLeaders(this.controller, type, partitions);
      await this.caughtUp(revision);
      return results;
    }
    let results: PartitionResult[] = [];
    await this.forward(async (c) => {
      results = await replicaAdmin.electLeaders(c, type, partitions);
    });
    return results;
  }

  /** AlterPartitionReassignments, by the controller (forwarded to it from elsewhere). */
  async alterPartitionReassignments(
    requests: { topic: string; partition: number; replicas: number[] | null }[],
  ): Promise<PartitionResult[]> {
    if (this.controller.isActive) {
      const { results, revision } = await alterPartitionReassignments(this.controller, requests);
      await this.caughtUp(revision);
      return results;
    }
    let results: PartitionResult[] = [];
    await this.forward(async (c) => {
      results = await replicaAdmin.alterPartitionReassignments(c, requests);
    });
    return results;
  }

  async alterTopicConfigs(
    name: string,
    overrides: Record<string, TopicConfigValue>,
    raw: [string, string | null][],
  ): Promise<void> {
    if (this.controller.isActive) {
      await this.caughtUp(await this.controller.alterTopicConfigs(name, overrides));
      return;
    }
    const set: Record<string, string> = {};
    for (const [k, v] of raw) if (v !== null) set[k] = v;
    const current = this.logs?.getTopic(name)?.configs ?? {};
    const remove = Object.keys(current).filter((k) => !(k in set));
    await this.forward((c) => admin.alterConfigs(c, admin.ResourceType.TOPIC, name, set, remove));
  }

  private topicOrFail(name: string): TopicMetadata {
    const t = this.logs?.getTopic(name);
    if (!t) {
      throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `topic ${name} not visible here yet`);
    }
    return t;
  }

  /** Leaves the cluster: the registration (and the office, if held) go at once. */
  async close(): Promise<void> {
    this.closed = true;
    this.controller.resign();
    this.keepAliveHandle?.stop();
    this.controllerClient?.client.close();
    await this.watchHandle?.cancel().catch(() => {});
    if (this.lease) await this.store.revokeLease(this.lease.id).catch(() => {});
    await this.store.close().catch(() => {});
  }
}
