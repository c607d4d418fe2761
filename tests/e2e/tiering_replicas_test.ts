/**
 * Tiered storage with three replicas, three broker processes over a real etcd sharing one
 * directory cold tier: only the leader copies segments (the followers' copy counters stay 0),
 * the followers learn what is tiered from the metadata the leader publishes and drop their own
 * local copies under local.retention.bytes=0 like the leader (one that was down while the
 * leader trimmed fetches from below the leader's local log start, which the leader serves
 * from the tier); after kill -9 of the leader the
 * new leader copies only what was not tiered yet, deletes none of the old leader's objects,
 * and a consumer reads every record, from both tiers, at its offset.
 */
import assert from "node:assert/strict";
import { startEtcd } from "../support/etcd.ts";
import { until } from "../support/wait.ts";
import { kcatProduce, kcatRead } from "../support/workers_fixtures.ts";
import { kafkajs, TestCluster } from "../support/cluster_fixtures.ts";
import { gauge, getJson, type Json, startWithAdmin } from "../support/admin_cluster.ts";

const TOPIC = "tiered3";

function lines(from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(`key-${i}\tvalue-${i}-${"x".repeat(i % 40)}`);
  return out;
}

/** `key\tvalue` lines to partition 0 with kcat, acks=all, in batches of at most 4 KiB. */
function produce(address: string, ls: string[]): Promise<void> {
  const records = ls.map((l) => l.split("\t") as [string, string]);
  return kcatProduce(address, TOPIC, 0, records, ["-X", "batch.size=4096"]);
}

/** .log objects in the directory tier. */
async function tierLogObjects(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else if (e.name.endsWith(".log")) out.add(e.name);
    }
  };
  await walk(root).catch(() => {});
  return out;
}

Deno.test({
  name: "tiered storage with rf=3: the leader tiers, followers follow, failover loses nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const cluster = new TestCluster(etcd);
    const tier = await Deno.makeTempDir({ prefix: "tributary-tier3-" });
    const settings = {
      "remote.log.storage.system.enable": "true",
      "remote.log.storage.uri": `file://${tier}`,
      "remote.log.manager.task.interval.ms": "50",
      "remote.log.manager.task.retry.backoff.ms": "50",
      "remote.log.manager.task.retry.backoff.max.ms": "300",
      "log.retention.check.interval.ms": "100",
    };
    const admin = new Map<number, string>();
    const part = (id: number): Promise<Json> =>
      getJson(`${admin.get(id)}/v1/topics/${TOPIC}/partitions/0`);
    try {
      for (const id of [1, 2, 3]) admin.set(id, await startWithAdmin(cluster, id, settings));
      const client = kafkajs([cluster.address(1)]).admin();
      await client.connect();
      try {
        await client.createTopics({
          topics: [{
            topic: TOPIC,
            numPartitions: 1,
            replicationFactor: 3,
            configEntries: [
              { name: "remote.storage.enable", value: "true" },
              { name: "segment.bytes", value: "8192" },
              { name: "local.retention.bytes", value: "0" },
              { name: "min.insync.replicas", value: "2" },
            ],
          }],
          waitForLeaders: true,
        });
      } finally {
        await client.disconnect();
      }
      const first = await until("3 replicas in sync", async () => {
        const p = await part(1);
        return p.leader >= 0 && p.isr.length === 3 ? p : null;
      });
      const leader = first.leader as number;
      const followers = [1, 2, 3].filter((id) => id !== leader);
      // One follower is down while the leader tiers and trims: it comes back below the
      // leader's local log start.
      const late = followers[1];
      await cluster.kill(late);
      await until("the late follower out of the ISR", async () => {
        const p = await part(leader);
        return !p.isr.includes(late);
      });
      const want = lines(0, 600);
      await produce(cluster.address(leader), want);

      // The leader tiers and drops its local copies; the followers adopt its view and drop
      // theirs, without uploading anything.
      const tiered = await until("the leader tiered and trimmed its local log", async () => {
        const p = await part(leader);
        return p.highestOffsetInRemoteStorage > 0 && p.localLogStartOffset > 0 ? p : null;
      });
      admin.set(late, await startWithAdmin(cluster, late, settings));
      await until("the late follower back in the ISR", async () => {
        const p = await part(leader);
        return p.isr.length === 3;
      });
      for (const f of followers) {
        await until(`follower ${f} knows what is tiered and trimmed its own copy`, async () => {
          const p = await part(f);
          return p.logEndOffset === 600 && p.remoteSegments > 0 &&
            p.highestOffsetInRemoteStorage >= tiered.highestOffsetInRemoteStorage &&
            p.localLogStartOffset > tiered.highestOffsetInRemoteStorage - 1;
        });
        assert.equal(await gauge(admin.get(f)!, "tributary_remote_segments_copied_total"), 0);
        assert.equal(await gauge(admin.get(f)!, "tributary_remote_segments_deleted_total"), 0);
      }
      const copiedByLeader = await gauge(
        admin.get(leader)!,
        "tributary_remote_segments_copied_total",
      );
      assert.ok(copiedByLeader > 0);
      const before = await tierLogObjects(tier);

      // kill -9 of the leader: a follower leads and continues from the published metadata.
      await cluster.kill(leader);
      const next = await until("a new leader", async () => {
        const p = await part(followers[0]);
        return p.leader >= 0 && p.leader !== leader ? p.leader as number : null;
      });
      const remoteBefore = (await part(next)).remoteSegments as number;
      const more = lines(600, 1200);
      await produce(cluster.address(next), more);
      const after = await until("the new leader tiered the new segments", async () => {
        const p = await part(next);
        return p.highestOffsetInRemoteStorage > 700 && p.localLogStartOffset > 700 ? p : null;
      });
      const copiedByNext = await gauge(admin.get(next)!, "tributary_remote_segments_copied_total");
      assert.ok(copiedByNext > 0);
      assert.equal(
        after.remoteSegments,
        remoteBefore + copiedByNext,
        "nothing already tiered was copied again",
      );
      const objects = await tierLogObjects(tier);
      for (const o of before) assert.ok(objects.has(o), `the old leader's ${o} is kept`);
      assert.equal(await gauge(admin.get(next)!, "tributary_remote_segments_deleted_total"), 0);

      // Every record, from both tiers, at its offset.
      const out = await kcatRead(cluster.address(next), TOPIC, 0, "%o\t%k\t%s\n", [], 90_000);
      const all = [...want, ...more];
      assert.equal(out.length, all.length, "record count");
      for (let i = 0; i < all.length; i++) assert.equal(out[i], `${i}\t${all[i]}`);
    } finally {
      await cluster.close();
      await etcd.cleanup();
      await Deno.remove(tier, { recursive: true }).catch(() => {});
    }
  },
});
