/**
 * `tributary consume`: kafka-console-consumer. Assign mode (every partition, or --partition
 * with --offset) or a real classic consumer group (--group: join, sync, heartbeat, commit,
 * leave). Records print as Kafka's DefaultMessageFormatter prints them (print.timestamp,
 * print.partition, print.offset, print.headers, print.key, print.value, key.separator,
 * line.separator, headers.separator, null.literal) or, with --formatter json, as one JSON
 * object per line.
 *
 * A group commits the offset after the last record printed (never past a record it did not
 * print, even when --max-messages stops it inside a fetched batch), every 5 s and on exit.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import type { KafkaClient } from "../client/client.ts";
import { type ConsumerRecord, Fetcher } from "../client/fetcher.ts";
import { GroupMember } from "../client/group_member.ts";
import {
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
  int,
  out,
  pairs,
  parse,
  required,
  str,
  UsageError,
} from "./args.ts";

export const CONSUME_HELP = `Usage: tributary consume --topic T [options]

  --topic T                topic to read
  --from-beginning         start at the earliest offset (where the group has none committed)
  --partition N            read only partition N (not with --group)
  --offset O               with --partition: a non-negative offset, earliest or latest
  --from-timestamp TS      start at the first record at or after TS (ms since the epoch or an
                           ISO 8601 date) where there is no committed offset
  --group G                consume as member of consumer group G (classic protocol), committing
                           the offset after the last record printed
  --max-messages N         exit after N records
  --timeout-ms MS          exit when no record arrived for MS milliseconds
  --isolation-level L      read_uncommitted (default) or read_committed
  --consumer-property K=V  consumer settings, Kafka's names: enable.auto.commit (true),
                           auto.commit.interval.ms (5000), session.timeout.ms (45000),
                           heartbeat.interval.ms (3000), max.poll.interval.ms (300000),
                           fetch.max.wait.ms (500), auto.offset.reset (latest),
                           isolation.level
  --formatter json         one JSON object per record (also --format json):
                           {"topic","partition","offset","timestamp","timestampType","key",
                            "value","headers":[{"key","value"}]}
  --property KEY=VALUE     print.key print.value print.timestamp print.partition print.offset
                           print.headers (true/false), key.separator (default TAB),
                           line.separator, headers.separator (default ,), null.literal

${BOOTSTRAP_HELP}
`;

const OPTIONS = {
  "topic": { type: "string" },
  "from-beginning": { type: "boolean" },
  "partition": { type: "string" },
  "offset": { type: "string" },
  "from-timestamp": { type: "string" },
  "group": { type: "string" },
  "max-messages": { type: "string" },
  "timeout-ms": { type: "string" },
  "isolation-level": { type: "string" },
  "consumer-property": { type: "string", multiple: true },
  "formatter": { type: "string" },
  "format": { type: "string" },
  "property": { type: "string", multiple: true },
} as const;

const dec = new TextDecoder();

export type Formatter = (r: ConsumerRecord) => string;

/** Kafka's DefaultMessageFormatter with its properties. */
export function defaultFormatter(props: Record<string, string>): Formatter {
  const on = (k: string, d: boolean) => (props[k] === undefined ? d : props[k] === "true");
  const printTimestamp = on("print.timestamp", false);
  const printPartition = on("print.partition", false);
  const printOffset = on("print.offset", false);
  const printHeaders = on("print.headers", false);
  const printKey = on("print.key", false);
  const printValue = on("print.value", true);
  const keySep = props["key.separator"] ?? "\t";
  const lineSep = props["line.separator"] ?? "\n";
  const headersSep = props["headers.separator"] ?? ",";
  const nullLiteral = props["null.literal"] ?? "null";
  const text = (b: Uint8Array | null) => (b === null ? nullLiteral : dec.decode(b));
  return (r) => {
    let s = "";
    const sep = (more: boolean) => (s += more ? keySep : lineSep);
    if (printTimestamp) {
      s += r.timestamp >= 0 ? `${r.timestampType}:${r.timestamp}` : "NO_TIMESTAMP";
      sep(printPartition || printOffset || printHeaders || printKey || printValue);
    }
    if (printPartition) {
      s += `Partition:${r.partition}`;
      sep(printOffset || printHeaders || printKey || printValue);
    }
    if (printOffset) {
      s += `Offset:${r.offset}`;
      sep(printHeaders || printKey || printValue);
    }
    if (printHeaders) {
      s += r.headers.length
        ? r.headers.map((h) => `${h.key}:${text(h.value)}`).join(headersSep)
        : "NO_HEADERS";
      sep(printKey || printValue);
    }
    if (printKey) {
      s += text(r.key);
      sep(printValue);
    }
    if (printValue) s += text(r.value) + lineSep;
    return s;
  };
}

export const jsonFormatter: Formatter = (r) => {
  const t = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));
  return JSON.stringify({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: r.timestampType,
    key: t(r.key),
    value: t(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: t(h.value) })),
  }) + "\n";
};

function parseTimestamp(v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) {
    throw new UsageError(`--from-timestamp: '${v}' is neither ms nor an ISO 8601 date`, "consume");
  }
  return ms;
}

/** The offset each partition starts at when nothing is committed (auto.offset.reset). */
async function resetOffsets(
  client: KafkaClient,
  tps: TopicPartition[],
  policy: number,
): Promise<Map<string, number>> {
  const at = await listOffsets(client, tps, policy);
  if (policy >= 0) {
    // No record at or after the time: start at the end, as Kafka's offsetsForTimes users do.
    const missing = tps.filter((tp) => (at.get(tpKey(tp)) ?? -1) < 0);
    if (missing.length) {
      const latest = await listOffsets(client, missing, LATEST_TIMESTAMP);
      for (const [k, v] of latest) at.set(k, v);
    }
  }
  return at;
}

interface ConsumerProperties {
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  fetchMaxWaitMs: number;
  autoOffsetReset: string;
  isolation: string;
}

/** The consumer settings the tool acts on, with Kafka's defaults; anything else is refused. */
function consumerProperties(props: Record<string, string>): ConsumerProperties {
  const num = (k: string, d: number) => {
    const v = props[k];
    if (v === undefined) return d;
    if (!/^\d+$/.test(v)) throw new UsageError(`--consumer-property ${k}: '${v}'`, "consume");
    return Number(v);
  };
  const known = [
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "fetch.max.wait.ms",
    "auto.offset.reset",
    "isolation.level",
  ];
  for (const k of Object.keys(props)) {
    if (!known.includes(k)) {
      throw new UsageError(
        `--consumer-property ${k} is not supported (${known.join(", ")})`,
        "consume",
      );
    }
  }
  const reset = props["auto.offset.reset"] ?? "latest";
  if (reset !== "latest" && reset !== "earliest") {
    throw new UsageError(`auto.offset.reset: '${reset}' (earliest or latest)`, "consume");
  }
  return {
    autoCommit: (props["enable.auto.commit"] ?? "true") === "true",
    autoCommitIntervalMs: num("auto.commit.interval.ms", 5_000),
    sessionTimeoutMs: num("session.timeout.ms", 45_000),
    heartbeatIntervalMs: num("heartbeat.interval.ms", 3_000),
    maxPollIntervalMs: num("max.poll.interval.ms", 300_000),
    fetchMaxWaitMs: num("fetch.max.wait.ms", 500),
    autoOffsetReset: reset,
    isolation: props["isolation.level"] ?? "read_uncommitted",
  };
}

export async function consumeCommand(args: string[]): Promise<number> {
  const p = parse(args, OPTIONS, "consume");
  if (flag(p, "help")) {
    await out(CONSUME_HELP);
    return 0;
  }
  if (p.positionals.length) {
    throw new UsageError(`unexpected argument '${p.positionals[0]}'`, "consume");
  }
  const topic = required(p, "topic", "consume");
  const group = str(p, "group");
  const partition = int(p, "partition", "consume");
  const offsetArg = str(p, "offset");
  const fromBeginning = flag(p, "from-beginning");
  const fromTs = str(p, "from-timestamp");
  if (group !== undefined && partition !== undefined) {
    throw new UsageError("Options group and partition cannot be specified together.", "consume");
  }
  if (offsetArg !== undefined && partition === undefined) {
    throw new UsageError("The partition is required when offset is specified.", "consume");
  }
  if (offsetArg !== undefined && fromBeginning) {
    throw new UsageError("Options from-beginning and offset cannot be specified together.");
  }
  if (offsetArg !== undefined && !/^(\d+|earliest|latest)$/.test(offsetArg)) {
    throw new UsageError(
      `--offset: '${offsetArg}' is not a non-negative number, earliest or latest`,
      "consume",
    );
  }
  const formatName = str(p, "formatter") ?? str(p, "format");
  if (formatName !== undefined && !/^(json|default)$/i.test(formatName)) {
    throw new UsageError(`unknown formatter '${formatName}' (json or default)`, "consume");
  }
  const format: Formatter = formatName?.toLowerCase() === "json"
    ? jsonFormatter
    : defaultFormatter(pairs(p, "property", "consume"));
  const maxMessages = int(p, "max-messages", "consume");
  const timeoutMs = int(p, "timeout-ms", "consume");
  const cp = consumerProperties(pairs(p, "consumer-property", "consume"));
  const isolation = str(p, "isolation-level") ?? cp.isolation;
  if (isolation !== "read_uncommitted" && isolation !== "read_committed") {
    throw new UsageError(`--isolation-level: '${isolation}'`, "consume");
  }
  const earliest = fromBeginning || offsetArg === "earliest" ||
    (offsetArg === undefined && fromTs === undefined && cp.autoOffsetReset === "earliest");
  const outOfRangePolicy = earliest ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
  const policy = fromTs !== undefined
    ? parseTimestamp(fromTs)
    : (earliest ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP);

  const client = clientFor(p);
  const fetcher = new Fetcher(client, {
    maxWaitMs: cp.fetchMaxWaitMs,
    minBytes: 1,
    maxBytes: 52428800,
    partitionMaxBytes: 1048576,
    isolationLevel: isolation === "read_committed" ? 1 : 0,
  });
  let stop = false;
  const onSignal = () => (stop = true);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let member: GroupMember | undefined;
  let count = 0;
  /** Offset after the last record handed out, per partition: what a group commits. */
  const consumed = new Map<string, { topic: string; partition: number; offset: number }>();
  const committed = new Map<string, number>();
  /** `revoking`: the group is rebalancing; commit in the ending generation before rejoining. */
  const commit = async (revoking = false) => {
    if (!cp.autoCommit) return;
    if (!member || member.generationId < 0 || (member.needsRejoin && !revoking)) return;
    const todo = [...consumed.values()].filter((o) => committed.get(tpKey(o)) !== o.offset);
    if (todo.length === 0) return;
    if (await member.commit(todo)) { for (const o of todo) committed.set(tpKey(o), o.offset); }
  };
  try {
    const info = await client.topic(topic);
    if (partition !== undefined && !info.partitions.some((x) => x.partition === partition)) {
      throw new KafkaError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `UNKNOWN_TOPIC_OR_PARTITION: topic '${topic}' has no partition ${partition}`,
      );
    }
    if (group === undefined) {
      const tps = info.partitions.map((x) => ({ topic, partition: x.partition }))
        .filter((tp) => partition === undefined || tp.partition === partition);
      if (offsetArg !== undefined && /^\d+$/.test(offsetArg)) {
        fetcher.seek(tps[0], Number(offsetArg));
      } else {
        for (const [k, v] of await resetOffsets(client, tps, policy)) {
          const i = k.lastIndexOf(":");
          fetcher.seek({ topic: k.slice(0, i), partition: Number(k.slice(i + 1)) }, v);
        }
      }
    } else {
      member = new GroupMember(client, group, [topic], {
        sessionTimeoutMs: cp.sessionTimeoutMs,
        rebalanceTimeoutMs: cp.maxPollIntervalMs,
        heartbeatIntervalMs: cp.heartbeatIntervalMs,
      });
    }
    const onOutOfRange = async (tp: TopicPartition) =>
      (await listOffsets(client, [tp], outOfRangePolicy)).get(tpKey(tp))!;
    let lastRecordAt = Date.now();
    let lastCommitAt = Date.now();
    outer: while (!stop) {
      if (member?.needsRejoin) {
        // Best effort, as Kafka's eager rebalance does: the next owner resumes from here.
        await commit(true).catch(() => {});
        const assignment = await member.join();
        fetcher.positions.clear();
        consumed.clear();
        committed.clear();
        if (assignment.length) {
          const byTopic = new Map<string, number[]>();
          for (const tp of assignment) {
            let ps = byTopic.get(tp.topic);
            if (!ps) byTopic.set(tp.topic, ps = []);
            ps.push(tp.partition);
          }
          const have = await fetchCommitted(client, group!, byTopic);
          const missing = assignment.filter((tp) => !have.has(tpKey(tp)));
          const reset = missing.length ? await resetOffsets(client, missing, policy) : new Map();
          for (const tp of assignment) {
            const c = have.get(tpKey(tp));
            const start = c !== undefined ? c.offset : reset.get(tpKey(tp))!;
            fetcher.seek(tp, start);
            if (c !== undefined) committed.set(tpKey(tp), c.offset);
            consumed.set(tpKey(tp), { ...tp, offset: start });
          }
        }
        lastRecordAt = Date.now();
      }
      member?.check();
      if (fetcher.positions.size === 0) {
        // Assigned nothing (more members than partitions): wait for a rebalance.
        await new Promise((r) => setTimeout(r, 200));
      } else {
        const records = await fetcher.poll(onOutOfRange);
        if (records.length) lastRecordAt = Date.now();
        let text = "";
        const printed = new Map<string, number>();
        let cut = false;
        for (const r of records) {
          if (maxMessages !== undefined && count >= maxMessages) {
            cut = true;
            break;
          }
          text += format(r);
          count++;
          printed.set(tpKey(r), r.offset + 1);
        }
        await out(text);
        for (const [k, pos] of fetcher.positions) {
          const i = k.lastIndexOf(":");
          const tp = { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
          if (!cut) consumed.set(k, { ...tp, offset: pos });
          else if (printed.has(k)) consumed.set(k, { ...tp, offset: printed.get(k)! });
        }
        if (cut) {
          // Rewind the fetch positions to what was printed, so nothing unprinted is committed.
          for (const [k, o] of consumed) fetcher.positions.set(k, o.offset);
        }
      }
      if (maxMessages !== undefined && count >= maxMessages) break outer;
      if (timeoutMs !== undefined && Date.now() - lastRecordAt >= timeoutMs) break outer;
      if (member && Date.now() - lastCommitAt >= cp.autoCommitIntervalMs) {
        await commit();
        lastCommitAt = Date.now();
      }
    }
    await commit();
    console.error(`Processed a total of ${count} messages`);
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    try {
      await member?.leave();
    } catch {
      // leaving is best effort: the session timeout removes the member anyway
    }
    member?.close();
    client.close();
  }
}
