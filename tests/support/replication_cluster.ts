/**
 * Test harness for the replication tests (tests/e2e/replication_*_test.ts): a three-broker
 * TestCluster set up for replication (rf=3 internal topics, short sessions, stable ports),
 * what clients see of a partition (Metadata v12 over the wire: leader, leader epoch, replicas,
 * ISR) and what etcd holds for it, waits on those ("a new leader with a higher epoch"), the
 * confluent-kafka script tests/clients/replication_client.py run as a JSON-lines child
 * process, and each replica's log bytes read from its data dir once its broker is stopped.
 */
import { MetadataRequest, MetadataResponse } from "../../protocol/messages/metadata.ts";
import {
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from "../../protocol/messages/incremental_alter_configs.ts";
import {
  FindCoordinatorRequest,
  FindCoordinatorResponse,
} from "../../protocol/messages/find_coordinator.ts";
import { EtcdMetadataStore } from "../../src/cluster/etcd_store.ts";
import { jsonOf, partitionKey, type PartitionState } from "../../src/cluster/cluster_records.ts";
import { type EtcdServer, startEtcd } from "./etcd.ts";
import { TestCluster } from "./cluster_fixtures.ts";
import { kafkajs } from "./cluster_fixtures.ts";
import { RawClient } from "./raw_client.ts";
import type { Msg } from "./msg.ts";
import { until } from "./wait.ts";

/** Broker settings every replication test runs with. */
export const REPLICATION_CONFIG: Record<string, string> = {
  "offsets.topic.replication.factor": "3",
  "transaction.state.log.replication.factor": "3",
  "offsets.topic.num.partitions": "3",
  "transaction.state.log.num.partitions": "3",
  "replica.lag.time.max.ms": "4000",
  "replica.fetch.wait.max.ms": "200",
  "group.initial.rebalance.delay.ms": "0",
  "group.min.session.timeout.ms": "1000",
};

/**
 * Runs `fn` over a fresh etcd and three-broker replication cluster, and tears both down; when
 * `fn` fails, the brokers' warnings and errors (and their last lines) go to stderr with it.
 */
export async function withReplicationCluster(
  fn: (cluster: TestCluster) => Promise<void>,
  config: Record<string, string> = {},
): Promise<void> {
  const etcd = await startEtcd();
  let cluster: TestCluster | undefined;
  try {
    cluster = await replicationCluster(etcd, config);
    await fn(cluster);
  } catch (e) {
    if (cluster) await dumpLogs(cluster);
    throw e;
  } finally {
    await cluster?.close();
    await etcd.cleanup();
  }
}

/**
 * Every log line of each running broker (this incarnation) into a temporary directory that
 * outlives the test, its warnings and last lines to stderr.
 */
export async function dumpLogs(cluster: TestCluster): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tributary-repl-logs-" });
  for (const [id, lines] of cluster.pastLines) {
    await Deno.writeTextFile(`${dir}/broker-${id}-earlier.log`, lines.join("\n"));
  }
  for (const [id, p] of cluster.procs) {
    await Deno.writeTextFile(`${dir}/broker-${id}.log`, p.lines.join("\n"));
    const notable = p.lines.filter((l) => /\b(WARN|ERROR)\b/.test(l)).slice(-30);
    console.error(`--- broker ${id}: warnings/errors ---\n${notable.join("\n")}`);
    console.error(`--- broker ${id}: last lines ---\n${p.lines.slice(-15).join("\n")}`);
  }
  console.error(`--- full broker logs in ${dir}`);
}

/** Fails the test when a step failed (t.step resolves false), so its logs are printed. */
export function mustPass(stepPassed: boolean): void {
  if (!stepPassed) throw new Error("a step failed (see above)");
}

/** A started three-broker cluster for replication tests. */
export async function replicationCluster(
  etcd: EtcdServer,
  config: Record<string, string> = {},
): Promise<TestCluster> {
  const cluster = new TestCluster(etcd, {
    workers: 1,
    stablePorts: true,
    config: { ...REPLICATION_CONFIG, ...config },
  });
  await Promise.all([1, 2, 3].map((id) => cluster.start(id)));
  await until("3 brokers registered", async () => {
    const m = await metadataOf(cluster, cluster.running[0], []);
    return (m.brokers as Msg[]).length === 3;
  });
  return cluster;
}

export interface PartitionView {
  errorCode: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offline: number[];
}

async function metadataOf(cluster: TestCluster, via: number, topics: string[]): Promise<Msg> {
  return await RawClient.once(cluster.procs.get(via)!.port, MetadataRequest, MetadataResponse, 12, {
    topics: topics.map((name) => ({ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
}

/** What broker `via` answers in Metadata v12 for `topic`'s partitions. */
export async function partitionsOf(
  cluster: TestCluster,
  via: number,
  topic: string,
): Promise<PartitionView[]> {
  const m = await metadataOf(cluster, via, [topic]);
  const t = (m.topics as Msg[])[0];
  if (t.errorCode !== 0) throw new Error(`Metadata for ${topic} via ${via}: error ${t.errorCode}`);
  return (t.partitions as Msg[]).sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => ({
    errorCode: p.errorCode,
    leader: p.leaderId,
    leaderEpoch: p.leaderEpoch,
    replicas: p.replicaNodes,
    isr: [...p.isrNodes].sort(),
    offline: p.offlineReplicas,
  }));
}

/** The partition state record in etcd (what the controller and the leader wrote). */
export async function partitionState(
  cluster: TestCluster,
  topic: string,
  p: number,
): Promise<PartitionState | undefined> {
  const store = new EtcdMetadataStore({
    endpoints: [cluster.etcd.endpoint],
    prefix: cluster.prefix,
  });
  try {
    const kv = await store.get(partitionKey(topic, p));
    return kv ? jsonOf<PartitionState>(kv) : undefined;
  } finally {
    await store.close();
  }
}

/** Running, not paused brokers: the ones that can answer. */
export function answering(cluster: TestCluster): number[] {
  return cluster.running.filter((id) => !cluster.paused.has(id));
}

/**
 * Waits until every answering broker reports partition `p` of `topic` as `cond` wants it, and
 * returns what the first one said.
 */
export async function awaitPartition(
  cluster: TestCluster,
  topic: string,
  p: number,
  what: string,
  cond: (v: PartitionView) => boolean,
): Promise<PartitionView> {
  let last: PartitionView[] = [];
  return await until(
    () => `${topic}-${p}: ${what} (last seen ${JSON.stringify(last)})`,
    async () => {
      const ids = answering(cluster);
      last = await Promise.all(ids.map(async (id) => (await partitionsOf(cluster, id, topic))[p]));
      return last.length > 0 && last.every(cond) ? last[0] : null;
    },
  );
}

/** A new leader (not `old`, or any if -1) with a leader epoch above `epoch`, seen by all. */
export function awaitNewLeader(
  cluster: TestCluster,
  topic: string,
  p: number,
  old: number,
  epoch: number,
): Promise<PartitionView> {
  return awaitPartition(
    cluster,
    topic,
    p,
    `a leader other than ${old} with epoch > ${epoch}`,
    (v) => v.leader >= 0 && v.leader !== old && v.leaderEpoch > epoch && v.errorCode === 0,
  );
}

/** All of `replicas` in the ISR, with a leader, as every answering broker reports. */
export function awaitFullIsr(
  cluster: TestCluster,
  topic: string,
  p: number,
  replicas = [1, 2, 3],
): Promise<PartitionView> {
  const want = JSON.stringify([...replicas].sort());
  return awaitPartition(
    cluster,
    topic,
    p,
    `ISR ${want}`,
    (v) => v.leader >= 0 && JSON.stringify(v.isr) === want,
  );
}

/** Creates a topic through kafkajs (CreateTopics) and waits for its leaders. */
export async function createTopic(
  cluster: TestCluster,
  topic: string,
  o: {
    partitions?: number;
    replicationFactor?: number;
    configs?: Record<string, string>;
    assignments?: number[][];
  } = {},
): Promise<void> {
  const admin = kafkajs(answering(cluster).map((id) => cluster.address(id))).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic,
        ...(o.assignments
          ? {
            replicaAssignment: o.assignments.map((replicas, partition) => ({
              partition,
              replicas,
            })),
          }
          : { numPartitions: o.partitions ?? 1, replicationFactor: o.replicationFactor ?? 3 }),
        configEntries: Object.entries(o.configs ?? {}).map(([name, value]) => ({ name, value })),
      }],
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Sets topic configs with IncrementalAlterConfigs through broker `via` (over the wire: admin
 * clients refuse to act while a partition of the cluster is offline, which is the point here).
 */
export async function setTopicConfigs(
  cluster: TestCluster,
  via: number,
  topic: string,
  configs: Record<string, string>,
): Promise<void> {
  const r = await RawClient.once(
    cluster.procs.get(via)!.port,
    IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
    1,
    {
      validateOnly: false,
      resources: [{
        resourceType: 2,
        resourceName: topic,
        configs: Object.entries(configs).map(([name, value]) => ({
          name,
          configOperation: 0,
          value,
        })),
      }],
    },
  );
  const res = (r.responses as Msg[])[0];
  if (res.errorCode !== 0) {
    throw new Error(`IncrementalAlterConfigs ${topic}: ${res.errorCode} ${res.errorMessage}`);
  }
}

/** The coordinator (node id) FindCoordinator names for a group (0) or transactional id (1). */
export async function coordinatorOf(
  cluster: TestCluster,
  key: string,
  keyType: 0 | 1,
): Promise<number> {
  return await until(`coordinator of ${key}`, async () => {
    const via = answering(cluster)[0];
    const r = await RawClient.once(
      cluster.procs.get(via)!.port,
      FindCoordinatorRequest,
      FindCoordinatorResponse,
      4,
      { key: "", keyType, coordinatorKeys: [key] },
    );
    const c = (r.coordinators as Msg[])[0];
    return c.errorCode === 0 ? c.nodeId as number : null;
  });
}

/** One JSON event line of replication_client.py. */
// deno-lint-ignore no-explicit-any
export type ClientEvent = { ev: string; [k: string]: any };

const SCRIPT = new URL("../clients/replication_client.py", import.meta.url).pathname;

/**
 * replication_client.py in one role, as a child process whose JSON lines are collected as
 * they come (so a test can await a state of the client while it breaks the cluster).
 */
export class PyClient {
  readonly events: ClientEvent[] = [];
  private readonly child: Deno.ChildProcess;
  private readonly stdin: WritableStreamDefaultWriter<Uint8Array>;
  private stderrText = "";
  readonly exited: Promise<Deno.CommandStatus>;
  private readonly drained: Promise<void>;

  constructor(readonly role: string, args: Record<string, string | number>) {
    const argv = [SCRIPT, role];
    for (const [k, v] of Object.entries(args)) argv.push(`--${k}`, String(v));
    const child = this.child = new Deno.Command("/usr/bin/python3", {
      args: argv,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.stdin = this.child.stdin.getWriter();
    this.exited = this.child.status;
    (async () => {
      for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.stderrText = (this.stderrText + c).slice(-8000);
      }
    })().catch(() => {});
    this.drained = (async () => {
      let pending = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        pending += chunk;
        const parts = pending.split("\n");
        pending = parts.pop()!;
        for (const l of parts) if (l.trim()) this.events.push(JSON.parse(l));
      }
    })();
  }

  get stderr(): string {
    return this.stderrText;
  }

  of(ev: string): ClientEvent[] {
    return this.events.filter((e) => e.ev === ev);
  }

  /** Waits until `cond` holds over the events so far (failing at once if the client exits). */
  async until<T>(
    what: string,
    cond: (events: ClientEvent[]) => T | undefined | null | false,
  ): Promise<T> {
    let gone = false;
    this.exited.then(() => gone = true);
    const r = await until(
      () => `${this.role} client: ${what}; stderr: ${this.stderr}`,
      async () => {
        const v = cond(this.events);
        if (v) return { v };
        if (!gone) return null;
        await this.drained;
        const again = cond(this.events);
        return again ? { v: again } : { exited: true as const };
      },
    );
    if ("exited" in r) {
      throw new Error(`${this.role} client exited before ${what}: ${this.stderr}`);
    }
    return r.v;
  }

  /** Asks a long-running role to finish, and waits for it to exit with status 0. */
  async stop(): Promise<ClientEvent[]> {
    await this.stdin.write(new TextEncoder().encode("stop\n")).catch(() => {});
    return await this.finished();
  }

  /** Waits for the client to exit with status 0 and returns all its events. */
  async finished(): Promise<ClientEvent[]> {
    await this.stdin.close().catch(() => {});
    const s = await this.exited;
    await this.drained;
    if (s.code !== 0) {
      throw new Error(`${this.role} client exited ${s.code}: ${this.stderr}`);
    }
    return this.events;
  }

  kill(): void {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Runs a short-lived role to completion and returns its events. */
export function runClient(role: string, args: Record<string, string | number>) {
  return new PyClient(role, args).finished();
}

/**
 * A bootstrap list: of brokers `ids` (default: every broker the cluster has had; with stable
 * ports their addresses stay the same across restarts).
 */
export function bootstrapOf(cluster: TestCluster, ids = [...cluster.ports.keys()]): string {
  return ids.map((id) => `127.0.0.1:${cluster.ports.get(id)}`).join(",");
}

/**
 * The bytes of a partition's log in a stopped broker's data dir: its segment files in offset
 * order, concatenated (replicas may roll segments at other offsets; the batches must match).
 */
export async function logBytes(dir: string, topic: string, p: number): Promise<Uint8Array> {
  const pdir = `${dir}/${topic}-${p}`;
  const files: string[] = [];
  for await (const e of Deno.readDir(pdir)) if (e.name.endsWith(".log")) files.push(e.name);
  files.sort();
  const parts = await Promise.all(files.map((f) => Deno.readFile(`${pdir}/${f}`)));
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of parts) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

export interface BatchSummary {
  baseOffset: number;
  lastOffset: number;
  leaderEpoch: number;
}

/** The batches of a log's bytes (logBytes), as base offset, last offset and leader epoch. */
export function batchesOf(log: Uint8Array): BatchSummary[] {
  const view = new DataView(log.buffer, log.byteOffset, log.byteLength);
  const out: BatchSummary[] = [];
  for (let o = 0; o + 61 <= log.length;) {
    const baseOffset = Number(view.getBigInt64(o));
    const length = view.getInt32(o + 8);
    if (length <= 0) break;
    out.push({
      baseOffset,
      lastOffset: baseOffset + view.getInt32(o + 23),
      leaderEpoch: view.getInt32(o + 12),
    });
    o += 12 + length;
  }
  return out;
}
