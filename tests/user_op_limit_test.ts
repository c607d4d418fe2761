/**
 * Kafka's controller limit of 10,000 metadata records per admin request: CreateTopics and
 * CreatePartitions asking for more fail whole with POLICY_VIOLATION and create nothing.
 */
import assert from "node:assert/strict";
import {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
} from "../protocol/messages/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Msg } from "../protocol/schema.ts";
import { RawClient } from "./raw_client.ts";
import { testBroker } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MESSAGE = "Unable to perform excessively large batch operation.";

const topic = (name: string, numPartitions: number) => ({
  name,
  numPartitions,
  replicationFactor: 1,
  assignments: [],
  configs: [],
});

Deno.test(
  "CreateTopics and CreatePartitions beyond 10,000 records: POLICY_VIOLATION",
  opts,
  async () => {
    const b = await testBroker();
    const c = await RawClient.connect(b.port);
    try {
      // 1 + 6000 and 1 + 5000 records: together past the limit, so neither is created.
      const big = await c.call(CreateTopicsRequest, CreateTopicsResponse, 7, {
        topics: [topic("a", 6000), topic("b", 5000), topic("small", 2)],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.deepEqual(
        big.topics.map((t: Msg) => [t.name, t.errorCode, t.errorMessage]),
        [
          ["a", ErrorCode.POLICY_VIOLATION, MESSAGE],
          ["b", ErrorCode.POLICY_VIOLATION, MESSAGE],
          ["small", ErrorCode.POLICY_VIOLATION, MESSAGE],
        ],
      );
      assert.equal(b.broker.topic("a"), undefined);
      assert.equal(b.broker.topic("small"), undefined);
      // Within the limit it is created as usual.
      const ok = await c.call(CreateTopicsRequest, CreateTopicsResponse, 7, {
        topics: [topic("small", 2)],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.equal(ok.topics[0].errorCode, 0);
      assert.equal(b.broker.topic("small")!.partitions, 2);

      const grow = (count: number) =>
        c.call(CreatePartitionsRequest, CreatePartitionsResponse, 3, {
          topics: [{ name: "small", count, assignments: null }],
          timeoutMs: 5000,
          validateOnly: false,
        });
      const tooMany = await grow(10_003); // 10,001 new partitions
      assert.deepEqual(
        tooMany.results.map((r: Msg) => [r.name, r.errorCode, r.errorMessage]),
        [["small", ErrorCode.POLICY_VIOLATION, MESSAGE]],
      );
      assert.equal(b.broker.topic("small")!.partitions, 2);
      const fine = await grow(5);
      assert.equal(fine.results[0].errorCode, 0);
      assert.equal(b.broker.topic("small")!.partitions, 5);
    } finally {
      c.close();
      await b.stop();
    }
  },
);
