/**
 * `deno task start`: runs a broker until SIGINT/SIGTERM.
 *
 *   --host H  --port P  --data-dir D  --advertised-host A  --advertised-port P
 *   --config server.properties  --set key=value (repeatable)  --log-level L
 *   --admin-port P  --admin-host H  --admin-token T   (admin HTTP API and console; off by default)
 *   --workers N   (Deno workers; default: the number of cores, at most 16; 1 = all on the main thread)
 *   --dev         dev mode (src/dev_mode.ts): fast group settings, one worker, a temp data dir
 *
 * Settings apply in order: defaults, the --config file, --set, then the dedicated flags.
 * Unknown keys are warned about; an invalid value exits non-zero naming the key.
 */
import { parseArgs } from "node:util";
import { Broker } from "./broker.ts";
import { BrokerConfig, ConfigError, parseListener, parseProperties } from "./config.ts";
import { makeDevDataDir, withDevModeConfig } from "./dev_mode.ts";
import { log, setLogLevel } from "./log.ts";
import { LogDirLockedError } from "../storage/log_dir_lock.ts";
import { StartError, Supervisor } from "./workers/supervisor.ts";
import type { WorkerInfo } from "./workers/worker_main.ts";

const USAGE = `Usage: deno task start [options]

  --host HOST              bind address (default 0.0.0.0)
  --port PORT              listen port (default 9092; 0 = any free port)
  --data-dir DIR           data directory (default ./data)
  --advertised-host HOST   host name given to clients in Metadata
  --advertised-port PORT   port given to clients in Metadata
  --config FILE            Kafka server.properties file
  --set KEY=VALUE          override one setting (repeatable), e.g. --set num.partitions=3
  --log-level LEVEL        debug, info, warn, error (default info)
  --admin-port PORT        serve the admin HTTP API, /metrics and the web console on PORT
                           (off by default; 0 = any free port)
  --admin-host HOST        bind address of the admin API (default: --host)
  --admin-token TOKEN      require "Authorization: Bearer TOKEN" on the admin API (all but
                           /healthz and /readyz); also read from TRIBUTARY_ADMIN_TOKEN
  --workers N              Deno workers serving connections and owning partitions (default:
                           the number of cores, at most 16; 1 runs everything on the main
                           thread)
  --dev                    dev mode: no initial rebalance delay, short session timeouts,
                           1 partition per internal topic, 1 worker, and a temp data dir
                           (removed on exit) unless --data-dir is given
  --help                   this text
`;

function fail(message: string): never {
  console.error(`tributary: ${message}`);
  Deno.exit(2);
}

function portOf(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) fail(`${flag}: '${v}' is not a port number`);
  return n;
}

export async function main(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        "data-dir": { type: "string" },
        "advertised-host": { type: "string" },
        "advertised-port": { type: "string" },
        config: { type: "string" },
        set: { type: "string", multiple: true },
        "log-level": { type: "string" },
        "admin-port": { type: "string" },
        "admin-host": { type: "string" },
        "admin-token": { type: "string" },
        workers: { type: "string" },
        dev: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    fail(`${e instanceof Error ? e.message : e}\n\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (v["log-level"]) {
    const l = v["log-level"];
    if (!["debug", "info", "warn", "error", "off"].includes(l)) fail(`--log-level: '${l}'?`);
    setLogLevel(l as "info");
  }

  const settings = new Map<string, string>();
  if (v.config) {
    let text: string;
    try {
      text = await Deno.readTextFile(v.config);
    } catch (e) {
      fail(`--config ${v.config}: ${e instanceof Error ? e.message : e}`);
    }
    for (const [k, val] of parseProperties(text)) settings.set(k, val);
  }
  for (const s of v.set ?? []) {
    const eq = s.indexOf("=");
    if (eq <= 0) fail(`--set '${s}': expected key=value`);
    settings.set(s.slice(0, eq).trim(), s.slice(eq + 1));
  }

  let devDataDir: string | null = null;
  let dataDir = v["data-dir"];
  if (v.dev) {
    for (const [k, val] of Object.entries(withDevModeConfig(Object.fromEntries(settings)))) {
      settings.set(k, String(val));
    }
    if (dataDir === undefined && !settings.has("log.dirs") && !settings.has("log.dir")) {
      dataDir = devDataDir = await makeDevDataDir();
    }
  }

  // Validate everything up front so a bad value is reported before anything starts.
  let host: string | undefined;
  let port: number | undefined;
  let advertisedHost: string | undefined;
  let advertisedPort: number | undefined;
  try {
    const cfg = new BrokerConfig(settings);
    const listeners = cfg.get("listeners") as string | null;
    if (listeners) ({ host, port } = parseListener(listeners));
    const adv = cfg.get("advertised.listeners") as string | null;
    if (adv) {
      const a = parseListener(adv);
      advertisedHost = a.host;
      advertisedPort = a.port;
    }
  } catch (e) {
    if (e instanceof ConfigError) fail(`invalid configuration: ${e.message}`);
    throw e;
  }
  host = v.host ?? host;
  port = portOf("--port", v.port) ?? port ?? 9092;
  advertisedHost = v["advertised-host"] ?? advertisedHost;
  advertisedPort = portOf("--advertised-port", v["advertised-port"]) ?? advertisedPort;
  const adminPort = portOf("--admin-port", v["admin-port"]);
  let adminToken = v["admin-token"];
  if (adminToken === undefined) {
    try {
      adminToken = Deno.env.get("TRIBUTARY_ADMIN_TOKEN") || undefined;
    } catch {
      // no env permission: only the flag counts
    }
  }
  if (adminToken !== undefined && adminToken.trim() === "") fail("--admin-token: empty token");
  if (adminToken !== undefined && adminPort === undefined) {
    log.warn("--admin-token given without --admin-port: the admin API is off");
  }

  // One worker per core, up to 16: a request is local to its worker with odds of about one
  // in N, so past that more workers mostly add messages between them.
  const cores = navigator.hardwareConcurrency || 1;
  let workers = v.dev ? 1 : Math.min(cores, 16);
  if (v.workers !== undefined) {
    if (!/^\d+$/.test(v.workers) || Number(v.workers) < 1 || Number(v.workers) > 256) {
      fail(`--workers: '${v.workers}' is not a worker count (1-256)`);
    }
    workers = Number(v.workers);
  }
  const brokerOptions = {
    host,
    port,
    dataDir,
    advertisedHost,
    advertisedPort,
    config: Object.fromEntries(settings),
    adminPort,
    adminHost: v["admin-host"],
    adminToken,
  };
  if (devDataDir) {
    log.info(`dev mode: data in ${devDataDir} (a temp directory, removed on exit)`);
  } else if (v.dev) log.info(`dev mode: data in ${dataDir ?? settings.get("log.dirs")}`);
  /** Dev mode's temp directory goes once the broker is closed. */
  const removeDevDir = async () => {
    if (devDataDir) await Deno.remove(devDataDir, { recursive: true }).catch(() => {});
  };
  if (workers > 1) {
    await superviseWorkers(
      workers,
      brokerOptions,
      v["log-level"],
      adminToken !== undefined,
      removeDevDir,
    );
    return;
  }

  const signals = stopSignals();
  let broker: Broker;
  try {
    broker = await Broker.start(brokerOptions);
  } catch (e) {
    if (e instanceof ConfigError) fail(`invalid configuration: ${e.message}`);
    if (e instanceof Deno.errors.AddrInUse) {
      fail(
        `port ${port}${
          adminPort !== undefined ? ` or admin port ${adminPort}` : ""
        } is already in use`,
      );
    }
    if (e instanceof LogDirLockedError) fail(e.message);
    fail(`failed to start: ${e instanceof Error ? e.stack : e}`);
  }
  keepServingOnErrors();
  if (signals.started(() => broker.close().finally(removeDevDir))) return;
  announce(broker, broker.admin, adminToken !== undefined, 1);
}

/**
 * SIGINT and SIGTERM, listened to from before start-up (log recovery) begins: a signal then is
 * kept, and once start-up is done the broker closes at once (flushing and closing what it
 * opened) and the process exits 0, instead of dying in the middle of recovery.
 */
function stopSignals(): { started(close: () => Promise<void>): boolean } {
  let close: (() => Promise<void>) | null = null;
  let received: string | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: flushing and closing`);
    try {
      await close!();
    } catch (e) {
      log.error(`error while closing: ${e instanceof Error ? e.message : e}`);
      Deno.exit(1);
    }
    log.info("stopped");
    Deno.exit(0);
  };
  const on = (signal: string) => {
    if (close) void stop(signal);
    else if (received === null) {
      received = signal;
      log.info(`${signal} received while starting: stopping once start-up is done`);
    }
  };
  Deno.addSignalListener("SIGINT", () => on("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => on("SIGTERM"));
  return {
    /** Start-up is done and `fn` closes the broker; true when a signal came meanwhile. */
    started(fn: () => Promise<void>): boolean {
      close = fn;
      if (received === null) return false;
      void stop(received);
      return true;
    },
  };
}

/** The start-up line tests and operators look for, and where the admin API is. */
function announce(
  b: Omit<WorkerInfo, "partitions" | "admin">,
  admin: { hostname: string; port: number } | undefined,
  tokenRequired: boolean,
  workers: number,
): void {
  log.info(
    `Tributary listening on ${b.host}:${b.port} (advertised ${b.advertisedHost}:${b.advertisedPort}, data dir ${b.dataDir}, cluster id ${b.clusterId}, node id ${b.nodeId}, ${workers} worker${
      workers === 1 ? "" : "s"
    })`,
  );
  if (admin) {
    log.info(
      `admin API and console on http://${admin.hostname}:${admin.port}/` +
        (tokenRequired ? " (bearer token required)" : ""),
    );
  }
}

/** Runs the broker on `count` Deno workers; the main thread supervises until a signal. */
async function superviseWorkers(
  count: number,
  options: Parameters<typeof Supervisor.start>[1],
  logLevel: string | undefined,
  tokenRequired: boolean,
  afterClose: () => Promise<void>,
): Promise<void> {
  const signals = stopSignals();
  let sup: Supervisor;
  try {
    sup = await Supervisor.start(count, options, logLevel);
  } catch (e) {
    if (e instanceof StartError && e.kind === "config") fail(`invalid configuration: ${e.message}`);
    if (e instanceof StartError && e.kind === "addr-in-use") {
      fail(
        `port ${options.port}${
          options.adminPort !== undefined ? ` or admin port ${options.adminPort}` : ""
        } is already in use`,
      );
    }
    fail(`failed to start: ${e instanceof Error ? e.message : e}`);
  }
  keepServingOnErrors();
  if (signals.started(() => sup.close().finally(afterClose))) return;
  announce(sup.info, sup.info.admin, tokenRequired, count);
  if (Deno.env.get("TRIBUTARY_TEST_HOOKS") === "1") {
    // Tests: SIGUSR2 makes the last worker die, SIGUSR1 worker 0 (the controller), to
    // exercise the restart.
    Deno.addSignalListener("SIGUSR2", () => sup.crash(count - 1));
    Deno.addSignalListener("SIGUSR1", () => sup.crash(0));
  }
}

/**
 * A failure in one background task (a timer, an upload, a cleaner slice) must not take the
 * broker down with every client on it: log it and keep serving.
 */
function keepServingOnErrors(): void {
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    const r = e.reason;
    log.error(`unhandled rejection: ${r instanceof Error ? r.stack ?? r.message : r}`);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    log.error(`uncaught error: ${e.error instanceof Error ? e.error.stack : e.message}`);
  });
}

if (import.meta.main) await main(Deno.args);
