/**
 * The cluster controller, as Kafka's ZooKeeper-era KafkaController: one broker at a time,
 * elected by creating the `controller` key under its registration lease (losing the lease
 * loses the office), with `controller_epoch` bumped on each election. It writes topic and
 * partition state: it places the replicas of new topics and partitions (rack-aware, or as
 * assigned), and as brokers come and go it removes dead replicas from the ISR and elects
 * leaders (offline partition election from the live ISR in replica order, unclean when
 * `unclean.leader.election.enable` allows), completes reassignments once their new replicas
 * are in sync, and moves leadership back to preferred replicas (auto leader rebalance;
 * ElectLeaders and reassignments in controller_operations.ts). Partition leaders write ISR
 * changes too, so every partition write is a compare-and-swap on the key's modRevision,
 * re-read and retried on conflict. Every write also checks the controller key is still this
 * election's, so a deposed controller cannot overwrite its successor.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { randomUuid, type TopicConfigValue } from "../../storage/log_manager.ts";
import type { BrokerConfig } from "../config.ts";
import { errText, log } from "../log.ts";
import type { ClusterMetadataCache, PartitionEntry } from "./cluster_metadata.ts";
import {
  CONTROLLER_EPOCH_KEY,
  CONTROLLER_KEY,
  type ControllerRecord,
  partitionKey,
  partitionsPrefix,
  type PartitionState,
  topicKey,
  type TopicRecord,
} from "./cluster_records.ts";
import type { Compare, KeyValue, LeaseId, MetadataStore, TxnOp } from "./metadata_store.ts";
import { valueText } from "./metadata_store.ts";
import { jsonOf } from "./cluster_records.ts";
import { reassignmentComplete, reconcileLiveness, targetReplicas } from "./partition_election.ts";
import { endReassignment } from "./partition_election.ts";
import { assignReplicas } from "./replica_assignment.ts";
import { BrokerIncarnations } from "./broker_incarnations.ts";
import {
  checkNewPartitionAssignments,
  placeTopic,
  type TopicPlacement,
} from "./topic_placement.ts";

/** The broker settings the controller acts on. */
export interface ControllerSettings {
  /** The broker default of `unclean.leader.election.enable` (cluster-wide dynamic). */
  uncleanLeaderElectionEnable: () => boolean;
  /** `auto.leader.rebalance.enable`. */
  autoLeaderRebalanceEnable: boolean;
  /** `leader.imbalance.check.interval.seconds`, in ms. */
  leaderImbalanceCheckIntervalMs: number;
  /** `leader.imbalance.per.broker.percentage`. */
  leaderImbalancePerBrokerPercentage: number;
  /**
   * `unclean.leader.election.interval.ms`: how often offline partitions are looked at again,
   * so that unclean election enabled at runtime (a dynamic broker default) takes effect.
   */
  uncleanLeaderElectionIntervalMs?: number;
}

/** The controller's settings from the broker's config (the unclean default read live). */
export function controllerSettings(config: BrokerConfig): ControllerSettings {
  return {
    uncleanLeaderElectionEnable: () => config.bool("unclean.leader.election.enable"),
    autoLeaderRebalanceEnable: config.bool("auto.leader.rebalance.enable"),
    leaderImbalanceCheckIntervalMs: config.int("leader.imbalance.check.interval.seconds") * 1000,
    leaderImbalancePerBrokerPercentage: config.int("leader.imbalance.per.broker.percentage"),
    uncleanLeaderElectionIntervalMs: config.int("unclean.leader.election.interval.ms"),
  };
}

/** What a partition change function returns: the next state, or null for no change. */
export type PartitionChange = (s: PartitionState, modRevision: number) => PartitionState | null;

/** Compare-and-swap attempts of one partition change before giving up (REQUEST_TIMED_OUT). */
const CAS_ATTEMPTS = 10;
/** Partition writes in flight at once when the controller reacts to a change. */
const RECONCILE_CONCURRENCY = 16;

export class ClusterController {
  /** The revision at which this broker's election wrote the controller key; 0: not elected. */
  private electedAt = 0;
  private epoch = 0;
  private reconciling: Promise<void> | null = null;
  private again = false;
  private campaigning: Promise<void> | null = null;

  private rebalanceTimer?: ReturnType<typeof setInterval>;
  private uncleanTimer?: ReturnType<typeof setInterval>;
  /** Restarted brokers are failed, then new (broker_incarnations.ts). */
  private readonly incarnations = new BrokerIncarnations();

  constructor(
    private readonly store: MetadataStore,
    readonly cache: ClusterMetadataCache,
    private readonly nodeId: number,
    readonly settings?: ControllerSettings,
  ) {}

  get isActive(): boolean {
    return this.electedAt !== 0 && this.cache.controller?.nodeId === this.nodeId &&
      this.cache.controller.modRevision === this.electedAt;
  }

  get controllerEpoch(): number {
    return this.epoch;
  }

  /** Stands for election under `lease` if no controller holds office. */
  campaign(lease: LeaseId): Promise<void> {
    this.campaigning ??= this.tryElect(lease).catch((e) => {
      log.warn(`controller election failed: ${errText(e)}`);
    }).finally(() => this.campaigning = null);
    return this.campaigning;
  }

  private async tryElect(lease: LeaseId): Promise<void> {
    const current = await this.store.get(CONTROLLER_EPOCH_KEY);
    const epoch = (current ? Number(valueText(current)) : 0) + 1;
    const record: ControllerRecord = { nodeId: this.nodeId, epoch };
    const r = await this.store.txn({
      compare: [
        { key: CONTROLLER_KEY, target: "createRevision", result: "equal", createRevision: 0 },
        {
          key: CONTROLLER_EPOCH_KEY,
          target: "modRevision",
          result: "equal",
          modRevision: current?.modRevision ?? 0,
        },
      ],
      success: [
        { put: { key: CONTROLLER_KEY, value: JSON.stringify(record), lease } },
        { put: { key: CONTROLLER_EPOCH_KEY, value: String(epoch) } },
      ],
    });
    if (!r.succeeded) return;
    this.electedAt = r.revision;
    this.epoch = epoch;
    log.info(`broker ${this.nodeId} is the controller (controller epoch ${epoch})`);
    this.startRebalanceTimer();
  }

  /** Kafka's auto leader rebalance task, every `leader.imbalance.check.interval.seconds`. */
  private startRebalanceTimer(): void {
    const s = this.settings;
    if (s?.uncleanLeaderElectionIntervalMs && this.uncleanTimer === undefined) {
      this.uncleanTimer = setInterval(() => {
        if (this.isActive && s.uncleanLeaderElectionEnable()) this.onMetadataChanged();
      }, s.uncleanLeaderElectionIntervalMs);
      Deno.unrefTimer(this.uncleanTimer);
    }
    if (!s?.autoLeaderRebalanceEnable || this.rebalanceTimer !== undefined) return;
    this.rebalanceTimer = setInterval(() => {
      if (!this.isActive) return;
      this.rebalanceLeaders().catch((e) => log.warn(`auto leader rebalance: ${errText(e)}`));
    }, s.leaderImbalanceCheckIntervalMs);
    Deno.unrefTimer(this.rebalanceTimer);
  }

  /** Called after each batch of metadata changes: re-checks what the brokers lead. */
  onMetadataChanged(): void {
    if (!this.isActive) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = (async () => {
      do {
        this.again = false;
        try {
          await this.reconcileLeaders();
        } catch (e) {
          log.warn(`controller: moving leadership failed, retried on the next change: ${e}`);
        }
      } while (this.again && this.isActive);
    })().finally(() => this.reconciling = null);
  }

  /** The controller key still being this election's: the guard of every write. */
  private guard(): Compare {
    return {
      key: CONTROLLER_KEY,
      target: "modRevision",
      result: "equal",
      modRevision: this.electedAt,
    };
  }

  private notController(): KafkaError {
    return new KafkaError(ErrorCode.NOT_CONTROLLER, `broker ${this.nodeId} is not the controller`);
  }

  /**
   * Brokers gone or back, and reassignments whose new replicas caught up: dead replicas leave
   * the ISR, partitions whose leader is gone get a new one (offline partition election),
   * offline partitions whose in-sync replica is back get it as leader, and completed
   * reassignments take their target replicas.
   */
  private async reconcileLeaders(): Promise<void> {
    // One view of the live brokers for the whole pass: one that comes back while the pass
    // runs is new on the next pass, not live for the partitions left in this one.
    const liveNow = new Map(this.cache.liveBrokers);
    const bounced = this.incarnations.bounced(liveNow);
    if (bounced.size > 0) log.info(`controller: broker(s) ${[...bounced]} restarted`);
    const live = (id: number) => liveNow.has(id) && !bounced.has(id);
    const work: (() => Promise<unknown>)[] = [];
    for (const [topic, parts] of this.cache.partitionStates) {
      if (!this.cache.topicRecords.has(topic)) continue;
      const unclean = this.uncleanAllowed(topic);
      for (const [p, entry] of parts) {
        const change: PartitionChange = (s, modRevision) => {
          const alive = (id: number) => live(id) && !this.reregisteredSince(s, modRevision, id);
          const next = reconcileLiveness(s, alive, unclean) ?? s;
          if (reassignmentComplete(next)) {
            return endReassignment(next, targetReplicas(next), live) ?? nullIfSame(next, s);
          }
          return nullIfSame(next, s);
        };
        // Decided on the cached state; written on the store's current one.
        if (change(entry.state, entry.modRevision) === null) continue;
        work.push(() =>
          this.updatePartition(topic, p, change, entry).catch((e) => {
            if (e instanceof KafkaError && e.code === ErrorCode.NOT_CONTROLLER) throw e;
            log.warn(`controller: ${topic}-${p} not updated: ${errText(e)}`);
          })
        );
      }
    }
    // A broker's loss moves all its partitions: several writes in flight, not one at a time.
    let next = 0;
    const runner = async () => {
      while (next < work.length && this.isActive) await work[next++]();
    };
    try {
      await Promise.all(
        Array.from({ length: Math.min(RECONCILE_CONCURRENCY, work.length) }, runner),
      );
    } catch (e) {
      if (!(e instanceof KafkaError && e.code === ErrorCode.NOT_CONTROLLER)) throw e;
    }
  }

  /**
   * Whether broker `id` leads or is in sync for this record but registered after it was last
   * written: it restarted (or lost its session and came back) without the partition state
   * following, so what it held in memory, and any unflushed tail of its log, may be gone; it
   * is treated as failed for this partition (out of the ISR, its leadership elected
   * elsewhere) and rejoins as a follower. Unlike the incarnations seen by this controller,
   * this holds across a controller failover (the restarted broker may have been the
   * controller). A partition without a leader waits for its in-sync replicas: not applied.
   */
  private reregisteredSince(s: PartitionState, modRevision: number, id: number): boolean {
    if (s.leader === -1 || (s.leader !== id && !s.isr.includes(id))) return false;
    return (this.cache.registeredAt.get(id) ?? 0) > modRevision;
  }

  /** Whether unclean leader election is allowed for a topic: its config, else the broker's. */
  uncleanAllowed(topic: string): boolean {
    const v = this.cache.topicRecords.get(topic)?.configs["unclean.leader.election.enable"];
    if (v !== undefined) return v === true || v === "true";
    return this.settings?.uncleanLeaderElectionEnable() ?? false;
  }

  /**
   * Applies `change` to a partition's state as the store holds it now, by compare-and-swap
   * (guarded by the controller key), re-reading and retrying when someone (its leader, for the
   * ISR) wrote it meanwhile. Returns the state written and its revision, or null when `change`
   * saw nothing to do. Throws NOT_CONTROLLER, UNKNOWN_TOPIC_OR_PARTITION, or REQUEST_TIMED_OUT
   * after repeated conflicts.
   */
  async updatePartition(
    topic: string,
    p: number,
    change: PartitionChange,
    cached?: PartitionEntry,
  ): Promise<{ state: PartitionState; revision: number } | null> {
    const key = partitionKey(topic, p);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      if (!this.isActive) throw this.notController();
      // The first attempt may start from the cached record (a stale one fails the compare).
      let s: PartitionState;
      let modRevision: number;
      if (attempt === 0 && cached) {
        ({ state: s, modRevision } = cached);
      } else {
        const kv = await this.store.get(key);
        if (!kv) {
          throw new KafkaError(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            "The partition does not exist.",
          );
        }
        s = jsonOf<PartitionState>(kv);
        modRevision = kv.modRevision;
      }
      const next = change(s, modRevision);
      if (next === null) return null;
      const r = await this.store.txn({
        compare: [
          this.guard(),
          { key, target: "modRevision", result: "equal", modRevision },
        ],
        success: [{ put: { key, value: JSON.stringify(next) } }],
        failure: [{ get: { key: CONTROLLER_KEY } }],
      });
      if (r.succeeded) {
        logChange(topic, p, s, next);
        return { state: next, revision: r.revision };
      }
      if (this.deposed(r.responses[0]?.kvs?.[0])) throw this.notController();
    }
    throw new KafkaError(
      ErrorCode.REQUEST_TIMED_OUT,
      `partition ${topic}-${p} kept changing; retry`,
    );
  }

  /**
   * Kafka's checkAndTriggerAutoLeaderRebalance: for each broker, the share of the partitions
   * it is the preferred leader of that another broker leads; above
   * `leader.imbalance.per.broker.percentage` the preferred replica is elected for those where
   * it is live and in sync and no reassignment is under way. Returns the partitions moved.
   */
  async rebalanceLeaders(): Promise<{ topic: string; partition: number }[]> {
    if (!this.isActive) return [];
    const pct = this.settings?.leaderImbalancePerBrokerPercentage ?? 10;
    const live = (id: number) => this.cache.liveBrokers.has(id);
    const byPreferred = new Map<number, { topic: string; p: number; s: PartitionState }[]>();
    for (const [topic, parts] of this.cache.partitionStates) {
      if (!this.cache.topicRecords.has(topic)) continue;
      for (const [p, { state: s }] of parts) {
        const preferred = s.replicas[0];
        if (preferred === undefined) continue;
        let list = byPreferred.get(preferred);
        if (!list) byPreferred.set(preferred, list = []);
        list.push({ topic, p, s });
      }
    }
    const moved: { topic: string; partition: number }[] = [];
    for (const [broker, parts] of byPreferred) {
      const off = parts.filter((x) => x.s.leader !== broker);
      if (off.length / parts.length <= pct / 100 || !live(broker)) continue;
      for (const { topic, p } of off) {
        const r = await this.updatePartition(topic, p, (s) => {
          if (s.replicas[0] !== broker || s.leader === broker) return null;
          if ((s.addingReplicas?.length ?? 0) > 0 || (s.removingReplicas?.length ?? 0) > 0) {
            return null;
          }
          if (!live(broker) || !s.isr.includes(broker)) return null;
          return {
            ...s,
            leader: broker,
            leaderEpoch: s.leaderEpoch + 1,
            partitionEpoch: s.partitionEpoch + 1,
          };
        }).catch((e) => {
          log.warn(`auto leader rebalance of ${topic}-${p}: ${errText(e)}`);
          return null;
        });
        if (r) moved.push({ topic, partition: p });
      }
    }
    return moved;
  }

  private liveForPlacement() {
    return [...this.cache.liveBrokers.values()].map((b) => ({ nodeId: b.nodeId, rack: b.rack }));
  }

  /**
   * Creates a topic with replicas placed over the live brokers (or as assigned); returns its
   * record. Throws INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT as Kafka.
   */
  async createTopic(
    name: string,
    partitions: number,
    configs: Record<string, TopicConfigValue>,
    placement: TopicPlacement = { replicationFactor: 1 },
  ): Promise<{ record: TopicRecord; revision: number }> {
    if (!this.isActive) throw this.notController();
    const assignment = placeTopic(this.liveForPlacement(), partitions, placement);
    partitions = assignment.length;
    const record: TopicRecord = { name, topicId: randomUuid(), partitions, configs };
    const ops: TxnOp[] = [{ put: { key: topicKey(name), value: JSON.stringify(record) } }];
    assignment.forEach((replicas, p) => ops.push(partitionPut(name, p, replicas)));
    const r = await this.store.txn({
      compare: [
        this.guard(),
        { key: topicKey(name), target: "createRevision", result: "equal", createRevision: 0 },
      ],
      success: ops,
      failure: [{ get: { key: CONTROLLER_KEY } }],
    });
    if (!r.succeeded) {
      if (this.deposed(r.responses[0]?.kvs?.[0])) throw this.notController();
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    }
    // Logged here, where it is made: once, however many brokers asked for it.
    log.info(
      `created topic ${name} with ${partitions} partition(s) in the cluster ` +
        `(replication factor ${assignment[0]?.length ?? 0})`,
    );
    return { record, revision: r.revision };
  }

  async deleteTopic(name: string): Promise<number> {
    if (!this.isActive) throw this.notController();
    const t = this.cache.topicRecords.get(name);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const r = await this.store.txn({
      compare: [
        this.guard(),
        { key: topicKey(name), target: "modRevision", result: "equal", modRevision: t.modRevision },
      ],
      success: [
        { delete: { key: topicKey(name) } },
        { delete: { key: partitionsPrefix(name), prefix: true } },
      ],
      failure: [{ get: { key: CONTROLLER_KEY } }],
    });
    if (!r.succeeded) throw this.retry(name, r.responses[0]?.kvs?.[0]);
    return r.revision;
  }

  /**
   * Grows a topic to `total` partitions, the new ones with the replication factor of
   * partition 0 (or as assigned, one replica list per new partition).
   */
  async createPartitions(
    name: string,
    total: number,
    assignments?: number[][] | null,
  ): Promise<number> {
    if (!this.isActive) throw this.notController();
    const t = this.cache.topicRecords.get(name);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (!Number.isInteger(total) || total <= t.partitions) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `Topic currently has ${t.partitions} partitions, which is higher than the requested ${total}.`,
      );
    }
    const existingRf = this.cache.partition(name, 0)?.state.replicas.length ?? 1;
    const live = this.liveForPlacement();
    let assignment: number[][];
    if (assignments) {
      checkNewPartitionAssignments(
        assignments,
        total - t.partitions,
        existingRf,
        new Set(live.map((b) => b.nodeId)),
      );
      assignment = assignments.map((r) => [...r]);
    } else {
      // Kafka starts from partition 0's preferred leader (both the start and the shift).
      const first = this.cache.partition(name, 0)?.state.replicas[0] ?? 0;
      const ids = live.map((b) => b.nodeId).sort((a, b) => a - b);
      const startIndex = Math.max(0, ids.findIndex((id) => id >= first));
      assignment = assignReplicas(live, total - t.partitions, existingRf, {
        startPartition: t.partitions,
        random: () => startIndex,
      });
    }
    const { modRevision: _, ...rest } = t;
    const record: TopicRecord = { ...rest, partitions: total };
    const ops: TxnOp[] = [{ put: { key: topicKey(name), value: JSON.stringify(record) } }];
    assignment.forEach((replicas, i) => ops.push(partitionPut(name, t.partitions + i, replicas)));
    const r = await this.store.txn({
      compare: [
        this.guard(),
        { key: topicKey(name), target: "modRevision", result: "equal", modRevision: t.modRevision },
      ],
      success: ops,
      failure: [{ get: { key: CONTROLLER_KEY } }],
    });
    if (!r.succeeded) throw this.retry(name, r.responses[0]?.kvs?.[0]);
    return r.revision;
  }

  async alterTopicConfigs(
    name: string,
    configs: Record<string, TopicConfigValue>,
  ): Promise<number> {
    if (!this.isActive) throw this.notController();
    const t = this.cache.topicRecords.get(name);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const { modRevision: _, ...rest } = t;
    const record: TopicRecord = { ...rest, configs };
    const r = await this.store.txn({
      compare: [
        this.guard(),
        { key: topicKey(name), target: "modRevision", result: "equal", modRevision: t.modRevision },
      ],
      success: [{ put: { key: topicKey(name), value: JSON.stringify(record) } }],
      failure: [{ get: { key: CONTROLLER_KEY } }],
    });
    if (!r.succeeded) throw this.retry(name, r.responses[0]?.kvs?.[0]);
    return r.revision;
  }

  /** A write lost a race (another change, or this broker lost the office): the client retries. */
  private retry(name: string, controllerKv: KeyValue | undefined): KafkaError {
    if (this.deposed(controllerKv)) return this.notController();
    return new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `topic ${name} changed meanwhile; retry`);
  }

  /**
   * Whether the controller key, as a failed write read it back, is no longer this election's:
   * then this broker has been deposed (its lease lapsed, another was elected) and resigns.
   */
  private deposed(controllerKv: KeyValue | undefined): boolean {
    if (controllerKv?.modRevision === this.electedAt && this.electedAt !== 0) return false;
    this.resign();
    return true;
  }

  /** Resolves once the leadership changes under way are written. */
  async idle(): Promise<void> {
    while (this.reconciling) await this.reconciling;
  }

  /** Stops acting as controller (lease lost, or closing). */
  resign(): void {
    this.electedAt = 0;
    if (this.rebalanceTimer !== undefined) clearInterval(this.rebalanceTimer);
    if (this.uncleanTimer !== undefined) clearInterval(this.uncleanTimer);
    this.rebalanceTimer = this.uncleanTimer = undefined;
  }
}

function partitionPut(topic: string, p: number, replicas: number[]): TxnOp {
  const state: PartitionState = {
    leader: replicas[0],
    leaderEpoch: 0,
    replicas,
    isr: replicas,
    partitionEpoch: 0,
  };
  return { put: { key: partitionKey(topic, p), value: JSON.stringify(state) } };
}

function nullIfSame(next: PartitionState, s: PartitionState): PartitionState | null {
  return next === s ? null : next;
}

function logChange(topic: string, p: number, s: PartitionState, next: PartitionState): void {
  const parts: string[] = [];
  if (s.leader !== next.leader) parts.push(`leader ${s.leader} -> ${next.leader}`);
  if (s.isr.join() !== next.isr.join()) parts.push(`ISR [${s.isr}] -> [${next.isr}]`);
  if (s.replicas.join() !== next.replicas.join()) {
    parts.push(`replicas [${s.replicas}] -> [${next.replicas}]`);
  }
  log.info(
    `controller: ${topic}-${p} ${
      parts.join(", ") || "unchanged"
    } (leader epoch ${next.leaderEpoch})`,
  );
}
