/**
 * Fetch (key 1), v4–17.
 * Behaviour: reads whole batches as stored, from the batch containing each fetch offset.
 * Long poll: when fewer than `min_bytes` are ready the request waits up to `max_wait_ms`,
 * woken by appends to any partition it asked for. `max_bytes` caps the response and
 * `partition_max_bytes` each partition, except that the first batch of the first non-empty
 * partition is always whole (KIP-74) so a consumer never stalls on a large batch.
 * read_uncommitted reads up to the high watermark, read_committed up to the last stable
 * offset. Offsets outside [log start, log end] get OFFSET_OUT_OF_RANGE; an empty partition
 * answers with empty, non-null records.
 * Version notes: fetch sessions (KIP-227) are not kept: session id 0 is always returned,
 * so clients send full requests; a non-zero session id gets FETCH_SESSION_ID_NOT_FOUND.
 * v9+ current leader epoch: above ours (0) → UNKNOWN_LEADER_EPOCH. v13+ topics by id
 * (unknown → UNKNOWN_TOPIC_ID). v12+ flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { FetchRequest, FetchResponse } from "../../protocol/messages/mod.ts";
import type { Msg } from "../../protocol/schema.ts";
import type { PartitionLog } from "../../storage/partition_log.ts";
import type { Broker } from "../broker.ts";
import type { ApiRegistration } from "../registry.ts";
import { errorCodeOf } from "./util.ts";

const EMPTY = new Uint8Array(0);
const READ_COMMITTED = 1;

interface Target {
  log?: PartitionLog;
  topic: string;
  out: Msg;
  fetchOffset: number;
  maxBytes: number;
}

function resolve(
  broker: Broker,
  req: Msg,
  apiVersion: number,
): { targets: Target[]; responses: Msg[] } {
  const targets: Target[] = [];
  const responses: Msg[] = [];
  for (const ft of req.topics as Msg[]) {
    const t = apiVersion >= 13 ? broker.topicById(ft.topicId) : broker.topic(ft.topic);
    const partitions: Msg[] = [];
    responses.push({ topic: ft.topic, topicId: ft.topicId, partitions });
    for (const fp of ft.partitions as Msg[]) {
      const out: Msg = {
        partitionIndex: fp.partition,
        errorCode: 0,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: EMPTY,
      };
      partitions.push(out);
      const log = t ? broker.partition(t.name, fp.partition) : undefined;
      if (!log) {
        out.errorCode = apiVersion >= 13 && !t
          ? ErrorCode.UNKNOWN_TOPIC_ID
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        continue;
      }
      if (fp.currentLeaderEpoch > 0) {
        out.errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH;
        continue;
      }
      targets.push({
        log,
        topic: t!.name,
        out,
        fetchOffset: fp.fetchOffset,
        maxBytes: Math.max(0, fp.partitionMaxBytes),
      });
    }
  }
  return { targets, responses };
}

/** Reads every target once; returns the bytes gathered. */
async function readAll(targets: Target[], maxBytes: number, committed: boolean): Promise<number> {
  let total = 0;
  let first = true;
  for (const t of targets) {
    const log = t.log!;
    const out = t.out;
    out.highWatermark = log.highWatermark;
    out.lastStableOffset = log.lastStableOffset;
    out.logStartOffset = log.logStartOffset;
    if (committed) out.abortedTransactions = [];
    out.errorCode = 0;
    out.records = EMPTY;
    const limit = Math.min(t.maxBytes, maxBytes - total);
    if (limit <= 0 && !first) continue;
    try {
      const records = await log.read(t.fetchOffset, Math.max(limit, 0), {
        minOneBatch: first,
        upperBound: committed ? log.lastStableOffset : log.highWatermark,
      });
      out.records = records;
      if (records.length > 0) {
        total += records.length;
        first = false;
      }
    } catch (e) {
      out.errorCode = errorCodeOf(e, `fetch ${t.topic}-${out.partitionIndex}`);
    }
  }
  return total;
}

export const fetch: ApiRegistration = {
  apiKey: 1,
  name: "Fetch",
  minVersion: 4,
  maxVersion: 17,
  request: FetchRequest,
  response: FetchResponse,
  handler: async (req, { broker, apiVersion }) => {
    if (req.sessionId !== 0) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        sessionId: 0,
        responses: [],
      };
    }
    const { targets, responses } = resolve(broker, req, apiVersion);
    const maxBytes = apiVersion >= 3 ? Math.max(0, req.maxBytes) : 0x7fffffff;
    const minBytes = Math.max(0, req.minBytes);
    const committed = req.isolationLevel === READ_COMMITTED;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    let total = await readAll(targets, maxBytes, committed);
    const anyError = () => targets.some((t) => t.out.errorCode !== 0);
    while (total < minBytes && !anyError() && targets.length > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await waitForAppend(targets, remaining);
      total = await readAll(targets, maxBytes, committed);
    }
    for (const t of targets) {
      if (t.out.records.length) broker.metrics.fetched(t.topic, t.out.records.length);
    }
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
  },
};

/** Resolves on the first append to any target partition, or after `ms`. */
function waitForAppend(targets: Target[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const unsubs: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const u of unsubs) u();
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const t of targets) unsubs.push(t.log!.onAppend(done));
  });
}
