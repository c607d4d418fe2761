/**
 * A Kafka cluster seen from a client: bootstrap servers, broker connections by node id,
 * metadata (topics, partitions, leaders) and coordinator lookup, with the refresh-and-retry
 * a stock client does when leadership or coordinators move.
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import {
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  type FindCoordinatorResponseCoordinator,
  MetadataRequest,
  MetadataResponse,
} from "../../protocol/messages/mod.ts";
import type { Encodable, MessageSchema } from "../../protocol/schema.ts";
import { BrokerConnection, type ConnectionOptions } from "./connection.ts";
import { ClientError, RETRIABLE_CODES } from "./errors.ts";

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offline: number[];
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  topicId: string;
  isInternal: boolean;
  errorCode: number;
  partitions: PartitionInfo[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicInfo[];
}

/** Coordinator key types of FindCoordinator. */
export const CoordinatorType = { GROUP: 0, TRANSACTION: 1 } as const;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KafkaClient {
  private readonly byNode = new Map<number, BrokerConnection>();
  private bootstrap?: BrokerConnection;
  private brokers = new Map<number, BrokerInfo>();
  private readonly leaders = new Map<string, number>();

  constructor(
    readonly bootstrapServers: string[],
    readonly opts: ConnectionOptions = {},
  ) {
    if (bootstrapServers.length === 0) throw new ClientError("no bootstrap server given");
  }

  /** Any live connection: the first bootstrap server that answers. */
  async any(): Promise<BrokerConnection> {
    if (this.bootstrap && !this.bootstrap.isClosed) return this.bootstrap;
    const errors: string[] = [];
    for (const address of this.bootstrapServers) {
      try {
        this.bootstrap = await BrokerConnection.connect(address, this.opts);
        return this.bootstrap;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    throw new ClientError(errors.join("; "));
  }

  /** The connection to broker `nodeId` (from the last metadata), opened on first use. */
  async broker(nodeId: number): Promise<BrokerConnection> {
    const c = this.byNode.get(nodeId);
    if (c && !c.isClosed) return c;
    let info = this.brokers.get(nodeId);
    if (!info) {
      await this.metadata([]);
      info = this.brokers.get(nodeId);
    }
    if (!info) throw new ClientError(`broker ${nodeId} is not in the cluster metadata`);
    const conn = await BrokerConnection.connect(hostPort(info.host, info.port), this.opts);
    this.byNode.set(nodeId, conn);
    return conn;
  }

  /** Host and port of a broker, as the last metadata or FindCoordinator named it. */
  brokerInfo(nodeId: number): BrokerInfo | undefined {
    return this.brokers.get(nodeId);
  }

  /** A fresh, unshared connection to `nodeId` (for long-polling group requests). */
  async dedicated(nodeId: number): Promise<BrokerConnection> {
    if (!this.brokers.has(nodeId)) await this.metadata([]);
    const info = this.brokers.get(nodeId);
    if (!info) throw new ClientError(`broker ${nodeId} is not in the cluster metadata`);
    return await BrokerConnection.connect(hostPort(info.host, info.port), this.opts);
  }

  /**
   * Metadata for `topics` (null: every topic; []: brokers only). Topic errors are returned in
   * the result, not thrown, so callers decide what an unknown topic means.
   */
  async metadata(topics: string[] | null, autoCreate = false): Promise<ClusterMetadata> {
    const conn = await this.any();
    const { response: r } = await conn.requestVersioned(
      MetadataRequest,
      MetadataResponse,
      (v) => ({
        // Before v1 an empty list meant "all topics"; ask for none by name there instead.
        topics: topics === null ? (v === 0 ? [] : null) : topics.map((name) => ({ name })),
        allowAutoTopicCreation: autoCreate,
      }),
    );
    const md: ClusterMetadata = {
      clusterId: r.clusterId,
      controllerId: r.controllerId,
      brokers: r.brokers.map((b) => ({
        nodeId: b.nodeId,
        host: b.host,
        port: b.port,
        rack: b.rack,
      })),
      topics: r.topics.map((t) => ({
        // Requested by name, so every topic in the response carries one.
        name: t.name!,
        topicId: t.topicId,
        isInternal: t.isInternal,
        errorCode: t.errorCode,
        partitions: t.partitions.map((p) => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offline: p.offlineReplicas,
          errorCode: p.errorCode,
        })).sort((a, b) => a.partition - b.partition),
      })),
    };
    this.brokers = new Map(md.brokers.map((b) => [b.nodeId, b]));
    for (const t of md.topics) {
      for (const p of t.partitions) this.leaders.set(`${t.name}:${p.partition}`, p.leader);
    }
    return md;
  }

  /**
   * One topic's metadata, waiting out LEADER_NOT_AVAILABLE (a topic being created);
   * UNKNOWN_TOPIC_OR_PARTITION unless `autoCreate`.
   */
  async topic(name: string, autoCreate = false): Promise<TopicInfo> {
    for (let attempt = 0;; attempt++) {
      const md = await this.metadata([name], autoCreate);
      const t = md.topics.find((x) => x.name === name);
      const code = t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      const leaderless = t !== undefined && code === 0 && t.partitions.some((p) => p.leader < 0);
      if (code === 0 && !leaderless) return t!;
      const retriable = code === ErrorCode.LEADER_NOT_AVAILABLE || leaderless ||
        (autoCreate && code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (!retriable || attempt >= 40) {
        throw new KafkaError(
          code === 0 ? ErrorCode.LEADER_NOT_AVAILABLE : code,
          `${errorName(code === 0 ? ErrorCode.LEADER_NOT_AVAILABLE : code)}: topic '${name}'${
            code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? " does not exist" : " has no leader"
          }`,
        );
      }
      await sleep(Math.min(50 * (attempt + 1), 500));
    }
  }

  /** The leader's node id for a partition, from cached metadata (refreshed when missing). */
  async leaderOf(topic: string, partition: number): Promise<number> {
    let id = this.leaders.get(`${topic}:${partition}`);
    if (id === undefined || id < 0) {
      await this.topic(topic);
      id = this.leaders.get(`${topic}:${partition}`);
    }
    if (id === undefined || id < 0) {
      throw new KafkaError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `UNKNOWN_TOPIC_OR_PARTITION: partition ${topic}-${partition} does not exist`,
      );
    }
    return id;
  }

  /** Forgets cached leaders, so the next leaderOf reads fresh metadata. */
  invalidateLeaders(): void {
    this.leaders.clear();
  }

  /** The coordinator node for a group (or transactional id), retrying while it loads. */
  async coordinator(key: string, keyType: number = CoordinatorType.GROUP): Promise<number> {
    for (let attempt = 0;; attempt++) {
      const conn = await this.any();
      const { version, response: r } = await conn.requestVersioned(
        FindCoordinatorRequest,
        FindCoordinatorResponse,
        (v) => (v >= 4 ? { keyType, coordinatorKeys: [key] } : { key, keyType }),
      );
      const c: FindCoordinatorResponse | FindCoordinatorResponseCoordinator = version >= 4
        ? r.coordinators[0]
        : r;
      if (c.errorCode === 0) {
        this.brokers.set(c.nodeId, { nodeId: c.nodeId, host: c.host, port: c.port, rack: null });
        return c.nodeId;
      }
      if (!RETRIABLE_CODES.has(c.errorCode) || attempt >= 30) {
        throw new KafkaError(
          c.errorCode,
          `${errorName(c.errorCode)}${
            c.errorMessage ? `: ${c.errorMessage}` : ""
          } (FindCoordinator '${key}')`,
        );
      }
      await sleep(100);
    }
  }

  /** Sends to the coordinator of `group`, re-finding it on NOT_COORDINATOR and friends. */
  async toCoordinator<Req, Resp>(
    group: string,
    req: MessageSchema<Req>,
    resp: MessageSchema<Resp>,
    build: (version: number) => Encodable<Req>,
    errorOf: (response: Resp, version: number) => number,
    opts: { cap?: number } = {},
  ): Promise<{ version: number; response: Resp }> {
    for (let attempt = 0;; attempt++) {
      const conn = await this.broker(await this.coordinator(group));
      const out = await conn.requestVersioned(req, resp, build, opts);
      const code = errorOf(out.response, out.version);
      if (
        attempt < 20 &&
        (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
          code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
      ) {
        await sleep(100);
        continue;
      }
      return out;
    }
  }

  close(): void {
    this.bootstrap?.close();
    for (const c of this.byNode.values()) c.close();
    this.byNode.clear();
  }
}

export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
