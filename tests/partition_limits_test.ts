/**
 * Kafka's bound on one admin request (10,000 partitions, POLICY_VIOLATION past it), and
 * creating thousands of partitions in slices: other clients are served meanwhile.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ErrorCode } from "../protocol/errors.ts";
import {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  ProduceRequest,
  ProduceResponse,
} from "../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import type { Msg } from "../protocol/schema.ts";
import { testBroker } from "./helpers.ts";
import { RawClient } from "./raw_client.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function grow(port: number, name: string, count: number): Promise<Msg> {
  return RawClient.once(port, CreatePartitionsRequest, CreatePartitionsResponse, 3, {
    topics: [{ name, count, assignments: null }],
    timeoutMs: 600_000,
    validateOnly: false,
  });
}

Deno.test(
  "one request creates at most 10,000 partitions: POLICY_VIOLATION past it",
  opts,
  async () => {
    const b = await testBroker();
    try {
      const topic = (name: string, numPartitions: number) => ({
        name,
        numPartitions,
        replicationFactor: -1,
        assignments: [],
        configs: [],
      });
      const create = (topics: Msg[], validateOnly: boolean) =>
        RawClient.once(b.port, CreateTopicsRequest, CreateTopicsResponse, 7, {
          topics,
          timeoutMs: 5000,
          validateOnly,
        });
      let r = await create([topic("huge", 10_001)], false);
      assert.equal(r.topics[0].errorCode, ErrorCode.POLICY_VIOLATION);
      assert.match(r.topics[0].errorMessage, /excessively large batch operation/);
      assert.equal(b.broker.topic("huge"), undefined);
      // The bound is per request: the second topic would pass it.
      r = await create([topic("a", 6000), topic("b", 6000)], true);
      assert.deepEqual(r.topics.map((t: Msg) => t.errorCode), [0, ErrorCode.POLICY_VIOLATION]);

      await b.broker.createTopic("small", 2);
      const g = await grow(b.port, "small", 64_512);
      assert.equal(g.results[0].errorCode, ErrorCode.POLICY_VIOLATION);
      assert.equal(b.broker.topic("small")!.partitions, 2);
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "a produce is answered while thousands of partitions are being created",
  opts,
  async () => {
    const b = await testBroker();
    try {
      await b.broker.createTopic("busy", 1);
      await b.broker.createTopic("other", 1);
      let grown = false;
      const growing = grow(b.port, "busy", 3001).then((r) => {
        grown = true;
        return r;
      });
      // Wait until the creation is under way (its directories appear), then produce elsewhere.
      while (!existsSync(`${b.dataDir}/busy-50`)) await new Promise((r) => setTimeout(r, 1));
      const p = await RawClient.once(b.port, ProduceRequest, ProduceResponse, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{
          name: "other",
          partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: "x" }] }) }],
        }],
      });
      assert.equal(p.responses[0].partitionResponses[0].errorCode, 0);
      assert.equal(grown, false, "the produce waited for the whole creation");
      assert.equal((await growing).results[0].errorCode, 0);
      assert.equal(b.broker.topic("busy")!.partitions, 3001);
    } finally {
      await b.stop();
    }
  },
);
