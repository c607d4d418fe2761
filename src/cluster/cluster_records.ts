/**
 * What a cluster keeps in the metadata store, and where: the key layout under `etcd.prefix`
 * and the JSON records, in the roles ZooKeeper's znodes had for Kafka (/cluster/id,
 * /brokers/ids/<id>, /controller, /controller_epoch, /brokers/topics/<t>, and the partition
 * state znodes).
 *
 *   cluster_id                 the cluster id, created by the first broker
 *   brokers/<id>               a live broker's registration, under its lease
 *   controller                 the elected controller, under its lease
 *   controller_epoch           bumped by each newly elected controller
 *   topics/<name>              topic id, partition count, config overrides
 *   partitions/<name>/<p>      leader, leader epoch, replicas, ISR, partition epoch, and the
 *                              adding/removing replicas of a reassignment in progress
 *   config/users/<user>        SCRAM credentials (salt, StoredKey, ServerKey, iterations)
 *   kafka-acl/<Literal|Prefixed>/<Type>/<name>   the ACLs of one resource pattern
 *   config/quotas/<entity>     client quotas: users/<u>[/clients/<c>], clients/<c>, ips/<ip>
 *
 * The last three (src/security/metadata_security_store.ts, src/quota/metadata_quota_store.ts)
 * are written by any broker with compare-and-swap, as ZooKeeper-era brokers and tools wrote
 * /config and /kafka-acl, and followed by every broker's watch; names in them are URI-encoded.
 */
import type { TopicConfigValue } from "../../storage/log_manager.ts";
import { type KeyValue, valueText } from "./metadata_store.ts";

export const CLUSTER_ID_KEY = "cluster_id";
export const CONTROLLER_KEY = "controller";
export const CONTROLLER_EPOCH_KEY = "controller_epoch";
export const BROKERS_PREFIX = "brokers/";
export const TOPICS_PREFIX = "topics/";
export const PARTITIONS_PREFIX = "partitions/";

export interface BrokerRegistration {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /** Kafka's listeners, as `name://host:port`. */
  listeners: string[];
  /** Random per process start: tells a restarted broker from the one before it. */
  incarnationId: string;
  /**
   * Its Deno workers, when more than one: which worker owns a partition there
   * (src/workers/ownership.ts), so a follower's fetch names partitions of one owner.
   */
  workers?: number;
}

export interface ControllerRecord {
  nodeId: number;
  epoch: number;
}

export interface TopicRecord {
  name: string;
  topicId: string;
  partitions: number;
  configs: Record<string, TopicConfigValue>;
}

/**
 * Kafka's PartitionRegistration (the ZooKeeper-era LeaderAndIsr with the replica assignment).
 * The controller writes it on elections, replica changes and broker loss; the partition's
 * leader writes only ISR changes, by compare-and-swap on the key's modRevision.
 */
export interface PartitionState {
  /** -1 while no live replica leads. */
  leader: number;
  /** Bumped by the controller on every leader change. */
  leaderEpoch: number;
  /** The assigned replicas, the preferred leader first. */
  replicas: number[];
  /** In-sync replicas; never empty (the last leader stays when all are gone, as in Kafka). */
  isr: number[];
  /** Bumped on every change of this record (Kafka's partition epoch). */
  partitionEpoch: number;
  /** Replicas a reassignment in progress adds (absent or empty: none). */
  addingReplicas?: number[];
  /** Replicas a reassignment in progress removes once the adding ones are in sync. */
  removingReplicas?: number[];
}

export const brokerKey = (id: number) => `${BROKERS_PREFIX}${id}`;
export const topicKey = (name: string) => `${TOPICS_PREFIX}${name}`;
export const partitionsPrefix = (topic: string) => `${PARTITIONS_PREFIX}${topic}/`;
export const partitionKey = (topic: string, p: number) => `${partitionsPrefix(topic)}${p}`;

/** Parses `partitions/<topic>/<p>`; null for any other key. */
export function parsePartitionKey(key: string): { topic: string; partition: number } | null {
  if (!key.startsWith(PARTITIONS_PREFIX)) return null;
  const rest = key.slice(PARTITIONS_PREFIX.length);
  const slash = rest.lastIndexOf("/");
  if (slash <= 0) return null;
  const partition = Number(rest.slice(slash + 1));
  if (!Number.isInteger(partition) || partition < 0) return null;
  return { topic: rest.slice(0, slash), partition };
}

export function jsonOf<T>(kv: KeyValue): T {
  return JSON.parse(valueText(kv)) as T;
}
