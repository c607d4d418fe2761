/**
 * Records of the `__consumer_offsets` topic, in Kafka's own binary formats so the log reads
 * the same as a Kafka broker's (and Kafka's tools could decode it):
 *
 * - key = int16 key version, then the key struct; value = int16 value version, then the value
 *   struct (a null value is a tombstone: the key is deleted).
 * - key version 0/1: OffsetCommitKey (group, topic, partition) → OffsetCommitValue, written
 *   at v3 (offset, leaderEpoch, metadata, commitTimestamp) or v1 when the commit carries an
 *   explicit expire timestamp (OffsetCommit v2–4 retention time), as Kafka does.
 * - key version 2: GroupMetadataKey (group) → GroupMetadataValue v3 (protocol type,
 *   generation, protocol, leader, current state timestamp, members with their subscription
 *   and assignment).
 * - key versions 3–8: consumer-protocol (KIP-848) groups, in consumer_group_records.ts.
 *
 * Values v0–4 are read (v4 is Kafka's flexible version), so logs written by any Kafka since
 * 0.10 decode too.
 */
import { ProtocolError } from "../../protocol/errors.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { codecFor, type Encodable, type MessageSchema } from "../../protocol/schema.ts";

const OffsetCommitKeyV1: MessageSchema = {
  name: "OffsetCommitKey",
  type: "data",
  validVersions: "0-1",
  flexibleVersions: "none",
  fields: [
    { name: "group", type: "string", versions: "0+" },
    { name: "topic", type: "string", versions: "0+" },
    { name: "partition", type: "int32", versions: "0+" },
  ],
};

const GroupMetadataKeyV2: MessageSchema = {
  name: "GroupMetadataKey",
  type: "data",
  validVersions: "2",
  flexibleVersions: "none",
  fields: [{ name: "group", type: "string", versions: "2" }],
};

const OffsetCommitValue: MessageSchema = {
  name: "OffsetCommitValue",
  type: "data",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "offset", type: "int64", versions: "0+" },
    { name: "leaderEpoch", type: "int32", versions: "3+", default: "-1" },
    { name: "metadata", type: "string", versions: "0+" },
    { name: "commitTimestamp", type: "int64", versions: "0+" },
    { name: "expireTimestamp", type: "int64", versions: "1", default: "-1" },
  ],
};

const GroupMetadataValue: MessageSchema<StoredGroup> = {
  name: "GroupMetadataValue",
  type: "data",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "protocolType", type: "string", versions: "0+" },
    { name: "generation", type: "int32", versions: "0+" },
    { name: "protocol", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "leader", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "currentStateTimestamp", type: "int64", versions: "2+", default: "-1" },
    {
      name: "members",
      type: "[]MemberMetadata",
      versions: "0+",
      fields: [
        { name: "memberId", type: "string", versions: "0+" },
        {
          name: "groupInstanceId",
          type: "string",
          versions: "3+",
          nullableVersions: "3+",
          default: "null",
        },
        { name: "clientId", type: "string", versions: "0+" },
        { name: "clientHost", type: "string", versions: "0+" },
        { name: "rebalanceTimeout", type: "int32", versions: "1+", default: "-1" },
        { name: "sessionTimeout", type: "int32", versions: "0+" },
        { name: "subscription", type: "bytes", versions: "0+" },
        { name: "assignment", type: "bytes", versions: "0+" },
      ],
    },
  ],
};

/** A committed offset as stored (Kafka's OffsetAndMetadata). */
export interface OffsetAndMetadata {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Explicit expiry (OffsetCommit v2–4 retention time), else -1: broker retention applies. */
  expireTimestamp: number;
}

/** One member as stored in GroupMetadataValue. */
export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Uint8Array;
  assignment: Uint8Array;
}

/** A classic group's persisted state (GroupMetadataValue). */
export interface StoredGroup {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: StoredMember[];
}

export type CoordinatorKey =
  | { type: "offset"; group: string; topic: string; partition: number }
  | { type: "group"; group: string };

export type CoordinatorRecord =
  | { key: CoordinatorKey & { type: "offset" }; value: OffsetAndMetadata | null }
  | { key: CoordinatorKey & { type: "group" }; value: StoredGroup | null };

function withVersion<T>(version: number, schema: MessageSchema<T>, m: Encodable<T>): Uint8Array {
  const w = new Writer(64);
  w.int16(version);
  codecFor(schema, version).encode(w, m);
  return w.finishCopy();
}

export function offsetCommitKey(group: string, topic: string, partition: number): Uint8Array {
  return withVersion(1, OffsetCommitKeyV1, { group, topic, partition });
}

export function groupMetadataKey(group: string): Uint8Array {
  return withVersion(2, GroupMetadataKeyV2, { group });
}

export function offsetCommitValue(o: OffsetAndMetadata): Uint8Array {
  return withVersion(o.expireTimestamp >= 0 ? 1 : 3, OffsetCommitValue, o);
}

export function groupMetadataValue(g: StoredGroup): Uint8Array {
  return withVersion(3, GroupMetadataValue, g);
}

/** Decodes a record key; null for other key versions (consumer_group_records.ts: 3–8). */
export function decodeKey(b: Uint8Array): CoordinatorKey | null {
  const r = new Reader(b);
  const version = r.int16();
  if (version === 0 || version === 1) {
    const k = codecFor(OffsetCommitKeyV1, version).decode(r);
    return { type: "offset", group: k.group, topic: k.topic, partition: k.partition };
  }
  if (version === 2) {
    return { type: "group", group: codecFor(GroupMetadataKeyV2, 2).decode(r).group };
  }
  return null;
}

function valueVersion(r: Reader, schema: MessageSchema): number {
  const v = r.int16();
  if (v < 0 || v > 4) throw new ProtocolError(`${schema.name} version ${v} is not supported`);
  return v;
}

export function decodeOffsetCommitValue(b: Uint8Array): OffsetAndMetadata {
  const r = new Reader(b);
  const m = codecFor(OffsetCommitValue, valueVersion(r, OffsetCommitValue)).decode(r);
  return {
    offset: m.offset,
    leaderEpoch: m.leaderEpoch,
    metadata: m.metadata,
    commitTimestamp: m.commitTimestamp,
    expireTimestamp: m.expireTimestamp,
  };
}

export function decodeGroupMetadataValue(b: Uint8Array): StoredGroup {
  const r = new Reader(b);
  const m = codecFor(GroupMetadataValue, valueVersion(r, GroupMetadataValue)).decode(r);
  return {
    protocolType: m.protocolType,
    generation: m.generation,
    protocol: m.protocol,
    leader: m.leader,
    currentStateTimestamp: m.currentStateTimestamp,
    members: m.members.map((x) => ({
      memberId: x.memberId,
      groupInstanceId: x.groupInstanceId,
      clientId: x.clientId,
      clientHost: x.clientHost,
      rebalanceTimeout: x.rebalanceTimeout,
      sessionTimeout: x.sessionTimeout,
      subscription: x.subscription.slice(),
      assignment: x.assignment.slice(),
    })),
  };
}

/** Decodes one key/value pair; null when the key is of a kind this broker ignores. */
export function decodeRecord(
  key: Uint8Array,
  value: Uint8Array | null,
): CoordinatorRecord | null {
  const k = decodeKey(key);
  if (!k) return null;
  if (k.type === "offset") {
    return { key: k, value: value === null ? null : decodeOffsetCommitValue(value) };
  }
  return { key: k, value: value === null ? null : decodeGroupMetadataValue(value) };
}
