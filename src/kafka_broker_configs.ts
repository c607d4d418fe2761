/**
 * Every broker setting Kafka 3.9 defines (KafkaConfig's ConfigDef: ServerConfigs, ServerLogConfigs,
 * LogConfig.SERVER_CONFIG_DEF, SocketServerConfigs, ReplicationConfigs, KRaftConfigs, ZkConfigs,
 * GroupCoordinatorConfig, ShareGroupConfig, CleanerConfig, TransactionLogConfigs,
 * TransactionStateManagerConfigs, QuorumConfig, MetricConfigs, QuotaConfigs,
 * BrokerSecurityConfigs, DelegationTokenManagerConfigs, PasswordEncoderConfigs,
 * RemoteLogManagerConfig), plus the broker quota configs Kafka accepts only at runtime
 * (QuotaConfigs.brokerQuotaConfigs), copied from the Apache Kafka 3.9.0 sources.
 *
 * The dynamic column follows DynamicBrokerConfig.AllDynamicConfigs: per-broker configs
 * (listener, SSL and SASL settings) may be changed only on a broker id resource, cluster-wide ones
 * also on the default resource (""), listener-only ones (the keystore and truststore) only under
 * a `listener.name.<listener>.` prefix; the others can be set only at start. They are data, so
 * that names Kafka accepts are accepted and validated here, and names it refuses are refused the
 * same way; the settings this broker acts on are in config.ts with their own documentation.
 */
import type { ConfigDef, ConfigType, DynamicScope } from "./config_def.ts";

/**
 * name|type|default|validator|dynamic. An empty default is null. Validators: `>=n`, `a..b`,
 * `in:a,b` (one of), `list:a,b` (each item one of), or a named Kafka validator (`mv`:
 * MetadataVersionValidator, `gzip`: gzip level, `pool`: -1 or at least 1, `nonempty`). Dynamic:
 * `b` per-broker, `c` cluster-wide, `l` per listener only, `s` static, `i` internal (static,
 * not listed).
 */
const TABLE = `
remote.log.storage.system.enable|boolean|false||s
remote.log.storage.manager.impl.prefix|string|rsm.config.|nonempty|s
remote.log.metadata.manager.impl.prefix|string|rlmm.config.|nonempty|s
remote.log.storage.manager.class.name|string||nonempty|s
remote.log.storage.manager.class.path|string|||s
remote.log.metadata.manager.class.name|string|org.apache.kafka.server.log.remote.metadata.storage.TopicBasedRemoteLogMetadataManager|nonempty|s
remote.log.metadata.manager.class.path|string|||s
remote.log.metadata.manager.listener.name|string||nonempty|s
remote.log.metadata.custom.metadata.max.bytes|int|128|>=0|s
remote.log.index.file.cache.total.size.bytes|long|1073741824|>=1|c
remote.log.manager.thread.pool.size|int|10|>=1|s
remote.log.manager.copier.thread.pool.size|int|-1|pool|s
remote.log.manager.expiration.thread.pool.size|int|-1|pool|s
remote.log.manager.task.interval.ms|long|30000|>=1|s
remote.log.manager.task.retry.backoff.ms|long|500|>=1|i
remote.log.manager.task.retry.backoff.max.ms|long|30000|>=1|i
remote.log.manager.task.retry.jitter|double|0.2|0..0.5|i
remote.log.reader.threads|int|10|>=1|s
remote.log.reader.max.pending.tasks|int|100|>=1|s
log.local.retention.ms|long|-2|>=-2|c
log.local.retention.bytes|long|-2|>=-2|c
remote.log.manager.copy.max.bytes.per.second|long|9223372036854775807|>=1|c
remote.log.manager.copy.quota.window.num|int|11|>=1|s
remote.log.manager.copy.quota.window.size.seconds|int|1|>=1|s
remote.log.manager.fetch.max.bytes.per.second|long|9223372036854775807|>=1|c
remote.log.manager.fetch.quota.window.num|int|11|>=1|s
remote.log.manager.fetch.quota.window.size.seconds|int|1|>=1|s
remote.fetch.max.wait.ms|int|500|>=1|c
zookeeper.connect|string|||s
zookeeper.session.timeout.ms|int|18000||s
zookeeper.connection.timeout.ms|int|||s
zookeeper.set.acl|boolean|false||s
zookeeper.max.in.flight.requests|int|10|>=1|s
zookeeper.ssl.client.enable|boolean|false||s
zookeeper.clientCnxnSocket|string|||s
zookeeper.ssl.keystore.location|string|||s
zookeeper.ssl.keystore.password|password|||s
zookeeper.ssl.keystore.type|string|||s
zookeeper.ssl.truststore.location|string|||s
zookeeper.ssl.truststore.password|password|||s
zookeeper.ssl.truststore.type|string|||s
zookeeper.ssl.protocol|string|TLSv1.2||s
zookeeper.ssl.enabled.protocols|list|||s
zookeeper.ssl.cipher.suites|list|||s
zookeeper.ssl.endpoint.identification.algorithm|string|HTTPS||s
zookeeper.ssl.crl.enable|boolean|false||s
zookeeper.ssl.ocsp.enable|boolean|false||s
broker.id.generation.enable|boolean|true||s
reserved.broker.max.id|int|1000|>=0|s
broker.id|int|-1||s
message.max.bytes|int|1048588|>=0|c
num.io.threads|int|8|>=1|c
num.replica.alter.log.dirs.threads|int|||s
background.threads|int|10|>=1|c
request.timeout.ms|int|30000||s
socket.connection.setup.timeout.ms|long|10000||s
socket.connection.setup.timeout.max.ms|long|30000||s
authorizer.class.name|string|||s
early.start.listeners|string|||s
broker.rack|string|||s
controlled.shutdown.max.retries|int|3||s
controlled.shutdown.retry.backoff.ms|long|5000||s
controlled.shutdown.enable|boolean|true||s
delete.topic.enable|boolean|true||s
compression.type|string|producer|in:uncompressed,zstd,lz4,snappy,gzip,producer|c
compression.gzip.level|int|-1|gzip|c
compression.lz4.level|int|9|1..17|c
compression.zstd.level|int|3|-131072..22|c
max.incremental.fetch.session.cache.slots|int|1000|>=0|s
fetch.max.bytes|int|57671680|>=1024|s
max.request.partition.size.limit|int|2000|>=1|s
unstable.api.versions.enable|boolean|false||i
unstable.feature.versions.enable|boolean|false||i
metadata.log.max.record.bytes.between.snapshots|long|20971520|>=1|s
metadata.log.max.snapshot.interval.ms|long|3600000|>=0|s
process.roles|list||list:broker,controller|s
node.id|int|-1||s
initial.broker.registration.timeout.ms|int|60000||s
broker.heartbeat.interval.ms|int|2000||s
broker.session.timeout.ms|int|9000||s
controller.listener.names|string|||s
sasl.mechanism.controller.protocol|string|GSSAPI||s
metadata.log.dir|string|||s
metadata.log.segment.bytes|int|1073741824|>=12|s
metadata.log.segment.min.bytes|int|8388608|>=12|i
metadata.log.segment.ms|long|604800000||s
metadata.max.retention.bytes|long|104857600||s
metadata.max.retention.ms|long|604800000||s
metadata.max.idle.interval.ms|int|500|>=0|s
server.max.startup.time.ms|long|9223372036854775807|>=0|i
zookeeper.metadata.migration.enable|boolean|false||s
eligible.leader.replicas.enable|boolean|false||s
zookeeper.metadata.migration.min.batch.size|int|200|>=1|i
listeners|string|PLAINTEXT://:9092||b
advertised.listeners|string|||b
listener.security.protocol.map|string|SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT||b
control.plane.listener.name|string|||s
socket.send.buffer.bytes|int|102400||s
socket.receive.buffer.bytes|int|102400||s
socket.request.max.bytes|int|104857600|>=1|s
socket.listen.backlog.size|int|50|>=1|s
max.connections.per.ip|int|2147483647|>=0|c
max.connections.per.ip.overrides|string|||c
max.connections|int|2147483647|>=0|c
max.connection.creation.rate|int|2147483647|>=0|c
connections.max.idle.ms|long|600000||s
connection.failed.authentication.delay.ms|int|100|>=0|s
queued.max.requests|int|500|>=1|s
queued.max.request.bytes|long|-1||s
num.network.threads|int|3|>=1|c
controller.socket.timeout.ms|int|30000||s
default.replication.factor|int|1||s
replica.lag.time.max.ms|long|30000||s
replica.socket.timeout.ms|int|30000||s
replica.socket.receive.buffer.bytes|int|65536||s
replica.fetch.max.bytes|int|1048576|>=0|s
replica.fetch.wait.max.ms|int|500||s
replica.fetch.backoff.ms|int|1000|>=0|s
replica.fetch.min.bytes|int|1||s
replica.fetch.response.max.bytes|int|10485760|>=0|s
num.replica.fetchers|int|1||c
replica.high.watermark.checkpoint.interval.ms|long|5000||s
fetch.purgatory.purge.interval.requests|int|1000||s
producer.purgatory.purge.interval.requests|int|1000||s
delete.records.purgatory.purge.interval.requests|int|1||s
auto.leader.rebalance.enable|boolean|true||s
leader.imbalance.per.broker.percentage|int|10||s
leader.imbalance.check.interval.seconds|long|300|>=1|s
unclean.leader.election.interval.ms|long|300000|>=1|i
unclean.leader.election.enable|boolean|false||c
security.inter.broker.protocol|string|PLAINTEXT|in:PLAINTEXT,SSL,SASL_PLAINTEXT,SASL_SSL|s
inter.broker.protocol.version|string|3.9-IV0|mv|s
inter.broker.listener.name|string|||s
replica.selector.class|string|||s
group.min.session.timeout.ms|int|6000||s
group.max.session.timeout.ms|int|1800000||s
group.initial.rebalance.delay.ms|int|3000||s
group.max.size|int|2147483647|>=1|s
group.coordinator.rebalance.protocols|list|classic|list:classic,consumer,share|s
group.coordinator.threads|int|1|>=1|s
group.coordinator.append.linger.ms|int|10|>=0|s
group.coordinator.new.enable|boolean|false||i
offset.metadata.max.bytes|int|4096||s
offsets.load.buffer.size|int|5242880|>=1|s
offsets.topic.replication.factor|short|3|>=1|s
offsets.topic.num.partitions|int|50|>=1|s
offsets.topic.segment.bytes|int|104857600|>=1|s
offsets.topic.compression.codec|int|0||s
offsets.retention.minutes|int|10080|>=1|s
offsets.retention.check.interval.ms|long|600000|>=1|s
offsets.commit.timeout.ms|int|5000|>=1|s
offsets.commit.required.acks|short|-1||s
group.consumer.session.timeout.ms|int|45000|>=1|s
group.consumer.min.session.timeout.ms|int|45000|>=1|s
group.consumer.max.session.timeout.ms|int|60000|>=1|s
group.consumer.heartbeat.interval.ms|int|5000|>=1|s
group.consumer.min.heartbeat.interval.ms|int|5000|>=1|s
group.consumer.max.heartbeat.interval.ms|int|15000|>=1|s
group.consumer.max.size|int|2147483647|>=1|s
group.consumer.assignors|list|org.apache.kafka.coordinator.group.assignor.UniformAssignor,org.apache.kafka.coordinator.group.assignor.RangeAssignor||s
group.consumer.migration.policy|string|disabled|in:disabled,downgrade,upgrade,bidirectional|i
group.share.session.timeout.ms|int|45000|>=1|s
group.share.min.session.timeout.ms|int|45000|>=1|s
group.share.max.session.timeout.ms|int|60000|>=1|s
group.share.heartbeat.interval.ms|int|5000|>=1|s
group.share.min.heartbeat.interval.ms|int|5000|>=1|s
group.share.max.heartbeat.interval.ms|int|15000|>=1|s
group.share.max.size|short|200|10..1000|s
log.cleaner.threads|int|1|>=0|c
log.cleaner.io.max.bytes.per.second|double|1.7976931348623157e+308||c
log.cleaner.dedupe.buffer.size|long|134217728||c
log.cleaner.io.buffer.size|int|524288|>=0|c
log.cleaner.io.buffer.load.factor|double|0.9||c
log.cleaner.backoff.ms|long|15000|>=0|c
log.cleaner.min.cleanable.ratio|double|0.5|0..1|c
log.cleaner.enable|boolean|true||s
log.cleaner.delete.retention.ms|long|86400000|>=0|c
log.cleaner.min.compaction.lag.ms|long|0|>=0|c
log.cleaner.max.compaction.lag.ms|long|9223372036854775807|>=1|c
num.partitions|int|1|>=1|s
log.dir|string|/tmp/kafka-logs||s
log.dirs|string|||s
log.segment.bytes|int|1073741824|>=14|c
log.roll.ms|long|||c
log.roll.hours|int|168|>=1|s
log.roll.jitter.ms|long|||c
log.roll.jitter.hours|int|0|>=0|s
log.retention.ms|long|||c
log.retention.minutes|int|||s
log.retention.hours|int|168||s
log.retention.bytes|long|-1||c
log.retention.check.interval.ms|long|300000|>=1|s
log.cleanup.policy|list|delete|list:compact,delete|c
log.index.size.max.bytes|int|10485760|>=4|c
log.index.interval.bytes|int|4096|>=0|c
log.flush.interval.messages|long|9223372036854775807|>=1|c
log.segment.delete.delay.ms|long|60000|>=0|c
log.flush.scheduler.interval.ms|long|9223372036854775807||s
log.flush.interval.ms|long|||c
log.flush.offset.checkpoint.interval.ms|int|60000|>=0|s
log.flush.start.offset.checkpoint.interval.ms|int|60000|>=0|s
log.preallocate|boolean|false||c
num.recovery.threads.per.data.dir|int|1|>=1|c
auto.create.topics.enable|boolean|true||s
min.insync.replicas|int|1|>=1|c
log.message.format.version|string|3.0-IV1|mv|s
log.message.timestamp.type|string|CreateTime|in:CreateTime,LogAppendTime|c
log.message.timestamp.difference.max.ms|long|9223372036854775807|>=0|c
log.message.timestamp.before.max.ms|long|9223372036854775807|>=0|c
log.message.timestamp.after.max.ms|long|9223372036854775807|>=0|c
create.topic.policy.class.name|class|||s
alter.config.policy.class.name|class|||s
log.message.downconversion.enable|boolean|true||c
log.dir.failure.timeout.ms|long|30000|>=1|s
log.initial.task.delay.ms|long|30000|>=0|i
group.share.enable|boolean|false||i
group.share.delivery.count.limit|int|5|2..10|s
group.share.record.lock.duration.ms|int|30000|1000..60000|s
group.share.min.record.lock.duration.ms|int|15000|1000..30000|s
group.share.max.record.lock.duration.ms|int|60000|30000..3600000|s
group.share.max.groups|short|10|1..100|s
group.share.partition.max.record.locks|int|200|100..10000|s
transaction.state.log.min.isr|int|2|>=1|s
transaction.state.log.load.buffer.size|int|5242880|>=1|s
transaction.state.log.replication.factor|short|3|>=1|s
transaction.state.log.num.partitions|int|50|>=1|s
transaction.state.log.segment.bytes|int|104857600|>=1|s
transaction.partition.verification.enable|boolean|true||c
producer.id.expiration.ms|int|86400000|>=1|c
producer.id.expiration.check.interval.ms|int|600000|>=1|i
transactional.id.expiration.ms|int|604800000|>=1|s
transaction.max.timeout.ms|int|900000|>=1|s
transaction.abort.timed.out.transaction.cleanup.interval.ms|int|10000|>=1|s
transaction.remove.expired.transaction.cleanup.interval.ms|int|3600000|>=1|s
controller.quorum.voters|list|||s
controller.quorum.bootstrap.servers|list|||s
controller.quorum.election.timeout.ms|int|1000||s
controller.quorum.fetch.timeout.ms|int|2000||s
controller.quorum.election.backoff.max.ms|int|1000||s
controller.quorum.append.linger.ms|int|25||s
controller.quorum.request.timeout.ms|int|2000||s
controller.quorum.retry.backoff.ms|int|20||s
metrics.num.samples|int|2|>=1|s
metrics.sample.window.ms|long|30000|>=1|s
metric.reporters|list|||c
metrics.recording.level|string|INFO||s
auto.include.jmx.reporter|boolean|true||s
kafka.metrics.reporters|list|||s
kafka.metrics.polling.interval.secs|int|10|>=1|s
telemetry.max.bytes|int|1048576|>=1|s
quota.window.num|int|11|>=1|s
replication.quota.window.num|int|11|>=1|s
alter.log.dirs.replication.quota.window.num|int|11|>=1|s
controller.quota.window.num|int|11|>=1|s
quota.window.size.seconds|int|1|>=1|s
replication.quota.window.size.seconds|int|1|>=1|s
alter.log.dirs.replication.quota.window.size.seconds|int|1|>=1|s
controller.quota.window.size.seconds|int|1|>=1|s
client.quota.callback.class|class|||s
leader.replication.throttled.rate|long|9223372036854775807|>=0|c
follower.replication.throttled.rate|long|9223372036854775807|>=0|c
replica.alter.log.dirs.io.max.bytes.per.second|long|9223372036854775807|>=0|c
connections.max.reauth.ms|long|0||s
sasl.server.max.receive.size|int|524288||s
security.providers|string|||s
principal.builder.class|class|org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder||b
ssl.client.auth|string|none|in:required,requested,none|b
ssl.principal.mapping.rules|string|DEFAULT||s
ssl.allow.dn.changes|boolean|false||s
ssl.allow.san.changes|boolean|false||s
ssl.protocol|string|TLSv1.3||b
ssl.provider|string|||b
ssl.enabled.protocols|list|TLSv1.2,TLSv1.3||b
ssl.keystore.type|string|JKS||l
ssl.keystore.location|string|||l
ssl.keystore.password|password|||l
ssl.key.password|password|||l
ssl.keystore.key|password|||l
ssl.keystore.certificate.chain|password|||l
ssl.truststore.type|string|JKS||l
ssl.truststore.location|string|||l
ssl.truststore.password|password|||l
ssl.truststore.certificates|password|||l
ssl.keymanager.algorithm|string|SunX509||b
ssl.trustmanager.algorithm|string|PKIX||b
ssl.endpoint.identification.algorithm|string|https||b
ssl.secure.random.implementation|string|||b
ssl.cipher.suites|list|||b
ssl.engine.factory.class|class|||b
sasl.mechanism.inter.broker.protocol|string|GSSAPI||b
sasl.enabled.mechanisms|list|GSSAPI||b
sasl.server.callback.handler.class|class|||s
sasl.kerberos.principal.to.local.rules|list|DEFAULT||b
sasl.jaas.config|password|||b
sasl.client.callback.handler.class|class|||s
sasl.login.class|class|||s
sasl.login.callback.handler.class|class|||s
sasl.kerberos.service.name|string|||b
sasl.kerberos.kinit.cmd|string|/usr/bin/kinit||b
sasl.kerberos.ticket.renew.window.factor|double|0.8||b
sasl.kerberos.ticket.renew.jitter|double|0.05||b
sasl.kerberos.min.time.before.relogin|long|60000||b
sasl.login.refresh.window.factor|double|0.8||b
sasl.login.refresh.window.jitter|double|0.05||b
sasl.login.refresh.min.period.seconds|short|60||b
sasl.login.refresh.buffer.seconds|short|300||b
sasl.login.connect.timeout.ms|int|||s
sasl.login.read.timeout.ms|int|||s
sasl.login.retry.backoff.max.ms|long|10000||s
sasl.login.retry.backoff.ms|long|100||s
sasl.oauthbearer.scope.claim.name|string|scope||s
sasl.oauthbearer.sub.claim.name|string|sub||s
sasl.oauthbearer.token.endpoint.url|string|||s
sasl.oauthbearer.jwks.endpoint.url|string|||s
sasl.oauthbearer.jwks.endpoint.refresh.ms|long|3600000||s
sasl.oauthbearer.jwks.endpoint.retry.backoff.ms|long|100||s
sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms|long|10000||s
sasl.oauthbearer.clock.skew.seconds|int|30||s
sasl.oauthbearer.expected.audience|list|||s
sasl.oauthbearer.expected.issuer|string|||s
delegation.token.master.key|password|||s
delegation.token.secret.key|password|||s
delegation.token.max.lifetime.ms|long|604800000|>=1|s
delegation.token.expiry.time.ms|long|86400000|>=1|s
delegation.token.expiry.check.interval.ms|long|3600000|>=1|s
password.encoder.secret|password|||s
password.encoder.old.secret|password|||s
password.encoder.keyfactory.algorithm|string|||s
password.encoder.cipher.algorithm|string|AES/CBC/PKCS5Padding||s
password.encoder.key.length|int|128|>=8|s
password.encoder.iterations|int|4096|>=1024|s
`;

const TYPES: Record<string, ConfigType> = {
  boolean: "bool",
  string: "string",
  int: "int",
  short: "short",
  long: "long",
  double: "double",
  list: "list",
  class: "class",
  password: "password",
};

const SCOPES: Record<string, DynamicScope | undefined> = {
  b: "per-broker",
  c: "cluster-wide",
  l: "listener",
  s: undefined,
  i: undefined,
};

function parseDefault(type: ConfigType, raw: string): ConfigDef["default"] {
  if (raw === "") return null;
  switch (type) {
    case "bool":
      return raw === "true";
    case "int":
    case "short":
    case "long":
    case "double": {
      const n = Number(raw);
      return n > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : n;
    }
    default:
      return raw;
  }
}

function parseRow(row: string): ConfigDef {
  const [name, t, dflt, validator, scope] = row.split("|");
  const type = TYPES[t];
  const d: ConfigDef = {
    name,
    type,
    default: parseDefault(type, dflt),
    doc: "Kafka 3.9 broker setting.",
    noEffect: true,
  };
  const dynamic = SCOPES[scope];
  if (dynamic) d.dynamic = dynamic;
  if (scope === "i") d.internal = true;
  let m: RegExpExecArray | null;
  if ((m = /^>=(-?[\d.]+)$/.exec(validator))) d.min = Number(m[1]);
  else if ((m = /^(-?[\d.]+)\.\.(-?[\d.]+)$/.exec(validator))) {
    d.min = Number(m[1]);
    d.max = Number(m[2]);
  } else if ((m = /^(?:in|list):(.*)$/.exec(validator))) d.choices = m[1].split(",");
  else if (validator === "mv") d.check = "metadata-version";
  else if (validator === "gzip") d.check = "gzip-level";
  else if (validator === "pool") d.check = "thread-pool-size";
  else if (validator === "nonempty") d.check = "non-empty";
  return d;
}

/** Kafka 3.9's broker settings, in the order of its ConfigDefs. */
export const KAFKA_BROKER_CONFIGS: ConfigDef[] = TABLE.trim().split("\n").map(parseRow);
