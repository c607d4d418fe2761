/**
 * The ACL authorizer end to end, as User:ANONYMOUS (the only principal without SASL): a broker
 * started with `authorizer.class.name` and `super.users=User:ANONYMOUS` allows everything and
 * takes ACLs from kafkajs's and kafka-python's admin clients; restarted on the same data
 * directory with `super.users` empty, the ACLs are still there and decide: produce allowed to a
 * prefix but not read, a consumer group denied, a transactional id denied, Metadata hiding the
 * topics the principal may not describe, denials counted in /metrics.
 */
import assert from "node:assert/strict";
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from "kafkajs";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  CreateAclsRequest,
  CreateAclsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
  FetchRequest,
  FetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { decoder, kcat, python, testBroker } from "../support/helpers.ts";
import type { Msg } from "../support/msg.ts";
import { RawClient } from "../support/raw_client.ts";
import { assertSpansWorkers, withBroker } from "../support/workers_fixtures.ts";

const ANON = "User:ANONYMOUS";
const AUTHORIZER = { "authorizer.class.name": "acl" };

function kafkaAt(address: string) {
  return new Kafka({ clientId: "acl-test", brokers: [address], logLevel: logLevel.NOTHING });
}

/** The ACLs the test grants: cluster admin, produce to pay-*, groups but one, tx-* but one. */
const GRANTS = [
  [
    AclResourceTypes.CLUSTER,
    "kafka-cluster",
    ResourcePatternTypes.LITERAL,
    AclOperationTypes.ALTER,
  ],
  [
    AclResourceTypes.CLUSTER,
    "kafka-cluster",
    ResourcePatternTypes.LITERAL,
    AclOperationTypes.DESCRIBE,
  ],
  [AclResourceTypes.TOPIC, "pay-", ResourcePatternTypes.PREFIXED, AclOperationTypes.WRITE],
  [AclResourceTypes.GROUP, "*", ResourcePatternTypes.LITERAL, AclOperationTypes.READ],
  [
    AclResourceTypes.TRANSACTIONAL_ID,
    "tx-",
    ResourcePatternTypes.PREFIXED,
    AclOperationTypes.ALL,
  ],
].map(([resourceType, resourceName, resourcePatternType, operation]) => ({
  resourceType: resourceType as number,
  resourceName: resourceName as string,
  resourcePatternType: resourcePatternType as number,
  principal: ANON,
  host: "*",
  operation: operation as number,
  permissionType: AclPermissionTypes.ALLOW as number,
}));
const DENIALS = [
  [AclResourceTypes.GROUP, "denied-group", AclOperationTypes.READ],
  [AclResourceTypes.TRANSACTIONAL_ID, "tx-denied", AclOperationTypes.WRITE],
].map(([resourceType, resourceName, operation]) => ({
  resourceType: resourceType as number,
  resourceName: resourceName as string,
  resourcePatternType: ResourcePatternTypes.LITERAL as number,
  principal: "User:*",
  host: "*",
  operation: operation as number,
  permissionType: AclPermissionTypes.DENY as number,
}));

const ANY_FILTER = {
  resourceType: AclResourceTypes.ANY,
  resourcePatternType: ResourcePatternTypes.ANY,
  operation: AclOperationTypes.ANY,
  permissionType: AclPermissionTypes.ANY,
};

/** kafkajs's DescribeAcls answer flattened to sorted rows. */
function rows(resources: Msg[]): string[] {
  return resources.flatMap((r) =>
    (r.acls as Msg[]).map((a) =>
      [
        r.resourceType,
        r.resourceName,
        r.resourcePatternType ?? r.patternType,
        a.principal,
        a.host,
        a.operation,
        a.permissionType,
      ].join(" ")
    )
  ).sort();
}

const EXPECTED_ROWS = [...GRANTS, ...DENIALS].map((a) =>
  [
    a.resourceType,
    a.resourceName,
    a.resourcePatternType,
    a.principal,
    a.host,
    a.operation,
    a.permissionType,
  ].join(" ")
).sort();

/** Denials by `resource_type/operation` from the admin API's /metrics. */
async function denials(adminUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const out = new Map<string, number>();
  for (
    const m of text.matchAll(
      /^tributary_authorization_denials_total\{resource_type="(\w+)",operation="(\w+)"\} (\d+)$/gm,
    )
  ) out.set(`${m[1]}/${m[2]}`, Number(m[3]));
  return out;
}

Deno.test("ACLs: super user, kafkajs and kafka-python admin, then enforced after a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-acl-" });
  try {
    // ---- as a super user: everything is allowed; ACLs are created and described --------
    const first = await testBroker({
      dataDir,
      keepDir: true,
      config: { ...AUTHORIZER, "super.users": ANON },
    });
    try {
      const kafka = kafkaAt(first.address);
      const admin = kafka.admin();
      await admin.connect();
      try {
        assert.equal(
          await admin.createTopics({ topics: [{ topic: "pay-eu" }, { topic: "secret" }] }),
          true,
        );
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({ topic: "secret", messages: [{ value: "s1" }] });
        await producer.disconnect();
        assert.equal(
          decoder.decode(await kcat(first.address, ["-C", "-t", "secret", "-o", "0", "-e", "-q"])),
          "s1\n",
        );
        await admin.createAcls({ acl: [...GRANTS, ...DENIALS] });
        assert.deepEqual(rows((await admin.describeAcls(ANY_FILTER)).resources), EXPECTED_ROWS);
        // A filter by principal and permission, as Kafka's AccessControlEntryFilter.
        assert.deepEqual(
          rows(
            (await admin.describeAcls({
              ...ANY_FILTER,
              principal: "User:*",
              permissionType: AclPermissionTypes.DENY,
            })).resources,
          ),
          EXPECTED_ROWS.filter((r) => r.includes("User:*")),
        );
        // kafkajs: create, delete by filter (the deleted ACL is answered), describe again.
        await admin.createAcls({
          acl: [{ ...GRANTS[2], resourceName: "tmp-", principal: "User:tmp" }],
        });
        const deleted = await admin.deleteAcls({
          filters: [{ ...ANY_FILTER, principal: "User:tmp" }],
        });
        assert.deepEqual(
          deleted.filterResponses.map((
            f,
          ) => [f.errorCode, f.matchingAcls.map((a) => `${a.resourceName} ${a.principal}`)]),
          [[0, ["tmp- User:tmp"]]],
        );
        assert.deepEqual(rows((await admin.describeAcls(ANY_FILTER)).resources), EXPECTED_ROWS);
      } finally {
        await admin.disconnect();
      }
      // kafka-python's admin (Debian's confluent-kafka 1.7 has no ACL admin calls):
      // create_acls, describe_acls, delete_acls, describe_acls.
      const out = await python(
        `
import json, sys
from kafka.admin import (KafkaAdminClient, ACL, ACLFilter, ACLOperation, ACLPermissionType,
    ResourcePattern, ResourcePatternFilter, ResourceType, ACLResourcePatternType)
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
acl = ACL(principal="User:bob", host="10.0.0.1", operation=ACLOperation.READ,
    permission_type=ACLPermissionType.ALLOW,
    resource_pattern=ResourcePattern(ResourceType.TOPIC, "audit", ACLResourcePatternType.LITERAL))
created = a.create_acls([acl])
print(len(created["succeeded"]), len(created["failed"]))
flt = ACLFilter(principal=None, host=None, operation=ACLOperation.ANY,
    permission_type=ACLPermissionType.ANY,
    resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, "audit", ACLResourcePatternType.ANY))
found, err = a.describe_acls(flt)
print(json.dumps([[x.resource_pattern.resource_type.name, x.resource_pattern.resource_name,
    x.resource_pattern.pattern_type.name, x.principal, x.host, x.operation.name,
    x.permission_type.name] for x in found], separators=(",", ":")), err.__name__)
for _, matches, err in a.delete_acls([flt]):
    print(len(matches), err.__name__)
print(len(a.describe_acls(flt)[0]))
a.close()
`,
        [first.address],
      );
      assert.deepEqual(out.trim().split("\n"), [
        "1 0",
        JSON.stringify([["TOPIC", "audit", "LITERAL", "User:bob", "10.0.0.1", "READ", "ALLOW"]]) +
        " NoError",
        "1 NoError",
        "0",
      ]);
    } finally {
      await first.close();
    }

    // ---- restarted without super users: the saved ACLs decide -----------------------------
    const b = await testBroker({ dataDir, keepDir: true, config: AUTHORIZER, adminPort: 0 });
    try {
      const kafka = kafkaAt(b.address);
      const admin = kafka.admin();
      await admin.connect();
      try {
        assert.deepEqual(rows((await admin.describeAcls(ANY_FILTER)).resources), EXPECTED_ROWS);
        // Metadata of all topics hides `secret` (no ACL) but shows pay-eu (WRITE → DESCRIBE).
        const meta = await admin.fetchTopicMetadata();
        assert.deepEqual(meta.topics.map((t) => t.name), ["pay-eu"]);
      } finally {
        await admin.disconnect();
      }
      const listed = JSON.parse(decoder.decode(await kcat(b.address, ["-L", "-J"])));
      assert.deepEqual(listed.topics.map((t: Msg) => t.topic), ["pay-eu"]);

      // Produce to the prefix: allowed (kcat, then kafkajs in an allowed transaction).
      await kcat(b.address, ["-P", "-t", "pay-eu", "-p", "0"], { stdin: "p1\n" });
      const txProducer = kafka.producer({ transactionalId: "tx-ok", maxInFlightRequests: 1 });
      await txProducer.connect();
      const tx = await txProducer.transaction();
      await tx.send({ topic: "pay-eu", messages: [{ value: "p2" }] });
      await tx.commit();
      await txProducer.disconnect();

      // Reading it is not: confluent-kafka's consumer gets TOPIC_AUTHORIZATION_FAILED; a
      // denied group gets GROUP_AUTHORIZATION_FAILED; a denied transactional id
      // TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
      const errors = await python(
        `
import sys
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
def first_error(c):
    for _ in range(60):
        m = c.poll(1)
        if m is not None and m.error():
            return m.error().name()
        if m is not None:
            return "message " + m.value().decode()
    return "no error"
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "reader", "enable.auto.commit": False})
c.assign([TopicPartition("pay-eu", 0, 0)])
print(first_error(c))
c.close()
g = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "denied-group",
    "auto.offset.reset": "earliest"})
g.subscribe(["pay-eu"])
print(first_error(g))
g.close()
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "tx-denied"})
try:
    p.init_transactions(30)
    print("initialised")
except KafkaException as e:
    print(e.args[0].name())
`,
        [b.address],
      );
      assert.deepEqual(errors.trim().split("\n"), [
        "TOPIC_AUTHORIZATION_FAILED",
        "GROUP_AUTHORIZATION_FAILED",
        "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
      ]);

      // The same over the wire, with exact codes, and the denials counted in /metrics.
      const before = await denials(b.adminUrl!);
      const c = await RawClient.connect(b.port);
      try {
        const fetched = await c.call(FetchRequest, FetchResponse, 12, {
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          topics: [{
            topic: "pay-eu",
            partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }],
          }],
        });
        assert.equal(
          (fetched.responses as Msg[])[0].partitions[0].errorCode,
          ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        );
        const produced = await c.call(ProduceRequest, ProduceResponse, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5000,
          topicData: [
            {
              name: "secret",
              partitionData: [{
                index: 0,
                records: encodeRecordBatch({ records: [{ value: "x" }] }),
              }],
            },
            {
              name: "pay-us",
              partitionData: [{
                index: 0,
                records: encodeRecordBatch({ records: [{ value: "y" }] }),
              }],
            },
          ],
        });
        assert.deepEqual(
          (produced.responses as Msg[]).map((t) => [t.name, t.partitionResponses[0].errorCode]),
          [["secret", ErrorCode.TOPIC_AUTHORIZATION_FAILED], [
            "pay-us",
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          ]],
        );
        // Metadata by name: secret is refused without saying whether it exists; pay-us may
        // be described but not created (no CREATE).
        const m = await c.call(MetadataRequest, MetadataResponse, 12, {
          topics: [{ name: "secret" }, { name: "nothing-here" }, { name: "pay-us" }],
          allowAutoTopicCreation: true,
          includeTopicAuthorizedOperations: true,
        });
        assert.deepEqual(
          (m.topics as Msg[]).map((t) => [t.name, t.errorCode, t.topicAuthorizedOperations]),
          [
            ["secret", ErrorCode.TOPIC_AUTHORIZATION_FAILED, -2147483648],
            ["nothing-here", ErrorCode.TOPIC_AUTHORIZATION_FAILED, -2147483648],
            ["pay-us", ErrorCode.TOPIC_AUTHORIZATION_FAILED, -2147483648],
          ],
        );
        const payEu = await c.call(MetadataRequest, MetadataResponse, 12, {
          topics: [{ name: "pay-eu" }],
          allowAutoTopicCreation: false,
          includeTopicAuthorizedOperations: true,
        });
        // WRITE and the DESCRIBE it implies.
        assert.equal((payEu.topics as Msg[])[0].topicAuthorizedOperations, (1 << 4) | (1 << 8));
        const join = await c.call(JoinGroupRequest, JoinGroupResponse, 5, {
          groupId: "denied-group",
          sessionTimeoutMs: 10000,
          rebalanceTimeoutMs: 10000,
          memberId: "",
          groupInstanceId: null,
          protocolType: "consumer",
          protocols: [{ name: "range", metadata: new Uint8Array(0) }],
        });
        assert.equal(join.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
        const coordinator = await c.call(FindCoordinatorRequest, FindCoordinatorResponse, 4, {
          keyType: 1,
          coordinatorKeys: ["other-tx", "tx-denied"],
        });
        assert.deepEqual(
          (coordinator.coordinators as Msg[]).map((x) => [x.key, x.errorCode]),
          [["other-tx", ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED], ["tx-denied", 0]],
        );
      } finally {
        c.close();
      }
      const after = await denials(b.adminUrl!);
      const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
      assert.deepEqual(
        ["TOPIC/READ", "TOPIC/WRITE", "TOPIC/DESCRIBE", "TOPIC/CREATE", "GROUP/READ"].map(delta),
        [1, 1, 2, 1, 1],
      );
      assert.equal(delta("TRANSACTIONAL_ID/DESCRIBE"), 1);
    } finally {
      await b.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("ACL APIs with an authorizer: validation errors and CLUSTER_AUTHORIZATION_FAILED", async () => {
  const b = await testBroker({ config: AUTHORIZER });
  const c = await RawClient.connect(b.port);
  try {
    // No ACLs and no super users: even ACL administration is refused.
    for (const v of [0, 1, 2, 3]) {
      const d = await c.call(DescribeAclsRequest, DescribeAclsResponse, v, {
        resourceTypeFilter: 1,
        resourceNameFilter: null,
        patternTypeFilter: v === 0 ? 3 : 1,
        principalFilter: null,
        hostFilter: null,
        operation: 1,
        permissionType: 1,
      });
      assert.deepEqual([d.errorCode, d.resources], [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, []]);
      const r = await c.call(CreateAclsRequest, CreateAclsResponse, v, {
        creations: [{
          resourceType: 2,
          resourceName: "t",
          resourcePatternType: 3,
          principal: ANON,
          host: "*",
          operation: 3,
          permissionType: 3,
        }],
      });
      assert.deepEqual(
        (r.results as Msg[]).map((x) => x.errorCode),
        [ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
      );
    }
  } finally {
    c.close();
    await b.stop();
  }
  // With allow.everyone.if.no.acl.found the cluster has no ACL, so creations are validated.
  const open = await testBroker({
    config: { ...AUTHORIZER, "allow.everyone.if.no.acl.found": "true" },
  });
  const o = await RawClient.connect(open.port);
  try {
    const base = {
      resourceType: 2,
      resourceName: "t",
      resourcePatternType: 3,
      principal: ANON,
      host: "*",
      operation: 3,
      permissionType: 3,
    };
    const r = await o.call(CreateAclsRequest, CreateAclsResponse, 3, {
      creations: [
        { ...base, principal: "alice" },
        { ...base, resourcePatternType: 2 },
        { ...base, resourceType: 4, resourceName: "other" },
        { ...base, operation: 1 },
        base,
      ],
    });
    assert.deepEqual((r.results as Msg[]).map((x) => [x.errorCode, x.errorMessage]), [
      [
        ErrorCode.INVALID_REQUEST,
        "Could not parse principal from `alice` (no colon is present separating the principal " +
        "type from the principal name)",
      ],
      [ErrorCode.INVALID_REQUEST, "Invalid patternType MATCH"],
      [ErrorCode.INVALID_REQUEST, "The only valid name for the CLUSTER resource is kafka-cluster"],
      [ErrorCode.INVALID_REQUEST, "Invalid operation ANY"],
      [0, null],
    ]);
    const d = await o.call(DescribeAclsRequest, DescribeAclsResponse, 1, {
      resourceTypeFilter: 2,
      resourceNameFilter: "t",
      patternTypeFilter: 2,
      principalFilter: null,
      hostFilter: null,
      operation: 1,
      permissionType: 1,
    });
    assert.deepEqual(d.errorCode, 0);
    assert.deepEqual(d.resources, [{
      resourceType: 2,
      resourceName: "t",
      patternType: 3,
      acls: [{ principal: ANON, host: "*", operation: 3, permissionType: 3 }],
    }]);
  } finally {
    o.close();
    await open.stop();
  }
});

Deno.test("ACLs on 3 workers: an ACL created on the controller holds on every worker at once", async () => {
  await withBroker(
    "acl",
    ["--set", "authorizer.class.name=acl", "--set", "allow.everyone.if.no.acl.found=true"],
    async (b) => {
      const kafka = kafkaAt(b.address);
      const admin = kafka.admin();
      await admin.connect();
      try {
        // No ACL names anything yet: allowed by allow.everyone.if.no.acl.found.
        assert.equal(
          await admin.createTopics({ topics: [{ topic: "spread", numPartitions: 6 }] }),
          true,
        );
        assertSpansWorkers("spread", [0, 1, 2, 3, 4, 5]);
        await admin.createAcls({
          acl: [{
            resourceType: AclResourceTypes.TOPIC,
            resourceName: "spread",
            resourcePatternType: ResourcePatternTypes.LITERAL,
            principal: "User:*",
            host: "*",
            operation: AclOperationTypes.WRITE,
            permissionType: AclPermissionTypes.DENY,
          }],
        });
      } finally {
        await admin.disconnect();
      }
      // Connections land on any worker; each partition's append runs on its owner. Every one
      // is refused as soon as CreateAcls has answered.
      for (let i = 0; i < 6; i++) {
        const c = await RawClient.connect(b.port);
        try {
          const r = await c.call(ProduceRequest, ProduceResponse, 9, {
            transactionalId: null,
            acks: -1,
            timeoutMs: 5000,
            topicData: [{
              name: "spread",
              partitionData: [0, 1, 2, 3, 4, 5].map((index) => ({
                index,
                records: encodeRecordBatch({ records: [{ value: `v${index}` }] }),
              })),
            }],
          });
          assert.deepEqual(
            (r.responses as Msg[])[0].partitionResponses.map((p: Msg) => p.errorCode),
            Array(6).fill(ErrorCode.TOPIC_AUTHORIZATION_FAILED),
          );
          // The topic now has an ACL, so allow.everyone.if.no.acl.found no longer applies to
          // it: nothing granted, DESCRIBE denied too (as Kafka).
          const m = await c.call(MetadataRequest, MetadataResponse, 12, {
            topics: [{ name: "spread" }],
            allowAutoTopicCreation: false,
            includeTopicAuthorizedOperations: true,
          });
          assert.deepEqual(
            (m.topics as Msg[]).map((t) => [t.errorCode, t.topicAuthorizedOperations]),
            [[ErrorCode.TOPIC_AUTHORIZATION_FAILED, -2147483648]],
          );
        } finally {
          c.close();
        }
      }
    },
  );
});

Deno.test("a broker with an unreadable ACL file refuses to start instead of losing its ACLs", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-acl-bad-" });
  try {
    await Deno.mkdir(`${dataDir}/meta`, { recursive: true });
    await Deno.writeTextFile(`${dataDir}/meta/acls.json`, '{"acls": [{"principal": 1}]}');
    await assert.rejects(
      testBroker({ dataDir, keepDir: true, config: AUTHORIZER }),
      /cannot read ACLs from .*acls\.json: not an ACL list/,
    );
    // Without an authorizer the file is not read at all.
    const b = await testBroker({ dataDir, keepDir: true });
    await b.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
