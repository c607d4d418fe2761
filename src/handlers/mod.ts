/** Every API this broker serves; the registry built from this list drives ApiVersions. */
import type { AnyApiRegistration, HandlerRegistry } from "../registry.ts";
import { addOffsetsToTxn } from "./add_offsets_to_txn.ts";
import { addPartitionsToTxn } from "./add_partitions_to_txn.ts";
import { alterClientQuotas } from "./alter_client_quotas.ts";
import { alterUserScramCredentials } from "./alter_user_scram_credentials.ts";
import { alterConfigs } from "./alter_configs.ts";
import { alterPartitionReassignments } from "./alter_partition_reassignments.ts";
import { apiVersions } from "./api_versions.ts";
import { consumerGroupDescribe } from "./consumer_group_describe.ts";
import { consumerGroupHeartbeat } from "./consumer_group_heartbeat.ts";
import { createAcls } from "./create_acls.ts";
import { createPartitions } from "./create_partitions.ts";
import { createTopics } from "./create_topics.ts";
import { deleteAcls } from "./delete_acls.ts";
import { deleteGroups } from "./delete_groups.ts";
import { deleteRecords } from "./delete_records.ts";
import { deleteTopics } from "./delete_topics.ts";
import { describeAcls } from "./describe_acls.ts";
import { describeClientQuotas } from "./describe_client_quotas.ts";
import { describeCluster } from "./describe_cluster.ts";
import { describeConfigs } from "./describe_configs.ts";
import { describeGroups } from "./describe_groups.ts";
import { describeLogDirs } from "./describe_log_dirs.ts";
import { describeProducers } from "./describe_producers.ts";
import { describeTopicPartitions } from "./describe_topic_partitions.ts";
import { describeTransactions } from "./describe_transactions.ts";
import { describeUserScramCredentials } from "./describe_user_scram_credentials.ts";
import { electLeaders } from "./elect_leaders.ts";
import { endTxn } from "./end_txn.ts";
import { fetch } from "./fetch.ts";
import { findCoordinator } from "./find_coordinator.ts";
import { heartbeat } from "./heartbeat.ts";
import { incrementalAlterConfigs } from "./incremental_alter_configs.ts";
import { initProducerId } from "./init_producer_id.ts";
import { joinGroup } from "./join_group.ts";
import { leaveGroup } from "./leave_group.ts";
import { listGroups } from "./list_groups.ts";
import { listOffsets } from "./list_offsets.ts";
import { listPartitionReassignments } from "./list_partition_reassignments.ts";
import { listTransactions } from "./list_transactions.ts";
import { metadata } from "./metadata.ts";
import { offsetCommit } from "./offset_commit.ts";
import { offsetDelete } from "./offset_delete.ts";
import { offsetFetch } from "./offset_fetch.ts";
import { offsetForLeaderEpoch } from "./offset_for_leader_epoch.ts";
import { produce } from "./produce.ts";
import { saslAuthenticate } from "./sasl_authenticate.ts";
import { saslHandshake } from "./sasl_handshake.ts";
import { syncGroup } from "./sync_group.ts";
import { txnOffsetCommit } from "./txn_offset_commit.ts";
import { writeTxnMarkers } from "./write_txn_markers.ts";

export const HANDLERS: AnyApiRegistration[] = [
  // retention and runtime configuration
  deleteRecords,
  alterConfigs,
  incrementalAlterConfigs,
  produce,
  fetch,
  listOffsets,
  metadata,
  findCoordinator,
  offsetForLeaderEpoch,
  apiVersions,
  createTopics,
  deleteTopics,
  initProducerId,
  describeConfigs,
  createPartitions,
  describeCluster,
  describeTopicPartitions,
  offsetCommit,
  offsetFetch,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
  deleteGroups,
  offsetDelete,
  // consumer group protocol (KIP-848)
  consumerGroupHeartbeat,
  consumerGroupDescribe,
  // transactions (src/txn/)
  addPartitionsToTxn,
  addOffsetsToTxn,
  endTxn,
  writeTxnMarkers,
  txnOffsetCommit,
  describeProducers,
  describeTransactions,
  listTransactions,
  // log dirs and ACLs (without an authorizer the ACL APIs answer SECURITY_DISABLED, as Kafka)
  describeLogDirs,
  describeAcls,
  createAcls,
  deleteAcls,
  // client quotas (src/quota/)
  describeClientQuotas,
  alterClientQuotas,
  // SASL (the exchange itself is the connection's, src/security/sasl_authenticator.ts)
  saslHandshake,
  saslAuthenticate,
  describeUserScramCredentials,
  alterUserScramCredentials,
  // replication: elections and reassignments (src/cluster/controller_operations.ts)
  electLeaders,
  alterPartitionReassignments,
  listPartitionReassignments,
];

export function registerHandlers(registry: HandlerRegistry): void {
  for (const h of HANDLERS) registry.register(h);
}
