/**
 * WriteTxnMarkers (key 27), v0–1.
 * Behaviour: a transaction coordinator (on another broker of the cluster) asks this broker to
 * end a producer's transaction on partitions it leads. Each marker is appended as a control
 * batch (COMMIT or ABORT, with the coordinator epoch) with the coordinator's origin, so the
 * partition's producer state closes the transaction and the last stable offset moves, exactly
 * as for a marker the local coordinator writes. Per partition, as Kafka's KafkaApis does: a
 * partition the catalogue does not have gets UNKNOWN_TOPIC_OR_PARTITION, one this broker does
 * not lead NOT_LEADER_OR_FOLLOWER (the coordinator retries at the new leader); an append
 * failure keeps its code (CORRUPT_MESSAGE, KAFKA_STORAGE_ERROR, ...), and a marker whose
 * coordinator epoch is older than the last one the producer got there is refused with
 * TRANSACTION_COORDINATOR_FENCED (a stale coordinator's late marker). A negative producer id
 * or epoch cannot belong to a transaction: INVALID_PRODUCER_ID_MAPPING /
 * INVALID_PRODUCER_EPOCH, nothing written. Once a `__consumer_offsets` marker is written the
 * group coordinator applies (commit) or drops (abort) the producer's pending offsets.
 * Authorization (with an authorizer, as Kafka): CLUSTER_ACTION on the cluster (brokers'
 * principals are super users), else every partition gets CLUSTER_AUTHORIZATION_FAILED.
 * Version notes: v1 is flexible; the fields are the same.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  WriteTxnMarkersRequest,
  type WriteTxnMarkersRequestWritableTxnMarker,
  WriteTxnMarkersResponse,
  type WriteTxnMarkersResponseWritableTxnMarkerResult,
} from "../../protocol/messages/mod.ts";
import { GROUP_METADATA_TOPIC } from "../group/group_metadata_log.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import type { BrokerServices } from "../services.ts";
import { endTxnMarkerBatch } from "../txn/txn_log_store.ts";
import { errorCodeOf } from "./util.ts";

async function writeOne(
  services: BrokerServices,
  m: WriteTxnMarkersRequestWritableTxnMarker,
  topic: string,
  partition: number,
): Promise<number> {
  if (m.producerId < 0) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
  if (m.producerEpoch < 0) return ErrorCode.INVALID_PRODUCER_EPOCH;
  if (!services.replicaManager.hasPartition(topic, partition)) {
    return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }
  const leadership = services.leadership;
  if (leadership.leaderOf(topic, partition)?.leaderId !== leadership.localNodeId) {
    return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  }
  const records = endTxnMarkerBatch(
    m.producerId,
    m.producerEpoch,
    m.transactionResult,
    m.coordinatorEpoch,
  );
  try {
    await services.replicaManager.appendMarker(topic, partition, records);
    return ErrorCode.NONE;
  } catch (e) {
    return errorCodeOf(e, `write transaction marker to ${topic}-${partition}`);
  }
}

async function writeMarker(
  services: BrokerServices,
  m: WriteTxnMarkersRequestWritableTxnMarker,
): Promise<WriteTxnMarkersResponseWritableTxnMarkerResult> {
  const topics = await Promise.all(m.topics.map(async (t) => ({
    name: t.name,
    partitions: await Promise.all(t.partitionIndexes.map(async (partitionIndex) => ({
      partitionIndex,
      errorCode: await writeOne(services, m, t.name, partitionIndex),
    }))),
  })));
  const offsets = topics
    .filter((t) => t.name === GROUP_METADATA_TOPIC)
    .flatMap((t) =>
      t.partitions
        .filter((p) => p.errorCode === ErrorCode.NONE)
        .map((p) => ({ topic: t.name, partition: p.partitionIndex }))
    );
  if (offsets.length > 0) {
    services.groups.onTransactionCompleted(m.producerId, offsets, m.transactionResult);
  }
  return { producerId: m.producerId, topics };
}

export const writeTxnMarkers = defineApi({
  apiKey: 27,
  name: "WriteTxnMarkers",
  minVersion: 0,
  maxVersion: 1,
  request: WriteTxnMarkersRequest,
  response: WriteTxnMarkersResponse,
  handler: async (req, ctx) => {
    const services = ctx.services;
    if (
      !services.authorizer.authorize(
        ctx,
        AclOperation.CLUSTER_ACTION,
        ResourceType.CLUSTER,
        CLUSTER_NAME,
      )
    ) {
      return {
        markers: req.markers.map((m) => ({
          producerId: m.producerId,
          topics: m.topics.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => ({
              partitionIndex,
              errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            })),
          })),
        })),
      };
    }
    // One marker after the other: two markers of one producer must land in request order.
    const markers: WriteTxnMarkersResponseWritableTxnMarkerResult[] = [];
    for (const m of req.markers) markers.push(await writeMarker(services, m));
    return { markers };
  },
});
