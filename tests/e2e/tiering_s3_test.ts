/**
 * Tiered storage end to end against a real S3-compatible server (s3rver) on 127.0.0.1:
 * kcat produces across many small segments, they move to the bucket and leave the local disk,
 * and kcat reads every byte back from offset 0; an object-store outage and a kill -9 during
 * an upload lose nothing.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { ListOffsetsRequest, ListOffsetsResponse } from "../../protocol/messages/mod.ts";
import { S3Client } from "../../storage/s3_client.ts";
import { BrokerProcess, decoder, kcat, testBroker } from "../support/helpers.ts";
import {
  S3_ACCESS_KEY,
  S3_SECRET_KEY,
  S3TestServer,
  useTestCredentials,
} from "../support/s3_server.ts";
import { RawClient } from "../support/raw_client.ts";
import { waitFor } from "../support/wait.ts";

function tieringConfig(s3: S3TestServer, prefix: string): Record<string, string> {
  return {
    "remote.log.storage.system.enable": "true",
    "remote.log.storage.uri": `s3://${s3.bucket}/${prefix}`,
    "remote.log.storage.s3.endpoint": s3.endpoint,
    "remote.log.storage.s3.request.timeout.ms": "3000",
    "remote.log.manager.task.interval.ms": "50",
    "remote.log.manager.task.retry.backoff.ms": "50",
    "remote.log.manager.task.retry.backoff.max.ms": "300",
    "log.retention.check.interval.ms": "100",
  };
}

const TOPIC_CONFIGS: [string, string][] = [
  ["remote.storage.enable", "true"],
  ["segment.bytes", "8192"],
  ["local.retention.bytes", "0"],
];

function lines(from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(`key-${i}\tvalue-${i}-${"x".repeat(i % 40)}`);
  return out;
}

async function produce(address: string, topic: string, ls: string[]): Promise<void> {
  await kcat(address, [
    "-P",
    "-t",
    topic,
    "-p",
    "0",
    "-K",
    "\t",
    "-X",
    "linger.ms=5",
    "-X",
    "batch.size=4096",
  ], {
    stdin: ls.join("\n") + "\n",
    timeoutMs: 60_000,
  });
}

async function consume(address: string, topic: string, from: string): Promise<string[]> {
  const out = decoder.decode(
    await kcat(address, ["-C", "-t", topic, "-p", "0", "-o", from, "-e", "-f", "%o\t%k\t%s\n"], {
      timeoutMs: 90_000,
    }),
  );
  return out.split("\n").filter((l) => l);
}

function expectExact(got: string[], want: string[], first = 0): void {
  assert.equal(got.length, want.length, "record count");
  for (let i = 0; i < want.length; i++) assert.equal(got[i], `${first + i}\t${want[i]}`);
}

/** ListOffsets v3 (what kafkajs sends), for the KIP-405/1005 special timestamps. */
async function listOffset(port: number, topic: string, timestamp: number): Promise<number> {
  const r = await RawClient.once(port, ListOffsetsRequest, ListOffsetsResponse, 3, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }],
  });
  return Number(r.topics[0].partitions[0].offset);
}

function bucket(s3: S3TestServer): S3Client {
  return new S3Client({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    accessKeyId: S3_ACCESS_KEY,
    secretAccessKey: S3_SECRET_KEY,
  });
}

Deno.test(
  "segments move to S3, local copies go, kcat reads every byte from offset 0",
  async () => {
    useTestCredentials();
    const s3 = await S3TestServer.start();
    const b = await testBroker({ config: tieringConfig(s3, "e2e-a") });
    try {
      await b.broker.createTopic("cold", 1, TOPIC_CONFIGS);
      const want = lines(0, 6000);
      await produce(b.address, "cold", want);
      const log = b.broker.partition("cold", 0)!;
      await waitFor("tiering", () =>
        log.localSegmentCount === 1 && log.remoteSegmentCount >= 20 &&
        log.highestOffsetInRemoteStorage === log.localLogStartOffset - 1);
      const objects = await bucket(s3).list("e2e-a/");
      const logs = objects.filter((o) => o.key.endsWith(".log"));
      assert.equal(logs.length, log.remoteSegmentCount, "one .log object per tiered segment");
      assert.equal(objects.length, 3 * logs.length, "with its .index and .timeindex");
      assert.equal(logs.reduce((n, o) => n + o.size, 0), log.remoteBytes);
      assert.ok(log.localLogStartOffset > 5000 && log.logStartOffset === 0);
      assert.equal(await listOffset(b.port, "cold", -2), 0, "earliest");
      assert.equal(await listOffset(b.port, "cold", -4), log.localLogStartOffset, "earliest local");
      assert.equal(
        await listOffset(b.port, "cold", -5),
        log.localLogStartOffset - 1,
        "latest tiered",
      );

      expectExact(await consume(b.address, "cold", "beginning"), want);
      // ListOffsets by timestamp on a record that only the bucket holds.
      const first = decoder.decode(
        await kcat(b.address, ["-C", "-t", "cold", "-p", "0", "-o", "100", "-c", "1", "-f", "%T"]),
      );
      const q = decoder.decode(await kcat(b.address, ["-Q", "-t", `cold:0:${first}`]));
      assert.match(q, /offset \d+/);
      assert.ok(Number(/offset (\d+)/.exec(q)![1]) <= 100);
    } finally {
      await b.stop();
      await s3.stop();
    }
  },
);

Deno.test(
  "object store down: hot traffic goes on, nothing is deleted untiered, uploads catch up",
  async () => {
    useTestCredentials();
    const s3 = await S3TestServer.start();
    const b = await testBroker({ config: tieringConfig(s3, "e2e-b") });
    try {
      await b.broker.createTopic("flaky", 1, TOPIC_CONFIGS);
      const log = b.broker.partition("flaky", 0)!;
      const want = lines(0, 2000);
      await produce(b.address, "flaky", want);
      await waitFor(
        "first tiering",
        () => log.localSegmentCount === 1 && log.remoteSegmentCount > 0,
      );

      await s3.pause();
      const tiered = log.highestOffsetInRemoteStorage;
      const more = lines(2000, 4000);
      await produce(b.address, "flaky", more); // producers keep working
      expectExact(await consume(b.address, "flaky", "2000"), more, 2000); // hot consumers too
      const failures = b.broker.logs.remoteLogManager.stats.failures;
      await waitFor(
        "several failed attempts",
        () => b.broker.logs.remoteLogManager.stats.failures >= failures + 3,
      );
      assert.equal(log.highestOffsetInRemoteStorage, tiered, "nothing tiered while down");
      assert.ok(log.localSegmentCount > 5, "untiered segments stay local");
      assert.equal(log.localLogStartOffset, tiered + 1);
      const status = b.broker.logs.remoteLogManager.status().find((s) => s.topic === "flaky")!;
      assert.ok(status.failures > 0, JSON.stringify(status));

      await s3.resume();
      await waitFor("catch-up", () =>
        log.localSegmentCount === 1 &&
        log.highestOffsetInRemoteStorage === log.localLogStartOffset - 1);
      expectExact(await consume(b.address, "flaky", "beginning"), [...want, ...more]);
    } finally {
      await b.stop();
      await s3.stop();
    }
  },
);

/** A proxy in front of the S3 server that holds every PUT for `delayMs` (a slow store). */
function slowProxy(target: () => string) {
  const state = { delayMs: 400, putsInFlight: 0, putsDone: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.method === "PUT" ? new Uint8Array(await req.arrayBuffer()) : undefined;
    if (req.method === "PUT") {
      state.putsInFlight++;
      await new Promise((r) => setTimeout(r, state.delayMs));
    }
    try {
      const headers = new Headers(req.headers);
      headers.delete("host");
      const res = await fetch(`${target()}${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        body,
      });
      const empty = req.method === "HEAD" || res.status === 204 || res.status === 304;
      return new Response(empty ? null : await res.arrayBuffer(), {
        status: res.status,
        headers: res.headers,
      });
    } finally {
      if (req.method === "PUT") {
        state.putsInFlight--;
        state.putsDone++;
      }
    }
  });
  return { state, server, endpoint: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test(
  "kill -9 during an upload: after restart the tier is consistent and nothing is lost",
  async () => {
    useTestCredentials();
    const s3 = await S3TestServer.start();
    const proxy = slowProxy(() => s3.endpoint);
    const dataDir = await Deno.makeTempDir({ prefix: "tier-kill-" });
    const sets = (endpoint: string) =>
      Object.entries({
        ...tieringConfig(s3, "e2e-c"),
        "remote.log.storage.s3.endpoint": endpoint,
      }).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    let p = await BrokerProcess.start(dataDir, sets(proxy.endpoint));
    try {
      const kafka = new Kafka({ brokers: [p.address], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [{
          topic: "crashy",
          numPartitions: 1,
          configEntries: TOPIC_CONFIGS.map(([name, value]) => ({ name, value })),
        }],
      });
      await admin.disconnect();
      const want = lines(0, 3000);
      await produce(p.address, "crashy", want);
      // Kill while a PUT is held by the proxy, after some uploads went through.
      await waitFor(
        "an upload in flight",
        () => proxy.state.putsDone >= 6 && proxy.state.putsInFlight > 0,
      );
      await p.kill("SIGKILL");
      await new Promise((r) => setTimeout(r, proxy.state.delayMs + 200)); // the held PUT lands

      const metaPath = `${dataDir}/crashy-0/remote_log_segment_metadata.json`;
      const crashed = JSON.parse(await Deno.readTextFile(metaPath)) as {
        segments: { segmentId: string; state: string }[];
      };
      const unfinished = crashed.segments.filter((s) => s.state === "COPY_SEGMENT_STARTED");
      assert.equal(unfinished.length, 1, "the kill landed mid-upload");
      const landed = await bucket(s3).list("e2e-c/");
      assert.ok(landed.some((o) => o.key.includes(unfinished[0].segmentId)), "a partial upload");

      proxy.state.delayMs = 0;
      p = await BrokerProcess.start(dataDir, sets(proxy.endpoint));
      const consistent = async () => {
        const meta = JSON.parse(await Deno.readTextFile(metaPath)) as {
          segments: { segmentId: string; state: string }[];
        };
        if (meta.segments.some((s) => s.state !== "COPY_SEGMENT_FINISHED")) return false;
        const objects = await bucket(s3).list("e2e-c/");
        const ids = new Set(objects.map((o) => /-([A-Za-z0-9_-]{22})\.\w+$/.exec(o.key)![1]));
        const finished = new Set(meta.segments.map((s) => s.segmentId));
        return objects.length === 3 * finished.size && [...ids].every((id) => finished.has(id));
      };
      await waitFor("a consistent tier (no orphans, no unfinished copies)", consistent);
      expectExact(await consume(p.address, "crashy", "beginning"), want);
    } finally {
      await p.kill("SIGKILL");
      await proxy.server.shutdown();
      await s3.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
