/**
 * A broker joining its etcd cluster at start: the ClusterNode with the broker's settings,
 * the cluster id (created by the first broker, checked against the data directory's
 * meta.properties), the whole metadata snapshot the local logs open by, and the shared
 * security state started. A failure leaves nothing open.
 */
import type { BrokerConfig } from "../config.ts";
import type { ClusterSecurityState } from "../security/cluster_security.ts";
import type { WorkerCluster } from "../workers/worker_cluster.ts";
import { readMetaClusterId } from "../../storage/partition_metadata.ts";
import { ClusterNode } from "./cluster_node.ts";
import { controllerSettings } from "./controller.ts";
import type { InterBrokerClient } from "./inter_broker_client.ts";
import type { MetadataStore } from "./metadata_store.ts";

export async function joinCluster(
  store: MetadataStore,
  config: BrokerConfig,
  opts: {
    /** The Deno workers this broker runs, if any (worker 0 is the cluster member). */
    cluster?: WorkerCluster;
    interBroker?: InterBrokerClient;
    /** null: memory storage (no meta.properties). */
    dataDir: string | null;
    security?: ClusterSecurityState;
  },
): Promise<{ node: ClusterNode; clusterId: string; snapshotRevision: number }> {
  const { cluster } = opts;
  const node = new ClusterNode(store, {
    nodeId: config.nodeId,
    rack: (config.get("broker.rack") as string | null) ?? null,
    sessionTimeoutMs: config.int("broker.session.timeout.ms"),
    heartbeatIntervalMs: config.int("broker.heartbeat.interval.ms"),
    follower: cluster !== undefined && !cluster.isController,
    workers: cluster !== undefined,
    workerCount: cluster?.count,
    onCatalogueChanged: cluster?.isController
      ? () => cluster.broadcast("syncCatalogue")
      : undefined,
    interBroker: opts.interBroker,
    controller: controllerSettings(config),
  });
  try {
    const clusterId = await node.resolveClusterId(
      opts.dataDir !== null ? readMetaClusterId(`${opts.dataDir}/meta`) : null,
    );
    const snapshotRevision = await node.loadSnapshot();
    await opts.security?.start();
    return { node, clusterId, snapshotRevision };
  } catch (e) {
    await node.close();
    throw e;
  }
}
