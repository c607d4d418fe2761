/**
 * Dynamic broker configs (Kafka's DynamicBrokerConfig): AlterConfigs and
 * IncrementalAlterConfigs on a broker resource change settings at runtime. They are kept in
 * the data directory, loaded at start before storage opens, and applied to the open logs and
 * the background tasks at once; other workers re-read them when told.
 */
import { existsSync, readFileSync } from "node:fs";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { LogManager } from "../storage/log_manager.ts";
import { writeFileAtomic } from "../storage/partition_log.ts";
import {
  BROKER_DEFS,
  type BrokerConfig,
  ConfigError,
  type ConfigValue,
  DYNAMIC_BROKER_CONFIGS,
  listenerBaseDef,
  TOPIC_DEFS,
} from "./config.ts";
import { validateDynamicBrokerChanges } from "./dynamic_broker_config.ts";
import { errText, log } from "./log.ts";
import type { DynamicConfigApi } from "./services.ts";
import type { Propagation } from "./workers/propagation.ts";

/** Where dynamic broker configs (AlterConfigs on the broker resource) are kept. */
const DYNAMIC_CONFIG_FILE = "meta/dynamic-broker-configs.json";

/** Loads dynamic broker configs persisted by an earlier run (invalid entries are skipped). */
export function loadDynamicBrokerConfigs(config: BrokerConfig, dataDir: string): void {
  const path = `${dataDir}/${DYNAMIC_CONFIG_FILE}`;
  config.dynamicBroker.clear();
  config.dynamicDefault.clear();
  if (!existsSync(path)) return;
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as {
      broker?: Record<string, string>;
      default?: Record<string, string>;
    };
    for (const [scope, values] of [["broker", saved.broker], ["default", saved.default]] as const) {
      for (const [k, v] of Object.entries(values ?? {})) {
        try {
          config.setDynamic(k, v, scope);
        } catch (e) {
          log.warn(`ignoring saved dynamic config ${k}: ${errText(e)}`);
        }
      }
    }
  } catch (e) {
    log.warn(`cannot read ${path}: ${errText(e)}`);
  }
}

/** RemoteLogManager settings from the broker config. */
export function remoteLogManagerSettings(config: BrokerConfig) {
  return {
    taskIntervalMs: config.int("remote.log.manager.task.interval.ms"),
    retryBackoffMs: config.int("remote.log.manager.task.retry.backoff.ms"),
    retryBackoffMaxMs: config.int("remote.log.manager.task.retry.backoff.max.ms"),
    cacheBytes: config.int("remote.log.reader.cache.size.bytes"),
  };
}

/**
 * Something that takes dynamic broker configs when they change (Kafka's Reconfigurable): a TLS
 * listener re-reading its key material.
 */
export interface Reconfigurable {
  /** Throws ConfigError when `candidate` (the configs with the change) cannot be taken. */
  validateReconfiguration(candidate: BrokerConfig): void;
  /** The configs changed (here or on another worker): take the new values. */
  reconfigure(): void;
}

export class DynamicConfig implements DynamicConfigApi {
  private readonly reconfigurables: Reconfigurable[] = [];

  constructor(
    private readonly config: BrokerConfig,
    private readonly logs: LogManager,
    private readonly dataDir: string,
    private readonly propagation: Propagation,
  ) {}

  /**
   * Sets (value) or removes (null) dynamic broker configs for this broker ("broker") or as
   * cluster default ("default"), persists them and applies them: every topic's effective
   * config is re-derived, and the retention, cleaner and tiering tasks take the new values.
   * Throws INVALID_CONFIG for a topic config sent to a broker resource, INVALID_REQUEST for
   * what Kafka refuses (settings that change only at start, bad values, per-broker settings
   * as cluster default, thread pools resized beyond half or double, ...), with its messages.
   */
  alterBrokerConfigs(
    changes: [string, string | null][],
    scope: "broker" | "default",
    validateOnly = false,
  ): void {
    for (const [k] of changes) {
      if (TOPIC_DEFS.has(k) && !DYNAMIC_BROKER_CONFIGS.has(k) && !k.startsWith("log.")) {
        // e.g. retention.ms sent to a broker resource: name the right resource.
        throw new KafkaError(
          ErrorCode.INVALID_CONFIG,
          `${k}: a topic config; set it on the topic or as its broker default`,
        );
      }
    }
    validateDynamicBrokerChanges(this.config, changes, scope);
    if (this.reconfigurables.length) {
      const candidate = this.config.copy();
      for (const [k, v] of changes) candidate.setDynamic(k, v, scope);
      for (const r of this.reconfigurables) {
        try {
          r.validateReconfiguration(candidate);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `Invalid config value: ${e.message}`);
        }
      }
    }
    if (validateOnly) return;
    const layer = scope === "broker" ? this.config.dynamicBroker : this.config.dynamicDefault;
    const before = new Map(layer);
    for (const [k, v] of changes) this.config.setDynamic(k, v, scope);
    try {
      this.save();
    } catch (e) {
      // Not persisted: not applied either.
      layer.clear();
      for (const [k, v] of before) layer.set(k, v);
      throw new KafkaError(
        ErrorCode.KAFKA_STORAGE_ERROR,
        `cannot write ${DYNAMIC_CONFIG_FILE}: ${errText(e)}`,
      );
    }
    this.apply();
    this.propagation.propagate("syncBrokerConfigs");
    // Passwords (ssl.keystore.key, ...) and custom names, which may hold secrets, are not shown.
    const shown = changes.map(([k, v]) => {
      const d = BROKER_DEFS.get(k) ?? listenerBaseDef(k);
      return [k, v === null || (d && d.type !== "password") ? v : "(sensitive)"];
    });
    log.info(`dynamic broker configs (${scope}): ${JSON.stringify(shown)}`);
  }

  /** `r` takes the dynamic configs from now on (see Reconfigurable). */
  addReconfigurable(r: Reconfigurable): void {
    this.reconfigurables.push(r);
  }

  /** Re-derives every topic's config and the background tasks' settings from `config`. */
  apply(): void {
    for (const r of this.reconfigurables) r.reconfigure();
    for (const t of this.logs.listTopics()) this.logs.updateTopicConfig(t.name, t.configs);
    this.logs.retentionCheckIntervalMs = this.config.int("log.retention.check.interval.ms");
    if (this.logs.cleaner) {
      this.logs.cleaner.config.backoffMs = this.config.int("log.cleaner.backoff.ms");
      this.logs.cleaner.config.dedupeBufferBytes = this.config.int(
        "log.cleaner.dedupe.buffer.size",
      );
    }
    Object.assign(this.logs.remoteLogManager.config, remoteLogManagerSettings(this.config));
  }

  /** Another worker changed them: re-read the saved configs and apply them here. */
  reload(): void {
    loadDynamicBrokerConfigs(this.config, this.dataDir);
    this.apply();
  }

  private save(): void {
    const asText = (m: Map<string, ConfigValue>) =>
      Object.fromEntries([...m].map(([k, v]) => [k, String(v)]));
    writeFileAtomic(
      `${this.dataDir}/${DYNAMIC_CONFIG_FILE}`,
      JSON.stringify({
        broker: asText(this.config.dynamicBroker),
        default: asText(this.config.dynamicDefault),
      }),
    );
  }
}
