/**
 * Replication on a cluster member (the replication half of Kafka's ReplicaManager): on every
 * change of the cluster metadata it runs Kafka's makeLeader / makeFollower for each
 * partition with a replica here, keeps the leader-side Partition state (followers, HW, ISR),
 * the replica fetchers (one per source broker), the acks=all purgatory and the ISR checks.
 * - Leader (`leader === nodeId`, registered under a live lease): the HW follows the ISR
 *   (alone in its replica set, the log end), the epoch cache starts the leader epoch at the
 *   log end, followers' states start unknown; a replica fetch records the follower's offset,
 *   may add it to the ISR and moves the HW.
 * - Follower (any other leader, or none): no produce (the leader checks answer
 *   NOT_LEADER_OR_FOLLOWER), pending acks=all produces fail with NOT_LEADER_OR_FOLLOWER, the
 *   partition is fetched from its leader.
 * - Every `replica.lag.time.max.ms / 2` a leader drops followers not caught up within
 *   `replica.lag.time.max.ms` from the ISR; ISR writes are compare-and-swap (isr_updater.ts).
 * A broker whose registration lease is lost acts as leader of nothing until registered again.
 * Runs where the logs are: with Deno workers, one per worker (workers_replication.ts).
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import type { LogManager } from "../../storage/log_manager.ts";
import type { PartitionState } from "../cluster/cluster_records.ts";
import type { ClusterNode } from "../cluster/cluster_node.ts";
import { BrokerConnections } from "../cluster/broker_connections.ts";
import { type BrokerConfig, topicConfigValue } from "../config.ts";
import { errText, log } from "../log.ts";
import type { FollowerLagSample } from "../metrics.ts";
import { DelayedProducePurgatory } from "./delayed_produce.ts";
import { writeIsr } from "./isr_updater.ts";
import { LeaderPartition } from "./partition.ts";
import { ReplicaFetcher, type ReplicaFetcherSettings } from "./replica_fetcher.ts";
import { type EpochEndOffset, type ReplicaLog, replicaLog } from "./replica_log.ts";
import type { ReplicationApi } from "./replication_api.ts";
import type { WorkerCluster } from "../workers/worker_cluster.ts";
import { ownerOf } from "../workers/ownership.ts";
import { serveReplication, WorkerRegistration, WorkerReplication } from "./workers_replication.ts";

export type { ReplicationApi };

interface LeaderEntry {
  state: LeaderPartition;
  log: ReplicaLog;
  seen: { state: PartitionState; modRevision: number };
  writing: boolean;
  unsubscribe: () => void;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ReplicationManager implements ReplicationApi {
  private readonly leaders = new Map<string, LeaderEntry>();
  private readonly purgatories = new Map<string, DelayedProducePurgatory>();
  private readonly following = new Map<string, { leaderId: number; leaderEpoch: number }>();
  /** By source broker and fetcher index (`num.replica.fetchers` per source). */
  private readonly fetchers = new Map<string, ReplicaFetcher>();
  private isrTimer?: ReturnType<typeof setInterval>;
  private unsubscribe?: () => void;
  private closed = false;
  /** The metadata revision the roles were last brought in step with. */
  private reconciledRevision = 0;

  /**
   * `isRegistered`: whether this broker is registered under a live lease (by default the
   * node's own view; a Deno worker other than 0 learns it from worker 0, see
   * workers_replication.ts). `fetcherTag` names this worker in the fetchers' client ids.
   */
  constructor(
    private readonly node: ClusterNode,
    private readonly logs: LogManager,
    private readonly config: BrokerConfig,
    private readonly isRegistered: () => boolean = () => node.isRegistered,
    private readonly fetcherTag = "",
  ) {
  }

  private get nodeId(): number {
    return this.node.nodeId;
  }

  private get lagMs(): number {
    return this.config.int("replica.lag.time.max.ms");
  }

  start(): void {
    this.unsubscribe = this.node.onSynced(() => this.reconcile());
    this.reconcile();
    const every = Math.max(10, Math.floor(this.lagMs / 2));
    this.isrTimer = setInterval(() => this.maybeShrinkIsr(), every);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    if (this.isrTimer !== undefined) clearInterval(this.isrTimer);
    for (const e of this.leaders.values()) e.unsubscribe();
    for (const p of this.purgatories.values()) p.failAll(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    await Promise.all([...this.fetchers.values()].map((f) => f.close()));
  }

  // ---- make-leader / make-follower --------------------------------------------------------

  /** Brings every hosted partition's role in step with the metadata. */
  reconcile(): void {
    if (this.closed) return;
    this.reconciledRevision = this.node.cache.revision;
    const seen = new Set<string>();
    for (const [topic, parts] of this.node.cache.partitionStates) {
      for (const [p, entry] of parts) {
        const s = entry.state;
        if (!s.replicas.includes(this.nodeId)) continue;
        const open = this.logs.getPartition(topic, p);
        if (!open) continue;
        const k = key(topic, p);
        seen.add(k);
        const l = replicaLog(open);
        try {
          if (s.leader === this.nodeId && this.isRegistered()) {
            this.makeLeader(topic, p, entry, l);
          } else this.makeFollower(topic, p, s, l);
        } catch (e) {
          log.error(`replication: ${topic}-${p}: ${errText(e)}`);
        }
      }
    }
    for (const k of [...this.leaders.keys()]) if (!seen.has(k)) this.dropLeader(k);
    for (const k of [...this.following.keys()]) {
      if (seen.has(k)) continue;
      this.following.delete(k);
      for (const f of this.fetchers.values()) {
        const [t, p] = k.split("\u0000");
        f.remove(t, Number(p));
      }
    }
    for (const [k, purgatory] of this.purgatories) {
      if (!this.leaders.has(k)) {
        purgatory.failAll(ErrorCode.NOT_LEADER_OR_FOLLOWER);
        this.purgatories.delete(k);
      }
    }
  }

  private makeLeader(
    topic: string,
    p: number,
    entry: { state: PartitionState; modRevision: number },
    l: ReplicaLog,
  ): void {
    const k = key(topic, p);
    const s = entry.state;
    const current = this.leaders.get(k);
    // The same leadership over the same log (a log reopened, or a topic deleted and made
    // again under its name, starts over).
    if (current && current.state.leaderEpoch === s.leaderEpoch && current.log === l) {
      // Same leadership: take ISR and replica changes others wrote (the controller).
      if (!current.writing && entry.modRevision > current.seen.modRevision) {
        current.seen = { state: s, modRevision: entry.modRevision };
        current.state.isr = [...s.isr];
        current.state.setReplicas(s.replicas, Date.now());
        l.highWatermarkFollowsLogEnd = s.replicas.length === 1;
        this.maybeIncrementHighWatermark(current);
      }
      return;
    }
    if (current) this.dropLeader(k, false);
    this.stopFollowing(topic, p);
    l.highWatermarkFollowsLogEnd = s.replicas.length === 1;
    l.leaderEpochCache.assign(s.leaderEpoch, l.logEndOffset);
    const state = new LeaderPartition(
      topic,
      p,
      this.nodeId,
      s.leaderEpoch,
      s.replicas,
      s.isr,
      l.logEndOffset,
      Date.now(),
    );
    const e: LeaderEntry = {
      state,
      log: l,
      seen: { state: s, modRevision: entry.modRevision },
      writing: false,
      unsubscribe: () => {},
    };
    // An append may complete acks=all waits at once (an ISR of the leader alone).
    e.unsubscribe = l.onAppend(() => this.maybeIncrementHighWatermark(e));
    this.leaders.set(k, e);
    if (!this.purgatories.has(k)) {
      this.purgatories.set(k, new DelayedProducePurgatory((o) => this.replicationCheck(k, o)));
    }
    log.info(
      `replication: broker ${this.nodeId} leads ${topic}-${p} at leader epoch ${s.leaderEpoch} ` +
        `(ISR ${s.isr.join(",")}, log end ${l.logEndOffset}, HW ${l.highWatermark})`,
    );
    this.maybeIncrementHighWatermark(e);
  }

  private dropLeader(k: string, failPending = true): void {
    const e = this.leaders.get(k);
    if (!e) return;
    e.unsubscribe();
    this.leaders.delete(k);
    if (failPending) {
      this.purgatories.get(k)?.failAll(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      this.purgatories.delete(k);
    }
  }

  private makeFollower(topic: string, p: number, s: PartitionState, l: ReplicaLog): void {
    const k = key(topic, p);
    if (this.leaders.has(k)) {
      log.info(
        `replication: broker ${this.nodeId} no longer leads ${topic}-${p} ` +
          `(leader ${s.leader}, leader epoch ${s.leaderEpoch})`,
      );
    }
    this.dropLeader(k);
    l.highWatermarkFollowsLogEnd = false;
    const leaderId = s.leader === this.nodeId ? -1 : s.leader;
    const f = this.following.get(k);
    const live = leaderId >= 0 && this.node.cache.liveBrokers.has(leaderId);
    if (f && f.leaderId === leaderId && f.leaderEpoch === s.leaderEpoch) {
      const fetcher = live ? this.fetcherFor(leaderId, topic, p) : undefined;
      if (fetcher && fetcher.has(topic, p)?.log !== l) {
        // One fetcher per partition (the leader's workers may have changed under it).
        for (const other of this.fetchers.values()) if (other !== fetcher) other.remove(topic, p);
        fetcher.add(topic, p, s.leaderEpoch, l);
      }
      return;
    }
    this.stopFollowing(topic, p);
    this.following.set(k, { leaderId, leaderEpoch: s.leaderEpoch });
    if (live) {
      log.info(
        `replication: broker ${this.nodeId} follows ${topic}-${p} from ${leaderId} at leader ` +
          `epoch ${s.leaderEpoch} (log end ${l.logEndOffset})`,
      );
      this.fetcherFor(leaderId, topic, p).add(topic, p, s.leaderEpoch, l);
    }
  }

  private stopFollowing(topic: string, p: number): void {
    this.following.delete(key(topic, p));
    for (const f of this.fetchers.values()) f.remove(topic, p);
  }

  /**
   * The fetcher for a partition led by `sourceId`: Kafka's AbstractFetcherManager spreads
   * the partitions of one source over `num.replica.fetchers` fetchers by a hash. A source
   * with Deno workers gets a fetcher per worker owning partitions there, so that each Fetch
   * is answered whole by one of its workers.
   */
  private fetcherFor(sourceId: number, topic: string, p: number): ReplicaFetcher {
    const n = Math.max(1, this.config.int("num.replica.fetchers"));
    let h = 0;
    for (let i = 0; i < topic.length; i++) h = (h * 31 + topic.charCodeAt(i)) | 0;
    const index = Math.abs((h * 31 + p) | 0) % n;
    const sourceWorkers = this.node.cache.liveBrokers.get(sourceId)?.workers ?? 1;
    const owner = ownerOf(topic, p, sourceWorkers);
    const id = `${sourceId}:${index}:${owner}`;
    let f = this.fetchers.get(id);
    if (!f) {
      const c = this.config;
      const settings: ReplicaFetcherSettings = {
        nodeId: this.nodeId,
        maxWaitMs: c.int("replica.fetch.wait.max.ms"),
        minBytes: c.int("replica.fetch.min.bytes"),
        maxBytes: c.int("replica.fetch.response.max.bytes"),
        partitionMaxBytes: c.int("replica.fetch.max.bytes"),
        backoffMs: c.int("replica.fetch.backoff.ms"),
      };
      // A connection of its own per fetcher, as Kafka's: a broker answers one connection's
      // requests in order, so fetchers sharing one would wait on each other's long polls.
      const connections = new BrokerConnections(this.node.cache, {
        clientId: `tributary-replica-fetcher-${this.nodeId}${this.fetcherTag}-${index}` +
          (owner > 0 ? `-${owner}` : ""),
        requestTimeoutMs: c.int("replica.socket.timeout.ms"),
      });
      f = new ReplicaFetcher(sourceId, connections, settings);
      this.fetchers.set(id, f);
    }
    return f;
  }

  // ---- leader side ------------------------------------------------------------------------

  private minIsr(topic: string): number {
    const t = this.logs.getTopic(topic);
    return Number(topicConfigValue(this.config, t?.configs ?? {}, "min.insync.replicas"));
  }

  /** Kafka's checkEnoughReplicasReachOffset, for the purgatory. */
  private replicationCheck(k: string, requiredOffset: number): number | null {
    const e = this.leaders.get(k);
    if (!e) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (e.log.highWatermark < requiredOffset) return null;
    return e.state.isr.length >= this.minIsr(e.state.topic)
      ? ErrorCode.NONE
      : ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
  }

  private maybeIncrementHighWatermark(e: LeaderEntry): void {
    if (this.leaders.get(key(e.state.topic, e.state.partition)) !== e) return;
    if (!e.log.highWatermarkFollowsLogEnd) {
      const hw = e.state.highWatermarkCandidate(e.log.logEndOffset);
      if (hw > e.log.highWatermark) e.log.updateHighWatermark(hw);
    }
    this.purgatories.get(key(e.state.topic, e.state.partition))?.tryCompleteAll();
  }

  /** Each follower's lag (leader LEO - its LEO) on the partitions led here, where known. */
  followerLag(): FollowerLagSample[] {
    const out: FollowerLagSample[] = [];
    for (const e of this.leaders.values()) {
      const leo = e.log.logEndOffset;
      for (const f of e.state.followers.values()) {
        if (f.logEndOffset < 0) continue; // not fetched since this broker became leader
        out.push({
          topic: e.state.topic,
          partition: e.state.partition,
          replica: f.replicaId,
          lag: Math.max(0, leo - f.logEndOffset),
        });
      }
    }
    return out;
  }

  /**
   * The leader entry of a partition, with the roles brought up to the metadata this broker
   * has seen first: a request may arrive between the metadata change and the catalogue
   * sync after which reconcile runs (a follower fetching from a new leader, a produce).
   */
  private leaderEntry(topic: string, partition: number): LeaderEntry | undefined {
    if (this.node.cache.revision > this.reconciledRevision) this.reconcile();
    return this.leaders.get(key(topic, partition));
  }

  leaderEpochOf(topic: string, partition: number): number | undefined {
    return this.leaderEntry(topic, partition)?.state.leaderEpoch;
  }

  checkEnoughReplicas(topic: string, partition: number): number {
    const e = this.leaderEntry(topic, partition);
    if (!e) return 0;
    return e.state.isr.length < this.minIsr(topic) ? ErrorCode.NOT_ENOUGH_REPLICAS : 0;
  }

  /**
   * The same check from the ISR in the metadata (as the leader last wrote it), for a
   * partition whose leader state is on another Deno worker.
   */
  checkEnoughReplicasByMetadata(topic: string, partition: number): number {
    const s = this.node.cache.partition(topic, partition)?.state;
    if (!s || s.leader !== this.nodeId) return 0;
    return s.isr.length < this.minIsr(topic) ? ErrorCode.NOT_ENOUGH_REPLICAS : 0;
  }

  awaitReplication(
    topic: string,
    partition: number,
    requiredOffset: number,
    timeoutMs: number,
  ): Promise<number> {
    const purgatory = this.purgatories.get(key(topic, partition));
    if (!purgatory) {
      const l = this.localLog(topic, partition);
      return Promise.resolve(
        l && l.highWatermark >= requiredOffset ? 0 : ErrorCode.NOT_LEADER_OR_FOLLOWER,
      );
    }
    return purgatory.wait(requiredOffset, timeoutMs);
  }

  recordFollowerFetch(
    topic: string,
    partition: number,
    replicaId: number,
    fetchOffset: number,
  ): boolean {
    const e = this.leaderEntry(topic, partition);
    if (!e) return false;
    const now = Date.now();
    if (!e.state.updateFollowerFetchState(replicaId, fetchOffset, e.log.logEndOffset, now)) {
      return false;
    }
    const expanded = e.state.expandedIsr(replicaId, e.log.highWatermark);
    if (expanded) this.alterIsr(e, expanded);
    this.maybeIncrementHighWatermark(e);
    return true;
  }

  localLog(topic: string, partition: number): ReplicaLog | undefined {
    const l = this.logs.getPartition(topic, partition);
    return l ? replicaLog(l) : undefined;
  }

  /** The epoch cache's answer for OffsetForLeaderEpoch. */
  endOffsetForEpoch(topic: string, partition: number, epoch: number): EpochEndOffset | undefined {
    return this.localLog(topic, partition)?.endOffsetForEpoch(epoch);
  }

  // ---- ISR --------------------------------------------------------------------------------

  private maybeShrinkIsr(): void {
    const now = Date.now();
    for (const e of this.leaders.values()) {
      if (e.state.replicas.length <= 1 || e.writing) continue;
      const shrunk = e.state.shrunkIsr(now, this.lagMs, e.log.logEndOffset);
      if (shrunk) this.alterIsr(e, shrunk);
    }
  }

  /** Writes a new ISR (compare-and-swap); meanwhile the HW counts the larger of both. */
  private alterIsr(e: LeaderEntry, isr: number[]): void {
    if (e.writing) return;
    const { topic, partition } = e.state;
    e.writing = true;
    e.state.pending = { isr };
    writeIsr(this.node.store, topic, partition, e.seen, isr).then((r) => {
      if (this.leaders.get(key(topic, partition)) !== e) return;
      if (r.kind === "written") {
        log.info(
          `replication: ${topic}-${partition} ISR ${e.state.isr.join(",")} -> ${isr.join(",")} ` +
            `(leader ${this.nodeId}, leader epoch ${e.state.leaderEpoch})`,
        );
        e.state.isr = [...isr];
        e.seen = { state: r.state, modRevision: r.modRevision };
      } else if (r.kind === "stale") {
        e.seen = { state: r.state, modRevision: r.modRevision };
        e.state.isr = [...r.state.isr];
        e.state.setReplicas(r.state.replicas, Date.now());
      } else {
        log.info(
          `replication: ${topic}-${partition}: leadership moved on (leader ` +
            `${r.state?.leader ?? "none"}), no longer acting as its leader`,
        );
        this.dropLeader(key(topic, partition));
      }
    }, (err) => {
      log.warn(`replication: ISR write for ${topic}-${partition} failed: ${errText(err)}`);
    }).finally(() => {
      e.writing = false;
      e.state.pending = null;
      this.maybeIncrementHighWatermark(e);
    });
  }
}

/**
 * Starts replication on a cluster member: alone, one ReplicationManager; with Deno workers,
 * one on every worker over the partitions it owns (workers_replication.ts). Returns what
 * stops it.
 */
export function startReplication(
  node: ClusterNode,
  logs: LogManager,
  config: BrokerConfig,
  replicaManager: { replication?: ReplicationApi },
  workers: WorkerCluster | undefined,
): () => Promise<void> {
  if (!workers) {
    const replication = new ReplicationManager(node, logs, config);
    replicaManager.replication = replication;
    replication.start();
    return () => replication.close();
  }
  const registration = new WorkerRegistration(node, workers);
  const local = new ReplicationManager(
    node,
    logs,
    config,
    registration.isRegistered,
    `-w${workers.index}`,
  );
  serveReplication(workers, local);
  replicaManager.replication = new WorkerReplication(workers, local);
  local.start();
  registration.start(() => local.reconcile());
  return () => {
    registration.close();
    return local.close();
  };
}

/**
 * A coordinator's append to its partition, acknowledged as Kafka's coordinators append
 * (acks=all, `offsets.commit.timeout.ms`): resolves once the HW passes it; the failures map
 * as Kafka's coordinators map them: NOT_LEADER_OR_FOLLOWER to NOT_COORDINATOR, too few
 * replicas and timeouts to COORDINATOR_NOT_AVAILABLE. Alone (no replication) at once.
 */
export async function coordinatorReplication(
  replicaManager: { replication?: ReplicationApi },
  topic: string,
  partition: number,
  requiredOffset: number,
  config: BrokerConfig,
): Promise<void> {
  const replication = replicaManager.replication;
  if (!replication) return;
  const timeout = config.int("offsets.commit.timeout.ms");
  const code = await replication.awaitReplication(topic, partition, requiredOffset, timeout);
  if (code === ErrorCode.NONE) return;
  const mapped = code === ErrorCode.NOT_LEADER_OR_FOLLOWER
    ? ErrorCode.NOT_COORDINATOR
    : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  throw new KafkaError(
    mapped,
    `${topic}-${partition}: write not replicated (${errorName(code)})`,
  );
}
