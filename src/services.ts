/**
 * The narrow services a request handler sees, instead of the whole broker. Each is an
 * interface holding only what handlers use, so a handler's reach is visible in its type and
 * the broker's lifecycle (src/broker.ts) stays out of the handlers' import graph. Kafka's
 * KafkaApis is built the same way: a ReplicaManager, a MetadataCache, the coordinators, the
 * config, the metrics.
 */
import type { TopicMetadata } from "../storage/log_manager.ts";
import type { ReplicationApi } from "./replication/replication_api.ts";
import type { RefusedProduces } from "./replication/refused_produces.ts";
import type { PartitionLeadership } from "./cluster/partition_leadership.ts";
import type { TopicPlacement } from "./cluster/topic_placement.ts";
import type { OngoingReassignment, PartitionResult } from "./cluster/controller_operations.ts";
import type { BrokerConfig } from "./config.ts";
import type { FetchRead, FetchReadResult } from "./fetch_budget.ts";
import type { GroupCoordinator } from "./group/group_coordinator.ts";
import type { Metrics } from "./metrics.ts";
import type {
  AppendOutcome,
  PartitionOpArgs,
  PartitionOpName,
  PartitionOpResult,
} from "./partition_ops.ts";
import type { AuthorizerApi } from "./security/authorizer.ts";
import type { AlterationResult, QuotaAlteration } from "./quota/client_quota_manager.ts";
import type { QuotaEntry, QuotaFilterComponent } from "./quota/client_quotas.ts";
import type { ScramCredentialStore } from "./security/scram_credential_store.ts";
import type { TransactionCoordinator } from "./txn/mod.ts";

/** A partition a fetch waits on: topic, partition, the high watermark its last read saw. */
export type WatchedPartition = [string, number, number];

/** Partition data wherever its log is open: append and fetch routing, the long poll. */
export interface ReplicaManagerApi {
  /** Produces refused for not leading (yet), whose pipelined successors wait for them. */
  readonly refusedProduces?: RefusedProduces;
  /** Whether the catalogue has this partition (wherever its log is open). */
  hasPartition(topic: string, partition: number): boolean;
  /** Runs a partition operation (src/partition_ops.ts) on the partition's owner. */
  partitionOp<K extends PartitionOpName>(
    topic: string,
    partition: number,
    name: K,
    args: PartitionOpArgs<K>,
  ): Promise<PartitionOpResult<K>>;
  /** Reads a Fetch's partitions under the response's byte budget (see fetch_budget.ts). */
  fetchMessages(
    reads: FetchRead[],
    maxBytes: number,
    committed: boolean,
    remoteWaitMs: number,
  ): Promise<FetchReadResult[]>;
  /** Resolves on the first append to any of `parts`, or after `ms` (the Fetch long poll). */
  waitForAppend(parts: WatchedPartition[], ms: number): Promise<void>;
  /**
   * Appends a transaction marker (a control batch) as the coordinator would; throws a
   * KafkaError with the append's code on failure.
   */
  appendMarker(topic: string, partition: number, batch: Uint8Array): Promise<void>;
  /** Appends a transactional producer's batch once the coordinator has verified it. */
  transactionalAppend(
    transactionalId: string,
    topic: string,
    partition: number,
    records: Uint8Array,
    apiVersion: number,
  ): Promise<AppendOutcome>;
  /** `remote.fetch.max.wait.ms`: how long a fetch waits on the cold tier. */
  readonly remoteFetchMaxWaitMs: number;
  /** Replication (a cluster member without workers); undefined: every partition alone. */
  readonly replication?: ReplicationApi;
  /** The log directory (one per broker). */
  readonly dataDir: string;
}

/** The topic catalogue and this broker's identity, as Metadata answers them. */
export interface MetadataCache {
  topic(name: string): TopicMetadata | undefined;
  topicById(id: string): TopicMetadata | undefined;
  topics(): TopicMetadata[];
  readonly nodeId: number;
  readonly clusterId: string;
  readonly advertisedHost: string;
  readonly advertisedPort: number;
  /** The advertised host and port of listener `name` (the first listener's if unknown). */
  endpoint(name: string): { host: string; port: number };
}

/** Topic creation, deletion, growth and topic configs (CreateTopics, DeleteTopics, ...). */
export interface TopicAdminApi {
  createTopic(
    name: string,
    numPartitions: number,
    configs?: Iterable<[string, string | null]>,
    validateOnly?: boolean,
    maxPartitions?: number,
    placement?: TopicPlacement,
  ): Promise<TopicMetadata | null>;
  /** Creates `name` with broker defaults if auto-creation is on; undefined otherwise. */
  autoCreateTopic(name: string): Promise<TopicMetadata | undefined>;
  deleteTopic(name: string): Promise<void>;
  createPartitions(
    name: string,
    count: number,
    maxPartitions?: number,
    assignments?: number[][] | null,
  ): Promise<TopicMetadata>;
  alterTopicConfigs(
    name: string,
    entries: Iterable<[string, string | null]>,
    validateOnly?: boolean,
  ): TopicMetadata | null;
  /** Resolves once every change made so far has reached the other workers. */
  propagated(): Promise<void>;
}

/** Leader elections and replica reassignments (ElectLeaders, Alter/ListPartitionReassignments). */
export interface ReplicaAdminApi {
  /** Election type 0 preferred, 1 unclean; null partitions: all. */
  electLeaders(
    type: number,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<PartitionResult[]>;
  /** Target replicas per partition; null replicas cancel a reassignment under way. */
  alterPartitionReassignments(
    requests: { topic: string; partition: number; replicas: number[] | null }[],
  ): Promise<PartitionResult[]>;
  /** The reassignments under way (of the partitions given, or all). */
  listPartitionReassignments(
    partitions: { topic: string; partition: number }[] | null,
  ): OngoingReassignment[];
}

/** Dynamic broker configs (AlterConfigs on a broker resource). */
export interface DynamicConfigApi {
  alterBrokerConfigs(
    changes: [string, string | null][],
    scope: "broker" | "default",
    validateOnly?: boolean,
  ): void;
}

/** The client quota table (DescribeClientQuotas, AlterClientQuotas). */
export interface ClientQuotaApi {
  /** Throws QuotaError for a filter Kafka refuses. */
  describe(components: QuotaFilterComponent[], strict: boolean): QuotaEntry[];
  /** Resolves once the valid alterations are durable and every worker enforces them. */
  alter(alterations: QuotaAlteration[], validateOnly: boolean): Promise<AlterationResult[]>;
}

/** One ApiVersions entry. */
export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
  name: string;
}

/** Everything a handler may use. */
export interface BrokerServices {
  readonly replicaManager: ReplicaManagerApi;
  readonly metadataCache: MetadataCache;
  /** Who leads which partition, the brokers, the controller (one broker, or the cluster). */
  readonly leadership: PartitionLeadership;
  readonly topicAdmin: TopicAdminApi;
  readonly replicaAdmin: ReplicaAdminApi;
  readonly dynamicConfig: DynamicConfigApi;
  readonly groups: GroupCoordinator;
  readonly transactions: TransactionCoordinator;
  readonly clientQuotas: ClientQuotaApi;
  readonly config: BrokerConfig;
  readonly metrics: Metrics;
  /** The ACL authorizer (allow-all without `authorizer.class.name`). */
  readonly authorizer: AuthorizerApi;
  /** Producer ids for idempotent producers (allocated by the controller). */
  readonly producerIds: { next(): Promise<number> };
  /** The ApiVersions list, from the handler registry. */
  apiVersions(): ApiVersionRange[];
  /** SCRAM credentials (AlterUserScramCredentials, DescribeUserScramCredentials). */
  readonly scramCredentials: ScramCredentialStore;
}
