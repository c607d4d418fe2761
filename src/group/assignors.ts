/**
 * Server-side partition assignors of the consumer group protocol (KIP-848), Kafka's
 * `ConsumerGroupPartitionAssignor`s: the group coordinator computes every member's target
 * assignment itself; members only name an assignor (`serverAssignor`, else the first of
 * `group.consumer.assignors`).
 *
 * - `uniform` (Kafka's UniformAssignor, the default): every partition of every subscribed
 *   topic goes to a subscribed member, as evenly as the subscriptions allow, and sticky: a
 *   member keeps the partitions of its current target assignment unless they must move to
 *   even out the counts. With identical subscriptions the counts differ by at most one.
 * - `range` (Kafka's RangeAssignor): per topic, the subscribed members in member-id order
 *   get contiguous ranges of partitions, the first `partitions % members` one more. Members
 *   subscribed to the same co-partitioned topics get the same partition numbers of each.
 *
 * Both are deterministic: the same inputs always give the same assignment.
 */

/** Topic id → partitions. */
export type TopicPartitionSet = Map<string, Set<number>>;

export interface AssignorMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  /** Ids of the topics the member subscribes to (names and regex, resolved). */
  subscribedTopicIds: Set<string>;
  /** The member's current target assignment (for stickiness). */
  current: TopicPartitionSet;
}

export interface AssignorTopic {
  name: string;
  partitions: number;
}

export interface AssignmentSpec {
  members: AssignorMember[];
  /** Every subscribed topic that exists, by id. */
  topics: Map<string, AssignorTopic>;
}

export interface PartitionAssignor {
  readonly name: string;
  /** Member id → its new target assignment (every member gets an entry, possibly empty). */
  assign(spec: AssignmentSpec): Map<string, TopicPartitionSet>;
}

const byId = (a: AssignorMember, b: AssignorMember) =>
  a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;

function emptyResult(members: AssignorMember[]): Map<string, TopicPartitionSet> {
  return new Map(members.map((m) => [m.memberId, new Map()]));
}

function add(a: TopicPartitionSet, topicId: string, partition: number): void {
  let s = a.get(topicId);
  if (!s) a.set(topicId, s = new Set());
  s.add(partition);
}

function remove(a: TopicPartitionSet, topicId: string, partition: number): void {
  const s = a.get(topicId);
  if (!s) return;
  s.delete(partition);
  if (s.size === 0) a.delete(topicId);
}

/** Topic ids in name order, so results do not depend on map insertion order. */
function sortedTopicIds(topics: Map<string, AssignorTopic>): string[] {
  return [...topics.keys()].sort((a, b) => {
    const na = topics.get(a)!.name;
    const nb = topics.get(b)!.name;
    return na < nb ? -1 : na > nb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  });
}

export class UniformAssignor implements PartitionAssignor {
  readonly name = "uniform";

  assign(spec: AssignmentSpec): Map<string, TopicPartitionSet> {
    const members = [...spec.members].sort(byId);
    const out = emptyResult(members);
    const count = new Map<string, number>(members.map((m) => [m.memberId, 0]));
    const owner = new Map<string, string>(); // "topicId:p" → member id
    const key = (t: string, p: number) => `${t}:${p}`;
    const topicIds = sortedTopicIds(spec.topics);

    // 1. Stickiness: keep current partitions that still exist and are still subscribed
    //    (a partition claimed twice stays with the first member in id order).
    for (const m of members) {
      for (const [t, parts] of m.current) {
        const topic = spec.topics.get(t);
        if (!topic || !m.subscribedTopicIds.has(t)) continue;
        for (const p of [...parts].sort((a, b) => a - b)) {
          if (p >= topic.partitions || owner.has(key(t, p))) continue;
          owner.set(key(t, p), m.memberId);
          add(out.get(m.memberId)!, t, p);
          count.set(m.memberId, count.get(m.memberId)! + 1);
        }
      }
    }

    // 2. Every unowned partition goes to the least loaded subscribed member.
    for (const t of topicIds) {
      const eligible = members.filter((m) => m.subscribedTopicIds.has(t));
      if (eligible.length === 0) continue;
      for (let p = 0; p < spec.topics.get(t)!.partitions; p++) {
        if (owner.has(key(t, p))) continue;
        let best = eligible[0];
        for (const m of eligible) {
          if (count.get(m.memberId)! < count.get(best.memberId)!) best = m;
        }
        owner.set(key(t, p), best.memberId);
        add(out.get(best.memberId)!, t, p);
        count.set(best.memberId, count.get(best.memberId)! + 1);
      }
    }

    // 3. Balance: move partitions from the most to the least loaded member that may take
    //    them while the difference is more than one. Each move lowers the sum of squared
    //    counts, so this ends; the bound is a safety net.
    const total = [...count.values()].reduce((a, b) => a + b, 0);
    for (let guard = 0; guard < total * members.length + 1; guard++) {
      if (!this.moveOne(members, out, count, spec)) break;
    }
    return out;
  }

  /** One balancing move; false when no move narrows the spread. */
  private moveOne(
    members: AssignorMember[],
    out: Map<string, TopicPartitionSet>,
    count: Map<string, number>,
    spec: AssignmentSpec,
  ): boolean {
    // Donors from most to least loaded; receivers from least to most loaded.
    const donors = [...members].sort((a, b) =>
      count.get(b.memberId)! - count.get(a.memberId)! || byId(a, b)
    );
    const receivers = [...members].sort((a, b) =>
      count.get(a.memberId)! - count.get(b.memberId)! || byId(a, b)
    );
    for (const d of donors) {
      const dc = count.get(d.memberId)!;
      for (const r of receivers) {
        if (count.get(r.memberId)! + 1 >= dc) break;
        // The donor's highest partition of a topic the receiver subscribes to.
        const mine = out.get(d.memberId)!;
        for (const t of sortedTopicIds(spec.topics).reverse()) {
          const parts = mine.get(t);
          if (!parts || !r.subscribedTopicIds.has(t)) continue;
          const p = Math.max(...parts);
          remove(mine, t, p);
          add(out.get(r.memberId)!, t, p);
          count.set(d.memberId, dc - 1);
          count.set(r.memberId, count.get(r.memberId)! + 1);
          return true;
        }
      }
    }
    return false;
  }
}

export class RangeAssignor implements PartitionAssignor {
  readonly name = "range";

  assign(spec: AssignmentSpec): Map<string, TopicPartitionSet> {
    const members = [...spec.members].sort(byId);
    const out = emptyResult(members);
    for (const t of sortedTopicIds(spec.topics)) {
      const subscribed = members.filter((m) => m.subscribedTopicIds.has(t));
      if (subscribed.length === 0) continue;
      const n = spec.topics.get(t)!.partitions;
      const base = Math.floor(n / subscribed.length);
      const extra = n % subscribed.length;
      let next = 0;
      subscribed.forEach((m, i) => {
        const size = base + (i < extra ? 1 : 0);
        for (let p = next; p < next + size; p++) add(out.get(m.memberId)!, t, p);
        next += size;
      });
    }
    return out;
  }
}

/** Assignors by name, as `group.consumer.assignors` may list them. */
export const ASSIGNORS: Readonly<Record<string, () => PartitionAssignor>> = {
  uniform: () => new UniformAssignor(),
  range: () => new RangeAssignor(),
};

/**
 * The assignor name of a `group.consumer.assignors` entry: a short name, or one of Kafka's
 * class names (`org.apache.kafka.coordinator.group.assignor.UniformAssignor`); undefined when
 * this broker has no such assignor.
 */
export function assignorName(entry: string): string | undefined {
  const e = entry.trim();
  if (e in ASSIGNORS) return e;
  const simple = e.slice(e.lastIndexOf(".") + 1);
  if (simple === "UniformAssignor") return "uniform";
  if (simple === "RangeAssignor") return "range";
  return undefined;
}
