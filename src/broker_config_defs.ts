/**
 * The broker-level settings this broker honours, under Kafka's names, with their defaults
 * and documentation (README and DescribeConfigs are generated from this table).
 */
import type { ConfigDef, ConfigType, ConfigValue } from "./config_def.ts";
import { STANDARD_AUTHORIZER_NAMES } from "./security/authorizer.ts";
import { SASL_CONFIGS } from "./security/sasl_config_defs.ts";
import { REPLICATION_CONFIGS } from "./replication/replication_config_defs.ts";

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
    "NAME://host:port,... to bind, one server per listener (--host/--port set the first; " +
      "default PLAINTEXT://:9092); a runtime change has no effect.",
  ),
  def(
    "advertised.listeners",
    "string",
    null,
    "NAME://host:port,... each listener's clients are told in Metadata, DescribeCluster and " +
      "FindCoordinator (default: the listener's own); a runtime change has no effect.",
  ),
  def(
    "listener.security.protocol.map",
    "string",
    "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
    "NAME:PROTOCOL for each listener; a listener missing from it stops the start.",
  ),
  def(
    "inter.broker.listener.name",
    "string",
    null,
    "The listener for traffic between brokers (exclusive with security.inter.broker.protocol).",
  ),
  def(
    "security.inter.broker.protocol",
    "string",
    "PLAINTEXT",
    "Picks the inter-broker listener named like the protocol, when no name is given.",
    { choices: ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] },
  ),
  // TLS (SSL and SASL_SSL listeners), KIP-651 PEM stores; each also as
  // listener.name.<listener>.<setting>, which wins for that listener.
  def(
    "ssl.keystore.type",
    "string",
    "JKS",
    "PEM is what is read (a PEM file under the JKS default is read too); JKS and PKCS12 are refused.",
  ),
  def(
    "ssl.keystore.location",
    "string",
    null,
    "PEM file with the private key and certificate chain; re-read when it changes.",
  ),
  def("ssl.keystore.key", "password", null, "The private key, PEM (instead of a file)."),
  def(
    "ssl.keystore.certificate.chain",
    "password",
    null,
    "The certificate chain, PEM, with ssl.keystore.key.",
  ),
  def("ssl.key.password", "password", null, "Password of an encrypted (PKCS#8) private key."),
  def("ssl.truststore.type", "string", "JKS", "PEM, as ssl.keystore.type."),
  def(
    "ssl.truststore.location",
    "string",
    null,
    "PEM file of the CA certificates client certificates are verified against.",
  ),
  def("ssl.truststore.certificates", "password", null, "The CA certificates, PEM (no file)."),
  def(
    "ssl.client.auth",
    "string",
    "none",
    "required: a verified client certificate or no connection; requested: verified if sent.",
    { choices: ["required", "requested", "none"] },
  ),
  def(
    "ssl.principal.mapping.rules",
    "string",
    "DEFAULT",
    "Client certificate subject (RFC 2253) to principal: DEFAULT or RULE:pattern/replacement/[LU].",
  ),
  def(
    "etcd.endpoints",
    "list",
    null,
    "etcd client URLs (http://host:port, comma-separated): set, the broker joins the cluster " +
      "whose metadata lives there; unset, it runs alone.",
  ),
  def("etcd.prefix", "string", "/tributary", "Namespace of this cluster's keys in etcd."),
  def("etcd.request.timeout.ms", "int", 5000, "Bound on each etcd call.", { min: 100 }),
  def("broker.rack", "string", null, "This broker's rack, for rack-aware replica placement."),
  def(
    "broker.session.timeout.ms",
    "int",
    9000,
    "Lease TTL of this broker's registration: unrenewed this long, the broker is gone.",
    { min: 1000 },
  ),
  def(
    "broker.heartbeat.interval.ms",
    "int",
    2000,
    "How often the registration lease is renewed.",
    { min: 100 },
  ),
  def("log.dirs", "string", null, "Data directory (same as --data-dir)."),
  def("log.dir", "string", null, "Data directory when log.dirs is unset."),
  def(
    "tributary.storage.engine",
    "string",
    "file",
    "Where partition data lives: file (segment files in the data directory) or memory " +
      "(nothing on disk, lost on close; one worker, no tiered storage).",
    { choices: ["file", "memory"] },
  ),
  def("num.partitions", "int", 1, "Partitions of auto-created topics.", { min: 1 }),
  def(
    "default.replication.factor",
    "int",
    1,
    "Replicas of topics created with replication factor -1 (and auto-created ones).",
    { min: 1 },
  ),
  // Replication in a cluster (src/cluster/controller.ts).
  def(
    "offsets.topic.replication.factor",
    "short",
    3,
    "Replicas of __consumer_offsets, capped to the live brokers when it is first created.",
    { min: 1 },
  ),
  def(
    "transaction.state.log.replication.factor",
    "short",
    3,
    "Replicas of __transaction_state, capped to the live brokers when it is first created.",
    { min: 1 },
  ),
  def(
    "unclean.leader.election.enable",
    "bool",
    false,
    "Whether a partition with no live in-sync replica may elect an out-of-sync one " +
      "(losing what it lacks); topics may override it.",
  ),
  def(
    "auto.leader.rebalance.enable",
    "bool",
    true,
    "Whether the controller moves leadership back to preferred replicas (the first assigned) " +
      "when a broker leads too few of the partitions it prefers.",
  ),
  def(
    "leader.imbalance.check.interval.seconds",
    "long",
    300,
    "How often the controller checks the leader imbalance.",
    { min: 1 },
  ),
  def(
    "leader.imbalance.per.broker.percentage",
    "int",
    10,
    "The share of a broker's preferred partitions led elsewhere (percent) above which the " +
      "controller elects the preferred replicas.",
  ),
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
  def(
    "quota.window.num",
    "int",
    11,
    "Samples a client quota's rate is measured over (DescribeClientQuotas/AlterClientQuotas).",
    { min: 1 },
  ),
  def(
    "quota.window.size.seconds",
    "int",
    1,
    "Length of each client quota sample; a throttle is at most num x size.",
    { min: 1 },
  ),
  def(
    "tributary.admin.api.token",
    "password",
    null,
    "Bearer token the admin HTTP API requires (--admin-token and TRIBUTARY_ADMIN_TOKEN win); " +
      "unset: no token.",
  ),
  def(
    "tributary.fault.injection.enable",
    "bool",
    false,
    "Allow fault injection (broker.faults, the admin API's /v1/faults) for testing clients; " +
      "--dev turns it on.",
  ),
  def(
    "tributary.crc32c.native.enable",
    "bool",
    false,
    "Check and write record batch CRC-32C with Intel ISA-L (libisal.so.2, Debian libisal2) " +
      "through Deno FFI, checked against the TypeScript CRC at start; needs --allow-ffi. " +
      "Without the library the TypeScript CRC is used.",
  ),
  def(
    "authorizer.class.name",
    "string",
    "",
    "ACL authorizer: org.apache.kafka.metadata.authorizer.StandardAuthorizer, " +
      "kafka.security.authorizer.AclAuthorizer or acl; empty: none, everything is allowed.",
    { choices: ["", ...STANDARD_AUTHORIZER_NAMES] },
  ),
  def(
    "super.users",
    "string",
    "",
    "Principals (User:name) allowed every operation, separated by semicolons.",
  ),
  def(
    "allow.everyone.if.no.acl.found",
    "bool",
    false,
    "With an authorizer, allow an operation on a resource no ACL names.",
  ),
  // SASL (src/security/)
  ...SASL_CONFIGS,
  ...REPLICATION_CONFIGS,
];
