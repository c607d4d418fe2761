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
import { listOffsets } from "../../src/handlers/list_offsets.ts";
import { deleteRecords } from "../../src/handlers/delete_records.ts";
import { offsetForLeaderEpoch } from "../../src/handlers/offset_for_leader_epoch.ts";
import { describeProducers } from "../../src/handlers/describe_producers.ts";
import { createPartitions } from "../../src/handlers/create_partitions.ts";
import { deleteTopics } from "../../src/handlers/delete_topics.ts";
import { alterConfigs } from "../../src/handlers/alter_configs.ts";
import { incrementalAlterConfigs } from "../../src/handlers/incremental_alter_configs.ts";
import { describeTopicPartitions } from "../../src/handlers/describe_topic_partitions.ts";
import { offsetFetch } from "../../src/handlers/offset_fetch.ts";
import { heartbeat } from "../../src/handlers/heartbeat.ts";
import { leaveGroup } from "../../src/handlers/leave_group.ts";
import { syncGroup } from "../../src/handlers/sync_group.ts";
import { offsetDelete } from "../../src/handlers/offset_delete.ts";
import { deleteGroups } from "../../src/handlers/delete_groups.ts";
import { consumerGroupHeartbeat } from "../../src/handlers/consumer_group_heartbeat.ts";
import { consumerGroupDescribe } from "../../src/handlers/consumer_group_describe.ts";
import { findCoordinator } from "../../src/handlers/find_coordinator.ts";
import { endTxn } from "../../src/handlers/end_txn.ts";
import { addOffsetsToTxn } from "../../src/handlers/add_offsets_to_txn.ts";
import { txnOffsetCommit } from "../../src/handlers/txn_offset_commit.ts";
import { addPartitionsToTxn } from "../../src/handlers/add_partitions_to_txn.ts";
import { writeTxnMarkers } from "../../src/handlers/write_txn_markers.ts";
import { describeUserScramCredentials } from "../../src/handlers/describe_user_scram_credentials.ts";
import { alterUserScramCredentials } from "../../src/handlers/alter_user_scram_credentials.ts";
import { describeTransactions } from "../../src/handlers/describe_transactions.ts";
import { listTransactions } from "../../src/handlers/list_transactions.ts";
import { describeLogDirs } from "../../src/handlers/describe_log_dirs.ts";
import { describeCluster } from "../../src/handlers/describe_cluster.ts";
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

    // DescribeTopicPartitions: refused topics come after the described ones.
    const dtp = await as(b, ALICE, describeTopicPartitions, 0, {
      topics: [{ name: "other" }, { name: "orders" }, { name: "audit" }],
      responsePartitionLimit: 1,
      cursor: null,
    });
    assert.deepEqual(
      (dtp.topics as Msg[]).map((t) => [t.name, t.errorCode, t.topicAuthorizedOperations]),
      [
        ["orders", 0, (1 << Op.READ) | (1 << Op.DESCRIBE)],
        ["audit", ErrorCode.TOPIC_AUTHORIZATION_FAILED, -2147483648],
        ["other", ErrorCode.TOPIC_AUTHORIZATION_FAILED, -2147483648],
      ],
    );
    assert.equal(dtp.nextCursor, null);

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

Deno.test("every API refuses a principal without ACLs with Kafka's code", async () => {
  const b = await testBroker({
    config: { "authorizer.class.name": "acl", "super.users": ADMIN },
  });
  const NOBODY = "User:nobody";
  const TOPIC = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  const GROUP = ErrorCode.GROUP_AUTHORIZATION_FAILED;
  const CLUSTER = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  const TXN = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  try {
    await b.broker.createTopic("orders", 1);
    const ordersId = b.broker.metadataCache.topic("orders")!.topicId;
    // The admin makes a group and a transactional id exist.
    const commit = await as(b, ADMIN, offsetCommit, 8, {
      groupId: "team-a",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [{
        name: "orders",
        partitions: [{ partitionIndex: 0, committedOffset: 0, committedMetadata: null }],
      }],
    });
    assert.equal((commit.topics as Msg[])[0].partitions[0].errorCode, 0);
    const init = await as(b, ADMIN, initProducerId, 4, {
      transactionalId: "tx-1",
      transactionTimeoutMs: 60000,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.equal(init.errorCode, 0);

    const nobody = (reg: Parameters<typeof as>[2], v: number, body: object) =>
      as(b, NOBODY, reg, v, body as never);
    const p0 = (r: Msg, topics: string, partitions: string, code = "errorCode") =>
      (r[topics] as Msg[])[0][partitions][0][code];

    assert.equal(
      p0(
        await nobody(listOffsets, 7, {
          replicaId: -1,
          topics: [{
            name: "orders",
            partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }],
          }],
        }),
        "topics",
        "partitions",
      ),
      TOPIC,
    );
    assert.equal(
      p0(
        await nobody(deleteRecords, 2, {
          topics: [{ name: "orders", partitions: [{ partitionIndex: 0, offset: 0 }] }],
          timeoutMs: 1000,
        }),
        "topics",
        "partitions",
      ),
      TOPIC,
    );
    assert.equal(
      p0(
        await nobody(offsetForLeaderEpoch, 4, {
          replicaId: -1,
          topics: [{
            topic: "orders",
            partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }],
          }],
        }),
        "topics",
        "partitions",
      ),
      TOPIC,
    );
    assert.equal(
      p0(
        await nobody(describeProducers, 0, {
          topics: [{ name: "orders", partitionIndexes: [0] }],
        }),
        "topics",
        "partitions",
      ),
      TOPIC,
    );
    const partitions = await nobody(createPartitions, 3, {
      topics: [{ name: "orders", count: 2, assignments: null }],
      timeoutMs: 1000,
      validateOnly: true,
    });
    assert.equal((partitions.results as Msg[])[0].errorCode, TOPIC);
    const deleted = await nobody(deleteTopics, 6, {
      topics: [{ name: "orders", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }, {
        name: null,
        topicId: ordersId,
      }],
      timeoutMs: 1000,
    });
    assert.deepEqual(
      (deleted.responses as Msg[]).map((r) => [r.name, r.errorCode]),
      [["orders", TOPIC], [null, TOPIC]],
    );
    const altered = await nobody(alterConfigs, 2, {
      resources: [
        {
          resourceType: 2,
          resourceName: "orders",
          configs: [{ name: "retention.ms", value: "1000" }],
        },
        { resourceType: 4, resourceName: "", configs: [] },
      ],
      validateOnly: true,
    });
    assert.deepEqual(
      (altered.responses as Msg[]).map((r) => [r.errorCode, r.errorMessage]),
      [[TOPIC, null], [CLUSTER, null]],
    );
    const incremental = await nobody(incrementalAlterConfigs, 1, {
      resources: [{
        resourceType: 2,
        resourceName: "orders",
        configs: [{ name: "retention.ms", configOperation: 0, value: "1000" }],
      }],
      validateOnly: true,
    });
    assert.equal((incremental.responses as Msg[])[0].errorCode, TOPIC);
    const dtp = async (topics: { name: string }[]) =>
      ((await nobody(describeTopicPartitions, 0, {
        topics,
        responsePartitionLimit: 100,
        cursor: null,
      })).topics as Msg[]).map((t) => [t.name, t.errorCode]);
    assert.deepEqual(await dtp([]), []);
    assert.deepEqual(await dtp([{ name: "orders" }]), [["orders", TOPIC]]);

    // Groups.
    const offsets = async (v: number, topics: { name: string; partitionIndexes: number[] }[]) =>
      v >= 8
        ? await nobody(offsetFetch, v, {
          groups: [{ groupId: "team-a", memberId: null, memberEpoch: -1, topics }],
        })
        : await nobody(offsetFetch, v, { groupId: "team-a", topics });
    assert.equal(
      ((await offsets(8, [{ name: "orders", partitionIndexes: [0] }])).groups as Msg[])[0]
        .errorCode,
      GROUP,
    );
    assert.equal((await offsets(5, [{ name: "orders", partitionIndexes: [0] }])).errorCode, GROUP);
    assert.equal(
      p0(await offsets(1, [{ name: "orders", partitionIndexes: [0] }]), "topics", "partitions"),
      GROUP,
    );
    assert.equal(
      (await nobody(heartbeat, 4, { groupId: "team-a", generationId: 1, memberId: "m" }))
        .errorCode,
      GROUP,
    );
    assert.equal(
      (await nobody(leaveGroup, 5, {
        groupId: "team-a",
        members: [{ memberId: "m", groupInstanceId: null }],
      })).errorCode,
      GROUP,
    );
    assert.equal(
      (await nobody(syncGroup, 5, {
        groupId: "team-a",
        generationId: 1,
        memberId: "m",
        protocolType: "consumer",
        protocolName: "range",
        assignments: [],
      })).errorCode,
      GROUP,
    );
    assert.equal(
      (await nobody(offsetDelete, 0, {
        groupId: "team-a",
        topics: [{ name: "orders", partitions: [{ partitionIndex: 0 }] }],
      })).errorCode,
      GROUP,
    );
    assert.deepEqual(
      ((await nobody(deleteGroups, 2, { groupsNames: ["team-a"] })).results as Msg[]).map((
        r,
      ) => [r.groupId, r.errorCode]),
      [["team-a", GROUP]],
    );
    assert.equal(
      (await nobody(consumerGroupHeartbeat, 0, {
        groupId: "team-a",
        memberId: "m",
        memberEpoch: 0,
        rebalanceTimeoutMs: 1000,
        subscribedTopicNames: ["orders"],
        topicPartitions: [],
      })).errorCode,
      GROUP,
    );
    assert.equal(
      ((await nobody(consumerGroupDescribe, 0, {
        groupIds: ["team-a"],
        includeAuthorizedOperations: true,
      })).groups as Msg[])[0].errorCode,
      GROUP,
    );
    assert.deepEqual(
      ((await nobody(findCoordinator, 4, { keyType: 0, coordinatorKeys: ["team-a"] }))
        .coordinators as Msg[]).map((c) => [c.errorCode, c.errorMessage]),
      [[GROUP, "Group authorization failed."]],
    );
    // The group still has its offsets: nothing was deleted.
    const kept = await as(b, ADMIN, offsetFetch, 8, {
      groups: [{ groupId: "team-a", memberId: null, memberEpoch: -1, topics: null }],
    });
    assert.equal(((kept.groups as Msg[])[0].topics as Msg[])[0].partitions[0].committedOffset, 0);

    // Transactions.
    const txn = { transactionalId: "tx-1", producerId: init.producerId, producerEpoch: 0 };
    assert.equal((await nobody(endTxn, 3, { ...txn, committed: true })).errorCode, TXN);
    assert.equal((await nobody(addOffsetsToTxn, 3, { ...txn, groupId: "team-a" })).errorCode, TXN);
    assert.deepEqual(
      p0(
        await nobody(txnOffsetCommit, 3, {
          ...txn,
          groupId: "team-a",
          generationId: -1,
          memberId: "",
          topics: [{
            name: "orders",
            partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }],
          }],
        }),
        "topics",
        "partitions",
      ),
      TXN,
    );
    const added = await nobody(addPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: "tx-1",
      v3AndBelowProducerId: init.producerId as number,
      v3AndBelowProducerEpoch: 0,
      v3AndBelowTopics: [{ name: "orders", partitions: [0] }],
    });
    assert.equal(
      p0(added, "resultsByTopicV3AndBelow", "resultsByPartition", "partitionErrorCode"),
      TXN,
    );
    const verify = await nobody(addPartitionsToTxn, 4, {
      transactions: [{ ...txn, verifyOnly: true, topics: [{ name: "orders", partitions: [0] }] }],
    });
    assert.deepEqual([verify.errorCode, verify.resultsByTransaction], [CLUSTER, []]);
    const markers = await nobody(writeTxnMarkers, 1, {
      markers: [{
        producerId: init.producerId as number,
        producerEpoch: 0,
        transactionResult: false,
        topics: [{ name: "orders", partitionIndexes: [0] }],
        coordinatorEpoch: 0,
      }],
    });
    assert.equal(p0((markers.markers as Msg[])[0], "topics", "partitions"), CLUSTER);
    // Nothing was written: the log end is still 0.
    const latest = await as(b, ADMIN, listOffsets, 7, {
      replicaId: -1,
      topics: [{
        name: "orders",
        partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }],
      }],
    });
    assert.equal(p0(latest, "topics", "partitions", "offset"), 0);
    assert.equal(
      ((await nobody(describeTransactions, 0, { transactionalIds: ["tx-1"] }))
        .transactionStates as Msg[])[0].errorCode,
      TXN,
    );
    const listed = async (p: string) =>
      ((await as(b, p, listTransactions, 1, { stateFilters: [], producerIdFilters: [] }))
        .transactionStates as Msg[]).map((t) => t.transactionalId);
    assert.deepEqual(await listed(ADMIN), ["tx-1"]);
    assert.deepEqual(await listed(NOBODY), []);
    assert.deepEqual(
      ((await nobody(findCoordinator, 3, { key: "tx-1", keyType: 1 })) as Msg).errorCode,
      TXN,
    );

    // Cluster.
    const scram = await nobody(describeUserScramCredentials, 0, { users: null });
    assert.deepEqual([scram.errorCode, scram.results], [CLUSTER, []]);
    const scramAltered = await nobody(alterUserScramCredentials, 0, {
      deletions: [{ name: "alice", mechanism: 1 }],
      upsertions: [],
    });
    assert.deepEqual(
      (scramAltered.results as Msg[]).map((r) => [r.user, r.errorCode]),
      [["alice", CLUSTER]],
    );
    const logDirs = await nobody(describeLogDirs, 4, { topics: null });
    assert.deepEqual([logDirs.errorCode, logDirs.results], [CLUSTER, []]);
    const ops = async (p: string) =>
      (await as(b, p, describeCluster, 1, {
        includeClusterAuthorizedOperations: true,
        endpointType: 1,
      })).clusterAuthorizedOperations;
    assert.equal(await ops(NOBODY), 0);
    const clusterOps: number[] = [
      Op.CREATE,
      Op.CLUSTER_ACTION,
      Op.DESCRIBE_CONFIGS,
      Op.ALTER_CONFIGS,
      Op.IDEMPOTENT_WRITE,
      Op.ALTER,
      Op.DESCRIBE,
    ];
    assert.equal(await ops(ADMIN), clusterOps.reduce((bits, op) => bits | (1 << op), 0));
  } finally {
    await b.stop();
  }
});
