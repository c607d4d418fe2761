/**
 * The `tributary` command-line tool, run as a real child process (`deno run src/tool/main.ts`,
 * and once through `deno task tributary`) against real brokers, cross-checked with kcat.
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import {
  FetchRequest,
  FetchResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import { murmur2 } from "../src/client/partitioner.ts";
import { BrokerProcess, decoder, kcat, run, testBroker } from "./helpers.ts";
import { RawClient } from "./raw_client.ts";

const MAIN = new URL("../src/tool/main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

interface ToolResult {
  code: number;
  out: string;
  err: string;
}

async function tool(args: string[], stdin?: string): Promise<ToolResult> {
  const r = await run(Deno.execPath(), ["run", "-A", "--quiet", MAIN, ...args], {
    stdin,
    timeoutMs: 60_000,
  });
  return { code: r.code, out: decoder.decode(r.stdout), err: r.stderr };
}

/** Runs the tool and fails the test with its stderr unless it exits 0. */
async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await tool(args, stdin);
  assert.equal(r.code, 0, `tributary ${args.join(" ")} exited ${r.code}: ${r.err}`);
  return r.out;
}

const bs = (address: string) => ["--bootstrap-server", address];

/** The tool running in the background: its stdout line by line, and signals. */
class Background {
  private readonly child: Deno.ChildProcess;
  private readonly lines: AsyncIterator<string>;
  readonly stderr: Promise<string>;

  constructor(args: string[]) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.stderr = new Response(this.child.stderr).text();
    const text = this.child.stdout.pipeThrough(new TextDecoderStream());
    this.lines = (async function* () {
      let buf = "";
      for await (const chunk of text) {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          yield buf.slice(0, i);
          buf = buf.slice(i + 1);
        }
      }
    })();
  }

  async nextLine(): Promise<string | undefined> {
    return (await this.lines.next()).value;
  }

  kill(signal: Deno.Signal): void {
    this.child.kill(signal);
  }

  /** Kills it if it still runs (a failed test must not leave it behind). */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.child.status;
    await this.stderr.catch(() => "");
  }

  get status(): Promise<Deno.CommandStatus> {
    return this.child.status;
  }
}

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

Deno.test("tributary: group consume commits what it printed; describe lag; reset-offsets (2 workers)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tributary-cli-" });
  const b = await BrokerProcess.start(dir);
  try {
    const a = bs(b.address);
    await ok(["topic", "create", ...a, "--topic", "gt", "--partitions", "2"]);
    await ok(["produce", ...a, "--topic", "gt", "--partition", "0"], "a\nb\nc\nd\ne\n");
    await ok(["produce", ...a, "--topic", "gt", "--partition", "1"], "f\ng\nh\n");
    // A fresh group from the beginning stops after 3 records of partition 0 or 1.
    const first = await tool([
      "consume",
      ...a,
      "--topic",
      "gt",
      "--group",
      "g",
      "--from-beginning",
      "--max-messages",
      "6",
    ]);
    assert.equal(first.code, 0, first.err);
    const got = first.out.trimEnd().split("\n");
    assert.equal(got.length, 6);
    // Each partition's records come in order; 6 of 8 were printed.
    const p0 = got.filter((v) => "abcde".includes(v));
    const p1 = got.filter((v) => "fgh".includes(v));
    assert.deepEqual(p0, ["a", "b", "c", "d", "e"].slice(0, p0.length));
    assert.deepEqual(p1, ["f", "g", "h"].slice(0, p1.length));
    const describe = await tool(["group", "describe", ...a, "--group", "g"]);
    assert.equal(describe.code, 0, describe.err);
    assert.match(describe.err, /Consumer group 'g' has no active members\./);
    const rows = describe.out.trimEnd().split("\n").map((l) => l.split(/\s+/));
    assert.deepEqual(rows[0], [
      "GROUP",
      "TOPIC",
      "PARTITION",
      "CURRENT-OFFSET",
      "LOG-END-OFFSET",
      "LAG",
      "CONSUMER-ID",
      "HOST",
      "CLIENT-ID",
    ]);
    assert.deepEqual(rows.slice(1), [
      ["g", "gt", "0", String(p0.length), "5", String(5 - p0.length), "-", "-", "-"],
      ["g", "gt", "1", String(p1.length), "3", String(3 - p1.length), "-", "-", "-"],
    ]);

    // The group resumes where it committed.
    const rest = await ok([
      "consume",
      ...a,
      "--topic",
      "gt",
      "--group",
      "g",
      "--max-messages",
      "2",
    ]);
    assert.deepEqual(
      rest.trimEnd().split("\n").sort(),
      [...["a", "b", "c", "d", "e"].slice(p0.length), ...["f", "g", "h"].slice(p1.length)].sort(),
    );

    // Dry run: the plan, nothing committed.
    const dry = await ok([
      "group",
      "reset-offsets",
      ...a,
      "--group",
      "g",
      "--topic",
      "gt:0",
      "--to-offset",
      "1",
      "--dry-run",
    ]);
    assert.deepEqual(dry.trimEnd().split("\n").map((l) => l.split(/\s+/)), [
      ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
      ["g", "gt", "0", "1"],
    ]);
    const lagOf = async () =>
      (await ok(["group", "describe", ...a, "--group", "g"])).trimEnd().split("\n").slice(1)
        .map((l) => l.split(/\s+/).slice(2, 6));
    assert.deepEqual(await lagOf(), [["0", "5", "5", "0"], ["1", "3", "3", "0"]]);

    // Execute: shift partition 1 back by 2 and partition 0 to earliest.
    const shift = await ok([
      "group",
      "reset-offsets",
      ...a,
      "--group",
      "g",
      "--topic",
      "gt:1",
      "--shift-by",
      "-2",
      "--execute",
    ]);
    assert.deepEqual(shift.trimEnd().split("\n")[1].split(/\s+/), ["g", "gt", "1", "1"]);
    const early = await ok([
      "group",
      "reset-offsets",
      ...a,
      "--group",
      "g",
      "--topic",
      "gt:0",
      "--to-earliest",
      "--execute",
    ]);
    assert.deepEqual(early.trimEnd().split("\n")[1].split(/\s+/), ["g", "gt", "0", "0"]);
    assert.deepEqual(await lagOf(), [["0", "0", "5", "5"], ["1", "1", "3", "2"]]);
    // --to-offset past the end is clamped to the log end offset, as Kafka does.
    const clamped = await tool([
      "group",
      "reset-offsets",
      ...a,
      "--group",
      "g",
      "--topic",
      "gt:1",
      "--to-offset",
      "99",
      "--dry-run",
    ]);
    assert.equal(clamped.code, 0, clamped.err);
    assert.deepEqual(clamped.out.trimEnd().split("\n")[1].split(/\s+/), ["g", "gt", "1", "3"]);
    assert.match(clamped.err, /New offset \(99\) is higher than latest offset/);

    assert.equal(await ok(["group", "list", ...a]), "g\n");
    assert.equal(
      await ok(["group", "delete", ...a, "--group", "g"]),
      "Deletion of requested consumer groups ('g') was successful.\n",
    );
    assert.equal(await ok(["group", "list", ...a]), "");
  } finally {
    await b.kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
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

Deno.test("tributary: a live group member shows in describe, blocks reset-offsets, commits on SIGINT", async () => {
  const b = await testBroker();
  let consumer: Background | undefined;
  try {
    const a = bs(b.address);
    await ok(["topic", "create", ...a, "--topic", "live", "--partitions", "1"]);
    await ok(["produce", ...a, "--topic", "live"], "one\ntwo\n");
    consumer = new Background([
      "consume",
      ...a,
      "--topic",
      "live",
      "--group",
      "lg",
      "--from-beginning",
    ]);
    assert.equal(await consumer.nextLine(), "one");
    assert.equal(await consumer.nextLine(), "two");
    const described = (await ok(["group", "describe", ...a, "--group", "lg", "--members"]))
      .trimEnd().split("\n").map((l) => l.split(/\s+/));
    assert.equal(described.length, 2);
    assert.deepEqual(
      [described[1][0], described[1][3], described[1][4]],
      ["lg", "tributary-cli", "1"],
    );
    const state = (await ok(["group", "describe", ...a, "--group", "lg", "--state"]))
      .trimEnd().split("\n")[1].split(/\s+/);
    assert.deepEqual(state, ["lg", "(1)", "range", "Stable", "1"]);
    const refused = await tool([
      "group",
      "reset-offsets",
      ...a,
      "--group",
      "lg",
      "--topic",
      "live",
      "--to-earliest",
      "--execute",
    ]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.err,
      "Error: NON_EMPTY_GROUP: Assignments can only be reset if the group 'lg' is inactive, but the current state is Stable.\n",
    );
    // Ctrl-C: the consumer commits what it printed, leaves the group and exits 0.
    await ok(["produce", ...a, "--topic", "live"], "three\n");
    assert.equal(await consumer.nextLine(), "three");
    consumer.kill("SIGINT");
    assert.equal((await consumer.status).code, 0);
    assert.match(await consumer.stderr, /Processed a total of 3 messages/);
    const after = (await ok(["group", "describe", ...a, "--group", "lg"])).trimEnd().split("\n")
      .slice(1).map((l) => l.split(/\s+/).slice(0, 6));
    assert.deepEqual(after, [["lg", "live", "0", "3", "3", "0"]]);
  } finally {
    await consumer?.stop();
    await b.stop();
  }
});

Deno.test("tributary: --from-timestamp and reset-offsets --to-datetime find offsets by time", async () => {
  const b = await testBroker();
  try {
    const a = bs(b.address);
    await ok(["topic", "create", ...a, "--topic", "tt", "--partitions", "1"]);
    // Records stamped 1 s, 2 s and 3 s after the epoch.
    const c = await RawClient.connect(b.port);
    try {
      const r = await c.call(ProduceRequest, ProduceResponse, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{
          name: "tt",
          partitionData: [{
            index: 0,
            records: encodeRecordBatch({
              records: [1000, 2000, 3000].map((t) => ({ value: `at${t}`, timestamp: t })),
            }),
          }],
        }],
      });
      assert.equal(r.responses[0].partitionResponses[0].errorCode, 0);
    } finally {
      c.close();
    }
    assert.equal(
      await ok([
        "consume",
        ...a,
        "--topic",
        "tt",
        "--from-timestamp",
        "1500",
        "--max-messages",
        "2",
        "--property",
        "print.timestamp=true",
      ]),
      "CreateTime:2000\tat2000\nCreateTime:3000\tat3000\n",
    );
    assert.equal(
      await ok([
        "consume",
        ...a,
        "--topic",
        "tt",
        "--from-timestamp",
        "1970-01-01T00:00:03.000Z",
        "--max-messages",
        "1",
      ]),
      "at3000\n",
    );
    const reset = await ok([
      "group",
      "reset-offsets",
      ...a,
      "--group",
      "tg",
      "--topic",
      "tt",
      "--to-datetime",
      "1970-01-01T00:00:02.000Z",
      "--execute",
    ]);
    assert.deepEqual(reset.trimEnd().split("\n")[1].split(/\s+/), ["tg", "tt", "0", "1"]);
    assert.equal(
      await ok(["consume", ...a, "--topic", "tt", "--group", "tg", "--max-messages", "2"]),
      "at2000\nat3000\n",
    );
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

Deno.test("tributary: two group members split the partitions (range assignor) and rebalance", async () => {
  const b = await testBroker();
  const members: Background[] = [];
  try {
    const a = bs(b.address);
    await ok(["topic", "create", ...a, "--topic", "rb", "--partitions", "2"]);
    await ok(["produce", ...a, "--topic", "rb", "--partition", "0"], "p0-a\n");
    await ok(["produce", ...a, "--topic", "rb", "--partition", "1"], "p1-a\n");
    const args = ["consume", ...a, "--topic", "rb", "--group", "rg", "--from-beginning"];
    members.push(new Background(args));
    assert.deepEqual(
      [await members[0].nextLine(), await members[0].nextLine()].sort(),
      ["p0-a", "p1-a"],
    );
    members.push(new Background(args));
    // Wait for the rebalance: two members, one partition each.
    const deadline = Date.now() + 45_000;
    let rows: string[][] = [];
    while (Date.now() < deadline) {
      rows = (await ok(["group", "describe", ...a, "--group", "rg", "--members"])).trimEnd()
        .split("\n").slice(1).map((l) => l.split(/\s+/));
      if (rows.length === 2 && rows.every((r) => r[4] === "1")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(rows.length, 2, JSON.stringify(rows));
    assert.deepEqual(rows.map((r) => r[4]), ["1", "1"]);
    await ok(["produce", ...a, "--topic", "rb", "--partition", "0"], "p0-b\n");
    await ok(["produce", ...a, "--topic", "rb", "--partition", "1"], "p1-b\n");
    const got = [await members[0].nextLine(), await members[1].nextLine()];
    assert.deepEqual([...got].sort(), ["p0-b", "p1-b"]);
    for (const m of members) m.kill("SIGINT");
    for (const m of members) assert.equal((await m.status).code, 0);
    const lag = (await ok(["group", "describe", ...a, "--group", "rg"])).trimEnd().split("\n")
      .slice(1).map((l) => l.split(/\s+/).slice(2, 6));
    assert.deepEqual(lag, [["0", "2", "2", "0"], ["1", "2", "2", "0"]]);
  } finally {
    for (const m of members) await m.stop();
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
