/**
 * DescribeProducers (key 61), v0.
 * Behaviour: the producer state each partition keeps (rebuilt from the log on start):
 * producer id, epoch, last sequence (-1 when no batch is retained), last timestamp,
 * coordinator epoch, and the first offset of the producer's ongoing transaction (-1 when
 * none) — what `kafka-transactions.sh find-hanging` reads. Unknown partitions get
 * UNKNOWN_TOPIC_OR_PARTITION.
 * Version notes: v0 is flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  DescribeProducersRequest,
  DescribeProducersResponse,
} from "../../protocol/messages/mod.ts";
import type { Msg } from "../../protocol/schema.ts";
import type { ApiRegistration } from "../registry.ts";

export const describeProducers: ApiRegistration = {
  apiKey: 61,
  name: "DescribeProducers",
  minVersion: 0,
  maxVersion: 0,
  request: DescribeProducersRequest,
  response: DescribeProducersResponse,
  handler: (req, { broker }) => ({
    throttleTimeMs: 0,
    topics: (req.topics as Msg[]).map((t) => ({
      name: t.name,
      partitions: (t.partitionIndexes as number[]).map((partitionIndex) => {
        const log = broker.partition(t.name, partitionIndex);
        if (!log) {
          return {
            partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: null,
            activeProducers: [],
          };
        }
        return {
          partitionIndex,
          errorCode: 0,
          errorMessage: null,
          activeProducers: log.producerState.activeProducers().map((p) => ({
            producerId: p.producerId,
            producerEpoch: p.producerEpoch,
            lastSequence: p.batches.length > 0 ? p.batches[p.batches.length - 1].lastSeq : -1,
            lastTimestamp: p.lastTimestamp,
            coordinatorEpoch: p.coordinatorEpoch,
            currentTxnStartOffset: p.currentTxnFirstOffset,
          })),
        };
      }),
    })),
  }),
};
