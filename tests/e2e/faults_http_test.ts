/**
 * The fault injection routes of the admin API (/v1/faults): push, list, clear, hang and drop
 * connections over HTTP, bad input answered 400, and every route refused with 403 and a
 * message saying how to enable it when the broker runs without fault injection.
 */
// npm packages are imported by npm: specifier (the project keeps no import map).
// deno-lint-ignore-file no-import-prefix
import assert from "node:assert/strict";
import { Kafka, logLevel } from "npm:kafkajs@2.2.4";
import { startBroker } from "../../mod.ts";
import { openApiDocument } from "../../src/admin/openapi.ts";
import { waitFor } from "../support/wait.ts";

async function call(base: string, method: string, path: string, body?: unknown) {
  const r = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

Deno.test("admin API: faults pushed, listed, taken by a client's retries, cleared", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    adminPort: 0,
    logLevel: "warn",
    topics: [{ name: "orders", partitions: 1 }],
  });
  const base = b.adminUrl!;
  const empty = await call(base, "GET", "/v1/faults");
  assert.deepEqual(empty, {
    status: 200,
    json: {
      enabled: true,
      requests: [],
      dropNextConnections: 0,
      hangingUntil: null,
      heldRequests: 0,
    },
  });

  const pushed = await call(base, "POST", "/v1/faults", {
    api: "Produce",
    count: 2,
    errorCode: "NOT_LEADER_OR_FOLLOWER",
    topic: "orders",
    partition: 0,
  });
  assert.equal(pushed.status, 201);
  assert.deepEqual(pushed.json, {
    id: 1,
    apiKey: 0,
    api: "Produce",
    remaining: 2,
    count: 2,
    errorCode: 6,
    error: "NOT_LEADER_OR_FOLLOWER",
    delayMs: 0,
    topic: "orders",
    partition: 0,
  });
  const delay = await call(base, "POST", "/v1/faults", { apiKey: 3, delayMs: 50 });
  assert.equal(delay.status, 201);
  assert.equal(delay.json.api, "Metadata");
  const listed = await call(base, "GET", "/v1/faults");
  assert.deepEqual(listed.json.requests.map((f: { id: number }) => f.id), [1, 2]);

  // kafkajs takes the Metadata delay and both Produce errors, and its record lands once.
  const kafka = new Kafka({
    brokers: [b.address],
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, retries: 5 },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const meta = await producer.send({ topic: "orders", messages: [{ value: "v" }] });
    assert.equal(meta[0].baseOffset, "0");
  } finally {
    await producer.disconnect();
  }
  assert.deepEqual((await call(base, "GET", "/v1/faults")).json.requests, []);
  assert.equal(b.broker.partition("orders", 0)!.highWatermark, 1);

  await call(base, "POST", "/v1/faults", { api: "fetch", errorCode: 7, count: 3 });
  const cleared = await call(base, "DELETE", "/v1/faults");
  assert.deepEqual(cleared, {
    status: 200,
    json: {
      enabled: true,
      requests: [],
      dropNextConnections: 0,
      hangingUntil: null,
      heldRequests: 0,
    },
  });
});

Deno.test("admin API: hang and drop connections over HTTP", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    adminPort: 0,
    logLevel: "warn",
  });
  const base = b.adminUrl!;
  const kafka = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const hang = await call(base, "POST", "/v1/faults/hang", { ms: 60_000 });
    assert.equal(hang.status, 200);
    assert.equal(typeof hang.json.hangingUntil, "string");
    let answered = false;
    const listing = admin.listTopics().then((t) => (answered = true, t));
    // The request is held: it is answered once the hang is cleared, not before.
    await waitFor("the request held by the hang", async () => {
      return (await call(base, "GET", "/v1/faults")).json.heldRequests === 1;
    });
    assert.equal(answered, false);
    const cleared = await call(base, "DELETE", "/v1/faults");
    assert.equal(cleared.json.hangingUntil, null);
    assert.ok(Array.isArray(await listing));
    assert.equal(answered, true);

    const drop = await call(base, "POST", "/v1/faults/drop-connections");
    assert.equal(drop.status, 200);
    assert.ok(drop.json.dropped >= 1, JSON.stringify(drop.json));
    const next = await call(base, "POST", "/v1/faults/drop-connections", { next: 2 });
    assert.deepEqual(next.json, { dropped: 0, dropNextConnections: 2 });
    // kafkajs reconnects through the two dropped on accept.
    const admin2 = new Kafka({
      brokers: [b.address],
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 50, retries: 8 },
    }).admin();
    await admin2.connect();
    assert.ok(Array.isArray(await admin2.listTopics()));
    await admin2.disconnect();
    assert.equal((await call(base, "GET", "/v1/faults")).json.dropNextConnections, 0);
  } finally {
    await admin.disconnect();
  }
});

Deno.test("admin API: bad faults are 400s naming the problem", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    adminPort: 0,
    logLevel: "warn",
  });
  const base = b.adminUrl!;
  const bad: [unknown, RegExp][] = [
    [{ api: "Produse", errorCode: 6 }, /no API named Produse/],
    [{ api: "Produce", errorCode: "NOT_AN_ERROR" }, /no Kafka error named NOT_AN_ERROR/],
    [{ api: "Produce" }, /needs an errorCode, a delayMs, or both/],
    [{ api: "Produce", errorCode: 6, count: 0 }, /count must be/],
    [{ api: "Produce", errorCode: 6, partition: 1 }, /partition needs a topic/],
    [{ api: "Produce", errorCode: 6, colour: "red" }, /unknown field colour/],
    [{ apiKey: 999, errorCode: 6 }, /no API with key 999/],
    [[1, 2], /must be a JSON object/],
  ];
  for (const [body, message] of bad) {
    const r = await call(base, "POST", "/v1/faults", body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error, "INVALID_REQUEST");
    assert.match(r.json.message, message);
  }
  const hang = await call(base, "POST", "/v1/faults/hang", {});
  assert.equal(hang.status, 400);
  assert.match(hang.json.message, /ms/);
  assert.deepEqual((await call(base, "GET", "/v1/faults")).json.requests, []);
});

Deno.test("admin API: faults are refused (403) when fault injection is not enabled", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-test-" });
  try {
    await using b = await startBroker({
      host: "127.0.0.1",
      port: 0,
      adminPort: 0,
      logLevel: "warn",
      dataDir,
    });
    const base = b.adminUrl!;
    const routes: [string, string, unknown?][] = [
      ["GET", "/v1/faults"],
      ["POST", "/v1/faults", { api: "Produce", errorCode: 6 }],
      ["DELETE", "/v1/faults"],
      ["POST", "/v1/faults/drop-connections"],
      ["POST", "/v1/faults/hang", { ms: 100 }],
    ];
    for (const [method, path, body] of routes) {
      const r = await call(base, method, path, body);
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.json.error, "FAULT_INJECTION_DISABLED");
      assert.match(r.json.message, /--dev.*tributary\.fault\.injection\.enable=true/);
    }
    assert.throws(
      () => b.faults.push({ api: "Produce", errorCode: 6 }),
      /fault injection is not enabled/,
    );
    assert.equal(b.faults.active, false);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("admin API: the fault routes are in the OpenAPI document", () => {
  const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(paths["/v1/faults"]).sort(), ["delete", "get", "post"]);
  assert.ok(paths["/v1/faults/hang"].post);
  assert.ok(paths["/v1/faults/drop-connections"].post);
});
