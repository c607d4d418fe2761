/**
 * A follower's append (Kafka's UnifiedLog.appendAsFollower): the leader's batches are stored
 * byte for byte, with the offsets, leader epochs and timestamps the leader gave them. They are
 * only checked for being whole, uncorrupted v2 batches in offset order (the leader validated
 * the records), and they update the producer state exactly as a replay would, so a follower
 * that becomes leader continues every producer's sequences and open transactions.
 *
 * Offsets: the first batch may not start below the log end offset (OFFSET_OUT_OF_RANGE,
 * nothing appended: the follower's log and the leader's disagree, truncate first). It may
 * start above it: a compacted leader log has gaps where whole batches were cleaned away, and
 * the leader answers a fetch at the follower's log end with the next batch it holds, as Kafka
 * allows. A trailing partial batch (a fetch cut by its byte limit) is left for the next fetch.
 */
import {
  type BatchHeader,
  isControl,
  isCrcValid,
  lastOffset,
  MAGIC_V2,
  MIN_BATCH_LENGTH,
  readBatchHeader,
  readControlRecordType,
  readMarkerCoordinatorEpoch,
  RECORD_BATCH_OVERHEAD,
  totalSize,
} from "../protocol/record_batch.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { ProducerAppendInfo, ProducerStateManager } from "./producer_state.ts";

/** A checked follower append, staged: nothing is visible until the log commits it. */
export interface FollowerAppend {
  /** The whole batches of the input (a view of it, without a trailing partial batch). */
  records: Uint8Array;
  headers: BatchHeader[];
  /** Producer state changes staged from the batches. */
  info: ProducerAppendInfo;
  firstOffset: number;
  /** The offset after the last batch (the new log end offset). */
  nextOffset: number;
  recordCount: number;
  maxTimestamp: number;
}

/**
 * Checks `records` from the leader for appending at `logEndOffset` and stages their producer
 * state; null when they hold no whole batch. Throws KafkaError (nothing staged): CORRUPT_MESSAGE
 * for a bad magic, length or CRC, or offsets out of order; OFFSET_OUT_OF_RANGE when the first
 * batch starts below the log end offset.
 */
export function prepareFollowerAppend(
  records: Uint8Array,
  logEndOffset: number,
  producerState: ProducerStateManager,
  name: string,
): FollowerAppend | null {
  const headers: BatchHeader[] = [];
  let pos = 0;
  let prevLast = -1;
  let recordCount = 0;
  let maxTimestamp = -1;
  while (records.length - pos >= RECORD_BATCH_OVERHEAD) {
    const h = readBatchHeader(records, pos);
    if (h.magic !== MAGIC_V2) {
      throw new KafkaError(
        ErrorCode.CORRUPT_MESSAGE,
        `${name}: the leader's batch at position ${pos} has magic ${h.magic}`,
      );
    }
    if (
      h.batchLength < MIN_BATCH_LENGTH || h.lastOffsetDelta < 0 || h.baseOffset < 0 ||
      h.baseOffset + h.lastOffsetDelta > Number.MAX_SAFE_INTEGER
    ) {
      throw new KafkaError(
        ErrorCode.CORRUPT_MESSAGE,
        `${name}: the leader's batch at position ${pos} has a bad length or offset delta`,
      );
    }
    const size = totalSize(h);
    if (pos + size > records.length) break; // partial: the next fetch brings it whole
    if (!isCrcValid(records, pos, size)) {
      throw new KafkaError(
        ErrorCode.CORRUPT_MESSAGE,
        `${name}: the leader's batch at offset ${h.baseOffset} fails its CRC`,
      );
    }
    if (headers.length === 0 && h.baseOffset < logEndOffset) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `${name}: the leader's batches start at offset ${h.baseOffset}, below the log end offset ${logEndOffset}`,
      );
    }
    if (headers.length > 0 && h.baseOffset <= prevLast) {
      throw new KafkaError(
        ErrorCode.CORRUPT_MESSAGE,
        `${name}: the leader's batch at offset ${h.baseOffset} does not follow offset ${prevLast}`,
      );
    }
    prevLast = lastOffset(h);
    recordCount += h.recordCount;
    if (h.maxTimestamp > maxTimestamp) maxTimestamp = h.maxTimestamp;
    headers.push(h);
    pos += size;
  }
  if (headers.length === 0) return null;
  const info = producerState.prepareAppend();
  let at = 0;
  for (const h of headers) {
    const control = isControl(h);
    const controlType = control ? readControlRecordType(records, at, h) : -1;
    const epoch = control ? readMarkerCoordinatorEpoch(records, at, h) : -1;
    info.append(h, false, controlType, epoch, false);
    at += totalSize(h);
  }
  return {
    records: pos === records.length ? records : records.subarray(0, pos),
    headers,
    info,
    firstOffset: headers[0].baseOffset,
    nextOffset: prevLast + 1,
    recordCount,
    maxTimestamp,
  };
}
