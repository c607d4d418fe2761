/**
 * Test harness: a cluster of broker processes over a real etcd (tests/support/etcd.ts), each
 * with its own data dir, that a test can kill and restart by node id, and a kafkajs client
 * tuned to follow leadership as brokers come and go.
 */
import { Kafka, logLevel } from "kafkajs";
import { BrokerProcess, decoder, kcat } from "./helpers.ts";
import type { EtcdServer } from "./etcd.ts";
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

export class TestCluster {
  readonly procs = new Map<number, BrokerProcess>();
  readonly dirs = new Map<number, string>();
  readonly prefix = `/tributary-test-${crypto.randomUUID()}`;

  constructor(readonly etcd: EtcdServer, readonly workers = 1) {}

  /** `extra` adds CLI arguments (e.g. more `--set`s) for this broker. */
  async start(id: number, extra: string[] = []): Promise<BrokerProcess> {
    let dir = this.dirs.get(id);
    if (!dir) this.dirs.set(id, dir = await Deno.makeTempDir({ prefix: `tributary-c${id}-` }));
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
      ...extra,
    ]);
    this.procs.set(id, p);
    return p;
  }

  address(id: number): string {
    return this.procs.get(id)!.address;
  }

  get bootstrap(): string {
    return [...this.procs.values()].map((p) => p.address).join(",");
  }

  async kill(id: number): Promise<void> {
    await this.procs.get(id)!.kill("SIGKILL");
    this.procs.delete(id);
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
