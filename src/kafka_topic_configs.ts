/**
 * Every topic setting Kafka 3.9 defines (LogConfig's ConfigDef, names from TopicConfig and
 * QuotaConfigs), with Kafka's types, defaults and validators, and the broker setting each falls
 * back to (ServerTopicConfigSynonyms: the first synonym). Those marked `noEffect` are accepted,
 * validated, stored and reported as Kafka does, but nothing here acts on them (a single replica
 * per partition, one lz4 level, no quotas, no message format down-conversion).
 * Kafka refuses any other name ("Unknown topic config name"), and so does this broker.
 */
import type { ConfigType, ConfigValue, TopicConfigDef } from "./config_def.ts";

const LONG_MAX = Number.MAX_SAFE_INTEGER; // Kafka's Long.MAX_VALUE, within JS number range

function topicDef(
  name: string,
  type: ConfigType,
  dflt: ConfigValue,
  brokerKey: string | undefined,
  doc: string,
  extra: Partial<TopicConfigDef> = {},
): TopicConfigDef {
  return { name, type, default: dflt, doc, brokerKey, ...extra };
}

const COMPRESSION = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

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
  topicDef(
    "delete.retention.ms",
    "long",
    86400000,
    "log.cleaner.delete.retention.ms",
    "Tombstone retention on compacted topics.",
    { min: 0 },
  ),
  topicDef(
    "min.compaction.lag.ms",
    "long",
    0,
    "log.cleaner.min.compaction.lag.ms",
    "Compaction lag.",
    { min: 0 },
  ),
  topicDef(
    "max.compaction.lag.ms",
    "long",
    LONG_MAX,
    "log.cleaner.max.compaction.lag.ms",
    "Compaction deadline.",
    { min: 1 },
  ),
  topicDef(
    "min.cleanable.dirty.ratio",
    "double",
    0.5,
    "log.cleaner.min.cleanable.ratio",
    "Compaction trigger.",
    { min: 0, max: 1 },
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
  topicDef(
    "compression.type",
    "string",
    "producer",
    "compression.type",
    "Codec batches are stored in, recompressed if produced otherwise; producer: as sent.",
    { choices: COMPRESSION },
  ),
  topicDef(
    "compression.gzip.level",
    "int",
    -1,
    "compression.gzip.level",
    "gzip level of recompression (-1: zlib's default).",
    { check: "gzip-level" },
  ),
  topicDef(
    "compression.lz4.level",
    "int",
    9,
    "compression.lz4.level",
    "lz4 level (here lz4 recompression has one, fast, level).",
    { min: 1, max: 17, noEffect: true },
  ),
  topicDef(
    "compression.zstd.level",
    "int",
    3,
    "compression.zstd.level",
    "zstd level of recompression.",
    {
      min: -131072,
      max: 22,
    },
  ),
  topicDef(
    "min.insync.replicas",
    "int",
    1,
    "min.insync.replicas",
    "Replicas an acks=all produce needs in the ISR.",
    { min: 1 },
  ),
  topicDef(
    "unclean.leader.election.enable",
    "bool",
    false,
    "unclean.leader.election.enable",
    "In a cluster, whether a partition with no live in-sync replica may elect an " +
      "out-of-sync one.",
  ),
  topicDef(
    "segment.jitter.ms",
    "long",
    0,
    "log.roll.jitter.ms",
    "Most random time taken off segment.ms, drawn per segment.",
    { min: 0 },
  ),
  topicDef(
    "file.delete.delay.ms",
    "long",
    60000,
    "log.segment.delete.delay.ms",
    "How long a deleted segment's files stay, renamed .deleted, before they are removed.",
    { min: 0 },
  ),
  topicDef(
    "preallocate",
    "bool",
    false,
    "log.preallocate",
    "Preallocate segment files (here they grow as written).",
    { noEffect: true },
  ),
  topicDef(
    "message.format.version",
    "string",
    "3.0-IV1",
    "log.message.format.version",
    "Deprecated; ignored (as by Kafka 3.x with inter.broker.protocol.version 3.0+).",
    { check: "metadata-version", noEffect: true },
  ),
  topicDef(
    "message.timestamp.difference.max.ms",
    "long",
    LONG_MAX,
    "log.message.timestamp.difference.max.ms",
    "Deprecated timestamp skew bound.",
    { min: 0, noEffect: true },
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
    LONG_MAX,
    "log.message.timestamp.after.max.ms",
    "Furthest future timestamp accepted.",
    { min: 0 },
  ),
  topicDef(
    "leader.replication.throttled.replicas",
    "list",
    "",
    undefined,
    "Replication throttle (partition:broker list or *).",
    { check: "throttled-replicas", noEffect: true },
  ),
  topicDef(
    "follower.replication.throttled.replicas",
    "list",
    "",
    undefined,
    "Replication throttle (partition:broker list or *).",
    { check: "throttled-replicas", noEffect: true },
  ),
  topicDef(
    "message.downconversion.enable",
    "bool",
    true,
    "log.message.downconversion.enable",
    "Serve Fetch v0–3 (else UNSUPPORTED_VERSION).",
  ),
  topicDef("remote.log.copy.disable", "bool", false, undefined, "Stop copying to the cold tier.", {
    noEffect: true,
  }),
  topicDef(
    "remote.log.delete.on.disable",
    "bool",
    false,
    undefined,
    "Delete tiered data when tiering is disabled.",
    { noEffect: true },
  ),
];
