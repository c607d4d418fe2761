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
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Broker } from "./broker.ts";
import { BrokerConfig, ConfigError, parseProperties } from "./config.ts";
import { type ListenerSpec, resolveListeners } from "./security/listeners.ts";
import { makeDevDataDir, withDevModeConfig } from "./dev_mode.ts";
import { defaultBindHost, describeBindHost } from "./bind_address.ts";
import { log, setLogLevel } from "./log.ts";
import { LogDirLockedError } from "../storage/log_dir_lock.ts";
import { StartError, Supervisor } from "./workers/supervisor.ts";
import type { WorkerInfo } from "./workers/worker_main.ts";

const USAGE = `Usage: deno task start [options]

  --host HOST              bind address (default ::, every IPv4 and IPv6 address; 0.0.0.0
                           where the host has no IPv6)
  --port PORT              listen port (default 9092; 0 = any free port)
  --data-dir DIR           data directory (default ./data; relative to the directory the
                           command was run from, also under \`deno task start\`)
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

/** Undoes what start-up made before it failed (dev mode's temp dir). */
let undoOnFail: (() => void) | null = null;

function fail(message: string): never {
  undoOnFail?.();
  console.error(`tributary: ${message}`);
  Deno.exit(2);
}

/** The project root: `deno task` runs its commands here, whatever the shell's directory. */
const PROJECT_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * A path as the person typed it: relative to the shell's working directory. `deno task` runs
 * in the config file's directory and gives the invoking directory as INIT_CWD, so a relative
 * path is resolved against INIT_CWD when we run from the project root (a task).
 */
export function userPath(path: string): string {
  if (isAbsolute(path)) return path;
  let base = Deno.cwd();
  try {
    const init = Deno.env.get("INIT_CWD");
    if (init && resolve(base) === PROJECT_ROOT) base = init;
  } catch {
    // no env permission: the process's own directory
  }
  return resolve(base, path);
}

/**
 * Stops with a message naming the data directory when it cannot be one: a file, or not
 * readable. A missing directory is fine (start-up creates it).
 */
async function checkDataDir(dir: string): Promise<void> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    fail(`data dir ${dir} cannot be used: ${e instanceof Error ? e.message : e}`);
  }
  if (!st.isDirectory) fail(`data dir ${dir} is a file, not a directory`);
  try {
    for await (const _ of Deno.readDir(dir)) break;
  } catch (e) {
    fail(`data dir ${dir} cannot be read: ${e instanceof Error ? e.message : e}`);
  }
}

/** The message for an expected start-up failure (no stack trace), or null for others. */
function startProblem(
  e: unknown,
  host: string,
  port: number,
  adminPort: number | undefined,
  dataDir: string,
): string | null {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof Deno.errors.AddrInUse) {
    if (msg.startsWith("listener ")) return `${msg} is already in use`;
    return `port ${port} on ${describeBindHost(host)} is already in use` +
      (adminPort !== undefined ? ` (or admin port ${adminPort})` : "");
  }
  if (e instanceof Deno.errors.AddrNotAvailable) {
    return `cannot bind ${host}:${port}: ${host} is not an address of this host`;
  }
  if (
    e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotADirectory ||
    e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.IsADirectory
  ) {
    return `data dir ${dataDir} cannot be used: ${msg}`;
  }
  return null;
}

/** How often the broker logs its one-line status (TRIBUTARY_STATUS_INTERVAL_MS overrides). */
const STATUS_INTERVAL_MS = (() => {
  try {
    const v = Deno.env.get("TRIBUTARY_STATUS_INTERVAL_MS");
    if (v && /^\d+$/.test(v) && Number(v) > 0) return Number(v);
  } catch {
    // no env permission: the default
  }
  return 60_000;
})();

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
    let props: Map<string, string>;
    try {
      props = parseProperties(await Deno.readTextFile(userPath(v.config)));
    } catch (e) {
      fail(`--config ${v.config}: ${e instanceof Error ? e.message : e}`);
    }
    for (const [k, val] of props) settings.set(k, val);
  }
  for (const s of v.set ?? []) {
    const eq = s.indexOf("=");
    if (eq <= 0) fail(`--set '${s}': expected key=value`);
    settings.set(s.slice(0, eq).trim(), s.slice(eq + 1));
  }

  let devDataDir: string | null = null;
  let wantDevDir = false;
  let dataDir = v["data-dir"] === undefined ? undefined : userPath(v["data-dir"]);
  if (v.dev) {
    for (const [k, val] of Object.entries(withDevModeConfig(Object.fromEntries(settings)))) {
      settings.set(k, String(val));
    }
    if (dataDir === undefined && !settings.has("log.dirs") && !settings.has("log.dir")) {
      wantDevDir = true;
    }
  }

  // Validate everything up front so a bad value is reported before anything starts.
  // The flags apply to the first (default) listener, over what `listeners` says.
  let listeners: ListenerSpec[];
  try {
    listeners = resolveListeners(new BrokerConfig(settings), {
      host: v.host,
      port: portOf("--port", v.port),
      advertisedHost: v["advertised-host"],
      advertisedPort: portOf("--advertised-port", v["advertised-port"]),
    }).listeners;
  } catch (e) {
    if (e instanceof ConfigError) fail(`invalid configuration: ${e.message}`);
    throw e;
  }
  const host = listeners[0].host || undefined;
  const port = listeners[0].port;
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
  const bindHost = host ?? defaultBindHost();
  dataDir ??= userPath(settings.get("log.dirs") ?? settings.get("log.dir") ?? "./data");
  // Made only now that the settings are valid: a refused start leaves no temp dir behind.
  if (wantDevDir) {
    const made = dataDir = devDataDir = await makeDevDataDir();
    undoOnFail = () => Deno.removeSync(made, { recursive: true });
  }
  await checkDataDir(dataDir);
  const brokerOptions = {
    host,
    port,
    dataDir,
    listeners,
    config: Object.fromEntries(settings),
    adminPort,
    adminHost: v["admin-host"],
    adminToken,
    statusIntervalMs: STATUS_INTERVAL_MS,
  };
  if (devDataDir) {
    log.info(`dev mode: data in ${devDataDir} (a temp directory, removed on exit)`);
  } else if (v.dev) log.info(`dev mode: data in ${dataDir}`);
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
    const problem = startProblem(e, bindHost, port, adminPort, dataDir);
    if (problem) fail(problem);
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
  // Every listener, when there are several (the line above names the first).
  if (b.listeners.length > 1) {
    for (const l of b.listeners) {
      log.info(
        `listener ${l.name} (${l.securityProtocol}) on ${l.host || "*"}:${l.port}, ` +
          `advertised ${l.advertisedHost}:${l.advertisedPort}`,
      );
    }
  }
  if (admin) {
    log.info(
      `admin API and console on http://${
        admin.hostname.includes(":") ? `[${admin.hostname}]` : admin.hostname
      }:${admin.port}/` +
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
    const host = options.host ?? defaultBindHost();
    const port = options.port ?? 9092;
    if (e instanceof StartError && e.kind === "addr-in-use") {
      const which = e.message.startsWith("listener ") ? e.message : "";
      fail(startProblem(new Deno.errors.AddrInUse(which), host, port, options.adminPort, "")!);
    }
    fail(
      startProblem(e, host, port, options.adminPort, options.dataDir ?? "") ??
        `failed to start: ${e instanceof Error ? e.message : e}`,
    );
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
