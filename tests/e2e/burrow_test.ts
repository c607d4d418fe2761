/**
 * Debian's Burrow 1.2.1 (package `burrow`, with ZooKeeper from package `zookeeper` for its own
 * coordination) monitoring a two-worker broker: it lists topics with Metadata v0, reads the
 * topics' end offsets with ListOffsets v0 and follows commits by consuming
 * `__consumer_offsets` with an old Fetch version (down-converted). It must see the topic,
 * its offsets and the group's exact lag. Needs `burrow` and `zookeeper` installed and Java.
 */
import assert from "node:assert/strict";
import { OffsetCommitRequest, OffsetCommitResponse } from "../../protocol/messages/mod.ts";
import type { Msg } from "../support/msg.ts";
import { BrokerProcess, kcat } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { until } from "../support/wait.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function zkOk(port: number): Promise<boolean> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(new TextEncoder().encode("ruok"));
    const buf = new Uint8Array(4);
    const n = await c.read(buf);
    return n === 4 && new TextDecoder().decode(buf) === "imok";
  } finally {
    c.close();
  }
}

Deno.test("Burrow 1.2.1 sees the topics, their offsets and a group's exact lag", async () => {
  for (const bin of ["/usr/bin/Burrow", "/usr/share/java/zookeeper.jar", "/usr/bin/java"]) {
    assert.ok(
      (await Deno.stat(bin).catch(() => null)) !== null,
      `${bin} missing: apt-get install burrow zookeeper default-jre-headless`,
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "tributary-burrow-" });
  const children: Deno.ChildProcess[] = [];
  let bp: BrokerProcess | undefined;
  try {
    // ZooKeeper, standalone, for Burrow's own coordination.
    const zkPort = freePort();
    await Deno.mkdir(`${dir}/zk`);
    await Deno.writeTextFile(
      `${dir}/zoo.cfg`,
      `tickTime=2000\ndataDir=${dir}/zk\nclientPort=${zkPort}\nclientPortAddress=127.0.0.1\n` +
        `admin.enableServer=false\n4lw.commands.whitelist=ruok\n`,
    );
    const zk = new Deno.Command("/usr/bin/java", {
      args: [
        "-Xmx128m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        "/usr/share/java/zookeeper.jar",
        "org.apache.zookeeper.server.ZooKeeperServerMain",
        `${dir}/zoo.cfg`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.push(zk);
    await until("ZooKeeper start", async () => (await zkOk(zkPort)) ? true : undefined);

    bp = await BrokerProcess.start(`${dir}/kafka`, ["--workers", "2", "--set", "num.partitions=2"]);
    await kcat(bp.address, ["-P", "-t", "burrowed", "-p", "0"], {
      stdin: "m1\nm2\nm3\nm4\nm5\nm6\nm7\n",
    });
    await kcat(bp.address, ["-P", "-t", "burrowed", "-p", "1"], { stdin: "n1\nn2\nn3\n" });
    const c = await RawClient.connect(bp.port);
    try {
      const r = await c.call(OffsetCommitRequest, OffsetCommitResponse, 2, {
        groupId: "lagging",
        generationIdOrMemberEpoch: -1,
        memberId: "",
        retentionTimeMs: -1,
        topics: [{
          name: "burrowed",
          partitions: [
            { partitionIndex: 0, committedOffset: 4, committedMetadata: "" },
            { partitionIndex: 1, committedOffset: 3, committedMetadata: "" },
          ],
        }],
      });
      assert.deepEqual(r.topics[0].partitions.map((p: Msg) => p.errorCode), [0, 0]);
    } finally {
      c.close();
    }

    // Burrow with its default client profile (Kafka version 0.8: Metadata v0, ListOffsets v0).
    const httpPort = freePort();
    await Deno.mkdir(`${dir}/burrow`);
    await Deno.writeTextFile(
      `${dir}/burrow/burrow.toml`,
      `[general]\npidfile="${dir}/burrow.pid"\n` +
        `[zookeeper]\nservers=["127.0.0.1:${zkPort}"]\ntimeout=6\nroot-path="/burrow"\n` +
        `[client-profile.old]\nclient-id="burrow-test"\n` +
        `[cluster.local]\nclass-name="kafka"\nservers=["${bp.address}"]\nclient-profile="old"\n` +
        `topic-refresh=1\noffset-refresh=1\n` +
        `[consumer.local]\nclass-name="kafka"\ncluster="local"\nservers=["${bp.address}"]\n` +
        `client-profile="old"\nstart-latest=false\n` +
        `[httpserver.default]\naddress="127.0.0.1:${httpPort}"\n` +
        `[storage.default]\nclass-name="inmemory"\nworkers=2\nintervals=10\nexpire-group=604800\n` +
        `min-distance=1\n`,
    );
    const burrow = new Deno.Command("/usr/bin/Burrow", {
      args: ["-config-dir", `${dir}/burrow`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.push(burrow);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/v3/kafka/local${path}`);
      const body = await res.json();
      return res.ok && body.error === false ? body : undefined;
    };

    const topics = await until("Burrow topic list", async () => {
      const b = await get("/topic");
      return b && b.topics.includes("burrowed") ? b.topics as string[] : undefined;
    });
    assert.ok(topics.includes("burrowed"));
    const offsets = await until("Burrow topic offsets", async () => {
      const b = await get("/topic/burrowed");
      return b && b.offsets.every((o: number) => o > 0) ? b.offsets : undefined;
    });
    assert.deepEqual(offsets, [7, 3]);
    const lag = await until("Burrow consumer lag", async () => {
      const b = await get("/consumer/lagging/lag");
      return b && b.status.partitions.length === 2 &&
          b.status.partitions.every((p: Msg) => p.end && p.end.offset > 0)
        ? b.status
        : undefined;
    });
    assert.deepEqual(
      lag.partitions.map((p: Msg) => [p.topic, p.partition, p.end.offset, p.current_lag]),
      [["burrowed", 0, 4, 3], ["burrowed", 1, 3, 0]],
    );
    assert.equal(lag.totallag, 3);
  } finally {
    for (const ch of children.reverse()) {
      try {
        ch.kill("SIGTERM");
      } catch {
        // exited
      }
      await ch.status;
    }
    await bp?.kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
