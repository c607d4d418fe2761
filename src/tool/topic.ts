/**
 * `tributary topic create|list|describe|delete|alter-config|add-partitions`: what
 * kafka-topics.sh and kafka-configs.sh (--entity-type topics) do, with the same flags.
 */
import { errorName } from "../../protocol/errors.ts";
import {
  alterConfigs,
  ConfigSource,
  createPartitions,
  createTopic,
  deleteTopic,
  describeConfigs,
  ResourceType,
} from "../client/admin.ts";
import type { KafkaClient, TopicInfo } from "../client/client.ts";
import {
  BOOTSTRAP_HELP,
  clientFor,
  flag,
  int,
  list,
  out,
  pairs,
  parse,
  required,
  str,
  UsageError,
} from "./args.ts";

export const TOPIC_HELP =
  `Usage: tributary topic <create|list|describe|delete|alter-config|add-partitions> [options]

  create          --topic T [--partitions N] [--replication-factor R] [--config k=v]...
                  [--if-not-exists]
  list            [--exclude-internal]
  describe        [--topic T] (every topic without --topic)
  delete          --topic T [--if-exists]
  alter-config    --topic T [--config k=v]... [--delete-config k]...
  add-partitions  --topic T --partitions N   (the new total, as kafka-topics --alter)

${BOOTSTRAP_HELP}
`;

const OPTIONS = {
  "topic": { type: "string" },
  "partitions": { type: "string" },
  "replication-factor": { type: "string" },
  "config": { type: "string", multiple: true },
  "delete-config": { type: "string", multiple: true },
  "if-not-exists": { type: "boolean" },
  "if-exists": { type: "boolean" },
  "exclude-internal": { type: "boolean" },
} as const;

export async function topicCommand(args: string[]): Promise<number> {
  const p = parse(args, OPTIONS, "topic");
  if (flag(p, "help")) {
    await out(TOPIC_HELP);
    return 0;
  }
  const sub = p.positionals[0];
  if (!sub) throw new UsageError("a topic subcommand is required", "topic");
  if (p.positionals.length > 1) {
    throw new UsageError(`unexpected argument '${p.positionals[1]}'`, "topic");
  }
  const client = clientFor(p);
  try {
    switch (sub) {
      case "create": {
        const topic = required(p, "topic", "topic");
        const partitions = int(p, "partitions", "topic", -1)!;
        const rf = int(p, "replication-factor", "topic", -1)!;
        try {
          await createTopic(client, topic, partitions, rf, pairs(p, "config", "topic"));
        } catch (e) {
          if (flag(p, "if-not-exists") && errorCodeName(e) === "TOPIC_ALREADY_EXISTS") return 0;
          throw e;
        }
        await out(`Created topic ${topic}.\n`);
        return 0;
      }
      case "list": {
        const md = await client.metadata(null);
        const names = md.topics.filter((t) => t.errorCode === 0)
          .filter((t) => !(flag(p, "exclude-internal") && t.isInternal))
          .map((t) => t.name).sort();
        await out(names.map((n) => n + "\n").join(""));
        return 0;
      }
      case "describe":
        return await describe(client, str(p, "topic"));
      case "delete": {
        const topic = required(p, "topic", "topic");
        try {
          await deleteTopic(client, topic);
        } catch (e) {
          if (flag(p, "if-exists") && errorCodeName(e) === "UNKNOWN_TOPIC_OR_PARTITION") return 0;
          throw e;
        }
        await out(`Deleted topic ${topic}.\n`);
        return 0;
      }
      case "alter-config": {
        const topic = required(p, "topic", "topic");
        const set = pairs(p, "config", "topic");
        const remove = list(p, "delete-config");
        if (Object.keys(set).length === 0 && remove.length === 0) {
          throw new UsageError("give --config k=v or --delete-config k", "topic");
        }
        await alterConfigs(client, ResourceType.TOPIC, topic, set, remove);
        await out(`Completed updating config for topic ${topic}.\n`);
        return 0;
      }
      case "add-partitions": {
        const topic = required(p, "topic", "topic");
        const n = int(p, "partitions", "topic");
        if (n === undefined) throw new UsageError("--partitions is required", "topic");
        await createPartitions(client, topic, n);
        await out(`Topic ${topic} now has ${n} partitions.\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown topic subcommand '${sub}'`, "topic");
    }
  } finally {
    client.close();
  }
}

function errorCodeName(e: unknown): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === "number" ? errorName(code) : undefined;
}

/** kafka-topics --describe: a summary line per topic, then one line per partition. */
async function describe(client: KafkaClient, topic: string | undefined): Promise<number> {
  let topics: TopicInfo[];
  if (topic !== undefined) {
    topics = [await client.topic(topic)];
  } else {
    topics = (await client.metadata(null)).topics.filter((t) => t.errorCode === 0)
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  let text = "";
  for (const t of topics) {
    // The topic's own overrides. Kafka's tool lists every non-DEFAULT_CONFIG entry, which
    // also repeats static broker settings; the overrides are what a person set on the topic.
    const configs = (await describeConfigs(client, ResourceType.TOPIC, t.name))
      .filter((c) => c.source === ConfigSource.DYNAMIC_TOPIC_CONFIG)
      .map((c) => `${c.name}=${c.isSensitive ? "<sensitive>" : c.value ?? ""}`)
      .sort();
    const rf = t.partitions[0]?.replicas.length ?? 0;
    text += `Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\t` +
      `ReplicationFactor: ${rf}\tConfigs: ${configs.join(",")}\n`;
    for (const p of t.partitions) {
      text +=
        `\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${
          p.leader < 0 ? "none" : p.leader
        }\tReplicas: ${p.replicas.join(",")}\tIsr: ${p.isr.join(",")}` +
        (p.offline.length ? `\tOffline: ${p.offline.join(",")}` : "") + "\n";
    }
  }
  await out(text);
  return 0;
}
