/**
 * Consumer group routes of the admin API, over the broker's GroupCoordinator
 * (`broker.groups`):
 *
 *   GET      /v1/groups                   every group: state, protocol, members, total lag
 *   GET      /v1/groups/{groupId}         state, protocol type/name, generation, members with
 *                                         their assignments, committed offsets and lag
 *   DELETE   /v1/groups/{groupId}         delete an Empty group and its offsets (DeleteGroups)
 *   GET      /v1/groups/{groupId}/offsets committed offsets and lag per partition
 *   POST|PUT /v1/groups/{groupId}/offsets reset offsets (earliest, latest, timestamp, offset);
 *                                         only while the group is Empty (409 otherwise), like
 *                                         `kafka-consumer-groups --reset-offsets --execute`
 *
 * Lag is the partition's high watermark minus the committed offset (never negative).
 * Groups of both protocols are shown: consumer-protocol (KIP-848) groups with protocol type
 * "consumer", their state (Empty, Assigning, Reconciling, Stable), the assignor as protocol,
 * the group epoch as generation, no leader, and each member's current assignment.
 */
import { describable } from "./admin_auth.ts";
import { ResourceType } from "../security/acl_binding.ts";
import { ErrorCode, errorName, KafkaError } from "../../protocol/errors.ts";
import { ConsumerProtocolAssignment } from "../../protocol/messages/mod.ts";
import { Reader } from "../../protocol/primitives.ts";
import { codecFor } from "../../protocol/schema.ts";
import type { AdminHost } from "./admin_host.ts";
import type { ClassicGroup } from "../group/classic_group.ts";
import type { ConsumerGroup } from "../group/consumer_group.ts";
import { asObject, badRequest, type Context, Hono, HttpError, jsonBody } from "./http.ts";
import type { GroupLagSample } from "./prometheus.ts";
import { partitionStatus, type StatusCache } from "./tiering.ts";

export interface GroupOffsetJson {
  topic: string;
  partition: number;
  /** null when the partition is assigned but nothing was committed yet. */
  committedOffset: number | null;
  metadata: string | null;
  /** null when the topic or partition no longer exists. */
  logStartOffset: number | null;
  highWatermark: number | null;
  lag: number | null;
  /** The member the partition is assigned to, if any. */
  memberId: string | null;
  clientId: string | null;
}

interface Assignment {
  topic: string;
  partitions: number[];
}

/** The topic-partitions of a consumer-protocol assignment; [] when not decodable. */
export function decodeAssignment(bytes: Uint8Array): Assignment[] {
  if (bytes.length < 2) return [];
  try {
    const r = new Reader(bytes);
    const version = r.int16();
    if (version < 0) return [];
    const msg = codecFor(ConsumerProtocolAssignment, Math.min(version, 3)).decode(r);
    return msg.assignedPartitions.map((a) => ({
      topic: a.topic,
      partitions: [...a.partitions].sort((x, y) => x - y),
    }));
  } catch {
    return [];
  }
}

/** A group of either protocol, as these routes show it. */
export interface GroupView {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string | null;
  generationId: number;
  leader: string | null;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    assignments: Assignment[];
  }[];
}

function classicView(g: ClassicGroup): GroupView {
  const consumer = g.protocolType === "consumer";
  return {
    groupId: g.groupId,
    state: g.state,
    protocolType: g.protocolType ?? "",
    protocol: g.protocolName,
    generationId: g.generationId,
    leader: g.leaderId,
    members: [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignments: consumer ? decodeAssignment(m.assignment) : [],
    })),
  };
}

function consumerView(broker: AdminHost, g: ConsumerGroup): GroupView {
  const coordinator = broker.groups.consumer;
  return {
    groupId: g.groupId,
    state: g.state,
    protocolType: "consumer",
    protocol: g.preferredAssignor(coordinator.defaultAssignor),
    generationId: g.groupEpoch,
    leader: null,
    members: [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.instanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignments: coordinator.memberView(m).assigned,
    })),
  };
}

function liveGroup(broker: AdminHost, groupId: string): GroupView | undefined {
  const cg = broker.groups.consumer.group(groupId);
  if (cg) return consumerView(broker, cg);
  const g = broker.groups.group(groupId);
  return g && !g.is("Dead") ? classicView(g) : undefined;
}

function groupOr404(broker: AdminHost, groupId: string): GroupView {
  const g = liveGroup(broker, groupId);
  if (!g) throw new HttpError(404, "GROUP_ID_NOT_FOUND", `unknown consumer group '${groupId}'`);
  return g;
}

function membersJson(g: GroupView) {
  return [...g.members].sort((a, b) => a.memberId.localeCompare(b.memberId));
}

/**
 * Committed offsets with lag, plus assigned partitions that have no commit yet. The
 * partitions' offsets come from their owning workers, concurrently; `statuses` shares them
 * between the groups of one request.
 */
export async function groupOffsets(
  broker: AdminHost,
  g: GroupView,
  statuses: StatusCache = new Map(),
): Promise<GroupOffsetJson[]> {
  const owner = new Map<string, { memberId: string; clientId: string }>();
  for (const m of g.members) {
    for (const a of m.assignments) {
      for (const p of a.partitions) {
        owner.set(`${a.topic}\u0000${p}`, { memberId: m.memberId, clientId: m.clientId });
      }
    }
  }
  const rows: Promise<GroupOffsetJson>[] = [];
  const seen = new Set<string>();
  const row = (
    topic: string,
    partition: number,
    committed: number | null,
    metadata: string | null,
  ) => {
    const k = `${topic}\u0000${partition}`;
    seen.add(k);
    const o = owner.get(k);
    rows.push(
      partitionStatus(broker, topic, partition, statuses).then((s) => {
        const hw = s ? s.highWatermark : null;
        return {
          topic,
          partition,
          committedOffset: committed,
          metadata,
          logStartOffset: s ? s.logStartOffset : null,
          highWatermark: hw,
          lag: hw !== null && committed !== null && committed >= 0
            ? Math.max(0, hw - committed)
            : null,
          memberId: o?.memberId ?? null,
          clientId: o?.clientId ?? null,
        };
      }),
    );
  };
  for (const c of broker.groups.offsets.all(g.groupId)) {
    row(c.topic, c.partition, c.offset, c.metadata);
  }
  for (const k of owner.keys()) {
    if (seen.has(k)) continue;
    const [topic, p] = k.split("\u0000");
    row(topic, Number(p), null, null);
  }
  const out = await Promise.all(rows);
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

const totalLag = (offsets: GroupOffsetJson[]) => offsets.reduce((n, o) => n + (o.lag ?? 0), 0);

async function groupSummary(broker: AdminHost, g: GroupView, statuses: StatusCache) {
  return {
    groupId: g.groupId,
    state: g.state,
    protocolType: g.protocolType,
    protocol: g.protocol,
    members: g.members.length,
    lag: totalLag(await groupOffsets(broker, g, statuses)),
  };
}

async function groupDetail(broker: AdminHost, g: GroupView) {
  const offsets = await groupOffsets(broker, g);
  return {
    groupId: g.groupId,
    state: g.state,
    protocolType: g.protocolType,
    protocol: g.protocol,
    generationId: g.generationId,
    leader: g.leader,
    members: membersJson(g),
    offsets,
    lag: totalLag(offsets),
  };
}

/** Committed-offset lag of every group, for /metrics. */
export async function groupLagSamples(broker: AdminHost): Promise<GroupLagSample[]> {
  const groups = broker.groups.listGroups()
    .map((l) => liveGroup(broker, l.groupId))
    .filter((g): g is GroupView => g !== undefined);
  const statuses: StatusCache = new Map();
  const offsets = await Promise.all(groups.map((g) => groupOffsets(broker, g, statuses)));
  const out: GroupLagSample[] = [];
  for (const [i, g] of groups.entries()) {
    for (const o of offsets[i]) {
      if (o.committedOffset === null || o.lag === null) continue;
      out.push({
        group: g.groupId,
        topic: o.topic,
        partition: o.partition,
        committedOffset: o.committedOffset,
        lag: o.lag,
      });
    }
  }
  return out;
}

type ResetTo = "earliest" | "latest" | "timestamp" | "offset";

interface ResetSpec {
  to: ResetTo;
  timestamp?: number;
  offset?: number;
  topics: { topic: string; partitions: number[] | null }[] | null;
}

function parseReset(body: unknown): ResetSpec {
  const o = asObject(body, "request body");
  const to = o.to;
  if (to !== "earliest" && to !== "latest" && to !== "timestamp" && to !== "offset") {
    throw badRequest("to must be one of earliest, latest, timestamp, offset");
  }
  const spec: ResetSpec = { to, topics: null };
  if (to === "timestamp") {
    if (typeof o.timestamp !== "number" || !Number.isSafeInteger(o.timestamp)) {
      throw badRequest("to=timestamp needs timestamp (ms since the epoch)");
    }
    spec.timestamp = o.timestamp;
  }
  if (to === "offset") {
    if (typeof o.offset !== "number" || !Number.isSafeInteger(o.offset) || o.offset < 0) {
      throw badRequest("to=offset needs offset (a non-negative integer)");
    }
    spec.offset = o.offset;
  }
  if (o.topics !== undefined && o.topics !== null) {
    if (!Array.isArray(o.topics) || o.topics.length === 0) {
      throw badRequest("topics must be a non-empty array of names or {topic, partitions}");
    }
    spec.topics = o.topics.map((t) => {
      if (typeof t === "string") return { topic: t, partitions: null };
      const x = asObject(t, "a topics entry");
      if (typeof x.topic !== "string") throw badRequest("a topics entry needs topic (a string)");
      if (x.partitions === undefined || x.partitions === null) {
        return { topic: x.topic, partitions: null };
      }
      if (
        !Array.isArray(x.partitions) ||
        !x.partitions.every((p) => typeof p === "number" && Number.isInteger(p) && p >= 0)
      ) {
        throw badRequest(`partitions of ${x.topic} must be an array of partition numbers`);
      }
      return { topic: x.topic, partitions: x.partitions as number[] };
    });
  }
  return spec;
}

/** The offset a reset commits for one partition, read on the partition's owning worker. */
async function targetOffset(
  broker: AdminHost,
  topic: string,
  p: number,
  spec: ResetSpec,
): Promise<number> {
  if (spec.to === "timestamp") {
    // ListOffsets' lookup (the cold tier included). Negative timestamps would be its special
    // values (-1 latest, -2 earliest, ...): any of them finds the first record, as 0 does.
    const [found, status] = await Promise.all([
      broker.replicaManager.partitionOp(topic, p, "listOffset", {
        timestamp: Math.max(spec.timestamp!, 0),
        committed: false,
      }),
      broker.replicaManager.partitionOp(topic, p, "status", {}),
    ]);
    if (found.errorCode !== 0) {
      throw new KafkaError(found.errorCode, `offset for timestamp in ${topic}-${p}`);
    }
    return found.offset >= 0 ? found.offset : status.highWatermark;
  }
  const s = await broker.replicaManager.partitionOp(topic, p, "status", {});
  switch (spec.to) {
    case "earliest":
      return s.logStartOffset;
    case "latest":
      return s.highWatermark;
    case "offset":
      return Math.min(Math.max(spec.offset!, s.logStartOffset), s.highWatermark);
  }
}

async function resetOffsets(c: Context, broker: AdminHost, groupId: string) {
  const spec = parseReset(await jsonBody(c));
  const dry = c.req.query("dryRun");
  const dryRun = dry === "true" || dry === "1";
  const g = liveGroup(broker, groupId);
  if (g && g.state !== "Empty") {
    throw new HttpError(
      409,
      "NON_EMPTY_GROUP",
      `group '${groupId}' is ${g.state}: offsets can only be reset while it is Empty ` +
        "(stop its consumers first)",
      { state: g.state },
    );
  }
  // Which partitions: those named, else every partition of every topic it committed to.
  let targets = spec.topics;
  if (!targets) {
    const topics = new Set(broker.groups.offsets.all(groupId).map((o) => o.topic));
    if (topics.size === 0) {
      throw badRequest(`group '${groupId}' has no committed offsets: name the topics to reset`);
    }
    targets = [...topics].sort().map((topic) => ({ topic, partitions: null }));
  }
  const wanted: { topic: string; partition: number }[] = [];
  for (const t of targets) {
    const meta = broker.topic(t.topic);
    if (!meta) {
      throw new HttpError(404, "UNKNOWN_TOPIC_OR_PARTITION", `unknown topic '${t.topic}'`);
    }
    const parts = t.partitions ?? Array.from({ length: meta.partitions }, (_, i) => i);
    for (const p of parts) {
      if (!broker.replicaManager.hasPartition(t.topic, p)) {
        throw new HttpError(
          404,
          "UNKNOWN_TOPIC_OR_PARTITION",
          `topic '${t.topic}' has no partition ${p}`,
        );
      }
      wanted.push({ topic: t.topic, partition: p });
    }
  }
  const plan = await Promise.all(wanted.map(async ({ topic, partition }) => ({
    topic,
    partition,
    previous: broker.groups.offsets.get(groupId, topic, partition)?.offset ?? null,
    offset: await targetOffset(broker, topic, partition, spec),
  })));
  if (!dryRun) {
    const byTopic = new Map<string, typeof plan>();
    for (const x of plan) {
      let l = byTopic.get(x.topic);
      if (!l) byTopic.set(x.topic, l = []);
      l.push(x);
    }
    const results = await broker.groups.commitOffsets({
      groupId,
      generationId: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      topics: [...byTopic].map(([name, xs]) => ({
        name,
        partitions: xs.map((x) => ({
          partitionIndex: x.partition,
          committedOffset: x.offset,
          committedLeaderEpoch: -1,
          committedMetadata: "",
        })),
      })),
    });
    const failed = results.flatMap((t) => t.partitions).find((p) => p.errorCode !== 0);
    if (failed) {
      const code = failed.errorCode;
      const conflict = code === ErrorCode.UNKNOWN_MEMBER_ID ||
        code === ErrorCode.REBALANCE_IN_PROGRESS || code === ErrorCode.ILLEGAL_GENERATION;
      throw new HttpError(
        conflict ? 409 : 503,
        conflict ? "NON_EMPTY_GROUP" : errorName(code),
        conflict
          ? `group '${groupId}' is no longer Empty: offsets were not reset`
          : `offset commit failed: ${errorName(code)}`,
      );
    }
  }
  return c.json({
    groupId,
    dryRun,
    offsets: plan.map((x) => ({
      topic: x.topic,
      partition: x.partition,
      previousOffset: x.previous,
      committedOffset: x.offset,
    })),
  });
}

export function groupRoutes(broker: AdminHost): Hono {
  const app = new Hono();
  const id = (c: Context) => c.req.param("groupId") ?? "";

  app.get("/", async (c) => {
    const statuses: StatusCache = new Map();
    const listed = broker.groups.listGroups();
    const visible = describable(
      c,
      broker.services.authorizer,
      ResourceType.GROUP,
      listed.map((l) => l.groupId),
    );
    const groups = await Promise.all(
      listed.filter((l) => visible.has(l.groupId))
        .map((l) => liveGroup(broker, l.groupId))
        .filter((g): g is GroupView => g !== undefined)
        .sort((a, b) => a.groupId.localeCompare(b.groupId))
        .map((g) => groupSummary(broker, g, statuses)),
    );
    return c.json({ groups });
  });

  app.get("/:groupId", async (c) => c.json(await groupDetail(broker, groupOr404(broker, id(c)))));

  app.get("/:groupId/offsets", async (c) => {
    const g = groupOr404(broker, id(c));
    return c.json({ groupId: g.groupId, offsets: await groupOffsets(broker, g) });
  });

  app.delete("/:groupId", async (c) => {
    // DeleteGroups' rules: Empty groups only; their committed offsets go with them.
    const groupId = id(c);
    const [r] = await broker.groups.deleteGroups([groupId]);
    if (r.errorCode === ErrorCode.NONE) return c.body(null, 204);
    if (r.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) {
      throw new HttpError(404, "GROUP_ID_NOT_FOUND", `unknown consumer group '${groupId}'`);
    }
    if (r.errorCode === ErrorCode.NON_EMPTY_GROUP) {
      const state = liveGroup(broker, groupId)?.state ?? "unknown";
      throw new HttpError(
        409,
        "NON_EMPTY_GROUP",
        `group '${groupId}' is ${state}: only an Empty group can be deleted (stop its consumers first)`,
        { state },
      );
    }
    throw new KafkaError(r.errorCode, `deleting group '${groupId}': ${errorName(r.errorCode)}`);
  });

  app.post("/:groupId/offsets", (c) => resetOffsets(c, broker, id(c)));
  app.put("/:groupId/offsets", (c) => resetOffsets(c, broker, id(c)));
  return app;
}
