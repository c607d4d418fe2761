/**
 * Fetch (key 1), v0–17.
 * Behaviour: reads whole batches as stored, from the batch containing each fetch offset.
 * Long poll: when fewer than `min_bytes` are ready the request waits up to `max_wait_ms`,
 * woken by appends to any partition it asked for. `max_bytes` (itself capped by the broker's
 * `fetch.max.bytes`) caps the response and `partition_max_bytes` each partition, except that the first batch of the first non-empty
 * partition is always whole (KIP-74) so a consumer never stalls on a large batch.
 * read_uncommitted reads up to the high watermark, read_committed up to the last stable
 * offset and lists the aborted transactions overlapping the returned batches (producer id and
 * first offset, from the partition's aborted-transaction record) so the consumer drops their
 * records; both see the control batches (markers), which clients skip. Offsets outside [log start, log end] get OFFSET_OUT_OF_RANGE; an empty partition
 * answers with empty, non-null records.
 * Offsets that only the cold tier holds (tiered storage, KIP-405) are read from it
 * asynchronously; a partition whose cold read takes longer than `remote.fetch.max.wait.ms`
 * is answered empty (the read goes on and fills the cache for the client's retry) and the
 * request does not long-poll, so a slow cold tier delays no fetch of hot data.
 * With Deno workers each partition is read by its owning worker (src/partition_ops.ts) and
 * the long poll is woken by appends on any worker.
 * Version notes: v0–3 predate record batches: their consumers get the batches down-converted
 * (magic 0 for v0–1, magic 1 for v2–3) as Kafka's FetchResponse down-conversion does (see
 * protocol/records_conversion.ts): transaction markers dropped, headers lost, compressed
 * batches re-compressed as wrappers with their codec; a partition holding zstd batches answers
 * UNSUPPORTED_COMPRESSION_TYPE, as does (below v10) every partition of a topic with
 * `compression.type=zstd`; with `message.downconversion.enable=false` v0–3 get
 * UNSUPPORTED_VERSION. v3+ response max bytes; v4+ isolation level and aborted
 * transactions.
 * Fetch sessions (KIP-227, v7+) are resolved before the handler runs (src/fetch_session.ts):
 * it sees every partition to read, and finishFetchSession trims an incremental answer.
 * Authorization (with an authorizer, as Kafka's KafkaApis): a consumer needs READ on each
 * topic (TOPIC_AUTHORIZATION_FAILED, after an unknown topic id and before an unknown name); a
 * follower (replica id >= 0) needs CLUSTER_ACTION on the cluster, else every partition gets
 * TOPIC_AUTHORIZATION_FAILED.
 * A partition this broker does not lead gets NOT_LEADER_OR_FOLLOWER (LEADER_NOT_AVAILABLE
 * while none does), with the current leader (v12+) and its endpoint (v16+, KIP-951).
 * A follower's fetch (replica id >= 0, in a replicated cluster) reads up to the log end
 * offset rather than the high watermark, records the follower's fetch offset (ISR, HW) and
 * answers a diverging epoch (v12+) when its last fetched epoch does not match the log's
 * (src/replication/replica_read.ts).
 * v9+ current leader epoch: older than the partition's → FENCED_LEADER_EPOCH, newer →
 * UNKNOWN_LEADER_EPOCH (alone, every partition is at epoch 0). v13+ topics by id
 * (unknown → UNKNOWN_TOPIC_ID). v12+ flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  type FetchableTopicResponse,
  FetchRequest,
  FetchResponse,
  type FetchResponsePartitionData,
} from "../../protocol/messages/mod.ts";
import { downConvert } from "../../protocol/records_conversion.ts";
import type { BrokerServices } from "../services.ts";
import { topicConfigValue } from "../config.ts";
import type { FetchRead } from "../fetch_budget.ts";
import { releaseFreshRead } from "../partition_ops.ts";
import { defineApi, type RequestContext } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { finishFetchSession } from "../fetch_session.ts";
import { serveReplicaFetch } from "../replication/replica_read.ts";
import { LeaderHints, wantsLeaderHint } from "./leader_hints.ts";
import { errorCodeOf } from "./util.ts";

const EMPTY = new Uint8Array(0);
const READ_COMMITTED = 1;

/** A partition to read: the read itself (passed as is, no copy per read) and its answer. */
interface Target extends FetchRead {
  /** v12+: the epoch of the follower's last fetched batch (-1: none). */
  lastFetchedEpoch: number;
  /** The partition's answer, filled in as it is read (its records are never null here). */
  out: FetchResponsePartitionData & { records: Uint8Array };
  /** A cold-tier read did not finish within remote.fetch.max.wait.ms. */
  remotePending?: boolean;
}

/** The topics of the request its sender may read (Kafka's checks for consumers and followers). */
function readableTopics(req: FetchRequest, ctx: RequestContext): (topic: string) => boolean {
  const authorizer = ctx.services.authorizer;
  if (!authorizer.enabled) return () => true;
  const replicaId = ctx.apiVersion >= 15 ? req.replicaState?.replicaId ?? -1 : req.replicaId;
  if (replicaId >= 0) {
    const ok = authorizer.authorize(
      ctx,
      AclOperation.CLUSTER_ACTION,
      ResourceType.CLUSTER,
      CLUSTER_NAME,
    );
    return () => ok;
  }
  // Unknown topic ids are answered UNKNOWN_TOPIC_ID before any authorization.
  const names = req.topics.map((t) =>
    ctx.apiVersion >= 13 ? ctx.services.metadataCache.topicById(t.topicId)?.name : t.topic
  ).filter((n): n is string => n !== undefined);
  const allowed = authorizer.filterAuthorized(ctx, AclOperation.READ, ResourceType.TOPIC, names);
  return (topic) => allowed.has(topic);
}

function resolve(
  services: BrokerServices,
  req: FetchRequest,
  apiVersion: number,
  readable: (topic: string) => boolean,
  hints: LeaderHints,
): { targets: Target[]; responses: FetchableTopicResponse[] } {
  const targets: Target[] = [];
  const responses: FetchableTopicResponse[] = [];
  for (const ft of req.topics) {
    const t = apiVersion >= 13
      ? services.metadataCache.topicById(ft.topicId)
      : services.metadataCache.topic(ft.topic);
    const partitions: FetchResponsePartitionData[] = [];
    responses.push({ topic: ft.topic, topicId: ft.topicId, partitions });
    for (const fp of ft.partitions) {
      const out: Target["out"] = {
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
      if ((t || apiVersion < 13) && !readable(t?.name ?? ft.topic)) {
        out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        continue;
      }
      if (!t || !services.replicaManager.hasPartition(t.name, fp.partition)) {
        out.errorCode = apiVersion >= 13 && !t
          ? ErrorCode.UNKNOWN_TOPIC_ID
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        continue;
      }
      const notServed = services.leadership.leaderError(
        t.name,
        fp.partition,
        apiVersion >= 9 ? fp.currentLeaderEpoch : -1,
      );
      if (notServed !== 0) {
        out.errorCode = notServed;
        if (apiVersion >= 12 && wantsLeaderHint(notServed)) {
          out.currentLeader = hints.hint(t.name, fp.partition);
        }
        continue;
      }
      // Down-conversion may be turned off per topic; old consumers are then refused.
      if (
        apiVersion <= 3 &&
        topicConfigValue(services.config, t.configs, "message.downconversion.enable") === false
      ) {
        out.errorCode = ErrorCode.UNSUPPORTED_VERSION;
        continue;
      }
      // Consumers before Fetch v10 (KIP-110) cannot read zstd: Kafka refuses zstd topics to them.
      if (
        apiVersion < 10 &&
        topicConfigValue(services.config, t.configs, "compression.type") === "zstd"
      ) {
        out.errorCode = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
        continue;
      }
      targets.push({
        topic: t.name,
        partition: fp.partition,
        out,
        offset: fp.fetchOffset,
        maxBytes: Math.max(0, fp.partitionMaxBytes),
        lastFetchedEpoch: apiVersion >= 12 ? fp.lastFetchedEpoch : -1,
      });
    }
  }
  return { targets, responses };
}

/** Reads every target once; returns the bytes gathered. */
async function readAll(
  services: BrokerServices,
  targets: Target[],
  maxBytes: number,
  committed: boolean,
  remoteWaitMs = 500,
): Promise<number> {
  const results = await services.replicaManager.fetchMessages(
    targets,
    maxBytes,
    committed,
    remoteWaitMs,
  );
  let total = 0;
  targets.forEach((t, i) => {
    const out = t.out;
    const res = results[i];
    if (!("outcome" in res)) {
      out.errorCode = res.errorCode;
      out.records = EMPTY;
      return;
    }
    const r = res.outcome;
    out.errorCode = r.errorCode;
    out.highWatermark = r.highWatermark;
    out.lastStableOffset = r.lastStableOffset;
    out.logStartOffset = r.logStartOffset;
    out.abortedTransactions = r.abortedTransactions;
    t.remotePending = r.records === null;
    out.records = r.records ?? EMPTY;
    total += out.records.length;
  });
  return total;
}

/**
 * Replaces a partition's v2 batches with the message set an old consumer can read. The
 * read buffer is done with once converted (the result copies what it keeps).
 */
function downConvertTarget(t: Target, toMagic: 0 | 1): void {
  const records = t.out.records;
  if (t.out.errorCode !== 0 || records.length === 0) return;
  try {
    t.out.records = downConvert(records, toMagic, t.offset, t.maxBytes);
  } catch (e) {
    t.out.errorCode = errorCodeOf(e, `down-convert ${t.topic}-${t.partition}`);
    t.out.records = EMPTY;
  }
  releaseFreshRead(records.buffer);
}

export const fetch = defineApi({
  apiKey: 1,
  placement: "partitionOwner",
  retainsRequestBytes: false,
  name: "Fetch",
  minVersion: 0,
  maxVersion: 17,
  request: FetchRequest,
  response: FetchResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    const hints = new LeaderHints(services);
    const { targets, responses } = resolve(
      services,
      req,
      apiVersion,
      readableTopics(req, ctx),
      hints,
    );
    // The broker's fetch.max.bytes caps what a request may ask for, as Kafka does.
    const maxBytes = Math.min(
      apiVersion >= 3 ? Math.max(0, req.maxBytes) : 0x7fffffff,
      services.config.int("fetch.max.bytes"),
    );
    const minBytes = Math.max(0, req.minBytes);
    const replicaId = apiVersion >= 15 ? req.replicaState?.replicaId ?? -1 : req.replicaId;
    const replication = services.replicaManager.replication;
    if (replicaId >= 0 && replication) {
      // A follower's fetch: read to the log end, its state recorded (src/replication/).
      await serveReplicaFetch(replication, replicaId, targets, maxBytes, minBytes, req.maxWaitMs);
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: finishFetchSession(req, responses),
        responses,
        nodeEndpoints: apiVersion >= 16 ? hints.endpoints() : [],
      };
    }
    const committed = req.isolationLevel === READ_COMMITTED;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    const remoteWaitMs = services.replicaManager.remoteFetchMaxWaitMs;
    let total = await readAll(services, targets, maxBytes, committed, remoteWaitMs);
    const anyError = () => targets.some((t) => t.out.errorCode !== 0 || t.remotePending === true);
    while (total < minBytes && !anyError() && targets.length > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await services.replicaManager.waitForAppend(
        targets.map((t) => [t.topic, t.partition, t.out.highWatermark]),
        remaining,
      );
      total = await readAll(services, targets, maxBytes, committed, remoteWaitMs);
    }
    if (apiVersion <= 3) {
      for (const t of targets) downConvertTarget(t, apiVersion <= 1 ? 0 : 1);
    }
    for (const t of targets) {
      if (t.out.records.length) services.metrics.fetched(t.topic, t.out.records.length);
    }
    const sessionId = finishFetchSession(req, responses);
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId,
      responses,
      nodeEndpoints: apiVersion >= 16 ? hints.endpoints() : [],
    };
  },
});
