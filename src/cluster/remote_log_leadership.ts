/**
 * Ties tiered storage to partition leadership in a cluster: the RemoteLogManager copies,
 * applies the cold tier's retention and publishes its remote log metadata only for the
 * partitions this broker leads (at the leader epoch the cluster metadata gives), and follows
 * the published metadata for the partitions it is a follower of
 * (storage/remote_log_manager.ts). The storage layer gets a predicate, not the cluster.
 */
import type { RemoteLogManager } from "../../storage/remote_log_manager.ts";
import type { Leadership } from "./leadership.ts";

export function followLeadershipForTiering(rlm: RemoteLogManager, leadership: Leadership): void {
  rlm.shareMetadata = true;
  rlm.leaderEpochOf = (topic, partition) => {
    const l = leadership.leaderOf(topic, partition);
    return l && l.leaderId === leadership.localNodeId ? l.leaderEpoch : undefined;
  };
}
