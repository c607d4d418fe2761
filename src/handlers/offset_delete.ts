/**
 * OffsetDelete (key 47), v0.
 * Behaviour (KIP-496): deletes a group's committed offsets for the given partitions
 * (tombstones in `__consumer_offsets`). An Empty group may lose any offset; a consumer group
 * with members only offsets of topics no member subscribes to (others answer
 * GROUP_SUBSCRIBED_TO_TOPIC). Top-level errors: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (active
 * group of another protocol type). Unknown partitions: UNKNOWN_TOPIC_OR_PARTITION.
 * Version notes: only v0 exists (not flexible).
 */
import { OffsetDeleteRequest, OffsetDeleteResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";

export const offsetDelete = defineApi({
  apiKey: 47,
  name: "OffsetDelete",
  minVersion: 0,
  maxVersion: 0,
  request: OffsetDeleteRequest,
  response: OffsetDeleteResponse,
  handler: async (req, { services }) => {
    const r = await services.groups.deleteOffsets(
      req.groupId,
      req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => p.partitionIndex),
      })),
    );
    return { errorCode: r.errorCode, throttleTimeMs: 0, topics: r.topics };
  },
});
