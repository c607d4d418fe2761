/**
 * With Deno workers a partition's log is open on its owner worker, and replication (replica
 * fetchers, the leader's follower tracking) runs only on brokers without workers: a broker
 * started with `--workers` N > 1 in a cluster refuses to create replicated topics
 * (INVALID_REPLICATION_FACTOR, saying why) and creates the internal topics with one replica,
 * as before replication, rather than leave replicas that never fetch.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { TopicPlacement } from "../cluster/topic_placement.ts";

export function placementWithWorkers(name: string, p: TopicPlacement): TopicPlacement {
  if (p.capToLiveBrokers) return { ...p, replicationFactor: 1 };
  const rf = p.assignments?.length
    ? Math.max(...p.assignments.map((a) => a.length))
    : p.replicationFactor;
  if (rf > 1) {
    throw new KafkaError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Replication factor: ${rf} for topic '${name}' needs brokers without Deno workers: ` +
        `this broker runs --workers > 1, where partitions are not replicated (run --workers 1).`,
    );
  }
  return p;
}
