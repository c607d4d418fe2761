/**
 * The replication settings this broker acts on (src/replication/), under Kafka's names and
 * defaults (ReplicationConfigs); their dynamic scope is Kafka's (config.ts takes it from the
 * Kafka table).
 */
import type { ConfigDef } from "../config_def.ts";

const def = (
  name: string,
  type: ConfigDef["type"],
  dflt: ConfigDef["default"],
  doc: string,
  extra: Partial<ConfigDef> = {},
): ConfigDef => ({ name, type, default: dflt, doc, ...extra });

export const REPLICATION_CONFIGS: ConfigDef[] = [
  def(
    "min.insync.replicas",
    "int",
    1,
    "acks=all needs this many replicas in the ISR (NOT_ENOUGH_REPLICAS before the append, " +
      "NOT_ENOUGH_REPLICAS_AFTER_APPEND if it shrinks meanwhile); topics may override it.",
    { min: 1 },
  ),
  def(
    "replica.lag.time.max.ms",
    "long",
    30000,
    "A follower not caught up with the leader's log end for this long leaves the ISR (the " +
      "leader checks every half of it).",
  ),
  def(
    "replica.high.watermark.checkpoint.interval.ms",
    "long",
    5000,
    "How often managed high watermarks are written to replication-offset-checkpoint (and on " +
      "a clean close); a replica reopens with min(checkpoint, log end).",
    { min: 1 },
  ),
  def("replica.fetch.wait.max.ms", "int", 500, "A follower's Fetch max_wait_ms."),
  def("replica.fetch.min.bytes", "int", 1, "A follower's Fetch min_bytes."),
  def(
    "replica.fetch.max.bytes",
    "int",
    1048576,
    "A follower's Fetch partition_max_bytes (the first batch comes whole if larger).",
    { min: 0 },
  ),
  def(
    "replica.fetch.response.max.bytes",
    "int",
    10485760,
    "A follower's Fetch max_bytes.",
    { min: 0 },
  ),
  def(
    "replica.fetch.backoff.ms",
    "int",
    1000,
    "How long a follower waits after a failed fetch (or an error for a partition).",
    { min: 0 },
  ),
  def(
    "num.replica.fetchers",
    "int",
    1,
    "Fetchers per source broker, each with its own connection; partitions are spread over " +
      "them by hash.",
  ),
  def(
    "replica.socket.timeout.ms",
    "int",
    30000,
    "How long a follower waits for a Fetch answer beyond its max_wait_ms.",
  ),
  def(
    "offsets.commit.timeout.ms",
    "int",
    5000,
    "How long a coordinator's write (offsets, group and transaction state) waits to be " +
      "replicated to the ISR before failing (COORDINATOR_NOT_AVAILABLE).",
    { min: 1 },
  ),
];
