/**
 * `tributary consume --group` and `tributary group …` against real brokers: commits, lag,
 * reset-offsets, live members, rebalances.
 */
import assert from "node:assert/strict";
import { ProduceRequest, ProduceResponse } from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { BrokerProcess, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import { Background, bs, ok, tool } from "../support/tributary_tool.ts";
import { waitFor } from "../support/wait.ts";

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
    assert.deepEqual(state, ["lg", b.address, "(1)", "range", "Stable", "1"]);
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
    // --to-current keeps the committed offset; --all-topics covers every committed partition.
    const current = await ok([
      "group",
      "reset-offsets",
      ...a,
      "--group",
      "tg",
      "--all-topics",
      "--to-current",
      "--dry-run",
    ]);
    assert.deepEqual(current.trimEnd().split("\n").map((l) => l.split(/\s+/)), [
      ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
      ["tg", "tt", "0", "3"],
    ]);
    const latest = await ok([
      "group",
      "reset-offsets",
      ...a,
      "--group",
      "tg",
      "--all-topics",
      "--to-latest",
    ]);
    assert.deepEqual(latest.trimEnd().split("\n")[1].split(/\s+/), ["tg", "tt", "0", "3"]);
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
    // No periodic commits: what the first member printed reaches the second only through
    // the commit it makes before rejoining.
    const args = [
      "consume",
      ...a,
      "--topic",
      "rb",
      "--group",
      "rg",
      "--from-beginning",
      "--consumer-property",
      "auto.commit.interval.ms=600000",
    ];
    members.push(new Background(args));
    assert.deepEqual(
      [await members[0].nextLine(), await members[0].nextLine()].sort(),
      ["p0-a", "p1-a"],
    );
    members.push(new Background(args));
    // Wait for the rebalance: two members, one partition each.
    let rows: string[][] = [];
    await waitFor(() => `two members with a partition each: ${JSON.stringify(rows)}`, async () => {
      rows = (await ok(["group", "describe", ...a, "--group", "rg", "--members"])).trimEnd()
        .split("\n").slice(1).map((l) => l.split(/\s+/));
      return rows.length === 2 && rows.every((r) => r[4] === "1");
    }, { intervalMs: 200 });
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

Deno.test("tributary: enable.auto.commit=false commits nothing; unknown consumer properties are refused", async () => {
  const b = await testBroker();
  try {
    const a = bs(b.address);
    await ok(["produce", ...a, "--topic", "nc"], "r1\nr2\n");
    const args = ["consume", ...a, "--topic", "nc", "--group", "ng", "--from-beginning"];
    assert.equal(
      await ok([
        ...args,
        "--max-messages",
        "1",
        "--consumer-property",
        "enable.auto.commit=false",
      ]),
      "r1\n",
    );
    // Nothing committed: the group starts over from the beginning.
    assert.equal(await ok([...args, "--max-messages", "2"]), "r1\nr2\n");
    const bad = await tool([...args, "--consumer-property", "group.protocol=consumer"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--consumer-property group\.protocol is not supported/);
  } finally {
    await b.stop();
  }
});
