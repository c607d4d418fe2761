/**
 * The admin HTTP API: every endpoint and error path through the Hono app (`app.request()`),
 * token enforcement, then once over real HTTP against a broker started with an admin port,
 * with kcat producing and consuming so /metrics and record peek are checked against what a
 * real client sent. Also the CLI flags (--admin-port, --admin-token).
 */
import assert from "node:assert/strict";
import { Compression } from "../../protocol/compression.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { createAdminApp } from "../../src/admin/app.ts";
import { openApiDocument } from "../../src/admin/openapi.ts";
import { testBroker } from "../support/helpers.ts";
import {
  assertError,
  call,
  type Json,
  parsePrometheus,
  sample,
} from "../support/admin_api_fixtures.ts";

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
        live: true,
        controller: true,
        leaderCount: 0,
        replicaCount: 0,
      }]);
      assert.deepEqual(r.json.replication, {
        partitions: 0,
        underReplicatedPartitions: 0,
        underMinIsrPartitions: 0,
        offlinePartitions: 0,
      });
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
        leaderEpoch: 0,
        replicas: [b.broker.nodeId],
        isr: [b.broker.nodeId],
        offlineReplicas: [],
        underReplicated: false,
        underMinIsr: false,
        offline: false,
        local: true,
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
      // One broker: it leads and is the controller; rf=1 with min.insync.replicas=1 is at min.
      assert.equal(sample(samples, "tributary_leader_partitions"), 3);
      assert.equal(sample(samples, "tributary_under_replicated_partitions"), 0);
      assert.equal(sample(samples, "tributary_under_min_isr_partitions"), 0);
      assert.equal(sample(samples, "tributary_at_min_isr_partitions"), 3);
      assert.equal(sample(samples, "tributary_offline_partitions"), 0);
      assert.equal(sample(samples, "tributary_active_controller"), 1);
      assert.equal(sample(samples, "tributary_isr_shrinks_total"), 0);
      assert.equal(
        sample(samples, "tributary_partition_leader_epoch", { topic: "orders", partition: "1" }),
        0,
      );
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
