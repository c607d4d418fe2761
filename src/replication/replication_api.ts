/** The replication service handlers see (see replication_manager.ts). */
import type { EpochEndOffset, ReplicaLog } from "./replica_log.ts";

/** What Produce, Fetch and OffsetForLeaderEpoch ask of replication (src/services.ts). */
export interface ReplicationApi {
  /** The leader epoch to stamp on this broker's appends to a partition it leads. */
  leaderEpochOf(topic: string, partition: number): number | undefined;
  /** Before an acks=all append: NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas. */
  checkEnoughReplicas(topic: string, partition: number): number;
  /** After an acks=all append: resolves with its error code once the HW passes `offset`. */
  awaitReplication(
    topic: string,
    partition: number,
    requiredOffset: number,
    timeoutMs: number,
  ): Promise<number>;
  /**
   * A replica fetch at `fetchOffset` from follower `replicaId`: records its state (before the
   * read, as Kafka does, so the answer carries the HW it allows). False when this broker does
   * not lead the partition (yet) or `replicaId` is not one of its replicas.
   */
  recordFollowerFetch(
    topic: string,
    partition: number,
    replicaId: number,
    fetchOffset: number,
  ): boolean;
  /** The open log of a partition hosted here, for replica reads. */
  localLog(topic: string, partition: number): ReplicaLog | undefined;
  /** The epoch cache's answer (OffsetForLeaderEpoch, diverging epochs); undefined: no log. */
  endOffsetForEpoch(topic: string, partition: number, epoch: number): EpochEndOffset | undefined;
}
