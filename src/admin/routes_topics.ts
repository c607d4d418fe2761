/**
 * Topic routes of the admin API:
 *
 *   GET    /v1/topics                                   every topic with its partitions
 *   POST   /v1/topics                                   create {name, partitions, configs}
 *   GET    /v1/topics/{name}                            one topic
 *   DELETE /v1/topics/{name}                            delete it
 *   GET    /v1/topics/{name}/configs                    every topic setting with its source
 *   PUT    /v1/topics/{name}/configs                    replace the overrides
 *   PATCH  /v1/topics/{name}/configs                    merge overrides (null resets a key)
 *   GET    /v1/topics/{name}/partitions/{p}             one partition
 *   GET    /v1/topics/{name}/partitions/{p}/records     peek records (?offset=&limit=&maxBytes=)
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { TopicMetadata } from "../../storage/log_manager.ts";
import type { AdminHost } from "./admin_host.ts";
import { type ConfigValue, parseTopicConfigs } from "../config.ts";
import { formatValue, Source, topicConfigEntries } from "../handlers/describe_configs.ts";
import {
  asObject,
  badRequest,
  configStrings,
  type Context,
  Hono,
  HttpError,
  intParam,
  jsonBody,
  notFound,
} from "./http.ts";
import { partitionStatus } from "./tiering.ts";
import { DEFAULT_PEEK_BYTES, MAX_PEEK_BYTES, MAX_PEEK_RECORDS } from "../record_peek.ts";

/** Kafka's internal topics (reported with `internal: true`, as Metadata's isInternal). */
const INTERNAL_TOPICS = new Set(["__consumer_offsets", "__transaction_state"]);

const SOURCE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Source).map(([k, v]) => [v, k]),
);
const TYPE_NAMES: Record<number, string> = {
  1: "boolean",
  2: "string",
  3: "int",
  4: "short",
  5: "long",
  6: "double",
  7: "list",
  8: "class",
  9: "password",
};

export interface PartitionJson {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
  lastStableOffset: number;
  /** Bytes on local disk (Kafka's partition Size); equals localBytes. */
  sizeBytes: number;
  localBytes: number;
  /** Bytes in the cold tier (tiered storage); 0 for topics that are not tiered. */
  remoteBytes: number;
  /** Local segments. */
  segments: number;
  remoteSegments: number;
  localLogStartOffset: number;
  highestOffsetInRemoteStorage: number;
}

export interface TopicJson {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: PartitionJson[];
  /** The topic's own overrides (settings that differ from the broker defaults). */
  configs: Record<string, string | null>;
}

/** One partition, read on its owning worker ("status" partition op); null if it does not exist. */
async function partitionJsonOrNull(
  broker: AdminHost,
  topic: string,
  p: number,
): Promise<PartitionJson | null> {
  const s = await partitionStatus(broker, topic, p);
  if (!s) return null;
  const { replicas, isr } = broker.services.leadership.replicasOf(topic, p);
  return {
    partition: p,
    leader: broker.services.leadership.leaderOf(topic, p)?.leaderId ?? -1,
    replicas,
    isr,
    logStartOffset: s.logStartOffset,
    highWatermark: s.highWatermark,
    logEndOffset: s.logEndOffset,
    lastStableOffset: s.lastStableOffset,
    sizeBytes: s.localBytes,
    localBytes: s.localBytes,
    remoteBytes: s.remoteBytes,
    segments: s.segmentCount,
    remoteSegments: s.remoteSegments,
    localLogStartOffset: s.localLogStartOffset,
    highestOffsetInRemoteStorage: s.highestOffsetInRemoteStorage,
  };
}

/** One partition; rejects with UNKNOWN_TOPIC_OR_PARTITION when it does not exist. */
export async function partitionJson(
  broker: AdminHost,
  topic: string,
  p: number,
): Promise<PartitionJson> {
  const json = await partitionJsonOrNull(broker, topic, p);
  if (!json) {
    throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown partition ${topic}-${p}`);
  }
  return json;
}

/** A topic with its partitions (their status ops run concurrently). */
export async function topicJson(broker: AdminHost, t: TopicMetadata): Promise<TopicJson> {
  const all = await Promise.all(
    Array.from({ length: t.partitions }, (_, p) => partitionJsonOrNull(broker, t.name, p)),
  );
  const partitions = all.filter((x): x is PartitionJson => x !== null);
  return {
    name: t.name,
    topicId: t.topicId,
    internal: INTERNAL_TOPICS.has(t.name),
    partitions,
    configs: overridesJson(t.configs),
  };
}

function overridesJson(configs: Record<string, ConfigValue>): Record<string, string | null> {
  return Object.fromEntries(
    Object.entries(configs).sort(([a], [b]) => a.localeCompare(b)).map((
      [k, v],
    ) => [k, formatValue(v)]),
  );
}

function configsJson(broker: AdminHost, t: TopicMetadata) {
  return {
    name: t.name,
    configs: topicConfigEntries(broker.services, t.configs).map((e) => ({
      name: e.name,
      value: e.value,
      source: SOURCE_NAMES[e.configSource] ?? String(e.configSource),
      isDefault: e.configSource === Source.DEFAULT_CONFIG,
      readOnly: e.readOnly,
      isSensitive: e.isSensitive,
      type: TYPE_NAMES[e.configType] ?? String(e.configType),
      documentation: e.documentation,
      synonyms: e.synonyms.map((s) => ({
        name: s.name,
        value: s.value,
        source: SOURCE_NAMES[s.source] ?? String(s.source),
      })),
    })),
  };
}

function topicOr404(broker: AdminHost, name: string): TopicMetadata {
  const t = broker.topic(name);
  if (!t) throw new HttpError(404, "UNKNOWN_TOPIC_OR_PARTITION", `unknown topic '${name}'`);
  return t;
}

function partitionParam(c: Context, t: TopicMetadata): number {
  const p = intParam(c.req.param("partition"), "partition", 0, 0, 2147483647);
  if (p >= t.partitions) {
    throw new HttpError(
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      `topic '${t.name}' has ${t.partitions} partition(s); there is no partition ${p}`,
    );
  }
  return p;
}

/** The `configs` object of a config update body: `{ configs: {...} }` or the bare object. */
function configUpdates(body: unknown): [string, string | null][] {
  const o = asObject(body, "request body");
  const keys = Object.keys(o);
  const inner = keys.length === 1 && keys[0] === "configs" ? o.configs : o;
  return configStrings(inner);
}

function boolQuery(c: Context, name: string): boolean {
  const v = c.req.query(name);
  if (v === undefined || v === "" || v === "false" || v === "0") return false;
  if (v === "true" || v === "1") return true;
  throw badRequest(`${name} must be true or false, got '${v}'`);
}

export function topicRoutes(broker: AdminHost): Hono {
  const app = new Hono();

  app.get("/", async (c) => {
    const topics = broker.topics().sort((a, b) => a.name.localeCompare(b.name));
    return c.json({ topics: await Promise.all(topics.map((t) => topicJson(broker, t))) });
  });

  app.post("/", async (c) => {
    const body = asObject(await jsonBody(c), "request body");
    const { name, partitions, replicationFactor, configs } = body;
    if (typeof name !== "string") throw badRequest("name (a string) is required");
    if (
      partitions !== undefined && (typeof partitions !== "number" || !Number.isInteger(partitions))
    ) {
      throw badRequest("partitions must be an integer (-1 or absent: num.partitions)");
    }
    if (
      replicationFactor !== undefined &&
      (typeof replicationFactor !== "number" || !Number.isInteger(replicationFactor))
    ) {
      throw new HttpError(
        400,
        "INVALID_REPLICATION_FACTOR",
        `replicationFactor must be an integer (-1 or absent: default.replication.factor)`,
      );
    }
    const entries = configs === undefined || configs === null ? [] : configStrings(configs);
    const validateOnly = boolQuery(c, "validateOnly");
    const created = await broker.topicAdmin.createTopic(
      name,
      partitions ?? -1,
      entries,
      validateOnly,
      undefined,
      { replicationFactor: replicationFactor ?? -1 },
    );
    if (!created) return c.json({ name, validateOnly: true }, 200);
    return c.json(await topicJson(broker, created), 201, {
      Location: `/v1/topics/${encodeURIComponent(name)}`,
    });
  });

  app.get(
    "/:name",
    async (c) => c.json(await topicJson(broker, topicOr404(broker, c.req.param("name")))),
  );

  app.delete("/:name", async (c) => {
    const name = c.req.param("name");
    topicOr404(broker, name);
    await broker.topicAdmin.deleteTopic(name);
    return c.body(null, 204);
  });

  app.get("/:name/configs", (c) => {
    return c.json(configsJson(broker, topicOr404(broker, c.req.param("name"))));
  });

  const updateConfigs = (merge: boolean) => async (c: Context) => {
    const name = c.req.param("name") ?? "";
    const t = topicOr404(broker, name);
    const updates = configUpdates(await jsonBody(c));
    const next = new Map<string, string | null>();
    if (merge) {
      for (const [k, v] of Object.entries(t.configs)) next.set(k, formatValue(v));
    }
    for (const [k, v] of updates) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    // Validates every key and value; a ConfigError names the key (400 INVALID_CONFIG).
    const parsed = parseTopicConfigs(next);
    if (boolQuery(c, "validateOnly")) {
      return c.json(configsJson(broker, { ...t, configs: Object.fromEntries(parsed) }));
    }
    // Not broker.alterTopicConfigs: that also applies validateTopicConfigs (the tiered
    // storage checks), which this route has never done. The other workers re-read the
    // catalogue before the answer, so every partition's log runs with the new configs.
    const updated = broker.logs.updateTopicConfig(name, Object.fromEntries(parsed));
    broker.propagation.propagate("syncCatalogue");
    await broker.propagation.propagated();
    return c.json(configsJson(broker, updated));
  };
  app.put("/:name/configs", updateConfigs(false));
  app.patch("/:name/configs", updateConfigs(true));

  app.get("/:name/partitions", async (c) => {
    const t = topicOr404(broker, c.req.param("name"));
    return c.json({ partitions: (await topicJson(broker, t)).partitions });
  });

  app.get("/:name/partitions/:partition", async (c) => {
    const t = topicOr404(broker, c.req.param("name"));
    return c.json(await partitionJson(broker, t.name, partitionParam(c, t)));
  });

  app.get("/:name/partitions/:partition/records", async (c) => {
    const t = topicOr404(broker, c.req.param("name"));
    const p = partitionParam(c, t);
    if (!broker.replicaManager.hasPartition(t.name, p)) {
      throw notFound(`partition ${t.name}-${p} is not open`);
    }
    // Absent: the log start offset, which the owning worker knows (peekRecords' default).
    const rawOffset = c.req.query("offset");
    const offset = rawOffset === undefined || rawOffset === ""
      ? undefined
      : intParam(rawOffset, "offset", 0, 0);
    const limit = intParam(c.req.query("limit"), "limit", 100, 1, MAX_PEEK_RECORDS);
    const maxBytes = intParam(
      c.req.query("maxBytes"),
      "maxBytes",
      DEFAULT_PEEK_BYTES,
      1,
      MAX_PEEK_BYTES,
    );
    return c.json(
      await broker.replicaManager.partitionOp(t.name, p, "peek", { offset, limit, maxBytes }),
    );
  });

  return app;
}
