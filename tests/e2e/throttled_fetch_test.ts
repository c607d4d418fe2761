/**
 * A throttled Fetch carries no data, as Kafka's KafkaApis answers it (getThrottledResponse):
 * a consumer over `consumer_byte_rate` (or already over `request_percentage`) gets
 * throttle_time_ms and no partitions, the bytes read are taken back from its rate, an
 * incremental session's epoch still advances (the session stays) while a full fetch creates
 * no session. Over the raw protocol, exact fields.
 */
import assert from "node:assert/strict";
import {
  FetchRequest,
  FetchResponse,
  MetadataRequest,
  MetadataResponse,
} from "../../protocol/messages/mod.ts";
import { BrokerProcess, testBroker } from "../support/helpers.ts";
import { fetchBody } from "../support/e2e_robustness_fixtures.ts";
import { ANONYMOUS, produceOne, setQuota } from "../support/quota_fixtures.ts";
import { RawClient } from "../support/raw_client.ts";
import { createTopic } from "../support/wire_client.ts";

async function fetchOnce(port: number, version: number, body: Record<string, unknown>) {
  return await RawClient.once(port, FetchRequest, FetchResponse, version, body);
}

Deno.test("a fetch over consumer_byte_rate is answered empty and its bytes taken back", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("tf", 1);
    await produceOne(b.port, "tf", "z".repeat(15_000));
    // 1000 B/s: 10 000 bytes in the ten-second span; the 15 KB batch is answered whole
    // (KIP-74) when read, so every read of it is over the quota.
    await setQuota(b.port, ANONYMOUS, "consumer_byte_rate", 1000);
    const first = await fetchOnce(b.port, 12, fetchBody("tf", 0, 0));
    assert.deepEqual(first.responses, []);
    assert.equal(first.errorCode, 0);
    assert.equal(first.sessionId, 0);
    assert.ok(first.throttleTimeMs > 0 && first.throttleTimeMs < 11_000, `${first.throttleTimeMs}`);
    // Taken back: the same read earns about the same throttle again (the span measured has
    // grown by the milliseconds between), not the 11 s that both reads' 30 KB would earn.
    const second = await fetchOnce(b.port, 12, fetchBody("tf", 0, 0));
    assert.deepEqual(second.responses, []);
    assert.ok(
      Math.abs(second.throttleTimeMs - first.throttleTimeMs) < 1000,
      `${second.throttleTimeMs} vs ${first.throttleTimeMs}`,
    );
    // A fetch may read no more than the window allows (Kafka caps its max_bytes there): of
    // five 3 KB batches, three, answered without a throttle.
    await b.broker.createTopic("tc", 1);
    for (let i = 0; i < 5; i++) await produceOne(b.port, "tc", "c".repeat(3_000));
    const capped = await fetchOnce(b.port, 12, fetchBody("tc", 0, 0));
    assert.equal(capped.throttleTimeMs, 0);
    const records = capped.responses[0].partitions[0].records as Uint8Array;
    assert.ok(records.length > 9_000 && records.length <= 10_000, `${records.length} bytes`);
    // A read the window allows is answered with its data and no throttle.
    await setQuota(b.port, ANONYMOUS, "consumer_byte_rate", 100_000);
    const third = await fetchOnce(b.port, 12, fetchBody("tf", 0, 0));
    assert.equal(third.throttleTimeMs, 0);
    assert.equal(third.responses[0].partitions[0].errorCode, 0);
    assert.equal(third.responses[0].partitions[0].highWatermark, 1);
    assert.ok(third.responses[0].partitions[0].records.length > 15_000);
  } finally {
    await b.stop();
  }
});

Deno.test("a throttled fetch in a session: a full one creates none, an incremental one advances its epoch", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("ts", 1);
    const topicId = b.broker.metadataCache.topic("ts")!.topicId;
    await produceOne(b.port, "ts", "s".repeat(2_000));
    await setQuota(b.port, ANONYMOUS, "consumer_byte_rate", 1000);
    const c = await RawClient.connect(b.port);
    try {
      const body = (offset: number, epoch: number, sessionId: number) => {
        const f = fetchBody("ts", 0, offset);
        f.topics[0].topicId = topicId;
        return { ...f, sessionId, sessionEpoch: epoch };
      };
      // Within the window's 10 000 bytes: answered, and a session made.
      const full = await c.call(FetchRequest, FetchResponse, 16, body(0, 0, 0));
      assert.equal(full.throttleTimeMs, 0);
      assert.ok(full.sessionId > 0);
      assert.equal(full.responses[0].partitions[0].highWatermark, 1);
      const id = full.sessionId;
      await produceOne(b.port, "ts", "t".repeat(20_000));
      // The 20 KB batch is over the quota: no partitions, the session named, epoch 1 taken.
      const inc = await c.call(FetchRequest, FetchResponse, 16, body(1, 1, id));
      assert.deepEqual(inc.responses, []);
      assert.equal(inc.errorCode, 0);
      assert.equal(inc.sessionId, id);
      assert.ok(inc.throttleTimeMs > 0);
      // A full fetch throttled creates no session.
      const again = await fetchOnce(b.port, 16, body(1, 0, 0));
      assert.deepEqual(again.responses, []);
      assert.equal(again.sessionId, 0);
      assert.ok(again.throttleTimeMs > 0);
      // Without the quota the session's next epoch (2) reads what the throttled one did not
      // answer: the offsets the session holds are unchanged.
      await setQuota(b.port, ANONYMOUS, "consumer_byte_rate", null);
      const c2 = await RawClient.connect(b.port); // c is muted for the throttle
      try {
        const next = await c2.call(FetchRequest, FetchResponse, 16, {
          ...body(1, 2, id),
          topics: [],
        });
        assert.equal(next.errorCode, 0);
        assert.equal(next.sessionId, id);
        assert.equal(next.throttleTimeMs, 0);
        const p = next.responses[0].partitions[0];
        assert.equal(p.errorCode, 0);
        assert.equal(p.highWatermark, 2);
        assert.ok(p.records.length > 20_000);
      } finally {
        c2.close();
      }
    } finally {
      c.close();
    }
  } finally {
    await b.stop();
  }
});

Deno.test("a fetch from a client over request_percentage is answered at once, empty", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("tr", 1);
    await produceOne(b.port, "tr", "r".repeat(100));
    await setQuota(
      b.port,
      { entityType: "client-id", entityName: "bench" },
      "request_percentage",
      0.01,
    );
    const c = await RawClient.connect(b.port);
    let throttle = 0;
    try {
      for (let i = 0; throttle === 0; i++) {
        assert.ok(i < 100_000, "never throttled");
        const r = await c.call(MetadataRequest, MetadataResponse, 12, {
          topics: null,
          allowAutoTopicCreation: false,
          includeTopicAuthorizedOperations: false,
        });
        throttle = r.throttleTimeMs;
      }
    } finally {
      c.close();
    }
    // A long poll (min_bytes far above what is there) is not waited out: answered throttled.
    const body = { ...fetchBody("tr", 0, 0), maxWaitMs: 5_000, minBytes: 1 << 20 };
    const r = await fetchOnce(b.port, 12, body);
    assert.deepEqual(r.responses, []);
    assert.equal(r.errorCode, 0);
    assert.ok(r.throttleTimeMs > 0);
  } finally {
    await b.stop();
  }
});

Deno.test("with two workers a throttled fetch is empty whichever worker reads it", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-throttled-fetch-" });
  const p = await BrokerProcess.start(dataDir, ["--workers", "2"]);
  try {
    await createTopic(p.port, "tw", 2);
    for (const partition of [0, 1]) {
      await produceOne(p.port, "tw", "w".repeat(15_000), { partition });
    }
    await setQuota(p.port, ANONYMOUS, "consumer_byte_rate", 1000);
    // Each partition on its own (read by its owner, whichever worker holds the connection),
    // sessionless and in a new session; both together (read by both workers).
    const one = (partition: number) => fetchBody("tw", partition, 0);
    const both = fetchBody("tw", 0, 0);
    both.topics[0].partitions.push({ ...both.topics[0].partitions[0], partition: 1 });
    for (const body of [one(0), one(1), both]) {
      for (const epoch of [-1, 0]) {
        const r = await fetchOnce(p.port, 12, { ...body, sessionEpoch: epoch });
        assert.deepEqual(r.responses, [], `epoch ${epoch}`);
        assert.equal(r.errorCode, 0);
        assert.equal(r.sessionId, 0);
        assert.ok(r.throttleTimeMs > 0);
      }
    }
  } finally {
    await p.kill("SIGTERM");
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the connection of a throttled fetch is muted for the throttle time", async () => {
  const b = await testBroker();
  try {
    await b.broker.createTopic("tm", 1);
    // Over the 10 000 bytes the window allows by about 1 400: a throttle of about 1.5 s.
    await produceOne(b.port, "tm", "m".repeat(11_400));
    await setQuota(b.port, ANONYMOUS, "consumer_byte_rate", 1000);
    const c = await RawClient.connect(b.port);
    try {
      const r = await c.call(FetchRequest, FetchResponse, 12, fetchBody("tm", 0, 0));
      assert.deepEqual(r.responses, []);
      assert.ok(r.throttleTimeMs > 1_000 && r.throttleTimeMs < 2_000, `${r.throttleTimeMs}`);
      const answered = performance.now();
      await c.call(MetadataRequest, MetadataResponse, 12, {
        topics: [],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      // The mute runs from when the fetch's answer was sent, a little before it was read here:
      // half of it is a margin no scheduling delay eats (unmuted, the answer takes a moment).
      const waited = performance.now() - answered;
      assert.ok(waited >= r.throttleTimeMs / 2, `${waited} ms for ${r.throttleTimeMs} ms`);
    } finally {
      c.close();
    }
  } finally {
    await b.stop();
  }
});
