/**
 * Listeners in a cluster over a real etcd: each broker registers every listener, and Metadata,
 * DescribeCluster, FindCoordinator and KIP-951 leader hints answer a client with the brokers'
 * endpoints on the listener it came in on (a broker without it left out, its partitions
 * LISTENER_NOT_FOUND). Brokers reach each other on the inter-broker listener, here
 * SASL_PLAINTEXT with PLAIN: a topic created through a broker that is not the controller is
 * forwarded over it, and wrong inter-broker credentials are logged plainly.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DescribeClusterRequest,
  DescribeClusterResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { BrokerProcess } from "../support/helpers.ts";
import { type EtcdServer, startEtcd } from "../support/etcd.ts";
import { RawClient } from "../support/raw_client.ts";
import { until } from "../support/wait.ts";
import { makeTestCerts } from "../support/tls_certs.ts";
import { saltedPassword, SCRAM_SHA_256 } from "../../src/security/sasl/scram_formatter.ts";
import type { Msg } from "../support/msg.ts";

interface Member {
  id: number;
  proc: BrokerProcess;
  dir: string;
  /** Bound port by listener name. */
  ports: Map<string, number>;
}

async function startMember(
  etcd: EtcdServer,
  prefix: string,
  id: number,
  settings: Record<string, string>,
): Promise<Member> {
  const dir = await Deno.makeTempDir({ prefix: `tributary-listeners-${id}-` });
  const args = ["--workers", "1"];
  for (
    const [k, v] of Object.entries({
      "etcd.endpoints": etcd.endpoint,
      "etcd.prefix": prefix,
      "node.id": String(id),
      "broker.session.timeout.ms": "3000",
      "etcd.request.timeout.ms": "2000",
      ...settings,
    })
  ) args.push("--set", `${k}=${v}`);
  const proc = await BrokerProcess.start(dir, args);
  const ports = new Map<string, number>();
  // With several listeners each is logged after the first: their ports come from those lines.
  const count = (settings.listeners ?? "").split(",").length;
  if (count > 1) {
    await until("every listener logged", () => {
      for (const line of proc.lines) {
        const m = /listener (\S+) \(\S+\) on [^ ]*:(\d+), advertised/.exec(line);
        if (m) ports.set(m[1], Number(m[2]));
      }
      return ports.size === count;
    });
  }
  return { id, proc, dir, ports };
}

async function stopAll(members: Member[], etcd: EtcdServer): Promise<void> {
  for (const m of members) await m.proc.kill("SIGTERM");
  for (const m of members) await Deno.remove(m.dir, { recursive: true }).catch(() => {});
  await etcd.stop();
}

async function metadata(port: number, topics: string[] | null = []): Promise<Msg> {
  return await RawClient.once(port, MetadataRequest, MetadataResponse, 12, {
    topics: topics === null ? null : topics.map((name) => ({ name })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
}

const brokersOf = (brokers: { nodeId?: number; brokerId?: number; host: string; port: number }[]) =>
  brokers.map((b) => `${b.nodeId ?? b.brokerId}=${b.host}:${b.port}`).sort().join(",");

async function createTopic(port: number, name: string, partitions: number): Promise<number> {
  const r = await RawClient.once(port, CreateTopicsRequest, CreateTopicsResponse, 7, {
    topics: [{
      name,
      numPartitions: partitions,
      replicationFactor: -1,
      assignments: [],
      configs: [],
    }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  return r.topics[0].errorCode;
}

const TWO_LISTENERS = {
  "listeners": "INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0",
  "listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
  "inter.broker.listener.name": "INTERNAL",
};

Deno.test({
  name: "cluster: every listener registered; each client sees the brokers on its own listener",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const prefix = `/tributary-listeners-${crypto.randomUUID()}`;
    const members: Member[] = [];
    try {
      members.push(await startMember(etcd, prefix, 1, TWO_LISTENERS));
      members.push(await startMember(etcd, prefix, 2, TWO_LISTENERS));
      // A third broker with the inter-broker listener only.
      members.push(
        await startMember(etcd, prefix, 3, {
          ...TWO_LISTENERS,
          "listeners": "INTERNAL://127.0.0.1:0",
          "listener.security.protocol.map": "INTERNAL:PLAINTEXT",
        }),
      );
      const [b1, b2] = members;
      const on = (name: string, ms: Member[]) =>
        ms.map((m) => `${m.id}=127.0.0.1:${m.ports.get(name) ?? m.proc.port}`).sort().join(",");
      const internal = on("INTERNAL", members);
      const external = on("EXTERNAL", [b1, b2]);
      assert.notEqual(b1.ports.get("INTERNAL"), b1.ports.get("EXTERNAL"));
      // Metadata and DescribeCluster, on every listener of every broker.
      await until(
        "three brokers registered",
        async () => brokersOf((await metadata(b1.ports.get("INTERNAL")!)).brokers) === internal,
      );
      for (const m of members) {
        for (const [name, expected] of [["INTERNAL", internal], ["EXTERNAL", external]]) {
          const port = m.ports.get(name) ?? (name === "INTERNAL" ? m.proc.port : undefined);
          if (port === undefined) continue;
          assert.equal(brokersOf((await metadata(port)).brokers), expected, `${m.id} ${name}`);
          const dc = await RawClient.once(
            port,
            DescribeClusterRequest,
            DescribeClusterResponse,
            1,
            {
              includeClusterAuthorizedOperations: false,
              endpointType: 1,
            },
          );
          assert.equal(brokersOf(dc.brokers), expected, `DescribeCluster ${m.id} ${name}`);
        }
      }
      // A topic (created through the EXTERNAL listener of broker 2) spread over all three.
      assert.equal(await createTopic(b2.ports.get("EXTERNAL")!, "spread", 6), 0);
      const leaders = await until("the topic's leaders", async () => {
        const md = await metadata(b1.ports.get("INTERNAL")!, ["spread"]);
        const ps = md.topics[0]?.partitions ?? [];
        return ps.length === 6 && ps.every((p: Msg) => p.leaderId >= 0)
          ? new Map<number, number>(ps.map((p: Msg) => [p.partitionIndex, p.leaderId]))
          : undefined;
      });
      // Over EXTERNAL the partitions broker 3 leads cannot be reached: LISTENER_NOT_FOUND.
      const ext = await metadata(b1.ports.get("EXTERNAL")!, ["spread"]);
      for (const p of ext.topics[0].partitions) {
        const leader = leaders.get(p.partitionIndex)!;
        if (leader === 3) {
          assert.equal(p.errorCode, ErrorCode.LISTENER_NOT_FOUND);
          assert.equal(p.leaderId, -1);
        } else {
          assert.equal(p.errorCode, 0);
          assert.equal(p.leaderId, leader);
        }
      }
      // FindCoordinator: groups whose coordinators are on each broker, on each listener.
      const keys = Array.from({ length: 40 }, (_, i) => `group-${i}`);
      const find = (port: number) =>
        RawClient.once(port, FindCoordinatorRequest, FindCoordinatorResponse, 4, {
          keyType: 0,
          coordinatorKeys: keys,
        });
      const coordinators = await until("coordinators for every group", async () => {
        const r = await find(b1.ports.get("INTERNAL")!);
        return r.coordinators.every((c: Msg) => c.errorCode === 0) ? r.coordinators : undefined;
      });
      const nodes = new Set(coordinators.map((c: Msg) => c.nodeId));
      assert.ok(nodes.has(2), "some group is coordinated by broker 2");
      for (const [m, name] of [[b1, "INTERNAL"], [b1, "EXTERNAL"], [b2, "EXTERNAL"]] as const) {
        // Each broker names a coordinator once its catalogue has the internal topic.
        const expectedError = (c: Msg) =>
          name === "EXTERNAL" && c.nodeId === 3 ? ErrorCode.COORDINATOR_NOT_AVAILABLE : 0;
        const byKey = new Map<string, Msg>(coordinators.map((c: Msg) => [c.key, c]));
        const r = await until(`coordinators through ${m.id} ${name}`, async () => {
          const r = await find(m.ports.get(name)!);
          return r.coordinators.every((c: Msg) => c.errorCode === expectedError(byKey.get(c.key)!))
            ? r
            : undefined;
        });
        for (const c of r.coordinators) {
          const at = members.find((x) => x.id === c.nodeId)!;
          if (c.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) {
            assert.equal(byKey.get(c.key)!.nodeId, 3, c.key);
            continue;
          }
          assert.equal(c.errorCode, 0, c.key);
          const port = at.ports.get(name) ?? at.proc.port; // broker 3: INTERNAL only
          assert.equal(`${c.host}:${c.port}`, `127.0.0.1:${port}`, c.key);
        }
      }
      // KIP-951: a Produce to a broker that does not lead names the leader on the listener.
      const [partition, leader] = [...leaders].find(([, l]) => l === 2)!;
      const r = await RawClient.once(
        b1.ports.get("EXTERNAL")!,
        ProduceRequest,
        ProduceResponse,
        10,
        {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5000,
          topicData: [{
            name: "spread",
            partitionData: [{
              index: partition,
              records: encodeRecordBatch({ records: [{ value: "v" }] }),
            }],
          }],
        },
      );
      const pr = r.responses[0].partitionResponses[0];
      assert.equal(pr.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.equal(pr.currentLeader.leaderId, leader);
      assert.equal(brokersOf(r.nodeEndpoints), `2=127.0.0.1:${b2.ports.get("EXTERNAL")}`);
    } finally {
      await stopAll(members, etcd);
    }
  },
});

const jaas = (password: string) =>
  "org.apache.kafka.common.security.plain.PlainLoginModule required " +
  `username="broker" password="${password}" user_broker="secret";`;

const SASL_INTER_BROKER = {
  "listeners": "CLIENT://127.0.0.1:0,BROKER://127.0.0.1:0",
  "listener.security.protocol.map": "CLIENT:PLAINTEXT,BROKER:SASL_PLAINTEXT",
  "inter.broker.listener.name": "BROKER",
  "sasl.mechanism.inter.broker.protocol": "PLAIN",
  "listener.name.broker.sasl.enabled.mechanisms": "PLAIN",
};

Deno.test({
  name:
    "cluster: a SASL_PLAINTEXT inter-broker listener carries forwarding; bad credentials logged",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const prefix = `/tributary-sasl-ib-${crypto.randomUUID()}`;
    const members: Member[] = [];
    try {
      const settings = (password: string) => ({
        ...SASL_INTER_BROKER,
        "listener.name.broker.plain.sasl.jaas.config": jaas(password),
      });
      members.push(await startMember(etcd, prefix, 1, settings("secret")));
      members.push(await startMember(etcd, prefix, 2, settings("secret")));
      const client = (m: Member) => m.proc.port; // CLIENT is the first listener
      const controllerId = await until("a controller", async () => {
        const md = await metadata(client(members[0]));
        return md.brokers.length === 2 && md.controllerId > 0 ? md.controllerId : undefined;
      });
      const other = members.find((m) => m.id !== controllerId)!;
      // Forwarded to the controller over BROKER (SASL PLAIN as broker).
      assert.equal(await createTopic(client(other), "forwarded", 2), 0);
      await until("the topic on both brokers", async () => {
        for (const m of members) {
          const md = await metadata(client(m), ["forwarded"]);
          if (md.topics[0]?.errorCode !== 0 || md.topics[0].partitions.length !== 2) return false;
        }
        return true;
      });
      // A broker whose inter-broker password is wrong: its forwarding fails, said plainly.
      if (controllerId !== 3) {
        members.push(await startMember(etcd, prefix, 3, settings("wrong")));
        const bad = members[2];
        assert.notEqual(await createTopic(client(bad), "refused", 1), 0);
        await until(
          "the failure logged",
          () =>
            bad.proc.lines.find((l) =>
              l.includes(`forwarding to controller ${controllerId} at 127.0.0.1:`) &&
              l.includes(
                "(inter-broker listener BROKER, SASL_PLAINTEXT, PLAIN as broker) failed",
              ) &&
              l.includes("SASL_AUTHENTICATION_FAILED")
            ),
        );
      }
    } finally {
      await stopAll(members, etcd);
    }
  },
});

Deno.test({
  name: "cluster: an SSL inter-broker listener carries forwarding, verified by the truststore",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const certs = await makeTestCerts();
    const etcd = await startEtcd();
    const prefix = `/tributary-ssl-ib-${crypto.randomUUID()}`;
    const members: Member[] = [];
    try {
      const settings = {
        "listeners": "CLIENT://127.0.0.1:0,BROKER://127.0.0.1:0",
        "listener.security.protocol.map": "CLIENT:PLAINTEXT,BROKER:SSL",
        "inter.broker.listener.name": "BROKER",
        "listener.name.broker.ssl.keystore.type": "PEM",
        "listener.name.broker.ssl.keystore.location": certs.serverPem,
        "listener.name.broker.ssl.truststore.type": "PEM",
        "listener.name.broker.ssl.truststore.location": certs.caPem,
      };
      members.push(await startMember(etcd, prefix, 1, settings));
      members.push(await startMember(etcd, prefix, 2, settings));
      const controllerId = await until("a controller", async () => {
        const md = await metadata(members[0].proc.port);
        return md.brokers.length === 2 && md.controllerId > 0 ? md.controllerId : undefined;
      });
      const other = members.find((m) => m.id !== controllerId)!;
      assert.equal(await createTopic(other.proc.port, "over-tls", 2), 0);
      await until("the topic on both brokers", async () => {
        for (const m of members) {
          const md = await metadata(m.proc.port, ["over-tls"]);
          if (md.topics[0]?.errorCode !== 0 || md.topics[0].partitions.length !== 2) return false;
        }
        return true;
      });
      // A broker trusting another CA cannot verify the controller: forwarding fails, logged.
      const stranger = await makeTestCerts();
      try {
        members.push(
          await startMember(etcd, prefix, 3, {
            ...settings,
            "listener.name.broker.ssl.truststore.location": stranger.caPem,
          }),
        );
        const bad = members[2];
        assert.notEqual(await createTopic(bad.proc.port, "unverified", 1), 0);
        await until(
          "the failure logged",
          () =>
            bad.proc.lines.find((l) =>
              l.includes(`forwarding to controller ${controllerId} at 127.0.0.1:`) &&
              l.includes("(inter-broker listener BROKER, SSL) failed") &&
              /certificate/i.test(l)
            ),
        );
      } finally {
        await stranger.remove();
      }
    } finally {
      await stopAll(members, etcd);
      await certs.remove();
    }
  },
});

Deno.test({
  name: "cluster: SCRAM-SHA-256 on the inter-broker listener, the credential set on the controller",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const etcd = await startEtcd();
    const prefix = `/tributary-scram-ib-${crypto.randomUUID()}`;
    const members: Member[] = [];
    try {
      const settings = {
        "listeners": "CLIENT://127.0.0.1:0,BROKER://127.0.0.1:0",
        "listener.security.protocol.map": "CLIENT:PLAINTEXT,BROKER:SASL_PLAINTEXT",
        "inter.broker.listener.name": "BROKER",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-256",
        "listener.name.broker.sasl.enabled.mechanisms": "SCRAM-SHA-256",
        "listener.name.broker.scram-sha-256.sasl.jaas.config":
          "org.apache.kafka.common.security.scram.ScramLoginModule required " +
          'username="broker" password="broker-secret";',
      };
      members.push(await startMember(etcd, prefix, 1, settings));
      const [b1] = members;
      await until(
        "broker 1 the controller",
        async () => (await metadata(b1.proc.port)).controllerId === 1,
      );
      const salt = crypto.getRandomValues(new Uint8Array(24));
      const altered = await RawClient.once(
        b1.proc.port,
        AlterUserScramCredentialsRequest,
        AlterUserScramCredentialsResponse,
        0,
        {
          deletions: [],
          upsertions: [{
            name: "broker",
            mechanism: 1,
            iterations: 4096,
            salt,
            saltedPassword: await saltedPassword(SCRAM_SHA_256, "broker-secret", salt, 4096),
          }],
        },
      );
      assert.equal(altered.results[0].errorCode, 0);
      members.push(await startMember(etcd, prefix, 2, settings));
      const b2 = members[1];
      await until("two brokers", async () => (await metadata(b2.proc.port)).brokers.length === 2);
      assert.equal(await createTopic(b2.proc.port, "scram-forwarded", 1), 0);
      await until("the topic on broker 1", async () => {
        const md = await metadata(b1.proc.port, ["scram-forwarded"]);
        return md.topics[0]?.errorCode === 0;
      });
      // The same user with another password is refused by the controller's SCRAM check.
      members.push(
        await startMember(etcd, prefix, 3, {
          ...settings,
          "listener.name.broker.scram-sha-256.sasl.jaas.config":
            "org.apache.kafka.common.security.scram.ScramLoginModule required " +
            'username="broker" password="not-it";',
        }),
      );
      const b3 = members[2];
      assert.notEqual(await createTopic(b3.proc.port, "scram-refused", 1), 0);
      await until(
        "the failure logged",
        () =>
          b3.proc.lines.find((l) =>
            l.includes(
              "(inter-broker listener BROKER, SASL_PLAINTEXT, SCRAM-SHA-256 as broker) failed",
            )
          ),
      );
    } finally {
      await stopAll(members, etcd);
    }
  },
});
