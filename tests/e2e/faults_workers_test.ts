/**
 * Fault injection with Deno workers (`--dev --workers 3`, the CLI in a child process): faults
 * set through the admin API on worker 0 are taken by requests on every worker, counted once
 * across them, and dropping connections drops those of every worker. kafkajs clients, one
 * connection each, land on workers the kernel picks.
 */
import assert from "node:assert/strict";
import type { Producer } from "kafkajs";
import { client, logged, waitFor, withBroker, WORKERS } from "../support/workers_fixtures.ts";

async function call(base: string, method: string, path: string, body?: unknown) {
  const r = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

Deno.test(`workers=${WORKERS}: faults are counted across workers and drop every worker's connections`, async () => {
  await withBroker("faults", ["--dev", "--admin-port", "0"], async (b) => {
    const line = await logged(b, /admin API and console on http:\/\/[^:]+:\d+\//);
    const base = /admin API and console on (http:\/\/[^:]+:\d+)\//.exec(line)![1];
    const topic = "spread";
    const admin = client(b.address).admin();
    await admin.connect();
    const producers: Producer[] = [];
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
      const n = 8;
      for (let i = 0; i < n; i++) {
        const p = client(b.address, `faults-${i}`).producer({ allowAutoTopicCreation: false });
        await p.connect();
        producers.push(p);
      }
      // Every Produce of the next n, wherever its connection is, fails once; each producer
      // retries and its record lands once.
      const pushed = await call(base, "POST", "/v1/faults", {
        api: "Produce",
        count: n,
        errorCode: "NOT_LEADER_OR_FOLLOWER",
      });
      assert.equal(pushed.status, 201, JSON.stringify(pushed.json));
      const sent = await Promise.all(
        producers.map((p, i) =>
          p.send({ topic, messages: [{ partition: i % 6, value: `v${i}` }] })
        ),
      );
      assert.deepEqual(sent.map((s) => s[0].errorCode), Array(n).fill(0));
      assert.deepEqual((await call(base, "GET", "/v1/faults")).json.requests, []);
      const offsets = await admin.fetchTopicOffsets(topic);
      const total = offsets.reduce((sum, o) => sum + Number(o.high), 0);
      assert.equal(total, n);

      // Connections on every worker are dropped: at least one per producer.
      const dropped = await call(base, "POST", "/v1/faults/drop-connections");
      assert.equal(dropped.status, 200);
      assert.ok(dropped.json.dropped >= n, JSON.stringify(dropped.json));
      // They reconnect and carry on.
      const again = await Promise.all(
        producers.map((p, i) =>
          p.send({ topic, messages: [{ partition: i % 6, value: `w${i}` }] })
        ),
      );
      assert.deepEqual(again.map((s) => s[0].errorCode), Array(n).fill(0));

      // A hang holds requests on every worker until it is cleared.
      await call(base, "POST", "/v1/faults/hang", { ms: 60_000 });
      let answered = 0;
      const held = Promise.all(
        producers.map((p, i) =>
          p.send({ topic, messages: [{ partition: i % 6, value: `x${i}` }] }).then(() => answered++)
        ),
      );
      await waitFor("every producer's request held", async () => {
        return (await call(base, "GET", "/v1/faults")).json.heldRequests === n;
      });
      assert.equal(answered, 0);
      await call(base, "DELETE", "/v1/faults");
      await held;
      assert.equal(answered, n);
    } finally {
      for (const p of producers) await p.disconnect();
      await admin.disconnect();
    }
  });
});
