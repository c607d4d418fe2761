/**
 * Security state across a cluster (two brokers with two Deno workers each, over a real etcd):
 * a SCRAM user created through broker 1 logs in with kcat on broker 2, on every worker; an
 * ACL created on 1 allows, then denies, on 2; a quota set on 1 throttles on 2; deleting the
 * user, the ACL and the quota through broker 2 takes effect on broker 1. Each broker has a
 * PLAINTEXT listener (inter-broker, `User:ANONYMOUS` the super user here) and a
 * SASL_PLAINTEXT one for the users.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  CreateAclsRequest,
  CreateAclsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { saltedPassword, SCRAM_SHA_512 } from "../../src/security/sasl/scram_formatter.ts";
import { type BrokerProcess, decoder, kcat, run } from "../support/helpers.ts";
import type { Msg } from "../support/msg.ts";
import { RawClient } from "../support/raw_client.ts";
import { TestCluster } from "../support/cluster_fixtures.ts";
import { startEtcd } from "../support/etcd.ts";
import { until, waitFor } from "../support/wait.ts";

const SECURITY = [
  "--set",
  "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
  "--set",
  "sasl.enabled.mechanisms=SCRAM-SHA-512",
  "--set",
  "authorizer.class.name=acl",
  "--set",
  "super.users=User:ANONYMOUS",
  "--admin-port",
  "0",
  "--set",
  "tributary.admin.api.auth=sasl",
];

/** The admin API's base URL, from the start-up lines. */
function adminUrl(p: BrokerProcess): Promise<string> {
  return until("the admin API's address", () => {
    for (const l of p.lines) {
      const m = /admin API and console on (http:\/\/[^/ ]+)\//.exec(l);
      if (m) return m[1];
    }
    return undefined;
  });
}

const basicAuth = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

/** The SASL_PLAINTEXT listener's address, from the start-up lines. */
function saslAddress(p: BrokerProcess): Promise<string> {
  return until("the SASL listener's port", () => {
    for (const l of p.lines) {
      const m = /listener SASL_PLAINTEXT \(SASL_PLAINTEXT\) on [^ ]*:(\d+),/.exec(l);
      if (m) return `127.0.0.1:${m[1]}`;
    }
    return undefined;
  });
}

const alice = (password: string) => [
  "-X",
  "security.protocol=SASL_PLAINTEXT",
  "-X",
  "sasl.mechanisms=SCRAM-SHA-512",
  "-X",
  "sasl.username=alice",
  "-X",
  `sasl.password=${password}`,
];

/** kcat -L as alice: null when it failed (authentication), else the topic's error or "". */
async function aliceSees(address: string, topic: string, password = "alice-pw"): Promise<
  string | null
> {
  const r = await run("kcat", [
    "-b",
    address,
    ...alice(password),
    "-L",
    "-J",
    "-t",
    topic,
    "-m",
    "5",
  ]);
  if (r.code !== 0) return null;
  const md = JSON.parse(decoder.decode(r.stdout)) as { topics: { error?: string }[] };
  return md.topics[0]?.error ?? "";
}

const topicAcl = (operation: number, permissionType: number) => ({
  resourceType: 2,
  resourceName: "sec-t",
  resourcePatternType: 3,
  principal: "User:alice",
  host: "*",
  operation,
  permissionType,
});

Deno.test("cluster: SCRAM users, ACLs and quotas made on one broker apply on the other", async () => {
  const etcd = await startEtcd();
  const cluster = new TestCluster(etcd, 2);
  const conns: RawClient[] = [];
  try {
    const b1 = await cluster.start(1, SECURITY);
    const b2 = await cluster.start(2, SECURITY);
    const [sasl1, sasl2] = [await saslAddress(b1), await saslAddress(b2)];
    const on1 = await RawClient.connect(b1.port);
    const on2 = await RawClient.connect(b2.port);
    conns.push(on1, on2);
    const created = await on1.call(CreateTopicsRequest, CreateTopicsResponse, 4, {
      topics: [{
        name: "sec-t",
        numPartitions: 2,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    assert.equal(created.topics[0].errorCode, 0);
    // Metadata names the other brokers by their first (PLAINTEXT) listener: kcat over SASL
    // on broker 2 uses only the partition broker 2 leads.
    const md = await until("a leader for each partition", async () => {
      const m = await on1.call(MetadataRequest, MetadataResponse, 12, {
        topics: [{ name: "sec-t" }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      const parts = m.topics[0].partitions as Msg[];
      return parts.length === 2 && parts.every((p) => (p.leaderId as number) >= 0) && m;
    });
    const ledBy = (id: number) =>
      (md.topics[0].partitions as Msg[]).find((p) => p.leaderId === id)?.partitionIndex as number;
    assert.notEqual(ledBy(1), undefined, "a partition led by broker 1");
    assert.notEqual(ledBy(2), undefined, "a partition led by broker 2");

    // ---- a SCRAM user created through broker 1 logs in on broker 2 ----------------------
    const salt = crypto.getRandomValues(new Uint8Array(32));
    const altered = await on1.call(
      AlterUserScramCredentialsRequest,
      AlterUserScramCredentialsResponse,
      0,
      {
        deletions: [],
        upsertions: [{
          name: "alice",
          mechanism: 2,
          iterations: 4096,
          salt,
          saltedPassword: await saltedPassword(SCRAM_SHA_512, "alice-pw", salt, 4096),
        }],
      },
    );
    assert.deepEqual((altered.results as Msg[]).map((r) => [r.user, r.errorCode]), [["alice", 0]]);
    // Broker 1 answered once it (every worker of it) had the credential: no wait here.
    for (let i = 0; i < 4; i++) assert.notEqual(await aliceSees(sasl1, "sec-t"), null);
    await waitFor(
      "alice to log in on broker 2",
      async () => await aliceSees(sasl2, "sec-t") !== null,
    );
    // Every worker of broker 2 has it (connections land on either), and only the password works.
    for (let i = 0; i < 4; i++) {
      assert.equal(await aliceSees(sasl2, "sec-t"), "Broker: Topic authorization failed");
    }
    assert.equal(await aliceSees(sasl2, "sec-t", "wrong-pw"), null);
    // Broker 2's admin API knows her too (its worker 0 follows the same keys).
    const admin2 = await adminUrl(b2);
    const adminGet = async (password: string) => {
      const r = await fetch(`${admin2}/v1/cluster`, {
        headers: { authorization: basicAuth("alice", password) },
      });
      return { status: r.status, json: await r.json() };
    };
    const refused = await adminGet("alice-pw");
    assert.equal(refused.status, 403);
    assert.equal(refused.json.message, "User:alice may not DESCRIBE on CLUSTER kafka-cluster");
    assert.equal((await adminGet("wrong-pw")).status, 401);

    // ---- ACLs: created on 1, applied on 2 ---------------------------------------------
    const create = await on1.call(CreateAclsRequest, CreateAclsResponse, 3, {
      creations: [topicAcl(2, 3), {
        ...topicAcl(8, 3),
        resourceType: 4,
        resourceName: "kafka-cluster",
      }],
    });
    assert.deepEqual((create.results as Msg[]).map((r) => r.errorCode), [0, 0]);
    await waitFor("the ALLOW ACL on broker 2", async () => await aliceSees(sasl2, "sec-t") === "");
    // Both ACLs came in one change: broker 2's admin API now lets her see the cluster.
    const described = await adminGet("alice-pw");
    assert.equal(described.status, 200, JSON.stringify(described.json));
    assert.deepEqual(described.json.brokers.map((b: { brokerId: number }) => b.brokerId).sort(), [
      1,
      2,
    ]);
    const p2 = String(ledBy(2));
    await kcat(sasl2, [...alice("alice-pw"), "-P", "-t", "sec-t", "-p", p2], {
      stdin: "from-alice\n",
    });
    const consumed = await kcat(sasl2, [
      ...alice("alice-pw"),
      "-C",
      "-t",
      "sec-t",
      "-p",
      p2,
      "-e",
      "-o",
      "beginning",
      "-f",
      "%o:%s\\n",
    ]);
    assert.equal(decoder.decode(consumed), "0:from-alice\n");
    const deny = await on1.call(CreateAclsRequest, CreateAclsResponse, 3, {
      creations: [topicAcl(8, 2)],
    });
    assert.deepEqual((deny.results as Msg[]).map((r) => r.errorCode), [0]);
    await waitFor(
      "the DENY DESCRIBE ACL on broker 2",
      async () => await aliceSees(sasl2, "sec-t") === "Broker: Topic authorization failed",
    );
    // Deleted through broker 2: broker 1 allows again.
    const deleted = await on2.call(DeleteAclsRequest, DeleteAclsResponse, 3, {
      filters: [{
        resourceTypeFilter: 2,
        resourceNameFilter: "sec-t",
        patternTypeFilter: 3,
        principalFilter: "User:alice",
        hostFilter: null,
        operation: 8,
        permissionType: 2,
      }],
    });
    assert.deepEqual(
      (deleted.filterResults as Msg[]).map((f) => [f.errorCode, (f.matchingAcls as Msg[]).length]),
      [[0, 1]],
    );
    await waitFor("broker 1 to drop the DENY", async () => await aliceSees(sasl1, "sec-t") === "");

    // ---- a quota set on 1 throttles on 2; removed on 2, gone on 1 ----------------------
    const quota = (remove: boolean) => ({
      entries: [{
        entity: [{ entityType: "client-id", entityName: "bench" }],
        ops: [{ key: "producer_byte_rate", value: 20_000, remove }],
      }],
      validateOnly: false,
    });
    const set = await on1.call(
      AlterClientQuotasRequest,
      AlterClientQuotasResponse,
      1,
      quota(false),
    );
    assert.equal(set.entries[0].errorCode, 0);
    const batch = encodeRecordBatch({ records: [{ key: "k", value: "x".repeat(10_000) }] });
    /** Produces on a fresh connection (RawClient's client id is "bench") until throttled. */
    const throttledOn = async (b: BrokerProcess, partition: number, wantThrottle: boolean) => {
      const c = await RawClient.connect(b.port);
      conns.push(c);
      const { ms } = await until(
        () => `a produce answer on broker ${b.port} ${wantThrottle ? "with" : "without"} throttle`,
        async () => {
          const r = await c.call(ProduceRequest, ProduceResponse, 9, {
            transactionalId: null,
            acks: 1,
            timeoutMs: 5000,
            topicData: [{ name: "sec-t", partitionData: [{ index: partition, records: batch }] }],
          });
          assert.equal(r.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
          return (r.throttleTimeMs > 0) === wantThrottle && { ms: r.throttleTimeMs };
        },
        { intervalMs: 0 },
      );
      return ms;
    };
    assert.ok(await throttledOn(b2, ledBy(2), true) > 0);
    assert.ok(await throttledOn(b1, ledBy(1), true) > 0);
    const removed = await on2.call(
      AlterClientQuotasRequest,
      AlterClientQuotasResponse,
      1,
      quota(true),
    );
    assert.equal(removed.entries[0].errorCode, 0);
    // Broker 1 stops throttling once the removal reaches it (its sensor is over the quota).
    assert.equal(await throttledOn(b1, ledBy(1), false), 0);

    // ---- the user deleted through broker 2 can no longer log in on broker 1 ------------
    const gone = await on2.call(
      AlterUserScramCredentialsRequest,
      AlterUserScramCredentialsResponse,
      0,
      { deletions: [{ name: "alice", mechanism: 2 }], upsertions: [] },
    );
    assert.deepEqual((gone.results as Msg[]).map((r) => [r.user, r.errorCode]), [["alice", 0]]);
    await waitFor(
      "alice to be refused on broker 1",
      async () => await aliceSees(sasl1, "sec-t") === null,
    );
  } finally {
    for (const c of conns) c.close();
    await cluster.close();
    await etcd.cleanup();
  }
});
