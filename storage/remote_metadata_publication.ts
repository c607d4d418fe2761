/**
 * The remote log metadata a partition's leader publishes in the cold tier, so its followers
 * and the next leader know what is tiered (Kafka shares RemoteLogSegmentMetadata through the
 * replicated `__remote_log_metadata` topic; this project keeps one object per partition next
 * to its segments, replaced whole by the leader after every change it makes):
 *
 *   { "version": 1, "brokerId": 2, "leaderEpoch": 5, "segments": [RemoteLogSegmentMetadata] }
 *
 * Only COPY_SEGMENT_FINISHED segments are published: they are the data. A segment whose copy
 * or deletion was under way is absent, so a new leader's orphan sweep deletes its objects,
 * exactly as a restarted single broker does. `leaderEpoch` is the publisher's leader epoch:
 * a leader that finds a newer epoch published has been deposed and publishes nothing more;
 * one that finds an older epoch (a deposed leader's late write) publishes its own view again.
 */
import type { RemoteLogSegmentMetadata } from "./remote_storage.ts";

export interface PublishedRemoteMetadata {
  version: 1;
  brokerId: number;
  leaderEpoch: number;
  segments: RemoteLogSegmentMetadata[];
}

export function encodePublished(
  brokerId: number,
  leaderEpoch: number,
  segments: readonly RemoteLogSegmentMetadata[],
): Uint8Array {
  const body: PublishedRemoteMetadata = {
    version: 1,
    brokerId,
    leaderEpoch,
    segments: segments.filter((m) => m.state === "COPY_SEGMENT_FINISHED"),
  };
  return new TextEncoder().encode(JSON.stringify(body));
}

/** Parses a published object; throws on one this version cannot read. */
export function decodePublished(bytes: Uint8Array): PublishedRemoteMetadata {
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as PublishedRemoteMetadata;
  if (parsed?.version !== 1 || !Array.isArray(parsed.segments)) {
    throw new Error("unsupported published remote log metadata");
  }
  return parsed;
}

/** A digest of the tiered segments of a view, to tell whether it needs publishing. */
export function viewDigest(segments: readonly RemoteLogSegmentMetadata[]): string {
  return segments.filter((m) => m.state === "COPY_SEGMENT_FINISHED").map((m) => m.segmentId)
    .join(",");
}
