/**
 * Kafka's checks on a change of dynamic broker configs (DynamicBrokerConfig.validateConfigs,
 * then the reconfigurables' validateReconfiguration), in its order and with its messages. Kafka
 * answers every one of them with INVALID_REQUEST on a broker resource (its broker turns the
 * ConfigException into an InvalidRequestException), and so does this broker.
 */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import {
  BROKER_DEFS,
  type BrokerConfig,
  ConfigError,
  isPerBrokerConfig,
  listenerBaseDef,
  parseValue,
} from "./config.ts";

/** Thread pools Kafka resizes at runtime, within half and double of the current size. */
const THREAD_POOLS = [
  "num.io.threads",
  "num.replica.fetchers",
  "num.recovery.threads.per.data.dir",
  "background.threads",
];

const RETENTION = [
  "log.retention.ms",
  "log.retention.bytes",
  "log.local.retention.ms",
  "log.local.retention.bytes",
];

/** Scala's rendering of a small immutable Set, as Kafka's messages print it. */
function scalaSet(names: string[]): string {
  return `${names.length > 4 ? "HashSet" : "Set"}(${names.join(", ")})`;
}

function invalid(message: string): never {
  throw new KafkaError(ErrorCode.INVALID_REQUEST, message);
}

/**
 * Checks `changes` (a value to set, or null to remove) to the dynamic layer `scope` of
 * `current`; throws KafkaError(INVALID_REQUEST) naming the offending keys.
 */
export function validateDynamicBrokerChanges(
  current: BrokerConfig,
  changes: [string, string | null][],
  scope: "broker" | "default",
): void {
  const set = changes.filter(([, v]) => v !== null).map(([k]) => k);
  const nonDynamic = set.filter((k) => {
    const d = BROKER_DEFS.get(k);
    return d !== undefined && d.dynamic === undefined;
  });
  if (nonDynamic.length) {
    invalid(`Cannot update these configs dynamically: ${scalaSet(nonDynamic)}`);
  }
  const listenerOnly = set.filter((k) => BROKER_DEFS.get(k)?.dynamic === "listener");
  if (listenerOnly.length) {
    invalid(
      "These security configs can be dynamically updated only per-listener using the " +
        `listener prefix: ${scalaSet(listenerOnly)}`,
    );
  }
  for (const [k, v] of changes) {
    if (v === null) continue;
    const d = BROKER_DEFS.get(k) ?? listenerBaseDef(k);
    if (!d) continue; // a custom setting: Kafka keeps it as given
    try {
      parseValue(d, v);
    } catch (e) {
      if (e instanceof ConfigError && d.name !== k) invalid(`${k}: ${e.message}`);
      invalid((e as Error).message);
    }
  }
  if (scope === "default") {
    const perBroker = set.filter(isPerBrokerConfig);
    if (perBroker.length) {
      invalid(
        "Cannot update these configs at default cluster level, broker id must be specified: " +
          scalaSet(perBroker),
      );
    }
  }
  const next = current.copy();
  for (const [k, v] of changes) next.setDynamic(k, v, scope);
  const reason = reconfigurationFailure(current, next, new Set(changes.map(([k]) => k)));
  if (reason) invalid(`Invalid dynamic configuration: ${reason}`);
}

/** Why the reconfigurables would refuse going from `old` to `next` (Kafka's wording). */
function reconfigurationFailure(
  old: BrokerConfig,
  next: BrokerConfig,
  changed: Set<string>,
): string | undefined {
  for (const k of THREAD_POOLS) {
    const before = old.int(k);
    const after = next.int(k);
    if (after === before) continue;
    const what = `Dynamic thread count update validation failed for ${k}=${after}`;
    if (after <= 0) return `${what}, value should be at least 1`;
    if (after < before / 2) {
      return `${what}, value should be at least half the current value ${before}`;
    }
    if (after > before * 2) {
      return `${what}, value should not be greater than double the current value ${before}`;
    }
  }
  const cleanerBefore = old.int("log.cleaner.threads");
  const cleanerAfter = next.int("log.cleaner.threads");
  if (cleanerAfter !== cleanerBefore) {
    if (cleanerAfter < 1) return "Log cleaner threads should be at least 1";
    if (cleanerAfter < cleanerBefore / 2) {
      return `Log cleaner threads cannot be reduced to less than half the current value ${cleanerBefore}`;
    }
    if (cleanerAfter > cleanerBefore * 2) {
      return `Log cleaner threads cannot be increased to more than double the current value ${cleanerBefore}`;
    }
  }
  // DynamicLogConfig, when a retention setting changes: the local (tiered) retention may not
  // exceed the total retention.
  if (!RETENTION.some((k) => changed.has(k))) return undefined;
  const retentionMs = next.logRetentionMs;
  const localMs = next.int("log.local.retention.ms");
  if (retentionMs !== -1 && localMs !== -2) {
    if (localMs === -1) {
      return `Invalid value -1 for configuration log.local.retention.ms: Value must not be -1 ` +
        `as log.retention.ms value is set as ${retentionMs}.`;
    }
    if (localMs > retentionMs) {
      return `Invalid value ${localMs} for configuration log.local.retention.ms: Value must not ` +
        `be more than log.retention.ms property value: ${retentionMs}`;
    }
  }
  const retentionBytes = next.int("log.retention.bytes");
  const localBytes = next.int("log.local.retention.bytes");
  if (retentionBytes > -1 && localBytes !== -2) {
    if (localBytes === -1) {
      return `Invalid value -1 for configuration log.local.retention.bytes: Value must not be ` +
        `-1 as log.retention.bytes value is set as ${retentionBytes}.`;
    }
    if (localBytes > retentionBytes) {
      return `Invalid value ${localBytes} for configuration log.local.retention.bytes: Value ` +
        `must not be more than log.retention.bytes property value: ${retentionBytes}`;
    }
  }
  return undefined;
}
