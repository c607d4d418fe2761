/**
 * The internal topics (`__consumer_offsets`, `__transaction_state`): created with their own
 * partition count and a compacted log whoever triggers the creation (a Metadata request, a
 * client's CreateTopics, a coordinator), never deleted by a client, and checked on start: a
 * deleting cleanup policy is repaired, a partition count other than configured is refused
 * (or, with no record in it, recreated).
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { LogManager } from "../../storage/log_manager.ts";
import { BrokerProcess, decoder, kcat, python, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { waitFor } from "../support/wait.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

/** A simple (memberless) commit of `offset` for group `group` on t-0. */
function commit(c: RawClient, group: string, offset: number): Promise<Msg> {
  return c.call(OffsetCommitRequest, OffsetCommitResponse, 2, {
    groupId: group,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    retentionTimeMs: -1,
    topics: [{
      name: "t",
      partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: "" }],
    }],
  });
}

async function fetchCommitted(c: RawClient, group: string): Promise<number> {
  const r = await c.call(OffsetFetchRequest, OffsetFetchResponse, 1, {
    groupId: group,
    topics: [{ name: "t", partitionIndexes: [0] }],
  });
  assert.equal(r.topics[0].partitions[0].errorCode, 0);
  return r.topics[0].partitions[0].committedOffset;
}

const GROUPS = Array.from({ length: 12 }, (_, i) => `group-${i}`);
const ROUNDS = 20;

Deno.test(
  "kcat -L -t __consumer_offsets on a fresh broker: commits survive segment rolls, " +
    "retention and a restart",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-internal-" });
    // Tiny segments and a 1 ms retention: a deleting policy would drop rolled segments.
    const config = {
      "offsets.topic.num.partitions": 3,
      "offsets.topic.segment.bytes": 400,
      "log.segment.bytes": 400,
      "log.retention.ms": 1,
      "log.retention.check.interval.ms": 3_600_000,
    };
    try {
      const first = await testBroker({ dataDir, keepDir: true, config });
      await first.broker.createTopic("t", 1);
      const meta = decoder.decode(await kcat(first.address, ["-L", "-t", "__consumer_offsets"]));
      assert.match(meta, /topic "__consumer_offsets" with 3 partitions/);
      const t = first.broker.topic("__consumer_offsets")!;
      assert.equal(t.partitions, 3);
      assert.equal(first.broker.logs.topicConfig("__consumer_offsets")!.cleanupPolicy, "compact");
      assert.equal(first.broker.logs.topicConfig("__consumer_offsets")!.segmentBytes, 400);

      const c = await RawClient.connect(first.port);
      for (let round = 1; round <= ROUNDS; round++) {
        for (const g of GROUPS) {
          const r = await commit(c, g, round * 100 + GROUPS.indexOf(g));
          assert.equal(r.topics[0].partitions[0].errorCode, 0);
        }
      }
      c.close();
      let segments = 0;
      for (let p = 0; p < first.broker.topic("__consumer_offsets")!.partitions; p++) {
        segments += [...Deno.readDirSync(`${dataDir}/__consumer_offsets-${p}`)]
          .filter((e) => e.name.endsWith(".log")).length;
      }
      assert.ok(segments > 6, `segments rolled (${segments})`);
      await new Promise((r) => setTimeout(r, 5)); // every closed segment is past 1 ms
      assert.equal(await first.broker.logs.runRetention(), 0);
      await first.close();

      const second = await testBroker({ dataDir, keepDir: true, config });
      try {
        const c2 = await RawClient.connect(second.port);
        for (const g of GROUPS) {
          assert.equal(await fetchCommitted(c2, g), ROUNDS * 100 + GROUPS.indexOf(g), g);
        }
        c2.close();
      } finally {
        await second.close();
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "CreateTopics of an internal topic gets its own settings; CreatePartitions and " +
    "DeleteTopics are refused",
  async () => {
    const b = await testBroker({ config: { "transaction.state.log.num.partitions": 4 } });
    try {
      const create = (topics: Msg[]) =>
        RawClient.once(b.port, CreateTopicsRequest, CreateTopicsResponse, 7, {
          topics,
          timeoutMs: 5000,
          validateOnly: false,
        });
      const topic = (numPartitions: number, configs: Msg[] = []) => ({
        name: "__transaction_state",
        numPartitions,
        replicationFactor: -1,
        assignments: [],
        configs,
      });
      let r = await create([topic(1)]);
      assert.equal(r.topics[0].errorCode, ErrorCode.INVALID_PARTITIONS);
      r = await create([topic(-1, [{ name: "cleanup.policy", value: "delete" }])]);
      assert.equal(r.topics[0].errorCode, ErrorCode.INVALID_CONFIG);
      assert.equal(b.broker.topic("__transaction_state"), undefined);
      r = await create([topic(-1, [{ name: "retention.ms", value: "1000" }])]);
      assert.equal(r.topics[0].errorCode, 0);
      assert.equal(r.topics[0].numPartitions, 4);
      const configs = new Map(r.topics[0].configs.map((c: Msg) => [c.name, c.value]));
      assert.equal(configs.get("cleanup.policy"), "compact");
      assert.equal(configs.get("retention.ms"), "1000");
      assert.equal(b.broker.logs.topicConfig("__transaction_state")!.cleanupPolicy, "compact");

      const g = await RawClient.once(b.port, CreatePartitionsRequest, CreatePartitionsResponse, 3, {
        topics: [{ name: "__transaction_state", count: 8, assignments: null }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.equal(g.results[0].errorCode, ErrorCode.INVALID_PARTITIONS);
      const d = await RawClient.once(b.port, DeleteTopicsRequest, DeleteTopicsResponse, 6, {
        topics: [{ name: "__transaction_state", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
        timeoutMs: 5000,
      });
      assert.equal(d.responses[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
      assert.equal(b.broker.topic("__transaction_state")!.partitions, 4);
    } finally {
      await b.stop();
    }
  },
);

/** A data dir as an older version left it: `__consumer_offsets` as an ordinary topic. */
async function wronglyCreated(partitions: number, records: boolean): Promise<string> {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-internal-" });
  const lm = await LogManager.open(dataDir);
  await lm.createTopic("__consumer_offsets", partitions, { "cleanup.policy": "delete" });
  if (records) {
    await lm.getPartition("__consumer_offsets", 0)!.append(
      encodeRecordBatch({ records: [{ key: "k", value: "v" }] }),
    );
  }
  await lm.close();
  return dataDir;
}

Deno.test(
  "on start a deleting cleanup.policy of __consumer_offsets is repaired",
  async () => {
    const dataDir = await wronglyCreated(2, true);
    try {
      const p = await BrokerProcess.start(dataDir, ["--set", "offsets.topic.num.partitions=2"]);
      try {
        assert.ok(
          p.lines.some((l) =>
            / WARN .*internal topic __consumer_offsets has cleanup.policy=delete.*repairing it to compact/
              .test(l)
          ),
          p.lines.join("\n"),
        );
      } finally {
        assert.equal(await p.kill("SIGTERM"), 0);
      }
      const topics = JSON.parse(Deno.readTextFileSync(`${dataDir}/meta/topics.json`)).topics;
      assert.equal(topics[0].configs["cleanup.policy"], "compact");
      assert.equal(topics[0].partitions, 2);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test(
  "on start an internal topic with records and another partition count is refused",
  async () => {
    const dataDir = await wronglyCreated(1, true);
    try {
      const r = await run(Deno.execPath(), [
        "run",
        "-A",
        CLI,
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--data-dir",
        dataDir,
        "--workers",
        "2",
      ]);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /internal topic __consumer_offsets .* has 1 partition\(s\) but offsets\.topic\.num\.partitions=50.*offsets\.topic\.num\.partitions=1/,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /); // a message, not a stack trace
      const topics = JSON.parse(Deno.readTextFileSync(`${dataDir}/meta/topics.json`)).topics;
      assert.equal(topics[0].partitions, 1); // left as it was
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test(
  "on start an empty internal topic with another partition count is recreated",
  async () => {
    const dataDir = await wronglyCreated(1, false);
    const b = await testBroker({ dataDir, config: { "offsets.topic.num.partitions": 5 } });
    try {
      assert.equal(b.broker.topic("__consumer_offsets")!.partitions, 5);
      assert.equal(b.broker.logs.topicConfig("__consumer_offsets")!.cleanupPolicy, "compact");
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "kcat -L -t __transaction_state on a fresh broker: a timed-out transaction is still " +
    "aborted and the last stable offset moves on",
  async () => {
    const b = await testBroker({
      config: {
        "transaction.state.log.num.partitions": 5,
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": 100,
      },
    });
    try {
      await b.broker.createTopic("t", 1);
      const meta = decoder.decode(await kcat(b.address, ["-L", "-t", "__transaction_state"]));
      assert.match(meta, /topic "__transaction_state" with 5 partitions/);
      assert.equal(b.broker.logs.topicConfig("__transaction_state")!.cleanupPolicy, "compact");
      // A transactional producer writes two records and dies without committing.
      const out = await python(
        `
import os, sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "stuck",
              "transaction.timeout.ms": 5000})
p.init_transactions(30)
p.begin_transaction()
delivered = []
def report(err, msg):
    if err is None:
        delivered.append(msg.offset())
p.produce("t", value=b"a", partition=0, on_delivery=report)
p.produce("t", value=b"b", partition=0, on_delivery=report)
p.flush(30)
print(sorted(delivered))
sys.stdout.flush()
os._exit(0)
`,
        [b.address],
      );
      // Both records were appended inside the transaction before it timed out.
      assert.equal(out.trim(), "[0, 1]");
      const log = b.broker.partition("t", 0)!;
      assert.ok(log.highWatermark >= 2);
      // The coordinator aborts it past its timeout: the marker lands and the LSO moves.
      await waitFor(
        () => `the LSO to reach the high watermark (stuck at ${log.lastStableOffset})`,
        () => log.lastStableOffset >= log.highWatermark,
      );
      assert.equal(log.highWatermark, 3); // two records and the abort marker
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "with workers, a Metadata request on any worker creates __consumer_offsets as internal",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-internal-" });
    try {
      const p = await BrokerProcess.start(dataDir, ["--set", "offsets.topic.num.partitions=3"]);
      try {
        // Several connections: SO_REUSEPORT spreads them over both workers.
        for (let i = 0; i < 4; i++) {
          const meta = decoder.decode(await kcat(p.address, ["-L", "-t", "__consumer_offsets"]));
          assert.match(meta, /topic "__consumer_offsets" with 3 partitions/);
        }
      } finally {
        assert.equal(await p.kill("SIGTERM"), 0);
      }
      const topics = JSON.parse(Deno.readTextFileSync(`${dataDir}/meta/topics.json`)).topics;
      assert.deepEqual(
        topics.map((t: Msg) => [t.name, t.partitions, t.configs["cleanup.policy"]]),
        [
          ["__consumer_offsets", 3, "compact"],
        ],
      );
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);
