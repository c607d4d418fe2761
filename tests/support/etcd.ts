/**
 * Test harness: a real etcd (Debian's etcd-server) on free loopback ports with a temporary
 * data directory, that a test can stop (SIGTERM or SIGKILL) and start again on the same ports
 * and data, for "etcd down and back" scenarios. A missing etcd binary is an error, not a skip:
 * the cluster tests must run wherever the suite runs.
 */

export interface EtcdServer {
  /** The client URL, `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly dataDir: string;
  readonly running: boolean;
  /** Stops the process and waits for it to exit. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same ports and data directory; resolves once it answers. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  cleanup(): Promise<void>;
}

/** Where the etcd binary is: `ETCD_BIN`, else /usr/bin/etcd, else `etcd` on PATH. */
function etcdBinary(): string {
  const fromEnv = Deno.env.get("ETCD_BIN");
  if (fromEnv) return fromEnv;
  try {
    Deno.statSync("/usr/bin/etcd");
    return "/usr/bin/etcd";
  } catch {
    return "etcd";
  }
}

/**
 * A free port below the kernel's ephemeral range (Linux: 32768 and up), so that while a test
 * has etcd stopped, a port-0 bind elsewhere in the suite (another test's broker or etcd)
 * cannot take its port and answer in its place when it is started again.
 */
function freePort(): number {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    try {
      const l = Deno.listen({ hostname: "127.0.0.1", port });
      l.close();
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error("no free port in 20000-31999 for etcd");
}

/**
 * Starts a single-member etcd. The short heartbeat and election timeout lower etcd's minimum
 * lease TTL to one second, so lease expiry tests take seconds, not tens of seconds.
 */
export async function startEtcd(opts: { bin?: string } = {}): Promise<EtcdServer> {
  const bin = opts.bin ?? etcdBinary();
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-etcd-" });
  const clientPort = freePort();
  const peerPort = freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    "--name=tributary-test",
    `--data-dir=${dataDir}/data`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=tributary-test=${peer}`,
    "--heartbeat-interval=50",
    "--election-timeout=250",
    "--logger=zap",
    "--log-level=warn",
  ];
  let child: Deno.ChildProcess | undefined;
  let exited: Promise<Deno.CommandStatus> | undefined;
  let log = "";

  const start = async () => {
    try {
      child = new Deno.Command(bin, { args, stdin: "null", stdout: "null", stderr: "piped" })
        .spawn();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new Error(
          `etcd binary not found (${bin}): install Debian's etcd-server package ` +
            `(apt-get install etcd-server) or set ETCD_BIN`,
        );
      }
      throw err;
    }
    const proc = child;
    // Keep the tail of etcd's log for failure messages; draining also keeps the pipe open.
    (async () => {
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr) log = (log + dec.decode(chunk)).slice(-4000);
    })().catch(() => {});
    exited = proc.status;
    let gone = false;
    exited.then(() => gone = true);
    for (let i = 0; i < 600; i++) {
      if (gone) throw new Error(`etcd exited during startup:\n${log}`);
      try {
        const r = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        const body = await r.json();
        if (body.health === "true") return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`etcd did not become healthy on ${endpoint}:\n${log}`);
  };

  const stop = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    if (!child) return;
    try {
      child.kill(signal);
    } catch {
      // already exited
    }
    await exited;
    child = undefined;
  };

  try {
    await start();
  } catch (err) {
    await stop("SIGKILL");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw err;
  }
  return {
    endpoint,
    clientPort,
    dataDir,
    get running() {
      return child !== undefined;
    },
    stop,
    start: async () => {
      if (!child) await start();
    },
    cleanup: async () => {
      await stop("SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
