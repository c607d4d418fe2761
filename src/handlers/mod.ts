/** Every API this broker serves; the registry built from this list drives ApiVersions. */
import type { HandlerRegistry } from "../registry.ts";
import { apiVersions } from "./api_versions.ts";
import { createPartitions } from "./create_partitions.ts";
import { createTopics } from "./create_topics.ts";
import { deleteTopics } from "./delete_topics.ts";
import { describeCluster } from "./describe_cluster.ts";
import { describeConfigs } from "./describe_configs.ts";
import { fetch } from "./fetch.ts";
import { findCoordinator } from "./find_coordinator.ts";
import { initProducerId } from "./init_producer_id.ts";
import { listOffsets } from "./list_offsets.ts";
import { metadata } from "./metadata.ts";
import { offsetForLeaderEpoch } from "./offset_for_leader_epoch.ts";
import { produce } from "./produce.ts";

export const HANDLERS = [
  produce,
  fetch,
  listOffsets,
  metadata,
  findCoordinator,
  offsetForLeaderEpoch,
  apiVersions,
  createTopics,
  deleteTopics,
  initProducerId,
  describeConfigs,
  createPartitions,
  describeCluster,
];

export function registerHandlers(registry: HandlerRegistry): void {
  for (const h of HANDLERS) registry.register(h);
}
