/**
 * Replication as the admin API, /metrics and the console show it, on three broker processes
 * over a real etcd: every broker's /v1/cluster lists the three brokers with the controller
 * and the partitions each leads; /v1/topics gives each partition's leader, leader epoch,
 * replicas and ISR (a partition held on other brokers included, without local offsets);
 * /metrics carries Kafka's LeaderCount, ActiveControllerCount and OfflinePartitionsCount.
 * kill -9 of a broker takes its partition offline: the controller reports it offline (the
 * gauge, the flags, the broker listed as down, a new leader epoch) and the console in
 * Chromium marks the partition, the topic and the broker; the broker's restart clears it.
 * With three replicas (replication factor 3): every broker lists and DescribeLogDirs reports
 * its copy, the leader's /metrics gives each follower's lag; a follower's kill -9 makes the
 * partition under-replicated (ISR shrink counted on the leader), its return expands the ISR.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { kcat } from "../support/helpers.ts";
import { gauge, getJson as get, type Json, startWithAdmin } from "../support/admin_cluster.ts";
import { RawClient } from "../support/raw_client.ts";
import { DescribeLogDirsRequest, DescribeLogDirsResponse } from "../../protocol/messages/mod.ts";
import { startEtcd } from "../support/etcd.ts";
import { until } from "../support/wait.ts";
import { kafkajs, TestCluster } from "../support/cluster_fixtures.ts";

const CHROMIUM = "/usr/bin/chromium";
const TOPIC = "vis";

/** Opens `url` in headless Chromium, runs `fn` on the page; no page error may occur. */
async function withConsole(url: string, fn: (page: Page) => Promise<void>): Promise<void> {
  const userDataDir = await Deno.makeTempDir({ prefix: "tributary-chromium-" });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await fn(page);
    assert.deepEqual(errors, []);
  } finally {
    await context.close().catch(() => {});
    await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "replication visibility: admin API, /metrics and console over a 3-broker cluster",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const etcd = await startEtcd();
    const cluster = new TestCluster(etcd);
    const admin = new Map<number, string>();
    try {
      for (const id of [1, 2, 3]) admin.set(id, await startWithAdmin(cluster, id));
      await until("3 brokers registered", async () => {
        const c = await get(`${admin.get(1)}/v1/cluster`);
        return c.brokers.length === 3 && c.controllerId >= 0;
      });
      const controller = await cluster.controllerInEtcd();
      const client = kafkajs([cluster.address(1)]).admin();
      await client.connect();
      try {
        assert.equal(
          await client.createTopics({
            topics: [{ topic: TOPIC, numPartitions: 3 }],
            waitForLeaders: true,
          }),
          true,
        );
      } finally {
        await client.disconnect();
      }
      /** Partition index → its leader, as broker 1 reports it. */
      const leaders = new Map<number, number>();

      await t.step("every broker lists every partition's replication state", async () => {
        for (const id of [1, 2, 3]) {
          const topic = await until(`broker ${id} sees the topic led`, async () => {
            const r = await fetch(`${admin.get(id)}/v1/topics/${TOPIC}`);
            if (r.status !== 200) return null;
            const j: Json = await r.json();
            return j.partitions.length === 3 && j.partitions.every((p: Json) => p.leader >= 0)
              ? j
              : null;
          });
          for (const p of topic.partitions) {
            if (id === 1) leaders.set(p.partition, p.leader);
            assert.equal(p.leader, leaders.get(p.partition));
            assert.equal(p.leaderEpoch, 0);
            assert.deepEqual(p.replicas, [p.leader]);
            assert.deepEqual(p.isr, [p.leader]);
            assert.deepEqual(p.offlineReplicas, []);
            assert.equal(p.underReplicated, false);
            assert.equal(p.underMinIsr, false);
            assert.equal(p.offline, false);
            // Its log is on its one replica; the others list it without offsets.
            assert.equal(p.local, p.leader === id);
            assert.equal(p.highWatermark, p.leader === id ? 0 : -1);
          }
        }
        // Kafka's round-robin: one partition on each broker.
        assert.deepEqual([...leaders.values()].sort(), [1, 2, 3]);
      });

      await t.step("DescribeLogDirs: each broker reports the replicas it holds", async () => {
        for (const id of [1, 2, 3]) {
          const r = await RawClient.once(
            cluster.procs.get(id)!.port,
            DescribeLogDirsRequest,
            DescribeLogDirsResponse,
            4,
            { topics: null },
          );
          assert.equal(r.errorCode, 0);
          const mine = r.results[0].topics.find((x: Json) => x.name === TOPIC);
          const held = [...leaders].filter(([, l]) => l === id).map(([p]) => p);
          assert.deepEqual(
            mine?.partitions.map((p: Json) => [p.partitionIndex, p.offsetLag, p.isFutureKey]),
            held.map((p) => [p, 0, false]),
          );
        }
      });

      await t.step("/v1/cluster and /metrics: brokers, controller, leaders", async () => {
        for (const id of [1, 2, 3]) {
          const c = await get(`${admin.get(id)}/v1/cluster`);
          assert.equal(c.controllerId, controller);
          assert.deepEqual(
            c.brokers.map((b: Json) => [b.brokerId, b.live, b.controller, b.leaderCount]),
            [1, 2, 3].map((b) => [b, true, b === controller, 1]),
          );
          assert.deepEqual(c.brokers.map((b: Json) => b.port), [
            cluster.procs.get(1)!.port,
            cluster.procs.get(2)!.port,
            cluster.procs.get(3)!.port,
          ]);
          assert.deepEqual(c.replication, {
            partitions: 3,
            underReplicatedPartitions: 0,
            underMinIsrPartitions: 0,
            offlinePartitions: 0,
          });
          assert.equal(await gauge(admin.get(id)!, "tributary_leader_partitions"), 1);
          assert.equal(
            await gauge(admin.get(id)!, "tributary_active_controller"),
            id === controller ? 1 : 0,
          );
          assert.equal(await gauge(admin.get(id)!, "tributary_under_replicated_partitions"), 0);
          assert.equal(await gauge(admin.get(id)!, "tributary_offline_partitions"), 0);
        }
      });

      const victim = [1, 2, 3].find((id) => id !== controller)!;
      const lost = [...leaders].find(([, l]) => l === victim)![0];
      const url = admin.get(controller)!;

      await t.step("kill -9 of a broker: its partition is reported offline", async () => {
        await cluster.kill(victim);
        // Offline from the moment the broker's registration is gone; leader -1 once the
        // controller has run its election.
        const p = await until("the partition without a leader at the controller", async () => {
          const j = await get(`${url}/v1/topics/${TOPIC}/partitions/${lost}`);
          return j.leader === -1 ? j : null;
        });
        assert.equal(p.offline, true);
        assert.equal(p.leaderEpoch, 1, "leaving the leader is a new leader epoch");
        assert.deepEqual(p.replicas, [victim]);
        assert.deepEqual(p.offlineReplicas, [victim]);
        assert.equal(p.local, false);
        const c = await get(`${url}/v1/cluster`);
        assert.equal(c.replication.offlinePartitions, 1);
        const down = c.brokers.find((b: Json) => b.brokerId === victim);
        assert.deepEqual(down, {
          brokerId: victim,
          host: null,
          port: -1,
          rack: null,
          live: false,
          controller: false,
          leaderCount: 0,
          replicaCount: 1,
        });
        assert.equal(await gauge(url, "tributary_offline_partitions"), 1);
        const other = [1, 2, 3].find((id) => id !== controller && id !== victim)!;
        await until("the other broker sees it offline", async () => {
          const j = await get(`${admin.get(other)}/v1/topics/${TOPIC}/partitions/${lost}`);
          return j.offline && j.leader === -1;
        });
        // OfflinePartitionsCount is the controller's alone.
        assert.equal(await gauge(admin.get(other)!, "tributary_offline_partitions"), 0);
      });

      await t.step("the console marks the offline partition, topic and broker", async () => {
        await withConsole(`${url}/?refresh=500#/topics/${TOPIC}`, async (page) => {
          const broker = `[data-testid="broker-row"][data-broker="${victim}"]`;
          await page.waitForSelector(`${broker} [data-col="status"]`);
          assert.equal((await page.textContent(`${broker} [data-col="status"]`))?.trim(), "down");
          assert.equal((await page.textContent("#repl-offline"))?.trim(), "1");
          const topicRow = `[data-testid="topic-row"][data-topic="${TOPIC}"]`;
          assert.equal(
            (await page.textContent(`${topicRow} [data-col="offline"]`))?.trim(),
            "1 offline",
          );
          const row = `[data-testid="partition-row"][data-partition="${lost}"]`;
          await page.waitForSelector(row);
          assert.equal(await page.getAttribute(row, "data-status"), "offline");
          assert.equal((await page.textContent(`${row} [data-col="leader"]`))?.trim(), "none");
          assert.equal((await page.textContent(`${row} [data-col="leaderEpoch"]`))?.trim(), "1");
          assert.equal(
            (await page.textContent(`${row} [data-col="replicas"]`))?.trim(),
            String(victim),
          );
          const healthy = [0, 1, 2].find((p) => p !== lost)!;
          assert.equal(
            await page.getAttribute(
              `[data-testid="partition-row"][data-partition="${healthy}"]`,
              "data-status",
            ),
            "in sync",
          );
        });
      });

      await t.step("the broker's return brings its partition back", async () => {
        admin.set(victim, await startWithAdmin(cluster, victim));
        const p = await until("the partition led again", async () => {
          const j = await get(`${url}/v1/topics/${TOPIC}/partitions/${lost}`);
          return j.offline ? null : j;
        });
        assert.equal(p.leader, victim);
        assert.equal(p.leaderEpoch, 2);
        assert.equal(await gauge(url, "tributary_offline_partitions"), 0);
        const c = await get(`${url}/v1/cluster`);
        assert.equal(c.brokers.find((b: Json) => b.brokerId === victim).live, true);
      });

      // ---- three replicas -------------------------------------------------------------
      const R3 = "vis3";
      const rf3 = kafkajs([cluster.address(1)]).admin();
      await rf3.connect();
      try {
        await rf3.createTopics({
          topics: [{
            topic: R3,
            numPartitions: 1,
            replicationFactor: 3,
            configEntries: [{ name: "min.insync.replicas", value: "3" }],
          }],
          waitForLeaders: true,
        });
      } finally {
        await rf3.disconnect();
      }
      const r3 = await until("vis3 with 3 replicas in sync", async () => {
        const j = await get(`${url}/v1/topics/${R3}/partitions/0`);
        return j.leader >= 0 && j.isr.length === 3 ? j : null;
      });
      const leader3 = r3.leader as number;
      const leaderUrl = admin.get(leader3)!;
      await kcat(cluster.address(leader3), ["-P", "-t", R3, "-p", "0", "-X", "acks=all"], {
        stdin: "a\nb\nc\n",
      });

      await t.step(
        "rf=3: every replica is listed, followers' lag known to the leader",
        async () => {
          assert.deepEqual([...r3.replicas].sort(), [1, 2, 3]);
          assert.equal(r3.underReplicated, false);
          for (const id of [1, 2, 3]) {
            const p = await until(`broker ${id} holds vis3 up to offset 3`, async () => {
              const j = await get(`${admin.get(id)}/v1/topics/${R3}/partitions/0`);
              return j.local && j.logEndOffset === 3 && j.highWatermark === 3 ? j : null;
            });
            assert.equal(p.leader, leader3);
            const r = await RawClient.once(
              cluster.procs.get(id)!.port,
              DescribeLogDirsRequest,
              DescribeLogDirsResponse,
              4,
              { topics: [{ topic: R3, partitions: [0] }] },
            );
            const [part] = r.results[0].topics[0].partitions;
            assert.equal(part.partitionIndex, 0);
            assert.equal(part.offsetLag, 0);
            assert.ok(part.partitionSize > 0, "the follower's copy has the records");
          }
          const followers = [1, 2, 3].filter((id) => id !== leader3);
          const lag = await until("both followers' lag 0 on the leader", async () => {
            const text = await (await fetch(`${leaderUrl}/metrics`)).text();
            const lines = followers.map((f) =>
              text.split("\n").find((l) =>
                l.startsWith("tributary_replica_lag_messages{") && l.includes(`topic="${R3}"`) &&
                l.includes(`replica="${f}"`)
              )
            );
            return lines.every((l) => l?.endsWith(" 0")) ? lines : null;
          });
          assert.equal(lag.length, 2);
          assert.equal(await gauge(leaderUrl, "tributary_under_replicated_partitions"), 0);
          // min.insync.replicas=3 with 3 in sync: at the minimum, not under it (and so is
          // the one rf=1 partition of TOPIC this broker leads, at min.insync.replicas=1).
          assert.equal(await gauge(leaderUrl, "tributary_at_min_isr_partitions"), 2);
          assert.equal(await gauge(leaderUrl, "tributary_under_min_isr_partitions"), 0);
        },
      );

      await t.step("rf=3: a follower's loss shrinks the ISR; its return expands it", async () => {
        const follower = [1, 2, 3].find((id) => id !== leader3 && id !== controller) ??
          [1, 2, 3].find((id) => id !== leader3)!;
        const shrinks = await gauge(leaderUrl, "tributary_isr_shrinks_total");
        const expands = await gauge(leaderUrl, "tributary_isr_expands_total");
        await cluster.kill(follower);
        const p = await until("vis3 under-replicated", async () => {
          const j = await get(`${leaderUrl}/v1/topics/${R3}/partitions/0`);
          return j.underReplicated ? j : null;
        });
        assert.equal(p.leader, leader3);
        assert.ok(!p.isr.includes(follower));
        assert.deepEqual(p.offlineReplicas, [follower]);
        assert.equal(p.offline, false);
        assert.equal(await gauge(leaderUrl, "tributary_under_replicated_partitions"), 1);
        assert.equal(await gauge(leaderUrl, "tributary_under_min_isr_partitions"), 1);
        assert.equal(await gauge(leaderUrl, "tributary_at_min_isr_partitions"), 1);
        assert.equal(p.underMinIsr, true);
        assert.equal(await gauge(leaderUrl, "tributary_isr_shrinks_total"), shrinks + 1);
        const c = await get(`${url}/v1/cluster`);
        assert.equal(c.replication.underReplicatedPartitions, 1);
        await withConsole(`${leaderUrl}/?refresh=500#/topics/${R3}`, async (page) => {
          const row = `[data-testid="partition-row"][data-partition="0"]`;
          await page.waitForSelector(`${row}[data-status="under-replicated"]`);
          assert.equal(
            (await page.textContent(`${row} [data-col="isr"]`))?.trim(),
            p.isr.join(", "),
          );
          const topicRow = `[data-testid="topic-row"][data-topic="${R3}"]`;
          assert.equal(
            (await page.textContent(`${topicRow} [data-col="under-replicated"]`))?.trim(),
            "1 under-replicated",
          );
          assert.equal((await page.textContent("#repl-under"))?.trim(), "1");
          assert.equal((await page.textContent("#repl-under-min"))?.trim(), "1");
        });
        admin.set(follower, await startWithAdmin(cluster, follower));
        await until("vis3 in sync again", async () => {
          const j = await get(`${leaderUrl}/v1/topics/${R3}/partitions/0`);
          return j.isr.length === 3;
        });
        assert.equal(await gauge(leaderUrl, "tributary_under_replicated_partitions"), 0);
        assert.equal(await gauge(leaderUrl, "tributary_isr_expands_total"), expands + 1);
      });
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});
