/**
 * Kafka 3.9's configuration names over the wire (RawClient): the dynamic broker configs Kafka
 * accepts are accepted, persisted and described; what Kafka refuses on a broker resource gets
 * its INVALID_REQUEST messages; every topic config (message.format.version included) is
 * accepted on CreateTopics and AlterConfigs, validated and reported; unknown topic names get
 * Kafka's INVALID_CONFIG message. The last test runs a two-worker broker process.
 */
import assert from "node:assert/strict";
import {
  AlterConfigsRequest,
  AlterConfigsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from "../../protocol/messages/mod.ts";
import type { Msg } from "../support/msg.ts";
import { ConfigError } from "../../src/config.ts";
import { BrokerProcess, python, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";

const TOPIC = 2;
const BROKER = 4;
const INVALID_CONFIG = 40;
const INVALID_REQUEST = 42;
const SET = 0;

/** Every topic config Kafka 3.9's LogConfig defines. */
const KAFKA_39_TOPIC_CONFIGS = [
  "cleanup.policy",
  "compression.gzip.level",
  "compression.lz4.level",
  "compression.type",
  "compression.zstd.level",
  "delete.retention.ms",
  "file.delete.delay.ms",
  "flush.messages",
  "flush.ms",
  "follower.replication.throttled.replicas",
  "index.interval.bytes",
  "leader.replication.throttled.replicas",
  "local.retention.bytes",
  "local.retention.ms",
  "max.compaction.lag.ms",
  "max.message.bytes",
  "message.downconversion.enable",
  "message.format.version",
  "message.timestamp.after.max.ms",
  "message.timestamp.before.max.ms",
  "message.timestamp.difference.max.ms",
  "message.timestamp.type",
  "min.cleanable.dirty.ratio",
  "min.compaction.lag.ms",
  "min.insync.replicas",
  "preallocate",
  "remote.log.copy.disable",
  "remote.log.delete.on.disable",
  "remote.storage.enable",
  "retention.bytes",
  "retention.ms",
  "segment.bytes",
  "segment.index.bytes",
  "segment.jitter.ms",
  "segment.ms",
  "unclean.leader.election.enable",
];

function alter(c: RawClient, type: number, name: string, configs: Record<string, string>) {
  return c.call(AlterConfigsRequest, AlterConfigsResponse, 2, {
    resources: [{
      resourceType: type,
      resourceName: name,
      configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
    }],
    validateOnly: false,
  }).then((r) => (r.responses as Msg[])[0]);
}

function incremental(
  c: RawClient,
  type: number,
  name: string,
  configs: Record<string, string | null>,
) {
  return c.call(IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, 1, {
    resources: [{
      resourceType: type,
      resourceName: name,
      configs: Object.entries(configs).map(([k, v]) => ({
        name: k,
        configOperation: v === null ? 1 : SET,
        value: v,
      })),
    }],
    validateOnly: false,
  }).then((r) => (r.responses as Msg[])[0]);
}

async function describe(
  c: RawClient,
  type: number,
  name: string,
  keys: string[] | null = null,
): Promise<Map<string, Msg>> {
  const r = await c.call(DescribeConfigsRequest, DescribeConfigsResponse, 4, {
    resources: [{ resourceType: type, resourceName: name, configurationKeys: keys }],
    includeSynonyms: true,
    includeDocumentation: true,
  });
  const res = (r.results as Msg[])[0];
  assert.equal(res.errorCode, 0, res.errorMessage);
  return new Map((res.configs as Msg[]).map((e) => [e.name as string, e]));
}

/** The entries of `keys`, in that order (DescribeConfigs answers in its own order). */
function pick(d: Map<string, Msg>, keys: string[]): Msg[] {
  return keys.map((k) => {
    const e = d.get(k);
    assert.ok(e, `${k} described`);
    return e;
  });
}

function createTopic(c: RawClient, name: string, configs: Record<string, string>) {
  return c.call(CreateTopicsRequest, CreateTopicsResponse, 7, {
    topics: [{
      name,
      numPartitions: 1,
      replicationFactor: 1,
      assignments: [],
      configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
    }],
    timeoutMs: 10000,
    validateOnly: false,
  }).then((r) => (r.topics as Msg[])[0]);
}

Deno.test(
  "dynamic broker configs Kafka 3.9 accepts are accepted, described and persisted",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "kafka-configs-" });
    let b = await testBroker({ dataDir, keepDir: true });
    let c = await RawClient.connect(b.port);
    const id = String(b.broker.nodeId);
    const keys = [
      "background.threads",
      "sasl.kerberos.min.time.before.relogin",
      "log.cleaner.threads",
      "num.io.threads",
    ];
    try {
      const r = await alter(c, BROKER, id, {
        "background.threads": "20",
        "sasl.kerberos.min.time.before.relogin": "30000",
        "log.cleaner.threads": "2",
        "num.io.threads": "16",
      });
      assert.deepEqual([r.errorCode, r.errorMessage], [0, null]);
      const inc = await incremental(c, BROKER, "", { "log.cleaner.io.buffer.size": "1048576" });
      assert.deepEqual([inc.errorCode, inc.errorMessage], [0, null]);

      for (let round = 0; round < 2; round++) {
        const all = [...keys, "log.cleaner.io.buffer.size"];
        const d = await describe(c, BROKER, id, all);
        assert.equal(d.size, all.length);
        assert.deepEqual(
          pick(d, all).map((e) => [e.name, e.value, e.configSource, e.readOnly, e.configType]),
          [
            ["background.threads", "20", 2, false, 3],
            ["sasl.kerberos.min.time.before.relogin", "30000", 2, false, 5],
            ["log.cleaner.threads", "2", 2, false, 3],
            ["num.io.threads", "16", 2, false, 3],
            ["log.cleaner.io.buffer.size", "1048576", 3, false, 3],
          ],
          `round ${round}`,
        );
        assert.deepEqual(
          (d.get("background.threads")!.synonyms as Msg[]).map((s) => [s.name, s.value, s.source]),
          [["background.threads", "20", 2], ["background.threads", "10", 5]],
        );
        assert.match(d.get("background.threads")!.documentation, /No effect here/);
        // The cluster-default resource lists only what is set at that level, as Kafka does.
        const dflt = await describe(c, BROKER, "");
        assert.deepEqual([...dflt.keys()], ["log.cleaner.io.buffer.size"]);
        assert.equal(dflt.get("log.cleaner.io.buffer.size")!.value, "1048576");
        // Restarted: the dynamic configs are read back from the data directory.
        c.close();
        await b.close();
        b = await testBroker({ dataDir, keepDir: true });
        c = await RawClient.connect(b.port);
      }
      // Static settings are listed read-only with Kafka's defaults, passwords without value.
      const all = await describe(c, BROKER, id);
      assert.deepEqual(
        ["num.partitions", "zookeeper.session.timeout.ms", "inter.broker.protocol.version"].map(
          (k) => [k, all.get(k)?.value, all.get(k)?.readOnly],
        ),
        [
          ["num.partitions", "1", true],
          ["zookeeper.session.timeout.ms", "18000", true],
          ["inter.broker.protocol.version", "3.9-IV0", true],
        ],
      );
      const pw = all.get("ssl.keystore.password")!;
      assert.deepEqual([pw.value, pw.isSensitive, pw.configType], [null, true, 9]);
      assert.equal(all.has("log.initial.task.delay.ms"), false, "internal configs not listed");
    } finally {
      c.close();
      await b.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "broker resources: what Kafka refuses gets INVALID_REQUEST with Kafka's messages",
  async () => {
    const b = await testBroker();
    const c = await RawClient.connect(b.port);
    const id = String(b.broker.nodeId);
    try {
      const refused = async (
        r: Promise<Msg>,
        code: number,
        message: string | RegExp,
      ) => {
        const out = await r;
        assert.equal(out.errorCode, code, out.errorMessage);
        if (typeof message === "string") assert.equal(out.errorMessage, message);
        else assert.match(out.errorMessage, message);
      };
      await refused(
        alter(c, BROKER, id, { "num.partitions": "3" }),
        INVALID_REQUEST,
        "Cannot update these configs dynamically: Set(num.partitions)",
      );
      await refused(
        incremental(c, BROKER, id, { "log.message.format.version": "2.8" }),
        INVALID_REQUEST,
        "Cannot update these configs dynamically: Set(log.message.format.version)",
      );
      await refused(
        incremental(c, BROKER, "", { "sasl.kerberos.min.time.before.relogin": "30000" }),
        INVALID_REQUEST,
        "Cannot update these configs at default cluster level, broker id must be specified: " +
          "Set(sasl.kerberos.min.time.before.relogin)",
      );
      await refused(
        incremental(c, BROKER, id, { "ssl.keystore.location": "/tmp/ks.jks" }),
        INVALID_REQUEST,
        "These security configs can be dynamically updated only per-listener using the " +
          "listener prefix: Set(ssl.keystore.location)",
      );
      await refused(
        incremental(c, BROKER, id, { "background.threads": "100" }),
        INVALID_REQUEST,
        "Invalid dynamic configuration: Dynamic thread count update validation failed for " +
          "background.threads=100, value should not be greater than double the current value 10",
      );
      await refused(
        incremental(c, BROKER, id, { "log.cleaner.threads": "0" }),
        INVALID_REQUEST,
        "Invalid dynamic configuration: Log cleaner threads should be at least 1",
      );
      await refused(
        incremental(c, BROKER, id, { "num.io.threads": "many" }),
        INVALID_REQUEST,
        /^num\.io\.threads: 'many' is not an integer/,
      );
      await refused(
        incremental(c, BROKER, id, { "sasl.kerberos.min.time.before.relogin": "1.5" }),
        INVALID_REQUEST,
        /^sasl\.kerberos\.min\.time\.before\.relogin: /,
      );
      await refused(
        incremental(c, BROKER, id, { "listener.name.plaintext.max.connections": "-3" }),
        INVALID_REQUEST,
        /^listener\.name\.plaintext\.max\.connections: max\.connections: -3 is below/,
      );
      await refused(
        incremental(c, BROKER, "7", { "background.threads": "12" }),
        INVALID_REQUEST,
        "Unexpected broker id, expected 1, but received 7",
      );
      await refused(
        alter(c, BROKER, "one", { "background.threads": "12" }),
        INVALID_REQUEST,
        "Node id must be an integer, but it is: one",
      );
      const other = await c.call(DescribeConfigsRequest, DescribeConfigsResponse, 4, {
        resources: [{ resourceType: BROKER, resourceName: "7", configurationKeys: null }],
        includeSynonyms: false,
        includeDocumentation: false,
      });
      assert.deepEqual(
        [(other.results as Msg[])[0].errorCode, (other.results as Msg[])[0].errorMessage],
        [INVALID_REQUEST, "Unexpected broker id, expected 1 or empty string, but received 7"],
      );
      // Nothing refused was applied.
      const d = await describe(c, BROKER, id, ["background.threads", "num.partitions"]);
      assert.deepEqual(
        pick(d, ["background.threads", "num.partitions"]).map((e) => [
          e.name,
          e.value,
          e.configSource,
        ]),
        [["background.threads", "10", 5], ["num.partitions", "1", 5]],
      );
      // The keystore under a listener prefix, and a custom (non-Kafka) name, are accepted.
      const ok = await incremental(c, BROKER, id, {
        "listener.name.plaintext.ssl.keystore.location": "/tmp/ks.jks",
        "my.plugin.setting": "on",
      });
      assert.deepEqual([ok.errorCode, ok.errorMessage], [0, null]);
      const customKeys = ["listener.name.plaintext.ssl.keystore.location", "my.plugin.setting"];
      const custom = await describe(c, BROKER, id, customKeys);
      assert.deepEqual(
        pick(custom, customKeys).map((e) => [e.name, e.value, e.isSensitive, e.readOnly]),
        [
          ["listener.name.plaintext.ssl.keystore.location", "/tmp/ks.jks", false, false],
          ["my.plugin.setting", null, true, true],
        ],
      );
    } finally {
      c.close();
      await b.stop();
    }
  },
);

Deno.test(
  "topic configs: every Kafka 3.9 name accepted and reported; message.format.version too",
  async () => {
    const b = await testBroker();
    const c = await RawClient.connect(b.port);
    try {
      const created = await createTopic(c, "legacy", {
        "message.format.version": "2.8",
        "message.downconversion.enable": "false",
        "follower.replication.throttled.replicas": "0:1",
      });
      assert.deepEqual([created.errorCode, created.errorMessage], [0, null]);
      const echoed = new Map((created.configs as Msg[]).map((e) => [e.name, e]));
      assert.deepEqual(
        [
          echoed.get("message.format.version")?.value,
          echoed.get("message.format.version")
            ?.configSource,
        ],
        ["2.8", 1],
      );

      let d = await describe(c, TOPIC, "legacy");
      assert.deepEqual([...d.keys()].sort(), KAFKA_39_TOPIC_CONFIGS);
      const mfv = d.get("message.format.version")!;
      assert.deepEqual([mfv.value, mfv.configSource, mfv.configType], ["2.8", 1, 2]);
      assert.deepEqual(
        (mfv.synonyms as Msg[]).map((s) => [s.name, s.value, s.source]),
        [["message.format.version", "2.8", 1], ["log.message.format.version", "3.0-IV1", 5]],
      );
      assert.match(mfv.documentation, /No effect here/);
      assert.equal(d.get("follower.replication.throttled.replicas")!.value, "0:1");
      assert.equal(d.get("message.downconversion.enable")!.value, "false");
      // Kafka 3.9's defaults, Long.MAX_VALUE in full.
      assert.equal(d.get("message.timestamp.after.max.ms")!.value, "9223372036854775807");
      assert.equal(d.get("compression.zstd.level")!.value, "3");
      assert.equal(d.get("min.cleanable.dirty.ratio")!.value, "0.5");
      // Broker synonyms as Kafka lists them, in the broker setting's own units.
      const segmentMs = d.get("segment.ms")!;
      assert.deepEqual(
        [
          segmentMs.value,
          segmentMs.configSource,
          (segmentMs.synonyms as Msg[]).map((s) => [
            s.name,
            s.value,
            s.source,
          ]),
        ],
        ["604800000", 5, [["log.roll.hours", "168", 5]]],
      );
      assert.doesNotMatch(d.get("retention.ms")!.documentation, /No effect here/);

      const altered = await alter(c, TOPIC, "legacy", { "message.format.version": "3.0-IV1" });
      assert.deepEqual([altered.errorCode, altered.errorMessage], [0, null]);
      d = await describe(c, TOPIC, "legacy", ["message.format.version"]);
      assert.equal(d.get("message.format.version")!.value, "3.0-IV1");
      // Doubles are printed as Java prints them.
      assert.equal(
        (await incremental(c, TOPIC, "legacy", { "min.cleanable.dirty.ratio": "1" })).errorCode,
        0,
      );
      d = await describe(c, TOPIC, "legacy", ["min.cleanable.dirty.ratio"]);
      assert.equal(d.get("min.cleanable.dirty.ratio")!.value, "1.0");
      assert.equal(
        (await incremental(c, TOPIC, "legacy", { "message.format.version": "0.10.0.1" }))
          .errorCode,
        0,
      );

      const bad = await alter(c, TOPIC, "legacy", { "message.format.version": "9.9" });
      assert.deepEqual(
        [bad.errorCode, bad.errorMessage],
        [INVALID_CONFIG, "message.format.version: Version 9.9 is not a valid version"],
      );
      const throttle = await incremental(c, TOPIC, "legacy", {
        "leader.replication.throttled.replicas": "zero",
      });
      assert.equal(throttle.errorCode, INVALID_CONFIG);
      assert.match(throttle.errorMessage, /^leader\.replication\.throttled\.replicas: .*'\*'/);
      const gzip = await incremental(c, TOPIC, "legacy", { "compression.gzip.level": "0" });
      assert.deepEqual(
        [gzip.errorCode, gzip.errorMessage],
        [INVALID_CONFIG, "compression.gzip.level: Value must be between 1 and 9 or equal to -1"],
      );
      for (const [op, name] of [[2, "APPEND"], [3, "SUBTRACT"]] as const) {
        const r = await c.call(IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, 1, {
          resources: [{
            resourceType: TOPIC,
            resourceName: "legacy",
            configs: [{ name: "message.format.version", configOperation: op, value: "2.8" }],
          }],
          validateOnly: false,
        });
        const out = (r.responses as Msg[])[0];
        assert.deepEqual(
          [out.errorCode, out.errorMessage],
          [
            INVALID_CONFIG,
            `Can't ${name} to key message.format.version because its type is not LIST.`,
          ],
        );
      }
      d = await describe(c, TOPIC, "legacy", ["message.format.version"]);
      assert.equal(d.get("message.format.version")!.value, "0.10.0.1", "refusals change nothing");

      const unknown = await createTopic(c, "vendor", { "confluent.placement.constraints": "{}" });
      assert.deepEqual(
        [unknown.errorCode, unknown.errorMessage],
        [INVALID_CONFIG, "Unknown topic config name: confluent.placement.constraints"],
      );
      assert.equal(b.broker.topic("vendor"), undefined);
      const lags = await createTopic(c, "lags", {
        "min.compaction.lag.ms": "100",
        "max.compaction.lag.ms": "50",
      });
      assert.deepEqual(
        [lags.errorCode, lags.errorMessage],
        [
          INVALID_CONFIG,
          "conflict topic config setting min.compaction.lag.ms (100) > max.compaction.lag.ms (50)",
        ],
      );
      const unknownAlter = await incremental(c, TOPIC, "legacy", {
        "confluent.value.schema.validation": "true",
      });
      assert.deepEqual(
        [unknownAlter.errorCode, unknownAlter.errorMessage],
        [INVALID_CONFIG, "Unknown topic config name: confluent.value.schema.validation"],
      );
    } finally {
      c.close();
      await b.stop();
    }
  },
);

Deno.test(
  "workers=2: a dynamic broker config set on one connection is seen on every worker",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "kafka-configs-workers-" });
    const b = await BrokerProcess.start(dataDir);
    try {
      const c = await RawClient.connect(b.port);
      const r = await incremental(c, BROKER, "1", {
        "background.threads": "15",
        "log.message.downconversion.enable": "false",
      });
      c.close();
      assert.deepEqual([r.errorCode, r.errorMessage], [0, null]);
      // Connections are spread over the workers: each one answers with the new values.
      for (let i = 0; i < 6; i++) {
        const ci = await RawClient.connect(b.port);
        const keys = ["background.threads", "log.message.downconversion.enable"];
        const d = await describe(ci, BROKER, "1", keys);
        ci.close();
        assert.deepEqual(
          pick(d, keys).map((e) => [e.name, e.value, e.configSource]),
          [["background.threads", "15", 2], ["log.message.downconversion.enable", "false", 2]],
          `connection ${i}`,
        );
      }
    } finally {
      await b.kill();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "stock clients: confluent-kafka alters and describes broker configs; kafka-python creates a " +
    "topic with message.format.version",
  async () => {
    const b = await testBroker();
    try {
      const out = await python(
        `
import json, sys
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource
a = AdminClient({"bootstrap.servers": sys.argv[1]})
r = ConfigResource(ConfigResource.Type.BROKER, "1", set_config={
    "background.threads": "12", "sasl.kerberos.min.time.before.relogin": "30000"})
a.alter_configs([r])[r].result(timeout=10)
bad = ConfigResource(ConfigResource.Type.BROKER, "1", set_config={"num.partitions": "3"})
try:
    a.alter_configs([bad])[bad].result(timeout=10)
    refused = None
except KafkaException as e:
    refused = [e.args[0].name(), e.args[0].str()]
d = ConfigResource(ConfigResource.Type.BROKER, "1")
entries = a.describe_configs([d])[d].result(timeout=10)
print(json.dumps({
    "refused": refused,
    "described": {k: [entries[k].value, entries[k].source, entries[k].is_read_only]
                  for k in ["background.threads", "sasl.kerberos.min.time.before.relogin",
                            "num.partitions"]},
}))
`,
        [b.address],
      );
      assert.deepEqual(JSON.parse(out), {
        refused: [
          "INVALID_REQUEST",
          "Cannot update these configs dynamically: Set(num.partitions)",
        ],
        described: {
          "background.threads": ["12", 2, false],
          "sasl.kerberos.min.time.before.relogin": ["30000", 2, false],
          "num.partitions": ["1", 5, true],
        },
      });

      const kp = await python(
        `
import json, sys
from kafka.admin import KafkaAdminClient, NewTopic, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
a.create_topics([NewTopic("old-format", 1, 1, topic_configs={"message.format.version": "2.8"})])
r = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "old-format",
                                       {"message.format.version": None})])
print(json.dumps([[c[0], c[1]] for c in r[0].resources[0][4]]))
`,
        [b.address],
      );
      assert.deepEqual(JSON.parse(kp), [["message.format.version", "2.8"]]);
    } finally {
      await b.stop();
    }
  },
);

Deno.test(
  "static broker settings: Kafka's names accepted and reported as STATIC, bad values refused",
  async () => {
    const b = await testBroker({
      config: {
        "log.message.format.version": "2.8",
        "background.threads": "4",
        "log.retention.hours": "48",
      },
    });
    const c = await RawClient.connect(b.port);
    try {
      const keys = ["log.message.format.version", "background.threads"];
      const d = await describe(c, BROKER, "1", keys);
      assert.deepEqual(pick(d, keys).map((e) => [e.name, e.value, e.configSource]), [
        ["log.message.format.version", "2.8", 4],
        ["background.threads", "4", 4],
      ]);
      // A topic takes the static broker value; the synonyms say where it comes from.
      assert.equal((await createTopic(c, "t", {})).errorCode, 0);
      const retention = (await describe(c, TOPIC, "t", ["retention.ms"])).get("retention.ms")!;
      assert.deepEqual(
        [
          retention.value,
          retention.configSource,
          (retention.synonyms as Msg[]).map((s) => [
            s.name,
            s.value,
            s.source,
          ]),
        ],
        ["172800000", 4, [["log.retention.hours", "48", 4], ["log.retention.hours", "168", 5]]],
      );
      // Thread pools resize from the value in force: 4 may double to 8, not to 9.
      assert.equal(
        (await incremental(c, BROKER, "1", { "background.threads": "9" })).errorCode,
        42,
      );
      assert.equal((await incremental(c, BROKER, "1", { "background.threads": "8" })).errorCode, 0);
    } finally {
      c.close();
      await b.stop();
    }
    const dataDir = await Deno.makeTempDir({ prefix: "kafka-configs-bad-" });
    try {
      for (
        const [key, value, why] of [
          ["log.message.format.version", "9.9", /Version 9\.9 is not a valid version/],
          ["background.threads", "0", /background\.threads: 0 is below the minimum 1/],
        ] as const
      ) {
        await assert.rejects(
          testBroker({ dataDir, keepDir: true, config: { [key]: value } }),
          (e: unknown) => e instanceof ConfigError && e.key === key && why.test(e.message),
        );
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
