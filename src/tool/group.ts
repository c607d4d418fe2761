/**
 * `tributary group list|describe|reset-offsets|delete`: kafka-consumer-groups.sh, with its
 * reset flags (--to-earliest --to-latest --to-offset --shift-by --to-datetime --to-current,
 * --dry-run / --execute, --topic t[:p,p] or --all-topics) and its rule that offsets are reset
 * only while the group has no active members.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { deleteGroup, describeGroup, listGroups } from "../client/admin.ts";
import { hostPort, type KafkaClient } from "../client/client.ts";
import {
  commitOffsets,
  EARLIEST_TIMESTAMP,
  fetchCommitted,
  LATEST_TIMESTAMP,
  listOffsets,
  type TopicPartition,
  tpKey,
} from "../client/offsets.ts";
import {
  BOOTSTRAP_HELP,
  clientFor,
  flag,
  InputError,
  list,
  out,
  parse,
  required,
  str,
  table,
  UsageError,
} from "./args.ts";

export const GROUP_HELP = `Usage: tributary group <list|describe|reset-offsets|delete> [options]

  list            every group of the cluster
  describe        --group G [--state | --members]: offsets and lag per partition
  reset-offsets   --group G (--topic T[:P,P...] ... | --all-topics) and one of
                    --to-earliest --to-latest --to-offset N --shift-by N
                    --to-datetime YYYY-MM-DDTHH:mm:SS.sss --to-current
                  then --dry-run (the default: print the new offsets) or --execute
  delete          --group G

${BOOTSTRAP_HELP}
`;

const OPTIONS = {
  "group": { type: "string" },
  "topic": { type: "string", multiple: true },
  "all-topics": { type: "boolean" },
  "state": { type: "boolean" },
  "members": { type: "boolean" },
  "to-earliest": { type: "boolean" },
  "to-latest": { type: "boolean" },
  "to-current": { type: "boolean" },
  "to-offset": { type: "string" },
  "shift-by": { type: "string" },
  "to-datetime": { type: "string" },
  "dry-run": { type: "boolean" },
  "execute": { type: "boolean" },
} as const;

export async function groupCommand(args: string[]): Promise<number> {
  const p = parse(args, OPTIONS, "group");
  if (flag(p, "help")) {
    await out(GROUP_HELP);
    return 0;
  }
  const sub = p.positionals[0];
  if (!sub) throw new UsageError("a group subcommand is required", "group");
  if (p.positionals.length > 1) {
    throw new UsageError(`unexpected argument '${p.positionals[1]}'`, "group");
  }
  if (!["list", "describe", "reset-offsets", "delete"].includes(sub)) {
    throw new UsageError(`unknown group subcommand '${sub}'`, "group");
  }
  const client = clientFor(p);
  try {
    switch (sub) {
      case "list": {
        const groups = await listGroups(client);
        await out(groups.map((g) => g.groupId + "\n").join(""));
        return 0;
      }
      case "describe":
        return await describe(client, required(p, "group", "group"), p);
      case "delete": {
        const group = required(p, "group", "group");
        await deleteGroup(client, group);
        await out(`Deletion of requested consumer groups ('${group}') was successful.\n`);
        return 0;
      }
      default:
        return await resetOffsets(client, required(p, "group", "group"), p);
    }
  } finally {
    client.close();
  }
}

async function describe(
  client: KafkaClient,
  group: string,
  p: ReturnType<typeof parse>,
): Promise<number> {
  const d = await describeGroup(client, group);
  if (d.state === "Dead") {
    throw new KafkaError(
      ErrorCode.GROUP_ID_NOT_FOUND,
      `GROUP_ID_NOT_FOUND: Consumer group '${group}' does not exist.`,
    );
  }
  if (flag(p, "state")) {
    const coord = await client.coordinator(group);
    const info = client.brokerInfo(coord);
    await out(table(["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"], [[
      group,
      `${info ? hostPort(info.host, info.port) + " " : ""}(${coord})`,
      d.protocol || "",
      d.state,
      d.members.length,
    ]]));
    return 0;
  }
  if (flag(p, "members")) {
    await out(table(
      ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"],
      d.members.map((m) => [group, m.memberId, m.clientHost, m.clientId, m.assignment.length]),
    ));
    return 0;
  }
  const committed = await fetchCommitted(client, group, null);
  const owner = new Map<string, (typeof d.members)[number]>();
  for (const m of d.members) for (const tp of m.assignment) owner.set(tpKey(tp), m);
  const tps = new Map<string, TopicPartition>();
  for (const c of committed.values()) tps.set(tpKey(c), { topic: c.topic, partition: c.partition });
  for (const m of d.members) for (const tp of m.assignment) tps.set(tpKey(tp), tp);
  const sorted = [...tps.values()].sort((a, b) =>
    a.topic.localeCompare(b.topic) || a.partition - b.partition
  );
  const ends = sorted.length ? await listOffsets(client, sorted, LATEST_TIMESTAMP) : new Map();
  if (d.members.length === 0) {
    console.error(`Consumer group '${group}' has no active members.`);
  }
  await out(table(
    [
      "GROUP",
      "TOPIC",
      "PARTITION",
      "CURRENT-OFFSET",
      "LOG-END-OFFSET",
      "LAG",
      "CONSUMER-ID",
      "HOST",
      "CLIENT-ID",
    ],
    sorted.map((tp) => {
      const c = committed.get(tpKey(tp));
      const end = ends.get(tpKey(tp));
      const m = owner.get(tpKey(tp));
      return [
        group,
        tp.topic,
        tp.partition,
        c ? c.offset : "-",
        end ?? "-",
        c && end !== undefined ? Math.max(0, end - c.offset) : "-",
        m?.memberId ?? "-",
        m?.clientHost ?? "-",
        m?.clientId ?? "-",
      ];
    }),
  ));
  return 0;
}

/** `t`, `t:0` or `t:0,2`. */
function parseTopicArg(s: string): { topic: string; partitions: number[] | null } {
  const i = s.lastIndexOf(":");
  if (i < 0) return { topic: s, partitions: null };
  const parts = s.slice(i + 1).split(",");
  if (!parts.every((x) => /^\d+$/.test(x))) {
    throw new UsageError(`--topic '${s}': partitions must be numbers`, "group");
  }
  return { topic: s.slice(0, i), partitions: parts.map(Number) };
}

async function resetOffsets(
  client: KafkaClient,
  group: string,
  p: ReturnType<typeof parse>,
): Promise<number> {
  const scenarios = [
    "to-earliest",
    "to-latest",
    "to-current",
    "to-offset",
    "shift-by",
    "to-datetime",
  ]
    .filter((s) => p.values[s] !== undefined);
  if (scenarios.length !== 1) {
    throw new UsageError(
      "give exactly one of --to-earliest --to-latest --to-current --to-offset --shift-by --to-datetime",
      "group",
    );
  }
  const topicArgs = list(p, "topic");
  if ((topicArgs.length > 0) === flag(p, "all-topics")) {
    throw new UsageError("give --topic (one or more) or --all-topics", "group");
  }
  if (flag(p, "dry-run") && flag(p, "execute")) {
    throw new UsageError("--dry-run and --execute cannot be used together", "group");
  }
  const num = (name: string) => {
    const v = str(p, name)!;
    if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name}: '${v}' is not an integer`, "group");
    return Number(v);
  };
  const scenario = scenarios[0];
  const d = await describeGroup(client, group);
  if (d.state !== "Empty" && d.state !== "Dead") {
    throw new KafkaError(
      ErrorCode.NON_EMPTY_GROUP,
      `NON_EMPTY_GROUP: Assignments can only be reset if the group '${group}' is inactive, but the current state is ${d.state}.`,
    );
  }
  const committed = await fetchCommitted(client, group, null);
  let tps: TopicPartition[] = [];
  if (flag(p, "all-topics")) {
    tps = [...committed.values()].map((c) => ({ topic: c.topic, partition: c.partition }));
  } else {
    for (const a of topicArgs.map(parseTopicArg)) {
      const info = await client.topic(a.topic);
      const have = info.partitions.map((x) => x.partition);
      for (const part of a.partitions ?? have) {
        if (!have.includes(part)) {
          throw new KafkaError(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `UNKNOWN_TOPIC_OR_PARTITION: topic '${a.topic}' has no partition ${part}`,
          );
        }
        tps.push({ topic: a.topic, partition: part });
      }
    }
  }
  tps.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const earliest = await listOffsets(client, tps, EARLIEST_TIMESTAMP);
  const latest = await listOffsets(client, tps, LATEST_TIMESTAMP);
  const clamp = (tp: TopicPartition, o: number) => {
    const lo = earliest.get(tpKey(tp))!;
    const hi = latest.get(tpKey(tp))!;
    if (o > hi) {
      console.error(
        `New offset (${o}) is higher than latest offset for topic partition ${tp.topic}-${tp.partition}. Value will be set to ${hi}`,
      );
      return hi;
    }
    if (o < lo) {
      console.error(
        `New offset (${o}) is lower than earliest offset for topic partition ${tp.topic}-${tp.partition}. Value will be set to ${lo}`,
      );
      return lo;
    }
    return o;
  };
  let byTime: Map<string, number> | undefined;
  if (scenario === "to-datetime") {
    const v = str(p, "to-datetime")!;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) {
      throw new UsageError(
        `--to-datetime: '${v}' is not a date in the format YYYY-MM-DDTHH:mm:SS.sss`,
        "group",
      );
    }
    byTime = await listOffsets(client, tps, ms);
  }
  const plan = tps.map((tp) => {
    const k = tpKey(tp);
    const current = committed.get(k)?.offset;
    let o: number;
    switch (scenario) {
      case "to-earliest":
        o = earliest.get(k)!;
        break;
      case "to-latest":
        o = latest.get(k)!;
        break;
      case "to-current":
        o = current ?? latest.get(k)!;
        break;
      case "to-offset":
        o = clamp(tp, num("to-offset"));
        break;
      case "shift-by":
        if (current === undefined) {
          throw new InputError(
            `Cannot shift offset for partition ${tp.topic}-${tp.partition} since there is no current committed offset`,
          );
        }
        o = clamp(tp, current + num("shift-by"));
        break;
      default: {
        const t = byTime!.get(k) ?? -1;
        o = t >= 0 ? t : latest.get(k)!;
      }
    }
    return { ...tp, offset: o };
  });
  if (flag(p, "execute")) {
    await commitOffsets(client, group, plan);
  } else if (!flag(p, "dry-run")) {
    console.error(
      "WARN: No action will be performed as the --execute option is missing. Add --dry-run to keep this behaviour explicitly.",
    );
  }
  await out(table(
    ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
    plan.map((x) => [group, x.topic, x.partition, x.offset]),
  ));
  return 0;
}
