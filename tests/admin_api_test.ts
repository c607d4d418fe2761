/**
 * The admin HTTP API: every endpoint and error path through the Hono app (`app.request()`),
 * token enforcement, then once over real HTTP against a broker started with an admin port,
 * with kcat producing and consuming so /metrics and record peek are checked against what a
 * real client sent. Also the CLI flags (--admin-port, --admin-token).
 */
import assert from "node:assert/strict";
import { Compression } from "../protocol/compression.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import { createAdminApp } from "../src/admin/app.ts";
import { openApiDocument } from "../src/admin/openapi.ts";
import { BrokerProcess, decoder, kcat, run, testBroker } from "./helpers.ts";
import { until, waitFor } from "./wait.ts";

const enc = new TextEncoder();

type Json = any;

async function call(
  app: { request: (p: string, i?: RequestInit) => Response | Promise<Response> },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json; res: Response; text: string }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await app.request(path, init);
  const text = await res.text();
  let json: Json = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (metrics, console)
  }
  return { status: res.status, json, res, text };
}

function assertError(r: { status: number; json: Json }, status: number, error: string) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.error, error, JSON.stringify(r.json));
  assert.equal(typeof r.json.message, "string");
  assert.ok(r.json.message.length > 0);
}

// ---- Prometheus text parsing ------------------------------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the exposition format strictly enough to catch malformed output. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  assert.ok(text.endsWith("\n"), "exposition ends with a newline");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ")) continue;
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      assert.ok(["counter", "gauge", "histogram"].includes(type), line);
      assert.ok(!types.has(name), `TYPE ${name} given twice`);
      types.set(name, type);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `malformed sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
      let pos = 0;
      while (pos < m[3].length) {
        re.lastIndex = pos;
        const l = re.exec(m[3]);
        assert.ok(l, `malformed labels: ${m[3]}`);
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
        pos = re.lastIndex;
      }
    }
    const value = m[4] === "+Inf" ? Infinity : Number(m[4]);
    assert.ok(!Number.isNaN(value), line);
    const base = m[1].replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(m[1]) || types.get(base) === "histogram", `no TYPE for ${m[1]}`);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types };
}

function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.ok(found.length > 0, `no sample ${name}${JSON.stringify(labels)}`);
  return found.reduce((n, s) => n + s.value, 0);
}

// ---- the app, through app.request() ------------------------------------------------------

Deno.test("admin API: cluster, health, topics CRUD and errors", async (t) => {
  const b = await testBroker();
  const app = createAdminApp(b.broker);
  try {
    await t.step("healthz and readyz", async () => {
      const h = await call(app, "GET", "/healthz");
      assert.equal(h.status, 200);
      assert.deepEqual(h.json, { status: "ok" });
      const r = await call(app, "GET", "/readyz");
      assert.equal(r.status, 200);
      assert.equal(r.json.status, "ready");
    });

    await t.step("cluster", async () => {
      const r = await call(app, "GET", "/v1/cluster");
      assert.equal(r.status, 200);
      assert.equal(r.json.clusterId, b.broker.clusterId);
      assert.equal(r.json.controllerId, b.broker.nodeId);
      assert.deepEqual(r.json.brokers, [{
        brokerId: b.broker.nodeId,
        host: "127.0.0.1",
        port: b.port,
        rack: null,
      }]);
    });

    await t.step("create a topic", async () => {
      const r = await call(app, "POST", "/v1/topics", {
        name: "orders",
        partitions: 3,
        configs: { "retention.ms": 86400000, "cleanup.policy": "delete" },
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.res.headers.get("location"), "/v1/topics/orders");
      assert.equal(r.json.name, "orders");
      assert.match(r.json.topicId, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(r.json.internal, false);
      assert.deepEqual(r.json.configs, { "cleanup.policy": "delete", "retention.ms": "86400000" });
      assert.equal(r.json.partitions.length, 3);
      assert.deepEqual(r.json.partitions[2], {
        partition: 2,
        leader: b.broker.nodeId,
        replicas: [b.broker.nodeId],
        isr: [b.broker.nodeId],
        logStartOffset: 0,
        highWatermark: 0,
        logEndOffset: 0,
        lastStableOffset: 0,
        sizeBytes: 0,
        localBytes: 0,
        remoteBytes: 0,
        segments: 1,
        remoteSegments: 0,
        localLogStartOffset: 0,
        highestOffsetInRemoteStorage: -1,
      });
      assert.equal(b.broker.topic("orders")?.partitions, 3);
      // Default partition count comes from num.partitions.
      const d = await call(app, "POST", "/v1/topics", { name: "defaults" });
      assert.equal(d.status, 201);
      assert.equal(d.json.partitions.length, 1);
    });

    await t.step("create: validateOnly creates nothing", async () => {
      const r = await call(app, "POST", "/v1/topics?validateOnly=true", {
        name: "dry",
        partitions: 2,
      });
      assert.equal(r.status, 200);
      assert.equal(b.broker.topic("dry"), undefined);
    });

    await t.step("create: 409 exists, 400 invalid input", async () => {
      assertError(
        await call(app, "POST", "/v1/topics", { name: "orders" }),
        409,
        "TOPIC_ALREADY_EXISTS",
      );
      assertError(
        await call(app, "POST", "/v1/topics", { name: "bad name!" }),
        400,
        "INVALID_TOPIC_EXCEPTION",
      );
      assertError(
        await call(app, "POST", "/v1/topics", { name: "zero", partitions: 0 }),
        400,
        "INVALID_PARTITIONS",
      );
      assertError(
        await call(app, "POST", "/v1/topics", { name: "frac", partitions: 1.5 }),
        400,
        "INVALID_REQUEST",
      );
      assertError(await call(app, "POST", "/v1/topics", { partitions: 1 }), 400, "INVALID_REQUEST");
      assertError(await call(app, "POST", "/v1/topics", "{not json"), 400, "INVALID_REQUEST");
      assertError(await call(app, "POST", "/v1/topics", "[1,2]"), 400, "INVALID_REQUEST");
      assertError(await call(app, "POST", "/v1/topics"), 400, "INVALID_REQUEST");
      assertError(
        await call(app, "POST", "/v1/topics", { name: "rf", replicationFactor: 3 }),
        400,
        "INVALID_REPLICATION_FACTOR",
      );
      const bad = await call(app, "POST", "/v1/topics", {
        name: "badcfg",
        configs: { "retention.ms": "soon" },
      });
      assertError(bad, 400, "INVALID_CONFIG");
      assert.equal(bad.json.key, "retention.ms");
      assert.match(bad.json.message, /retention\.ms/);
      const unknown = await call(app, "POST", "/v1/topics", {
        name: "badcfg",
        configs: { "no.such.setting": "1" },
      });
      assertError(unknown, 400, "INVALID_CONFIG");
      assert.equal(unknown.json.key, "no.such.setting");
      const obj = await call(app, "POST", "/v1/topics", {
        name: "badcfg",
        configs: { "retention.ms": { x: 1 } },
      });
      assertError(obj, 400, "INVALID_CONFIG");
      assert.equal(obj.json.key, "retention.ms");
      assert.equal(b.broker.topic("badcfg"), undefined);
    });

    await t.step("list and describe", async () => {
      const r = await call(app, "GET", "/v1/topics");
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.topics.map((x: Json) => x.name), ["defaults", "orders"]);
      const one = await call(app, "GET", "/v1/topics/orders");
      assert.equal(one.status, 200);
      assert.deepEqual(one.json, r.json.topics[1]);
      assertError(await call(app, "GET", "/v1/topics/nope"), 404, "UNKNOWN_TOPIC_OR_PARTITION");
      const parts = await call(app, "GET", "/v1/topics/orders/partitions");
      assert.deepEqual(parts.json.partitions, one.json.partitions);
      const p1 = await call(app, "GET", "/v1/topics/orders/partitions/1");
      assert.equal(p1.status, 200);
      assert.deepEqual(p1.json, one.json.partitions[1]);
      assertError(
        await call(app, "GET", "/v1/topics/orders/partitions/3"),
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
      assertError(await call(app, "GET", "/v1/topics/orders/partitions/x"), 400, "INVALID_REQUEST");
      assertError(
        await call(app, "GET", "/v1/topics/nope/partitions/0"),
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
    });

    await t.step("configs: describe, replace, merge, validate", async () => {
      const r = await call(app, "GET", "/v1/topics/orders/configs");
      assert.equal(r.status, 200);
      assert.equal(r.json.name, "orders");
      const byName = new Map(r.json.configs.map((e: Json) => [e.name, e]));
      const ret = byName.get("retention.ms") as Json;
      assert.equal(ret.value, "86400000");
      assert.equal(ret.source, "DYNAMIC_TOPIC_CONFIG");
      assert.equal(ret.isDefault, false);
      assert.equal(ret.type, "long");
      const seg = byName.get("segment.bytes") as Json;
      assert.equal(seg.value, "1073741824");
      assert.equal(seg.source, "DEFAULT_CONFIG");
      assert.equal(seg.isDefault, true);
      assertError(
        await call(app, "GET", "/v1/topics/nope/configs"),
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
      );

      // PATCH merges: retention.ms stays, segment.ms is added, cleanup.policy reset.
      const p = await call(app, "PATCH", "/v1/topics/orders/configs", {
        configs: { "segment.ms": "600000", "cleanup.policy": null },
      });
      assert.equal(p.status, 200, p.text);
      assert.deepEqual(b.broker.topic("orders")?.configs, {
        "retention.ms": 86400000,
        "segment.ms": 600000,
      });
      assert.equal(b.broker.logs.topicConfig("orders")?.segmentMs, 600000);
      const segMs = p.json.configs.find((e: Json) => e.name === "segment.ms");
      assert.equal(segMs.value, "600000");
      assert.equal(segMs.source, "DYNAMIC_TOPIC_CONFIG");

      // PUT replaces the whole override set; the bare object form works too.
      const u = await call(app, "PUT", "/v1/topics/orders/configs", { "max.message.bytes": 2048 });
      assert.equal(u.status, 200, u.text);
      assert.deepEqual(b.broker.topic("orders")?.configs, { "max.message.bytes": 2048 });
      assert.equal(b.broker.logs.topicConfig("orders")?.maxMessageBytes, 2048);
      const detail = await call(app, "GET", "/v1/topics/orders");
      assert.deepEqual(detail.json.configs, { "max.message.bytes": "2048" });

      // Invalid values are rejected naming the key, and nothing changes.
      for (
        const [body, key] of [
          [{ "max.message.bytes": "lots" }, "max.message.bytes"],
          [{ "segment.bytes": 1 }, "segment.bytes"],
          [{ "cleanup.policy": "shred" }, "cleanup.policy"],
          [{ "min.cleanable.dirty.ratio": 2 }, "min.cleanable.dirty.ratio"],
          [{ "bogus.key": "1" }, "bogus.key"],
        ] as const
      ) {
        for (const method of ["PUT", "PATCH"]) {
          const bad = await call(app, method, "/v1/topics/orders/configs", body);
          assertError(bad, 400, "INVALID_CONFIG");
          assert.equal(bad.json.key, key, `${method} ${JSON.stringify(body)}`);
          assert.match(bad.json.message, new RegExp(key.replaceAll(".", "\\.")));
        }
      }
      assert.deepEqual(b.broker.topic("orders")?.configs, { "max.message.bytes": 2048 });
      assertError(
        await call(app, "PUT", "/v1/topics/orders/configs", "nope"),
        400,
        "INVALID_REQUEST",
      );
      assertError(
        await call(app, "PUT", "/v1/topics/nope/configs", { "retention.ms": 1 }),
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
      );

      // validateOnly answers with the would-be configs and applies nothing.
      const v = await call(app, "PATCH", "/v1/topics/orders/configs?validateOnly=true", {
        "retention.ms": 5000,
      });
      assert.equal(v.status, 200);
      assert.equal(v.json.configs.find((e: Json) => e.name === "retention.ms").value, "5000");
      assert.deepEqual(b.broker.topic("orders")?.configs, { "max.message.bytes": 2048 });
    });

    await t.step("delete", async () => {
      const r = await call(app, "DELETE", "/v1/topics/defaults");
      assert.equal(r.status, 204);
      assert.equal(r.text, "");
      assert.equal(b.broker.topic("defaults"), undefined);
      assertError(
        await call(app, "DELETE", "/v1/topics/defaults"),
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
      assertError(await call(app, "GET", "/v1/topics/defaults"), 404, "UNKNOWN_TOPIC_OR_PARTITION");
    });

    await t.step("unknown routes are JSON 404s", async () => {
      assertError(await call(app, "GET", "/v1/nothing"), 404, "NOT_FOUND");
      assertError(await call(app, "GET", "/nothing"), 404, "NOT_FOUND");
      assertError(await call(app, "POST", "/v1/cluster", {}), 404, "NOT_FOUND");
    });

    await t.step("oversized bodies are refused", async () => {
      const big = JSON.stringify({
        name: "big",
        configs: { "retention.ms": "1".repeat(2_000_000) },
      });
      assertError(await call(app, "POST", "/v1/topics", big), 413, "PAYLOAD_TOO_LARGE");
    });

    await t.step("console and OpenAPI", async () => {
      for (const path of ["/", "/console"]) {
        const r = await call(app, "GET", path);
        assert.equal(r.status, 200);
        assert.match(r.res.headers.get("content-type") ?? "", /text\/html/);
        assert.match(r.text, /<title>Tributary console<\/title>/);
        // Self-contained: no external scripts, styles or fonts.
        assert.doesNotMatch(r.text, /<script[^>]+src=|<link[^>]+href="(?!data:)|https?:\/\//);
        assert.match(r.res.headers.get("content-security-policy") ?? "", /default-src 'none'/);
      }
      const o = await call(app, "GET", "/openapi.json");
      assert.equal(o.status, 200);
      assert.equal(o.json.openapi, "3.1.0");
      assert.deepEqual(o.json, openApiDocument());
      // Every route the app serves is documented, with each of its methods.
      const documented = o.json.paths as Record<string, Record<string, unknown>>;
      for (const r of app.routes) {
        if (r.method === "ALL" || r.path.includes("*")) continue;
        const path = r.path.replace(/\/$/, "").replace(/:([A-Za-z]+)/g, "{$1}") || "/";
        assert.ok(documented[path], `route ${r.method} ${r.path} is not in openapi.json`);
        assert.ok(
          documented[path][r.method.toLowerCase()],
          `${r.method} ${path} is not in openapi.json`,
        );
      }
      // And every $ref resolves.
      const doc: Json = openApiDocument();
      const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
      for (const ref of refs) {
        assert.ok(doc.components.schemas[ref.split("/").pop()!], `dangling ${ref}`);
      }
    });

    await t.step("/metrics is Prometheus text", async () => {
      const r = await call(app, "GET", "/metrics");
      assert.equal(r.status, 200);
      assert.match(r.res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const { samples, types } = parsePrometheus(r.text);
      assert.equal(types.get("tributary_request_duration_seconds"), "histogram");
      assert.equal(sample(samples, "tributary_topics"), 1);
      assert.equal(sample(samples, "tributary_partitions"), 3);
      assert.equal(
        sample(samples, "tributary_partition_size_bytes", {
          topic: "orders",
          partition: "0",
          tier: "remote",
        }),
        0,
      );
      assert.equal(sample(samples, "tributary_remote_uploads_pending"), 0);
      assert.equal(
        sample(samples, "tributary_broker_info", { cluster_id: b.broker.clusterId }),
        1,
      );
    });
  } finally {
    await b.stop();
  }
});

Deno.test("admin API: delete.topic.enable=false answers 403", async () => {
  const b = await testBroker({ config: { "delete.topic.enable": false } });
  try {
    const app = createAdminApp(b.broker);
    assert.equal((await call(app, "POST", "/v1/topics", { name: "keep" })).status, 201);
    assertError(await call(app, "DELETE", "/v1/topics/keep"), 403, "TOPIC_DELETION_DISABLED");
    assert.ok(b.broker.topic("keep"));
  } finally {
    await b.stop();
  }
});

Deno.test(
  "admin API: record peek returns exact keys, values, headers and offsets",
  async (t) => {
    const b = await testBroker();
    try {
      const app = createAdminApp(b.broker);
      await call(app, "POST", "/v1/topics", { name: "peek", partitions: 2 });
      const log = b.broker.partition("peek", 0)!;
      const binary = new Uint8Array([0xff, 0x00, 0xfe, 0x80]);
      const ts = 1_700_000_000_000;
      await log.append(encodeRecordBatch({
        records: [
          { key: "k0", value: "héllo wörld ✓", timestamp: ts, headers: [{ key: "h", value: "1" }] },
          { key: binary, value: null, timestamp: ts + 1, headers: [{ key: "bin", value: binary }] },
          { key: null, value: "", timestamp: ts + 2, headers: [{ key: "nullv", value: null }] },
        ],
      }));
      // A gzip batch of 5 and an uncompressed batch of 2 follow (offsets 3-7 and 8-9).
      await log.append(encodeRecordBatch({
        compression: Compression.GZIP,
        records: Array.from({ length: 5 }, (_, i) => ({
          key: `gz-${i}`,
          value: `gzip value ${i}`,
          timestamp: ts + 10 + i,
        })),
      }));
      await log.append(encodeRecordBatch({
        records: [{ key: "a", value: "x".repeat(3000), timestamp: ts + 20 }, {
          key: "b",
          value: "y".repeat(3000),
          timestamp: ts + 21,
        }],
      }));
      const base = "/v1/topics/peek/partitions/0/records";

      await t.step("from the start", async () => {
        const r = await call(app, "GET", base);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.topic, "peek");
        assert.equal(r.json.partition, 0);
        assert.equal(r.json.offset, 0);
        assert.equal(r.json.nextOffset, 10);
        assert.equal(r.json.highWatermark, 10);
        assert.equal(r.json.logStartOffset, 0);
        assert.equal(r.json.truncated, false);
        assert.deepEqual(r.json.records.map((x: Json) => x.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert.deepEqual(r.json.records[0], {
          offset: 0,
          timestamp: ts,
          timestampType: "CreateTime",
          key: "k0",
          keyEncoding: "utf8",
          value: "héllo wörld ✓",
          valueEncoding: "utf8",
          headers: [{ key: "h", value: "1", valueEncoding: "utf8" }],
        });
        assert.deepEqual(r.json.records[1], {
          offset: 1,
          timestamp: ts + 1,
          timestampType: "CreateTime",
          key: "/wD+gA==",
          keyEncoding: "base64",
          value: null,
          valueEncoding: null,
          headers: [{ key: "bin", value: "/wD+gA==", valueEncoding: "base64" }],
        });
        assert.deepEqual(r.json.records[2], {
          offset: 2,
          timestamp: ts + 2,
          timestampType: "CreateTime",
          key: null,
          keyEncoding: null,
          value: "",
          valueEncoding: "utf8",
          headers: [{ key: "nullv", value: null, valueEncoding: null }],
        });
        assert.deepEqual(
          r.json.records.slice(3, 8).map((x: Json) => [x.offset, x.key, x.value, x.timestamp]),
          [0, 1, 2, 3, 4].map((i) => [3 + i, `gz-${i}`, `gzip value ${i}`, ts + 10 + i]),
        );
      });

      await t.step("offset inside a batch, and limit", async () => {
        const r = await call(app, "GET", `${base}?offset=4&limit=3`);
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.records.map((x: Json) => x.key), ["gz-1", "gz-2", "gz-3"]);
        assert.equal(r.json.nextOffset, 7);
        const next = await call(app, "GET", `${base}?offset=${r.json.nextOffset}&limit=3`);
        assert.deepEqual(next.json.records.map((x: Json) => x.offset), [7, 8, 9]);
        const end = await call(app, "GET", `${base}?offset=10`);
        assert.equal(end.status, 200);
        assert.deepEqual(end.json.records, []);
        assert.equal(end.json.nextOffset, 10);
      });

      await t.step("byte budget", async () => {
        const r = await call(app, "GET", `${base}?offset=8&maxBytes=1000`);
        assert.equal(r.status, 200);
        // One record always fits; the second would exceed the budget.
        assert.deepEqual(r.json.records.map((x: Json) => x.offset), [8]);
        assert.equal(r.json.truncated, true);
        assert.equal(r.json.nextOffset, 9);
      });

      await t.step("bad parameters", async () => {
        assertError(await call(app, "GET", `${base}?limit=1001`), 400, "INVALID_REQUEST");
        assertError(await call(app, "GET", `${base}?limit=0`), 400, "INVALID_REQUEST");
        assertError(await call(app, "GET", `${base}?offset=abc`), 400, "INVALID_REQUEST");
        assertError(await call(app, "GET", `${base}?offset=-1`), 400, "INVALID_REQUEST");
        assertError(await call(app, "GET", `${base}?maxBytes=999999999`), 400, "INVALID_REQUEST");
        assertError(await call(app, "GET", `${base}?offset=11`), 400, "OFFSET_OUT_OF_RANGE");
        assertError(
          await call(app, "GET", "/v1/topics/peek/partitions/2/records"),
          404,
          "UNKNOWN_TOPIC_OR_PARTITION",
        );
        assertError(
          await call(app, "GET", "/v1/topics/none/partitions/0/records"),
          404,
          "UNKNOWN_TOPIC_OR_PARTITION",
        );
      });

      await t.step("an empty partition", async () => {
        const r = await call(app, "GET", "/v1/topics/peek/partitions/1/records");
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.records, []);
        assert.equal(r.json.nextOffset, 0);
      });
    } finally {
      await b.stop();
    }
  },
);

Deno.test("admin API: bearer token on every endpoint but /healthz and /readyz", async () => {
  const b = await testBroker();
  try {
    const app = createAdminApp(b.broker, { token: "s3cret-token" });
    const auth = { authorization: "Bearer s3cret-token" };
    for (
      const [method, path] of [
        ["GET", "/v1/cluster"],
        ["GET", "/v1/stats"],
        ["GET", "/v1/topics"],
        ["POST", "/v1/topics"],
        ["GET", "/v1/topics/x"],
        ["DELETE", "/v1/topics/x"],
        ["GET", "/v1/topics/x/configs"],
        ["PUT", "/v1/topics/x/configs"],
        ["PATCH", "/v1/topics/x/configs"],
        ["GET", "/v1/topics/x/partitions/0/records"],
        ["GET", "/v1/groups"],
        ["GET", "/v1/groups/g"],
        ["GET", "/v1/groups/g/offsets"],
        ["POST", "/v1/groups/g/offsets"],
        ["GET", "/metrics"],
        ["GET", "/openapi.json"],
        ["GET", "/"],
        ["GET", "/console"],
        ["GET", "/no/such/route"],
      ]
    ) {
      const none = await call(app, method, path, method === "GET" ? undefined : {});
      assertError(none, 401, "UNAUTHORIZED");
      assert.match(none.res.headers.get("www-authenticate") ?? "", /^Bearer/);
      const wrong = await call(app, method, path, method === "GET" ? undefined : {}, {
        authorization: "Bearer nope",
      });
      assertError(wrong, 401, "UNAUTHORIZED");
      const basic = await call(app, method, path, undefined, { authorization: "Basic czNjcmV0" });
      assert.equal(basic.status, 401);
    }
    for (const path of ["/healthz", "/readyz"]) {
      assert.equal((await call(app, "GET", path)).status, 200);
    }
    assert.equal((await call(app, "GET", "/v1/cluster", undefined, auth)).status, 200);
    assert.equal((await call(app, "GET", "/metrics", undefined, auth)).status, 200);
    assert.equal(
      (await call(app, "POST", "/v1/topics", { name: "authed" }, auth)).status,
      201,
    );
    assert.equal(
      (await call(app, "GET", "/v1/topics", undefined, { authorization: "bearer s3cret-token" }))
        .status,
      200,
    );

    // A browser gets a sign-in page, then `/?token=` sets an HttpOnly cookie and redirects.
    const page = await call(app, "GET", "/", undefined, { accept: "text/html" });
    assert.equal(page.status, 401);
    assert.match(page.text, /<form/);
    assertError(await call(app, "GET", "/?token=wrong"), 401, "UNAUTHORIZED");
    const signIn = await call(app, "GET", "/?token=s3cret-token");
    assert.equal(signIn.status, 303);
    assert.equal(signIn.res.headers.get("location"), "/");
    const cookie = signIn.res.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const pair = cookie.split(";")[0];
    assert.equal((await call(app, "GET", "/", undefined, { cookie: pair })).status, 200);
    assert.equal((await call(app, "GET", "/v1/topics", undefined, { cookie: pair })).status, 200);
    // The query token is only for signing a browser in to the console.
    assertError(await call(app, "GET", "/v1/topics?token=s3cret-token"), 401, "UNAUTHORIZED");
  } finally {
    await b.stop();
  }
});

// ---- over real HTTP, against kcat traffic ----------------------------------------------

Deno.test("admin API over HTTP: metrics and peek match what kcat produced", async () => {
  const token = "http-token";
  const b = await testBroker({
    adminPort: 0,
    adminToken: token,
    config: { "auto.create.topics.enable": false },
  });
  try {
    assert.ok(b.adminPort && b.adminPort > 0, "the handle reports the bound admin port");
    assert.equal(b.adminUrl, `http://127.0.0.1:${b.adminPort}`);
    const url = b.adminUrl!;
    const auth = { authorization: `Bearer ${token}` };
    const get = async (path: string) => {
      const r = await fetch(url + path, { headers: auth });
      assert.equal(r.status, 200, `${path}: ${r.status}`);
      return r;
    };
    assert.equal((await (await fetch(url + "/healthz")).json()).status, "ok");
    const unauth = await fetch(url + "/v1/topics");
    assert.equal(unauth.status, 401);
    await unauth.body?.cancel();

    const created = await fetch(url + "/v1/topics", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "kc", partitions: 2 }),
    });
    assert.equal(created.status, 201);
    await created.body?.cancel();

    // kcat produces N keyed records with two headers to partition 0.
    const n = 250;
    const lines: string[] = [];
    let payload = 0;
    for (let i = 0; i < n; i++) {
      const key = `key-${i}`;
      const value = `value-${i}-${"z".repeat(i % 40)}`;
      lines.push(`${key}\t${value}`);
      payload += enc.encode(key).length + enc.encode(value).length + "src".length + "kcat".length +
        "n".length + String(n).length;
    }
    await kcat(b.address, [
      "-P",
      "-t",
      "kc",
      "-p",
      "0",
      "-K",
      "\t",
      "-H",
      "src=kcat",
      "-H",
      `n=${n}`,
    ], { stdin: lines.join("\n") + "\n" });
    // Consume everything back, then ask Metadata for a topic that does not exist (an error).
    const consumed = decoder.decode(
      await kcat(b.address, ["-C", "-t", "kc", "-p", "0", "-o", "beginning", "-e", "-f", "%k\n"]),
    );
    assert.equal(consumed.split("\n").filter((l) => l).length, n);
    await run("kcat", ["-b", b.address, "-L", "-t", "missing-topic"], { timeoutMs: 30_000 });

    // /metrics
    const text = await (await get("/metrics")).text();
    const { samples } = parsePrometheus(text);
    assert.equal(sample(samples, "tributary_topic_records_in_total", { topic: "kc" }), n);
    const bytesIn = sample(samples, "tributary_topic_bytes_in_total", { topic: "kc" });
    // Batches hold every key, value and header byte, plus at most a 61-byte batch header and
    // ~16 bytes of per-record framing (varints, attributes) per record.
    assert.ok(bytesIn >= payload, `bytes in ${bytesIn} < payload ${payload}`);
    assert.ok(bytesIn <= payload + n * (61 + 16), `bytes in ${bytesIn} too large`);
    const bytesOut = sample(samples, "tributary_topic_bytes_out_total", { topic: "kc" });
    assert.ok(bytesOut >= bytesIn, `bytes out ${bytesOut} < bytes in ${bytesIn}`);
    const size = sample(samples, "tributary_partition_size_bytes", {
      topic: "kc",
      partition: "0",
      tier: "local",
    });
    assert.equal(size, b.broker.partition("kc", 0)!.sizeInBytes);
    assert.equal(size, bytesIn);
    assert.equal(
      sample(samples, "tributary_partition_size_bytes", {
        topic: "kc",
        partition: "1",
        tier: "local",
      }),
      0,
    );
    assert.equal(
      sample(samples, "tributary_partition_high_watermark", { topic: "kc", partition: "0" }),
      n,
    );
    // Requests by API and version, and the latency histogram agrees with them.
    const produces = sample(samples, "tributary_requests_total", { api: "Produce", api_key: "0" });
    assert.ok(produces >= 1);
    assert.equal(
      sample(samples, "tributary_request_duration_seconds_count", { api: "Produce" }),
      produces,
    );
    assert.equal(
      sample(samples, "tributary_request_duration_seconds_bucket", { api: "Produce", le: "+Inf" }),
      produces,
    );
    const buckets = samples.filter((s) =>
      s.name === "tributary_request_duration_seconds_bucket" && s.labels.api === "Fetch"
    ).map((s) => s.value);
    assert.ok(buckets.length > 2);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i] >= buckets[i - 1], "cumulative");
    const versions = samples.filter((s) =>
      s.name === "tributary_requests_total" && s.labels.api === "Metadata"
    );
    assert.ok(versions.every((s) => /^\d+$/.test(s.labels.version)));
    assert.ok(
      sample(samples, "tributary_request_errors_total", {
        api: "Metadata",
        error: "UNKNOWN_TOPIC_OR_PARTITION",
        error_code: "3",
      }) >= 1,
    );
    assert.ok(
      sample(samples, "tributary_requests_failed_total", { api: "Metadata" }) >= 1,
    );
    assert.ok(sample(samples, "tributary_connections_accepted_total") >= 3);
    assert.ok(sample(samples, "tributary_connections") >= 0);

    // /v1/stats agrees.
    const stats = await (await get("/v1/stats")).json();
    const kc = stats.topics.find((x: Json) => x.topic === "kc");
    assert.deepEqual(kc, { topic: "kc", bytesIn, recordsIn: n, bytesOut });

    // Record peek returns exactly what kcat sent.
    const peek = await (await get("/v1/topics/kc/partitions/0/records?offset=100&limit=50"))
      .json();
    assert.equal(peek.records.length, 50);
    peek.records.forEach((r: Json, i: number) => {
      const [key, value] = lines[100 + i].split("\t");
      assert.equal(r.offset, 100 + i);
      assert.equal(r.key, key);
      assert.equal(r.keyEncoding, "utf8");
      assert.equal(r.value, value);
      assert.deepEqual(r.headers, [
        { key: "src", value: "kcat", valueEncoding: "utf8" },
        { key: "n", value: String(n), valueEncoding: "utf8" },
      ]);
      assert.equal(r.timestampType, "CreateTime");
      assert.ok(Math.abs(r.timestamp - Date.now()) < 120_000);
    });
    assert.equal(peek.nextOffset, 150);

    // Topic detail reflects the produce.
    const topic = await (await get("/v1/topics/kc")).json();
    assert.equal(topic.partitions[0].highWatermark, n);
    assert.equal(topic.partitions[0].sizeBytes, size);
    assert.equal(topic.partitions[0].localBytes, size);
    assert.equal(topic.partitions[0].remoteBytes, 0);

    // Deleting the topic drops its per-topic series.
    const del = await fetch(url + "/v1/topics/kc", { method: "DELETE", headers: auth });
    assert.equal(del.status, 204);
    await del.body?.cancel();
    const after = await (await get("/metrics")).text();
    assert.doesNotMatch(after, /topic="kc"/);
  } finally {
    await b.stop();
  }
  // Closing the broker closed the admin listener too.
  await assert.rejects(fetch(`${b.adminUrl}/healthz`));
});

Deno.test(
  "admin API: consumer groups, lag and offset reset with a kcat consumer",
  async (t) => {
    const b = await testBroker({
      adminPort: 0,
      config: { "group.initial.rebalance.delay.ms": 0 },
    });
    const app = createAdminApp(b.broker);
    let consumer: Deno.ChildProcess | undefined;
    let consumed: () => Promise<void> = () => Promise.resolve();
    let drained: Promise<void> = Promise.resolve();
    try {
      assert.equal(
        (await call(app, "POST", "/v1/topics", { name: "gt", partitions: 2 })).status,
        201,
      );
      await kcat(b.address, ["-P", "-t", "gt", "-p", "0"], {
        stdin: Array.from({ length: 10 }, (_, i) => `m${i}`).join("\n") + "\n",
      });
      await kcat(b.address, ["-P", "-t", "gt", "-p", "1"], { stdin: "x\ny\nz\n" });

      await t.step("no groups yet; unknown group is 404", async () => {
        const r = await call(app, "GET", "/v1/groups");
        assert.equal(r.status, 200);
        assert.deepEqual(r.json, { groups: [] });
        assertError(await call(app, "GET", "/v1/groups/nope"), 404, "GROUP_ID_NOT_FOUND");
        assertError(await call(app, "GET", "/v1/groups/nope/offsets"), 404, "GROUP_ID_NOT_FOUND");
      });

      await t.step("a live kcat balanced consumer: Stable, member, assignment", async () => {
        consumer = new Deno.Command("kcat", {
          args: ["-b", b.address, "-G", "readers", "-o", "beginning", "-q", "-u", "gt"],
          stdout: "piped",
          stderr: "null",
        }).spawn();
        // Count what it consumed, so it is stopped only after reading all 13 records.
        let seen = "";
        const reading = (async () => {
          for await (const chunk of consumer!.stdout.pipeThrough(new TextDecoderStream())) {
            seen += chunk;
          }
        })();
        consumed = async () => {
          await waitFor("kcat to print 13 records", () => {
            return seen.split("\n").filter((l) => l).length >= 13;
          });
          assert.equal(seen.split("\n").filter((l) => l).length, 13, "kcat consumed everything");
        };
        drained = reading;
        let detail: Json;
        await waitFor(() => `a Stable group of one: ${JSON.stringify(detail)}`, async () => {
          detail = (await call(app, "GET", "/v1/groups/readers")).json;
          return detail?.state === "Stable" && detail.members.length === 1;
        });
        assert.equal(detail.state, "Stable", JSON.stringify(detail));
        assert.equal(detail.protocolType, "consumer");
        assert.equal(detail.protocol, "range");
        assert.ok(detail.generationId >= 1);
        const m = detail.members[0];
        assert.equal(detail.leader, m.memberId);
        assert.equal(m.clientId, "rdkafka");
        assert.match(m.clientHost, /127\.0\.0\.1/);
        assert.deepEqual(m.assignments, [{ topic: "gt", partitions: [0, 1] }]);
        // Every assigned partition is listed, with its owner, committed or not.
        assert.deepEqual(
          detail.offsets.map((o: Json) => [o.topic, o.partition, o.memberId, o.highWatermark]),
          [["gt", 0, m.memberId, 10], ["gt", 1, m.memberId, 3]],
        );
        const list = (await call(app, "GET", "/v1/groups")).json.groups;
        assert.equal(list.length, 1);
        assert.equal(list[0].groupId, "readers");
        assert.equal(list[0].state, "Stable");
        assert.equal(list[0].members, 1);
        assert.equal(list[0].protocol, "range");

        // Reset is refused while the group has members.
        const r = await call(app, "POST", "/v1/groups/readers/offsets", { to: "earliest" });
        assertError(r, 409, "NON_EMPTY_GROUP");
        assert.equal(r.json.state, "Stable");
      });

      await t.step("the consumer leaves: Empty, committed offsets with zero lag", async () => {
        await consumed();
        consumer!.kill("SIGTERM");
        await consumer!.status;
        await drained;
        consumer = undefined;
        let detail: Json;
        await waitFor(() => `an Empty group, committed: ${JSON.stringify(detail)}`, async () => {
          detail = (await call(app, "GET", "/v1/groups/readers")).json;
          return detail.state === "Empty" && detail.offsets.length === 2 &&
            detail.offsets.every((o: Json) => o.committedOffset !== null);
        });
        assert.equal(detail.state, "Empty");
        assert.deepEqual(detail.members, []);
        assert.deepEqual(
          detail.offsets.map((o: Json) => [o.partition, o.committedOffset, o.lag]),
          [[0, 10, 0], [1, 3, 0]],
        );
        assert.equal(detail.lag, 0);
        const offs = await call(app, "GET", "/v1/groups/readers/offsets");
        assert.equal(offs.status, 200);
        assert.deepEqual(offs.json.offsets, detail.offsets);
      });

      await t.step("reset: validation and dry run", async () => {
        const path = "/v1/groups/readers/offsets";
        assertError(await call(app, "POST", path, { to: "yesterday" }), 400, "INVALID_REQUEST");
        assertError(await call(app, "POST", path, { to: "timestamp" }), 400, "INVALID_REQUEST");
        assertError(
          await call(app, "POST", path, { to: "offset", offset: -3 }),
          400,
          "INVALID_REQUEST",
        );
        assertError(
          await call(app, "POST", path, { to: "earliest", topics: [] }),
          400,
          "INVALID_REQUEST",
        );
        assertError(await call(app, "POST", path, "{"), 400, "INVALID_REQUEST");
        assertError(
          await call(app, "POST", path, { to: "earliest", topics: ["missing"] }),
          404,
          "UNKNOWN_TOPIC_OR_PARTITION",
        );
        assertError(
          await call(app, "POST", path, {
            to: "earliest",
            topics: [{ topic: "gt", partitions: [7] }],
          }),
          404,
          "UNKNOWN_TOPIC_OR_PARTITION",
        );
        const dry = await call(app, "POST", `${path}?dryRun=true`, { to: "earliest" });
        assert.equal(dry.status, 200);
        assert.equal(dry.json.dryRun, true);
        assert.deepEqual(dry.json.offsets, [
          { topic: "gt", partition: 0, previousOffset: 10, committedOffset: 0 },
          { topic: "gt", partition: 1, previousOffset: 3, committedOffset: 0 },
        ]);
        assert.equal(b.broker.groups.offsets.get("readers", "gt", 0)?.offset, 10, "dry run");
      });

      await t.step("reset: earliest, offset (clamped), timestamp, latest", async () => {
        const path = "/v1/groups/readers/offsets";
        const e = await call(app, "POST", path, { to: "earliest" });
        assert.equal(e.status, 200, e.text);
        let d = (await call(app, "GET", "/v1/groups/readers")).json;
        assert.deepEqual(d.offsets.map((o: Json) => [o.committedOffset, o.lag]), [[0, 10], [0, 3]]);
        assert.equal(d.lag, 13);

        const o = await call(app, "PUT", path, {
          to: "offset",
          offset: 4,
          topics: [{ topic: "gt", partitions: [0, 1] }],
        });
        assert.equal(o.status, 200);
        d = (await call(app, "GET", "/v1/groups/readers")).json;
        assert.deepEqual(d.offsets.map((x: Json) => [x.committedOffset, x.lag]), [[4, 6], [3, 0]]);

        const ts = await call(app, "POST", path, { to: "timestamp", timestamp: 0, topics: ["gt"] });
        assert.deepEqual(ts.json.offsets.map((x: Json) => x.committedOffset), [0, 0]);
        const future = await call(app, "POST", path, {
          to: "timestamp",
          timestamp: Date.now() + 86_400_000,
        });
        assert.deepEqual(future.json.offsets.map((x: Json) => x.committedOffset), [10, 3]);

        await call(app, "POST", path, {
          to: "earliest",
          topics: [{ topic: "gt", partitions: [0] }],
        });
        // /metrics exports lag per group and partition.
        const { samples } = parsePrometheus((await call(app, "GET", "/metrics")).text);
        assert.equal(
          sample(samples, "tributary_group_lag", { group: "readers", partition: "0" }),
          10,
        );
        assert.equal(
          sample(samples, "tributary_group_lag", { group: "readers", partition: "1" }),
          0,
        );
        assert.equal(
          sample(samples, "tributary_group_committed_offset", { group: "readers", partition: "1" }),
          3,
        );
      });

      await t.step(
        "reset creates offsets for a new group id (as kafka-consumer-groups does)",
        async () => {
          assertError(
            await call(app, "POST", "/v1/groups/fresh/offsets", { to: "latest" }),
            400,
            "INVALID_REQUEST",
          );
          const r = await call(app, "POST", "/v1/groups/fresh/offsets", {
            to: "latest",
            topics: ["gt"],
          });
          assert.equal(r.status, 200, r.text);
          const d = (await call(app, "GET", "/v1/groups/fresh")).json;
          assert.equal(d.state, "Empty");
          assert.deepEqual(d.offsets.map((x: Json) => [x.committedOffset, x.lag]), [[10, 0], [
            3,
            0,
          ]]);
          const ids = (await call(app, "GET", "/v1/groups")).json.groups.map((g: Json) =>
            g.groupId
          );
          assert.deepEqual(ids, ["fresh", "readers"]);
        },
      );
    } finally {
      if (consumer) {
        consumer.kill("SIGKILL");
        await consumer.status;
      }
      await b.stop();
    }
  },
);

Deno.test("admin API: tiered partitions report local and remote bytes", async () => {
  const remote = await Deno.makeTempDir({ prefix: "tributary-admin-remote-" });
  const b = await testBroker({
    config: {
      "remote.log.storage.system.enable": true,
      "remote.log.storage.uri": `file://${remote}`,
    },
  });
  try {
    const app = createAdminApp(b.broker);
    const r = await call(app, "POST", "/v1/topics", {
      name: "tiered",
      configs: { "remote.storage.enable": true, "segment.bytes": 1024 },
    });
    assert.equal(r.status, 201, r.text);
    const log = b.broker.partition("tiered", 0)!;
    for (let i = 0; i < 8; i++) {
      await log.append(encodeRecordBatch({ records: [{ key: `k${i}`, value: "v".repeat(700) }] }));
    }
    assert.ok(log.segmentCount > 2, "several segments rolled");
    await b.broker.logs.remoteLogManager.runOnce(true);
    const p = (await call(app, "GET", "/v1/topics/tiered/partitions/0")).json;
    assert.ok(p.remoteBytes > 0, JSON.stringify(p));
    assert.equal(p.remoteBytes, log.remoteBytes);
    assert.equal(p.localBytes, log.localBytes);
    assert.equal(p.sizeBytes, p.localBytes);
    assert.ok(p.remoteSegments >= 1);
    assert.ok(p.highestOffsetInRemoteStorage >= 0);
    const { samples } = parsePrometheus((await call(app, "GET", "/metrics")).text);
    assert.equal(
      sample(samples, "tributary_partition_size_bytes", { topic: "tiered", tier: "remote" }),
      p.remoteBytes,
    );
    assert.equal(
      sample(samples, "tributary_partition_size_bytes", { topic: "tiered", tier: "local" }),
      p.localBytes,
    );
    assert.equal(sample(samples, "tributary_remote_uploads_pending"), 0);
    assert.equal(sample(samples, "tributary_remote_uploads_failed_total"), 0);
    const copied = sample(samples, "tributary_remote_segments_copied_total");
    assert.equal(copied, p.remoteSegments);
    const stats = (await call(app, "GET", "/v1/stats")).json;
    assert.equal(stats.tiering.enabled, true);
    assert.equal(stats.tiering.segmentsCopied, copied);
  } finally {
    await b.stop();
    await Deno.remove(remote, { recursive: true }).catch(() => {});
  }
});

Deno.test("admin API: a broker without adminPort serves no HTTP", async () => {
  const b = await testBroker();
  try {
    assert.equal(b.adminPort, undefined);
    assert.equal(b.adminUrl, undefined);
    assert.equal(b.broker.admin, undefined);
  } finally {
    await b.stop();
  }
});

Deno.test("admin API: a taken admin port fails the start cleanly", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-admin-port-" });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    await assert.rejects(
      testBroker({ dataDir, adminPort: port, adminHost: "127.0.0.1" }),
      Deno.errors.AddrInUse,
    );
    // Storage was closed again: the same directory opens fine afterwards.
    const b = await testBroker({ dataDir });
    await b.stop();
  } finally {
    taken.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("CLI: --admin-port and --admin-token", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tributary-admin-cli-" });
  const p = await BrokerProcess.start(dir, ["--admin-port", "0", "--admin-token", "cli-token"]);
  try {
    const port = await until(
      () => `an admin line in: ${p.lines.join("\n")}`,
      () => {
        const m = p.lines.map((l) => /admin API and console on http:\/\/[^:]+:(\d+)\//.exec(l))
          .find((x) => x);
        return m ? Number(m[1]) : undefined;
      },
    );
    assert.ok(port > 0, `no admin line in: ${p.lines.join("\n")}`);
    const base = `http://127.0.0.1:${port}`;
    const h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 200);
    await h.body?.cancel();
    const no = await fetch(`${base}/v1/cluster`);
    assert.equal(no.status, 401);
    await no.body?.cancel();
    const yes = await fetch(`${base}/v1/cluster`, {
      headers: { authorization: "Bearer cli-token" },
    });
    assert.equal(yes.status, 200);
    const cluster = await yes.json();
    assert.equal(cluster.brokers[0].port, p.port);
    assert.equal(await p.kill("SIGTERM"), 0);
  } finally {
    await p.kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  // Without --admin-port nothing listens for HTTP (the flag is off by default).
  const dir2 = await Deno.makeTempDir({ prefix: "tributary-admin-cli-" });
  const q = await BrokerProcess.start(dir2);
  try {
    assert.equal(await q.kill("SIGTERM"), 0);
    // "stopped" is the last line: every start-up line, an admin one included, came before.
    await waitFor("the broker's last log line", () => q.lines.some((l) => /\bstopped\b/.test(l)));
    assert.ok(!q.lines.some((l) => l.includes("admin API")), q.lines.join("\n"));
  } finally {
    await q.kill();
    await Deno.remove(dir2, { recursive: true }).catch(() => {});
  }
});
