/**
 * Test harness: a cluster of broker processes over a real etcd (tests/support/etcd.ts), each
 * with its own data dir kept across restarts, that a test can kill (-9 or TERM), freeze
 * (SIGSTOP) and thaw (SIGCONT) and restart by node id, optionally on the same port each time
 * (as a real broker keeps its address), with broker settings of its own; and a kafkajs client
 * tuned to follow leadership as brokers come and go.
 */
import { Kafka, logLevel } from "kafkajs";
import { BrokerProcess, decoder, kcat } from "./helpers.ts";
import { type EtcdServer, startEtcd } from "./etcd.ts";
import { EtcdMetadataStore } from "../../src/cluster/etcd_store.ts";
import { valueText } from "../../src/cluster/metadata_store.ts";

export const SESSION_MS = 3000;

export interface KcatMetadata {
  controllerid: number;
  brokers: { id: number; name: string }[];
  topics: {
    topic: string;
    error?: string;
    partitions: { partition: number; leader: number; replicas: { id: number }[] }[];
  }[];
}

export interface TestClusterOptions {
  /** Deno workers per broker (default 1). */
  workers?: number;
  /** Broker settings given to every broker as `--set k=v` (after the harness's own). */
  config?: Record<string, string>;
  /**
   * Restart each broker on the port it first had (chosen below the ephemeral range, as etcd's
   * are), so clients holding its address find it again, as with a real broker.
   */
  stablePorts?: boolean;
}

/** A free loopback port below the kernel's ephemeral range (see tests/support/etcd.ts). */
function stablePort(): number {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error("no free port in 20000-31999 for a broker");
}

export class TestCluster {
  readonly procs = new Map<number, BrokerProcess>();
  readonly dirs = new Map<number, string>();
  readonly ports = new Map<number, number>();
  /** The log lines of each broker's earlier (killed or stopped) processes, oldest first. */
  readonly pastLines = new Map<number, string[]>();
  /** Brokers stopped with SIGSTOP and not yet continued. */
  readonly paused = new Set<number>();
  readonly prefix = `/tributary-test-${crypto.randomUUID()}`;
  readonly workers: number;
  private readonly opts: TestClusterOptions;

  constructor(readonly etcd: EtcdServer, workersOrOptions: number | TestClusterOptions = 1) {
    this.opts = typeof workersOrOptions === "number"
      ? { workers: workersOrOptions }
      : workersOrOptions;
    this.workers = this.opts.workers ?? 1;
  }

  /**
   * `extra` adds settings for this broker: `--set` pairs as a record, or raw CLI arguments
   * (e.g. listeners) as a list.
   */
  async start(
    id: number,
    extra: Record<string, string> | string[] = {},
  ): Promise<BrokerProcess> {
    const extraConfig = Array.isArray(extra) ? {} : extra;
    const extraArgs = Array.isArray(extra) ? extra : [];
    let dir = this.dirs.get(id);
    if (!dir) this.dirs.set(id, dir = await Deno.makeTempDir({ prefix: `tributary-c${id}-` }));
    const sets = Object.entries({ ...this.opts.config, ...extraConfig })
      .flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    let port: string[] = [];
    if (this.opts.stablePorts) {
      if (!this.ports.has(id)) this.ports.set(id, stablePort());
      port = ["--port", String(this.ports.get(id))];
    }
    const p = await BrokerProcess.start(dir, [
      "--workers",
      String(this.workers),
      "--set",
      `etcd.endpoints=${this.etcd.endpoint}`,
      "--set",
      `etcd.prefix=${this.prefix}`,
      "--set",
      `node.id=${id}`,
      "--set",
      `broker.session.timeout.ms=${SESSION_MS}`,
      "--set",
      "etcd.request.timeout.ms=2000",
      ...sets,
      ...port,
      ...extraArgs,
    ]);
    this.procs.set(id, p);
    return p;
  }

  /** The node ids of the running (not killed) brokers, paused ones included. */
  get running(): number[] {
    return [...this.procs.keys()].sort();
  }

  address(id: number): string {
    return this.procs.get(id)!.address;
  }

  get bootstrap(): string {
    return [...this.procs.values()].map((p) => p.address).join(",");
  }

  /** Kills broker `id` (kill -9 unless told otherwise) and waits for the process to exit. */
  async kill(id: number, signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
    const p = this.procs.get(id)!;
    if (this.paused.delete(id) && signal !== "SIGKILL") p.child.kill("SIGCONT");
    await p.kill(signal);
    this.procs.delete(id);
    const past = this.pastLines.get(id) ?? [];
    past.push(`----- broker ${id} killed (${signal}) -----`, ...p.lines);
    this.pastLines.set(id, past.slice(-20000));
  }

  /** Freezes broker `id` (SIGSTOP): its sockets stay open, it answers nothing, its lease ages. */
  pause(id: number): void {
    this.procs.get(id)!.child.kill("SIGSTOP");
    this.paused.add(id);
  }

  /** Thaws a paused broker (SIGCONT). */
  resume(id: number): void {
    this.procs.get(id)!.child.kill("SIGCONT");
    this.paused.delete(id);
  }

  async metadata(via: number, topic?: string): Promise<KcatMetadata> {
    const args = ["-L", "-J", "-m", "5"];
    if (topic) args.push("-t", topic);
    return JSON.parse(decoder.decode(await kcat(this.address(via), args))) as KcatMetadata;
  }

  async controllerInEtcd(): Promise<number> {
    const store = new EtcdMetadataStore({ endpoints: [this.etcd.endpoint], prefix: this.prefix });
    try {
      const kv = await store.get("controller");
      return kv ? JSON.parse(valueText(kv)).nodeId : -1;
    } finally {
      await store.close();
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.paused]) this.resume(id);
    for (const id of [...this.procs.keys()]) await this.procs.get(id)!.kill("SIGTERM");
    for (const d of this.dirs.values()) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
}

export function kafkajs(brokers: string[]): Kafka {
  return new Kafka({
    clientId: "tributary-cluster-test",
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
    connectionTimeout: 3000,
    requestTimeout: 15000,
  });
}

/**
 * Runs `fn` on a TestCluster (`workers` Deno workers a broker) over a fresh etcd, with a
 * metadata store on the cluster's prefix to read what the controller wrote; closes the
 * store, the brokers and etcd after, whatever `fn` did.
 */
export async function withClusterStore(
  workers: number,
  fn: (cluster: TestCluster, store: EtcdMetadataStore) => Promise<void>,
): Promise<void> {
  const etcd = await startEtcd();
  const cluster = new TestCluster(etcd, workers);
  const store = new EtcdMetadataStore({ endpoints: [etcd.endpoint], prefix: cluster.prefix });
  try {
    await fn(cluster, store);
  } finally {
    await store.close();
    await cluster.close();
    await etcd.cleanup();
  }
}
