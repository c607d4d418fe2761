/**
 * The admin HTTP API over real HTTP against a broker started with an admin port, with kcat
 * producing and consuming so /metrics, record peek and consumer group lag are checked against
 * what a real client sent; tiered partitions; start-up without or with a taken admin port;
 * the CLI flags (--admin-port, --admin-token).
 */
import assert from "node:assert/strict";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { createAdminApp } from "../../src/admin/app.ts";
import { BrokerProcess, decoder, kcat, run, testBroker } from "../support/helpers.ts";
import {
  assertError,
  call,
  type Json,
  parsePrometheus,
  sample,
} from "../support/admin_api_fixtures.ts";
import { until, waitFor } from "../support/wait.ts";

const enc = new TextEncoder();

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
