/**
 * The `__consumer_offsets` records of consumer-protocol (KIP-848) groups, in Kafka's own
 * formats (group-coordinator's ConsumerGroup*Key/Value.json), so that the log reads as a
 * Kafka broker's would and Kafka's tools decode it:
 *
 * | key version | key (fields)                                    | value (v0, flexible)          |
 * |-------------|-------------------------------------------------|-------------------------------|
 * | 3           | ConsumerGroupMetadataKey (group)                | epoch: the group epoch        |
 * | 4           | ConsumerGroupPartitionMetadataKey (group)       | subscribed topics' metadata   |
 * | 5           | ConsumerGroupMemberMetadataKey (group, member)  | subscription, client, timeout |
 * | 6           | ConsumerGroupTargetAssignmentMetadataKey (group)| the assignment epoch          |
 * | 7           | ConsumerGroupTargetAssignmentMemberKey (group, member) | the member's target    |
 * | 8           | ConsumerGroupCurrentMemberAssignmentKey (group, member) | epochs, state, owned  |
 *
 * One key per group or per member, so compaction keeps exactly the latest state; a null
 * value (tombstone) removes the key's state (a member that left, a deleted group).
 */
import { ProtocolError } from "../../protocol/errors.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { codecFor, type FieldSchema, type MessageSchema } from "../../protocol/schema.ts";
import type { MemberState } from "./consumer_group.ts";

function keySchema(name: string, version: number, withMember: boolean): MessageSchema {
  const v = String(version);
  const fields: FieldSchema[] = [{ name: "groupId", type: "string", versions: v }];
  if (withMember) fields.push({ name: "memberId", type: "string", versions: v });
  return { name, type: "data", validVersions: v, flexibleVersions: "none", fields };
}

/** Key versions of the consumer group records. */
export const CONSUMER_GROUP_KEY_VERSIONS = {
  groupMetadata: 3,
  partitionMetadata: 4,
  memberMetadata: 5,
  targetAssignmentMetadata: 6,
  targetAssignmentMember: 7,
  currentMemberAssignment: 8,
} as const;

export type ConsumerGroupRecordType = keyof typeof CONSUMER_GROUP_KEY_VERSIONS;

const KEYS: Record<ConsumerGroupRecordType, MessageSchema> = {
  groupMetadata: keySchema("ConsumerGroupMetadataKey", 3, false),
  partitionMetadata: keySchema("ConsumerGroupPartitionMetadataKey", 4, false),
  memberMetadata: keySchema("ConsumerGroupMemberMetadataKey", 5, true),
  targetAssignmentMetadata: keySchema("ConsumerGroupTargetAssignmentMetadataKey", 6, false),
  targetAssignmentMember: keySchema("ConsumerGroupTargetAssignmentMemberKey", 7, true),
  currentMemberAssignment: keySchema("ConsumerGroupCurrentMemberAssignmentKey", 8, true),
};

const TYPE_BY_VERSION = new Map<number, ConsumerGroupRecordType>(
  Object.entries(CONSUMER_GROUP_KEY_VERSIONS).map(([t, v]) => [v, t as ConsumerGroupRecordType]),
);

function valueSchema(name: string, fields: FieldSchema[]): MessageSchema {
  return { name, type: "data", validVersions: "0", flexibleVersions: "0+", fields };
}

const topicPartitions = (name: string): FieldSchema => ({
  name,
  type: "[]TopicPartitions",
  versions: "0+",
  fields: [
    { name: "topicId", type: "uuid", versions: "0+" },
    { name: "partitions", type: "[]int32", versions: "0+" },
  ],
});

const VALUES: Record<ConsumerGroupRecordType, MessageSchema> = {
  groupMetadata: valueSchema("ConsumerGroupMetadataValue", [
    { name: "epoch", type: "int32", versions: "0+" },
  ]),
  partitionMetadata: valueSchema("ConsumerGroupPartitionMetadataValue", [{
    name: "topics",
    type: "[]TopicMetadata",
    versions: "0+",
    fields: [
      { name: "topicId", type: "uuid", versions: "0+" },
      { name: "topicName", type: "string", versions: "0+" },
      { name: "numPartitions", type: "int32", versions: "0+" },
      {
        name: "partitionMetadata",
        type: "[]PartitionMetadata",
        versions: "0+",
        fields: [
          { name: "partition", type: "int32", versions: "0+" },
          { name: "racks", type: "[]string", versions: "0+" },
        ],
      },
    ],
  }]),
  memberMetadata: valueSchema("ConsumerGroupMemberMetadataValue", [
    { name: "instanceId", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "rackId", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "clientId", type: "string", versions: "0+" },
    { name: "clientHost", type: "string", versions: "0+" },
    { name: "subscribedTopicNames", type: "[]string", versions: "0+" },
    { name: "subscribedTopicRegex", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "rebalanceTimeoutMs", type: "int32", versions: "0+", default: "-1" },
    { name: "serverAssignor", type: "string", versions: "0+", nullableVersions: "0+" },
    {
      // Written by Kafka for classic-protocol members of a consumer group (online migration,
      // which this broker does not do): decoded so such logs load, never written.
      name: "classicMemberMetadata",
      type: "ClassicMemberMetadata",
      versions: "0+",
      nullableVersions: "0+",
      taggedVersions: "0+",
      tag: 0,
      default: "null",
      fields: [
        { name: "sessionTimeoutMs", type: "int32", versions: "0+" },
        {
          name: "supportedProtocols",
          type: "[]ClassicProtocol",
          versions: "0+",
          fields: [
            { name: "name", type: "string", versions: "0+" },
            { name: "metadata", type: "bytes", versions: "0+" },
          ],
        },
      ],
    },
  ]),
  targetAssignmentMetadata: valueSchema("ConsumerGroupTargetAssignmentMetadataValue", [
    { name: "assignmentEpoch", type: "int32", versions: "0+" },
  ]),
  targetAssignmentMember: valueSchema("ConsumerGroupTargetAssignmentMemberValue", [
    topicPartitions("topicPartitions"),
  ]),
  currentMemberAssignment: valueSchema("ConsumerGroupCurrentMemberAssignmentValue", [
    { name: "memberEpoch", type: "int32", versions: "0+" },
    { name: "previousMemberEpoch", type: "int32", versions: "0+" },
    { name: "state", type: "int8", versions: "0+" },
    topicPartitions("assignedPartitions"),
    topicPartitions("partitionsPendingRevocation"),
  ]),
};

/** Topic id → sorted partitions, as the assignment records list them. */
export interface StoredTopicPartitions {
  topicId: string;
  partitions: number[];
}

export interface StoredTopicMetadata {
  topicId: string;
  topicName: string;
  numPartitions: number;
}

export interface StoredConsumerMember {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
}

export interface StoredMemberAssignment {
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberState;
  assignedPartitions: StoredTopicPartitions[];
  partitionsPendingRevocation: StoredTopicPartitions[];
}

/** Decoded values by record type. */
export interface ConsumerGroupValues {
  groupMetadata: { epoch: number };
  partitionMetadata: { topics: StoredTopicMetadata[] };
  memberMetadata: StoredConsumerMember;
  targetAssignmentMetadata: { assignmentEpoch: number };
  targetAssignmentMember: { topicPartitions: StoredTopicPartitions[] };
  currentMemberAssignment: StoredMemberAssignment;
}

/** Kafka's MemberState values (ConsumerGroupCurrentMemberAssignmentValue.State). */
const MEMBER_STATE_CODES: Record<MemberState, number> = {
  STABLE: 0,
  UNREVOKED_PARTITIONS: 1,
  UNRELEASED_PARTITIONS: 2,
};

function memberStateOf(code: number): MemberState {
  for (const [s, c] of Object.entries(MEMBER_STATE_CODES)) if (c === code) return s as MemberState;
  // Kafka's UNKNOWN (127) or a newer state: reconciliation starts again from the assignment.
  return "UNRELEASED_PARTITIONS";
}

/** One decoded consumer group record (value null: tombstone). */
export type ConsumerGroupRecord = {
  [T in ConsumerGroupRecordType]: {
    type: T;
    groupId: string;
    /** The member of per-member records, else "". */
    memberId: string;
    value: ConsumerGroupValues[T] | null;
  };
}[ConsumerGroupRecordType];

/** The record key of `type` for a group (and member, for per-member records). */
export function consumerGroupKey(
  type: ConsumerGroupRecordType,
  groupId: string,
  memberId = "",
): Uint8Array {
  const version = CONSUMER_GROUP_KEY_VERSIONS[type];
  const w = new Writer(32 + groupId.length + memberId.length);
  w.int16(version);
  // Group-level keys have no memberId field (strict encoding would reject the key).
  codecFor(KEYS[type], version).encode(w, memberId === "" ? { groupId } : { groupId, memberId });
  return w.finishCopy();
}

/** The record value (version 0) of `type`. */
export function consumerGroupValue<T extends ConsumerGroupRecordType>(
  type: T,
  v: ConsumerGroupValues[T],
): Uint8Array {
  let m: object = v;
  if (type === "currentMemberAssignment") {
    const a = v as StoredMemberAssignment;
    m = { ...a, state: MEMBER_STATE_CODES[a.state] };
  } else if (type === "partitionMetadata") {
    const p = v as ConsumerGroupValues["partitionMetadata"];
    m = { topics: p.topics.map((t) => ({ ...t, partitionMetadata: [] })) };
  }
  const w = new Writer(64);
  w.int16(0);
  codecFor(VALUES[type], 0).encode(w, m);
  return w.finishCopy();
}

const partitionsOf = (list: StoredTopicPartitions[]): StoredTopicPartitions[] =>
  list.map((t) => ({ topicId: t.topicId, partitions: [...t.partitions] }));

function decodeValue(type: ConsumerGroupRecordType, b: Uint8Array): unknown {
  const r = new Reader(b);
  const version = r.int16();
  // Later Kafka versions add tagged fields only; a higher version is not ours to guess.
  if (version !== 0) {
    throw new ProtocolError(`${VALUES[type].name} version ${version} is not supported`);
  }
  const m = codecFor(VALUES[type], 0).decode(r);
  switch (type) {
    case "groupMetadata":
      return { epoch: m.epoch };
    case "partitionMetadata":
      return {
        topics: m.topics.map((
          t: { topicId: string; topicName: string; numPartitions: number },
        ) => ({
          topicId: t.topicId,
          topicName: t.topicName,
          numPartitions: t.numPartitions,
        })),
      };
    case "memberMetadata":
      return {
        instanceId: m.instanceId,
        rackId: m.rackId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        serverAssignor: m.serverAssignor,
      };
    case "targetAssignmentMetadata":
      return { assignmentEpoch: m.assignmentEpoch };
    case "targetAssignmentMember":
      return { topicPartitions: partitionsOf(m.topicPartitions) };
    case "currentMemberAssignment":
      return {
        memberEpoch: m.memberEpoch,
        previousMemberEpoch: m.previousMemberEpoch,
        state: memberStateOf(m.state),
        assignedPartitions: partitionsOf(m.assignedPartitions),
        partitionsPendingRevocation: partitionsOf(m.partitionsPendingRevocation),
      };
  }
}

/**
 * Decodes a consumer group record; null when the key is not one (offsets, classic groups and
 * share or streams groups, which this broker does not run).
 */
export function decodeConsumerGroupRecord(
  key: Uint8Array,
  value: Uint8Array | null,
): ConsumerGroupRecord | null {
  const r = new Reader(key);
  const version = r.int16();
  const type = TYPE_BY_VERSION.get(version);
  if (!type) return null;
  const k = codecFor(KEYS[type], version).decode(r);
  return {
    type,
    groupId: k.groupId,
    memberId: k.memberId ?? "",
    value: value === null ? null : decodeValue(type, value),
  } as ConsumerGroupRecord;
}
