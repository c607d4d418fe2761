/**
 * The cluster controller, as Kafka's ZooKeeper-era KafkaController: one broker at a time,
 * elected by creating the `controller` key under its registration lease (losing the lease
 * loses the office), with `controller_epoch` bumped on each election. It alone writes topic
 * and partition state: it places the replicas of new topics and partitions, and as brokers
 * come and go it moves leadership (with one replica per partition: offline while its broker
 * is gone, the same broker leading again when it returns, each change a new leader epoch).
 * Every write is a transaction that also checks the controller key is still this election's,
 * so a deposed controller cannot overwrite its successor.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { randomUuid, type TopicConfigValue } from "../../storage/log_manager.ts";
import { errText, log } from "../log.ts";
import type { ClusterMetadataCache } from "./cluster_metadata.ts";
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
import { assignReplicas } from "./replica_assignment.ts";

export class ClusterController {
  /** The revision at which this broker's election wrote the controller key; 0: not elected. */
  private electedAt = 0;
  private epoch = 0;
  private reconciling: Promise<void> | null = null;
  private again = false;
  private campaigning: Promise<void> | null = null;

  constructor(
    private readonly store: MetadataStore,
    private readonly cache: ClusterMetadataCache,
    private readonly nodeId: number,
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
   * Offline partitions whose replica is back get it as leader; partitions led by a broker
   * that is gone go offline. Each change bumps the leader and partition epochs.
   */
  private async reconcileLeaders(): Promise<void> {
    const live = this.cache.liveBrokers;
    for (const [topic, parts] of this.cache.partitionStates) {
      for (const [p, entry] of parts) {
        if (!this.isActive) return;
        const s = entry.state;
        let leader = s.leader;
        if (leader !== -1 && !live.has(leader)) leader = -1;
        if (leader === -1) leader = s.isr.find((id) => live.has(id)) ?? -1;
        if (leader === s.leader) continue;
        const next: PartitionState = {
          ...s,
          leader,
          leaderEpoch: s.leaderEpoch + 1,
          partitionEpoch: s.partitionEpoch + 1,
        };
        const key = partitionKey(topic, p);
        const r = await this.store.txn({
          compare: [
            this.guard(),
            { key, target: "modRevision", result: "equal", modRevision: entry.modRevision },
          ],
          success: [{ put: { key, value: JSON.stringify(next) } }],
          failure: [{ get: { key: CONTROLLER_KEY } }],
        });
        if (!r.succeeded && this.deposed(r.responses[0]?.kvs?.[0])) return;
        if (r.succeeded) {
          log.info(
            `controller: ${topic}-${p} leader ${s.leader} -> ${leader} (leader epoch ${next.leaderEpoch})`,
          );
        }
      }
    }
  }

  private liveForPlacement() {
    return [...this.cache.liveBrokers.values()].map((b) => ({ nodeId: b.nodeId, rack: b.rack }));
  }

  /** Creates a topic with replicas placed over the live brokers; returns its record. */
  async createTopic(
    name: string,
    partitions: number,
    configs: Record<string, TopicConfigValue>,
  ): Promise<{ record: TopicRecord; revision: number }> {
    if (!this.isActive) throw this.notController();
    const assignment = assignReplicas(this.liveForPlacement(), partitions, 1);
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

  async createPartitions(name: string, total: number): Promise<number> {
    if (!this.isActive) throw this.notController();
    const t = this.cache.topicRecords.get(name);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (!Number.isInteger(total) || total <= t.partitions) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `Topic currently has ${t.partitions} partitions, which is higher than the requested ${total}.`,
      );
    }
    const assignment = assignReplicas(this.liveForPlacement(), total - t.partitions, 1, {
      startPartition: t.partitions,
    });
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
