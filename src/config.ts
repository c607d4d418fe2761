/**
 * Broker and topic configuration, under Kafka's own names.
 *
 * Broker settings come from defaults, then a `server.properties` file (`--config`), then
 * `--set key=value` overrides. Topic settings (`segment.bytes`, `retention.ms`, ...) fall back
 * to their broker synonyms (`log.segment.bytes`, `log.retention.ms`, ...) exactly as Kafka's
 * LogConfig does, so DescribeConfigs can report where each value came from.
 */
export type ConfigType = "int" | "long" | "bool" | "string" | "double" | "list" | "password";
export type ConfigValue = number | boolean | string | null;

export interface ConfigDef {
  name: string;
  type: ConfigType;
  default: ConfigValue;
  doc: string;
  /** Allowed values for string settings. */
  choices?: string[];
  min?: number;
  max?: number;
}

export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = "ConfigError";
  }
}

const LONG_MAX = Number.MAX_SAFE_INTEGER; // Kafka's Long.MAX_VALUE, within JS number range

function def(
  name: string,
  type: ConfigType,
  dflt: ConfigValue,
  doc: string,
  extra: Partial<ConfigDef> = {},
): ConfigDef {
  return { name, type, default: dflt, doc, ...extra };
}

/** Broker-level settings this broker honours. */
export const BROKER_CONFIGS: ConfigDef[] = [
  def("node.id", "int", 1, "This broker's id in Metadata responses.", { min: 0 }),
  def("broker.id", "int", null, "Alias of node.id (older Kafka name).", { min: 0 }),
  def("listeners", "string", null, "PLAINTEXT://host:port to bind (--host/--port win)."),
  def("advertised.listeners", "string", null, "PLAINTEXT://host:port put in Metadata."),
  def("log.dirs", "string", null, "Data directory (same as --data-dir)."),
  def("log.dir", "string", null, "Data directory when log.dirs is unset."),
  def("num.partitions", "int", 1, "Partitions of auto-created topics.", { min: 1 }),
  def("default.replication.factor", "int", 1, "Replication factor reported for new topics.", {
    min: 1,
  }),
  def("auto.create.topics.enable", "bool", true, "Create unknown topics on Metadata/Produce."),
  def("delete.topic.enable", "bool", true, "Allow DeleteTopics."),
  def("message.max.bytes", "int", 1048588, "Largest record batch accepted.", { min: 0 }),
  def("socket.request.max.bytes", "int", 104857600, "Largest request frame accepted.", {
    min: 1,
  }),
  // Kafka's default is -1 (no bound, the JVM heap is the backstop); a bound here keeps a few
  // slowly sent 100 MB frames from taking gigabytes. Shared by the Deno workers.
  def(
    "queued.max.request.bytes",
    "long",
    536870912,
    "Bytes of requests buffered at once; -1: no bound.",
    { min: -1 },
  ),
  def("connections.max.idle.ms", "long", 600000, "Close connections idle this long; -1: never.", {
    min: -1,
  }),
  def("max.connections", "int", 2147483647, "Most connections open at once.", { min: 0 }),
  def("max.connections.per.ip", "int", 2147483647, "Most connections from one address.", {
    min: 0,
  }),
  def("fetch.max.bytes", "int", 57671680, "Largest Fetch response (one batch may exceed it).", {
    min: 1024,
  }),
  def("log.segment.bytes", "int", 1073741824, "Roll a segment at this size.", { min: 14 }),
  def("log.roll.ms", "long", null, "Roll a segment after this age (overrides log.roll.hours).", {
    min: 1,
  }),
  def("log.roll.hours", "int", 168, "Roll a segment after this many hours.", { min: 1 }),
  def("log.retention.ms", "long", null, "Delete segments older than this; -1 keeps forever."),
  def("log.retention.minutes", "int", null, "Retention in minutes when log.retention.ms unset."),
  def("log.retention.hours", "int", 168, "Retention in hours when the finer ones are unset."),
  def("log.retention.bytes", "long", -1, "Delete old segments above this size; -1: no limit."),
  def("log.retention.check.interval.ms", "long", 300000, "How often retention runs.", { min: 1 }),
  def("log.cleanup.policy", "list", "delete", "delete, compact, or both.", {
    choices: ["delete", "compact"],
  }),
  def("log.index.interval.bytes", "int", 4096, "Bytes between offset index entries.", {
    min: 0,
  }),
  def("log.index.size.max.bytes", "int", 10485760, "Largest offset index file.", { min: 4 }),
  def(
    "log.flush.interval.messages",
    "long",
    LONG_MAX,
    "fsync a partition after this many messages (default: leave it to the OS).",
    { min: 1 },
  ),
  def("log.flush.interval.ms", "long", null, "fsync a partition after this many ms.", { min: 0 }),
  def("log.flush.scheduler.interval.ms", "long", LONG_MAX, "How often the flusher checks.", {
    min: 0,
  }),
  def("log.message.timestamp.type", "string", "CreateTime", "CreateTime or LogAppendTime.", {
    choices: ["CreateTime", "LogAppendTime"],
  }),
  def("compression.type", "string", "producer", "Codec stored (only 'producer' here).", {
    choices: ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"],
  }),
  def("min.insync.replicas", "int", 1, "Reported; a single replica always satisfies it.", {
    min: 1,
  }),
  def("offsets.topic.num.partitions", "int", 50, "Partitions of __consumer_offsets.", { min: 1 }),
  def("group.initial.rebalance.delay.ms", "int", 3000, "Delay before the first rebalance.", {
    min: 0,
  }),
  def("group.min.session.timeout.ms", "int", 6000, "Smallest session timeout a member may ask.", {
    min: 0,
  }),
  def("group.max.session.timeout.ms", "int", 1800000, "Largest session timeout a member may ask.", {
    min: 0,
  }),
  def("group.max.size", "int", 2147483647, "Most members a consumer group may have.", { min: 1 }),
  def(
    "group.consumer.session.timeout.ms",
    "int",
    45000,
    "Consumer-protocol (KIP-848) member session timeout.",
    { min: 1 },
  ),
  def(
    "group.consumer.heartbeat.interval.ms",
    "int",
    5000,
    "Heartbeat interval given to consumer-protocol members.",
    { min: 1 },
  ),
  def(
    "group.consumer.assignors",
    "list",
    "uniform,range",
    "Server assignors (uniform, range or Kafka class names); the first is the default.",
  ),
  def("group.consumer.max.size", "int", 2147483647, "Most members of a KIP-848 group.", {
    min: 1,
  }),
  def("offsets.retention.minutes", "int", 10080, "Keep offsets of an empty group this long.", {
    min: 1,
  }),
  def("offsets.retention.check.interval.ms", "long", 600000, "How often offsets expire.", {
    min: 1,
  }),
  def("offset.metadata.max.bytes", "int", 4096, "Largest metadata string of a commit.", {
    min: 0,
  }),
  def("transaction.max.timeout.ms", "int", 900000, "Largest transaction timeout allowed.", {
    min: 1,
  }),
  def("transaction.state.log.num.partitions", "int", 50, "Partitions of __transaction_state.", {
    min: 1,
  }),
  def(
    "transaction.state.log.segment.bytes",
    "int",
    104857600,
    "Segment size of __transaction_state.",
    { min: 14 },
  ),
  def(
    "transactional.id.expiration.ms",
    "int",
    604800000,
    "Forget a transactional id idle this long.",
    { min: 1 },
  ),
  def(
    "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    "int",
    10000,
    "How often transactions past their timeout are aborted.",
    { min: 1 },
  ),
  def(
    "transaction.remove.expired.transaction.cleanup.interval.ms",
    "int",
    3600000,
    "How often expired transactional ids are removed.",
    { min: 1 },
  ),
  def(
    "transaction.partition.verification.enable",
    "bool",
    true,
    "Refuse transactional produce to partitions not added to the transaction.",
  ),
  def("log.cleaner.delete.retention.ms", "long", 86400000, "Tombstone retention.", { min: 0 }),
  def("log.message.timestamp.before.max.ms", "long", LONG_MAX, "Oldest accepted timestamp lag.", {
    min: 0,
  }),
  def("log.message.timestamp.after.max.ms", "long", 3600000, "Furthest accepted future skew.", {
    min: 0,
  }),
  // Tiered storage (KIP-405), retention and compaction.
  def(
    "log.local.retention.ms",
    "long",
    -2,
    "Local retention of tiered topics (-2: log.retention.ms).",
    { min: -2 },
  ),
  def(
    "log.local.retention.bytes",
    "long",
    -2,
    "Local size bound of tiered topics (-2: log.retention.bytes).",
    { min: -2 },
  ),
  def("remote.log.storage.system.enable", "bool", false, "Enable tiered storage on this broker."),
  def(
    "remote.log.storage.uri",
    "string",
    null,
    "Cold tier: file:///path (default: remote/ beside the data dir) or s3://bucket/prefix.",
  ),
  def(
    "remote.log.storage.s3.endpoint",
    "string",
    null,
    "S3 endpoint URL (default: AWS for the region); keys from AWS_ACCESS_KEY_ID/SECRET.",
  ),
  def("remote.log.storage.s3.region", "string", "us-east-1", "S3 region (request signing)."),
  def(
    "remote.log.storage.s3.request.timeout.ms",
    "long",
    30000,
    "Longest wait for one S3 request.",
    { min: 1 },
  ),
  def(
    "remote.log.manager.task.interval.ms",
    "long",
    30000,
    "How often each tiered partition is checked for segments to copy and expire.",
    { min: 1 },
  ),
  def(
    "remote.log.manager.task.retry.backoff.ms",
    "long",
    500,
    "First retry delay after a cold-tier failure.",
    { min: 1 },
  ),
  def(
    "remote.log.manager.task.retry.backoff.max.ms",
    "long",
    30000,
    "Longest retry delay (the delay doubles per failure).",
    { min: 1 },
  ),
  def(
    "remote.log.reader.cache.size.bytes",
    "long",
    67108864,
    "Memory bound of the cache of remote indexes and segment chunks.",
    { min: 0 },
  ),
  def(
    "remote.fetch.max.wait.ms",
    "int",
    500,
    "Longest a fetch waits for the cold tier before answering without that partition.",
    { min: 1 },
  ),
  def("log.cleaner.enable", "bool", true, "Run the LogCleaner (compaction)."),
  def("log.cleaner.backoff.ms", "long", 15000, "Sleep between checks for logs to compact.", {
    min: 0,
  }),
  def(
    "log.cleaner.dedupe.buffer.size",
    "long",
    134217728,
    "Memory bound of the compaction offset map.",
    { min: 1 },
  ),
];

/**
 * Broker settings AlterConfigs / IncrementalAlterConfigs may change at runtime (Kafka's
 * dynamic broker configs, plus log.retention.check.interval.ms). Others need a restart.
 */
export const DYNAMIC_BROKER_CONFIGS = new Set([
  "log.segment.bytes",
  "log.roll.ms",
  "log.roll.hours",
  "log.retention.ms",
  "log.retention.minutes",
  "log.retention.hours",
  "log.retention.bytes",
  "log.retention.check.interval.ms",
  "log.cleanup.policy",
  "log.index.interval.bytes",
  "log.index.size.max.bytes",
  "log.flush.interval.messages",
  "log.flush.interval.ms",
  "log.message.timestamp.type",
  "log.message.timestamp.before.max.ms",
  "log.message.timestamp.after.max.ms",
  "log.cleaner.delete.retention.ms",
  "log.cleaner.backoff.ms",
  "log.cleaner.dedupe.buffer.size",
  "log.local.retention.ms",
  "log.local.retention.bytes",
  "remote.log.manager.task.interval.ms",
  "remote.log.manager.task.retry.backoff.ms",
  "remote.log.manager.task.retry.backoff.max.ms",
  "remote.fetch.max.wait.ms",
  "message.max.bytes",
  "compression.type",
  "min.insync.replicas",
]);

/** Topic-level settings and the broker setting each falls back to. */
export interface TopicConfigDef extends ConfigDef {
  /** Broker synonym: the topic default comes from this broker setting. */
  brokerKey?: string;
}

function topicDef(
  name: string,
  type: ConfigType,
  dflt: ConfigValue,
  brokerKey: string | undefined,
  doc: string,
  extra: Partial<ConfigDef> = {},
): TopicConfigDef {
  return { name, type, default: dflt, doc, brokerKey, ...extra };
}

export const TOPIC_CONFIGS: TopicConfigDef[] = [
  topicDef("cleanup.policy", "list", "delete", "log.cleanup.policy", "delete and/or compact.", {
    choices: ["delete", "compact"],
  }),
  topicDef("segment.bytes", "int", 1073741824, "log.segment.bytes", "Segment size.", { min: 14 }),
  topicDef("segment.ms", "long", 604800000, "log.roll.ms", "Segment age before a roll.", {
    min: 1,
  }),
  topicDef("retention.ms", "long", 604800000, "log.retention.ms", "Time retention (-1 off).", {
    min: -1,
  }),
  topicDef("retention.bytes", "long", -1, "log.retention.bytes", "Size retention (-1 off)."),
  topicDef("max.message.bytes", "int", 1048588, "message.max.bytes", "Largest batch.", {
    min: 0,
  }),
  topicDef(
    "message.timestamp.type",
    "string",
    "CreateTime",
    "log.message.timestamp.type",
    "CreateTime or LogAppendTime.",
    { choices: ["CreateTime", "LogAppendTime"] },
  ),
  topicDef(
    "flush.messages",
    "long",
    LONG_MAX,
    "log.flush.interval.messages",
    "fsync after this many messages.",
    { min: 1 },
  ),
  topicDef("flush.ms", "long", LONG_MAX, "log.flush.interval.ms", "fsync after this many ms.", {
    min: 0,
  }),
  topicDef("index.interval.bytes", "int", 4096, "log.index.interval.bytes", "Index density.", {
    min: 0,
  }),
  topicDef("segment.index.bytes", "int", 10485760, "log.index.size.max.bytes", "Index size.", {
    min: 4,
  }),
  topicDef("compression.type", "string", "producer", "compression.type", "Stored codec.", {
    choices: ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"],
  }),
  topicDef("min.insync.replicas", "int", 1, "min.insync.replicas", "Reported only.", { min: 1 }),
  topicDef(
    "delete.retention.ms",
    "long",
    86400000,
    "log.cleaner.delete.retention.ms",
    "Tombstone retention on compacted topics.",
    { min: 0 },
  ),
  topicDef(
    "message.timestamp.before.max.ms",
    "long",
    LONG_MAX,
    "log.message.timestamp.before.max.ms",
    "Oldest timestamp accepted, relative to now.",
    { min: 0 },
  ),
  topicDef(
    "message.timestamp.after.max.ms",
    "long",
    3600000,
    "log.message.timestamp.after.max.ms",
    "Furthest future timestamp accepted.",
    { min: 0 },
  ),
  topicDef("min.compaction.lag.ms", "long", 0, undefined, "Compaction lag.", { min: 0 }),
  topicDef("max.compaction.lag.ms", "long", LONG_MAX, undefined, "Compaction deadline.", {
    min: 1,
  }),
  topicDef("min.cleanable.dirty.ratio", "double", 0.5, undefined, "Compaction trigger.", {
    min: 0,
    max: 1,
  }),
  topicDef("file.delete.delay.ms", "long", 60000, undefined, "Delay before deleting files.", {
    min: 0,
  }),
  topicDef("segment.jitter.ms", "long", 0, undefined, "Random roll jitter.", { min: 0 }),
  topicDef("preallocate", "bool", false, undefined, "Preallocate segment files."),
  topicDef(
    "unclean.leader.election.enable",
    "bool",
    false,
    undefined,
    "Reported only (one replica).",
  ),
  topicDef("remote.storage.enable", "bool", false, undefined, "Tier closed segments."),
  topicDef(
    "local.retention.ms",
    "long",
    -2,
    "log.local.retention.ms",
    "Local retention (-2: retention.ms).",
    { min: -2 },
  ),
  topicDef(
    "local.retention.bytes",
    "long",
    -2,
    "log.local.retention.bytes",
    "Local size (-2: retention.bytes).",
    { min: -2 },
  ),
];

export const BROKER_DEFS = new Map(BROKER_CONFIGS.map((d) => [d.name, d]));
export const TOPIC_DEFS = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

/** Parses and validates one value; throws ConfigError naming the key. */
export function parseValue(d: ConfigDef, raw: string): ConfigValue {
  const s = raw.trim();
  switch (d.type) {
    case "int":
    case "long": {
      if (!/^-?\d+$/.test(s)) throw new ConfigError(d.name, `'${raw}' is not an integer`);
      const n = Number(s);
      const limit = d.type === "int" ? 2147483647 : Number.MAX_SAFE_INTEGER;
      if (n > limit || n < -limit - 1) {
        if (d.type === "long" && n > 0) return checkRange(d, Number.MAX_SAFE_INTEGER);
        throw new ConfigError(d.name, `'${raw}' is out of range for ${d.type}`);
      }
      return checkRange(d, n);
    }
    case "double": {
      const n = Number(s);
      if (s === "" || !Number.isFinite(n)) {
        throw new ConfigError(d.name, `'${raw}' is not a number`);
      }
      return checkRange(d, n);
    }
    case "bool": {
      const l = s.toLowerCase();
      if (l !== "true" && l !== "false") {
        throw new ConfigError(d.name, `'${raw}' is not a boolean (true or false)`);
      }
      return l === "true";
    }
    case "list": {
      const items = s.split(",").map((x) => x.trim()).filter((x) => x);
      if (d.choices) {
        for (const it of items) {
          if (!d.choices.includes(it)) {
            throw new ConfigError(d.name, `'${it}' is not one of ${d.choices.join(", ")}`);
          }
        }
      }
      return items.join(",");
    }
    default: {
      if (d.choices && !d.choices.includes(s)) {
        throw new ConfigError(d.name, `'${raw}' is not one of ${d.choices.join(", ")}`);
      }
      return s;
    }
  }
}

function checkRange(d: ConfigDef, n: number): number {
  if (d.min !== undefined && n < d.min) {
    throw new ConfigError(d.name, `${n} is below the minimum ${d.min}`);
  }
  if (d.max !== undefined && n > d.max) {
    throw new ConfigError(d.name, `${n} is above the maximum ${d.max}`);
  }
  return n;
}

/** Parses Kafka `server.properties` text: `key=value` or `key: value`, `#`/`!` comments. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.replace(/\\\r?\n\s*/g, "").split(/\r?\n/);
  for (const line of lines) {
    const t = line.trim();
    if (!t || t.startsWith("#") || t.startsWith("!")) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(t);
    if (!m) continue;
    out.set(m[1], m[2]);
  }
  return out;
}

/** The broker's effective settings: dynamic values over explicit (static) ones over defaults. */
export class BrokerConfig {
  private readonly values = new Map<string, ConfigValue>();
  /** Set at runtime (AlterConfigs) for this broker ("1") and as cluster default (""). */
  readonly dynamicBroker = new Map<string, ConfigValue>();
  readonly dynamicDefault = new Map<string, ConfigValue>();
  /** Keys set explicitly (file, --set, or AlterConfigs), for DescribeConfigs sources. */
  readonly explicit = new Set<string>();
  /** Keys given that this broker does not know (warned about at start). */
  readonly unknown: string[] = [];

  constructor(settings: Map<string, string> = new Map()) {
    for (const [k, v] of settings) this.set(k, v);
  }

  /** Sets one value from text; unknown keys are remembered (a warning), bad values throw. */
  set(key: string, raw: string): void {
    const d = BROKER_DEFS.get(key);
    if (!d) {
      // A topic-level name given at broker level is a common slip; still unknown to Kafka.
      if (!this.unknown.includes(key)) this.unknown.push(key);
      return;
    }
    this.values.set(key, parseValue(d, raw));
    this.explicit.add(key);
  }

  /**
   * Sets (raw non-null) or removes (null) a dynamic value; throws ConfigError for unknown keys,
   * bad values, and keys that cannot change at runtime.
   */
  setDynamic(key: string, raw: string | null, scope: "broker" | "default" = "broker"): void {
    const d = BROKER_DEFS.get(key);
    if (!d) throw new ConfigError(key, "unknown broker config");
    if (!DYNAMIC_BROKER_CONFIGS.has(key)) {
      throw new ConfigError(key, "cannot be updated dynamically (it needs a restart)");
    }
    const layer = scope === "broker" ? this.dynamicBroker : this.dynamicDefault;
    if (raw === null) layer.delete(key);
    else layer.set(key, parseValue(d, raw));
  }

  /** The source of a broker setting: dynamic (per broker / default), static, or default. */
  sourceOf(key: string): "dynamic-broker" | "dynamic-default" | "static" | "default" {
    if (this.dynamicBroker.has(key)) return "dynamic-broker";
    if (this.dynamicDefault.has(key)) return "dynamic-default";
    return this.explicit.has(key) ? "static" : "default";
  }

  get(key: string): ConfigValue {
    if (this.dynamicBroker.has(key)) return this.dynamicBroker.get(key)!;
    if (this.dynamicDefault.has(key)) return this.dynamicDefault.get(key)!;
    if (this.values.has(key)) return this.values.get(key)!;
    const d = BROKER_DEFS.get(key);
    if (!d) throw new Error(`unknown broker config ${key}`);
    return d.default;
  }

  int(key: string): number {
    return this.get(key) as number;
  }
  bool(key: string): boolean {
    return this.get(key) as boolean;
  }
  str(key: string): string {
    return this.get(key) as string;
  }

  get nodeId(): number {
    const b = this.get("broker.id");
    return b != null ? b as number : this.int("node.id");
  }

  /** Whether any of `keys` is set dynamically or statically. */
  private anySet(keys: string[]): boolean {
    return keys.some((k) =>
      this.explicit.has(k) || this.dynamicBroker.has(k) || this.dynamicDefault.has(k)
    );
  }

  /** log.roll.ms, else log.roll.hours. */
  get logRollMs(): number {
    return (this.get("log.roll.ms") as number | null) ?? this.int("log.roll.hours") * 3600000;
  }

  /** log.retention.ms, else .minutes, else .hours (Kafka's precedence). */
  get logRetentionMs(): number {
    const ms = this.get("log.retention.ms") as number | null;
    if (ms != null) return ms;
    const min = this.get("log.retention.minutes") as number | null;
    if (min != null) return min * 60000;
    return this.int("log.retention.hours") * 3600000;
  }

  get logFlushIntervalMs(): number {
    return (this.get("log.flush.interval.ms") as number | null) ??
      this.int("log.flush.scheduler.interval.ms");
  }

  /** The broker-level value that a topic setting defaults to. */
  topicDefault(d: TopicConfigDef): ConfigValue {
    switch (d.brokerKey) {
      case undefined:
        return d.default;
      case "log.roll.ms":
        return this.logRollMs;
      case "log.retention.ms":
        return this.logRetentionMs;
      case "log.flush.interval.ms":
        return this.logFlushIntervalMs;
      default:
        return this.get(d.brokerKey);
    }
  }

  /** Whether the topic default comes from an explicitly set broker value. */
  topicDefaultIsBrokerSet(d: TopicConfigDef): boolean {
    if (!d.brokerKey) return false;
    if (d.brokerKey === "log.roll.ms") return this.anySet(["log.roll.ms", "log.roll.hours"]);
    if (d.brokerKey === "log.retention.ms") {
      return this.anySet(["log.retention.ms", "log.retention.minutes", "log.retention.hours"]);
    }
    return this.anySet([d.brokerKey]);
  }
}

/** Validates topic config overrides (CreateTopics, AlterConfigs); throws ConfigError. */
export function parseTopicConfigs(
  entries: Iterable<[string, string | null]>,
): Map<string, ConfigValue> {
  const out = new Map<string, ConfigValue>();
  for (const [k, v] of entries) {
    const d = TOPIC_DEFS.get(k);
    if (!d) throw new ConfigError(k, "unknown topic config");
    if (v == null) throw new ConfigError(k, "null value");
    out.set(k, parseValue(d, v));
  }
  return out;
}

/** A topic's effective value: its override, else the broker synonym, else Kafka's default. */
export function topicConfigValue(
  broker: BrokerConfig,
  overrides: Record<string, ConfigValue>,
  key: string,
): ConfigValue {
  if (key in overrides) return overrides[key];
  const d = TOPIC_DEFS.get(key);
  if (!d) throw new Error(`unknown topic config ${key}`);
  return broker.topicDefault(d);
}

/** Host and port of the first listener in a Kafka `listeners` value (`PLAINTEXT://h:9092`). */
export function parseListener(value: string): { host?: string; port?: number } {
  const first = value.split(",")[0].trim();
  const m = /^(?:[A-Za-z_]+:\/\/)?(\[[^\]]*\]|[^:]*):(\d+)$/.exec(first);
  if (!m) throw new ConfigError("listeners", `cannot parse '${value}'`);
  const host = m[1].replace(/^\[|\]$/g, "");
  return { host: host || undefined, port: Number(m[2]) };
}
