/**
 * Broker and topic configuration, under Kafka's own names.
 *
 * Broker settings come from defaults, then a `server.properties` file (`--config`), then
 * `--set key=value` overrides. Topic settings (`segment.bytes`, `retention.ms`, ...) fall back
 * to their broker synonyms (`log.segment.bytes`, `log.retention.ms`, ...) exactly as Kafka's
 * LogConfig does, so DescribeConfigs can report where each value came from.
 */
import { checkFailure, type ConfigCheck } from "./config_validators.ts";
import { KAFKA_BROKER_CONFIGS } from "./kafka_broker_configs.ts";
import { TOPIC_CONFIGS } from "./kafka_topic_configs.ts";

export { TOPIC_CONFIGS };

export type ConfigType =
  | "int"
  | "short"
  | "long"
  | "bool"
  | "string"
  | "double"
  | "list"
  | "class"
  | "password";
export type ConfigValue = number | boolean | string | null;

/**
 * How AlterConfigs may change a broker setting (Kafka's DynamicBrokerConfig): on a broker id
 * resource only, also as cluster default, or only under a `listener.name.<l>.` prefix.
 */
export type DynamicScope = "per-broker" | "cluster-wide" | "listener";

export interface ConfigDef {
  name: string;
  type: ConfigType;
  default: ConfigValue;
  doc: string;
  /** Allowed values for string settings. */
  choices?: string[];
  min?: number;
  max?: number;
  /** A Kafka validator beyond type, range and choices. */
  check?: ConfigCheck;
  /** Accepted, validated and reported as Kafka does, but nothing here acts on it. */
  noEffect?: boolean;
  /** Broker settings AlterConfigs may change at runtime; unset: only at start. */
  dynamic?: DynamicScope;
  /** Kafka's internal settings: accepted at start, not listed by DescribeConfigs. */
  internal?: boolean;
}

export class ConfigError extends Error {
  /** `message` names the key unless `whole` (a message that already names it, Kafka's). */
  constructor(readonly key: string, message: string, whole = false) {
    super(whole ? message : `${key}: ${message}`);
    this.name = "ConfigError";
  }
}

/** The documentation DescribeConfigs and the README give: the doc, and whether it applies. */
export function docOf(d: ConfigDef): string {
  return d.noEffect ? `${d.doc} No effect here.` : d.doc;
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
  def(
    "listeners",
    "string",
    null,
    "PLAINTEXT://host:port to bind (--host/--port win); a runtime change has no effect.",
  ),
  def(
    "advertised.listeners",
    "string",
    null,
    "PLAINTEXT://host:port put in Metadata; a runtime change has no effect.",
  ),
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
  def(
    "max.request.partition.size.limit",
    "int",
    2000,
    "Most partitions a DescribeTopicPartitions response describes.",
    { min: 1 },
  ),
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
  def(
    "log.roll.jitter.ms",
    "long",
    null,
    "Most random time taken off a segment's roll age (overrides log.roll.jitter.hours).",
  ),
  def("log.roll.jitter.hours", "int", 0, "Roll jitter in hours when log.roll.jitter.ms unset.", {
    min: 0,
  }),
  def(
    "compression.type",
    "string",
    "producer",
    "Codec batches are stored in, recompressed if produced otherwise; producer: as sent.",
    { choices: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"] },
  ),
  def(
    "log.segment.delete.delay.ms",
    "long",
    60000,
    "How long a deleted segment's files stay, renamed .deleted, before they are removed.",
    { min: 0 },
  ),
  def("compression.gzip.level", "int", -1, "gzip level of recompression (-1: zlib's default).", {
    check: "gzip-level",
  }),
  def("compression.zstd.level", "int", 3, "zstd level of recompression.", {
    min: -131072,
    max: 22,
  }),
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
  def(
    "log.message.downconversion.enable",
    "bool",
    true,
    "Down-convert records for Fetch v0–3 consumers.",
  ),
  def("log.message.timestamp.type", "string", "CreateTime", "CreateTime or LogAppendTime.", {
    choices: ["CreateTime", "LogAppendTime"],
  }),
  def(
    "log.message.timestamp.before.max.ms",
    "long",
    LONG_MAX,
    "Oldest CreateTime accepted, before now (INVALID_TIMESTAMP per record).",
    { min: 0 },
  ),
  def(
    "log.message.timestamp.after.max.ms",
    "long",
    LONG_MAX,
    "Furthest future CreateTime accepted, after now (INVALID_TIMESTAMP per record).",
    { min: 0 },
  ),
  def("offsets.topic.num.partitions", "int", 50, "Partitions of __consumer_offsets.", { min: 1 }),
  def("offsets.topic.segment.bytes", "int", 104857600, "Segment size of __consumer_offsets.", {
    min: 1,
  }),
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
  def(
    "log.cleaner.min.cleanable.ratio",
    "double",
    0.5,
    "Default min.cleanable.dirty.ratio of compacted topics.",
    { min: 0, max: 1 },
  ),
  def(
    "log.cleaner.min.compaction.lag.ms",
    "long",
    0,
    "Default min.compaction.lag.ms of compacted topics.",
    { min: 0 },
  ),
  def(
    "log.cleaner.max.compaction.lag.ms",
    "long",
    LONG_MAX,
    "Default max.compaction.lag.ms of compacted topics.",
    { min: 1 },
  ),
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
  def(
    "max.incremental.fetch.session.cache.slots",
    "int",
    1000,
    "Incremental fetch sessions kept (KIP-227); 0 disables them.",
    { min: 0 },
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

/** Topic-level settings and the broker setting each falls back to. */
export interface TopicConfigDef extends ConfigDef {
  /** Broker synonym: the topic default comes from this broker setting. */
  brokerKey?: string;
}

/**
 * Every broker setting known: this broker's own (its documentation; the dynamic scope Kafka
 * gives the name), then the rest of Kafka 3.9's, which have no effect here.
 */
export const ALL_BROKER_CONFIGS: ConfigDef[] = (() => {
  const kafka = new Map(KAFKA_BROKER_CONFIGS.map((d) => [d.name, d]));
  const own = BROKER_CONFIGS.map((d) => {
    const k = kafka.get(d.name);
    return k?.dynamic ? { ...d, dynamic: k.dynamic } : d;
  });
  const ownNames = new Set(BROKER_CONFIGS.map((d) => d.name));
  return [...own, ...KAFKA_BROKER_CONFIGS.filter((d) => !ownNames.has(d.name))];
})();

export const BROKER_DEFS = new Map(ALL_BROKER_CONFIGS.map((d) => [d.name, d]));
export const TOPIC_DEFS = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

/** Broker settings AlterConfigs / IncrementalAlterConfigs may change at runtime. */
export const DYNAMIC_BROKER_CONFIGS = new Set(
  ALL_BROKER_CONFIGS.filter((d) => d.dynamic).map((d) => d.name),
);

/**
 * The broker settings that define one value, in Kafka's order of precedence
 * (DynamicBrokerConfig.brokerConfigSynonyms): `log.roll.ms` over `log.roll.hours`, ...
 */
export function brokerSynonyms(key: string): string[] {
  switch (key) {
    case "log.roll.ms":
    case "log.roll.hours":
      return ["log.roll.ms", "log.roll.hours"];
    case "log.roll.jitter.ms":
    case "log.roll.jitter.hours":
      return ["log.roll.jitter.ms", "log.roll.jitter.hours"];
    case "log.flush.interval.ms":
      return ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"];
    case "log.retention.ms":
    case "log.retention.minutes":
    case "log.retention.hours":
      return ["log.retention.ms", "log.retention.minutes", "log.retention.hours"];
    default:
      return [key];
  }
}

/** Listener settings Kafka lets the cluster default hold (all others are per broker). */
const CLUSTER_LEVEL_LISTENER_CONFIGS = new Set([
  "max.connections",
  "max.connection.creation.rate",
  "num.network.threads",
]);

/**
 * Whether a setting may change only on a broker id resource (Kafka's PerBrokerConfigs: SSL,
 * SASL and listener settings, and their listener-prefixed forms).
 */
export function isPerBrokerConfig(key: string): boolean {
  const m = LISTENER_CONFIG.exec(key);
  if (m) return !CLUSTER_LEVEL_LISTENER_CONFIGS.has(m[1]);
  const scope = BROKER_DEFS.get(key)?.dynamic;
  return scope === "per-broker" || scope === "listener";
}

/** `listener.name.<listener>.<config>`: a listener's own value of a broker setting. */
export const LISTENER_CONFIG = /^listener\.name\.[^.]*\.(.*)$/;

/**
 * The broker setting a listener-prefixed name overrides, if it is one: `<mechanism>.<config>`
 * for SASL mechanism settings (`listener.name.sasl_ssl.plain.sasl.jaas.config`), as Kafka's
 * DynamicBrokerConfig matches them.
 */
export function listenerBaseDef(key: string): ConfigDef | undefined {
  const m = LISTENER_CONFIG.exec(key);
  if (!m) return undefined;
  const direct = BROKER_DEFS.get(m[1]);
  if (direct) return direct;
  const mechanism = [
    "sasl.jaas.config",
    "sasl.login.callback.handler.class",
    "sasl.login.class",
    "sasl.server.callback.handler.class",
    "connections.max.reauth.ms",
  ].find((n) => m[1].endsWith(`.${n}`));
  return mechanism ? BROKER_DEFS.get(mechanism) : undefined;
}

/** Parses and validates one value; throws ConfigError naming the key. */
export function parseValue(d: ConfigDef, raw: string): ConfigValue {
  const v = parseTyped(d, raw);
  const failure = d.check && checkFailure(d.check, d.name, v);
  if (failure) throw new ConfigError(d.name, failure);
  return v;
}

/** Integer limits of Kafka's SHORT, INT and LONG (LONG: as far as a JS number is exact). */
const LIMITS: Record<string, number> = {
  short: 32767,
  int: 2147483647,
  long: Number.MAX_SAFE_INTEGER,
};

function parseTyped(d: ConfigDef, raw: string): ConfigValue {
  const s = raw.trim();
  switch (d.type) {
    case "short":
    case "int":
    case "long": {
      if (!/^-?\d+$/.test(s)) throw new ConfigError(d.name, `'${raw}' is not an integer`);
      const n = Number(s);
      const limit = LIMITS[d.type];
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
    case "password":
      return s; // trimmed, as Kafka's ConfigDef.parseType does
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

/**
 * Parses `server.properties` text exactly as `java.util.Properties.load` reads it, so a file
 * Kafka accepts means the same here. Natural lines end at `\n`, `\r` or `\r\n`; a line whose
 * first non-blank character is `#` or `!` is a comment, and a comment never continues onto
 * the next line. Any other line ending in an odd number of backslashes continues on the next
 * one, whose leading blanks (space, tab, form feed) are dropped. The key ends at the first
 * unescaped `=`, `:` or blank; blanks around the separator are skipped and the rest of the
 * line, trailing blanks included, is the value. In keys and values `\uXXXX` is a character,
 * `\t` `\n` `\r` `\f` are those characters and a backslash before anything else stands for
 * that character (`\=`, `\:`, `\ `, `\\`). Later keys replace earlier ones. Throws on a
 * malformed `\uXXXX`, as Java does.
 */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of logicalLines(text)) {
    let keyEnd = 0;
    let valueStart = line.length;
    let hasSeparator = false;
    let backslash = false;
    for (; keyEnd < line.length; keyEnd++) {
      const c = line[keyEnd];
      if ((c === "=" || c === ":") && !backslash) {
        valueStart = keyEnd + 1;
        hasSeparator = true;
        break;
      }
      if (isBlank(c) && !backslash) {
        valueStart = keyEnd + 1;
        break;
      }
      backslash = c === "\\" ? !backslash : false;
    }
    while (valueStart < line.length) {
      const c = line[valueStart];
      if (!isBlank(c)) {
        if (hasSeparator || (c !== "=" && c !== ":")) break;
        hasSeparator = true;
      }
      valueStart++;
    }
    out.set(unescape(line.slice(0, keyEnd)), unescape(line.slice(valueStart)));
  }
  return out;
}

function isBlank(c: string): boolean {
  return c === " " || c === "\t" || c === "\f";
}

/** Java's `Properties.LineReader`: joins continued lines, drops comments and blank lines. */
function* logicalLines(text: string): Generator<string> {
  let line = "";
  let comment = false;
  let backslash = false;
  let skipBlanks = true; // at the start of a natural line
  let continued = false; // that natural line continues a logical one
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (skipBlanks) {
      if (isBlank(c)) continue;
      if (!continued && (c === "\n" || c === "\r")) continue;
      skipBlanks = false;
      if (!continued && (c === "#" || c === "!")) comment = true;
    }
    if (c !== "\n" && c !== "\r") {
      if (!comment) {
        line += c;
        backslash = c === "\\" ? !backslash : false;
      }
      continue;
    }
    if (comment || line === "") {
      // The end of a comment or of an empty line: the next natural line starts afresh.
      comment = false;
      skipBlanks = true;
      continued = false;
      backslash = false;
      continue;
    }
    if (c === "\r" && text[i + 1] === "\n") i++;
    if (backslash) {
      line = line.slice(0, -1);
      backslash = false;
      skipBlanks = true;
      continued = true;
      continue;
    }
    yield line;
    line = "";
    skipBlanks = true;
    continued = false;
  }
  if (line !== "" && !comment) yield backslash ? line.slice(0, -1) : line;
}

/** `loadConvert`: resolves the escapes of a key or value. */
function unescape(s: string): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = s[++i];
    if (e === undefined) break;
    if (e === "u") {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Error("Malformed \\uxxxx encoding.");
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += e === "t" ? "\t" : e === "r" ? "\r" : e === "n" ? "\n" : e === "f" ? "\f" : e;
    }
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
  /** Kafka settings given that have no effect here (said at start). */
  readonly withoutEffect: string[] = [];

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
    if (d.noEffect && !this.withoutEffect.includes(key)) this.withoutEffect.push(key);
  }

  /**
   * Sets (raw non-null) or removes (null) a dynamic value. Kafka's dynamic settings are parsed
   * and validated; names Kafka does not define are kept as text (Kafka keeps such custom
   * settings too); a listener-prefixed name is validated as the setting it overrides. Throws
   * ConfigError for bad values, settings that can change only at start, settings that can
   * change only per listener, and per-broker settings given as cluster default.
   */
  setDynamic(key: string, raw: string | null, scope: "broker" | "default" = "broker"): void {
    const d = BROKER_DEFS.get(key);
    if (d && !d.dynamic) {
      throw new ConfigError(key, "cannot be updated dynamically (it needs a restart)");
    }
    if (d?.dynamic === "listener") {
      throw new ConfigError(key, "can be updated dynamically only per listener (listener.name.)");
    }
    if (scope === "default" && isPerBrokerConfig(key)) {
      throw new ConfigError(key, "cannot be updated at default cluster level");
    }
    const layer = scope === "broker" ? this.dynamicBroker : this.dynamicDefault;
    if (raw === null) {
      layer.delete(key);
      return;
    }
    const base = d ?? listenerBaseDef(key);
    layer.set(key, base ? parseValue(base, raw) : raw.trim());
  }

  /** The value given at start (file or --set), if any. */
  staticValue(key: string): ConfigValue | undefined {
    return this.values.get(key);
  }

  /** A copy whose runtime layers can be changed to try a change out. */
  copy(): BrokerConfig {
    const c = new BrokerConfig();
    for (const [k, v] of this.values) c.values.set(k, v);
    for (const k of this.explicit) c.explicit.add(k);
    for (const [k, v] of this.dynamicBroker) c.dynamicBroker.set(k, v);
    for (const [k, v] of this.dynamicDefault) c.dynamicDefault.set(k, v);
    return c;
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

  /** log.roll.jitter.ms, else log.roll.jitter.hours. */
  get logRollJitterMs(): number {
    return (this.get("log.roll.jitter.ms") as number | null) ??
      this.int("log.roll.jitter.hours") * 3600000;
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
      case "log.roll.jitter.ms":
        return this.logRollJitterMs;
      case "log.retention.ms":
        return this.logRetentionMs;
      case "log.flush.interval.ms":
        return this.logFlushIntervalMs;
      default:
        return this.get(d.brokerKey);
    }
  }
}

/** Validates topic config overrides (CreateTopics, AlterConfigs); throws ConfigError. */
export function parseTopicConfigs(
  entries: Iterable<[string, string | null]>,
): Map<string, ConfigValue> {
  const out = new Map<string, ConfigValue>();
  for (const [k, v] of entries) {
    const d = TOPIC_DEFS.get(k);
    if (!d) throw new ConfigError(k, `Unknown topic config name: ${k}`, true);
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
