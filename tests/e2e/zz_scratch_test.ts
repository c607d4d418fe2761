import { startEtcd } from "../support/etcd.ts";
import { until } from "../support/wait.ts";
import {
  answering,
  awaitPartition,
  createTopic,
  partitionsOf,
  replicationCluster,
} from "../support/replication_fixtures.ts";
import { RawClient } from "../support/raw_client.ts";
import { MetadataRequest, MetadataResponse } from "../../protocol/messages/metadata.ts";

Deno.test({
  name: "scratch",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    let t0 = Date.now();
    const etcd = await startEtcd();
    const cluster = await replicationCluster(etcd);
    console.log("started", Date.now() - t0);
    const nb = async (via: number) =>
      ((await RawClient.once(cluster.procs.get(via)!.port, MetadataRequest, MetadataResponse, 12, {
        topics: [],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      })).brokers as unknown[]).length;
    try {
      await createTopic(cluster, "s", { partitions: 3, replicationFactor: 1 });
      t0 = Date.now();
      cluster.pause(1);
      await until("2 brokers", async () => (await nb(2)) === 2);
      console.log("paused gone", Date.now() - t0, answering(cluster));
      cluster.resume(1);
      await until("3 brokers", async () => (await nb(2)) === 3);
      console.log("resumed back", Date.now() - t0);
      t0 = Date.now();
      const before = await partitionsOf(cluster, 1, "s");
      await cluster.kill(2);
      const r = cluster.start(2);
      await until("2 brokers", async () => (await nb(1)) === 2);
      console.log("killed gone", Date.now() - t0);
      await r;
      console.log("restarted", Date.now() - t0);
      await until("3 brokers", async () => (await nb(1)) === 3);
      console.log("back", Date.now() - t0, before, await partitionsOf(cluster, 1, "s"));
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});
