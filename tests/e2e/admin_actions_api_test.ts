/**
 * The admin API's acting endpoints over real HTTP against a broker process with two Deno
 * workers: producing a record (read back exactly by kcat, counted in /v1/stats), the bounded
 * record search (exact matches, each bound and where it stopped), deleting a consumer group
 * (Empty only), and the failed-requests figure, which leaves out routine protocol answers.
 */
import assert from "node:assert/strict";
import {
  JoinGroupRequest,
  JoinGroupResponse,
  MetadataRequest,
  MetadataResponse,
} from "../../protocol/messages/mod.ts";
import { defaultPartition } from "../../src/admin/produce.ts";
import { murmur2 } from "../../src/client/partitioner.ts";
import { BrokerProcess, decoder, kcat, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { until, waitFor } from "../support/wait.ts";

const TOKEN = "actions-token";
type Json = any;

function adminPort(p: BrokerProcess): Promise<number> {
  return until(() => `an admin line in: ${p.lines.join("\n")}`, () => {
    const m = p.lines.map((l) => /admin API and console on http:\/\/[^:]+:(\d+)\//.exec(l))
      .find((x) => x);
    return m ? Number(m[1]) : undefined;
  });
}

function client(base: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null as Json };
  };
}

function assertError(r: { status: number; json: Json }, status: number, error: string) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.error, error, JSON.stringify(r.json));
  assert.equal(typeof r.json.message, "string");
}

async function withBroker(fn: (api: ReturnType<typeof client>, p: BrokerProcess) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tributary-actions-" });
  const p = await BrokerProcess.start(dir, ["--admin-port", "0", "--admin-token", TOKEN]);
  try {
    await fn(client(`http://127.0.0.1:${await adminPort(p)}`), p);
  } finally {
    await p.kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test(
  "POST /v1/topics/{name}/records produces through Produce; kcat reads it back",
  async () => {
    await withBroker(async (api, p) => {
      assert.equal((await api("POST", "/v1/topics", { name: "prod", partitions: 4 })).status, 201);
      // One record per partition: with two workers, both workers' partitions are written.
      const sent: Json[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await api("POST", "/v1/topics/prod/records", {
          partition: i,
          key: `key-${i}`,
          value: `{"n":${i}}`,
          headers: [{ key: "source", value: "console" }, { key: "i", value: String(i) }],
          timestamp: 1_700_000_000_000 + i,
        });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.deepEqual(r.json, {
          topic: "prod",
          partition: i,
          offset: 0,
          timestamp: 1_700_000_000_000 + i,
        });
        sent.push(r.json);
      }
      // A second record on partition 2, null key, binary value as base64, headers as an object.
      const bin = await api("POST", "/v1/topics/prod/records", {
        partition: 2,
        key: null,
        value: "AAEC/w==",
        valueEncoding: "base64",
        headers: { h: "x" },
      });
      assert.equal(bin.status, 200, JSON.stringify(bin.json));
      assert.equal(bin.json.offset, 1);
      // Keyed without a partition: Kafka's murmur2 partitioner ("order-7" hashes to 3 of 4,
      // as the Java client and librdkafka's murmur2 partitioner place it).
      const keyed = await api("POST", "/v1/topics/prod/records", { key: "order-7", value: "v" });
      assert.equal(keyed.status, 200, JSON.stringify(keyed.json));
      const viaKcat = decoder.decode(
        await kcat(p.address, [
          "-P",
          "-t",
          "prod",
          "-X",
          "partitioner=murmur2_random",
          "-K",
          ":",
        ], { stdin: "order-7:w\n" }),
      );
      assert.equal(viaKcat, "");
      const placed = decoder.decode(
        await kcat(p.address, [
          "-C",
          "-t",
          "prod",
          "-o",
          "beginning",
          "-e",
          "-q",
          "-f",
          "%p %k %s\\n",
        ]),
      ).trim().split("\n").filter((l) => l.includes("order-7"));
      assert.deepEqual(placed, [
        `${keyed.json.partition} order-7 v`,
        `${keyed.json.partition} order-7 w`,
      ]);

      for (let i = 0; i < 4; i++) {
        const out = decoder.decode(
          await kcat(p.address, [
            "-C",
            "-t",
            "prod",
            "-p",
            String(i),
            "-o",
            "0",
            "-c",
            "1",
            "-e",
            "-q",
            "-f",
            "%p|%o|%T|%k|%s|%h\\n",
          ]),
        );
        assert.equal(
          out,
          `${i}|0|${1_700_000_000_000 + i}|key-${i}|{"n":${i}}|source=console,i=${i}\n`,
        );
      }
      const second = await kcat(p.address, [
        "-C",
        "-t",
        "prod",
        "-p",
        "2",
        "-o",
        "1",
        "-c",
        "1",
        "-e",
        "-q",
        "-f",
        "%k|%s|%h",
      ]);
      assert.deepEqual([...second], [
        ...new TextEncoder().encode("|"),
        0,
        1,
        2,
        255,
        ...new TextEncoder().encode("|h=x"),
      ]);

      // Counted like any Produce: records in, and Produce requests in the metrics.
      const stats = (await api("GET", "/v1/stats")).json;
      const t = stats.topics.find((x: Json) => x.topic === "prod");
      assert.equal(t.recordsIn, 7);

      // Errors.
      assertError(
        await api("POST", "/v1/topics/nope/records", { value: "x" }),
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
      assertError(
        await api("POST", "/v1/topics/prod/records", { partition: 4, value: "x" }),
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
      assertError(
        await api("POST", "/v1/topics/prod/records", { partition: "a" }),
        400,
        "INVALID_REQUEST",
      );
      assertError(
        await api("POST", "/v1/topics/prod/records", { value: 5 }),
        400,
        "INVALID_REQUEST",
      );
      assertError(
        await api("POST", "/v1/topics/prod/records", { value: "%%", valueEncoding: "base64" }),
        400,
        "INVALID_REQUEST",
      );
      assertError(await api("POST", "/v1/topics/prod/records", "not json"), 400, "INVALID_REQUEST");
      // Internal topics take no records from outside (the group coordinator's topic exists
      // once a group commits).
      const commit = await api("POST", "/v1/groups/g/offsets", {
        to: "earliest",
        topics: ["prod"],
      });
      assert.equal(commit.status, 200, JSON.stringify(commit.json));
      assertError(
        await api("POST", "/v1/topics/__consumer_offsets/records", { value: "x" }),
        400,
        "INVALID_TOPIC_EXCEPTION",
      );
      // Validated as Produce is: a compacted topic refuses a record without a key.
      assert.equal(
        (await api("POST", "/v1/topics", {
          name: "compacted",
          partitions: 1,
          configs: { "cleanup.policy": "compact" },
        })).status,
        201,
      );
      const keyless = await api("POST", "/v1/topics/compacted/records", {
        partition: 0,
        value: "x",
      });
      assertError(keyless, 400, "INVALID_RECORD");
      assert.match(keyless.json.message, /key/i);
      const tooBig = await api("PATCH", "/v1/topics/compacted/configs", {
        "max.message.bytes": 200,
      });
      assert.equal(tooBig.status, 200);
      assertError(
        await api("POST", "/v1/topics/compacted/records", { key: "k", value: "x".repeat(500) }),
        413,
        "MESSAGE_TOO_LARGE",
      );
      assert.equal(
        (await api("GET", "/v1/topics/compacted/partitions/0")).json.highWatermark,
        0,
        "nothing of the refused records is in the log",
      );
    });
  },
);

Deno.test(
  "GET /v1/topics/{name}/records/search: exact matches within its bounds",
  async () => {
    await withBroker(async (api, p) => {
      assert.equal(
        (await api("POST", "/v1/topics", { name: "orders", partitions: 2 })).status,
        201,
      );
      // Partition 0: 50 records at CreateTime 1000 + i; partition 1: 30 records.
      const lines0 = Array.from(
        { length: 50 },
        (_, i) =>
          `${i % 5 === 0 ? "vip" : "std"}-${i}:{"id":${i},"city":"${i % 2 ? "Oslo" : "Rome"}"}`,
      );
      await kcat(p.address, ["-P", "-t", "orders", "-p", "0", "-K", ":"], {
        stdin: lines0.join("\n") + "\n",
      });
      await kcat(p.address, ["-P", "-t", "orders", "-p", "1", "-K", ":"], {
        stdin: Array.from({ length: 30 }, (_, i) => `k${i}:plain ${i}`).join("\n") + "\n",
      });
      const search = (q: string) => api("GET", `/v1/topics/orders/records/search?${q}`);

      const vip = await search("key=vip");
      assert.equal(vip.status, 200, JSON.stringify(vip.json));
      assert.deepEqual(vip.json.records.map((r: Json) => [r.partition, r.offset, r.key]), [
        [0, 0, "vip-0"],
        [0, 5, "vip-5"],
        [0, 10, "vip-10"],
        [0, 15, "vip-15"],
        [0, 20, "vip-20"],
        [0, 25, "vip-25"],
        [0, 30, "vip-30"],
        [0, 35, "vip-35"],
        [0, 40, "vip-40"],
        [0, 45, "vip-45"],
      ]);
      assert.equal(vip.json.stoppedBy, "end");
      assert.equal(vip.json.scannedRecords, 80);
      assert.deepEqual(vip.json.next, [
        { partition: 0, offset: 50, highWatermark: 50 },
        { partition: 1, offset: 30, highWatermark: 30 },
      ]);
      const first = vip.json.records[0];
      assert.equal(first.value, '{"id":0,"city":"Rome"}');
      assert.equal(first.valueEncoding, "utf8");

      // Key and value together; from an offset; one partition.
      const both = await search("key=vip&value=Oslo&partition=0&offset=10");
      assert.deepEqual(both.json.records.map((r: Json) => r.offset), [15, 25, 35, 45]);
      assert.equal(both.json.scannedRecords, 40);
      const plain = await search("value=plain%202");
      assert.deepEqual(plain.json.records.map((r: Json) => [r.partition, r.offset]), [
        [1, 2],
        [1, 20],
        [1, 21],
        [1, 22],
        [1, 23],
        [1, 24],
        [1, 25],
        [1, 26],
        [1, 27],
        [1, 28],
        [1, 29],
      ]);

      // From a timestamp: each partition starts at its first record at or after it.
      const all = await search("partition=0&limit=1000");
      const ts = all.json.records[20].timestamp;
      const later = await search(`partition=0&timestamp=${ts}&limit=1000`);
      const expected = all.json.records.filter((r: Json) => r.timestamp >= ts).map((r: Json) =>
        r.offset
      );
      assert.deepEqual(later.json.records.map((r: Json) => r.offset), expected);
      assert.ok(expected[0] <= 20);

      // Bounds: the match limit, records scanned, bytes scanned; `next` says where to go on.
      const limited = await search("key=vip&limit=3&partition=0");
      assert.deepEqual(limited.json.records.map((r: Json) => r.offset), [0, 5, 10]);
      assert.equal(limited.json.stoppedBy, "limit");
      assert.deepEqual(limited.json.next, [{ partition: 0, offset: 11, highWatermark: 50 }]);
      const resumed = await search("key=vip&limit=3&partition=0&offset=11");
      assert.deepEqual(resumed.json.records.map((r: Json) => r.offset), [15, 20, 25]);
      const scanned = await search("key=vip&maxRecords=12&partition=0");
      assert.deepEqual(scanned.json.records.map((r: Json) => r.offset), [0, 5, 10]);
      assert.equal(scanned.json.stoppedBy, "maxRecords");
      assert.equal(scanned.json.scannedRecords, 12);
      assert.deepEqual(scanned.json.next, [{ partition: 0, offset: 12, highWatermark: 50 }]);
      // Partition 1's records are "kN" + "plain N": 2 + 7 bytes for N < 10.
      const bytes = await search("partition=1&maxBytes=45");
      assert.equal(bytes.json.stoppedBy, "maxBytes");
      assert.deepEqual(bytes.json.records.map((r: Json) => r.offset), [0, 1, 2, 3, 4]);
      assert.equal(bytes.json.scannedBytes, 45);

      // Errors.
      assertError(
        await api("GET", "/v1/topics/none/records/search"),
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
      assertError(await search("partition=2"), 404, "UNKNOWN_TOPIC_OR_PARTITION");
      assertError(await search("maxRecords=0"), 400, "INVALID_REQUEST");
      assertError(await search("maxRecords=1000001"), 400, "INVALID_REQUEST");
      assertError(await search("limit=1001"), 400, "INVALID_REQUEST");
      assertError(await search("timeoutMs=30001"), 400, "INVALID_REQUEST");
      assertError(await search("offset=-1"), 400, "INVALID_REQUEST");
    });
  },
);

Deno.test(
  "DELETE /v1/groups/{id}: Empty groups and their offsets; 409 while consumed",
  async () => {
    await withBroker(async (api, p) => {
      assert.equal((await api("POST", "/v1/topics", { name: "gt", partitions: 1 })).status, 201);
      await kcat(p.address, ["-P", "-t", "gt", "-p", "0"], { stdin: "a\nb\nc\n" });
      const reset = await api("POST", "/v1/groups/idle/offsets", {
        to: "offset",
        offset: 2,
        topics: ["gt"],
      });
      assert.equal(reset.status, 200);
      assert.equal((await api("GET", "/v1/groups/idle")).json.state, "Empty");
      const del = await api("DELETE", "/v1/groups/idle");
      assert.equal(del.status, 204);
      assertError(await api("GET", "/v1/groups/idle"), 404, "GROUP_ID_NOT_FOUND");
      assertError(await api("DELETE", "/v1/groups/idle"), 404, "GROUP_ID_NOT_FOUND");
      // Its offsets went with it: a new consumer of the same group id starts from the beginning.
      const again = decoder.decode(
        await kcat(p.address, ["-G", "idle", "-o", "beginning", "-e", "-q", "-f", "%o\\n", "gt"]),
      );
      assert.equal(again, "0\n1\n2\n");

      // A group with a live member cannot be deleted.
      const consumer = new Deno.Command("kcat", {
        args: ["-b", p.address, "-G", "busy", "-q", "gt"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await waitFor("the busy group to be Stable", async () => {
          const g = await api("GET", "/v1/groups/busy");
          return g.status === 200 && g.json.state === "Stable";
        });
        const busy = await api("DELETE", "/v1/groups/busy");
        assertError(busy, 409, "NON_EMPTY_GROUP");
        assert.equal(busy.json.state, "Stable");
        assert.equal((await api("GET", "/v1/groups/busy")).json.state, "Stable");
      } finally {
        consumer.kill("SIGKILL");
        await consumer.status;
      }
    });
  },
);

Deno.test(
  "failed requests leave out routine answers (MEMBER_ID_REQUIRED) but count real errors",
  async () => {
    const b = await testBroker({ adminPort: 0 });
    const c = await RawClient.connect(b.port);
    try {
      const stats = async () => (await (await fetch(`${b.adminUrl}/v1/stats`)).json()).requests;
      const join = await c.call(JoinGroupRequest, JoinGroupResponse, 5, {
        groupId: "routine",
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 30_000,
        memberId: "",
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: new Uint8Array(0) }],
      });
      assert.equal(join.errorCode, 79); // MEMBER_ID_REQUIRED: the first JoinGroup of a member
      assert.deepEqual(await stats(), { total: 1, failed: 0 });
      const metrics = await (await fetch(`${b.adminUrl}/metrics`)).text();
      assert.match(
        metrics,
        /tributary_request_errors_total\{api="JoinGroup"[^}]*error="MEMBER_ID_REQUIRED"[^}]*\} 1\n/,
      );
      assert.match(metrics, /tributary_requests_failed_total\{api="JoinGroup"[^}]*\} 0\n/);
      const meta = await c.call(MetadataRequest, MetadataResponse, 9, {
        topics: [{ name: "missing" }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      assert.equal(meta.topics[0].errorCode, 3); // UNKNOWN_TOPIC_OR_PARTITION: a real failure
      assert.deepEqual(await stats(), { total: 2, failed: 1 });
      // A record produced from the admin API is a Produce request like any other (one worker).
      await b.broker.createTopic("counted", 1, [], false);
      const produced = await fetch(`${b.adminUrl}/v1/topics/counted/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: "k", value: "v" }),
      });
      assert.deepEqual(await produced.json(), {
        topic: "counted",
        partition: 0,
        offset: 0,
        timestamp: (await (await fetch(
          `${b.adminUrl}/v1/topics/counted/partitions/0/records?offset=0`,
        )).json()).records[0].timestamp,
      });
      assert.deepEqual(await stats(), { total: 3, failed: 1 });
    } finally {
      c.close();
      await b.stop();
    }
  },
);

Deno.test("murmur2 is Kafka's (the Java client's Utils.murmur2 test vectors)", () => {
  const cases: [string, number][] = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ];
  for (const [s, h] of cases) assert.equal(murmur2(new TextEncoder().encode(s)), h, s);
  // toPositive(murmur2(key)) % partitions, as the default partitioner.
  assert.equal(
    defaultPartition(new TextEncoder().encode("foobar"), 7),
    (-790332482 & 0x7fffffff) % 7,
  );
});
