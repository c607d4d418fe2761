/**
 * Dev mode and embedding: `startBroker({ dev: true, topics })` with `await using`, a kafkajs
 * group that joins without the initial rebalance delay and with a short session timeout, the
 * temp data directory removed on dispose; `--dev` on the CLI says where its data lives.
 */
// npm packages are imported by npm: specifier (the project keeps no import map).
// deno-lint-ignore-file no-import-prefix
import assert from "node:assert/strict";
import { ConfigResourceTypes, Kafka, logLevel } from "npm:kafkajs@2.2.4";
import { startBroker } from "../../mod.ts";
import { BrokerProcess } from "../support/helpers.ts";
import { waitFor } from "../support/wait.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("dev mode: topics created before start resolves, temp dir removed on dispose", async () => {
  let dataDir: string;
  {
    await using b = await startBroker({
      dev: true,
      host: "127.0.0.1",
      port: 0,
      logLevel: "warn",
      topics: [
        { name: "orders", partitions: 3, configs: { "cleanup.policy": "compact" } },
        { name: "events", partitions: 2, configs: { "retention.ms": 60000 } },
      ],
    });
    dataDir = b.dataDir;
    assert.ok(dataDir.includes("tributary-dev-"), dataDir);
    assert.ok(await exists(dataDir));
    const kafka = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: ["orders", "events"] });
      const parts = Object.fromEntries(md.topics.map((t) => [t.name, t.partitions.length]));
      assert.deepEqual(parts, { orders: 3, events: 2 });
      const cfg = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: "orders", configNames: ["cleanup.policy"] },
          { type: ConfigResourceTypes.TOPIC, name: "events", configNames: ["retention.ms"] },
        ],
      });
      const values = cfg.resources.map((r) => [r.resourceName, r.configEntries[0].configValue]);
      assert.deepEqual(values, [["orders", "compact"], ["events", "60000"]]);
      // One partition per internal topic in dev mode.
      assert.equal(b.broker.config.int("offsets.topic.num.partitions"), 1);
      assert.equal(b.broker.config.int("transaction.state.log.num.partitions"), 1);
    } finally {
      await admin.disconnect();
    }
  }
  assert.equal(await exists(dataDir), false, `${dataDir} still exists after dispose`);
});

Deno.test("dev mode: a kafkajs group joins with no initial delay and a 1 s session", async () => {
  await using b = await startBroker({
    dev: true,
    host: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    topics: [{ name: "t", partitions: 2 }],
  });
  const kafka = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // A session timeout below Kafka's default group.min.session.timeout.ms (6000): without dev
  // mode the JoinGroup fails with INVALID_SESSION_TIMEOUT.
  const consumer = kafka.consumer({
    groupId: "dev-group",
    sessionTimeout: 1000,
    heartbeatInterval: 200,
    retry: { retries: 0 },
  });
  const joins: string[] = [];
  consumer.on(consumer.events.GROUP_JOIN, (e) => joins.push(e.payload.memberId));
  let crashed: unknown = null;
  consumer.on(consumer.events.CRASH, (e) => crashed = e.payload.error);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: "t", fromBeginning: true });
    const running = consumer.run({ eachMessage: async () => {} });
    // Every state the group is seen in until it is Stable. The join of the first member into
    // an Empty group completes within its JoinGroup: PreparingRebalance is never observable.
    // With the initial delay (3 s by default) the group sits in PreparingRebalance meanwhile.
    const seen = new Set<string>();
    await waitFor(() => `dev-group Stable with one member (seen ${[...seen]})`, async () => {
      if (crashed) throw crashed;
      const { groups } = await admin.describeGroups(["dev-group"]);
      seen.add(groups[0].state);
      return groups[0].state === "Stable" && groups[0].members.length === 1;
    }, { intervalMs: 5 });
    await running;
    assert.equal(seen.has("PreparingRebalance"), false, `states seen: ${[...seen]}`);
    assert.equal(joins.length, 1, "one join: no second generation");
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
});

Deno.test("startBroker: workers other than 1 are refused, naming the option", async () => {
  await assert.rejects(
    startBroker({ dev: true, host: "127.0.0.1", port: 0, workers: 2 }),
    (e: Error) => e.name === "ConfigError" && /^workers: /.test(e.message),
  );
});

Deno.test("--dev: a start that fails leaves no temp dir behind", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../src/cli.ts", import.meta.url).pathname,
        "--dev",
        "--host",
        "127.0.0.1",
        "--port",
        String((taken.addr as Deno.NetAddr).port),
      ],
      env: { TRIBUTARY_LOG_LEVEL: "info" },
      stdout: "null",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0);
    assert.match(stderr, /dev mode: data in (\S+)/);
    const dir = /dev mode: data in (\S+)/.exec(stderr)![1];
    assert.equal(await exists(dir), false, `${dir} left behind`);
  } finally {
    taken.close();
  }
});

Deno.test("--dev on the CLI prints where its temp data dir is and removes it on exit", async () => {
  // BrokerProcess passes --data-dir; --dev without one is spawned by hand.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../src/cli.ts", import.meta.url).pathname,
      "--dev",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
    ],
    env: { TRIBUTARY_LOG_LEVEL: "info" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let dir: string | undefined;
  try {
    while (!/listening on/.test(buf)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`broker exited: ${buf}`);
      buf += value;
    }
    const m = /dev mode: data in (\S+) \(a temp directory, removed on exit\)/.exec(buf);
    assert.ok(m, buf);
    dir = m[1];
    assert.ok(await exists(dir), dir);
    assert.match(buf, /1 worker\)/);
    assert.ok(buf.includes(`data dir ${dir}`), buf);
  } finally {
    child.kill("SIGTERM");
    // Drain the rest so the child never blocks on a full pipe.
    while (!(await reader.read()).done) { /* drain */ }
  }
  const status = await child.status;
  assert.equal(status.code, 0);
  assert.equal(await exists(dir!), false, `${dir} still exists after exit`);
});

Deno.test("--dev with --data-dir keeps the given directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tributary-devcli-" });
  try {
    const p = await BrokerProcess.start(dir, ["--dev"]);
    assert.ok(p.lines.some((l) => l.includes(`dev mode: data in ${dir}`)), p.lines.join("\n"));
    assert.equal(await p.kill("SIGTERM"), 0);
    assert.ok(await exists(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
