/**
 * Dev mode (`--dev`, `startBroker({ dev: true })`): settings for a broker on a laptop or in a
 * test, where waiting 3 s for a group's first rebalance or 45 s for a dead member is only in
 * the way, and 50 partitions per internal topic are 50 directories nobody reads.
 */

/**
 * What dev mode changes. Each applies only when the user did not set the key: an explicit
 * setting always wins.
 */
export const DEV_MODE_CONFIG: Readonly<Record<string, string>> = {
  // A group's first JoinGroup completes at once instead of waiting for more members.
  "group.initial.rebalance.delay.ms": "0",
  // Clients in tests often ask for short session timeouts (kafkajs, librdkafka down to ~1 s).
  "group.min.session.timeout.ms": "500",
  // KIP-848 members: a dead consumer is noticed in seconds, heartbeats every second.
  "group.consumer.min.session.timeout.ms": "1000",
  "group.consumer.session.timeout.ms": "10000",
  "group.consumer.min.heartbeat.interval.ms": "500",
  "group.consumer.heartbeat.interval.ms": "1000",
  // One partition per internal topic, as Kafka's single-node dev setups configure.
  "offsets.topic.num.partitions": "1",
  "transaction.state.log.num.partitions": "1",
  // Client authors test their retries against injected faults (src/faults.ts).
  "tributary.fault.injection.enable": "true",
};

/** `config` with dev mode's settings added where the user set nothing. */
export function withDevModeConfig(
  config: Record<string, string | number | boolean> = {},
): Record<string, string | number | boolean> {
  return { ...DEV_MODE_CONFIG, ...config };
}

/** A fresh data directory for a dev-mode broker that was given none (removed on close). */
export function makeDevDataDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "tributary-dev-" });
}
