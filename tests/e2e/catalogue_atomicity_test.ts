/**
 * A metadata change is durable and visible, or neither: when topics.json cannot be written,
 * CreateTopics, CreatePartitions, DeleteTopics and AlterConfigs answer KAFKA_STORAGE_ERROR and
 * leave the catalogue (in memory, on disk and after a restart) as it was; likewise dynamic
 * broker configs when their file cannot be written.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterConfigsRequest,
  AlterConfigsResponse,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { BrokerProcess, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";

async function produce(port: number, topic: string, partition: number) {
  const r = await RawClient.once(port, ProduceRequest, ProduceResponse, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{
      name: topic,
      partitionData: [{
        index: partition,
        records: encodeRecordBatch({ records: [{ value: "v" }] }),
      }],
    }],
  });
  return r.responses[0].partitionResponses[0];
}

Deno.test(
  "topics.json cannot be written: every catalogue change fails with KAFKA_STORAGE_ERROR " +
    "and is not visible, then or after a restart",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-catalogue-" });
    try {
      const first = await testBroker({ dataDir, keepDir: true });
      const port = first.port;
      await first.broker.createTopic("kept", 1);
      assert.equal((await produce(port, "kept", 0)).errorCode, 0);
      // The temp file topics.json is written through is a directory now: every write fails.
      Deno.mkdirSync(`${dataDir}/meta/topics.json.tmp`);

      const created = await RawClient.once(port, CreateTopicsRequest, CreateTopicsResponse, 7, {
        topics: [{
          name: "fresh",
          numPartitions: 2,
          replicationFactor: -1,
          assignments: [],
          configs: [],
        }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.equal(created.topics[0].errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.equal(first.broker.topic("fresh"), undefined);
      assert.equal(
        (await produce(port, "fresh", 0)).errorCode,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
      assert.equal(existsSync(`${dataDir}/fresh-0`), false);

      const grown = await RawClient.once(
        port,
        CreatePartitionsRequest,
        CreatePartitionsResponse,
        3,
        {
          topics: [{ name: "kept", count: 3, assignments: null }],
          timeoutMs: 5000,
          validateOnly: false,
        },
      );
      assert.equal(grown.results[0].errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.equal(first.broker.topic("kept")!.partitions, 1);
      assert.equal(
        (await produce(port, "kept", 1)).errorCode,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
      assert.equal(existsSync(`${dataDir}/kept-1`), false);

      const altered = await RawClient.once(port, AlterConfigsRequest, AlterConfigsResponse, 1, {
        resources: [{
          resourceType: 2,
          resourceName: "kept",
          configs: [{ name: "retention.ms", value: "1000" }],
        }],
        validateOnly: false,
      });
      assert.equal(altered.responses[0].errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.deepEqual(first.broker.topic("kept")!.configs, {});
      assert.equal(first.broker.logs.topicConfig("kept")!.retentionMs, 604800000);

      Deno.mkdirSync(`${dataDir}/meta/dynamic-broker-configs.json.tmp`);
      const dynamic = await RawClient.once(port, AlterConfigsRequest, AlterConfigsResponse, 1, {
        resources: [{
          resourceType: 4,
          resourceName: "",
          configs: [{ name: "log.cleaner.backoff.ms", value: "1234" }],
        }],
        validateOnly: false,
      });
      assert.equal(dynamic.responses[0].errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.equal(first.broker.config.get("log.cleaner.backoff.ms"), 15000);
      Deno.removeSync(`${dataDir}/meta/dynamic-broker-configs.json.tmp`);

      const deleted = await RawClient.once(port, DeleteTopicsRequest, DeleteTopicsResponse, 6, {
        topics: [{ name: "kept", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
        timeoutMs: 5000,
      });
      assert.equal(deleted.responses[0].errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      const again = await produce(port, "kept", 0);
      assert.equal(again.errorCode, 0);
      assert.equal(again.baseOffset, 1);
      await first.close();

      Deno.removeSync(`${dataDir}/meta/topics.json.tmp`);
      const second = await testBroker({ dataDir, keepDir: true });
      try {
        assert.deepEqual(second.broker.topics().map((t) => [t.name, t.partitions, t.configs]), [
          ["kept", 1, {}],
        ]);
        assert.equal(second.broker.partition("kept", 0)!.highWatermark, 2);
      } finally {
        await second.close();
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "with workers, a CreateTopics whose catalogue write fails is visible on no worker",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-catalogue-" });
    try {
      const b = await BrokerProcess.start(dataDir);
      try {
        const create = () =>
          RawClient.once(b.port, CreateTopicsRequest, CreateTopicsResponse, 7, {
            topics: [{
              name: "spread",
              numPartitions: 4,
              replicationFactor: -1,
              assignments: [],
              configs: [],
            }],
            timeoutMs: 5000,
            validateOnly: false,
          });
        Deno.mkdirSync(`${dataDir}/meta/topics.json.tmp`);
        assert.equal((await create()).topics[0].errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
        // Several connections: SO_REUSEPORT spreads them over both workers.
        for (let i = 0; i < 4; i++) {
          const m = await RawClient.once(b.port, MetadataRequest, MetadataResponse, 12, {
            topics: [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: "spread" }],
            allowAutoTopicCreation: false,
            includeTopicAuthorizedOperations: false,
          });
          assert.equal(m.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          for (let p = 0; p < 4; p++) {
            assert.equal(
              (await produce(b.port, "spread", p)).errorCode,
              ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            );
          }
        }
        for (let p = 0; p < 4; p++) assert.equal(existsSync(`${dataDir}/spread-${p}`), false);
        Deno.removeSync(`${dataDir}/meta/topics.json.tmp`);
        assert.equal((await create()).topics[0].errorCode, 0);
        for (let p = 0; p < 4; p++) assert.equal((await produce(b.port, "spread", p)).errorCode, 0);
      } finally {
        assert.equal(await b.kill("SIGTERM"), 0);
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);
