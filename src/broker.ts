/**
 * The broker: wires configuration, the log manager (storage) and the handler registry to a
 * TCP listener. Handlers reach everything they need through this object.
 */
import { decompress } from "../protocol/compression.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { LogManager, type TopicMetadata } from "../storage/log_manager.ts";
import type { LogConfig } from "../storage/log_config.ts";
import type { PartitionLog } from "../storage/partition_log.ts";
import { BrokerConfig, type ConfigValue, parseTopicConfigs, topicConfigValue } from "./config.ts";
import { Connection, errText } from "./connection.ts";
import { registerHandlers } from "./handlers/mod.ts";
import { log } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { ProducerIdManager } from "./producer_id_manager.ts";
import { HandlerRegistry } from "./registry.ts";

export interface BrokerOptions {
  /** Bind address (default 0.0.0.0). */
  host?: string;
  /** Port; 0 picks a free one (default 9092). */
  port?: number;
  /** Data directory (default ./data). */
  dataDir?: string;
  /** Host name put in Metadata responses (default: the bind host, or 127.0.0.1 for 0.0.0.0). */
  advertisedHost?: string;
  /** Port put in Metadata responses (default: the bound port). */
  advertisedPort?: number;
  /** Kafka broker settings by name (`num.partitions`, `log.segment.bytes`, ...). */
  config?: Record<string, string | number | boolean>;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". */
export function validateTopicName(name: string): void {
  if (!name || name.length > 249 || name === "." || name === ".." || !TOPIC_NAME.test(name)) {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `invalid topic name '${name}'`);
  }
}

/** "delete,compact" and "compact,delete" are the same policy. */
function normalizePolicy(p: string): LogConfig["cleanupPolicy"] {
  const parts = new Set(p.split(","));
  if (parts.has("compact") && parts.has("delete")) return "compact,delete";
  return parts.has("compact") ? "compact" : "delete";
}

/** The LogConfig of a topic with these overrides, from the broker's defaults. */
export function logConfigFor(
  config: BrokerConfig,
  overrides: Record<string, ConfigValue>,
): LogConfig {
  const v = (k: string) => topicConfigValue(config, overrides, k);
  return {
    segmentBytes: v("segment.bytes") as number,
    segmentMs: v("segment.ms") as number,
    indexIntervalBytes: v("index.interval.bytes") as number,
    maxIndexEntries: Math.max(1, Math.floor((v("segment.index.bytes") as number) / 8)),
    flushIntervalMessages: v("flush.messages") as number,
    flushIntervalMs: v("flush.ms") as number,
    messageTimestampType: v("message.timestamp.type") as "CreateTime" | "LogAppendTime",
    maxMessageBytes: v("max.message.bytes") as number,
    retentionMs: v("retention.ms") as number,
    retentionBytes: v("retention.bytes") as number,
    cleanupPolicy: normalizePolicy(v("cleanup.policy") as string),
  };
}

export class Broker {
  readonly registry = new HandlerRegistry();
  readonly metrics = new Metrics();
  readonly connections = new Set<Connection>();
  readonly startedAt = Date.now();
  private listener?: Deno.TcpListener;
  private acceptLoop?: Promise<void>;
  private flushTimer?: ReturnType<typeof setInterval>;
  private closing?: Promise<void>;
  host = "0.0.0.0";
  port = 0;
  advertisedHost = "127.0.0.1";
  advertisedPort = 0;

  private constructor(
    readonly config: BrokerConfig,
    readonly logs: LogManager,
    readonly dataDir: string,
    readonly producerIds: ProducerIdManager,
  ) {
    registerHandlers(this.registry);
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get clusterId(): string {
    return this.logs.clusterId;
  }

  /** Opens storage (recovering every partition) and starts listening. */
  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const settings = new Map<string, string>();
    for (const [k, v] of Object.entries(options.config ?? {})) settings.set(k, String(v));
    const config = new BrokerConfig(settings);
    for (const k of config.unknown) log.warn(`unknown config '${k}' ignored`);
    const dataDir = options.dataDir ?? (config.get("log.dirs") as string | null) ??
      (config.get("log.dir") as string | null) ?? "./data";
    await Deno.mkdir(dataDir, { recursive: true });
    const logs = await LogManager.open(dataDir, {
      nodeId: config.nodeId,
      logConfigFor: (overrides) => logConfigFor(config, overrides),
      decompress: (codec, data) => decompress(codec, data),
    });
    const broker = new Broker(config, logs, dataDir, await ProducerIdManager.open(dataDir));
    broker.host = options.host ?? "0.0.0.0";
    try {
      broker.listener = Deno.listen({ hostname: broker.host, port: options.port ?? 9092 });
    } catch (e) {
      await logs.close();
      throw e;
    }
    const addr = broker.listener.addr as Deno.NetAddr;
    broker.port = addr.port;
    broker.advertisedHost = options.advertisedHost ??
      (broker.host === "0.0.0.0" || broker.host === "::" ? "127.0.0.1" : broker.host);
    broker.advertisedPort = options.advertisedPort ?? broker.port;
    broker.acceptLoop = broker.accept();
    broker.startFlusher();
    return broker;
  }

  private startFlusher(): void {
    // log.flush.interval.ms is enforced on appends by each partition; this timer catches
    // partitions that went quiet with unflushed data.
    const interval = this.config.logFlushIntervalMs;
    if (interval > 0 && interval < 2 ** 31) {
      this.flushTimer = setInterval(() => {
        this.logs.flushAll().catch((e) => log.error(`periodic flush failed: ${errText(e)}`));
      }, Math.max(interval, 10));
    }
  }

  private async accept(): Promise<void> {
    const listener = this.listener!;
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (this.closing) return;
        if (e instanceof Deno.errors.BadResource) return;
        log.error(`accept failed: ${errText(e)}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      try {
        const c = new Connection(conn, this);
        this.connections.add(c);
        this.metrics.connectionsOpen++;
        this.metrics.connectionsTotal++;
        c.serve();
      } catch (e) {
        log.error(`could not set up a connection: ${errText(e)}`);
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    }
  }

  connectionClosed(c: Connection): void {
    if (this.connections.delete(c)) this.metrics.connectionsOpen--;
  }

  // ---- topics -------------------------------------------------------------------------

  topic(name: string): TopicMetadata | undefined {
    return this.logs.getTopic(name);
  }

  topicById(id: string): TopicMetadata | undefined {
    return this.logs.getTopicById(id);
  }

  topics(): TopicMetadata[] {
    return this.logs.listTopics();
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.getPartition(topic, partition);
  }

  /** Creates a topic after validating its name, partition count and configs. */
  async createTopic(
    name: string,
    numPartitions: number,
    configs: Iterable<[string, string | null]> = [],
    validateOnly = false,
  ): Promise<TopicMetadata | null> {
    validateTopicName(name);
    if (this.topic(name)) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${name}' already exists`);
    }
    if (numPartitions === -1) numPartitions = this.config.int("num.partitions");
    if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > 100000) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `invalid partition count ${numPartitions}`,
      );
    }
    let overrides: Map<string, ConfigValue>;
    try {
      overrides = parseTopicConfigs(configs);
    } catch (e) {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, errText(e));
    }
    if (validateOnly) return null;
    const t = await this.logs.createTopic(name, numPartitions, Object.fromEntries(overrides));
    log.info(`created topic ${name} with ${numPartitions} partition(s)`);
    return t;
  }

  /** Creates `name` with broker defaults if auto-creation is on; undefined otherwise. */
  async autoCreateTopic(name: string): Promise<TopicMetadata | undefined> {
    const existing = this.topic(name);
    if (existing) return existing;
    if (!this.config.bool("auto.create.topics.enable")) return undefined;
    try {
      return (await this.createTopic(name, -1)) ?? undefined;
    } catch (e) {
      if (e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS) {
        return this.topic(name);
      }
      throw e;
    }
  }

  async deleteTopic(name: string): Promise<void> {
    if (!this.config.bool("delete.topic.enable")) {
      throw new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED);
    }
    if (!this.topic(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await this.logs.deleteTopic(name);
    log.info(`deleted topic ${name}`);
  }

  // ---- lifecycle ----------------------------------------------------------------------

  /** Stops accepting, closes connections, flushes and closes every log. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
      try {
        this.listener?.close();
      } catch {
        // already closed
      }
      for (const c of this.connections) c.close();
      await this.acceptLoop;
      await this.logs.close();
    })();
    return this.closing;
  }
}
