/**
 * The leader's answer to a follower's Fetch (Kafka's Partition.fetchRecords for a replica):
 * per partition, a diverging epoch when the follower's `last_fetched_epoch` and fetch offset
 * do not match this log's epochs (nothing read then); else the follower's fetch state is
 * recorded first (it may join the ISR and move the HW) and batches are read up to the log end
 * offset, not the HW (a broker not among the partition's replicas gets NOT_LEADER_OR_FOLLOWER,
 * as from Kafka). The answer carries the HW, the LSO and the log start offset. The long
 * poll waits for an append to any of the partitions, up to `max_wait_ms`, until `min_bytes`
 * are ready. Not counted as consumer traffic.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { FetchResponsePartitionData } from "../../protocol/messages/mod.ts";
import { errorCodeOf } from "../handlers/util.ts";
import type { ReplicationApi } from "./replication_api.ts";
import type { ReplicaLog } from "./replica_log.ts";

const EMPTY = new Uint8Array(0);

export interface ReplicaReadTarget {
  topic: string;
  partition: number;
  offset: number;
  maxBytes: number;
  lastFetchedEpoch: number;
  out: FetchResponsePartitionData & { records: Uint8Array };
}

async function readOne(
  replication: ReplicationApi,
  replicaId: number,
  t: ReplicaReadTarget,
  budget: number,
  first: boolean,
): Promise<number> {
  const l = replication.localLog(t.topic, t.partition);
  const out = t.out;
  if (!l) {
    out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    return 0;
  }
  out.records = EMPTY;
  try {
    if (t.lastFetchedEpoch >= 0) {
      const e = l.endOffsetForEpoch(t.lastFetchedEpoch);
      if (e.epoch < t.lastFetchedEpoch || e.endOffset < t.offset) {
        out.divergingEpoch = { epoch: e.epoch, endOffset: e.endOffset };
        fill(out, l);
        return 0;
      }
    }
    if (t.offset < l.logStartOffset || t.offset > l.logEndOffset) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `replica fetch offset ${t.offset} outside [${l.logStartOffset}, ${l.logEndOffset}]`,
      );
    }
    if (!replication.recordFollowerFetch(t.topic, t.partition, replicaId, t.offset)) {
      // Kafka's followerReplicaOrThrow: only the partition's replicas fetch as followers.
      throw new KafkaError(
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        `broker ${replicaId} is not a follower of ${t.topic}-${t.partition} here`,
      );
    }
    const maxBytes = Math.max(0, Math.min(t.maxBytes, budget));
    const opts = { minOneBatch: first, upperBound: l.logEndOffset };
    out.records = l.isRemoteOffset(t.offset)
      ? await l.read(t.offset, maxBytes, opts)
      : l.readLocal(t.offset, maxBytes, opts);
    fill(out, l);
    out.errorCode = 0;
    return out.records.length;
  } catch (e) {
    out.errorCode = errorCodeOf(e, `replica fetch ${t.topic}-${t.partition}`);
    out.records = EMPTY;
    return 0;
  }
}

function fill(out: FetchResponsePartitionData, l: ReplicaLog): void {
  out.highWatermark = l.highWatermark;
  out.lastStableOffset = l.lastStableOffset;
  out.logStartOffset = l.logStartOffset;
}

/** Reads every target, long-polling as the request asks. */
export async function serveReplicaFetch(
  replication: ReplicationApi,
  replicaId: number,
  targets: ReplicaReadTarget[],
  maxBytes: number,
  minBytes: number,
  maxWaitMs: number,
): Promise<void> {
  const deadline = Date.now() + Math.max(0, maxWaitMs);
  for (;;) {
    let total = 0;
    for (const t of targets) {
      total += await readOne(replication, replicaId, t, maxBytes - total, total === 0);
    }
    const remaining = deadline - Date.now();
    if (
      total >= minBytes || remaining <= 0 || targets.length === 0 ||
      targets.some((t) => t.out.errorCode !== 0 || t.out.divergingEpoch)
    ) return;
    await new Promise<void>((resolve) => {
      const unsubs: (() => void)[] = [];
      const done = () => {
        clearTimeout(timer);
        for (const u of unsubs) u();
        resolve();
      };
      const timer = setTimeout(done, remaining);
      for (const t of targets) {
        const l = replication.localLog(t.topic, t.partition);
        if (!l) continue;
        if (l.logEndOffset > t.offset) {
          done();
          return;
        }
        unsubs.push(l.onAppend(done));
      }
    });
  }
}
