/**
 * DescribeLogDirs (key 35), v0–4.
 * Behaviour: as Kafka with one log dir and no authorizer: one result, the broker's data
 * directory as an absolute path, listing every replica it holds, leader or follower (topics
 * null), or the requested ones it holds (unknown topics and partitions, and in a cluster
 * partitions whose replicas are on other brokers, are left out, and so is a topic none of
 * whose partitions matched), each with its size (bytes of its local segments, Kafka's
 * `log.size`), offsetLag as Kafka's ReplicaManager.getLogEndOffsetLag for a current log:
 * max(high watermark - log end offset, 0) — 0 on the leader (its HW never passes its LEO), and
 * on a follower how far its log is behind the high watermark it learned from the leader — and
 * isFutureKey false (no AlterReplicaLogDirs). Topics are sorted by name, partitions by index.
 * Authorization (with an authorizer, as Kafka): DESCRIBE on the cluster, else no results and
 * the top-level CLUSTER_AUTHORIZATION_FAILED (v3+).
 * With memory storage the one log dir is named `(memory)` (not a path), sizes are the bytes
 * held in memory, and v4's volume space is -1.
 * Version notes: v0–1 have the same layout (v0 was removed in Kafka 4.0, 3.9 serves it);
 * v2 is flexible; v3 adds the top-level errorCode (0); v4 adds totalBytes and usableBytes of
 * the volume the data directory is on (statfs, which needs --allow-sys, as `deno task start`
 * grants; -1 when it cannot be read).
 */
import { MEMORY_DATA_DIR } from "../../storage/memory_log_directory.ts";
import { statfs } from "node:fs/promises";
import { resolve } from "node:path";
import {
  type DescribeLogDirsPartition,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  type DescribeLogDirsTopic,
} from "../../protocol/messages/mod.ts";
import type { BrokerServices } from "../services.ts";
import { defineApi } from "../registry.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";

interface VolumeSpace {
  totalBytes: number;
  usableBytes: number;
}

/** Total and usable bytes of the volume holding `dir` (Java's FileStore total/usable space). */
async function volumeSpace(dir: string): Promise<VolumeSpace> {
  try {
    // Deno.statfs where the runtime has it, else node:fs's statfs; -1 when neither works.
    const denoStatfs = (Deno as unknown as {
      statfs?: (p: string) => Promise<{ blocks: number; bavail: number; bsize: number }>;
    }).statfs;
    const s = denoStatfs ? await denoStatfs(dir) : await statfs(dir);
    const total = Number(s.blocks) * Number(s.bsize);
    const usable = Number(s.bavail) * Number(s.bsize);
    if (!Number.isFinite(total) || !Number.isFinite(usable)) throw new Error("no statfs");
    // Kafka reports Long.MAX_VALUE when Java's long overflowed (negative); we cannot overflow.
    return { totalBytes: total, usableBytes: usable };
  } catch {
    return { totalBytes: -1, usableBytes: -1 };
  }
}

/** The partitions asked for, by topic; null means every partition. */
function requested(req: DescribeLogDirsRequest): Map<string, Set<number>> | null {
  if (req.topics === null || req.topics === undefined) return null;
  const out = new Map<string, Set<number>>();
  for (const t of req.topics) {
    const set = out.get(t.topic) ?? new Set<number>();
    for (const p of t.partitions) set.add(p);
    out.set(t.topic, set);
  }
  return out;
}

async function describeTopics(
  services: BrokerServices,
  wanted: Map<string, Set<number>> | null,
): Promise<DescribeLogDirsTopic[]> {
  const topics: DescribeLogDirsTopic[] = [];
  const all = services.metadataCache.topics().sort((
    a,
    b,
  ) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of all) {
    const want = wanted ? wanted.get(t.name) : undefined;
    if (wanted && !want) continue;
    const reads: Promise<DescribeLogDirsPartition | null>[] = [];
    for (let p = 0; p < t.partitions; p++) {
      if (want && !want.has(p)) continue;
      reads.push(
        services.replicaManager.partitionOp(t.name, p, "status", {}).then(
          (st) => ({
            partitionIndex: p,
            partitionSize: st.localBytes,
            offsetLag: Math.max(st.highWatermark - st.logEndOffset, 0),
            isFutureKey: false,
          }),
          () => null, // deleted meanwhile
        ),
      );
    }
    const partitions = (await Promise.all(reads)).filter((x): x is DescribeLogDirsPartition =>
      x !== null
    );
    if (partitions.length > 0) topics.push({ name: t.name, partitions });
  }
  return topics;
}

export const describeLogDirs = defineApi({
  apiKey: 35,
  name: "DescribeLogDirs",
  minVersion: 0,
  maxVersion: 4,
  request: DescribeLogDirsRequest,
  response: DescribeLogDirsResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    if (
      !services.authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)
    ) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    }
    const dir = services.replicaManager.dataDir;
    const inMemory = dir === MEMORY_DATA_DIR;
    const logDir = inMemory ? dir : resolve(dir);
    const space = apiVersion >= 4 && !inMemory
      ? await volumeSpace(logDir)
      : { totalBytes: -1, usableBytes: -1 };
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      results: [{
        errorCode: 0,
        logDir,
        topics: await describeTopics(services, requested(req)),
        totalBytes: space.totalBytes,
        usableBytes: space.usableBytes,
      }],
    };
  },
});
