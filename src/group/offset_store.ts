/**
 * OffsetStore: the committed offsets of every group, in memory (Kafka's offsets cache in
 * GroupMetadataManager / OffsetMetadataManager). The log (`__consumer_offsets`) is the source
 * of truth; this cache is changed only after the corresponding records were appended, and is
 * rebuilt from the log on start.
 */
import type { OffsetAndMetadata } from "./coordinator_records.ts";

export interface CommittedOffset extends OffsetAndMetadata {
  topic: string;
  partition: number;
}

export class OffsetStore {
  private readonly byGroup = new Map<string, Map<string, Map<number, OffsetAndMetadata>>>();

  get(groupId: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.byGroup.get(groupId)?.get(topic)?.get(partition);
  }

  put(groupId: string, topic: string, partition: number, o: OffsetAndMetadata): void {
    let topics = this.byGroup.get(groupId);
    if (!topics) this.byGroup.set(groupId, topics = new Map());
    let parts = topics.get(topic);
    if (!parts) topics.set(topic, parts = new Map());
    parts.set(partition, o);
  }

  delete(groupId: string, topic: string, partition: number): boolean {
    const topics = this.byGroup.get(groupId);
    const parts = topics?.get(topic);
    if (!topics || !parts || !parts.delete(partition)) return false;
    if (parts.size === 0) topics.delete(topic);
    if (topics.size === 0) this.byGroup.delete(groupId);
    return true;
  }

  hasOffsets(groupId: string): boolean {
    return this.byGroup.has(groupId);
  }

  /** Every committed offset of a group, by topic then partition. */
  all(groupId: string): CommittedOffset[] {
    const out: CommittedOffset[] = [];
    const topics = this.byGroup.get(groupId);
    if (!topics) return out;
    for (const [topic, parts] of topics) {
      for (const [partition, o] of parts) out.push({ ...o, topic, partition });
    }
    return out;
  }

  topics(groupId: string): string[] {
    return [...(this.byGroup.get(groupId)?.keys() ?? [])];
  }

  groupIds(): string[] {
    return [...this.byGroup.keys()];
  }

  deleteGroup(groupId: string): void {
    this.byGroup.delete(groupId);
  }
}
