/**
 * Handlers of a real broker with an authorizer, called with a chosen session: principals other
 * than User:ANONYMOUS need SASL or TLS on the wire, so each request's context is built here
 * (the broker's own services, the principal and client address under test) and its handler is
 * run as KafkaApis runs it, the request decoded from its wire form so every default is set.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { decodeMessage, type Encodable, encodeMessage } from "../../protocol/schema.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { AnyApiRegistration, RequestContext } from "../../src/registry.ts";
import {
  AclOperation as Op,
  AclPermissionType as Perm,
  PatternType,
  ResourceType as RT,
} from "../../src/security/acl_binding.ts";
import { plaintextSession } from "../../src/security/session.ts";
import { createAcls } from "../../src/handlers/create_acls.ts";
import { createTopics } from "../../src/handlers/create_topics.ts";
import { describeConfigs } from "../../src/handlers/describe_configs.ts";
import { describeGroups } from "../../src/handlers/describe_groups.ts";
import { initProducerId } from "../../src/handlers/init_producer_id.ts";
import { listGroups } from "../../src/handlers/list_groups.ts";
import { metadata } from "../../src/handlers/metadata.ts";
import { offsetCommit } from "../../src/handlers/offset_commit.ts";
import { produce } from "../../src/handlers/produce.ts";
import { testBroker } from "../support/helpers.ts";
import type { Msg } from "../support/msg.ts";

type Broker = Awaited<ReturnType<typeof testBroker>>;

/** Runs `reg`'s handler for `body` at `version` as `principal` from `host`. */
async function as<Req>(
  b: Broker,
  principal: string,
  reg: { request: AnyApiRegistration["request"]; apiKey: number; handler: unknown },
  version: number,
  body: Encodable<Req>,
  host = "127.0.0.1",
): Promise<Msg> {
  const r = reg as AnyApiRegistration;
  const req = decodeMessage(r.request, version, encodeMessage(r.request, version, body));
  const ctx: RequestContext = {
    services: b.broker.services,
    header: { apiKey: r.apiKey, apiVersion: version, correlationId: 1, clientId: "acl-test" },
    apiVersion: version,
    clientHost: host,
    connectionId: 0,
    session: { ...plaintextSession(), principal },
  };
  return (await r.handler(req, ctx)) as Msg;
}

const ADMIN = "User:admin";
const ALICE = "User:alice";
const BOB = "User:bob";
const CAROL = "User:carol";

function acl(
  principal: string,
  resourceType: number,
  resourceName: string,
  operation: number,
  permissionType: number = Perm.ALLOW,
  resourcePatternType: number = PatternType.LITERAL,
  host = "*",
) {
  return {
    resourceType,
    resourceName,
    resourcePatternType,
    principal,
    host,
    operation,
    permissionType,
  };
}

Deno.test("authorization per principal: Metadata, Produce, groups, InitProducerId, configs, topics", async () => {
  const b = await testBroker({
    config: { "authorizer.class.name": "acl", "super.users": ADMIN },
  });
  try {
    for (const t of ["orders", "audit", "other"]) await b.broker.createTopic(t, 1);
    const creations = [
      acl(ALICE, RT.TOPIC, "orders", Op.READ),
      acl(ALICE, RT.GROUP, "team-", Op.READ, Perm.ALLOW, PatternType.PREFIXED),
      acl(ALICE, RT.TOPIC, "audit", Op.DESCRIBE, Perm.ALLOW, PatternType.LITERAL, "10.0.0.9"),
      acl(BOB, RT.TOPIC, "*", Op.WRITE),
      acl(BOB, RT.TOPIC, "orders", Op.WRITE, Perm.DENY),
      acl(CAROL, RT.CLUSTER, "kafka-cluster", Op.DESCRIBE),
    ];
    // Only a principal allowed to ALTER the cluster may create ACLs.
    const refused = await as(b, ALICE, createAcls, 3, { creations });
    assert.deepEqual(
      (refused.results as Msg[]).map((r) => r.errorCode),
      creations.map(() => ErrorCode.CLUSTER_AUTHORIZATION_FAILED),
    );
    const created = await as(b, ADMIN, createAcls, 3, { creations });
    assert.deepEqual((created.results as Msg[]).map((r) => r.errorCode), creations.map(() => 0));

    // Metadata of all topics: each principal sees what it may describe (host-specific ACLs
    // only from that host).
    const visible = async (p: string, host?: string) =>
      ((await as(b, p, metadata, 12, { topics: null, allowAutoTopicCreation: false }, host))
        .topics as Msg[]).map((t) => t.name).sort();
    assert.deepEqual(await visible(ALICE), ["orders"]);
    assert.deepEqual(await visible(ALICE, "10.0.0.9"), ["audit", "orders"]);
    assert.deepEqual(await visible(BOB), ["audit", "orders", "other"]);
    assert.deepEqual(await visible(CAROL), []);
    assert.deepEqual(await visible(ADMIN), ["audit", "orders", "other"]);

    // Produce: bob's DENY on orders wins over his ALLOW on every topic.
    const produced = await as(b, BOB, produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: ["orders", "other"].map((name) => ({
        name,
        partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: name }] }) }],
      })),
    });
    assert.deepEqual(
      (produced.responses as Msg[]).map((t) => [t.name, t.partitionResponses[0].errorCode]),
      [["orders", ErrorCode.TOPIC_AUTHORIZATION_FAILED], ["other", 0]],
    );

    // Groups made by simple commits (the admin may do anything).
    const commit = (p: string, groupId: string, topic: string) =>
      as(b, p, offsetCommit, 8, {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: "",
        groupInstanceId: null,
        topics: [{
          name: topic,
          partitions: [{ partitionIndex: 0, committedOffset: 0, committedMetadata: null }],
        }],
      });
    const codes = (r: Msg) => (r.topics as Msg[]).map((t) => t.partitions[0].errorCode);
    assert.deepEqual(codes(await commit(ADMIN, "team-a", "orders")), [0]);
    assert.deepEqual(codes(await commit(ADMIN, "ops-b", "orders")), [0]);
    assert.deepEqual(codes(await commit(ALICE, "team-a", "orders")), [0]);
    assert.deepEqual(
      codes(await commit(ALICE, "team-a", "other")),
      [ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    );
    assert.deepEqual(
      codes(await commit(BOB, "team-a", "other")),
      [ErrorCode.GROUP_AUTHORIZATION_FAILED],
    );
    const listed = async (p: string) =>
      ((await as(b, p, listGroups, 4, { statesFilter: [] })).groups as Msg[])
        .map((g) => g.groupId).sort();
    assert.deepEqual(await listed(ALICE), ["team-a"]);
    assert.deepEqual(await listed(CAROL), ["ops-b", "team-a"]);
    assert.deepEqual(await listed(BOB), []);
    const described = await as(b, ALICE, describeGroups, 5, {
      groups: ["team-a", "ops-b"],
      includeAuthorizedOperations: true,
    });
    assert.deepEqual(
      (described.groups as Msg[]).map((g) => [g.groupId, g.errorCode, g.authorizedOperations]),
      [
        ["team-a", 0, (1 << Op.READ) | (1 << Op.DESCRIBE)],
        ["ops-b", ErrorCode.GROUP_AUTHORIZATION_FAILED, -2147483648],
      ],
    );

    // An idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic.
    const init = async (p: string) =>
      (await as(b, p, initProducerId, 4, {
        transactionalId: null,
        transactionTimeoutMs: 60000,
        producerId: -1,
        producerEpoch: -1,
      })).errorCode;
    assert.equal(await init(BOB), 0);
    assert.equal(await init(ALICE), ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const txn = await as(b, BOB, initProducerId, 4, {
      transactionalId: "bob-tx",
      transactionTimeoutMs: 60000,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.equal(txn.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);

    // Configs: DESCRIBE_CONFIGS on the topic, or on the cluster for the broker.
    const configs = await as(b, ALICE, describeConfigs, 4, {
      resources: [
        { resourceType: 2, resourceName: "orders", configurationKeys: null },
        { resourceType: 4, resourceName: "", configurationKeys: null },
      ],
    });
    assert.deepEqual(
      (configs.results as Msg[]).map((r) => [r.errorCode, r.configs.length]),
      [[ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0], [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 0]],
    );

    // CreateTopics: CREATE on the cluster or the topic.
    const create = async (p: string) =>
      ((await as(b, p, createTopics, 7, {
        topics: [{
          name: "new-t",
          numPartitions: 1,
          replicationFactor: -1,
          assignments: [],
          configs: [],
        }],
        timeoutMs: 5000,
        validateOnly: true,
      })).topics as Msg[]).map((t) => [t.errorCode, t.errorMessage]);
    assert.deepEqual(await create(BOB), [[
      ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      "Authorization failed.",
    ]]);
    assert.deepEqual(await create(ADMIN), [[0, null]]);
  } finally {
    await b.stop();
  }
});
