/**
 * What the admin API reads and changes of the broker. Declared here rather than importing
 * src/broker.ts, so the broker's lifecycle (which starts the admin server) and the admin
 * routes do not form an import cycle.
 */
import type { LogManager, TopicMetadata } from "../../storage/log_manager.ts";
import type { GroupCoordinator } from "../group/group_coordinator.ts";
import type { FaultInjector } from "../faults.ts";
import type { KafkaApis } from "../kafka_apis.ts";
import type { Metrics } from "../metrics.ts";
import type { HandlerRegistry } from "../registry.ts";
import type { RemoteLogManager } from "../../storage/remote_log_manager.ts";
import type { ReplicaManager } from "../replica_manager.ts";
import type { BrokerServices } from "../services.ts";
import type { TopicAdmin } from "../topic_admin.ts";
import type { Propagation } from "../workers/propagation.ts";

export interface AdminHost {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly advertisedHost: string;
  readonly advertisedPort: number;
  readonly startedAt: number;
  readonly isClosing: boolean;
  readonly logs: LogManager;
  readonly groups: GroupCoordinator;
  readonly replicaManager: ReplicaManager;
  readonly topicAdmin: TopicAdmin;
  readonly propagation: Propagation;
  readonly registry: HandlerRegistry;
  readonly services: BrokerServices;
  readonly apis: KafkaApis;
  /** Fault injection (the /v1/faults routes). */
  readonly faults: FaultInjector;
  topic(name: string): TopicMetadata | undefined;
  topics(): TopicMetadata[];
  /** Counters summed over every worker. */
  stats(): Promise<{ metrics: Metrics; remote: RemoteLogManager["stats"] }>;
}
