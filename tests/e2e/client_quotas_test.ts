/**
 * Client quotas end to end over the raw protocol (Debian's confluent-kafka 1.7 has no
 * alter_client_quotas, kafkajs has no quota admin): AlterClientQuotas then
 * DescribeClientQuotas answer exactly, the table survives a restart, and a producer over its
 * `producer_byte_rate` gets throttle_time_ms in its Produce responses and is muted for it, so
 * sending N bytes takes at least about N / rate.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
  DescribeClientQuotasRequest,
  DescribeClientQuotasResponse,
  FetchRequest,
  FetchResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { BrokerProcess, python, testBroker } from "../support/helpers.ts";
import { fetchBody } from "../support/e2e_robustness_fixtures.ts";
import { ANONYMOUS, produceOne, setQuota } from "../support/quota_fixtures.ts";
import { RawClient } from "../support/raw_client.ts";
import { createTopic } from "../support/wire_client.ts";

const entity = (user: string | null, clientId?: string | null) => [
  { entityType: "user", entityName: user },
  ...(clientId === undefined ? [] : [{ entityType: "client-id", entityName: clientId }]),
];

Deno.test("AlterClientQuotas and DescribeClientQuotas, every version, durable over a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-quotas-" });
  try {
    let b = await testBroker({ dataDir, keepDir: true });
    for (const v of [0, 1]) {
      const c = await RawClient.connect(b.port);
      const altered = await c.call(AlterClientQuotasRequest, AlterClientQuotasResponse, v, {
        entries: [
          {
            entity: entity("alice", null),
            ops: [
              { key: "producer_byte_rate", value: 1024, remove: false },
              { key: "request_percentage", value: 12.5, remove: false },
            ],
          },
          {
            entity: entity(null),
            ops: [{ key: "consumer_byte_rate", value: 2048, remove: false }],
          },
          { entity: entity("bob"), ops: [{ key: "bogus", value: 1, remove: false }] },
          { entity: [], ops: [{ key: "producer_byte_rate", value: 1, remove: false }] },
        ],
        validateOnly: false,
      });
      assert.deepEqual(altered.entries.map((e: { errorCode: number }) => e.errorCode), [
        0,
        0,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
      ]);
      assert.equal(altered.entries[2].errorMessage, "Invalid configuration key bogus");
      // validateOnly: checked, not applied.
      const dry = await c.call(AlterClientQuotasRequest, AlterClientQuotasResponse, v, {
        entries: [{
          entity: entity("carol"),
          ops: [{ key: "producer_byte_rate", value: 5, remove: false }],
        }],
        validateOnly: true,
      });
      assert.equal(dry.entries[0].errorCode, 0);
      const described = await c.call(
        DescribeClientQuotasRequest,
        DescribeClientQuotasResponse,
        v,
        { components: [{ entityType: "user", matchType: 0, match: "alice" }], strict: false },
      );
      assert.equal(described.errorCode, 0);
      assert.deepEqual(described.entries.map(strip), [{
        entity: [{ entityType: "user", entityName: "alice" }, {
          entityType: "client-id",
          entityName: null,
        }],
        values: [{ key: "producer_byte_rate", value: 1024 }, {
          key: "request_percentage",
          value: 12.5,
        }],
      }]);
      const all = await c.call(DescribeClientQuotasRequest, DescribeClientQuotasResponse, v, {
        components: [],
        strict: false,
      });
      assert.equal(all.entries.length, 2); // carol's dry run left nothing
      const bad = await c.call(DescribeClientQuotasRequest, DescribeClientQuotasResponse, v, {
        components: [{ entityType: "topic", matchType: 2, match: null }],
        strict: false,
      });
      assert.equal(bad.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(bad.entries, null);
      c.close();
    }
    await b.close();
    b = await testBroker({ dataDir, keepDir: true });
    try {
      const after = await RawClient.once(
        b.port,
        DescribeClientQuotasRequest,
        DescribeClientQuotasResponse,
        1,
        { components: [{ entityType: "user", matchType: 1, match: null }], strict: true },
      );
      assert.deepEqual(after.entries.map(strip), [{
        entity: [{ entityType: "user", entityName: null }],
        values: [{ key: "consumer_byte_rate", value: 2048 }],
      }]);
    } finally {
      await b.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** Drops the round-trip bookkeeping of decoded structs. */
function strip(e: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(e, (k, v) => (k === "_unknownTags" ? undefined : v)));
}

Deno.test("a producer over producer_byte_rate is throttled and muted: N bytes take >= N/rate", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("quota-t", 1);
    const rate = 20_000; // bytes per second
    const admin = await RawClient.connect(b.port);
    const set = await admin.call(AlterClientQuotasRequest, AlterClientQuotasResponse, 1, {
      // RawClient sends client id "bench"; the principal is User:ANONYMOUS.
      entries: [{
        entity: [{ entityType: "client-id", entityName: "bench" }],
        ops: [{ key: "producer_byte_rate", value: rate, remove: false }],
      }],
      validateOnly: false,
    });
    assert.equal(set.entries[0].errorCode, 0);
    admin.close();
    const c = await RawClient.connect(b.port);
    const batch = encodeRecordBatch({ records: [{ key: "k", value: "x".repeat(10_000) }] });
    const throttles: number[] = [];
    let sent = 0;
    const started = performance.now();
    for (let i = 0; i < 30; i++) {
      const r = await c.call(ProduceRequest, ProduceResponse, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: "quota-t", partitionData: [{ index: 0, records: batch }] }],
      });
      assert.equal(r.responses[0].partitionResponses[0].errorCode, 0);
      throttles.push(r.throttleTimeMs);
      sent += batch.length;
    }
    const elapsed = performance.now() - started;
    c.close();
    // The first requests fit the quota's window; later ones are throttled.
    assert.equal(throttles[0], 0);
    assert.ok(throttles.some((t) => t > 0), `throttles: ${throttles}`);
    // Over the 11 s sampled span (at least 10 whole windows counted), the quota allows
    // rate x 10 s before any throttle; what is sent beyond waits at the rate.
    const slackBytes = rate * 10;
    const floorMs = ((sent - slackBytes) / rate) * 1000;
    assert.ok(elapsed >= floorMs * 0.9, `sent ${sent} B in ${elapsed} ms (floor ${floorMs} ms)`);
    const metrics = b.broker.metrics;
    assert.ok((metrics.throttleTimeMs.get("producer_byte_rate") ?? 0) > 0);
  } finally {
    await b.stop();
  }
});

Deno.test("with two workers a quota set through the controller is counted for the whole broker", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-quotas-workers-" });
  const p = await BrokerProcess.start(dataDir, ["--workers", "2"]);
  try {
    await createTopic(p.port, "qw", 2);
    await setQuota(
      p.port,
      { entityType: "client-id", entityName: null },
      "producer_byte_rate",
      1000,
    );
    const batch = encodeRecordBatch({ records: [{ key: "k", value: "x".repeat(1000) }] });
    // Eight connections, spread by the kernel over both workers. The rates are the broker's
    // (kept by worker 0): the first connection is throttled once past the quota's ten-second
    // allowance (10,000 bytes); every later one from its first request, wherever it landed.
    for (let conn = 0; conn < 8; conn++) {
      const c = await RawClient.connect(p.port);
      try {
        let throttled = 0;
        let requests = 0;
        while (throttled === 0 && requests < 12) {
          const r = await c.call(ProduceRequest, ProduceResponse, 9, {
            transactionalId: null,
            acks: 1,
            timeoutMs: 5000,
            topicData: [{ name: "qw", partitionData: [{ index: conn % 2, records: batch }] }],
          });
          assert.equal(r.responses[0].partitionResponses[0].errorCode, 0);
          throttled = r.throttleTimeMs;
          requests++;
        }
        assert.ok(throttled > 0, `connection ${conn} was never throttled`);
        if (conn > 0) assert.equal(requests, 1, `connection ${conn} throttled only later`);
      } finally {
        c.close();
      }
    }
  } finally {
    await p.kill("SIGTERM");
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a consumer over consumer_byte_rate gets throttle_time_ms and no data in Fetch, every version with it", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("qf", 1);
    const topicId = b.broker.metadataCache.topic("qf")!.topicId;
    await produceOne(b.port, "qf", "y".repeat(20_000), { key: "k" });
    await setQuota(b.port, ANONYMOUS, "consumer_byte_rate", 1000, 0);
    // Each fetch reads the 20 KB batch (a first batch is answered whole): more than the
    // quota's ten-second allowance at once, so, as in Kafka, the answer is throttled and
    // carries no partitions, its bytes taken back. One connection per version: a throttled
    // connection is muted.
    for (const v of [1, 4, 11, 12, 16]) {
      const c = await RawClient.connect(b.port);
      try {
        const body = fetchBody("qf", 0, 0);
        if (v >= 13) body.topics[0].topicId = topicId;
        const r = await c.call(FetchRequest, FetchResponse, v, body);
        assert.deepEqual(r.responses, [], `v${v}: no data answered`);
        if (v >= 7) assert.equal(r.errorCode, 0);
        assert.ok(r.throttleTimeMs > 0, `v${v}: throttle ${r.throttleTimeMs}`);
        assert.ok(r.throttleTimeMs <= 11_000, `v${v}: capped at the sampled span`);
      } finally {
        c.close();
      }
    }
    assert.ok((b.broker.metrics.throttleTimeMs.get("consumer_byte_rate") ?? 0) > 0);
  } finally {
    await b.stop();
  }
});

Deno.test("a follower's Fetch (replica id >= 0) is not subject to client quotas", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("qr", 1);
    await produceOne(b.port, "qr", "y".repeat(20_000), { key: "k", acks: 1 });
    await setQuota(b.port, ANONYMOUS, "consumer_byte_rate", 1000, 0);
    // Replication traffic: many times the quota, never throttled (Kafka exempts followers).
    const c = await RawClient.connect(b.port);
    try {
      for (let i = 0; i < 3; i++) {
        const r = await c.call(FetchRequest, FetchResponse, 12, {
          ...fetchBody("qr", 0, 0),
          replicaId: 2,
        });
        assert.ok(r.responses[0].partitions[0].records.length > 20_000);
        assert.equal(r.throttleTimeMs, 0, `follower fetch ${i}`);
      }
      // The same user as a consumer is over its quota at once: throttled, answered without
      // data (Kafka's throttled fetch response).
      const r = await c.call(FetchRequest, FetchResponse, 12, fetchBody("qr", 0, 0));
      assert.deepEqual(r.responses, []);
      assert.ok(r.throttleTimeMs > 0, `consumer throttle ${r.throttleTimeMs}`);
    } finally {
      c.close();
    }
  } finally {
    await b.stop();
  }
});

/** librdkafka reports the broker's throttle_time_ms to throttle_cb; prints them as JSON. */
const CONFLUENT_THROTTLED = `
import json, sys
from confluent_kafka import Producer
throttles = []
p = Producer({
    "bootstrap.servers": sys.argv[1],
    "client.id": "throttled-py",
    "linger.ms": 5,
    "throttle_cb": lambda e: throttles.append(e.throttle_time),
})
delivered = []
for i in range(int(sys.argv[2])):
    p.produce("qpy", value=b"z" * 1000, on_delivery=lambda err, m: delivered.append(err is None))
    p.poll(0)
p.flush(60)
p.poll(1)
print(json.dumps({"delivered": sum(delivered), "throttles": throttles}))
`;

Deno.test("librdkafka (confluent-kafka) sees the throttle of a producer_byte_rate quota", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("qpy", 1);
    await setQuota(b.port, entity(null, "throttled-py"), "producer_byte_rate", 5000);
    // 100 KB at 5 KB/s: past the ten-second allowance (50 KB), so throttled.
    const out = JSON.parse(await python(CONFLUENT_THROTTLED, [b.address, "100"], 90_000));
    assert.equal(out.delivered, 100);
    assert.ok(out.throttles.some((t: number) => t > 0), JSON.stringify(out.throttles));
  } finally {
    await b.stop();
  }
});

Deno.test("request_percentage throttles a client whose requests take more than its share", async () => {
  const b = await testBroker();
  try {
    // 0.01 % of each second: 1 ms of handling over the ten-second span.
    const bench = { entityType: "client-id", entityName: "bench" };
    await setQuota(b.port, bench, "request_percentage", 0.01);
    const c = await RawClient.connect(b.port);
    try {
      let throttle = 0;
      let requests = 0;
      while (throttle === 0) {
        const r = await c.call(MetadataRequest, MetadataResponse, 12, {
          topics: null,
          allowAutoTopicCreation: false,
          includeTopicAuthorizedOperations: false,
        });
        requests++;
        throttle = r.throttleTimeMs;
        assert.ok(requests < 100_000, "never throttled");
      }
      assert.ok(throttle > 0 && throttle <= 11_000, `throttle ${throttle}`);
      assert.ok((b.broker.metrics.throttledResponses.get("request_percentage") ?? 0) >= 1);
    } finally {
      c.close();
    }
  } finally {
    await b.stop();
  }
});
