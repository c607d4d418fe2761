/**
 * A process for tests/unit/truncation_crash_test.ts to kill -9: it opens the partition log in
 * `Deno.args[0]` (recovering whatever the last kill left) and then, forever, appends
 * idempotent batches under a new leader epoch and truncates the log back, printing
 * "cycle <n>" after each round. Segments are small so every truncation deletes segments and
 * cuts one, and rolls write producer snapshots that truncations must delete.
 */
import { encodeRecordBatch } from "../../protocol/records.ts";
import { logConfig } from "../../storage/log_config.ts";
import { PartitionLog } from "../../storage/partition_log.ts";

export const CRASH_PRODUCER_ID = 42;
export const CRASH_SEGMENT_BYTES = 300;

/** Appends and truncates `dir`'s log until killed. */
async function main(dir: string): Promise<void> {
  const log = await PartitionLog.open(
    dir,
    logConfig({ segmentBytes: CRASH_SEGMENT_BYTES, flushIntervalMessages: 1 }),
    { topic: "crash", partition: 0 },
  );
  const out = new TextEncoder();
  for (let cycle = 1;; cycle++) {
    const epoch = log.leaderEpochCache.latestEpoch + 1;
    for (let i = 0; i < 6; i++) {
      const seq = (log.producerState.get(CRASH_PRODUCER_ID)?.batches.at(-1)?.lastSeq ?? -1) + 1;
      await log.append(
        encodeRecordBatch({
          producerId: CRASH_PRODUCER_ID,
          producerEpoch: 0,
          baseSequence: seq,
          records: [{ value: `c${cycle}-${i}-a` }, { value: `c${cycle}-${i}-b` }],
        }),
        { leaderEpoch: epoch },
      );
    }
    // Back by three and a half batches: a cut inside a batch, across segments.
    await log.truncateTo(log.logEndOffset - 7);
    await Deno.stdout.write(out.encode(`cycle ${cycle}\n`));
  }
}

if (import.meta.main) await main(Deno.args[0]);
