/**
 * End to end, one broker (no cluster): the replication APIs answer as Kafka with one replica
 * per partition. ElectLeaders v0–2 gets ELECTION_NOT_NEEDED for known partitions (and answers
 * nothing when asked for all), UNKNOWN_TOPIC_OR_PARTITION otherwise; reassignments to this
 * broker succeed, to another get INVALID_REPLICA_ASSIGNMENT with Kafka's message, a cancel
 * NO_REASSIGNMENT_IN_PROGRESS, and none is ever listed (kafkajs and the wire); CreateTopics
 * takes assignments naming this broker and refuses others, and resolves -1 with
 * default.replication.factor (INVALID_REPLICATION_FACTOR above one broker).
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
} from "../../protocol/messages/mod.ts";
import { Kafka, logLevel } from "kafkajs";
import type { Msg } from "../support/msg.ts";
import { testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";

Deno.test("one broker: ElectLeaders, reassignments and CreateTopics placement as Kafka with one replica", async () => {
  const br = await testBroker({ config: { "node.id": 7 } });
  const c = await RawClient.connect(br.port);
  try {
    let r = await c.call(CreateTopicsRequest, CreateTopicsResponse, 5, {
      topics: [
        {
          name: "placed",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 1, brokerIds: [7] }, {
            partitionIndex: 0,
            brokerIds: [7],
          }],
          configs: [],
        },
        {
          name: "elsewhere",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [7, 8] }],
          configs: [],
        },
        {
          name: "both",
          numPartitions: 1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [7] }],
          configs: [],
        },
        { name: "rf2", numPartitions: 1, replicationFactor: 2, assignments: [], configs: [] },
        { name: "rf0", numPartitions: 1, replicationFactor: 0, assignments: [], configs: [] },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.deepEqual(r.topics.map((t: Msg) => [t.name, t.errorCode, t.errorMessage]), [
      ["placed", 0, null],
      [
        "elsewhere",
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        "The manual partition assignment includes broker 8, but no such broker is registered.",
      ],
      [
        "both",
        ErrorCode.INVALID_REQUEST,
        "Both numPartitions or replicationFactor and replicasAssignments were set. " +
        "Both cannot be used at the same time.",
      ],
      [
        "rf2",
        ErrorCode.INVALID_REPLICATION_FACTOR,
        "Replication factor: 2 larger than available brokers: 1.",
      ],
      [
        "rf0",
        ErrorCode.INVALID_REPLICATION_FACTOR,
        "Replication factor must be larger than 0, or -1 to use the default value.",
      ],
    ]);
    assert.equal(r.topics[0].numPartitions, 2);
    assert.equal(r.topics[0].replicationFactor, 1);

    for (const v of [0, 1, 2]) {
      r = await c.call(ElectLeadersRequest, ElectLeadersResponse, v, {
        electionType: 0,
        topicPartitions: [{ topic: "placed", partitions: [1, 0, 5] }, {
          topic: "nope",
          partitions: [0],
        }],
        timeoutMs: 5000,
      });
      assert.equal(r.errorCode, 0, `v${v}`);
      assert.deepEqual(
        r.replicaElectionResults.map((t: Msg) => [
          t.topic,
          t.partitionResult.map((p: Msg) => [p.partitionId, p.errorCode]),
        ]),
        [
          ["placed", [[1, ErrorCode.ELECTION_NOT_NEEDED], [0, ErrorCode.ELECTION_NOT_NEEDED], [
            5,
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          ]]],
          ["nope", [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
        ],
        `v${v}`,
      );
    }
    r = await c.call(ElectLeadersRequest, ElectLeadersResponse, 2, {
      electionType: 1,
      topicPartitions: null,
      timeoutMs: 5000,
    });
    assert.deepEqual([r.errorCode, r.replicaElectionResults], [0, []]);
    r = await c.call(ElectLeadersRequest, ElectLeadersResponse, 2, {
      electionType: 5,
      topicPartitions: [{ topic: "placed", partitions: [0] }],
      timeoutMs: 5000,
    });
    assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(
      r.replicaElectionResults[0].partitionResult[0].errorCode,
      ErrorCode.INVALID_REQUEST,
    );

    r = await c.call(AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse, 0, {
      timeoutMs: 5000,
      topics: [{
        name: "placed",
        partitions: [
          { partitionIndex: 0, replicas: [7] },
          { partitionIndex: 1, replicas: [8] },
          { partitionIndex: 0, replicas: null },
          { partitionIndex: 3, replicas: [7] },
        ],
      }],
    });
    assert.equal(r.errorCode, 0);
    assert.deepEqual(r.responses[0].partitions.map((p: Msg) => [p.errorCode, p.errorMessage]), [
      [0, null],
      [
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        "Replica assignment has brokers that are not alive. Replica list: List(8), " +
        "live broker list: Set(7)",
      ],
      [
        ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
        "No partition reassignment is in progress for this topic-partition.",
      ],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist."],
    ]);
    r = await c.call(ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse, 0, {
      timeoutMs: 5000,
      topics: null,
    });
    assert.deepEqual([r.errorCode, r.topics], [0, []]);

    const kafka = new Kafka({ brokers: [br.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.alterPartitionReassignments({
        topics: [{ topic: "placed", partitionAssignment: [{ partition: 1, replicas: [7] }] }],
      });
      assert.deepEqual(await admin.listPartitionReassignments({}), { topics: [] });
    } finally {
      await admin.disconnect();
    }
  } finally {
    c.close();
    await br.stop();
  }
});

Deno.test("one broker: default.replication.factor above one refuses topics created with -1", async () => {
  const br = await testBroker({ config: { "default.replication.factor": 2 } });
  const c = await RawClient.connect(br.port);
  try {
    const r = await c.call(CreateTopicsRequest, CreateTopicsResponse, 7, {
      topics: [{
        name: "d",
        numPartitions: 1,
        replicationFactor: -1,
        assignments: [],
        configs: [],
      }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.equal(r.topics[0].errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
    assert.equal(
      r.topics[0].errorMessage,
      "Replication factor: 2 larger than available brokers: 1.",
    );
  } finally {
    c.close();
    await br.stop();
  }
});

Deno.test("with an authorizer: the replication APIs need ALTER / DESCRIBE on the cluster", async () => {
  const br = await testBroker({ config: { "authorizer.class.name": "acl" } });
  const c = await RawClient.connect(br.port);
  try {
    let r = await c.call(ElectLeadersRequest, ElectLeadersResponse, 2, {
      electionType: 0,
      topicPartitions: [{ topic: "t", partitions: [0, 1] }],
      timeoutMs: 5000,
    });
    assert.equal(r.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.deepEqual(
      r.replicaElectionResults[0].partitionResult.map((p: Msg) => [p.partitionId, p.errorCode]),
      [[0, ErrorCode.CLUSTER_AUTHORIZATION_FAILED], [1, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]],
    );
    r = await c.call(AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse, 0, {
      timeoutMs: 5000,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, replicas: [1] }] }],
    });
    assert.equal(r.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.equal(r.responses[0].partitions[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    r = await c.call(ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse, 0, {
      timeoutMs: 5000,
      topics: null,
    });
    assert.equal(r.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  } finally {
    c.close();
    await br.stop();
  }
});
