/**
 * ConsumerGroupStore: how consumer-protocol (KIP-848) groups are persisted in
 * `__consumer_offsets` (records of consumer_group_records.ts) and rebuilt when the broker
 * starts, as Kafka's GroupMetadataManager writes and replays them.
 *
 * Writing: the store remembers, per group, the value the log holds — or will hold once the
 * writes in flight are appended — for every key (group epoch, subscription metadata,
 * assignment epoch; per member: metadata, target assignment, current assignment). A write
 * compares the group's current state with that — for the members the group marked changed,
 * and for every member written before when the group was deleted or replaced — and appends
 * only the keys that differ, tombstones for the ones gone, in Kafka's order (a member's
 * current assignment, target and metadata tombstones before the epoch bump; a deleted
 * group's epoch last). A write completes only once every earlier write of the group still in
 * flight has (it may rely on their records) and fails if any of them failed; a failed
 * write's keys become unknown and its members changed again, so the next write rewrites
 * them. A response sent after `write` resolves never depends on a record not in the log.
 *
 * Loading: records are applied in log order, last value per key wins, a tombstone removes
 * the key (a group tombstone the whole group); the result is the groups as last written.
 * Per-partition assignment epochs are not in Kafka's records: loaded partitions count as
 * given at the member's epoch.
 */
import {
  type AssignedPartitions,
  ConsumerGroup,
  ConsumerGroupMember,
  toList,
} from "./consumer_group.ts";
import {
  consumerGroupKey,
  type ConsumerGroupRecord,
  type ConsumerGroupRecordType,
  consumerGroupValue,
  type ConsumerGroupValues,
  type StoredConsumerMember,
  type StoredMemberAssignment,
  type StoredTopicMetadata,
  type StoredTopicPartitions,
} from "./consumer_group_records.ts";
import { groupMetadataKey } from "./coordinator_records.ts";
import type { CoordinatorLog, LogRecord } from "./group_metadata_log.ts";

/** The signature ConsumerGroup.subscriptionMetadata holds for these topics. */
export function subscriptionMetadataSignature(topics: StoredTopicMetadata[]): string {
  return [...topics]
    .sort((a, b) => (a.topicName < b.topicName ? -1 : a.topicName > b.topicName ? 1 : 0))
    .map((t) => `${t.topicName}:${t.topicId}:${t.numPartitions}`)
    .join(",");
}

function topicsOfSignature(sig: string): StoredTopicMetadata[] {
  if (sig === "") return [];
  return sig.split(",").map((s) => {
    const [topicName, topicId, n] = s.split(":");
    return { topicName, topicId, numPartitions: Number(n) };
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A key whose value in the log is not known (its write failed): always rewritten. */
const UNKNOWN = new Uint8Array(0);

/** What the log holds for one group, counting the writes in flight as done. */
interface Persisted {
  /** The group object last written (another one, or none: every old member is rewritten). */
  group: ConsumerGroup | undefined;
  /** Key id (record type + member id) → its value (UNKNOWN: rewrite it). */
  values: Map<string, Uint8Array>;
  /** Key id → the write that set it (a failed write unsets only what it set). */
  setBy: Map<string, number>;
  /** Members that may have records in the log. */
  members: Set<string>;
  /** Writes in flight: each resolves with its error, or null once appended. */
  inFlight: Set<Promise<unknown>>;
}

/** Records to append, computed (and counted as in the log) by `pending`. */
interface PendingWrite {
  seq: number;
  records: LogRecord[];
  /** Key ids of `records`, and the member ids they concern. */
  ids: string[];
  memberIds: string[];
  /** It carries the tombstone of the classic group whose id the group took over. */
  classicTombstone: boolean;
}

/** A group as read from the log, before it is built. */
interface LoadedGroup {
  epoch: number;
  topics: StoredTopicMetadata[];
  assignmentEpoch: number;
  members: Map<string, {
    metadata?: StoredConsumerMember;
    target?: StoredTopicPartitions[];
    current?: StoredMemberAssignment;
  }>;
  /** Position of its last record in the load (which of a classic and a consumer group won). */
  lastSeq: number;
}

const keyId = (type: ConsumerGroupRecordType, memberId = "") => `${type}\u0000${memberId}`;

function assignedFrom(list: StoredTopicPartitions[], epoch: number): AssignedPartitions {
  return new Map(list.map((t) => [t.topicId, new Map(t.partitions.map((p) => [p, epoch]))]));
}

export class ConsumerGroupStore {
  private readonly persisted = new Map<string, Persisted>();
  private loading = new Map<string, LoadedGroup>();
  private writeSeq = 0;

  constructor(private readonly log: CoordinatorLog) {}

  /** Forgets what was written of a group whose partition moved to another coordinator. */
  forget(groupId: string): void {
    this.persisted.delete(groupId);
    this.loading.delete(groupId);
  }

  private entry(groupId: string): Persisted {
    let p = this.persisted.get(groupId);
    if (!p) {
      p = {
        group: undefined,
        values: new Map(),
        setBy: new Map(),
        members: new Set(),
        inFlight: new Set(),
      };
      this.persisted.set(groupId, p);
    }
    return p;
  }

  /**
   * The records that bring the log to `group`'s state (undefined: the group is deleted),
   * after `before` (records of the same batch that go first); from here on they count as
   * written, and the group's changed marks are cleared.
   */
  private pending(
    groupId: string,
    group: ConsumerGroup | undefined,
    before: LogRecord[],
  ): PendingWrite {
    const p = this.entry(groupId);
    const ids = new Set<string>(group ? group.changedMembers.keys() : []);
    if (p.group !== group) { for (const id of p.members) ids.add(id); }
    const seq = ++this.writeSeq;
    const records: LogRecord[] = [...before];
    const classicTombstone = group?.replacesClassicGroup === true;
    if (classicTombstone) {
      records.push({ key: groupMetadataKey(groupId), value: null });
      group.replacesClassicGroup = false;
    }
    const keyIds: string[] = [];
    const put = <T extends ConsumerGroupRecordType>(
      type: T,
      memberId: string,
      v: ConsumerGroupValues[T] | null,
    ) => {
      const id = keyId(type, memberId);
      const a = p.values.get(id);
      const value = v === null ? null : consumerGroupValue(type, v);
      if (value === null ? a === undefined : a !== undefined && sameBytes(a, value)) return;
      records.push({ key: consumerGroupKey(type, groupId, memberId), value });
      keyIds.push(id);
      if (value === null) p.values.delete(id);
      else p.values.set(id, value);
      p.setBy.set(id, seq);
    };
    const present = group ? [...ids].filter((id) => group.members.has(id)) : [];
    const gone = [...ids].filter((id) => !group?.members.has(id));
    for (const id of gone) put("currentMemberAssignment", id, null);
    for (const id of gone) put("targetAssignmentMember", id, null);
    if (!group) put("targetAssignmentMetadata", "", null);
    for (const id of gone) put("memberMetadata", id, null);
    if (!group) {
      put("partitionMetadata", "", null);
      put("groupMetadata", "", null);
    } else {
      for (const id of present) put("memberMetadata", id, memberMetadata(group.members.get(id)!));
      put("groupMetadata", "", { epoch: group.groupEpoch });
      put("partitionMetadata", "", { topics: topicsOfSignature(group.subscriptionMetadata) });
      for (const id of present) {
        const t = group.targetAssignment.get(id);
        put("targetAssignmentMember", id, t ? { topicPartitions: toList(t) } : null);
      }
      put("targetAssignmentMetadata", "", { assignmentEpoch: group.assignmentEpoch });
      for (const id of present) {
        put("currentMemberAssignment", id, currentAssignment(group.members.get(id)!));
      }
    }
    p.group = group;
    for (const id of gone) if (!p.values.has(keyId("memberMetadata", id))) p.members.delete(id);
    for (const id of present) p.members.add(id);
    group?.changedMembers.clear();
    return { seq, records, ids: keyIds, memberIds: [...ids], classicTombstone };
  }

  /** Undoes what a failed write counted as written: its keys are rewritten by the next one. */
  private failed(groupId: string, group: ConsumerGroup | undefined, w: PendingWrite): void {
    const p = this.entry(groupId);
    for (const id of w.ids) {
      if (p.setBy.get(id) === w.seq) p.values.set(id, UNKNOWN);
    }
    for (const id of w.memberIds) {
      p.members.add(id);
      if (group?.members.has(id)) group.markChanged(id);
    }
    if (group && w.classicTombstone) group.replacesClassicGroup = true;
  }

  /**
   * Appends what `group` changed since the last write (`before` first, in the same batch);
   * resolves once it and every earlier write of the group in flight are in the log, rejects
   * with the first error among them.
   */
  async write(
    groupId: string,
    group: ConsumerGroup | undefined,
    before: LogRecord[] = [],
  ): Promise<void> {
    const p = this.entry(groupId);
    const earlier = [...p.inFlight];
    const w = this.pending(groupId, group, before);
    if (w.records.length > 0) {
      const mine: Promise<unknown> = this.log.append(groupId, w.records).then(
        () => null,
        (e) => {
          this.failed(groupId, group, w);
          return e ?? new Error("append failed");
        },
      );
      p.inFlight.add(mine);
      mine.then(() => {
        p.inFlight.delete(mine);
        if (p.inFlight.size === 0) p.setBy.clear();
        this.forgetIfEmpty(groupId, p);
      });
      earlier.push(mine);
    }
    this.forgetIfEmpty(groupId, p);
    for (const e of await Promise.all(earlier)) if (e !== null) throw e;
  }

  /** Drops the entry of a group with nothing in the log and nothing in flight. */
  private forgetIfEmpty(groupId: string, p: Persisted): void {
    if (p.inFlight.size > 0 || p.values.size > 0 || p.members.size > 0) return;
    if (this.persisted.get(groupId) === p) this.persisted.delete(groupId);
  }

  // ---- loading ------------------------------------------------------------------------------

  /** Applies one record read from the log (`seq`: its position in the load). */
  replay(rec: ConsumerGroupRecord, seq: number): void {
    let g = this.loading.get(rec.groupId);
    if (rec.type === "groupMetadata" && rec.value === null) {
      this.loading.delete(rec.groupId);
      return;
    }
    if (!g) {
      if (rec.value === null) return;
      g = { epoch: 0, topics: [], assignmentEpoch: 0, members: new Map(), lastSeq: seq };
      this.loading.set(rec.groupId, g);
    }
    g.lastSeq = seq;
    const member = () => {
      let m = g.members.get(rec.memberId);
      if (!m) g.members.set(rec.memberId, m = {});
      return m;
    };
    switch (rec.type) {
      case "groupMetadata":
        g.epoch = rec.value!.epoch;
        break;
      case "partitionMetadata":
        g.topics = rec.value?.topics ?? [];
        break;
      case "targetAssignmentMetadata":
        g.assignmentEpoch = rec.value?.assignmentEpoch ?? 0;
        break;
      case "memberMetadata":
        if (rec.value === null) g.members.delete(rec.memberId);
        else member().metadata = rec.value;
        break;
      case "targetAssignmentMember":
        if (rec.value === null) delete member().target;
        else member().target = rec.value.topicPartitions;
        break;
      case "currentMemberAssignment":
        if (rec.value === null) delete member().current;
        else member().current = rec.value;
        break;
    }
  }

  /** Position of the last record of a loaded group (-1: none). */
  loadedSeq(groupId: string): number {
    return this.loading.get(groupId)?.lastSeq ?? -1;
  }

  /** Forgets a loaded group (a classic group of the same id was written after it). */
  dropLoaded(groupId: string): void {
    this.loading.delete(groupId);
  }

  /** The groups read by replay(), built, with the log's state as already written. */
  finishLoad(): ConsumerGroup[] {
    const out: ConsumerGroup[] = [];
    for (const [groupId, l] of this.loading) {
      const g = new ConsumerGroup(groupId);
      g.groupEpoch = l.epoch;
      g.assignmentEpoch = l.assignmentEpoch;
      g.subscriptionMetadata = subscriptionMetadataSignature(l.topics);
      for (const [memberId, x] of l.members) {
        // Records of one change are one batch: a member without metadata was removed.
        if (!x.metadata) continue;
        const m = new ConsumerGroupMember(memberId);
        Object.assign(m, x.metadata);
        if (x.current) {
          const c = x.current;
          m.memberEpoch = c.memberEpoch;
          m.previousMemberEpoch = c.previousMemberEpoch;
          m.state = c.state;
          const since = c.memberEpoch >= 0 ? c.memberEpoch : Math.max(c.previousMemberEpoch, 0);
          m.assigned = assignedFrom(c.assignedPartitions, since);
          m.pendingRevocation = assignedFrom(c.partitionsPendingRevocation, since);
        }
        g.putMember(m);
        if (x.target) {
          g.targetAssignment.set(
            memberId,
            new Map(x.target.map((t) => [t.topicId, new Set(t.partitions)])),
          );
        }
      }
      // What was read is what the log holds: only later changes are written.
      this.pending(groupId, g, []);
      this.persisted.get(groupId)?.setBy.clear();
      out.push(g);
    }
    this.loading = new Map();
    return out;
  }
}

function memberMetadata(m: ConsumerGroupMember): StoredConsumerMember {
  return {
    instanceId: m.instanceId,
    rackId: m.rackId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    subscribedTopicNames: m.subscribedTopicNames,
    subscribedTopicRegex: m.subscribedTopicRegex,
    rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    serverAssignor: m.serverAssignor,
  };
}

function currentAssignment(m: ConsumerGroupMember): StoredMemberAssignment {
  return {
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    state: m.state,
    assignedPartitions: toList(m.assigned),
    partitionsPendingRevocation: toList(m.pendingRevocation),
  };
}
