/**
 * Admin operations: topics (create, delete, partitions, configs), groups (list, describe,
 * delete) and the cluster (DescribeCluster, falling back to Metadata on brokers without it).
 * Every broker error comes back as a KafkaError carrying Kafka's code, name and message.
 */
import {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeClusterRequest,
  DescribeClusterResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  ListGroupsRequest,
  ListGroupsResponse,
} from "../../protocol/messages/mod.ts";
import { Reader } from "../../protocol/primitives.ts";
import { codecFor } from "../../protocol/schema.ts";
import { ConsumerProtocolAssignment } from "../../protocol/messages/mod.ts";
import type { BrokerInfo, KafkaClient } from "./client.ts";
import { throwIfError } from "./errors.ts";

/** DescribeConfigs / IncrementalAlterConfigs resource types. */
export const ResourceType = { TOPIC: 2, BROKER: 4 } as const;
/** IncrementalAlterConfigs operations. */
export const ConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
/** DescribeConfigs config sources (Kafka's DescribeConfigsResponse.ConfigSource ids). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

const TIMEOUT_MS = 30_000;

export interface ConfigEntry {
  name: string;
  value: string | null;
  source: number;
  readOnly: boolean;
  isSensitive: boolean;
}

export async function createTopic(
  client: KafkaClient,
  name: string,
  partitions: number,
  replicationFactor: number,
  configs: Record<string, string>,
  assignments: number[][] = [],
): Promise<void> {
  const conn = await client.any();
  const r = await conn.request(CreateTopicsRequest, CreateTopicsResponse, {
    topics: [{
      name,
      numPartitions: assignments.length > 0 ? -1 : partitions,
      replicationFactor: assignments.length > 0 ? -1 : replicationFactor,
      assignments: assignments.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
      configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
    }],
    timeoutMs: TIMEOUT_MS,
    validateOnly: false,
  }, { extraTimeoutMs: TIMEOUT_MS });
  for (const t of r.topics) throwIfError(t.errorCode, t.errorMessage, `topic '${name}'`);
}

export async function deleteTopic(client: KafkaClient, name: string): Promise<void> {
  const conn = await client.any();
  const { response: r } = await conn.requestVersioned(
    DeleteTopicsRequest,
    DeleteTopicsResponse,
    (v) => (v >= 6 ? { topics: [{ name }] } : { topicNames: [name] }),
    { extraTimeoutMs: TIMEOUT_MS },
  );
  for (const t of r.responses) {
    throwIfError(t.errorCode, t.errorMessage, `topic '${name}'`);
  }
}

export async function createPartitions(
  client: KafkaClient,
  name: string,
  count: number,
  assignments: number[][] | null = null,
): Promise<void> {
  const conn = await client.any();
  const r = await conn.request(CreatePartitionsRequest, CreatePartitionsResponse, {
    topics: [{
      name,
      count,
      assignments: assignments?.map((brokerIds) => ({ brokerIds })) ?? null,
    }],
    timeoutMs: TIMEOUT_MS,
    validateOnly: false,
  }, { extraTimeoutMs: TIMEOUT_MS });
  for (const t of r.results) throwIfError(t.errorCode, t.errorMessage, `topic '${name}'`);
}

export async function describeConfigs(
  client: KafkaClient,
  resourceType: number,
  name: string,
): Promise<ConfigEntry[]> {
  const conn = await client.any();
  const r = await conn.request(DescribeConfigsRequest, DescribeConfigsResponse, {
    resources: [{ resourceType, resourceName: name, configurationKeys: null }],
    includeSynonyms: false,
    includeDocumentation: false,
  });
  const res = r.results[0];
  throwIfError(res.errorCode, res.errorMessage, `configs of '${name}'`);
  return res.configs.map((c) => ({
    name: c.name,
    value: c.value,
    // v0 has no source, only isDefault.
    source: c.configSource >= 0
      ? c.configSource
      : (c.isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.DYNAMIC_TOPIC_CONFIG),
    readOnly: c.readOnly,
    isSensitive: c.isSensitive,
  }));
}

export async function alterConfigs(
  client: KafkaClient,
  resourceType: number,
  name: string,
  set: Record<string, string>,
  remove: string[],
): Promise<void> {
  const conn = await client.any();
  const r = await conn.request(IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, {
    resources: [{
      resourceType,
      resourceName: name,
      configs: [
        ...Object.entries(set).map(([k, v]) => ({
          name: k,
          configOperation: ConfigOp.SET,
          value: v,
        })),
        ...remove.map((k) => ({ name: k, configOperation: ConfigOp.DELETE, value: null })),
      ],
    }],
    validateOnly: false,
  });
  for (const x of r.responses) {
    throwIfError(x.errorCode, x.errorMessage, `configs of '${name}'`);
  }
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  state: string;
  type: string;
}

/** Groups of every broker (each broker lists the groups it coordinates). */
export async function listGroups(client: KafkaClient): Promise<ListedGroup[]> {
  const md = await client.metadata([]);
  const out = new Map<string, ListedGroup>();
  for (const b of md.brokers) {
    const conn = await client.broker(b.nodeId);
    const r = await conn.request(ListGroupsRequest, ListGroupsResponse, {
      statesFilter: [],
      typesFilter: [],
    });
    throwIfError(r.errorCode, null, `ListGroups on broker ${b.nodeId}`);
    for (const g of r.groups) {
      out.set(g.groupId, {
        groupId: g.groupId,
        protocolType: g.protocolType,
        state: g.groupState ?? "",
        type: g.groupType ?? "",
      });
    }
  }
  return [...out.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  assignment: { topic: string; partition: number }[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberDescription[];
}

function decodeAssignment(data: Uint8Array | null): { topic: string; partition: number }[] {
  if (!data || data.length < 2) return [];
  try {
    const r = new Reader(data);
    const version = Math.min(Math.max(r.int16(), 0), 3);
    const a = codecFor(ConsumerProtocolAssignment, version).decode(r);
    return a.assignedPartitions.flatMap((tp) =>
      tp.partitions.map((partition) => ({ topic: tp.topic, partition }))
    );
  } catch {
    return []; // not a consumer-protocol assignment (e.g. Connect)
  }
}

export async function describeGroup(client: KafkaClient, group: string): Promise<GroupDescription> {
  const { response: r } = await client.toCoordinator(
    group,
    DescribeGroupsRequest,
    DescribeGroupsResponse,
    () => ({ groups: [group], includeAuthorizedOperations: false }),
    (resp) => resp.groups[0].errorCode,
  );
  const g = r.groups[0];
  throwIfError(g.errorCode, null, `group '${group}'`);
  return {
    groupId: g.groupId,
    state: g.groupState,
    protocolType: g.protocolType,
    protocol: g.protocolData,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: g.protocolType === "consumer" ? decodeAssignment(m.memberAssignment) : [],
    })),
  };
}

export async function deleteGroup(client: KafkaClient, group: string): Promise<void> {
  const { response: r } = await client.toCoordinator(
    group,
    DeleteGroupsRequest,
    DeleteGroupsResponse,
    () => ({ groupsNames: [group] }),
    (resp) => resp.results[0].errorCode,
  );
  for (const x of r.results) throwIfError(x.errorCode, null, `group '${group}'`);
}

export interface ClusterDescription {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
}

export async function describeCluster(client: KafkaClient): Promise<ClusterDescription> {
  const conn = await client.any();
  if (conn.apis.has(DescribeClusterRequest.apiKey!)) {
    const r = await conn.request(DescribeClusterRequest, DescribeClusterResponse, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
    });
    throwIfError(r.errorCode, r.errorMessage, "DescribeCluster");
    return {
      clusterId: r.clusterId,
      controllerId: r.controllerId,
      brokers: r.brokers.map((b) => ({
        nodeId: b.brokerId,
        host: b.host,
        port: b.port,
        rack: b.rack,
      })),
    };
  }
  const md = await client.metadata([]);
  return { clusterId: md.clusterId, controllerId: md.controllerId, brokers: md.brokers };
}
