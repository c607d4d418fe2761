/**
 * The coordinator loader: rebuilds groups and offsets from `__consumer_offsets` when the
 * coordinator starts (Kafka's CoordinatorLoader). Last record per key wins, null = deleted;
 * transactional offset commits stay pending until their producer's marker.
 */
import { log as logger } from "../log.ts";
import { ClassicGroup } from "./classic_group.ts";
import { ClassicGroupMember } from "./classic_group_member.ts";
import { decodeRecord, type OffsetAndMetadata, type StoredGroup } from "./coordinator_records.ts";
import type { ConsumerGroupCoordinator } from "./consumer_group_coordinator.ts";
import { decodeConsumerGroupRecord } from "./consumer_group_records.ts";
import type { CoordinatorLog } from "./group_metadata_log.ts";
import type { GroupMetadataManager } from "./group_metadata_manager.ts";
import type { OffsetMetadataManager } from "./offset_metadata_manager.ts";
import type { OffsetStore } from "./offset_store.ts";

/** See GroupCoordinator.load. */
export async function loadCoordinator(
  log: CoordinatorLog,
  groupManager: GroupMetadataManager,
  offsetManager: OffsetMetadataManager,
  store: OffsetStore,
  consumer: ConsumerGroupCoordinator,
): Promise<void> {
  const stored = new Map<string, StoredGroup | null>();
  const storedSeq = new Map<string, number>();
  let seq = 0;
  await log.load((key, value, producerId) => {
    seq++;
    let rec;
    try {
      rec = decodeRecord(key, value);
      if (!rec) {
        const cg = decodeConsumerGroupRecord(key, value);
        if (cg) consumer.replay(cg, seq);
        return;
      }
    } catch (e) {
      logger.warn(`skipping undecodable __consumer_offsets record: ${e}`);
      return;
    }
    const k = rec.key;
    if (k.type === "offset") {
      const v = rec.value as OffsetAndMetadata | null;
      if (producerId >= 0) {
        // A transactional commit: pending until the producer's marker (or still open).
        if (v !== null) {
          offsetManager.addPendingTxnOffset(producerId, k.group, k.topic, k.partition, v);
        }
        return;
      }
      offsetManager.supersedePendingTxnOffsets(k.group, [[k.topic, k.partition]], Infinity);
      if (v === null) store.delete(k.group, k.topic, k.partition);
      else store.put(k.group, k.topic, k.partition, v);
    } else {
      if (rec.value === null) offsetManager.dropPendingTxnOffsets(k.group);
      stored.set(k.group, rec.value as StoredGroup | null);
      storedSeq.set(k.group, seq);
    }
  }, (producerId, commit) => offsetManager.completeTxnOffsets(producerId, commit, true));
  const now = groupManager.clock.now();
  for (const [groupId, g] of stored) {
    if (g === null) continue;
    if (consumer.loadedSeq(groupId) > storedSeq.get(groupId)!) continue;
    consumer.dropLoaded(groupId);
    const group = new ClassicGroup(groupId, g.currentStateTimestamp);
    group.protocolType = g.protocolType;
    group.protocolName = g.protocol;
    group.generationId = g.generation;
    for (const m of g.members) {
      const member = new ClassicGroupMember(
        m.memberId,
        m.groupInstanceId,
        m.clientId,
        m.clientHost,
        m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout,
        m.sessionTimeout,
        g.protocolType,
        [{ name: g.protocol ?? "", metadata: m.subscription }],
      );
      member.assignment = m.assignment;
      group.add(member);
    }
    group.leaderId = g.leader !== null && group.has(g.leader) ? g.leader : group.leaderId;
    if (group.size > 0) {
      group.state = "Stable";
      group.previousState = "Stable";
      group.subscribedTopics = group.computeSubscribedTopics();
      for (const m of group.members.values()) groupManager.scheduleHeartbeat(group, m);
    } else if (group.currentStateTimestamp < 0) {
      group.currentStateTimestamp = now;
    }
    groupManager.groups.set(groupId, group);
  }
  consumer.onLoaded();
  for (const groupId of store.groupIds()) {
    if (!groupManager.groups.has(groupId) && !consumer.has(groupId)) {
      groupManager.groups.set(groupId, new ClassicGroup(groupId, now));
    }
  }
  offsetManager.scheduleOffsetExpiry();
}
