/**
 * FindCoordinator (key 10), v0–6.
 * Behaviour: a group's coordinator (key type 0) is the leader of its `__consumer_offsets`
 * partition, a transactional id's (key type 1) the leader of its `__transaction_state`
 * partition (Kafka's partitionFor: hash of the key modulo the topic's partitions), as
 * Leadership reports them: on a single broker that is always this one
 * (`__transaction_state` is created by the first transactional InitProducerId). While the
 * partition has no live leader, or this broker's catalogue does not have the topic yet (in a
 * cluster it follows the metadata a little behind the leaders), COORDINATOR_NOT_AVAILABLE,
 * which clients retry; when the topic does not exist yet it is created meanwhile. Other key types get INVALID_REQUEST.
 * Authorization (with an authorizer, as Kafka): DESCRIBE on the group
 * (GROUP_AUTHORIZATION_FAILED) or on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 * Version notes: v0 has no key type (always a group); v1+ key type and error message;
 * v3+ flexible; v4+ batches several keys in `coordinatorKeys` and answers per key in
 * `coordinators` instead of the top-level fields.
 * librdkafka also reads support of this API as "the broker can do LZ4", so it must be served.
 */
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "../../protocol/messages/mod.ts";
import { GROUP_METADATA_TOPIC } from "../group/group_metadata_log.ts";
import { partitionFor } from "../internal_topic.ts";
import { log } from "../log.ts";
import type { BrokerServices } from "../services.ts";
import { defineApi, type RequestContext } from "../registry.ts";
import { AclOperation } from "../security/acl_binding.ts";
import {
  GROUP_AUTHORIZATION_FAILED,
  groupAllowed,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  transactionalIdAllowed,
} from "./authorization.ts";
import { TRANSACTION_STATE_TOPIC } from "../txn/transaction_log.ts";
import { brokerOn } from "./util.ts";

const GROUP = 0;
const TRANSACTION = 1;

function failed(key: string, errorCode: number) {
  return { key, nodeId: -1, host: "", port: -1, errorCode, errorMessage: errorName(errorCode) };
}

/** The internal topic partition holding `key`'s coordinator state. */
function coordinatorPartition(services: BrokerServices, key: string, keyType: number) {
  if (keyType === TRANSACTION) {
    return { topic: TRANSACTION_STATE_TOPIC, partition: services.transactions.partitionFor(key) };
  }
  const partitions = services.metadataCache.topic(GROUP_METADATA_TOPIC)?.partitions ??
    services.config.int("offsets.topic.num.partitions");
  return { topic: GROUP_METADATA_TOPIC, partition: partitionFor(key, partitions) };
}

/**
 * Creates the coordinators' topic in the background, as Kafka's FindCoordinator does, when
 * the metadata knows no leader because the topic does not exist yet (cluster mode; a single
 * broker leads everything and creates it on first use).
 */
function createInternalTopic(services: BrokerServices, topic: string): void {
  services.topicAdmin.createTopic(topic, -1).catch((e) => {
    if (e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS) return;
    log.warn(`creating ${topic} for FindCoordinator failed: ${(e as Error).message ?? e}`);
  });
}

function lookup(ctx: RequestContext, key: string, keyType: number) {
  const services = ctx.services;
  const denied = (errorCode: number, errorMessage: string) => ({
    key,
    nodeId: -1,
    host: "",
    port: -1,
    errorCode,
    errorMessage,
  });
  if (keyType === GROUP && !groupAllowed(ctx, AclOperation.DESCRIBE, key)) {
    return denied(ErrorCode.GROUP_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED);
  }
  if (keyType === TRANSACTION && !transactionalIdAllowed(ctx, AclOperation.DESCRIBE, key)) {
    return denied(
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
  }
  if (keyType !== GROUP && keyType !== TRANSACTION) return failed(key, ErrorCode.INVALID_REQUEST);
  const { topic, partition } = coordinatorPartition(services, key, keyType);
  const leadership = services.leadership;
  const leader = leadership.leaderOf(topic, partition);
  if (leader?.leaderId === leadership.localNodeId) {
    // The coordinator's endpoint on the listener the request came in on.
    const { host, port } = services.metadataCache.endpoint(ctx.session.listenerName);
    return {
      key,
      nodeId: services.metadataCache.nodeId,
      host,
      port,
      errorCode: 0,
      errorMessage: null,
    };
  }
  const known = services.metadataCache.topic(topic) !== undefined;
  if (!leader && !known) createInternalTopic(services, topic);
  const remote = leader && leader.leaderId >= 0 ? leadership.broker(leader.leaderId) : undefined;
  // The coordinator's endpoint on the client's listener: one without it is not available to
  // this client, as in Kafka.
  const endpoint = remote && brokerOn(services, remote, ctx.session.listenerName);
  // A remote leader counts once this broker's catalogue has the topic too, so FindCoordinator
  // never names a coordinator of a topic this broker's Metadata still calls unknown.
  if (!remote || !endpoint || !known) return failed(key, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  return {
    key,
    nodeId: remote.nodeId,
    host: endpoint.host,
    port: endpoint.port,
    errorCode: 0,
    errorMessage: null,
  };
}

export const findCoordinator = defineApi({
  apiKey: 10,
  name: "FindCoordinator",
  minVersion: 0,
  maxVersion: 6,
  request: FindCoordinatorRequest,
  response: FindCoordinatorResponse,
  handler: (req, ctx) => {
    const apiVersion = ctx.apiVersion;
    const keyType = req.keyType ?? GROUP;
    if (apiVersion >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: req.coordinatorKeys.map((k) => lookup(ctx, k, keyType)),
      };
    }
    // Before v4 the coordinator's fields are the response's own; `key` is no field there.
    const { key: _key, ...c } = lookup(ctx, req.key, keyType);
    return { throttleTimeMs: 0, ...c };
  },
});
