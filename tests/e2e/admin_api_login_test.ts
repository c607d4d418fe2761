/**
 * The admin HTTP API with `tributary.admin.api.auth=sasl`, over real HTTP with fetch: HTTP
 * Basic with a SCRAM user (alice) and a PLAIN user (carol), Bearer with an unsecured
 * OAUTHBEARER JWT (bob) and with the admin token; each action allowed or refused by the ACLs
 * as the Kafka API behind it checks (403 naming what is missing), 401 with the challenges for
 * no or wrong credentials, and super.users allowed everything.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  type AclBinding,
  AclOperation,
  AclPermissionType,
  PatternType,
  ResourceType,
} from "../../src/security/acl_binding.ts";
import {
  credentialFromPassword,
  SCRAM_SHA_256,
  SCRAM_SHA_512,
} from "../../src/security/sasl/scram_formatter.ts";
import { requiredPermission } from "../../src/admin/admin_auth.ts";
import { testBroker } from "../support/helpers.ts";

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);
const jwt = (sub: string, expIn = 3600) =>
  `${b64u({ alg: "none" })}.${b64u({ sub, iat: now() - 10, exp: now() + expIn })}.`;

const allow = (
  principal: string,
  resourceType: number,
  resourceName: string,
  operation: number,
): AclBinding => ({
  resourceType,
  resourceName,
  patternType: PatternType.LITERAL,
  principal,
  host: "*",
  operation,
  permissionType: AclPermissionType.ALLOW,
});

Deno.test("admin API login: Basic SCRAM and PLAIN users, OAUTHBEARER JWTs, ACL-checked actions", async () => {
  const b = await testBroker({
    adminPort: 0,
    config: {
      "listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
      "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config":
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_carol="carol-pw";',
      "authorizer.class.name": "acl",
      "super.users": "User:root",
      "tributary.admin.api.auth": "sasl",
      "tributary.admin.api.token": "the-admin-token",
    },
  });
  const url = b.adminUrl!;
  const http = async (method: string, path: string, auth?: string, body?: unknown) => {
    const headers: Record<string, string> = auth ? { authorization: auth } : {};
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : null;
    return { status: res.status, headers: res.headers, json, text };
  };
  try {
    const broker = b.broker;
    await broker.scramCredentials.alter(
      await Promise.all(
        [["alice", SCRAM_SHA_512], ["root", SCRAM_SHA_256]].map(async ([user, m]) => ({
          op: "upsert" as const,
          user: user as string,
          mechanism: m as typeof SCRAM_SHA_512,
          credential: await credentialFromPassword(
            m as typeof SCRAM_SHA_512,
            `${user}-pw`,
            4096,
          ),
        })),
      ),
    );
    await broker.createTopic("orders", 1);
    await broker.createTopic("secret", 1);
    await broker.authorizer!.createAcls([
      allow("User:alice", ResourceType.TOPIC, "orders", AclOperation.DESCRIBE),
      allow("User:carol", ResourceType.GROUP, "g1", AclOperation.DESCRIBE),
    ]);

    // ---- no credentials, wrong ones: 401 with both challenges --------------------------
    const none = await http("GET", "/v1/topics/orders");
    assert.equal(none.status, 401);
    assert.equal(none.json.error, "UNAUTHORIZED");
    const challenges = none.headers.get("www-authenticate") ?? "";
    assert.match(challenges, /Basic realm="tributary-admin"/);
    assert.match(challenges, /Bearer realm="tributary-admin"/);
    const wrong = await http("GET", "/v1/topics/orders", basic("alice", "not-her-pw"));
    assert.equal(wrong.status, 401);
    assert.match(wrong.json.message, /invalid username or password/);
    assert.equal((await http("GET", "/v1/topics/orders", basic("nobody", "x"))).status, 401);
    assert.equal((await http("GET", "/v1/topics/orders", "Digest abc")).status, 401);
    // Health stays open; the console needs a login (the browser prompts for it) and no ACL.
    assert.equal((await http("GET", "/healthz")).status, 200);
    const page = await http("GET", "/", undefined);
    assert.equal(page.status, 401);
    assert.match(page.headers.get("www-authenticate") ?? "", /Basic/);
    const consolePage = await http("GET", "/", basic("alice", "alice-pw"));
    assert.equal(consolePage.status, 200);
    assert.match(consolePage.text, /<html/i);

    // ---- alice (SCRAM-SHA-512): DESCRIBE on orders only --------------------------------
    const alice = basic("alice", "alice-pw");
    const described = await http("GET", "/v1/topics/orders", alice);
    assert.equal(described.status, 200, JSON.stringify(described.json));
    assert.equal(described.json.name, "orders");
    const denied = await http("GET", "/v1/topics/secret", alice);
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error, "FORBIDDEN");
    assert.equal(denied.json.message, "User:alice may not DESCRIBE on TOPIC secret");
    assert.deepEqual(denied.json.missing, {
      operation: "DESCRIBE",
      resourceType: "TOPIC",
      resourceName: "secret",
    });
    // Producing a record is Produce's WRITE; the record is not written when refused.
    const record = { key: "k1", value: "v1" };
    const noWrite = await http("POST", "/v1/topics/orders/records", alice, record);
    assert.equal(noWrite.status, 403);
    assert.deepEqual(noWrite.json.missing, {
      operation: "WRITE",
      resourceType: "TOPIC",
      resourceName: "orders",
    });
    assert.equal(broker.partition("orders", 0)!.logEndOffset, 0);
    await broker.authorizer!.createAcls([
      allow("User:alice", ResourceType.TOPIC, "orders", AclOperation.WRITE),
    ]);
    const produced = await http("POST", "/v1/topics/orders/records", alice, record);
    assert.equal(produced.status, 200, JSON.stringify(produced.json));
    assert.deepEqual([produced.json.partition, produced.json.offset], [0, 0]);
    // Browsing needs READ, configs DESCRIBE_CONFIGS / ALTER_CONFIGS, deletion DELETE.
    const browse = await http("GET", "/v1/topics/orders/partitions/0/records", alice);
    assert.equal(browse.status, 403);
    assert.equal(browse.json.missing.operation, "READ");
    assert.equal(
      (await http("GET", "/v1/topics/orders/configs", alice)).json.missing.operation,
      "DESCRIBE_CONFIGS",
    );
    const alter = await http("PATCH", "/v1/topics/orders/configs", alice, {
      "retention.ms": "1000",
    });
    assert.equal(alter.status, 403);
    assert.equal(alter.json.missing.operation, "ALTER_CONFIGS");
    const del = await http("DELETE", "/v1/topics/orders", alice);
    assert.equal(del.status, 403);
    assert.equal(del.json.missing.operation, "DELETE");
    // Creating a topic: CREATE on the cluster or on the topic named in the body.
    const create = await http("POST", "/v1/topics", alice, { name: "alice-t", partitions: 1 });
    assert.equal(create.status, 403);
    assert.deepEqual(create.json.missing, {
      operation: "CREATE",
      resourceType: "TOPIC",
      resourceName: "alice-t",
    });
    await broker.authorizer!.createAcls([
      allow("User:alice", ResourceType.TOPIC, "alice-t", AclOperation.CREATE),
    ]);
    const created = await http("POST", "/v1/topics", alice, { name: "alice-t", partitions: 1 });
    assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.json));
    assert.equal(broker.topic("alice-t")?.partitions, 1);
    // Cluster pages need DESCRIBE on the cluster.
    const clusterPage = await http("GET", "/v1/cluster", alice);
    assert.equal(clusterPage.status, 403);
    assert.equal(clusterPage.json.message, "User:alice may not DESCRIBE on CLUSTER kafka-cluster");

    // ---- carol (PLAIN, from the listener's JAAS users): groups -------------------------
    const carol = basic("carol", "carol-pw");
    assert.equal((await http("GET", "/v1/groups", basic("carol", "bad"))).status, 401);
    // Listings show what the user may DESCRIBE, as Metadata and ListGroups filter theirs.
    const carolGroups = await http("GET", "/v1/groups", carol);
    assert.equal(carolGroups.status, 200);
    assert.deepEqual(carolGroups.json.groups, []);
    const carolTopics = await http("GET", "/v1/topics", carol);
    assert.equal(carolTopics.status, 200);
    assert.deepEqual(carolTopics.json.topics, []);
    const aliceTopics = await http("GET", "/v1/topics", alice);
    assert.deepEqual(aliceTopics.json.topics.map((t: { name: string }) => t.name), ["orders"]);
    // g1 may be described, but there is no such group.
    assert.equal((await http("GET", "/v1/groups/g1", carol)).status, 404);
    const g2 = await http("GET", "/v1/groups/g2", carol);
    assert.equal(g2.status, 403);
    assert.equal(g2.json.message, "User:carol may not DESCRIBE on GROUP g2");
    const reset = await http("POST", "/v1/groups/g1/offsets", carol, {});
    assert.equal(reset.status, 403);
    assert.equal(reset.json.missing.operation, "READ");
    assert.equal((await http("DELETE", "/v1/groups/g1", carol)).json.missing.operation, "DELETE");

    // ---- bob: an unsecured OAUTHBEARER JWT, as the SASL listener validates it ----------
    const bob = `Bearer ${jwt("bob")}`;
    const bobCluster = await http("GET", "/v1/cluster", bob);
    assert.equal(bobCluster.status, 403);
    assert.equal(bobCluster.json.message, "User:bob may not DESCRIBE on CLUSTER kafka-cluster");
    await broker.authorizer!.createAcls([
      allow("User:bob", ResourceType.CLUSTER, "kafka-cluster", AclOperation.DESCRIBE),
    ]);
    const bobOk = await http("GET", "/v1/cluster", bob);
    assert.equal(bobOk.status, 200);
    assert.equal(bobOk.json.clusterId, broker.clusterId);
    // Fault injection and other cluster changes need ALTER on the cluster.
    assert.equal((await http("POST", "/v1/faults", bob, {})).json.missing.operation, "ALTER");
    const expired = await http("GET", "/v1/cluster", `Bearer ${jwt("bob", -3600)}`);
    assert.equal(expired.status, 401);
    assert.match(expired.json.message, /invalid_token/);
    assert.equal((await http("GET", "/v1/cluster", "Bearer not.a.jwt")).status, 401);

    // ---- root (a super user) and the admin token may do everything --------------------
    const root = basic("root", "root-pw");
    const rootTopics = await http("GET", "/v1/topics", root);
    assert.deepEqual(
      rootTopics.json.topics.map((t: { name: string }) => t.name).filter((n: string) =>
        !n.startsWith("__")
      ),
      ["alice-t", "orders", "secret"],
    );
    assert.equal((await http("GET", "/v1/topics/secret/configs", root)).status, 200);
    assert.equal((await http("DELETE", "/v1/topics/secret", root)).status, 204);
    assert.equal(broker.topic("secret"), undefined);
    const token = "Bearer the-admin-token";
    assert.equal((await http("GET", "/v1/topics/orders/partitions/0/records", token)).status, 200);
    const metrics = await http("GET", "/metrics", token);
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^# HELP /m);
  } finally {
    await b.stop();
  }
});

Deno.test("admin API permissions follow the Kafka APIs behind each action", () => {
  const p = (m: string, path: string, name?: string) => {
    const r = requiredPermission(m, path, name);
    return r && [r.operation, r.resourceType, r.resourceName];
  };
  const { TOPIC, GROUP, CLUSTER } = ResourceType;
  const O = AclOperation;
  assert.deepEqual(p("POST", "/v1/topics", "t"), [O.CREATE, TOPIC, "t"]);
  assert.equal(p("GET", "/v1/topics"), null); // filtered by DESCRIBE instead
  assert.equal(p("GET", "/v1/groups"), null);
  assert.deepEqual(p("GET", "/v1/topics/a%2Fb"), [O.DESCRIBE, TOPIC, "a/b"]);
  assert.deepEqual(p("DELETE", "/v1/topics/t"), [O.DELETE, TOPIC, "t"]);
  assert.deepEqual(p("PUT", "/v1/topics/t/configs"), [O.ALTER_CONFIGS, TOPIC, "t"]);
  assert.deepEqual(p("GET", "/v1/topics/t/partitions/3"), [O.DESCRIBE, TOPIC, "t"]);
  assert.deepEqual(p("GET", "/v1/topics/t/partitions/3/records"), [O.READ, TOPIC, "t"]);
  assert.deepEqual(p("GET", "/v1/topics/t/records/search"), [O.READ, TOPIC, "t"]);
  assert.deepEqual(p("POST", "/v1/topics/t/records"), [O.WRITE, TOPIC, "t"]);
  assert.deepEqual(p("PUT", "/v1/groups/g/offsets"), [O.READ, GROUP, "g"]);
  assert.deepEqual(p("DELETE", "/v1/groups/g"), [O.DELETE, GROUP, "g"]);
  assert.deepEqual(p("GET", "/v1/groups/g/offsets"), [O.DESCRIBE, GROUP, "g"]);
  assert.deepEqual(p("GET", "/v1/quotas"), [O.DESCRIBE, CLUSTER, "kafka-cluster"]);
  assert.deepEqual(p("POST", "/v1/acls"), [O.ALTER, CLUSTER, "kafka-cluster"]);
  assert.deepEqual(p("DELETE", "/v1/faults"), [O.ALTER, CLUSTER, "kafka-cluster"]);
  assert.deepEqual(p("GET", "/metrics"), [O.DESCRIBE, CLUSTER, "kafka-cluster"]);
  assert.equal(p("GET", "/"), null);
  assert.equal(p("GET", "/openapi.json"), null);
});

Deno.test("admin API login: token mode without a token, or an unknown mode, stops the start", async () => {
  for (
    const [mode, pattern] of [["token", /needs an admin token/], ["kerberos", /kerberos/]] as const
  ) {
    await assert.rejects(
      testBroker({ adminPort: 0, config: { "tributary.admin.api.auth": mode } }),
      pattern,
    );
  }
});
