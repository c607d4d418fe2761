/**
 * The main thread with `--workers N` (N > 1): it only supervises. It reserves the port, starts
 * worker 0 (the controller: it opens the data directory first, creating meta.properties on a
 * first start), then the other workers once the controller's storage is open, and links every
 * pair of workers with a MessageChannel. A worker that dies is restarted with the same index
 * (so it owns the same partitions, which it recovers from disk), with a log line; the other
 * workers fail their calls to it with NOT_LEADER_OR_FOLLOWER meanwhile, which clients retry.
 */
import { type BrokerOptions, dataDirOf } from "../broker.ts";
import { BrokerConfig } from "../config.ts";
import { defaultBindHost } from "../bind_address.ts";
import { log } from "../log.ts";
import { LogDirLock, LogDirLockedError } from "../../storage/log_dir_lock.ts";
import type { FromWorker, ToWorker, WorkerInfo } from "./worker_main.ts";

export type SupervisedOptions = Omit<BrokerOptions, "cluster" | "onStorageOpen">;

/** Why the broker could not start (the CLI turns it into an exit status and a message). */
export class StartError extends Error {
  constructor(readonly kind: "config" | "addr-in-use" | "other", message: string) {
    super(message);
  }
}

interface Slot {
  worker: Worker;
  /** Bumped on every restart: events from an older incarnation are ignored. */
  generation: number;
  restarts: number;
  lastStart: number;
}

export class Supervisor {
  private readonly slots: Slot[] = [];
  private closing = false;
  /** The data directory's lock, held here for every worker. */
  private dirLock?: LogDirLock;
  info!: WorkerInfo;

  private constructor(
    readonly count: number,
    private readonly options: SupervisedOptions,
    private readonly logLevel?: string,
  ) {}

  /** Starts `count` workers; resolves when all serve, rejects with StartError otherwise. */
  static async start(
    count: number,
    options: SupervisedOptions,
    logLevel?: string,
  ): Promise<Supervisor> {
    const host = options.host ?? defaultBindHost();
    // Reserve the ports without SO_REUSEPORT first: a port already in use (by anything) fails
    // here, and port 0 becomes one concrete port every worker then shares.
    const reserve = (hostname: string, wanted: number, listener?: string): number => {
      try {
        const probe = Deno.listen({ hostname, port: wanted });
        const port = (probe.addr as Deno.NetAddr).port;
        probe.close();
        return port;
      } catch (e) {
        if (e instanceof Deno.errors.AddrInUse) {
          throw new StartError(
            "addr-in-use",
            listener
              ? `listener ${listener}: port ${wanted} on ${hostname}`
              : `port ${wanted} is already in use`,
          );
        }
        throw e;
      }
    };
    const listeners = options.listeners?.map((l, i) => ({
      ...l,
      port: reserve(l.host === "" ? host : l.host, l.port, i > 0 ? l.name : undefined),
    }));
    const port = listeners ? listeners[0].port : reserve(host, options.port ?? 9092);
    const s = new Supervisor(count, { ...options, host, port, listeners }, logLevel);
    s.dirLock = await Supervisor.lockDataDir(options);
    try {
      await s.startAll();
    } catch (e) {
      for (const slot of s.slots) slot?.worker.terminate();
      s.dirLock.release();
      throw e;
    }
    return s;
  }

  /** Locks the data directory the workers will share (one broker per directory). */
  private static async lockDataDir(options: SupervisedOptions): Promise<LogDirLock> {
    const settings = new Map<string, string>();
    for (const [k, v] of Object.entries(options.config ?? {})) settings.set(k, String(v));
    let dataDir: string;
    try {
      dataDir = dataDirOf(options, new BrokerConfig(settings));
    } catch (e) {
      throw new StartError("config", e instanceof Error ? e.message : String(e));
    }
    await Deno.mkdir(dataDir, { recursive: true });
    try {
      return LogDirLock.acquire(dataDir);
    } catch (e) {
      if (e instanceof LogDirLockedError) throw new StartError("other", e.message);
      throw e;
    }
  }

  private spawn(index: number): { worker: Worker; events: EventTarget } {
    const worker = new Worker(new URL("./worker_main.ts", import.meta.url).href, {
      type: "module",
    });
    const events = new EventTarget();
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      events.dispatchEvent(new CustomEvent(e.data.type, { detail: e.data }));
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      events.dispatchEvent(new CustomEvent("died", { detail: e.message }));
    };
    const init: ToWorker = {
      type: "init",
      index,
      count: this.count,
      options: this.options,
      logLevel: this.logLevel,
    };
    worker.postMessage(init);
    return { worker, events };
  }

  /** Waits for `type` from a worker; rejects if it fails or dies first. */
  private static expect(events: EventTarget, type: string): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      const on = (e: Event) => {
        const d = (e as CustomEvent).detail;
        events.removeEventListener(type, on);
        events.removeEventListener("failed", on);
        events.removeEventListener("died", on);
        if (e.type === type) resolve(d);
        else if (e.type === "failed") reject(new StartError(d.kind, d.message));
        else reject(new StartError("other", `worker died while starting: ${d}`));
      };
      events.addEventListener(type, on);
      events.addEventListener("failed", on);
      events.addEventListener("died", on);
    });
  }

  /** Links worker `index` to every other worker (at start: to those before it only). */
  private link(index: number, lowerOnly = false): void {
    for (let j = 0; j < (lowerOnly ? index : this.slots.length); j++) {
      if (j === index || !this.slots[j]) continue;
      const ch = new MessageChannel();
      this.slots[j].worker.postMessage({ type: "peer", peer: index, port: ch.port1 }, [
        ch.port1,
      ]);
      this.slots[index].worker.postMessage({ type: "peer", peer: j, port: ch.port2 }, [
        ch.port2,
      ]);
    }
  }

  private async startAll(): Promise<void> {
    const spawned = [];
    for (let i = 0; i < this.count; i++) {
      const w = this.spawn(i);
      spawned.push(w);
      this.slots[i] = {
        worker: w.worker,
        generation: 0,
        restarts: 0,
        lastStart: Date.now(),
      };
    }
    for (let i = 0; i < this.count; i++) this.link(i, true); // one channel per pair
    // The controller first: the others open the data directory once it is set up.
    const storageOpen = Supervisor.expect(spawned[0].events, "storage-open");
    const controllerReady = Supervisor.expect(spawned[0].events, "ready");
    controllerReady.catch(() => {});
    spawned[0].worker.postMessage({ type: "start" });
    await storageOpen;
    const rest = spawned.slice(1).map((w) => {
      const ready = Supervisor.expect(w.events, "ready");
      w.worker.postMessage({ type: "start" });
      return ready;
    });
    const infos = await Promise.all([controllerReady, ...rest]);
    this.info = (infos[0] as { info: WorkerInfo }).info;
    for (let i = 0; i < this.count; i++) {
      this.watch(i, spawned[i].events, 0);
    }
  }

  /** Restarts worker `index` when it dies. */
  private watch(index: number, events: EventTarget, generation: number): void {
    events.addEventListener("died", (e) => {
      const slot = this.slots[index];
      if (slot.generation !== generation || this.closing) return;
      void this.restart(index, String((e as CustomEvent).detail));
    }, { once: true });
  }

  private async restart(index: number, why: string): Promise<void> {
    const slot = this.slots[index];
    slot.generation++;
    log.error(`worker ${index} died (${why}); restarting it`);
    try {
      slot.worker.terminate();
    } catch {
      // already gone
    }
    for (let j = 0; j < this.slots.length; j++) {
      if (j !== index) this.slots[j].worker.postMessage({ type: "peer-down", peer: index });
    }
    // Back off when a worker keeps dying right after it starts.
    const quick = Date.now() - slot.lastStart < 5_000;
    slot.restarts = quick ? slot.restarts + 1 : 0;
    if (slot.restarts > 0) {
      await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** slot.restarts)));
    }
    if (this.closing) return;
    const generation = slot.generation;
    const w = this.spawn(index);
    slot.worker = w.worker;
    slot.lastStart = Date.now();
    this.link(index);
    const ready = Supervisor.expect(w.events, "ready");
    w.worker.postMessage({ type: "start" });
    this.watch(index, w.events, generation);
    try {
      const r = await ready as { info: WorkerInfo };
      log.info(`worker ${index} restarted: ${r.info.partitions} partition(s) recovered`);
    } catch (e) {
      log.error(`worker ${index} failed to restart: ${e instanceof Error ? e.message : e}`);
      if (slot.generation === generation && !this.closing) {
        void this.restart(index, "failed to restart");
      }
    }
  }

  /** Test hook: makes worker `index` throw an uncaught error (it then dies and restarts). */
  crash(index: number): void {
    this.slots[index]?.worker.postMessage({ type: "crash" });
  }

  /** Closes every worker (each flushes and closes its logs), then terminates them. */
  async close(timeoutMs = 20_000): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((slot, i) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn(`worker ${i} did not close within ${timeoutMs} ms`);
          resolve();
        }, timeoutMs);
        const prev = slot.worker.onmessage;
        slot.worker.onmessage = (e: MessageEvent<FromWorker>) => {
          if (e.data.type === "closed") {
            clearTimeout(timer);
            resolve();
          } else prev?.call(slot.worker, e);
        };
        slot.worker.onerror = (e) => {
          e.preventDefault();
          clearTimeout(timer);
          resolve();
        };
        slot.worker.postMessage({ type: "close" });
      })
    ));
    for (const slot of this.slots) slot.worker.terminate();
    this.dirLock?.release();
  }
}
