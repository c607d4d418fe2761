/**
 * Cluster start-up: startCluster (three brokers in one process over the in-memory metadata
 * store) serving a topic spread over them to kafkajs; and the refusals of a broker process
 * whose data directory belongs to another cluster (InconsistentClusterIdException) or whose
 * node id a live broker holds, each exiting 2 with the reason.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { ErrorCode, startCluster } from "../../mod.ts";
import { BrokerProcess, decoder, kcat, run } from "../support/helpers.ts";
import { startEtcd } from "../support/etcd.ts";
import { until } from "../support/wait.ts";
import { MemoryMetadataStore } from "../../src/cluster/memory_store.ts";
import { BrokerConnection } from "../../src/client/connection.ts";
import {
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";

Deno.test({
  name: "startCluster: 3 brokers in one process, a topic over all of them, kafkajs",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using cluster = await startCluster({ brokers: 3, logLevel: "warn" });
    assert.equal(cluster.brokers.length, 3);
    const kafka = new Kafka({
      clientId: "start-cluster-test",
      brokers: [cluster.brokers[2].address],
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: "embedded", numPartitions: 6 }] });
      const md = await admin.fetchTopicMetadata({ topics: ["embedded"] });
      const leaders = md.topics[0].partitions.map((p) => p.leader).sort();
      assert.deepEqual(leaders, [1, 1, 2, 2, 3, 3]);
      const described = await admin.describeCluster();
      assert.deepEqual(described.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
      assert.ok([1, 2, 3].includes(described.controller!));
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (let p = 0; p < 6; p++) {
        const [r] = await producer.send({
          topic: "embedded",
          messages: [{ value: `v${p}`, partition: p }],
        });
        assert.equal(r.errorCode, 0);
        assert.equal(r.baseOffset, "0");
      }
    } finally {
      await producer.disconnect();
    }
    for (let p = 0; p < 6; p++) {
      const out = decoder.decode(
        await kcat(cluster.bootstrap, ["-C", "-t", "embedded", "-p", String(p), "-e", "-q"]),
      );
      assert.equal(out, `v${p}\n`);
    }
  },
});

Deno.test({
  name: "a data dir of another cluster and a live duplicate node id refuse to start (exit 2)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const dirs: string[] = [];
    const procs: BrokerProcess[] = [];
    try {
      const args = (dir: string, id: number, prefix: string) => [
        "run",
        "-A",
        new URL("../../src/cli.ts", import.meta.url).pathname,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        dir,
        "--workers",
        "1",
        "--set",
        `etcd.endpoints=${etcd.endpoint}`,
        "--set",
        `etcd.prefix=${prefix}`,
        "--set",
        `node.id=${id}`,
        "--set",
        "broker.session.timeout.ms=2000",
      ];
      const dir = await Deno.makeTempDir({ prefix: "tributary-id-" });
      dirs.push(dir);
      procs.push(await BrokerProcess.start(dir, args(dir, 1, "/a").slice(9)));
      // The same node id while broker 1 lives: refused once its registration outlives the
      // session timeout.
      const other = await Deno.makeTempDir({ prefix: "tributary-id-" });
      dirs.push(other);
      const dup = await run(Deno.execPath(), args(other, 1, "/a"));
      assert.equal(dup.code, 2, dup.stderr);
      assert.match(dup.stderr, /node\.id 1 is registered by another live broker/);
      await procs[0].kill("SIGTERM");
      // Broker 1's data dir, now joining another cluster (another prefix).
      const wrong = await run(Deno.execPath(), args(dir, 1, "/b"));
      assert.equal(wrong.code, 2, wrong.stderr);
      assert.match(
        wrong.stderr,
        /InconsistentClusterIdException: The Cluster ID \S+ doesn't match/,
      );
    } finally {
      for (const p of procs) await p.kill("SIGKILL");
      for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
      await etcd.cleanup();
    }
  },
});

Deno.test({
  name:
    "startCluster: a revoked lease takes the broker offline; it registers again and leads again",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using cluster = await startCluster({
      brokers: 3,
      logLevel: "warn",
      config: { "broker.session.timeout.ms": 2000, "broker.heartbeat.interval.ms": 200 },
    });
    const b1 = cluster.brokers[0].broker;
    await b1.createTopic("revoked", 3);
    const b2 = cluster.brokers[1].broker;
    const mine = [0, 1, 2].filter((p) => b2.leadership.leaderOf("revoked", p)?.leaderId === 2);
    assert.equal(mine.length, 1);
    const p = mine[0];
    // The leader serves once it has taken the role (Kafka's make-leader), just after the
    // metadata names it.
    await until(
      "broker 2 serves its partition",
      () => b2.leadership.leaderError("revoked", p, -1) === 0,
    );
    const admin = new MemoryMetadataStore(cluster.store);
    try {
      const reg = (await admin.get("brokers/2"))!;
      await admin.revokeLease(reg.lease);
      // The controller took the partition offline, then gave it back once broker 2 was
      // registered again under a new lease: two leader epochs later.
      await until("broker 2 leads again at leader epoch 2", () => {
        const l = b1.leadership.leaderOf("revoked", p);
        return l?.leaderId === 2 && l.leaderEpoch === 2;
      });
      const again = (await admin.get("brokers/2"))!;
      assert.notEqual(again.lease, reg.lease);
      await until(
        "broker 2 serves it again",
        () => b2.leadership.leaderError("revoked", p, 2) === 0,
      );
      assert.equal(
        b2.leadership.leaderError("revoked", p, 1),
        ErrorCode.FENCED_LEADER_EPOCH,
      );
      assert.equal(
        b2.leadership.leaderError("revoked", p, 3),
        ErrorCode.UNKNOWN_LEADER_EPOCH,
      );
      assert.equal(
        b1.leadership.leaderError("revoked", p, -1),
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
      );
    } finally {
      await admin.close();
    }
  },
});

Deno.test({
  name: "startCluster: Produce v11 and Fetch v17 to a non-leader name the leader (KIP-951)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using cluster = await startCluster({ brokers: 3, logLevel: "warn" });
    const t = await cluster.brokers[0].broker.createTopic("hints", 3);
    const b1 = cluster.brokers[0].broker;
    const p = [0, 1, 2].find((i) => b1.leadership.leaderOf("hints", i)!.leaderId !== 1)!;
    const leader = b1.leadership.leaderOf("hints", p)!;
    const endpoint = cluster.brokers[leader.leaderId - 1];
    const conn = await BrokerConnection.connect(cluster.brokers[0].address);
    try {
      const produced = await conn.send(ProduceRequest, ProduceResponse, 11, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{
          name: "hints",
          partitionData: [{ index: p, records: encodeRecordBatch({ records: [{ value: "x" }] }) }],
        }],
      });
      const pr = produced.responses[0].partitionResponses[0];
      assert.equal(pr.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual(
        { leaderId: pr.currentLeader!.leaderId, leaderEpoch: pr.currentLeader!.leaderEpoch },
        { leaderId: leader.leaderId, leaderEpoch: 0 },
      );
      assert.deepEqual(
        produced.nodeEndpoints.map((n) => [n.nodeId, n.host, n.port]),
        [[leader.leaderId, "127.0.0.1", endpoint.port]],
      );
      const fetched = await conn.send(FetchRequest, FetchResponse, 17, {
        replicaState: { replicaId: -1, replicaEpoch: -1 },
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{
          topicId: t!.topicId,
          partitions: [{
            partition: p,
            currentLeaderEpoch: -1,
            fetchOffset: 0,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: 1 << 20,
          }],
        }],
        forgottenTopicsData: [],
        rackId: "",
      });
      const fp = fetched.responses[0].partitions[0];
      assert.equal(fp.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.equal(fp.currentLeader!.leaderId, leader.leaderId);
      assert.deepEqual(fetched.nodeEndpoints.map((n) => n.nodeId), [leader.leaderId]);
    } finally {
      conn.close();
    }
  },
});
