/**
 * Replication on a broker with Deno workers. A partition's log is open on its owner worker
 * only, so every worker runs a ReplicationManager of its own over the partitions it owns (as
 * Kafka spreads partitions and fetcher threads while its ReplicaManager is per broker): the
 * make-leader / make-follower logic, the replica fetchers for its partitions, the leader-side
 * follower tracking, the ISR writes (through its own metadata store client) and the acks=all
 * purgatory. What a handler on another worker asks of replication goes to the owner:
 * - the acks=all wait of a Produce spanning workers (`replAwait`); its ISR check before the
 *   append reads the ISR the owner last wrote to the metadata store;
 * - leader epoch stamping happens where the append runs, on the owner (replica_manager.ts);
 * - replica fetches are answered by the owner: Fetch is placed whole on the worker owning
 *   every partition it names, and a follower keeps one fetcher per worker of the leader
 *   (brokers register their worker count), so each of its Fetches names one owner's
 *   partitions; a replica Fetch naming partitions of several workers anyway gets
 *   NOT_LEADER_OR_FOLLOWER for those not owned by the worker answering it.
 * Worker 0 is the broker's cluster member (it registers under the lease); the others learn
 * whether the broker is registered, and under which incarnation, from it (`registration`,
 * pushed on every change and asked for at start): a worker leads only while the cluster lists
 * this broker under that incarnation, as a broker alone leads only while registered.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { ClusterNode } from "../cluster/cluster_node.ts";
import { CONTROLLER_WORKER } from "../workers/ownership.ts";
import type { WorkerCluster } from "../workers/worker_cluster.ts";
import { errText, log } from "../log.ts";
import type { EpochEndOffset, ReplicaLog } from "./replica_log.ts";
import type { ReplicationApi } from "./replication_api.ts";
import type { ReplicationManager } from "./replication_manager.ts";
import type { FollowerLagSample } from "../metrics.ts";

/** Routes each partition's replication calls to the worker owning the partition. */
export class WorkerReplication implements ReplicationApi {
  constructor(
    private readonly cluster: WorkerCluster,
    private readonly local: ReplicationManager,
  ) {}

  private owns(topic: string, partition: number): boolean {
    return this.cluster.owns(topic, partition);
  }

  /** This worker's followers' lag (worker 0's stats add every worker's up). */
  followerLag(): FollowerLagSample[] {
    return this.local.followerLag();
  }

  leaderEpochOf(topic: string, partition: number): number | undefined {
    return this.owns(topic, partition) ? this.local.leaderEpochOf(topic, partition) : undefined;
  }

  checkEnoughReplicas(topic: string, partition: number): number {
    // Another worker's partition: the ISR its owner (the leader) last wrote.
    return this.owns(topic, partition)
      ? this.local.checkEnoughReplicas(topic, partition)
      : this.local.checkEnoughReplicasByMetadata(topic, partition);
  }

  awaitReplication(
    topic: string,
    partition: number,
    requiredOffset: number,
    timeoutMs: number,
  ): Promise<number> {
    if (this.owns(topic, partition)) {
      return this.local.awaitReplication(topic, partition, requiredOffset, timeoutMs);
    }
    return this.cluster.call(this.cluster.ownerOf(topic, partition), "replAwait", {
      topic,
      partition,
      requiredOffset,
      timeoutMs,
    }).catch((e) => e instanceof KafkaError ? e.code : ErrorCode.NOT_LEADER_OR_FOLLOWER);
  }

  recordFollowerFetch(
    topic: string,
    partition: number,
    replicaId: number,
    fetchOffset: number,
  ): boolean {
    return this.owns(topic, partition) &&
      this.local.recordFollowerFetch(topic, partition, replicaId, fetchOffset);
  }

  localLog(topic: string, partition: number): ReplicaLog | undefined {
    return this.owns(topic, partition) ? this.local.localLog(topic, partition) : undefined;
  }

  endOffsetForEpoch(topic: string, partition: number, epoch: number): EpochEndOffset | undefined {
    return this.owns(topic, partition)
      ? this.local.endOffsetForEpoch(topic, partition, epoch)
      : undefined;
  }
}

/** Serves the owner side of the calls above. */
export function serveReplication(cluster: WorkerCluster, local: ReplicationApi): void {
  cluster.serve(
    "replAwait",
    (a) => local.awaitReplication(a.topic, a.partition, a.requiredOffset, a.timeoutMs),
  );
}

/**
 * Whether this broker is registered, as a worker sees it. Worker 0 reads its ClusterNode and
 * tells the others on every change; another worker holds the incarnation worker 0 last told
 * it and counts as registered while the cluster metadata lists this broker under it.
 * `onChange` runs when the answer may have changed (the roles are brought in step again).
 */
export class WorkerRegistration {
  private incarnation: string | null = null;
  private pushed: string | null | undefined = undefined;
  private onChange: () => void = () => {};
  private unsubscribe: () => void = () => {};

  constructor(private readonly node: ClusterNode, private readonly cluster: WorkerCluster) {
    if (cluster.isController) {
      cluster.serve("registration", () => this.current());
    } else {
      cluster.serve("syncRegistration", (a) => this.set(a.incarnation));
    }
  }

  /** Worker 0's answer: the incarnation it is registered under, or null. */
  private current(): string | null {
    return this.node.isRegistered ? this.node.incarnationId : null;
  }

  private set(incarnation: string | null): void {
    if (incarnation === this.incarnation) return;
    this.incarnation = incarnation;
    this.onChange();
  }

  readonly isRegistered = (): boolean => {
    if (this.cluster.isController) return this.node.isRegistered;
    return this.incarnation !== null &&
      this.node.cache.liveBrokers.get(this.node.nodeId)?.incarnationId === this.incarnation;
  };

  start(onChange: () => void): void {
    this.onChange = onChange;
    if (this.cluster.isController) {
      const push = () => {
        const now = this.current();
        if (now === this.pushed) return;
        this.pushed = now;
        void this.cluster.broadcast("syncRegistration", { incarnation: now });
      };
      this.unsubscribe = this.node.onSynced(push);
      push();
      return;
    }
    this.cluster.call(CONTROLLER_WORKER, "registration", null).then(
      (incarnation) => this.set(incarnation),
      (e) => log.warn(`replication: asking worker 0 for the registration: ${errText(e)}`),
    );
  }

  close(): void {
    this.unsubscribe();
  }
}
