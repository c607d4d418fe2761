/**
 * The leader's ISR write (Kafka's ZooKeeper-era Partition.updateIsr, the role AlterPartition
 * took in KIP-497): a transaction on the partition's state record that succeeds only if the
 * record is still the one this leader last saw (its modRevision), writing the same leader
 * and leader epoch, the new ISR and partitionEpoch + 1. On a lost compare the record is read
 * back: a new leader or leader epoch means this broker no longer leads (the watch brings the
 * change); otherwise the caller recomputes from the record and tries again.
 */
import { jsonOf, partitionKey, type PartitionState } from "../cluster/cluster_records.ts";
import type { MetadataStore } from "../cluster/metadata_store.ts";

export type IsrWriteResult =
  | { kind: "written"; state: PartitionState; modRevision: number }
  /** Someone else changed the record but this broker still leads at this epoch. */
  | { kind: "stale"; state: PartitionState; modRevision: number }
  /** The leader or leader epoch moved on (or the record is gone): stop leading. */
  | { kind: "fenced"; state: PartitionState | null };

export async function writeIsr(
  store: MetadataStore,
  topic: string,
  partition: number,
  seen: { state: PartitionState; modRevision: number },
  isr: number[],
): Promise<IsrWriteResult> {
  const key = partitionKey(topic, partition);
  const next: PartitionState = {
    ...seen.state,
    isr,
    partitionEpoch: seen.state.partitionEpoch + 1,
  };
  const r = await store.txn({
    compare: [{ key, target: "modRevision", result: "equal", modRevision: seen.modRevision }],
    success: [{ put: { key, value: JSON.stringify(next) } }],
    failure: [{ get: { key } }],
  });
  if (r.succeeded) return { kind: "written", state: next, modRevision: r.revision };
  const kv = r.responses[0]?.kvs?.[0];
  if (!kv) return { kind: "fenced", state: null };
  const current = jsonOf<PartitionState>(kv);
  if (current.leader !== seen.state.leader || current.leaderEpoch !== seen.state.leaderEpoch) {
    return { kind: "fenced", state: current };
  }
  return { kind: "stale", state: current, modRevision: kv.modRevision };
}
