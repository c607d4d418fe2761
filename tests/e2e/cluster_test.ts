/**
 * End to end: a cluster of three broker processes over a real etcd. Metadata (kcat -L) lists
 * the three brokers, the elected controller and a 12-partition topic spread over them;
 * kcat, kafkajs, confluent-kafka and kafka-python produce to and read every partition; admin
 * calls go to a broker that is not the controller; kill -9 of a leader takes its partitions
 * offline while the others keep working, and its restart serves them again with every
 * acknowledged record; kill -9 of the controller elects another; etcd stopped under load
 * leaves produce and fetch working, refuses topic changes with an error, and they work again
 * once etcd is back.
 */
import assert from "node:assert/strict";
import { decoder, kcat, python } from "../support/helpers.ts";
import { startEtcd } from "../support/etcd.ts";
import { until } from "../support/wait.ts";
import { kafkajs, TestCluster } from "../support/cluster_fixtures.ts";

/** Every value of one partition from the beginning, as kcat reads them from its leader. */
async function readPartition(bootstrap: string, topic: string, p: number): Promise<string[]> {
  const out = decoder.decode(
    await kcat(bootstrap, ["-C", "-t", topic, "-p", String(p), "-o", "beginning", "-e", "-q"]),
  );
  return out.split("\n").filter((l) => l !== "");
}

const PY_PRODUCE = `
import sys
from confluent_kafka import Producer
from kafka import KafkaProducer
addr, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
errors = []
p = Producer({"bootstrap.servers": addr, "acks": "all"})
for i in range(n):
    p.produce(topic, value=f"ck-{i}".encode(), partition=i,
              on_delivery=lambda e, m: errors.append(e) if e else None)
assert p.flush(30) == 0 and not errors, errors
kp = KafkaProducer(bootstrap_servers=addr, acks="all")
for i in range(n):
    kp.send(topic, value=f"kp-{i}".encode(), partition=i).get(timeout=30)
kp.close()
print("ok")
`;

const PY_CONSUME = `
import sys
from confluent_kafka import Consumer, TopicPartition
from kafka import KafkaConsumer, TopicPartition as KTP
addr, topic, n, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c = Consumer({"bootstrap.servers": addr, "group.id": "unused", "enable.auto.commit": False})
c.assign([TopicPartition(topic, i, 0) for i in range(n)])
got = {}
while sum(len(v) for v in got.values()) < n * per:
    m = c.poll(10)
    assert m is not None, got
    assert m.error() is None, m.error()
    got.setdefault(m.partition(), []).append(m.value().decode())
c.close()
kc = KafkaConsumer(bootstrap_servers=addr, enable_auto_commit=False, consumer_timeout_ms=20000)
kc.assign([KTP(topic, i) for i in range(n)])
kc.seek_to_beginning()
kgot = {}
for m in kc:
    kgot.setdefault(m.partition, []).append(m.value.decode())
    if sum(len(v) for v in kgot.values()) == n * per:
        break
kc.close()
assert kgot == got, (kgot, got)
for i in range(n):
    print(i, ",".join(got[i]))
`;

Deno.test({
  name: "cluster of 3 over etcd: metadata, every client on every partition, failures",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const etcd = await startEtcd();
    const cluster = new TestCluster(etcd);
    try {
      for (const id of [1, 2, 3]) await cluster.start(id);
      const TOPIC = "orders";

      await t.step("kcat -L lists 3 brokers and the controller elected in etcd", async () => {
        const md = await until("3 brokers", async () => {
          const m = await cluster.metadata(1);
          return m.brokers.length === 3 ? m : null;
        });
        assert.deepEqual(md.brokers.map((b) => b.id).sort(), [1, 2, 3]);
        assert.equal(md.controllerid, await cluster.controllerInEtcd());
        assert.ok([1, 2, 3].includes(md.controllerid));
      });

      await t.step(
        "CreateTopics sent to a non-controller: 12 partitions spread over 3",
        async () => {
          const controller = await cluster.controllerInEtcd();
          const other = [1, 2, 3].find((id) => id !== controller)!;
          const admin = kafkajs([cluster.address(other)]).admin();
          await admin.connect();
          try {
            assert.equal(
              await admin.createTopics({
                topics: [{ topic: TOPIC, numPartitions: 12 }],
                waitForLeaders: true,
              }),
              true,
            );
          } finally {
            await admin.disconnect();
          }
          for (const via of [1, 2, 3]) {
            const md = await cluster.metadata(via, TOPIC);
            const parts = md.topics[0].partitions;
            assert.equal(parts.length, 12);
            const led = new Map<number, number>();
            for (const p of parts) {
              assert.deepEqual(p.replicas.map((r) => r.id), [p.leader]);
              led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
            }
            // Kafka's round-robin: 4 partitions on each broker.
            assert.deepEqual([...led.entries()].sort(), [[1, 4], [2, 4], [3, 4]]);
          }
        },
      );

      await t.step(
        "kcat, kafkajs, confluent-kafka, kafka-python produce to every partition",
        async () => {
          for (let p = 0; p < 12; p++) {
            await kcat(cluster.address(1), ["-P", "-t", TOPIC, "-p", String(p)], {
              stdin: `kcat-${p}\n`,
            });
          }
          const producer = kafkajs([cluster.address(2)]).producer();
          await producer.connect();
          try {
            for (let p = 0; p < 12; p++) {
              const [r] = await producer.send({
                topic: TOPIC,
                acks: -1,
                messages: [{ value: `kjs-${p}`, partition: p }],
              });
              assert.equal(r.errorCode, 0);
              assert.equal(r.baseOffset, "1");
            }
          } finally {
            await producer.disconnect();
          }
          assert.equal((await python(PY_PRODUCE, [cluster.address(3), TOPIC, "12"])).trim(), "ok");
          for (let p = 0; p < 12; p++) {
            assert.deepEqual(await readPartition(cluster.bootstrap, TOPIC, p), [
              `kcat-${p}`,
              `kjs-${p}`,
              `ck-${p}`,
              `kp-${p}`,
            ]);
          }
          const lines = (await python(PY_CONSUME, [cluster.address(1), TOPIC, "12", "4"])).trim()
            .split("\n");
          assert.equal(lines.length, 12);
          lines.forEach((l, p) => assert.equal(l, `${p} kcat-${p},kjs-${p},ck-${p},kp-${p}`));
        },
      );

      await t.step("topic changes through a non-controller", async () => {
        const controller = await cluster.controllerInEtcd();
        const others = [1, 2, 3].filter((id) => id !== controller);
        const admin = kafkajs([cluster.address(others[0])]).admin();
        await admin.connect();
        try {
          await admin.createTopics({ topics: [{ topic: "scratch", numPartitions: 2 }] });
          await admin.createPartitions({ topicPartitions: [{ topic: "scratch", count: 5 }] });
          await admin.alterConfigs({
            validateOnly: false,
            resources: [{
              type: 2,
              name: "scratch",
              configEntries: [{ name: "retention.ms", value: "123456" }],
            }],
          });
        } finally {
          await admin.disconnect();
        }
        // Every broker sees the result (each answered once its own metadata had it).
        for (const via of [1, 2, 3]) {
          const md = await cluster.metadata(via, "scratch");
          assert.equal(md.topics[0].partitions.length, 5);
        }
        const reader = kafkajs([cluster.address(others[1])]).admin();
        await reader.connect();
        try {
          const d = await reader.describeConfigs({
            includeSynonyms: false,
            resources: [{ type: 2, name: "scratch", configNames: ["retention.ms"] }],
          });
          assert.equal(d.resources[0].configEntries[0].configValue, "123456");
          await reader.deleteTopics({ topics: ["scratch"] });
        } finally {
          await reader.disconnect();
        }
        for (const via of [1, 2, 3]) {
          const md = await cluster.metadata(via);
          assert.ok(!md.topics.some((x) => x.topic === "scratch"), `broker ${via}`);
        }
        for (const id of [1, 2, 3]) {
          const dirs = [...Deno.readDirSync(cluster.dirs.get(id)!)].map((e) => e.name);
          assert.ok(!dirs.some((n) => n.startsWith("scratch-")), `${id}: ${dirs}`);
        }
      });

      await t.step(
        "kill -9 of a leader: its partitions offline, the rest served; restart",
        async () => {
          const controller = await cluster.controllerInEtcd();
          const victim = [1, 2, 3].find((id) => id !== controller)!;
          const survivor = [1, 2, 3].find((id) => id !== controller && id !== victim)!;
          const before = await cluster.metadata(controller, TOPIC);
          const theirs = before.topics[0].partitions.filter((p) => p.leader === victim).map((p) =>
            p.partition
          );
          assert.equal(theirs.length, 4);
          await cluster.kill(victim);
          const md = await until(`partitions of broker ${victim} offline`, async () => {
            const m = await cluster.metadata(survivor, TOPIC);
            const off = m.topics[0].partitions.filter((p) => p.leader === -1).map((p) =>
              p.partition
            );
            return m.brokers.length === 2 && off.length === 4 ? m : null;
          });
          assert.deepEqual(
            md.topics[0].partitions.filter((p) => p.leader === -1).map((p) => p.partition),
            theirs,
          );
          // The other partitions take records meanwhile.
          const live = md.topics[0].partitions.filter((p) => p.leader !== -1).map((p) =>
            p.partition
          );
          for (const p of live) {
            await kcat(cluster.address(survivor), ["-P", "-t", TOPIC, "-p", String(p)], {
              stdin: `during-${p}\n`,
            });
          }
          await cluster.start(victim);
          await until(`broker ${victim} leads its partitions again`, async () => {
            const m = await cluster.metadata(survivor, TOPIC);
            return m.topics[0].partitions.every((p) => p.leader !== -1) &&
              theirs.every((p) => m.topics[0].partitions[p].leader === victim);
          });
          for (let p = 0; p < 12; p++) {
            const expected = [`kcat-${p}`, `kjs-${p}`, `ck-${p}`, `kp-${p}`];
            if (live.includes(p)) expected.push(`during-${p}`);
            assert.deepEqual(await readPartition(cluster.bootstrap, TOPIC, p), expected);
          }
        },
      );

      await t.step("kill -9 of the controller: another broker takes over", async () => {
        const old = await cluster.controllerInEtcd();
        await cluster.kill(old);
        const next = await until("a new controller", async () => {
          const c = await cluster.controllerInEtcd();
          return c !== -1 && c !== old ? c : null;
        });
        const md = await until("metadata names the new controller", async () => {
          const m = await cluster.metadata(next);
          return m.controllerid === next ? m : null;
        });
        assert.equal(md.brokers.length, 2);
        await cluster.start(old);
        await until("3 brokers again, every partition led", async () => {
          const m = await cluster.metadata(next, TOPIC);
          return m.brokers.length === 3 && m.topics[0].partitions.every((p) => p.leader !== -1);
        });
      });

      await t.step(
        "etcd stopped under load: produce and fetch go on, topic changes refused",
        async () => {
          // A producer keeps sending to every partition throughout (acks=all, one at a time).
          const producer = kafkajs([cluster.bootstrap.split(",")[0]]).producer();
          await producer.connect();
          const acked: string[][] = Array.from({ length: 12 }, () => []);
          let stop = false;
          let sent = 0;
          const load = (async () => {
            for (let i = 0; !stop; i++) {
              const p = i % 12;
              const value = `load-${i}`;
              const [r] = await producer.send({
                topic: TOPIC,
                acks: -1,
                messages: [{ value, partition: p }],
              });
              assert.equal(r.errorCode, 0);
              acked[p].push(value);
              sent++;
            }
          })();
          const sentBy = (n: number) => until(`${n} records acknowledged`, () => sent >= n);
          try {
            await sentBy(24);
            await etcd.stop("SIGKILL");
            const before = sent;
            await sentBy(before + 48);
            for (let p = 0; p < 12; p++) {
              await kcat(cluster.bootstrap, ["-P", "-t", TOPIC, "-p", String(p)], {
                stdin: `noetcd-${p}\n`,
              });
            }
            const admin = kafkajs([cluster.address(1)]).admin();
            await admin.connect();
            try {
              await assert.rejects(
                admin.createTopics({ topics: [{ topic: "while-down", numPartitions: 3 }] }),
              );
              await etcd.start();
              await until("a topic created once etcd is back", async () => {
                try {
                  // false: TOPIC_ALREADY_EXISTS, an earlier attempt that timed out on the
                  // client created it after all.
                  await admin.createTopics({
                    topics: [{ topic: "after-etcd", numPartitions: 3 }],
                    waitForLeaders: true,
                  });
                  return true;
                } catch {
                  return null;
                }
              });
            } finally {
              await admin.disconnect();
            }
            await sentBy(sent + 24);
          } finally {
            stop = true;
            await load;
            await producer.disconnect();
          }
          for (let p = 0; p < 12; p++) {
            const values = await readPartition(cluster.bootstrap, TOPIC, p);
            // Every acknowledged record is there, in the order it was acknowledged.
            assert.deepEqual(values.filter((v) => v.startsWith("load-")), acked[p]);
            assert.ok(values.includes(`noetcd-${p}`));
          }
          const md = await cluster.metadata(2, "after-etcd");
          assert.equal(md.topics[0].partitions.length, 3);
        },
      );
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});

Deno.test({
  name: "cluster of 3 brokers with 2 Deno workers each: every partition served, kill -9 and back",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const cluster = new TestCluster(etcd, 2);
    try {
      for (const id of [1, 2, 3]) await cluster.start(id);
      await until("3 brokers", async () => (await cluster.metadata(1)).brokers.length === 3);
      const controller = await cluster.controllerInEtcd();
      const other = [1, 2, 3].find((id) => id !== controller)!;
      const admin = kafkajs([cluster.address(other)]).admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic: "w", numPartitions: 12 }] });
      } finally {
        await admin.disconnect();
      }
      for (let p = 0; p < 12; p++) {
        await kcat(cluster.address(controller), ["-P", "-t", "w", "-p", String(p)], {
          stdin: `a-${p}\n`,
        });
      }
      await cluster.kill(other);
      await until(`broker ${other} gone`, async () => {
        const m = await cluster.metadata(controller, "w");
        return m.brokers.length === 2 &&
          m.topics[0].partitions.filter((p) => p.leader === -1).length === 4;
      });
      await cluster.start(other);
      await until("every partition led", async () => {
        const m = await cluster.metadata(controller, "w");
        return m.topics[0].partitions.every((p) => p.leader !== -1);
      });
      for (let p = 0; p < 12; p++) {
        await kcat(cluster.bootstrap, ["-P", "-t", "w", "-p", String(p)], { stdin: `b-${p}\n` });
      }
      for (let p = 0; p < 12; p++) {
        assert.deepEqual(await readPartition(cluster.bootstrap, "w", p), [`a-${p}`, `b-${p}`]);
      }
    } finally {
      await cluster.close();
      await etcd.cleanup();
    }
  },
});
