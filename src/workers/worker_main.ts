/**
 * A Deno worker's entry: one Broker serving its share of the connections (the listening port
 * is shared through SO_REUSEPORT) and owning its share of the partitions, linked to the other
 * workers by MessagePorts the supervisor hands out. Messages from the supervisor:
 * `init` (index, count, options), `peer` (a port to another worker), `peer-down`, `start`,
 * `close`, and `crash` (test hook). To it: `storage-open`, `ready`, `failed`, `closed`.
 */
import { Broker, type BrokerOptions } from "../broker.ts";
import { ConfigError } from "../config.ts";
import { errText } from "../log.ts";
import { log, setLogLevel, setLogPrefix } from "../log.ts";
import { WorkerCluster } from "./worker_cluster.ts";
import { produceTurns } from "../produce_turns.ts";
import type { ListenerSpec } from "../security/listeners.ts";

/** What the supervisor learns from a worker that is up. */
export interface WorkerInfo {
  host: string;
  port: number;
  advertisedHost: string;
  advertisedPort: number;
  /** Every listener as bound (the fields above are the first's). */
  listeners: ListenerSpec[];
  dataDir: string;
  clusterId: string;
  nodeId: number;
  partitions: number;
  admin?: { hostname: string; port: number };
}

export type ToWorker =
  | {
    type: "init";
    index: number;
    count: number;
    options: Omit<BrokerOptions, "cluster" | "onStorageOpen">;
    logLevel?: string;
  }
  | { type: "peer"; peer: number; port: MessagePort }
  | { type: "peer-down"; peer: number }
  | { type: "start" }
  | { type: "close" }
  | { type: "crash" };

export type FromWorker =
  | { type: "storage-open" }
  | { type: "ready"; info: WorkerInfo }
  | { type: "failed"; message: string; kind: "config" | "addr-in-use" | "other" }
  | { type: "closed" };

const self = globalThis as unknown as {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  addEventListener(type: string, fn: (e: any) => void): void;
};

let cluster: WorkerCluster | undefined;
let options: Omit<BrokerOptions, "cluster" | "onStorageOpen"> = {};
let broker: Broker | undefined;

// A failed background promise is logged, as on the main thread; an uncaught exception ends
// this worker, and the supervisor restarts it.
self.addEventListener("unhandledrejection", (e: PromiseRejectionEvent) => {
  e.preventDefault();
  const r = e.reason;
  log.error(`unhandled rejection: ${r instanceof Error ? r.stack ?? r.message : r}`);
});

async function start(): Promise<void> {
  // Appends here may run on another worker: see ProduceTurns.appendsElsewhere.
  produceTurns.appendsElsewhere = true;
  try {
    broker = await Broker.start({
      ...options,
      cluster,
      onStorageOpen: () => self.postMessage({ type: "storage-open" }),
    });
  } catch (e) {
    const kind = e instanceof ConfigError
      ? "config"
      : e instanceof Deno.errors.AddrInUse
      ? "addr-in-use"
      : "other";
    self.postMessage({
      type: "failed",
      kind,
      message: e instanceof ConfigError
        ? e.message
        : e instanceof Error
        ? e.stack ?? e.message
        : String(e),
    });
    return;
  }
  let partitions = 0;
  for (const _ of broker.logs.allPartitions()) partitions++;
  self.postMessage({
    type: "ready",
    info: {
      host: broker.host,
      port: broker.port,
      advertisedHost: broker.advertisedHost,
      advertisedPort: broker.advertisedPort,
      listeners: broker.listeners,
      dataDir: broker.dataDir,
      clusterId: broker.clusterId,
      nodeId: broker.nodeId,
      partitions,
      admin: broker.admin
        ? { hostname: broker.admin.hostname, port: broker.admin.port }
        : undefined,
    },
  });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  switch (m.type) {
    case "init":
      options = m.options;
      if (m.logLevel) setLogLevel(m.logLevel as "info");
      setLogPrefix(`[worker ${m.index}] `);
      cluster = new WorkerCluster(m.index, m.count, (msg) => log.warn(msg));
      break;
    case "peer":
      cluster!.setPeer(m.peer, m.port);
      break;
    case "peer-down":
      cluster!.peerDown(m.peer);
      break;
    case "start":
      void start();
      break;
    case "close":
      (async () => {
        try {
          await broker?.close();
        } catch (err) {
          log.error(`error while closing: ${errText(err)}`);
        }
        cluster?.close();
        self.postMessage({ type: "closed" });
      })();
      break;
    case "crash":
      setTimeout(() => {
        throw new Error("crash requested by the supervisor (TRIBUTARY_TEST_HOOKS)");
      });
      break;
  }
};
