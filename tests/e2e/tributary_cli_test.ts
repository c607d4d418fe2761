/**
 * The `tributary` command-line tool, run as a real child process (`deno run src/tool/main.ts`,
 * and once through `deno task tributary`) against real brokers, cross-checked with kcat.
 * Consumer-group commands: tests/e2e/tributary_cli_groups_test.ts.
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import {
  FetchRequest,
  FetchResponse,
  MetadataRequest,
  MetadataResponse,
} from "../../protocol/messages/mod.ts";
import { murmur2 } from "../../src/client/partitioner.ts";
import { decoder, kcat, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { bs, ok, ROOT, tool } from "../support/tributary_tool.ts";

Deno.test("tributary: --version and --help", async () => {
  assert.equal(await ok(["--version"]), `tributary ${denoJson.version}\n`);
  assert.equal(await ok(["consume", "--version"]), `tributary ${denoJson.version}\n`);
  for (const c of ["topic", "produce", "consume", "group", "cluster"]) {
    assert.match(await ok([c, "--help"]), new RegExp(`^Usage: tributary ${c}`));
  }
  const bad = await tool(["consume", "--bogus"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Unknown option '--bogus'/);
  assert.match(bad.err, /tributary consume --help/);
  const unknown = await tool(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command 'frobnicate'/);
});

Deno.test("tributary: the acceptance round trip through deno task", async () => {
  const b = await testBroker();
  try {
    const task = (args: string[], stdin?: string) =>
      run(Deno.execPath(), ["task", "--cwd", ROOT, "-q", "tributary", ...args], { stdin });
    const p = await task(["produce", ...bs(b.address), "--topic", "t"], "a\nb\n");
    assert.equal(p.code, 0, p.stderr);
    const c = await task([
      "consume",
      ...bs(b.address),
      "--topic",
      "t",
      "--from-beginning",
      "--max-messages",
      "2",
    ]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(decoder.decode(c.stdout), "a\nb\n");
    assert.match(c.stderr, /Processed a total of 2 messages/);
  } finally {
    await b.stop();
  }
});

Deno.test("tributary: topic create, list, describe, alter-config, add-partitions, delete", async () => {
  const b = await testBroker();
  try {
    const a = bs(b.address);
    assert.equal(
      await ok([
        "topic",
        "create",
        ...a,
        "--topic",
        "life",
        "--partitions",
        "3",
        "--replication-factor",
        "1",
        "--config",
        "retention.ms=86400000",
      ]),
      "Created topic life.\n",
    );
    const dup = await tool(["topic", "create", ...a, "--topic", "life"]);
    assert.equal(dup.code, 1);
    assert.match(dup.err, /^Error: TOPIC_ALREADY_EXISTS/);
    assert.equal(await ok(["topic", "create", ...a, "--topic", "life", "--if-not-exists"]), "");
    assert.equal(await ok(["topic", "list", ...a]), "life\n");

    const md = await RawClient.once(b.port, MetadataRequest, MetadataResponse, 12, {
      topics: [{ name: "life", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const id = md.topics[0].topicId;
    const partLine = (p: number) =>
      `\tTopic: life\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1\n`;
    assert.equal(
      await ok(["topic", "describe", ...a, "--topic", "life"]),
      `Topic: life\tTopicId: ${id}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=86400000\n` +
        partLine(0) + partLine(1) + partLine(2),
    );

    assert.equal(
      await ok([
        "topic",
        "alter-config",
        ...a,
        "--topic",
        "life",
        "--config",
        "cleanup.policy=compact",
        "--delete-config",
        "retention.ms",
      ]),
      "Completed updating config for topic life.\n",
    );
    assert.equal(
      await ok(["topic", "add-partitions", ...a, "--topic", "life", "--partitions", "4"]),
      "Topic life now has 4 partitions.\n",
    );
    assert.equal(
      await ok(["topic", "describe", ...a, "--topic", "life"]),
      `Topic: life\tTopicId: ${id}\tPartitionCount: 4\tReplicationFactor: 1\tConfigs: cleanup.policy=compact\n` +
        partLine(0) + partLine(1) + partLine(2) + partLine(3),
    );
    const shrink = await tool([
      "topic",
      "add-partitions",
      ...a,
      "--topic",
      "life",
      "--partitions",
      "2",
    ]);
    assert.equal(shrink.code, 1);
    assert.match(shrink.err, /^Error: INVALID_PARTITIONS/);

    assert.equal(await ok(["topic", "delete", ...a, "--topic", "life"]), "Deleted topic life.\n");
    assert.equal(await ok(["topic", "list", ...a]), "");
    const gone = await tool(["topic", "describe", ...a, "--topic", "life"]);
    assert.equal(gone.code, 1);
    assert.equal(gone.err, "Error: UNKNOWN_TOPIC_OR_PARTITION: topic 'life' does not exist\n");
    assert.equal(await ok(["topic", "delete", ...a, "--topic", "life", "--if-exists"]), "");
  } finally {
    await b.stop();
  }
});

Deno.test("tributary: keys, headers and partitions round trip, printed as Kafka's formatter does", async () => {
  const b = await testBroker();
  try {
    const a = bs(b.address);
    await ok(["topic", "create", ...a, "--topic", "kh", "--partitions", "3"]);
    await ok(
      [
        "produce",
        ...a,
        "--topic",
        "kh",
        "--partition",
        "2",
        "--property",
        "parse.key=true",
        "--property",
        "key.separator=:",
        "--property",
        "parse.headers=true",
        "--property",
        "headers.delimiter=|",
        "--property",
        "null.marker=NULL",
      ],
      "h1:v1,h2:v2|k1:one\nNULL|k2:two:with:colons\nh3:NULL|NULL:NULL\n",
    );
    const printed = await ok([
      "consume",
      ...a,
      "--topic",
      "kh",
      "--partition",
      "2",
      "--offset",
      "earliest",
      "--max-messages",
      "3",
      "--property",
      "print.key=true",
      "--property",
      "print.headers=true",
      "--property",
      "print.partition=true",
      "--property",
      "print.offset=true",
      "--property",
      "key.separator=|",
    ]);
    assert.equal(
      printed,
      "Partition:2|Offset:0|h1:v1,h2:v2|k1|one\n" +
        "Partition:2|Offset:1|NO_HEADERS|k2|two:with:colons\n" +
        "Partition:2|Offset:2|h3:null|null|null\n",
    );
    // --offset N starts exactly there; print.timestamp shows CreateTime.
    const one = await ok([
      "consume",
      ...a,
      "--topic",
      "kh",
      "--partition",
      "2",
      "--offset",
      "1",
      "--max-messages",
      "1",
      "--property",
      "print.timestamp=true",
    ]);
    assert.match(one, /^CreateTime:\d{13}\ttwo:with:colons\n$/);
    // A line without its key separator fails with Kafka's message and a non-zero exit.
    const bad = await tool(
      ["produce", ...a, "--topic", "kh", "--property", "parse.key=true"],
      "no-separator\n",
    );
    assert.equal(bad.code, 1);
    assert.equal(bad.err, "Error: No key separator found on line number 1: 'no-separator'\n");
  } finally {
    await b.stop();
  }
});

Deno.test("tributary: --formatter json prints one object per record", async () => {
  const b = await testBroker();
  try {
    const a = bs(b.address);
    await ok(["topic", "create", ...a, "--topic", "js", "--partitions", "1"]);
    await ok(
      [
        "produce",
        ...a,
        "--topic",
        "js",
        "--property",
        "parse.key=true",
        "--property",
        "parse.headers=true",
      ],
      'app:cli\tk\t{"n":1}\nx:\t\tplain\n',
    );
    const lines = (await ok([
      "consume",
      ...a,
      "--topic",
      "js",
      "--from-beginning",
      "--max-messages",
      "2",
      "--format",
      "json",
    ])).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.equal(typeof lines[0].timestamp, "number");
    assert.deepEqual(lines.map((l) => ({ ...l, timestamp: 0 })), [
      {
        topic: "js",
        partition: 0,
        offset: 0,
        timestamp: 0,
        timestampType: "CreateTime",
        key: "k",
        value: '{"n":1}',
        headers: [{ key: "app", value: "cli" }],
      },
      {
        topic: "js",
        partition: 0,
        offset: 1,
        timestamp: 0,
        timestampType: "CreateTime",
        key: "",
        value: "plain",
        headers: [{ key: "x", value: "" }],
      },
    ]);
  } finally {
    await b.stop();
  }
});

Deno.test("tributary: murmur2 matches Kafka's Utils.murmur2 test vectors", () => {
  const e = new TextEncoder();
  assert.equal(murmur2(e.encode("21")), -973932308);
  assert.equal(murmur2(e.encode("foobar")), -790332482);
  assert.equal(murmur2(e.encode("a-little-bit-long-string")), -985981536);
  assert.equal(murmur2(e.encode("a-little-bit-longer-string")), -1486304829);
  assert.equal(
    murmur2(e.encode("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")),
    -58897971,
  );
  assert.equal(murmur2(new Uint8Array([97, 98, 99])), 479470107);
});

Deno.test("tributary: kcat reads what the tool wrote and the reverse, exactly", async () => {
  const b = await testBroker();
  try {
    const a = bs(b.address);
    await ok(["topic", "create", ...a, "--topic", "x1", "--partitions", "4"]);
    await ok(["topic", "create", ...a, "--topic", "x2", "--partitions", "4"]);
    const keys = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
    // Keyed records land where librdkafka's murmur2 partitioner (the Java default) puts them.
    await ok(
      [
        "produce",
        ...a,
        "--topic",
        "x1",
        "--property",
        "parse.key=true",
        "--property",
        "parse.headers=true",
      ],
      keys.map((k, i) => `n:${i}\t${k}\tv${i}\n`).join(""),
    );
    await kcat(
      b.address,
      ["-P", "-t", "x2", "-K", "\t", "-X", "topic.partitioner=murmur2_random"],
      {
        stdin: keys.map((k, i) => `${k}\tv${i}\n`).join(""),
      },
    );
    const fmt = ["-f", "%k|%s|%h|%p\n"];
    const mine = decoder.decode(await kcat(b.address, ["-C", "-t", "x1", "-e", "-q", ...fmt]));
    const theirs = decoder.decode(await kcat(b.address, ["-C", "-t", "x2", "-e", "-q", ...fmt]));
    const sortLines = (s: string) => s.trimEnd().split("\n").sort();
    assert.deepEqual(
      sortLines(mine),
      keys.map((k, i) =>
        `${k}|v${i}|n=${i}|${(murmur2(new TextEncoder().encode(k)) & 0x7fffffff) % 4}`
      )
        .sort(),
    );
    assert.deepEqual(
      sortLines(theirs).map((l) => l.replace(/\|\|/, "|")),
      sortLines(mine).map((l) => l.replace(/\|n=\d+\|/, "|")),
    );

    // The reverse: kcat writes keys and headers, the tool prints them.
    await kcat(b.address, ["-P", "-t", "x3", "-p", "0", "-K", ":", "-H", "h1=v1", "-H", "h2=v2"], {
      stdin: "k1:one\nk2:two\n",
    });
    assert.equal(
      await ok([
        "consume",
        ...a,
        "--topic",
        "x3",
        "--from-beginning",
        "--max-messages",
        "2",
        "--property",
        "print.key=true",
        "--property",
        "print.headers=true",
        "--property",
        "print.offset=true",
      ]),
      "Offset:0\th1:v1,h2:v2\tk1\tone\nOffset:1\th1:v1,h2:v2\tk2\ttwo\n",
    );
  } finally {
    await b.stop();
  }
});

Deno.test("tributary: cluster info names the cluster, brokers and ApiVersions", async () => {
  const b = await testBroker();
  try {
    const text = await ok(["cluster", "info", ...bs(b.address)]);
    const md = await RawClient.once(b.port, MetadataRequest, MetadataResponse, 12, {
      topics: [],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.ok(
      text.startsWith(
        `Cluster ID: ${md.clusterId}\nController: ${md.controllerId}\nBrokers:\n  1\t${b.address}\n` +
          `ApiVersions of ${b.address}:\n`,
      ),
      text,
    );
    assert.match(text, /\n {2}Produce +0 +0-11 +0-11 +11\n/);
    assert.match(text, /\n {2}ApiVersions +18 +0-4 +0-4 +4\n/);
  } finally {
    await b.stop();
  }
});

Deno.test("tributary: actionable errors for unknown topics and unreachable brokers", async () => {
  const b = await testBroker();
  try {
    const c = await tool(["consume", ...bs(b.address), "--topic", "nope", "--max-messages", "1"]);
    assert.equal(c.code, 1);
    assert.equal(c.err, "Error: UNKNOWN_TOPIC_OR_PARTITION: topic 'nope' does not exist\n");
    assert.equal(c.out, "");
    const g = await tool(["group", "describe", ...bs(b.address), "--group", "nobody"]);
    assert.equal(g.code, 1);
    assert.match(g.err, /^Error: GROUP_ID_NOT_FOUND/);
  } finally {
    await b.stop();
  }
  // A port nothing listens on: the stopped broker's.
  const gone = await tool(["topic", "list", ...bs(b.address)]);
  assert.equal(gone.code, 1);
  assert.match(gone.err, new RegExp(`^Error: cannot connect to broker ${b.address}: `));
  assert.doesNotMatch(gone.err, /\bat \S+\.ts:\d+/);
});

Deno.test("tributary: --timeout-ms ends a consume with no more records", async () => {
  const b = await testBroker();
  try {
    await ok(["produce", ...bs(b.address), "--topic", "to"], "only\n");
    const r = await tool([
      "consume",
      ...bs(b.address),
      "--topic",
      "to",
      "--from-beginning",
      "--timeout-ms",
      "1000",
    ]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "only\n");
    assert.match(r.err, /Processed a total of 1 messages/);
  } finally {
    await b.stop();
  }
});

Deno.test("tributary: compressed produce (every codec) and acks=0 read back by kcat", async () => {
  const b = await testBroker();
  try {
    const a = bs(b.address);
    const codecs = ["gzip", "snappy", "lz4", "zstd"];
    for (const [i, codec] of codecs.entries()) {
      const topic = `z-${codec}`;
      await ok(["topic", "create", ...a, "--topic", topic, "--partitions", "1"]);
      await ok(
        ["produce", ...a, "--topic", topic, "--compression-codec", codec],
        "repeat repeat repeat\n".repeat(20) + "last\n",
      );
      // The stored batch carries the codec in its attributes.
      const f = await RawClient.once(b.port, FetchRequest, FetchResponse, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{
          topic,
          partitions: [{
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 0,
            logStartOffset: -1,
            partitionMaxBytes: 1 << 20,
          }],
        }],
        forgottenTopicsData: [],
        rackId: "",
      });
      const records: Uint8Array = f.responses[0].partitions[0].records;
      assert.equal(new DataView(records.buffer, records.byteOffset).getInt16(21) & 7, i + 1);
      const read = decoder.decode(await kcat(b.address, ["-C", "-t", topic, "-e", "-q"]));
      assert.equal(read, "repeat repeat repeat\n".repeat(20) + "last\n");
    }
    await ok(["produce", ...a, "--topic", "fire", "--acks", "0"], "x\ny\n");
    assert.equal(
      decoder.decode(
        await kcat(b.address, ["-C", "-t", "fire", "-c", "2", "-q", "-f", "%p:%o:%s\n"]),
      ),
      "0:0:x\n0:1:y\n",
    );
  } finally {
    await b.stop();
  }
});

Deno.test("tributary: a 3 MB --file round trip arrives whole and in order", async () => {
  const b = await testBroker();
  const dir = await Deno.makeTempDir({ prefix: "tributary-cli-file-" });
  try {
    const a = bs(b.address);
    const lines = Array.from({ length: 30_000 }, (_, i) => `line-${i}-` + "x".repeat(90));
    const text = lines.join("\n") + "\n";
    await Deno.writeTextFile(`${dir}/in.txt`, text);
    await ok(["produce", ...a, "--topic", "big", "--partition", "0", "--file", `${dir}/in.txt`]);
    const read = await ok([
      "consume",
      ...a,
      "--topic",
      "big",
      "--from-beginning",
      "--max-messages",
      String(lines.length),
    ]);
    assert.equal(read.length, text.length);
    assert.ok(read === text, "consumed text differs from the file");
    const missing = await tool(["produce", ...a, "--topic", "big", "--file", `${dir}/nope.txt`]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read --file .*nope\.txt/);
  } finally {
    await b.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
